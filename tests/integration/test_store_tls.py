# SPDX-License-Identifier: Apache-2.0
"""TLS on both store listeners (kafka.tls, http.tls), with certificates made
by the openssl CLI in the test's temp dir: a CA, the store's certificate for
localhost/127.0.0.1, client certificates from that CA, from an unknown CA and
an expired one.

Store A (client_auth: request): kcat, confluent-kafka and kafka-python
produce and consume over SSL; openssl s_client finds TLS 1.1 refused and 1.2
and 1.3 accepted on both ports; curl ingests a batch and replays it over
https, and the CLI produces/consumes with --ca-file; plaintext to either TLS
port fails and the store keeps serving; a client certificate becomes the
principal "User:CN=writer,O=Example"; SIGHUP swaps in a new certificate for
new connections while an open Kafka connection and an open HTTP keep-alive
connection keep working, and a bad certificate on reload is refused with the
old one kept.  Store B (client_auth: require): a valid client certificate is
served (confluent-kafka, curl, the agent shipping over https with mTLS); none,
an unknown CA's and an expired one are refused on both listeners and
counted.  Finally the secure-by-default rule: a non-loopback listener without
TLS refuses to start (before binding anything), allow_insecure or TLS pass.
"""
import http.client
import json
import os
import signal
import socket
import ssl
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import kafkatest  # noqa: E402
import mkbatch  # noqa: E402
from agentkit import Agent, store_config, wait_until  # noqa: E402
from sluicetest import BIN, Env, free_port, result  # noqa: E402

from kafka.protocol.admin import ApiVersionRequest  # noqa: E402
from kafka.protocol.fetch import FetchRequest  # noqa: E402
from kafka.protocol.metadata import MetadataRequest  # noqa: E402
from kafka.protocol.produce import ProduceRequest  # noqa: E402
from kafka.record.memory_records import MemoryRecordsBuilder  # noqa: E402

N = 2000


def sh(argv, **kw):
    return subprocess.run(argv, check=True, capture_output=True, **kw)


