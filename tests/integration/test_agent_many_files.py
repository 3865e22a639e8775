# SPDX-License-Identifier: Apache-2.0
"""Many files.

1. 10,000 files of 3 lines each, tailed from head into a real store: every
   event arrives exactly once.  Then, idle, the loop thread must not wake per
   file: its wake-ups over 5 s (voluntary context switches) stay far below
   the file count.  100 of the files then grow by a line: those arrive too.
2. The open-file limit: with a hard limit of 1024 descriptors and 1,500
   files, the tail input opens what fits below its headroom; the rest wait
   and get the descriptors of files read to their end, which are closed
   (keeping their position) while others wait, so every event arrives
   exactly once without any file being deleted, the store output keeps its
   connections, and the agent never holds more than the limit.  A closed
   file that grows is reopened; files deleted after being shipped give
   their descriptors back.  (50,000 files: test_agent_many_files_50k.py.)
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


def limited(env, store):
    logs = env.path("limited")
    events = make_files(logs, 1500, 3)

    def low_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))
    agent = Agent(env, config(env, store, logs, "limited"), name="limited")
    agent.start(preexec_fn=low_limit)
    most = [0]

    def shipped():
        most[0] = max(most[0], len(os.listdir("/proc/%d/fd" % agent.proc.pid)))
        return store_records(store, "limited") >= events
    wait_until(shipped, 60, "%d records" % events)
    m = 'sluice_agent_tail_%s{input="limited"}'
    assert agent.metric(m % "files") == 1500
    assert agent.metric(m % "files_deferred") == 0
    pressure = agent.metric('sluice_agent_tail_closes_total{input="limited",reason="fd_pressure"}')
    assert pressure > 0 and agent.metric(m % "open_files") < 1024 - 64, pressure
    assert most[0] < 1024, most[0]
    assert "near its limit of open files" in agent.log(), agent.log()[-2000:]
    # What was closed for pressure is reopened when it grows.
    with open(open_logs_closed(agent.proc.pid, logs), "a") as f:
        f.write("2026-12-01T00:00:01Z grown seq=%d\n" % events)
    events += 1
    wait_until(lambda: store_records(store, "limited") >= events, 30, "the line appended")
    # Deleted while open and shipped: the descriptor comes back (rotate_wait).
    held = open_logs(agent.proc.pid, logs)
    for p in held:
        os.unlink(p)
    wait_until(lambda: not open_logs(agent.proc.pid, logs), 30, "deleted files released")
    assert agent.term() == 0, agent.log()
    line = env.check_seq(("\n".join(kcat_values(store.bootstrap, "limited")) + "\n").encode(),
                         expect=events)
    return ("hard limit 1024, 1,500 files: at most %d descriptors, %d closed for pressure, %d "
            "deleted ones released; %s" % (most[0], pressure, len(held), line))


def open_logs_closed(pid, d):
    """A log file the agent does not hold open."""
    held = set(open_logs(pid, d))
    for name in sorted(os.listdir(d)):
        p = os.path.join(d, name)
        if p not in held:
            return p
    raise AssertionError("every file is open")


def main():
    with Env() as env:
        store = env.start_store()
        result(many(env, store))
        result(limited(env, store))


if __name__ == "__main__":
    main()
