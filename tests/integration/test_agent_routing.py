# SPDX-License-Identifier: Apache-2.0
"""Routing: one input feeds two outputs, each with its own spool.  The http
receiver takes 0.3 s over each request (slow: the corpus is 20 requests of
64 KiB, 6 s at least, where the store takes well under a second); the store
output fed by the same input must not wait for it: the store holds every
event long before the slow receiver does, and both end with every event
exactly once.  A third output takes only another input (`inputs: [other]`)
and must see none of the first input's events."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from agentkit import Agent, corpus, kcat_values, store_records, wait_until  # noqa: E402
from http_receiver import Receiver  # noqa: E402
from sluicetest import Env, result  # noqa: E402

SLOW = 0.3  # seconds per request at the http receiver

CONFIG = """
agent:
  data_dir: {data}
  http: {{ listen: @HTTP@ }}
  shutdown_timeout: 10s
inputs:
  - id: app
    type: tail
    paths: [{logs}/*.log]
    read_from_head: true
    multiline: {{ start: '^[0-9{{]', flush_ms: 300 }}
  - id: other
    type: tail
    paths: [{other}/*.log]
    read_from_head: true
outputs:
  - id: central
    type: store
    url: {store}
  - id: slow
    type: http
    url: {url}
    inputs: [app]
    format: ndjson
    batch: {{ max_bytes: 64KiB }}
    max_request_bytes: 64KiB
    max_in_flight: 1
  - id: only-other
    type: file
    inputs: [other]
    path: {filepath}
"""


def main():
    with Env() as env:
        store = env.start_store()
        logs, other = env.path("logs"), env.path("other")
        os.makedirs(logs)
        os.makedirs(other)
        events = corpus(env, os.path.join(logs, "app.log"), "3M", "--seed", "21")
        with open(os.path.join(other, "o.log"), "w") as f:
            for i in range(1000):
                f.write("other line seq=%d\n" % i)
        with Receiver("ndjson", slow=SLOW) as rcv:
            agent = Agent(env, CONFIG.format(data=env.path("data"), logs=logs, other=other,
                                             store=store.url, url=rcv.url,
                                             filepath=env.path("other.out")))
            t0 = time.time()
            agent.start()
            wait_until(lambda: store_records(store, "app") >= events, 60, "the store output")
            t_store = time.time() - t0
            at_store = rcv.count()
            assert at_store < events, "the slow receiver was not slower (%d)" % at_store
            wait_until(lambda: rcv.count() >= events, 240, "the slow receiver")
            t_slow = time.time() - t0
            assert agent.term() == 0
        line_store = env.check_seq("\n".join(kcat_values(store.bootstrap, "app")).encode() + b"\n",
                                   expect=events)
        line_slow = env.check_seq("\n".join(rcv.values).encode() + b"\n", expect=events)
        with open(env.path("other.out"), "rb") as f:
            got = f.read()
        line_other = env.check_seq(got, expect=1000)
        assert b"GET /" not in got and b"java" not in got, "the file output got input app's events"
        result("store output done in %.1f s while the %.1f s/request receiver had %d of %d "
               "events; the receiver finished after %.1f s (%d requests)"
               % (t_store, SLOW, at_store, events, t_slow, rcv.requests))
        result("store: %s; slow http: %s; file (inputs: [other]): %s"
               % (line_store, line_slow, line_other))


if __name__ == "__main__":
    main()
