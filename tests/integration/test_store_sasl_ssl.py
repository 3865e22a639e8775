# SPDX-License-Identifier: Apache-2.0
"""SASL over TLS (SASL_SSL) end to end, as a store on an open network runs
it (issue 17): the Kafka listener has TLS (a test CA made with the openssl
CLI) and requires SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN; users are added
with `sluice-store user add`.

Checked with real clients:
- confluent-kafka (librdkafka) SASL_SSL SCRAM-SHA-512: 2,000 records
  produced by an idempotent producer and read back by a group consumer,
  exactly once (check_seq);
- kafkajs over SSL with SASL PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512: each
  produces 300 records and reads them back;
- the agent's kafka output (librdkafka, security_protocol sasl_ssl,
  SCRAM-SHA-512) ships a numbered corpus: every event once;
- a wrong password over SASL_SSL is refused (SASL_AUTHENTICATION_FAILED)
  and counted in sluice_auth_failures_total{listener="kafka"}.
"""
import os
import subprocess
import textwrap
import urllib.request

from confluent_kafka import Consumer, Producer

from agentkit import Agent, corpus, wait_until
from sluicetest import BIN, SHARED, TOP, Env, result

PW = {"writer": "writer-pw-4c1e", "reader": "reader-pw-8d2f"}


def sh(argv, cwd):
    subprocess.run(argv, cwd=cwd, check=True, capture_output=True, timeout=60)


def make_pki(d):
    """A CA and a store certificate for localhost / 127.0.0.1."""
    os.makedirs(d)
    sh(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=test CA"], d)
    sh(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "store.key", "-out", "store.csr", "-subj", "/CN=localhost"], d)
    with open(os.path.join(d, "ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    sh(["openssl", "x509", "-req", "-in", "store.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "2", "-extfile", "ext", "-out", "store.crt"], d)
    return {k: os.path.join(d, k) for k in ("ca.crt", "store.crt", "store.key")}


def client_conf(st, pki, user, mech="SCRAM-SHA-512", password=None):
    return {"bootstrap.servers": "127.0.0.1:%d" % st.kafka_port,
            "security.protocol": "SASL_SSL", "sasl.mechanisms": mech,
            "sasl.username": user, "sasl.password": password or PW[user],
            "ssl.ca.location": pki["ca.crt"]}


def consume_all(st, pki, topic, n, timeout=120):
    c = Consumer(dict(client_conf(st, pki, "reader"), **{
        "group.id": "g-" + topic, "auto.offset.reset": "earliest",
        "enable.auto.commit": False}))
    c.subscribe([topic])
    vals = []
    try:
        wait_until(lambda: (vals.extend(m.value().decode() for m in c.consume(500, 0.5)
                                         if m.error() is None) or len(vals) >= n),
                   timeout, "%d records of %s over SASL_SSL" % (n, topic))
    finally:
        c.close()
    return vals


def confluent_scram(env, st, pki):
    p = Producer(dict(client_conf(st, pki, "writer"), **{"enable.idempotence": True,
                                                         "compression.type": "zstd"}))
    for i in range(2000):
        p.produce("tls-scram", value=b"confluent seq=%d" % i, key=b"k%d" % (i % 5))
    assert p.flush(60) == 0, "confluent-kafka: records left unacknowledged"
    vals = consume_all(st, pki, "tls-scram", 2000)
    line = env.check_seq("\n".join(vals).encode() + b"\n", expect=2000)
    return "confluent-kafka SASL_SSL SCRAM-SHA-512 (idempotent zstd producer, group consumer): " + line


KAFKAJS = textwrap.dedent("""
    'use strict'
    const fs = require('fs')
    const { Kafka, logLevel } = require('kafkajs')
    const [broker, ca, user, pw, mech, topic, n] = process.argv.slice(2)
    const kafka = new Kafka({ clientId: 'kjs-sasl', brokers: [broker], logLevel: logLevel.WARN,
      ssl: { ca: [fs.readFileSync(ca, 'utf8')], servername: 'localhost' },
      sasl: { mechanism: mech, username: user, password: pw },
      retry: { retries: 8, initialRetryTime: 100 } })
    async function main () {
      const p = kafka.producer({ allowAutoTopicCreation: true })
      await p.connect()
      const messages = []
      for (let i = 0; i < Number(n); i++) messages.push({ value: mech + ' seq=' + i })
      await p.send({ topic, messages, acks: -1 })
      await p.disconnect()
      const c = kafka.consumer({ groupId: 'kjs-' + topic, maxWaitTimeInMs: 200 })
      await c.connect()
      await c.subscribe({ topic, fromBeginning: true })
      const seen = []
      await new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('timed out: ' + seen.length)), 60000)
        c.run({ eachMessage: async ({ message }) => {
          seen.push(message.value.toString())
          if (seen.length >= Number(n)) { clearTimeout(t); resolve() }
        } }).catch(reject)
      })
      await c.disconnect()
      process.stdout.write(seen.join('\\n') + '\\n')
    }
    main().catch((e) => { console.error(e); process.exit(1) })
""")