class Pki:
    """A test CA and certificates signed by it, all with the openssl CLI."""

    def __init__(self, d):
        self.d = d
        os.makedirs(os.path.join(d, "newcerts"), exist_ok=True)
        open(self.p("index.txt"), "w").close()
        with open(self.p("serial"), "w") as f:
            f.write("1000\n")
        with open(self.p("ca.cnf"), "w") as f:
            f.write("[ca]\ndefault_ca = d\n[d]\ndir = %s\ndatabase = $dir/index.txt\n"
                    "new_certs_dir = $dir/newcerts\nserial = $dir/serial\ndefault_md = sha256\n"
                    "policy = any\nunique_subject = no\n[any]\ncommonName = supplied\n"
                    "organizationName = optional\n[server]\nsubjectAltName = "
                    "DNS:localhost,IP:127.0.0.1\nextendedKeyUsage = serverAuth\n"
                    "[client]\nextendedKeyUsage = clientAuth\n" % d)
        self.ca("ca")
        self.ca("other-ca")

    def p(self, name):
        return os.path.join(self.d, name)

    def ca(self, name):
        sh(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-keyout", self.p(name + ".key"), "-out", self.p(name + ".crt"),
            "-days", "30", "-subj", "/CN=Sluice test " + name])

    def issue(self, name, subj, ext, ca="ca", start=None, end=None):
        """Key and certificate name.{key,crt}; start/end as YYYYMMDDHHMMSSZ."""
        sh(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", self.p(name + ".key"), "-out", self.p(name + ".csr"), "-subj", subj])
        argv = ["openssl", "ca", "-batch", "-notext", "-preserveDN", "-config", self.p("ca.cnf"),
                "-cert", self.p(ca + ".crt"), "-keyfile", self.p(ca + ".key"),
                "-in", self.p(name + ".csr"), "-out", self.p(name + ".crt"), "-extensions", ext]
        argv += ["-startdate", start, "-enddate", end] if start else ["-days", "30"]
        sh(argv)
        return self.p(name + ".crt"), self.p(name + ".key")

    def der(self, name):
        return ssl.PEM_cert_to_DER_cert(open(self.p(name + ".crt")).read())


def tls_yaml(pki, auth):
    t = "{ cert: %s, key: %s, client_ca: %s, client_auth: %s }" % (
        pki.p("store.crt"), pki.p("store.key"), pki.p("ca.crt"), auth)
    # groups.initial_rebalance_delay 0: each group here has one consumer,
    # Kafka's 3 s wait for more members would only add to the test's time
    return ("kafka:\n  tls: %s\nhttp:\n  tls: %s\n"
            "groups:\n  initial_rebalance_delay: 0\n") % (t, t)


def client_ctx(pki, cert=None):
    ctx = ssl.create_default_context(cafile=pki.p("ca.crt"))
    if cert:
        ctx.load_cert_chain(pki.p(cert + ".crt"), pki.p(cert + ".key"))
    return ctx


class TlsKafka(kafkatest.RawClient):
    """kafkatest's raw client over TLS."""

    def __init__(self, store, ctx, timeout=10.0):
        raw = socket.create_connection(("127.0.0.1", store.kafka_port), timeout=timeout)
        self.sock = ctx.wrap_socket(raw, server_hostname="localhost")
        self.corr = 0


def api_versions_ok(store, ctx):
    """One ApiVersions over a new TLS connection: True, or the refusal."""
    try:
        c = TlsKafka(store, ctx)
        try:
            c.call(ApiVersionRequest[0]())
            return True
        finally:
            c.close()
    except (ssl.SSLError, ConnectionError, OSError) as e:
        return e


def https(store, ctx, method, path, body=None):
    c = http.client.HTTPSConnection("localhost", store.http_port, context=ctx, timeout=30)
    try:
        c.request(method, path, body=body)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def metrics(store, ctx):
    st, body = https(store, ctx, "GET", "/metrics")
    assert st == 200, st
    out = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#"):
            k, _, v = line.rpartition(" ")
            out[k] = float(v)
    return out


def kcat(store, pki, *args, data=None):
    argv = ["kcat", "-b", store.bootstrap, "-X", "security.protocol=SSL",
            "-X", "ssl.ca.location=" + pki.p("ca.crt")] + list(args)
    return subprocess.run(argv, input=data, capture_output=True, timeout=120, check=True).stdout


def lines(prefix, n):
    return "".join("%s seq=%d\n" % (prefix, i) for i in range(n)).encode()


def check_clients(env, a, pki):
    kcat(a, pki, "-P", "-t", "tls-kcat", data=lines("kcat", N))
    got = kcat(a, pki, "-C", "-t", "tls-kcat", "-e", "-q")
    env.check_seq(got, expect=N)

    from confluent_kafka import Consumer, Producer
    conf = {"bootstrap.servers": a.bootstrap, "security.protocol": "SSL",
            "ssl.ca.location": pki.p("ca.crt")}
    p = Producer(dict(conf, **{"enable.idempotence": True}))
    for i in range(N):
        p.produce("tls-confluent", b"confluent seq=%d" % i)
    assert p.flush(60) == 0
    c = Consumer(dict(conf, **{"group.id": "g-tls", "auto.offset.reset": "earliest",
                               "enable.partition.eof": True}))
    c.subscribe(["tls-confluent"])
    vals, deadline = [], time.time() + 60
    while len(vals) < N and time.time() < deadline:
        m = c.poll(1.0)
        if m is not None and not m.error():
            vals.append(m.value())
    c.commit(asynchronous=False)
    c.close()
    env.check_seq(b"\n".join(vals) + b"\n", expect=N)

    from kafka import KafkaConsumer, KafkaProducer
    kp = KafkaProducer(bootstrap_servers=a.bootstrap, security_protocol="SSL",
                       ssl_cafile=pki.p("ca.crt"), ssl_certfile=pki.p("writer.crt"),
                       ssl_keyfile=pki.p("writer.key"))
    for i in range(N):
        kp.send("tls-kpy", b"kpy seq=%d" % i)
    kp.flush(60)
    kp.close()
    kc = KafkaConsumer("tls-kpy", bootstrap_servers=a.bootstrap, security_protocol="SSL",
                       ssl_cafile=pki.p("ca.crt"), auto_offset_reset="earliest",
                       consumer_timeout_ms=5000)
    vals = [m.value for m in kc]
    kc.close()
    env.check_seq(b"\n".join(vals) + b"\n", expect=N)
    wait_until(lambda: "User:CN=writer,O=Example" in a.log(), 10, "the mTLS principal logged")
    # client_auth request: no certificate is fine (above), a bad one is not
    assert refused(api_versions_ok(a, client_ctx(pki, "stranger")))
    st, body = https(a, client_ctx(pki, "expired"), "GET", "/v1/topics")
    assert st == 403 and b"client_certificate" in body, (st, body)
    result("kcat, confluent-kafka (idempotent, group) and kafka-python (client cert, principal "
           "User:CN=writer,O=Example) each produced and consumed %d records over SSL; with "
           "client_auth request an unknown CA's or expired certificate is still refused" % N)


def s_client(port, pki, version, cipher=None):
    argv = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-brief",
            "-CAfile", pki.p("ca.crt"), "-" + version]
    if version == "tls1_1":
        argv += ["-cipher", "DEFAULT@SECLEVEL=0"]
    if cipher:
        argv += ["-cipher", cipher]
    r = subprocess.run(argv, input=b"", capture_output=True, timeout=30)
    return r.returncode, (r.stdout + r.stderr).decode(errors="replace")


