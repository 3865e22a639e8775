# SPDX-License-Identifier: Apache-2.0
"""The file output with a templated path (one file per topic) and rotation by
size, while the agent is killed with SIGKILL 6 times: in every topic's files
(rotated ones included) each event is present exactly once, and rotation
kept its files under the size limit.  Also: the ndjson format parses line by
line, and the stdout output prints the same records.

First, the regression case of a kill -9 between the first write to a file
and the first state save: the state save is held off by a directory in the
way of the state file (its rename fails), the agent is killed once that
failure is logged, the directory removed and the agent started again; every
event must be in the file exactly once (the old output kept the lines of the
unrecorded first write and wrote them again)."""
import glob
import json
import os
import random
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from agentkit import BIN, Agent, Writer, corpus, wait_until  # noqa: E402
from sluicetest import Env, result  # noqa: E402

CONFIG = """
agent:
  data_dir: {data}
  http: {{ listen: @HTTP@ }}
inputs:
  - id: a
    type: tail
    topic: ta
    paths: [{logs}/a.log]
    read_from_head: true
  - id: b
    type: tail
    topic: tb
    paths: [{logs}/b.log]
    read_from_head: true
outputs:
  - id: files
    type: file
    path: {out}/${{topic}}.log
    rotate_bytes: 1MiB
    rotate_keep: 1000
    batch: {{ max_bytes: 128KiB, max_delay_ms: 50 }}
"""


def topic_lines(out, topic):
    paths = glob.glob(os.path.join(out, topic + ".log*"))
    data = b""
    for p in paths:
        with open(p, "rb") as f:
            data += f.read()
    return paths, data


FIRST_CONFIG = """
agent:
  data_dir: {data}
  http: {{ listen: @HTTP@ }}
inputs:
  - id: c
    type: tail
    topic: tc
    paths: [{logs}/c.log]
    read_from_head: true
outputs:
  - id: first
    type: file
    path: {out}/${{topic}}.log
    batch: {{ max_bytes: 64KiB, max_delay_ms: 20 }}
    retry: {{ initial_delay: 60s, max_delay: 60s }}
"""


def kill_before_first_state():
    with Env() as env:
        logs, out, data = env.path("logs1"), env.path("out1"), env.path("data1")
        os.makedirs(logs)
        os.makedirs(out)
        n = corpus(env, env.path("c.src"), "256K", "--seed", "41")
        agent = Agent(env, FIRST_CONFIG.format(data=data, logs=logs, out=out), name="first")
        agent.start()
        state = os.path.join(data, "spool", "first", "out_file.state")
        os.mkdir(state)  # the state's rename fails: as if killed before it
        with open(env.path("c.src"), "rb") as src, open(os.path.join(logs, "c.log"), "wb") as f:
            f.write(src.read())
        wait_until(lambda: ("out_file: state:" in agent.log()
                            or "cannot record the length" in agent.log()),
                   60, "the file output's state save to fail")
        agent.kill()
        os.rmdir(state)
        agent.start()
        target = os.path.getsize(env.path("c.src"))
        dst = os.path.join(out, "tc.log")
        wait_until(lambda: os.path.exists(dst) and os.path.getsize(dst) >= target, 60,
                   "every event in tc.log")
        pending = 'sluice_agent_spool_pending_entries{output="first"}'
        wait_until(lambda: agent.metrics().get(pending, -1) == 0, 60, "the spool acknowledged")
        assert agent.term() == 0
        with open(os.path.join(out, "tc.log"), "rb") as f:
            got = f.read()
        result("kill -9 between the first write and the first state save: " +
               env.check_seq(got, expect=n))


def main():
    kill_before_first_state()
    with Env() as env:
        logs, out = env.path("logs"), env.path("out")
        os.makedirs(logs)
        os.makedirs(out)
        ev_a = corpus(env, env.path("a.src"), "6M", "--seed", "31")
        ev_b = corpus(env, env.path("b.src"), "6M", "--seed", "32", "--start-seq", "0")
        agent = Agent(env, CONFIG.format(data=env.path("data"), logs=logs, out=out))
        agent.start()
        wa = Writer(env.path("a.src"), os.path.join(logs, "a.log"), rate=6 * 2**20 / 8)
        wb = Writer(env.path("b.src"), os.path.join(logs, "b.log"), rate=6 * 2**20 / 8)
        wa.start()
        wb.start()
        rnd = random.Random(7)
        for _ in range(6):
            time.sleep(rnd.uniform(0.5, 1.5))
            agent.kill()
            agent.start()
        wa.join()
        wb.join()

        def done():
            # raw format: each record is its line again, so the bytes add up
            return all(len(topic_lines(out, t)[1]) >= os.path.getsize(env.path(src))
                       for t, src in (("ta", "a.src"), ("tb", "b.src")))
        wait_until(done, 60, "every event in the files")
        time.sleep(1)
        rot = agent.metric('sluice_agent_file_rotations_total{output="files"}')
        assert agent.term() == 0
        lines = []
        for t, n in (("ta", ev_a), ("tb", ev_b)):
            paths, data = topic_lines(out, t)
            assert len(paths) >= 3, "rotation made no files for %s: %s" % (t, paths)
            for p in paths:
                assert os.path.getsize(p) <= 2**20 + 256 * 1024, "%s is %d bytes" % (
                    p, os.path.getsize(p))
            lines.append("%s: %d files, %s" % (t, len(paths), env.check_seq(data, expect=n)))
        result("path ${topic}.log, rotate_bytes 1MiB, 6 agent kill -9: " + "; ".join(lines) +
               "; %d rotations since the last start" % rot)

        # ndjson and stdout on a small file
        small = env.path("small")
        os.makedirs(small)
        with open(os.path.join(small, "x.log"), "w") as f:
            for i in range(500):
                f.write("line \"%d\" seq=%d\n" % (i, i))
        cfg = ("agent:\n  data_dir: %s\ninputs:\n  - {id: s, type: stdin}\n"
               "outputs:\n  - {id: nd, type: file, path: %s, format: ndjson}\n"
               "  - {id: so, type: stdout, format: ndjson}\n"
               % (env.path("data2"), env.path("nd.out")))
        with open(env.path("a2.yaml"), "w") as f:
            f.write(cfg)
        with open(os.path.join(small, "x.log"), "rb") as src:
            r = subprocess.run([os.path.join(BIN, "sluice-agent"), "-c", env.path("a2.yaml")],
                               stdin=src, capture_output=True, timeout=60)
        assert r.returncode == 0, r.stderr[-2000:]
        with open(env.path("nd.out"), "rb") as f:
            objs = [json.loads(ln) for ln in f.read().splitlines()]
        outs = [json.loads(ln) for ln in r.stdout.splitlines() if ln.startswith(b"{")]
        vals = [o["value"] for o in objs]
        assert vals == [o["value"] for o in outs], "stdout and file outputs differ"
        result("ndjson file + stdout from stdin: " +
               env.check_seq("\n".join(vals).encode() + b"\n", expect=500))


if __name__ == "__main__":
    main()
