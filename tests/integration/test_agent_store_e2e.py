# SPDX-License-Identifier: Apache-2.0
# harness: heavy
"""Tail 100 MB (E2E_SIZE; 600,000 events) of gen_corpus.py output into a
real sluice-store and consume it back with kcat over the Kafka protocol:
check_seq.py finds 0 missing and 0 duplicated, every multi-line Java trace
is one record, keys and headers are the source's, and the agent's counters
agree with the store."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from agentkit import (Agent, corpus, java_events_ok, kcat_keys_values, store_config,  # noqa: E402
                      store_records, wait_until)
import json  # noqa: E402
import subprocess  # noqa: E402
import socket  # noqa: E402
from sluicetest import Env, result  # noqa: E402

SIZE = os.environ.get("E2E_SIZE", "100M")


def main():
    with Env() as env:
        logs = env.path("logs")
        os.makedirs(logs)
        events = corpus(env, os.path.join(logs, "app.log"), SIZE)
        store = env.start_store()
        agent = Agent(env, store_config(env, store, logs))
        t0 = time.time()
        agent.start()
        wait_until(lambda: store_records(store, "app") >= events, 600,
                   "the store to hold %d records" % events)
        took = time.time() - t0
        m = agent.metrics()
        assert agent.term() == 0
        recs = kcat_keys_values(store.bootstrap, "app")
        vals = [v for _, v in recs]
        key = "%s:%s" % (socket.gethostname(), os.path.join(logs, "app.log"))
        assert all(k == key for k, _ in recs), "keys: %r" % recs[0][0]
        first = subprocess.run(["kcat", "-b", store.bootstrap, "-C", "-t", "app", "-o", "beginning",
                                "-c", "1", "-e", "-q", "-J"], capture_output=True, timeout=60)
        hdrs = json.loads(first.stdout.splitlines()[0]).get("headers")
        # kcat prints headers as a flat [k, v, ...] list
        assert hdrs is not None, first.stdout[:500]
        assert hdrs[:6] == ["host", socket.gethostname(), "path",
                            os.path.join(logs, "app.log"), "input", "app"], hdrs
        line = env.check_seq("\n".join(vals).encode() + b"\n", expect=events)
        traces = java_events_ok(vals)
        assert len(vals) == events, "%d records for %d events" % (len(vals), events)
        assert m['sluice_agent_output_records_total{output="central"}'] == events
        assert m.get('sluice_agent_output_dead_letter_batches_total{output="central"}', 0) == 0
        size = os.path.getsize(os.path.join(logs, "app.log"))
        result("%s via kcat: %s, %d java traces whole, %.0f MB/s end to end" %
               (SIZE, line, traces, size / 1e6 / took))


if __name__ == "__main__":
    main()