def check_versions(a, pki):
    for port in (a.kafka_port, a.http_port):
        rc, out = s_client(port, pki, "tls1_1")
        assert rc != 0 and "Protocol version: TLSv1.1" not in out, out
        for v, name in (("tls1_2", "TLSv1.2"), ("tls1_3", "TLSv1.3")):
            rc, out = s_client(port, pki, v)
            assert rc == 0 and "Protocol version: " + name in out, out
            assert "Verification: OK" in out, out
        rc, out = s_client(port, pki, "tls1_2", "ECDHE-ECDSA-AES128-SHA")
        assert rc != 0, out  # CBC: not offered
    result("openssl s_client on both listeners: TLS 1.1 refused, TLS 1.2 and 1.3 verified, "
           "a TLS 1.2 CBC suite refused")


def check_http(env, a, pki):
    ca = pki.p("ca.crt")
    base = "https://localhost:%d" % a.http_port
    batch = env.path("b.bin")
    with open(batch, "wb") as f:
        f.write(mkbatch.build(mkbatch.seq_records(500)))
    out = sh(["curl", "-sS", "--fail-with-body", "--cacert", ca, "--data-binary", "@" + batch,
              "-H", "Content-Type: application/octet-stream",
              base + "/v1/topics/tls-http/batches"]).stdout
    assert json.loads(out)["batches"][0]["count"] == 500, out
    out = sh(["curl", "-sS", "--fail-with-body", "--cacert", ca,
              base + "/v1/topics/tls-http/partitions/0/records?offset=0&max=1000"]).stdout
    assert out.count(b"\n") == 500, out[:300]
    cli = [os.path.join(BIN, "sluice"), "--store", base, "--ca-file", ca]
    sh(cli + ["produce", "tls-cli"], input=lines("cli", 300))
    got = sh(cli + ["consume", "tls-cli", "--max", "300"]).stdout
    env.check_seq(got, expect=300)
    r = subprocess.run(["curl", "-sS", base + "/v1/topics"], capture_output=True)
    assert r.returncode == 60, r  # no CA given: the certificate is not trusted
    result("curl over https: ingest 500 records, replay them; sluice --ca-file produce/consume "
           "300; without the CA curl refuses the certificate")


def check_plaintext(a, pki):
    ctx = client_ctx(pki)
    before = metrics(a, ctx).get("sluice_kafka_tls_handshake_failures_total", 0)
    raw = kafkatest.RawClient(a)
    data, _ = raw.encode(ApiVersionRequest[0]())
    raw.send_raw(data)
    assert raw.closed_by_peer(10), "plaintext Kafka on the TLS port was not closed"
    raw.close()
    r = subprocess.run(["curl", "-sS", "-m", "10", "http://127.0.0.1:%d/v1/topics" % a.http_port],
                       capture_output=True)
    assert r.returncode != 0, r
    assert api_versions_ok(a, ctx) is True
    assert https(a, ctx, "GET", "/health")[0] == 200
    wait_until(lambda: metrics(a, ctx).get("sluice_kafka_tls_handshake_failures_total", 0)
               > before, 10, "the handshake failure counted")
    result("plaintext Kafka and HTTP to the TLS ports: closed (curl exit %d), counted in "
           "sluice_kafka_tls_handshake_failures_total; TLS clients still served" % r.returncode)


