# SPDX-License-Identifier: Apache-2.0
"""Rotation under load: a writer appends numbered lines at 20,000 lines/s
while a rotator rotates the file every 0.3 s (ROTATE_PERIOD), 100 times.

* rename (logrotate `create`): app.log -> app.log.1 (replacing the previous
  .1), then the writer reopens app.log a moment later, so its last lines land
  in the renamed file.  Must lose and duplicate nothing.
* copytruncate: app.log is copied to app.log.1 and truncated in place while
  the writer keeps appending.  Lines written between the copy and the
  truncation exist nowhere, and lines the agent had not read before the
  truncation are gone from app.log: that is the OS race.  Measured and
  reported; duplicates must still be 0.

The sink is the exactly-once file output, so the count is the agent's alone.
The two runs are independent (own directory, agent and output) and run at
the same time, which keeps the test at half a minute instead of one.
"""
import json
import os
import shutil
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from agentkit import Agent, run_parallel, wait_until  # noqa: E402
from sluicetest import Env, result  # noqa: E402

ROTATIONS = int(os.environ.get("ROTATIONS", "100"))
RATE = 20000
PERIOD = float(os.environ.get("ROTATE_PERIOD", "0.3"))
LINE_BYTES = 78  # "line " + 60 x + " seq=NNNNNN\n", about

CONFIG = """
agent:
  data_dir: {dir}/data-{mode}
  http: {{ listen: @HTTP@ }}
inputs:
  - id: app
    type: tail
    paths: [{dir}/{mode}/app.log]
    read_from_head: true
    refresh_interval: 1s
    rotate_wait: 2s
outputs:
  - id: out
    type: file
    path: {dir}/out-{mode}.txt
    batch: {{ max_delay_ms: 50 }}
"""


class App(threading.Thread):
    """Writes `line seq=N` at RATE lines/s into path, reopening when asked."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path = path
        self.reopen = threading.Event()
        self.stop = threading.Event()
        self.seq = 0

    def run(self):
        f = open(self.path, "ab", buffering=0)
        t0 = time.time()
        pad = b"x" * 60
        while not self.stop.is_set():
            if self.reopen.is_set():
                self.reopen.clear()
                f.close()
                f = open(self.path, "ab", buffering=0)
            due = int((time.time() - t0) * RATE)
            if due > self.seq:
                chunk = b"".join(b"line %s seq=%d\n" % (pad, i) for i in range(self.seq, due))
                f.write(chunk)
                self.seq = due
            time.sleep(0.002)
        f.close()


def run(env, mode):
    d = env.path(mode)
    os.makedirs(d)
    path = os.path.join(d, "app.log")
    open(path, "w").close()
    agent = Agent(env, CONFIG.format(dir=env.dir, mode=mode), name="agent-" + mode)
    agent.start()
    app = App(path)
    app.start()
    for _ in range(ROTATIONS):
        time.sleep(PERIOD)
        if mode == "rename":
            os.rename(path, path + ".1")
            time.sleep(0.005)           # the app notices a little later
            app.reopen.set()
        else:
            shutil.copyfile(path, path + ".1")
            with open(path, "r+b") as f:
                f.truncate(0)
    app.stop.set()
    app.join()
    total = app.seq
    out = env.path("out-%s.txt" % mode)

    def lines():
        try:
            with open(out, "rb") as f:
                return f.read().count(b"\n")
        except FileNotFoundError:
            return 0
    if mode == "rename":
        wait_until(lambda: lines() >= total, 120, "%d lines" % total)
    else:
        prev = [-1]

        def settled():
            n = lines()
            ok = n == prev[0]
            prev[0] = n
            return ok
        time.sleep(3)
        wait_until(settled, 120, "the output to settle", step=2)
    m = agent.metrics()
    assert agent.term() == 0
    with open(out, "rb") as f:
        data = f.read()
    try:
        line = env.check_seq(data, expect=total)
        missing, dups = 0, 0
    except AssertionError as e:
        line = str(e)
        parts = dict(kv.split("=") for kv in line.split(": ", 1)[1].split())
        missing, dups = int(parts["missing"]), int(parts["duplicated"])
    rot = m.get('sluice_agent_tail_rotations_total{input="app"}', 0)
    trunc = m.get('sluice_agent_tail_truncations_total{input="app"}', 0)
    run.lost_bytes[mode] = m.get('sluice_agent_tail_truncated_lost_bytes_total{input="app"}', 0)
    return total, line, missing, dups, rot, trunc


run.lost_bytes = {}


def main():
    with Env() as env:
        both = dict(zip(("rename", "copytruncate"),
                        run_parallel((run, env, "rename"), (run, env, "copytruncate"))))
        total, line, missing, dups, rot, trunc = both["rename"]
        assert missing == 0 and dups == 0, line
        assert rot >= ROTATIONS, "rotations counted: %s" % rot
        result("rename x%d at %d lines/s: %d lines, %s, %d rotations seen" %
               (ROTATIONS, RATE, total, line, rot))
        total, line, missing, dups, rot, trunc = both["copytruncate"]
        assert dups == 0, line
        assert trunc >= ROTATIONS * 0.9, "truncations counted: %s" % trunc
        lost_bytes = run.lost_bytes.get("copytruncate", 0)
        result("copytruncate x%d at %d lines/s: %d lines, lost %d (%.4f%%), duplicated %d, "
               "%d truncations seen; counted lost: %d bytes (about %d lines)" %
               (ROTATIONS, RATE, total, missing, 100.0 * missing / max(total, 1), dups, trunc,
                lost_bytes, lost_bytes // LINE_BYTES))


if __name__ == "__main__":
    main()
