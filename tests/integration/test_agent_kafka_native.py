# SPDX-License-Identifier: Apache-2.0
"""The kafka output's native client (client: native, the default for a
plaintext, non-transactional output) against sluice-store's Kafka port.

1. A growing file is shipped while the store is killed with SIGKILL and
   restarted twice mid-stream: the native producer reconnects, re-sends
   with its producer id and the spool's sequences, the store drops what it
   already had: every event exactly once (kcat, check_seq.py); keys and
   headers as the agent sets them.
2. The agent reloads (SIGHUP) once mid-stream, then is killed with SIGKILL
   three times mid-stream and restarted:
   its producer id is kept in the output's spool directory, so the batches
   the spool re-sends carry the same id and sequences and the broker
   de-duplicates them: 0 missing, 0 duplicated (the librdkafka client's
   marks only narrow this to the batch in flight).
3. Keyed placement: six files into a topic of 4 partitions: every record is
   in the partition Kafka's default partitioner gives its key, and that is
   the partition confluent-kafka's producer (partitioner murmur2) picks for
   the same key.
4. SASL: a store requiring SASL (SCRAM-SHA-512, SCRAM-SHA-256, PLAIN; a
   user made with `sluice-store user add`): a corpus through each of the
   three mechanisms, every event exactly once; a wrong password refused and
   counted, nothing delivered.
5. `client: native` with a configuration it cannot serve (ssl_key_password)
   is a configuration error naming it (--check).
Phases 1-3 run at the same time, each against its own store.
"""
import os
import random
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (BIN, SHARED, Agent, Env, Writer, corpus, kafka_partition,  # noqa: E402
                     kcat_records, request, result, run_parallel, store_records, wait_until)

CONFIG = """
agent:
  data_dir: {data}
  http: {{ listen: @HTTP@ }}
  shutdown_timeout: 20s
inputs:
  - id: {input}
    type: tail
    paths: [{logs}/*.log]
    read_from_head: true
    multiline: {{ start: '^[0-9{{]', flush_ms: 300 }}
outputs:
  - id: kafka
    type: kafka
    brokers: {bootstrap}
    topic: {topic}
    retry: {{ initial_delay: 50ms, max_delay: 1s }}
{extra}"""

M = '{output="kafka"}'


def config(env, store, name, topic, extra=""):
    logs = env.path("logs-" + name)
    os.makedirs(logs)
    return CONFIG.format(data=env.path("data-" + name), logs=logs, bootstrap=store.bootstrap,
                         topic=topic, input=name, extra=extra), logs


def seq_line(env, store, topic, events):
    recs = kcat_records(store.bootstrap, topic)
    vals = [r["payload"] for r in recs]
    r = subprocess.run(["/usr/bin/python3", os.path.join(SHARED, "bench/check_seq.py"),
                        "--expect", str(events)], input="\n".join(vals).encode() + b"\n",
                       capture_output=True)
    line = r.stdout.decode().strip()
    m = re.search(r"missing=(\d+).*duplicated=(\d+)", line)
    assert m and m.group(1) == "0" and m.group(2) == "0", line
    return recs, line


def native_used(agent):
    m = agent.metrics()
    n = m.get("sluice_agent_kafka_native_batches_total" + M, 0)
    assert n > 0, "the native client was not used: %r" % {k: v for k, v in m.items()
                                                          if "kafka" in k}
    return m


def store_restarts(env, store):
    cfg, logs = config(env, store, "nata", "nat-a")
    src = env.path("corpus-a.log")
    events = corpus(env, src, "16M", "--seed", "31")
    agent = Agent(env, cfg, name="agent-a")
    agent.start()
    w = Writer(src, os.path.join(logs, "app.log"), rate=os.path.getsize(src) / 10)
    w.start()
    for _ in range(2):
        time.sleep(3)
        store.restart(kill=True)
    w.join()
    assert w.error is None, w.error
    wait_until(lambda: store_records(store, "nat-a") >= events, 180, "every event in nat-a")
    m = native_used(agent)
    assert agent.term() == 0
    recs, line = seq_line(env, store, "nat-a", events)
    r0 = recs[0]
    assert r0["key"] and r0["key"].endswith("/app.log"), "key should be host:path: %r" % r0["key"]
    hdrs = r0.get("headers") or []
    assert "input" in hdrs and "path" in hdrs, "headers missing: %r" % hdrs
    return ("native, store kill -9 x2 mid-stream: %s; %d connection errors, %d retries"
            % (line, m.get("sluice_agent_kafka_native_connection_errors_total" + M, 0),
               m.get("sluice_agent_kafka_native_retries_total" + M, 0)))