def check_reload(a, pki):
    ctx = client_ctx(pki)
    old_der = pki.der("store")
    kc = TlsKafka(a, ctx)
    kc.call(ApiVersionRequest[0]())
    hc = http.client.HTTPSConnection("localhost", a.http_port, context=ctx, timeout=30)
    hc.request("GET", "/health")
    r = hc.getresponse()
    r.read()
    assert r.status == 200
    assert kc.sock.getpeercert(binary_form=True) == old_der
    # a key that does not match: refused, the running certificate stays
    crt, key = pki.issue("store2", "/CN=localhost/O=rotated", "server")
    os.rename(pki.p("store.key"), pki.p("store.key.orig"))
    os.rename(pki.p("store2.key"), pki.p("store.key"))
    a.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "keeping the certificate in use" in a.log(), 20, "bad reload refused")
    assert api_versions_ok(a, ctx) is True
    s = socket.create_connection(("127.0.0.1", a.kafka_port))
    with ctx.wrap_socket(s, server_hostname="localhost") as t:
        assert t.getpeercert(binary_form=True) == old_der
    # the matching pair: new connections get it
    os.rename(crt, pki.p("store.crt"))
    a.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: a.log().count("reloaded %s for new connections" % pki.p("store.crt")) >= 2,
               20, "both listeners reloaded")
    new_der = pki.der("store")
    for port in (a.kafka_port, a.http_port):
        s = socket.create_connection(("127.0.0.1", port))
        with ctx.wrap_socket(s, server_hostname="localhost") as t:
            assert t.getpeercert(binary_form=True) == new_der, port
    kc.call(ApiVersionRequest[0]())
    assert kc.sock.getpeercert(binary_form=True) == old_der
    kc.close()
    hc.request("GET", "/health")
    r = hc.getresponse()
    r.read()
    assert r.status == 200
    hc.close()
    m = metrics(a, ctx)
    assert m['sluice_kafka_tls_reloads_total{result="ok"}'] == 1, m
    assert m['sluice_kafka_tls_reloads_total{result="failed"}'] == 1, m
    result("SIGHUP: a mismatched key refused (old certificate kept); the new certificate served "
           "to new Kafka and HTTP connections while an open connection on each kept working")


