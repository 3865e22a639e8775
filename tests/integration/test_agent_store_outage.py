# SPDX-License-Identifier: Apache-2.0
"""The store goes away while logs keep coming.

1. Down for 20 s (OUTAGE_S) while an application writes: the agent keeps
   reading into its spool (sluice_agent_spool_bytes grows), retries with
   backoff, and once the store is back drains the spool: 0 missing,
   0 duplicated (kcat).  The test config's backoff tops out at 1 s, so the
   agent is at its longest retry interval for nearly all of the outage; a
   longer one (OUTAGE_S=60, the old default) only spools more.
2. Spool full: with buffer.max_bytes at 1 MiB and the store down, the input
   pauses (sluice_agent_spool_full and sluice_agent_input_paused are 1) and
   the files wait on disk; nothing is dropped; when the store returns the
   spool drains, the input resumes, and every event arrives exactly once.

The two run at the same time, each with its own store, agent and files.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from agentkit import (Agent, Writer, corpus, java_events_ok, kcat_values,  # noqa: E402
                      run_parallel, store_config, store_records, wait_until)
from sluicetest import Env, result  # noqa: E402

OUTAGE = float(os.environ.get("OUTAGE_S", "20"))


def outage(env, store):
    logs = env.path("logs-outage")
    os.makedirs(logs)
    src = env.path("corpus-outage.log")
    events = corpus(env, src, "16M", "--seed", "5")
    cfg = store_config(env, store, logs).replace(env.path("agent-data"), env.path("data-outage"))
    agent = Agent(env, cfg, name="agent-outage")
    agent.start()
    w = Writer(src, os.path.join(logs, "app.log"), rate=os.path.getsize(src) / (OUTAGE + 10))
    w.start()
    time.sleep(3)
    store.stop()
    t_down = time.time()
    spool = []
    while time.time() - t_down < OUTAGE:
        time.sleep(min(5, OUTAGE / 4))
        spool.append(agent.metric('sluice_agent_spool_pending_entries{output="central"}'))
    assert spool[-1] > spool[0] > 0, "spool did not grow while the store was down: %s" % spool
    retries = agent.metric('sluice_agent_output_retries_total{output="central"}')
    assert retries > 0
    store.start()
    w.join()
    wait_until(lambda: store_records(store, "app") >= events, 300, "the spool to drain")
    wait_until(lambda: agent.metric('sluice_agent_spool_pending_entries{output="central"}') == 0,
               60, "no pending entries")
    assert agent.term() == 0
    vals = kcat_values(store.bootstrap, "app")
    line = env.check_seq("\n".join(vals).encode() + b"\n", expect=events)
    java_events_ok(vals)
    return "store down %.0f s: spool grew to %d entries, %d retries, then drained: %s" % (
        OUTAGE, spool[-1], retries, line)


def spool_full(env, store):
    logs = env.path("logs-full")
    os.makedirs(logs)
    events = corpus(env, os.path.join(logs, "app.log"), "24M", "--seed", "6", "--start-seq", "0")
    cfg = store_config(env, store, logs,
                       extra_agent="  buffer: { max_bytes: 1MiB, segment_bytes: 128KiB }\n",
                       extra_output="    compression: none\n")
    cfg = cfg.replace(env.path("agent-data"), env.path("data-full")).replace("id: app", "id: full")
    store.stop()
    agent = Agent(env, cfg, name="agent-full")
    agent.start()
    wait_until(lambda: agent.metric('sluice_agent_spool_full{output="central"}') == 1, 60,
               "the spool to fill")
    wait_until(lambda: agent.metric('sluice_agent_input_paused{input="full"}') == 1, 30,
               "the input to pause")
    # A pending multi-line event may still close (flush_ms); no byte is read.
    read1 = agent.metric('sluice_agent_tail_read_bytes_total{input="full"}')
    time.sleep(2)
    read2 = agent.metric('sluice_agent_tail_read_bytes_total{input="full"}')
    size = os.path.getsize(os.path.join(logs, "app.log"))
    assert read2 == read1 < size, "the input kept reading while paused (%d, %d)" % (read1, read2)
    read1 = agent.metric('sluice_agent_input_records_total{input="full"}')
    spool_bytes = agent.metric('sluice_agent_spool_bytes{output="central"}')
    assert "spool full" in agent.log()
    store.start()
    wait_until(lambda: store_records(store, "full") >= events, 300, "every event to arrive")
    wait_until(lambda: agent.metric('sluice_agent_input_paused{input="full"}') == 0, 30,
               "the input to resume")
    assert agent.term() == 0
    vals = kcat_values(store.bootstrap, "full")
    line = env.check_seq("\n".join(vals).encode() + b"\n", expect=events)
    return "spool full at %.1f MiB: input paused after %d of %d events, resumed: %s" % (
        spool_bytes / 1048576, read1, events, line)


def main():
    with Env() as env:
        for line in run_parallel((outage, env, env.start_store()),
                                 (spool_full, env, env.start_store())):
            result(line)


if __name__ == "__main__":
    main()
