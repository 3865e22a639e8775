# SPDX-License-Identifier: Apache-2.0
"""The kafka output's native client (client: native) against a real Apache
Kafka 4.1 cluster: the phases test_agent_kafka_cluster.py runs on its
cluster (KRaft, three nodes on loopback, kafkacluster.py) beside the
librdkafka client's.  One cluster serves both: its start and the leader
kills of the failover phase are shared.

1. Failover (driven by test_agent_kafka_cluster.failover, which kills the
   leader of "fo" and "nfo" at once): topic "nfo", replication factor 3,
   min.insync.replicas=2; the agent ships a numbered corpus while the
   partition's leader is killed with SIGKILL twice (restarted once a new
   leader took over): the native producer refreshes its metadata, re-sends
   to the new leader with the same producer id and sequences, Kafka drops
   what it already had: every event exactly once (kcat, check_seq.py); the
   metrics show the failover (failover_check).
2. Agent kill -9 x3 mid-stream into topic "nkill": the producer id is kept
   in the output's spool directory, the batches the spool re-sends are
   de-duplicated by Kafka: 0 missing, 0 duplicated.
3. Keyed placement: six files into a 4-partition topic: every record is in
   the partition confluent-kafka's murmur2 partitioner picks for its key.
4. SASL_SSL: the nodes' SASL_SSL listeners (SASL PLAIN, server certificate
   from a test CA, checked against ssl_ca_location and the address): a
   corpus through it, 0 missing, 0 duplicated; a wrong password is refused
   (counted, nothing delivered).

2, 3 and 4 run at the same time once 1 is done (each its own topics and
agents; no broker is killed after 1).
"""
import os
import random
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (Agent, Writer, corpus, kafka_partition, kcat_records,  # noqa: E402
                     wait_until)

CONFIG = """
agent:
  data_dir: {data}
  http: {{ listen: @HTTP@ }}
  shutdown_timeout: 20s
inputs:
  - id: app
    type: tail
    paths: [{logs}/*.log]
    read_from_head: true
    multiline: {{ start: '^[0-9{{]', flush_ms: 300 }}
outputs:
  - id: kafka
    type: kafka
    client: native
    brokers: {bootstrap}
    topic: {topic}
    retry: {{ initial_delay: 50ms, max_delay: 1s }}
"""

M = '{output="kafka"}'


def agent_for(env, kc, name, topic):
    logs = env.path("logs-" + name)
    os.makedirs(logs)
    cfg = CONFIG.format(data=env.path("data-" + name), logs=logs, bootstrap=kc.bootstrap,
                        topic=topic)
    return Agent(env, cfg, name="agent-" + name), logs


def delivered(agent):
    try:
        return agent.metric("sluice_agent_kafka_records_delivered_total" + M)
    except OSError:
        return 0


def values(kc, topic):
    """Every value of topic, read_committed (librdkafka's default, said
    explicitly: test_agent_kafka_cluster's exactly-once phase relies on it)."""
    r = subprocess.run(["kcat", "-b", kc.bootstrap, "-C", "-t", topic, "-o", "beginning", "-e",
                        "-q", "-X", "isolation.level=read_committed", "-f", "%S %s\\n"],
                       capture_output=True, timeout=300)
    if r.returncode != 0:
        raise AssertionError("kcat: %s" % r.stderr.decode(errors="replace")[-500:])
    d, i, out = r.stdout, 0, []
    while i < len(d):
        j = d.index(b" ", i)
        n = int(d[i:j])
        out.append(d[j + 1:j + 1 + n])
        i = j + 2 + n
    return out


def seq_check(env, vals, events):
    line = env.check_seq(b"\n".join(vals) + b"\n", expect=events)
    m = re.search(r"missing=(\d+).*duplicated=(\d+)", line)
    assert m and m.group(1) == "0" and m.group(2) == "0", line
    return line


def failover_check(env, kc, agent, events):
    """Phase 1's assertions, once every event of "nfo" was delivered."""
    m = agent.metrics()
    assert agent.term() == 0
    errs = m.get("sluice_agent_kafka_native_connection_errors_total" + M, 0)
    meta = m.get("sluice_agent_kafka_native_metadata_requests_total" + M, 0)
    assert errs > 0, "the failover left no trace in the metrics"
    line = seq_check(env, values(kc, "nfo"), events)
    return ("native, %s; metrics: %d connection errors, %d metadata refreshes, %d retries" %
            (line, errs, meta, m.get("sluice_agent_kafka_native_retries_total" + M, 0)))


def agent_kills(env, kc, kills=3):
    kc.create_topic("nkill", partitions=1, rf=3, min_isr=2)
    src = env.path("corpus-nkill.log")
    events = corpus(env, src, "16M", "--seed", "42")
    agent, logs = agent_for(env, kc, "nkill", "nkill")
    agent.start()
    w = Writer(src, os.path.join(logs, "app.log"), rate=os.path.getsize(src) / 10)
    w.start()
    rnd = random.Random(42)
    for _ in range(kills):
        time.sleep(rnd.uniform(0.8, 2.0))
        agent.kill()
        agent.start()
    w.join()
    assert w.error is None, w.error
    wait_until(lambda: delivered(agent) > 0 and len(values(kc, "nkill")) >= events, 120,
               "every event in nkill", step=1)
    time.sleep(1)
    assert agent.term() == 0
    line = seq_check(env, values(kc, "nkill"), events)
    return "native, agent kill -9 x%d mid-stream into Kafka: %s" % (kills, line)