def check_pipelining(env, pki):
    """The frames test's back-pressure cases over TLS, where decrypted bytes
    wait inside OpenSSL (not visible to epoll) while the connection is paused,
    and where big Fetch responses go through the copy path to a reader
    whose small receive buffer makes every TLS write partial."""
    conf = tls_yaml(pki, "none").replace(
        "kafka:\n", "kafka:\n  max_inflight: 4\n  max_output_bytes: 64KiB\n").replace(
        "http:\n", "http:\n  threads: 2\n")  # a thread pool (epoll) under TLS too
    c = kafkatest.start_store(env, conf=conf)
    p = TlsKafka(c, client_ctx(pki))
    reqs, data = [], b""
    for i in range(1500):
        req = ApiVersionRequest[i % 3]() if i % 2 else MetadataRequest[i % 4](None if i % 4 else [])
        d, corr = p.encode(req)
        data += d
        reqs.append((req, corr))
    # pad to whole 16 KiB TLS records: the last one then ends inside OpenSSL's
    # buffer after a partial read, with nothing left on the socket to wake us
    pad = (-len(data) - 14 - 200) % 16384 + 200
    req = ApiVersionRequest[0]()
    d, corr = p.encode(req, client_id="p" * pad)
    data += d
    reqs.append((req, corr))
    assert len(data) % 16384 == 0
    p.sock.sendall(data)
    for req, corr in reqs:
        p.read_response(req, corr)
    records = MemoryRecordsBuilder(magic=2, compression_type=0, batch_size=1 << 20)
    for i in range(2000):
        records.append(timestamp=None, key=b"k", value=b"v%05d seq=%d " % (i, i) + b"x" * 400)
    records.close()
    batch = records.buffer()
    resp = p.call(ProduceRequest[7](None, -1, 10000, [("pipe", [(0, batch)])]))
    assert resp.topics[0][1][0][1] == 0, resp
    p.close()
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.settimeout(30)
    raw.connect(("127.0.0.1", c.kafka_port))
    p = TlsKafka.__new__(TlsKafka)
    p.sock = client_ctx(pki).wrap_socket(raw, server_hostname="localhost")
    p.corr = 0
    fetches, data = [], b""
    for i in range(40):
        req = FetchRequest[4](-1, 100, 1, 4 << 20, 0, [("pipe", [(0, 0, 4 << 20)])])
        d, corr = p.encode(req)
        data += d
        fetches.append((req, corr))
    p.sock.sendall(data)
    first = None
    for req, corr in fetches:
        part = p.read_response(req, corr).topics[0][1][0]
        assert part[1] == 0 and part[2] == 2000, part[:3]
        first = first or part[-1]
        assert len(part[-1]) == len(batch) and part[-1] == first
    p.close()
    assert api_versions_ok(c, client_ctx(pki)) is True
    assert https(c, client_ctx(pki), "GET", "/v1/topics/pipe")[0] == 200
    m = metrics(c, client_ctx(pki))
    copied = m['sluice_kafka_tls_sendfile_bytes_total{mode="copy"}']
    ktls = m['sluice_kafka_tls_sendfile_bytes_total{mode="ktls"}']
    assert copied + ktls >= 40 * len(batch), m
    c.stop()
    result("over TLS: %d pipelined requests (whole 16 KiB records) through max_inflight 4 "
           "answered in order; 40 "
           "pipelined %d-byte fetches to a 4 KiB-receive-buffer reader identical and whole "
           "(%s path)" % (len(reqs), len(batch), "kTLS" if ktls else "copy"))


def check_split_record(a, pki):
    """A TLS record that arrives in two pieces: the first leaves an incomplete
    record inside OpenSSL, which must not be taken for readable data (the
    store would spin on it and serve nobody else)."""
    ctx = client_ctx(pki)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(inc, out, server_hostname="localhost")
    sock = socket.create_connection(("127.0.0.1", a.kafka_port), timeout=10)

    def pump():
        data = out.read()
        if data:
            sock.sendall(data)

    while True:
        try:
            tls.do_handshake()
            break
        except ssl.SSLWantReadError:
            pump()
            inc.write(sock.recv(65536))
    pump()
    raw = kafkatest.RawClient.__new__(kafkatest.RawClient)
    raw.corr = 0
    frame, corr = raw.encode(ApiVersionRequest[0](), client_id="x" * 3000)
    tls.write(frame)
    record = out.read()
    half = len(record) // 2
    sock.sendall(record[:half])
    # the store must go on serving others meanwhile
    assert api_versions_ok(a, ctx) is True
    assert https(a, ctx, "GET", "/health")[0] == 200
    sock.sendall(record[half:])
    got = b""
    while len(got) < 4 or len(got) < 4 + struct.unpack(">i", got[:4])[0]:
        try:
            got += tls.read(65536)
        except ssl.SSLWantReadError:
            inc.write(sock.recv(65536))
    assert struct.unpack(">i", got[4:8])[0] == corr
    sock.close()
    result("a TLS record split in two: the store served other clients between the halves "
           "and answered once the record was whole")


def refused(e):
    return e is not True