def kafkajs(env, st, pki):
    script = env.path("kjs_sasl.js")
    with open(script, "w") as f:
        f.write(KAFKAJS)
    js = os.path.join(TOP, "tests/js")
    out = []
    for mech in ("plain", "scram-sha-256", "scram-sha-512"):
        topic = "kjs-" + mech
        # the writer produces, the reader cannot write: the test user holds both
        r = subprocess.run(["node", script, "127.0.0.1:%d" % st.kafka_port, pki["ca.crt"],
                            "writer", PW["writer"], mech, topic, "300"],
                           cwd=js, capture_output=True, timeout=120,
                           env=dict(os.environ, NODE_PATH=os.path.join(js, "node_modules"),
                                    KAFKAJS_NO_PARTITIONER_WARNING="1"))
        assert r.returncode == 0, "kafkajs %s: %s" % (mech, r.stderr.decode()[-2000:])
        line = env.check_seq(r.stdout, expect=300)
        out.append("%s %s" % (mech, line))
    return "kafkajs over SSL: " + "; ".join(out)


AGENT = """
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
    brokers: 127.0.0.1:{port}
    topic: agent-sasl
    security_protocol: sasl_ssl
    sasl_mechanism: SCRAM-SHA-512
    sasl_username: writer
    sasl_password: {pw}
    ssl_ca_location: {ca}
"""


def agent_output(env, st, pki):
    logs = env.path("logs")
    os.makedirs(logs)
    events = corpus(env, os.path.join(logs, "app.log"), "4M", "--seed", "21")
    ag = Agent(env, AGENT.format(data=env.path("agent-data"), logs=logs, port=st.kafka_port,
                                 pw=PW["writer"], ca=pki["ca.crt"]), name="agent-sasl")
    ag.start()
    vals = consume_all(st, pki, "agent-sasl", events, timeout=180)
    assert ag.term() == 0
    line = env.check_seq("\n".join(vals).encode() + b"\n", expect=events)
    return "agent kafka output over SASL_SSL SCRAM-SHA-512: " + line


def wrong_password(st, pki):
    p = Producer(dict(client_conf(st, pki, "writer", password="not-the-password"),
                      **{"message.timeout.ms": 5000}))
    errs = []
    p.produce("tls-scram", value=b"x", on_delivery=lambda e, m: errs.append(e))
    p.flush(20)
    assert errs and errs[0] is not None, "a wrong password was accepted"
    with urllib.request.urlopen(st.url + "/metrics", timeout=30) as r:
        text = r.read().decode()
    failed = [ln for ln in text.splitlines()
              if ln.startswith("sluice_auth_failures_total") and 'listener="kafka"' in ln
              and not ln.rstrip().endswith(" 0")]
    assert failed, "no kafka auth failure counted"
    return "wrong password over SASL_SSL refused (%s), counted: %s" % (errs[0].name(), failed[0])


def main():
    with Env() as env:
        pki = make_pki(env.path("pki"))
        users = env.path("users")
        open(users, "w").close()
        os.chmod(users, 0o600)
        conf = env.path("store.yaml")
        with open(conf, "w") as f:
            f.write("kafka:\n  tls: { cert: %s, key: %s }\n"
                    "  sasl: [SCRAM-SHA-512, SCRAM-SHA-256, PLAIN]\n"
                    "auth:\n  users_file: %s\n"
                    # one consumer per group: no use waiting 3 s for more members
                    "groups:\n  initial_rebalance_delay: 0\n"
                    % (pki["store.crt"], pki["store.key"], users))
        for u, pw in PW.items():
            r = subprocess.run([os.path.join(BIN, "sluice-store"), "user", "add", u, "-c", conf],
                               input=(pw + "\n").encode(), capture_output=True, timeout=60)
            assert r.returncode == 0, r
        st = env.start_store("-c", conf, ready="both")
        result(confluent_scram(env, st, pki))
        result(kafkajs(env, st, pki))
        result(agent_output(env, st, pki))
        result(wrong_password(st, pki))


if __name__ == "__main__":
    main()
