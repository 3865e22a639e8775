# SPDX-License-Identifier: Apache-2.0
"""kill -9 the agent at random moments 20 times while an application keeps
writing a growing log (with multi-line Java traces), restarting it each time;
the file output (fsync + its own state file) must end with every event
exactly once, each Java trace one record.  Proves the spool/position
contract independently of the store."""
import json
import os
import random
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from agentkit import Agent, Writer, corpus, java_events_ok, wait_until  # noqa: E402
from sluicetest import Env, SHARED, result  # noqa: E402

KILLS = int(os.environ.get("KILLS", "20"))

CONFIG = """
agent:
  data_dir: {dir}/data
  http: {{ listen: @HTTP@ }}
  shutdown_timeout: 10s
inputs:
  - id: app
    type: tail
    paths: [{dir}/logs/*.log]
    read_from_head: true
    multiline: {{ start: '^[0-9{{]', flush_ms: 500 }}
outputs:
  - id: out
    type: file
    path: {dir}/out.ndjson
    format: ndjson
    batch: {{ max_bytes: 256KiB, max_delay_ms: 50 }}
"""


def read_values(path):
    vals = []
    try:
        with open(path) as f:
            for line in f:
                vals.append(json.loads(line)["value"])
    except FileNotFoundError:
        pass
    return vals


def main():
    rnd = random.Random(int(os.environ.get("SEED", "7")))
    with Env() as env:
        os.makedirs(env.path("logs"))
        src = env.path("corpus.log")
        events = corpus(env, src, "24M")
        agent = Agent(env, CONFIG.format(dir=env.dir))
        # the kills come 0.1-1.0 s apart, 0.55 s on average: the writer
        # spans them all (KILLS * 0.6 s, 4 MiB/s)
        w = Writer(src, env.path("logs", "app.log"), rate=24 * 1024 * 1024 / (KILLS * 0.6))
        w.start()
        agent.start()
        for i in range(KILLS):
            time.sleep(rnd.uniform(0.1, 1.0))
            agent.kill()
            agent.start()
        w.join()
        assert w.error is None, w.error

        def complete():
            return len(read_values(env.path("out.ndjson"))) >= events
        wait_until(complete, 120, "all %d events in the output" % events)
        rc = agent.term()
        assert rc == 0, "agent exit status %s" % rc
        vals = read_values(env.path("out.ndjson"))
        traces = java_events_ok(vals)
        line = env.check_seq("\n".join(vals).encode() + b"\n", expect=events)
        assert traces > 0
        result("%d kills: %s, %d java traces whole" % (KILLS, line, traces))


if __name__ == "__main__":
    main()
