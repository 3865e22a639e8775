# SPDX-License-Identifier: Apache-2.0
"""Many files.

1. 10,000 files of 3 lines each, tailed from head into a real store: every
   event arrives exactly once.  Then, idle, the loop thread must not wake per
   file: its wake-ups over 5 s (voluntary context switches) stay far below
   the file count.  100 of the files then grow by a line: those arrive too.
2. The open-file limit: with a hard limit of 1024 descriptors and 1,500
   files, the tail input opens what fits below its headroom, reports the rest
   in sluice_agent_tail_files_deferred, and the store output keeps shipping
   (it still has descriptors for its connections).  As files are deleted
   after being read their descriptors come back and the deferred files are
   read: in the end every event of the 1,500 files arrived exactly once.
"""
import os
import random
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from agentkit import Agent, kcat_values, store_config, store_records, wait_until  # noqa: E402
from sluicetest import Env, result  # noqa: E402


def config(env, store, logs, name):
    return store_config(env, store, logs, data=env.path("d-" + name), input_id=name,
                        multiline=False,
                        extra_input="    refresh_interval: 1s\n    rotate_wait: 1s\n")


def make_files(d, n, lines, seq0=0):
    os.makedirs(d)
    seq = seq0
    for i in range(n):
        with open(os.path.join(d, "f%05d.log" % i), "w") as f:
            for _ in range(lines):
                f.write("2026-12-01T00:00:00Z file %d seq=%d\n" % (i, seq))
                seq += 1
    return seq


def wakeups(pid):
    with open("/proc/%d/task/%d/status" % (pid, pid)) as f:
        for line in f:
            if line.startswith("voluntary_ctxt_switches:"):
                return int(line.split()[1])
    return 0


def open_logs(pid, d):
    out = []
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            p = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if p.startswith(d + "/") and p.endswith(".log"):
            out.append(p)
    return out


def many(env, store):
    logs = env.path("many")
    events = make_files(logs, 10000, 3)
    agent = Agent(env, config(env, store, logs, "many"), name="many")
    t0 = time.time()
    agent.start()
    wait_until(lambda: store_records(store, "many") >= events, 120, "%d records" % events)
    took = time.time() - t0
    assert agent.metric('sluice_agent_tail_files{input="many"}') == 10000
    time.sleep(1)
    w0 = wakeups(agent.proc.pid)
    time.sleep(5)
    idle = wakeups(agent.proc.pid) - w0
    assert idle < 500, "%d loop wake-ups in 5 s idle with 10,000 files" % idle
    rng = random.Random(7)
    for i in rng.sample(range(10000), 100):
        with open(os.path.join(logs, "f%05d.log" % i), "a") as f:
            f.write("2026-12-01T00:00:01Z file %d seq=%d\n" % (i, events))
        events += 1
    wait_until(lambda: store_records(store, "many") >= events, 60, "the 100 appended lines")
    with open("/proc/%d/status" % agent.proc.pid) as f:
        rss = [int(line.split()[1]) for line in f if line.startswith("VmRSS:")][0]
    assert agent.term() == 0, agent.log()
    line = env.check_seq(("\n".join(kcat_values(store.bootstrap, "many")) + "\n").encode(),
                         expect=events)
    return ("10,000 files: %s, first 30,000 in %.1f s; idle loop wake-ups %d in 5 s; RSS %d MiB"
            % (line, took, idle, rss // 1024))


def settled(store, topic):
    """Records in topic once the count has not moved for a second."""
    prev = -2
    while True:
        n = store_records(store, topic)
        if n == prev:
            return n
        prev = n
        time.sleep(1)


def limited(env, store):
    logs = env.path("limited")
    events = make_files(logs, 1500, 3)

    def low_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))
    agent = Agent(env, config(env, store, logs, "limited"), name="limited")
    agent.start(preexec_fn=low_limit)
    wait_until(lambda: agent.metric('sluice_agent_tail_files_deferred{input="limited"}') > 0, 30,
               "files deferred at the limit")
    tailed = agent.metric('sluice_agent_tail_files{input="limited"}')
    deferred = agent.metric('sluice_agent_tail_files_deferred{input="limited"}')
    assert 500 < tailed < 1024 and tailed + deferred == 1500, (tailed, deferred)
    rounds = 0
    while settled(store, "limited") < events:
        rounds += 1
        assert rounds < 10, "deferred files never read (%d of %d records)" % (
            store_records(store, "limited"), events)
        # What is open has been read and shipped (the count settled): delete
        # it, so that its descriptors come back once the agent lets go.
        for p in open_logs(agent.proc.pid, logs):
            os.unlink(p)
    assert "near its limit of open files" in agent.log(), agent.log()[-2000:]
    assert agent.term() == 0, agent.log()
    line = env.check_seq(("\n".join(kcat_values(store.bootstrap, "limited")) + "\n").encode(),
                         expect=events)
    return ("hard limit 1024, 1,500 files: %d tailed, %d deferred; after %d rounds of deletes: %s"
            % (tailed, deferred, rounds, line))


def main():
    with Env() as env:
        store = env.start_store()
        result(many(env, store))
        result(limited(env, store))


if __name__ == "__main__":
    main()