def check_require(env, pki):
    b = kafkatest.start_store(env, conf=tls_yaml(pki, "require"))
    good = client_ctx(pki, "writer")
    assert api_versions_ok(b, good) is True
    for name in (None, "stranger", "expired"):
        e = api_versions_ok(b, client_ctx(pki, name))
        assert refused(e), name
        st, body = https(b, client_ctx(pki, name), "GET", "/v1/topics")
        assert st == 403 and b"client_certificate" in body, (name, st, body)
    m = metrics(b, good)
    assert m["sluice_http_tls_client_cert_refused_total"] == 3, m
    base = ["--store", "https://localhost:%d" % b.http_port, "--ca-file", pki.p("ca.crt")]
    sluice = os.path.join(BIN, "sluice")
    sh([sluice] + base + ["--cert", pki.p("writer.crt"), "--key", pki.p("writer.key"),
                          "produce", "mtls-cli"], input=lines("cli", 10))
    got = sh([sluice] + base + ["consume", "mtls-cli", "--max", "10", "--cert",
                                pki.p("writer.crt"), "--key-file", pki.p("writer.key")]).stdout
    env.check_seq(got, expect=10)
    r = subprocess.run([sluice] + base + ["topics"], capture_output=True, timeout=30)
    assert r.returncode == 1 and b"client_certificate" in r.stderr, r
    assert m["sluice_kafka_tls_handshake_failures_total"] >= 3, m

    from confluent_kafka import Consumer, Producer
    conf = {"bootstrap.servers": b.bootstrap, "security.protocol": "SSL",
            "ssl.ca.location": pki.p("ca.crt"), "ssl.certificate.location": pki.p("writer.crt"),
            "ssl.key.location": pki.p("writer.key")}
    p = Producer(conf)
    for i in range(N):
        p.produce("mtls", b"mtls seq=%d" % i)
    assert p.flush(60) == 0
    c = Consumer(dict(conf, **{"group.id": "g-mtls", "auto.offset.reset": "earliest"}))
    c.subscribe(["mtls"])
    vals, deadline = [], time.time() + 60
    while len(vals) < N and time.time() < deadline:
        msg = c.poll(1.0)
        if msg is not None and not msg.error():
            vals.append(msg.value())
    c.close()
    env.check_seq(b"\n".join(vals) + b"\n", expect=N)
    result("client_auth require: no certificate, an unknown CA's and an expired one refused on "
           "Kafka (handshake) and HTTP (403 client_certificate), counted; confluent-kafka with "
           "a valid certificate produced and consumed %d; sluice --cert/--key (and --key-file after "
           "the command) served, without them refused" % N)
    return b


def check_agent(env, b, pki):
    logs = env.path("logs")
    os.makedirs(logs)
    with open(os.path.join(logs, "app.log"), "wb") as f:
        f.write(lines("agent", N))
    extra = "    ca_file: %s\n    cert: %s\n    key: %s\n" % (
        pki.p("ca.crt"), pki.p("agent.crt"), pki.p("agent.key"))
    cfg = store_config(env, b, logs, multiline=False, url="https://localhost:%d" % b.http_port,
                       extra_output=extra, extra_input="    topic: shipped\n")
    ag = Agent(env, cfg).start()
    good = client_ctx(pki, "writer")

    def count():
        st, body = https(b, good, "GET", "/v1/topics/shipped")
        return json.loads(body).get("records", 0) if st == 200 else 0

    wait_until(lambda: count() >= N, 120, "the agent's records over https+mTLS")
    assert count() == N
    st, body = https(b, good, "GET", "/v1/topics/shipped/partitions/0/records?offset=0"
                     "&max=%d" % (2 * N))
    vals = [json.loads(x)["value"].encode() for x in body.splitlines()]
    env.check_seq(b"\n".join(vals) + b"\n", expect=N)
    assert ag.term() == 0
    # the kafka output (librdkafka) over SSL with the same client certificate
    cfg = ("agent:\n  data_dir: %s\n  http: { listen: @HTTP@ }\n"
           "inputs:\n  - id: app\n    type: tail\n    paths: [%s/*.log]\n"
           "    read_from_head: true\n    topic: viakafka\n"
           "outputs:\n  - id: k\n    type: kafka\n    brokers: %s\n"
           "    librdkafka: { security.protocol: SSL, ssl.ca.location: %s,\n"
           "                  ssl.certificate.location: %s, ssl.key.location: %s }\n"
           % (env.path("agent-k"), logs, b.bootstrap, pki.p("ca.crt"), pki.p("agent.crt"),
              pki.p("agent.key")))
    ak = Agent(env, cfg, name="agent-k").start()

    def count_k():
        st, body = https(b, good, "GET", "/v1/topics/viakafka")
        return json.loads(body).get("records", 0) if st == 200 else 0

    wait_until(lambda: count_k() >= N, 120, "the kafka output's records over SSL+mTLS")
    assert ak.term() == 0 and count_k() == N
    result("the agent shipped %d records over https with a client certificate (mTLS), exactly "
           "once; its kafka output (librdkafka SSL, same certificate) too" % N)