def agent_kills(env, store, kills=3):
    cfg, logs = config(env, store, "natk", "nat-k")
    src = env.path("corpus-k.log")
    events = corpus(env, src, "24M", "--seed", "33")
    agent = Agent(env, cfg, name="agent-k")
    agent.start()
    w = Writer(src, os.path.join(logs, "app.log"), rate=os.path.getsize(src) / 10)
    w.start()
    rnd = random.Random(33)
    dups = 0
    # a reload mid-stream first: the output is rebuilt (connections closed
    # with requests in flight, the producer id read back)
    wait_until(lambda: agent.metric("sluice_agent_kafka_records_delivered_total" + M) > 0, 60,
               "records flowing")
    agent.signal(signal.SIGHUP)
    wait_until(lambda: agent.metric("sluice_agent_reloads_total") >= 1, 60, "the reload")
    for _ in range(kills):
        time.sleep(rnd.uniform(0.8, 2.0))
        dups += agent.metric("sluice_agent_kafka_native_duplicates_total" + M)
        agent.kill()
        agent.start()
    w.join()
    assert w.error is None, w.error
    wait_until(lambda: store_records(store, "nat-k") >= events, 180, "every event in nat-k")
    time.sleep(1)
    dups += native_used(agent).get("sluice_agent_kafka_native_duplicates_total" + M, 0)
    assert agent.term() == 0
    _, line = seq_line(env, store, "nat-k", events)
    return ("native, SIGHUP reload + agent kill -9 x%d mid-stream: %s (%d re-sent batches "
            "answered DUPLICATE_SEQUENCE_NUMBER or older; a broker that answers a duplicate "
            "as a success is not counted)" % (kills, line, dups))


def keyed(env, store):
    status, body = request(store, "PUT", "/v1/topics/nat-keys", b'{"partitions":4}',
                           {"Content-Type": "application/json"})
    assert status in (200, 201), (status, body)
    cfg, logs = config(env, store, "natp", "nat-keys")
    total = 0
    for i in range(6):
        with open(os.path.join(logs, "f%d.log" % i), "w") as f:
            for j in range(300):
                f.write("%d line %d of file %d\n" % (j, j, i))
                total += 1
    agent = Agent(env, cfg, name="agent-p")
    agent.start()
    wait_until(lambda: store_records(store, "nat-keys") >= total, 120, "every event in nat-keys")
    native_used(agent)
    assert agent.term() == 0
    # the partition count is kept for the next start
    kept = [os.path.join(d, "kafka_topics") for d, _, files in os.walk(env.path("data-natp"))
            if "kafka_topics" in files]
    assert kept and "4 nat-keys\n" in open(kept[0]).read(), kept
    recs = kcat_records(store.bootstrap, "nat-keys")
    assert len(recs) == total, (len(recs), total)
    where = {}
    for r in recs:
        want = kafka_partition(r["key"].encode(), 4)
        assert r["partition"] == want, (r["key"], r["partition"], want)
        where[r["key"]] = r["partition"]
    # the same keys through confluent-kafka's producer, murmur2 partitioner
    from confluent_kafka import Producer
    status, body = request(store, "PUT", "/v1/topics/nat-ref", b'{"partitions":4}',
                           {"Content-Type": "application/json"})
    assert status in (200, 201), (status, body)
    got = {}
    p = Producer({"bootstrap.servers": store.bootstrap, "partitioner": "murmur2"})
    for k in where:
        p.produce("nat-ref", key=k.encode(), value=b"x",
                  on_delivery=lambda err, msg: got.__setitem__(msg.key().decode(),
                                                               msg.partition()))
    assert p.flush(60) == 0
    assert got == where, (got, where)
    return ("native, keyed placement: %d records of %d keys over %d of 4 partitions, each "
            "where confluent-kafka's murmur2 partitioner puts its key"
            % (total, len(where), len(set(where.values()))))


