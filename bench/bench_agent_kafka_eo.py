# SPDX-License-Identifier: Apache-2.0
"""What exactly_once costs: the agent's kafka output into a real 3-node
Apache Kafka 4.1 cluster (kafkacluster.py, replication factor 3,
min.insync.replicas=2), the same pre-written corpus shipped once with the
idempotent producer (default) and once with `exactly_once: true`, one after
the other into fresh topics.

Per run: MB/s until every event is delivered (committed, for exactly_once),
from the agent's start and from its first delivery (exactly_once starts with
init_transactions and reading its positions back),
agent CPU-s per GB, and for exactly_once the transactions and the mean time
of a commit (AddOffsetsToTxn + TxnOffsetCommit + EndTxn). BENCH_CORPUS
(default 64M) sets the corpus size.
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.environ.get("SLUICE_TOP") or os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TOP, "tests/integration"))
import kafkacluster  # noqa: E402
from agentkit import Agent, corpus, wait_until  # noqa: E402
from sluicetest import Env  # noqa: E402

SIZE = os.environ.get("BENCH_CORPUS", "64M")
M = '{output="kafka"}'
CONFIG = """
agent:
  data_dir: {data}
  http: {{ listen: @HTTP@ }}
inputs:
  - id: app
    type: tail
    paths: [{logs}/*.log]
    read_from_head: true
    multiline: {{ start: '^[0-9{{]', flush_ms: 300 }}
outputs:
  - id: kafka
    type: kafka
    brokers: {bootstrap}
    topic: {topic}
{extra}
"""


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        v = f.read().rsplit(")", 1)[1].split()
    return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")


def run(env, kc, name, src, events, extra):
    kc.create_topic(name, partitions=1, rf=3, min_isr=2)
    logs = env.path("logs-" + name)
    os.makedirs(logs)
    os.link(src, os.path.join(logs, "app.log"))
    agent = Agent(env, CONFIG.format(data=env.path("data-" + name), logs=logs,
                                     bootstrap=kc.bootstrap, topic=name, extra=extra),
                  name="agent-" + name)
    t0 = time.time()
    agent.start()
    wait_until(lambda: agent.metric("sluice_agent_kafka_records_delivered_total" + M) > 0,
               120, "a first record delivered", step=0.05)
    t1 = time.time()
    wait_until(lambda: agent.metric("sluice_agent_kafka_records_delivered_total" + M) >= events,
               600, "every event delivered", step=0.1)
    t2 = time.time()
    secs = t2 - t0
    m = agent.metrics()
    cpu = cpu_s(agent.proc.pid)
    agent.term()
    mb = os.path.getsize(src) / 1e6
    commits = m.get("sluice_agent_kafka_transactions_committed_total" + M, 0)
    cms = m.get("sluice_agent_kafka_transaction_commit_ms_total" + M, 0)
    line = ("%-14s %6.1f MB/s from start (%.2f s to the first delivery), %6.1f MB/s after it, "
            "%5.2f CPU-s/GB" % (name, mb / secs, t1 - t0, mb / (t2 - t1), cpu / (mb / 1000)))
    if commits:
        line += "  %d transactions, commit %.1f ms each (%.1f%% of the wall time)" % (
            commits, cms / commits, 100.0 * cms / 1000 / secs)
    print(line, flush=True)
    return mb / secs, mb / (t2 - t1)


def main():
    if not os.environ.get("SLUICE_HEAVY_LOCKED"):
        # never beside another heavy job (the other benches take this lock)
        os.environ["SLUICE_HEAVY_LOCKED"] = "1"
        os.execvp("flock", ["flock", "/tmp/sluice-heavy.lock", sys.executable] + sys.argv)
    kafkacluster.ensure_jars()
    with Env() as env:
        src = env.path("corpus.log")
        events = corpus(env, src, SIZE)
        kc = kafkacluster.start(env, nodes=3)
        try:
            print("corpus %s (%d events), 3-node Kafka 4.1.1, rf=3, min.isr=2; loadavg %s"
                  % (SIZE, events, open("/proc/loadavg").read().split()[0]), flush=True)
            a = run(env, kc, "idempotent", src, events, "")
            b = run(env, kc, "exactly_once", src, events, "    exactly_once: true\n")
            print("exactly_once / idempotent throughput: %.2f from the start, %.2f after the "
                  "first delivery" % (b[0] / a[0], b[1] / a[1]))
        finally:
            kc.stop()


if __name__ == "__main__":
    main()