def check_policy(env, pki):
    store = os.path.join(BIN, "sluice-store")
    for flag in ("--kafka-listen", "--http-listen"):
        d = env.path("never-created")
        other = "--http-listen" if flag == "--kafka-listen" else "--kafka-listen"
        r = subprocess.run([store, "--data-dir", d, flag, "0.0.0.0:%d" % free_port(), other,
                            "127.0.0.1:%d" % free_port()], capture_output=True, timeout=30)
        err = r.stderr.decode()
        assert r.returncode != 0 and "refusing to listen on non-loopback 0.0.0.0" in err, err
        assert "allow_insecure" in err and not os.path.exists(d), err
    conf = env.path("insecure.yaml")
    with open(conf, "w") as f:
        f.write("kafka: { listen: '0.0.0.0:9', allow_insecure: true }\n"
                "http: { listen: '[::]:9', allow_insecure: true }\n")
    r = subprocess.run([store, "-c", conf, "--check"], capture_output=True, timeout=30)
    assert r.returncode == 0 and b"configuration ok" in r.stdout, r
    assert b"without TLS (kafka.allow_insecure: true)" in r.stderr, r
    conf = env.path("tls-open.yaml")
    with open(conf, "w") as f:
        f.write(tls_yaml(pki, "none").replace("kafka:\n", "kafka:\n  listen: 0.0.0.0:9\n"))
    # TLS alone is not enough on an open address: anyone could still talk
    r = subprocess.run([store, "-c", conf, "--check"], capture_output=True, timeout=30)
    assert r.returncode != 0 and b"without authentication" in r.stderr, r
    users = env.path("users")
    open(users, "w").close()
    os.chmod(users, 0o600)
    for auth in ("  sasl: [SCRAM-SHA-512]\n", None):
        with open(conf, "w") as f:
            y = tls_yaml(pki, "require" if auth is None else "none")
            f.write(y.replace("kafka:\n", "kafka:\n  listen: 0.0.0.0:9\n" + (auth or "")))
            f.write("auth: { users_file: %s }\n" % users)
        r = subprocess.run([store, "-c", conf, "--check"], capture_output=True, timeout=30)
        assert r.returncode == 0, (auth, r)
    r = subprocess.run([store, "--kafka-listen", "localhost:9", "--check"], capture_output=True,
                       timeout=30)
    assert r.returncode == 0, r
    conf = env.path("tls-mismatch.yaml")
    with open(conf, "w") as f:
        f.write("kafka:\n  tls: { cert: %s, key: %s }\n" % (pki.p("store.crt"), pki.p("agent.key")))
    r = subprocess.run([store, "-c", conf, "--check"], capture_output=True, timeout=30)
    assert r.returncode != 0 and b"mismatch" in r.stderr, r
    result("non-loopback listener without TLS, or with TLS but no authentication: refused before "
           "binding (non-zero exit, data dir never created); allow_insecure, TLS + SASL, TLS + "
           "required client certificates, or localhost pass --check; --check refuses a key that "
           "does not match its certificate")


def main():
    with Env() as env:
        pki = Pki(env.path("pki"))
        pki.issue("store", "/CN=localhost", "server")
        pki.issue("writer", "/O=Example/CN=writer", "client")
        pki.issue("agent", "/O=Example/CN=agent-01", "client")
        pki.issue("stranger", "/CN=stranger", "client", ca="other-ca")
        pki.issue("expired", "/CN=expired", "client", start="20200101000000Z",
                  end="20200102000000Z")
        check_policy(env, pki)
        a = kafkatest.start_store(env, conf=tls_yaml(pki, "request") +
                                  "store: { log_level: debug }\n")
        check_versions(a, pki)
        check_clients(env, a, pki)
        check_http(env, a, pki)
        check_plaintext(a, pki)
        check_split_record(a, pki)
        check_pipelining(env, pki)
        b = check_require(env, pki)
        check_agent(env, b, pki)
        check_reload(a, pki)


if __name__ == "__main__":
    main()