def keyed(env, kc):
    kc.create_topic("nkeys", partitions=4, rf=3, min_isr=2)
    kc.create_topic("nref", partitions=4, rf=3, min_isr=2)
    agent, logs = agent_for(env, kc, "nkeys", "nkeys")
    total = 0
    for i in range(6):
        with open(os.path.join(logs, "f%d.log" % i), "w") as f:
            for j in range(200):
                f.write("%d line %d of file %d\n" % (j, j, i))
                total += 1
    agent.start()
    wait_until(lambda: delivered(agent) >= total, 120, "every keyed event delivered")
    assert agent.term() == 0
    recs = kcat_records(kc.bootstrap, "nkeys")
    assert len(recs) == total, (len(recs), total)
    where = {}
    for r in recs:
        assert r["partition"] == kafka_partition(r["key"].encode(), 4), r
        where[r["key"]] = r["partition"]
    from confluent_kafka import Producer
    got = {}
    p = Producer({"bootstrap.servers": kc.bootstrap, "partitioner": "murmur2"})
    for k in where:
        p.produce("nref", key=k.encode(), value=b"x",
                  on_delivery=lambda err, msg: got.__setitem__(msg.key().decode(),
                                                               msg.partition()))
    assert p.flush(60) == 0
    assert got == where, (got, where)
    return ("native, keyed placement on Kafka: %d records, %d keys over %d of 4 partitions, "
            "as confluent-kafka's murmur2 partitioner places them"
            % (total, len(where), len(set(where.values()))))


def sasl_ssl(env, kc):
    kc.create_topic("nsec", partitions=1, rf=3, min_isr=2)
    src = env.path("corpus-nsec.log")
    events = corpus(env, src, "4M", "--seed", "43")
    extra = ("    security_protocol: sasl_ssl\n    sasl_mechanism: PLAIN\n"
             "    sasl_username: agent\n    sasl_password: %s\n    ssl_ca_location: %s\n")
    logs = env.path("logs-nsec")
    os.makedirs(logs)
    cfg = CONFIG.format(data=env.path("data-nsec"), logs=logs, bootstrap=kc.secure_bootstrap,
                        topic="nsec") + extra % (kc.USERS["agent"], kc.ca)
    agent = Agent(env, cfg, name="agent-nsec")
    agent.start()
    w = Writer(src, os.path.join(logs, "app.log"), rate=os.path.getsize(src) / 2)
    w.start()
    w.join()
    assert w.error is None, w.error
    wait_until(lambda: delivered(agent) >= events, 120, "every event delivered over SASL_SSL")
    native = agent.metric("sluice_agent_kafka_native_batches_total" + M)
    assert native > 0, "the native client was not used"
    assert agent.term() == 0
    line = seq_check(env, values(kc, "nsec"), events)
    # a wrong password: refused, counted, nothing delivered
    logs2 = env.path("logs-nbad")
    os.makedirs(logs2)
    with open(os.path.join(logs2, "app.log"), "w") as f:
        f.write("0 one line\n")
    # the refused agents cannot deliver their line: SIGTERM waits out
    # shutdown_timeout, 1 s here rather than the 20 s the others get
    bad_cfg = CONFIG.format(data=env.path("data-nbad"), logs=logs2,
                            bootstrap=kc.secure_bootstrap, topic="nsec") \
        .replace("shutdown_timeout: 20s", "shutdown_timeout: 1s")
    bad = Agent(env, bad_cfg + extra % ("wrong", kc.ca), name="agent-nbad")
    bad.start()
    wait_until(lambda: bad.metric("sluice_agent_kafka_native_auth_failures_total" + M) > 0,
               60, "the wrong password refused")
    fails = bad.metric("sluice_agent_kafka_native_auth_failures_total" + M)
    assert delivered(bad) == 0
    assert bad.term() == 0
    # a CA that did not sign the brokers' certificate: no connection is used
    d = env.path("other-ca")
    os.makedirs(d)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    os.path.join(d, "ca.key"), "-out", os.path.join(d, "ca.pem"), "-days", "2",
                    "-subj", "/CN=other-ca"], check=True, capture_output=True)
    bad.write_config(bad_cfg + extra % (kc.USERS["agent"], os.path.join(d, "ca.pem")))
    bad.start()
    wait_until(lambda: bad.metric("sluice_agent_kafka_native_connection_errors_total" + M) > 0,
               60, "the unknown certificate refused")
    assert delivered(bad) == 0
    assert bad.term() == 0
    assert "certificate" in bad.log(), bad.log()[-2000:]
    return ("native, SASL_SSL (PLAIN, test CA): %s; a wrong password refused (%d auth "
            "failures counted, 0 delivered); a broker certificate from another CA refused"
            % (line, fails))