def refused(env):
    path = env.path("bad.yaml")
    with open(path, "w") as f:
        f.write(CONFIG.format(data=env.path("data-c"), logs=env.path("logs-c"),
                              bootstrap="127.0.0.1:9", topic="t", input="c",
                              extra="    client: native\n    security_protocol: ssl\n"
                              "    ssl_key_password: x\n")
                .replace("@HTTP@", "127.0.0.1:9"))
    r = subprocess.run([os.path.join(BIN, "sluice-agent"), "--check", "-c", path],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "client native" in r.stderr, (r.returncode, r.stderr)
    return "client native with ssl_key_password refused by --check: " + r.stderr.strip().splitlines()[-1]


def sasl(env):
    users = env.path("users")
    conf_text = ("kafka:\n  sasl: [SCRAM-SHA-512, SCRAM-SHA-256, PLAIN]\n"
                 "auth:\n  users_file: %s\n" % users)
    conf = env.path("store-sasl.yaml")
    with open(conf, "w") as f:
        f.write(conf_text)
    p = subprocess.run([os.path.join(BIN, "sluice-store"), "user", "add", "agent", "-c", conf],
                       input=b"agent-pw=1,x\n", capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    store = env.start_store("-c", conf)
    out = []
    for i, mech in enumerate(("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN")):
        topic = "nat-sasl%d" % i
        cfg, logs = config(env, store, "sasl%d" % i, topic,
                           "    security_protocol: sasl_plaintext\n    sasl_mechanism: %s\n"
                           "    sasl_username: agent\n    sasl_password: 'agent-pw=1,x'\n"
                           % mech)
        src = os.path.join(logs, "app.log")
        events = corpus(env, src, "2M", "--seed", str(50 + i))
        agent = Agent(env, cfg, name="agent-sasl%d" % i)
        agent.start()
        wait_until(lambda: agent.metric("sluice_agent_kafka_records_delivered_total" + M)
                   >= events, 120, "every event delivered with " + mech)
        native_used(agent)
        assert agent.term() == 0
        vals = subprocess.run(["kcat", "-b", store.bootstrap, "-C", "-t", topic, "-o",
                               "beginning", "-e", "-q", "-X", "security.protocol=SASL_PLAINTEXT",
                               "-X", "sasl.mechanisms=PLAIN", "-X", "sasl.username=agent",
                               "-X", "sasl.password=agent-pw=1,x", "-f", "%s\n"],
                              capture_output=True, timeout=120)
        assert vals.returncode == 0, vals.stderr
        line = env.check_seq(vals.stdout, expect=events)
        assert "missing=0" in line and "duplicated=0" in line, line
        out.append("%s %s" % (mech, line))
    cfg, logs = config(env, store, "saslbad", "nat-saslbad",
                       "    security_protocol: sasl_plaintext\n    sasl_mechanism: SCRAM-SHA-512\n"
                       "    sasl_username: agent\n    sasl_password: wrong\n")
    with open(os.path.join(logs, "app.log"), "w") as f:
        f.write("0 one\n")
    bad = Agent(env, cfg, name="agent-saslbad")
    bad.start()
    wait_until(lambda: bad.metric("sluice_agent_kafka_native_auth_failures_total" + M) > 0, 60,
               "the wrong password refused")
    assert bad.metric("sluice_agent_kafka_records_delivered_total" + M) == 0
    assert bad.term() == 0
    return "native, SASL to the store: %s; a wrong password refused" % "; ".join(out)


def main():
    with Env() as env:
        for line in run_parallel((store_restarts, env, env.start_store()),
                                 (agent_kills, env, env.start_store()),
                                 (keyed, env, env.start_store())):
            result(line)
        result(sasl(env))
        result(refused(env))


if __name__ == "__main__":
    main()
