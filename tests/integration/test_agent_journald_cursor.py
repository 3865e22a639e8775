# SPDX-License-Identifier: Apache-2.0
"""journald cursors that no longer lead where they did (issue 19 case 8),
with real journal files (systemd-journal-remote, as test_agent_journald.py):

backwards  entries appended while the agent is down carry wall-clock times
           an hour before those already shipped (the clock set back): the
           restart resumes by sequence number, 0 lost, 0 duplicated.
gone       while the agent is down the journal it was reading is removed
           and a new one (a new series, its clock an hour behind) takes its
           place, as after a vacuum of everything or a data_dir restored on
           another machine: the cursor is not followed by wall-clock time
           (which would skip every new entry), the start is at the head
           (cursor_fallback), with a warning and a count; 0 lost.

Each case has its own store and agent.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import test_agent_journald as tj  # noqa: E402
from agentkit import Agent, kcat_records_lossy, store_records, wait_until  # noqa: E402
from sluicetest import Env, result  # noqa: E402

CHUNK = 400


class Journal(tj.Journal):
    """tj.Journal with a wall clock that can be set back."""

    shift_us = 0

    def entry(self, unit, msg, prio):
        saved = tj.T0
        tj.T0 = saved + self.shift_us
        try:
            return super().entry(unit, msg, prio)
        finally:
            tj.T0 = saved


def run(env, name):
    d = env.path(name)
    jdir = os.path.join(d, "journal")
    os.makedirs(jdir)
    j = Journal(jdir)
    j.write("a.journal", CHUNK)
    store = env.start_store(data_dir=os.path.join(d, "store"))
    conf = tj.CONF.format(dir=d, url=store.url).replace("id: journal", "id: " + name)
    agent = Agent(env, conf, name="agent-" + name)
    agent.start()
    wait_until(lambda: store_records(store, name) >= CHUNK, 30, "%s: first records" % name)
    agent.kill()
    j.shift_us = -3600 * 10**6
    if name == "gone":
        os.unlink(os.path.join(jdir, "a.journal"))
        j.write("b.journal", CHUNK)
    else:
        j.write("a.journal", CHUNK)
    agent.start()
    j.write("b.journal" if name == "gone" else "a.journal", CHUNK)
    total = j.seq
    try:
        wait_until(lambda: store_records(store, name) >= total, 45,
                   "%s: %d records" % (name, total))
    finally:
        m = agent.metrics()
        assert agent.term() == 0
        vals = [r["payload"] or "" for r in kcat_records_lossy(store.bootstrap, name)]
    line = env.check_seq("\n".join(vals).encode() + b"\n", expect=total)
    invalid = m.get('sluice_agent_journald_cursor_invalid_total{input="%s"}' % name, 0)
    if name == "gone":
        assert invalid == 1, invalid
        assert "journal series not present here" in agent.log(), agent.log()[-2000:]
    else:
        assert invalid == 0, invalid
    return "%s (cursor fallbacks %d)" % (line, invalid)


def main():
    with Env() as env:
        # one after the other: Journal.entry shifts the shared tj.T0
        back, gone = run(env, "backwards"), run(env, "gone")
        result("clock set back an hour while down: %s" % back)
        result("journal replaced by a new series, clock behind: %s" % gone)


if __name__ == "__main__":
    main()
