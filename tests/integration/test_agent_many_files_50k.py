# SPDX-License-Identifier: Apache-2.0
# harness: heavy
"""50,000 files through a hard limit of 20,000 descriptors (issue 19 items 6, 7).

The tail input keeps at most its budget (the limit minus 1/16) open: a file
read to its end is closed at once while others wait for a descriptor, and
after close_inactive when idle; it keeps its identity and position and is
opened again when it changes.

1. 50,000 files of 2 numbered lines each, tailed from head into a real store
   under a hard limit of 20,000 descriptors: every line arrives exactly once,
   and the agent never holds more descriptors than its budget.  Time to ship
   and peak RSS (VmHWM) are printed.
2. Once every file is closed (close_inactive: 2s), 20,000 of them, more than
   the budget, grow by a line: each is reopened and its new line arrives,
   again exactly once in all.
3. Stopped, 5,000 files grow by a line, restarted: the 50,000 files resumed
   do not fit the budget, those past it wait closed (none taken for gone),
   and the 5,000 lines arrive, exactly once in all.
"""
import os
import random
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from agentkit import Agent, kcat_values, store_config, store_records, wait_until  # noqa: E402
from sluicetest import Env, result  # noqa: E402

FILES = 50000
LIMIT = 20000
BUDGET = LIMIT - LIMIT // 16


def make_files(d, n, lines):
    os.makedirs(d)
    seq = 0
    for i in range(n):
        with open(os.path.join(d, "f%05d.log" % i), "w") as f:
            f.write("".join("2026-12-01T00:00:00Z file %d seq=%d\n" % (i, seq + k)
                            for k in range(lines)))
        seq += lines
    return seq


def status(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def fifty(env, store):
    logs = env.path("fifty")
    events = make_files(logs, FILES, 2)
    conf = store_config(env, store, logs, data=env.path("d-fifty"), input_id="fifty",
                        multiline=False,
                        extra_input="    refresh_interval: 5s\n    close_inactive: 2s\n")

    def limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (LIMIT, LIMIT))
    agent = Agent(env, conf, name="fifty")
    t0 = time.time()
    agent.start(preexec_fn=limit)
    most = [0]

    def shipped(n):
        most[0] = max(most[0], open_fds(agent.proc.pid))
        return store_records(store, "fifty") >= n
    wait_until(lambda: shipped(events), 120, "%d records" % events)
    took = time.time() - t0
    hwm = status(agent.proc.pid, "VmHWM")
    m = 'sluice_agent_tail_%s{input="fifty"}'
    assert agent.metric(m % "files") == FILES
    pressure = agent.metric('sluice_agent_tail_closes_total{input="fifty",reason="fd_pressure"}')
    assert pressure >= FILES - BUDGET, pressure
    assert agent.metric(m % "fd_pressure_total") > 0
    assert most[0] < LIMIT, most[0]
    assert "near its limit of open files" in agent.log(), agent.log()[-2000:]
    # Idle: every file is closed after close_inactive.
    wait_until(lambda: agent.metric(m % "open_files") == 0, 60, "every file closed when idle")
    assert agent.metric(m % "files_deferred") == 0
    fds_idle = open_fds(agent.proc.pid)
    grow = random.Random(19).sample(range(FILES), 20000)
    t1 = time.time()
    for i in grow:
        with open(os.path.join(logs, "f%05d.log" % i), "a") as f:
            f.write("2026-12-01T00:00:01Z file %d seq=%d\n" % (i, events))
        events += 1
    wait_until(lambda: shipped(events), 120, "the 20,000 appended lines")
    took2 = time.time() - t1
    reopens = agent.metric(m % "reopens_total")
    assert reopens >= len(grow), reopens
    assert most[0] < LIMIT, most[0]
    hwm = max(hwm, status(agent.proc.pid, "VmHWM"))
    assert agent.term() == 0, agent.log()
    # A restart resumes 50,000 files with 18,750 descriptors: the ones past
    # the budget wait closed (before, their opens failed: taken for gone).
    grow = random.Random(20).sample(range(FILES), 5000)
    for i in grow:
        with open(os.path.join(logs, "f%05d.log" % i), "a") as f:
            f.write("2026-12-01T00:00:02Z file %d seq=%d\n" % (i, events))
        events += 1
    t2 = time.time()
    agent.start(preexec_fn=limit)
    wait_until(lambda: shipped(events), 120, "the 5,000 lines written while down")
    took3 = time.time() - t2
    assert agent.metric(m % "files") == FILES
    assert "is gone" not in agent.log(), agent.log()[-2000:]
    assert most[0] < LIMIT, most[0]
    assert agent.term() == 0, agent.log()
    line = env.check_seq(("\n".join(kcat_values(store.bootstrap, "fifty")) + "\n").encode(),
                         expect=events)
    return ("%d files, hard limit %d: first %d lines in %.1f s, peak RSS %d MiB, at most %d "
            "descriptors, %d closed for pressure; idle: 0 files open (%d fds); 20,000 closed "
            "files grew: reopened %d, shipped in %.1f s; restart, 5,000 grown while down: "
            "shipped in %.1f s; %s"
            % (FILES, LIMIT, 2 * FILES, took, hwm // 1024, most[0], pressure, fds_idle, reopens,
               took2, took3, line))


def main():
    with Env() as env:
        store = env.start_store()
        result(fifty(env, store))


if __name__ == "__main__":
    main()
