# SPDX-License-Identifier: Apache-2.0
"""Exactly once across kill -9, into a real sluice-store, read back with kcat:

1. kill -9 the agent at random moments 20 times while an application writes
   a growing log (restarting it each time);
2. kill -9 the store 20 times (restarting it on the same ports) while the
   agent ships another growing log.

Both: check_seq.py finds 0 missing and 0 duplicated, Java traces whole.
The two phases run at the same time, each with its own store and agent."""
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from agentkit import (Agent, Writer, corpus, java_events_ok, kcat_values,  # noqa: E402
                      run_parallel, store_config, store_records, wait_until)
from sluicetest import Env, result  # noqa: E402

KILLS = int(os.environ.get("KILLS", "20"))
SIZE = os.environ.get("CRASH_SIZE", "24M")


def phase(env, store, name, kill_agent, rnd):
    logs = env.path("logs-" + name)
    os.makedirs(logs)
    src = env.path("corpus-%s.log" % name)
    events = corpus(env, src, SIZE, "--seed", str(rnd.randint(1, 1 << 30)))
    cfg = store_config(env, store, logs).replace("id: app", "id: " + name) \
        .replace(env.path("agent-data"), env.path("agent-data-" + name))
    agent = Agent(env, cfg, name="agent-" + name)
    agent.start()
    # kills 0.1-0.9 s apart (0.5 s on average): the writer spans them all
    w = Writer(src, os.path.join(logs, "app.log"), rate=os.path.getsize(src) / (KILLS * 0.55))
    w.start()
    for _ in range(KILLS):
        time.sleep(rnd.uniform(0.1, 0.9))
        if kill_agent:
            agent.kill()
            agent.start()
        else:
            store.kill()
            time.sleep(rnd.uniform(0, 0.5))
            store.start()
    w.join()
    assert w.error is None, w.error
    wait_until(lambda: store_records(store, name) >= events, 300,
               "the store to hold %d records of %s" % (events, name))
    m = agent.metrics()
    assert agent.term() == 0
    vals = kcat_values(store.bootstrap, name)
    line = env.check_seq("\n".join(vals).encode() + b"\n", expect=events)
    traces = java_events_ok(vals)
    retries = m.get('sluice_agent_output_retries_total{output="central"}', 0)
    return line, traces, retries


def main():
    seed = int(os.environ.get("SEED", "11"))
    with Env() as env:
        a, s = run_parallel(
            (phase, env, env.start_store(), "agentkill", True, random.Random(seed)),
            (phase, env, env.start_store(), "storekill", False, random.Random(seed + 1)))
        result("%d agent kill -9: %s, %d java traces whole" % (KILLS, a[0], a[1]))
        result("%d store kill -9: %s, %d java traces whole, %d retried flushes" %
               (KILLS, s[0], s[1], s[2]))


if __name__ == "__main__":
    main()
