# SPDX-License-Identifier: Apache-2.0
"""SIGHUP reloads the configuration without losing or repeating data, while
an application keeps writing:

1. a broken configuration is refused (logged, counted) and the agent goes
   on with the old one;
2. a valid one adds a second output: the first output's stream crosses the
   reload with 0 missing / 0 duplicated, the new output starts at the point
   of the reload and is contiguous from there;
3. /health and /metrics answer throughout; SIGTERM exits 0.
"""
import os
import signal
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from agentkit import Agent, Writer, corpus, wait_until  # noqa: E402
from sluicetest import Env, result  # noqa: E402

BASE = """
agent:
  data_dir: {dir}/data
  http: {{ listen: @HTTP@ }}
inputs:
  - id: app
    type: tail
    paths: [{dir}/logs/*.log]
    read_from_head: true
    multiline: {{ start: '^[0-9{{]' }}
outputs:
  - id: a
    type: file
    path: {dir}/a.txt
    batch: {{ max_delay_ms: 50 }}
"""

SECOND = """  - id: b
    type: file
    path: {dir}/b.txt
    batch: {{ max_bytes: 64KiB, max_delay_ms: 20 }}
"""


def seqs(path):
    import re
    out = []
    with open(path, "rb") as f:
        for m in re.finditer(rb'(?:seq=|"seq": ?)(\d+)', f.read()):
            out.append(int(m.group(1)))
    return out


def main():
    with Env() as env:
        os.makedirs(env.path("logs"))
        src = env.path("corpus.log")
        events = corpus(env, src, "12M")
        agent = Agent(env, BASE.format(dir=env.dir))
        agent.start()
        w = Writer(src, env.path("logs", "app.log"), rate=12 * 1024 * 1024 / 8)
        w.start()
        time.sleep(2)
        # 1. broken config: refused, the agent keeps running
        agent.write_config(BASE.format(dir=env.dir) + "  - id: broken\n    type: nope\n")
        agent.signal(signal.SIGHUP)
        wait_until(lambda: agent.metric("sluice_agent_reload_failures_total") >= 1, 20,
                   "the bad reload to be refused")
        assert "reload refused" in agent.log()
        # 2. add output b
        time.sleep(1)
        agent.write_config(BASE.format(dir=env.dir) + SECOND.format(dir=env.dir))
        agent.signal(signal.SIGHUP)
        wait_until(lambda: agent.metric("sluice_agent_reloads_total") >= 1, 30, "the reload")
        with urllib.request.urlopen("http://127.0.0.1:%d/health" % agent.http_port) as r:
            assert r.status == 200
        w.join()

        def done():
            try:
                return len(seqs(env.path("a.txt"))) >= events and os.path.exists(env.path("b.txt"))
            except FileNotFoundError:
                return False
        wait_until(done, 120, "output a to hold every event")
        time.sleep(1)
        m = agent.metrics()
        assert m.get('sluice_agent_output_records_total{output="b"}', 0) > 0
        assert agent.term() == 0
        with open(env.path("a.txt"), "rb") as f:
            line_a = env.check_seq(f.read(), expect=events)
        b = seqs(env.path("b.txt"))
        assert len(b) == len(set(b)), "duplicates in b"
        first = min(b)
        assert sorted(b) == list(range(first, events)), "b is not contiguous from %d" % first
        assert 0 < first < events
        result("reload under load: a %s; b from seq %d to the end, contiguous, no duplicates; "
               "bad config refused" % (line_a, first))


if __name__ == "__main__":
    main()
