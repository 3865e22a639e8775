# SPDX-License-Identifier: Apache-2.0
"""SASL and ACLs on the store, with real clients (issue 17).

Users are created with `sluice-store user add` (password on stdin, through
store.yaml's auth.users_file; the file is 0600 and holds no password).  The
store requires SASL (SCRAM-SHA-512, SCRAM-SHA-256, PLAIN) on its Kafka
listener, HTTP bearer tokens map to the same principals, and one ACL file
grants:

    alice  app*  produce,consume   + group:alice-*  consume
    bob    secret produce,consume  + group:bob-*    consume

Checked: kcat and confluent-kafka (librdkafka) with each mechanism, and
kafka-python (SaslHandshake v0 + bare tokens) with PLAIN and both SCRAMs,
produce and read back; a wrong password gets SASL_AUTHENTICATION_FAILED and
a closed connection; a request before authenticating closes the connection;
alice reading `secret` is refused over Kafka (Fetch, ListOffsets, Metadata)
and over HTTP with her token, and /metrics shows her no `secret` series;
producer ids are large and random, and a Produce with bob's producer id and
next sequence is refused (INVALID_PRODUCER_ID_MAPPING) so bob's real batch
is stored, not answered as a duplicate; alice joining or committing in
bob's group is refused (GROUP_AUTHORIZATION_FAILED); `user remove` and SIGHUP lock
the user out without a restart.  KIP-368: with kafka.connections_max_reauth a
client learns the session lifetime, may re-authenticate on its connection
(as the same principal only) and is disconnected when it sends anything
after the session expired; librdkafka keeps producing across expiries.
Describe/AlterUserScramCredentials (raw flexible requests) need cluster
admin; an upserted user logs in at once, a deleted one no longer can.
kafka-python's admin client lists, creates and deletes ACLs in the same
file (its comments survive).  Every refusal shows in
sluice_auth_failures_total.
"""
import hashlib
import json
import os
import signal
import stat
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

from kafka import KafkaConsumer, KafkaProducer
from kafka.protocol.admin import SaslAuthenticateRequest_v1, SaslHandShakeRequest_v1
from kafka.protocol.commit import GroupCoordinatorRequest_v0, OffsetCommitRequest_v2
from kafka.protocol.fetch import FetchRequest
from kafka.protocol.group import JoinGroupRequest_v0
from kafka.protocol.metadata import MetadataRequest_v1
from kafka.protocol.offset import OffsetRequest_v1
from kafka.protocol.produce import ProduceRequest

import kafkatest
import mkbatch
from sluicetest import BIN, Env, result

MECHS = ["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]
PW = {"alice": "alice-pw-7f3a", "bob": "bob-pw-91c2", "ops": "ops-pw-5e1d", "dave": "dave-pw-2b8c"}
TOKENS = {"alice": "tok-alice-0123456789abcdef", "bob": "tok-bob-0123456789abcdef",
          "ops": "tok-ops-0123456789abcdef"}


def user_cmd(conf, *args, password=None):
    return subprocess.run([os.path.join(BIN, "sluice-store"), "user"] + list(args) + ["-c", conf],
                          input=(password + "\n").encode() if password else None,
                          capture_output=True, timeout=60)


def http(st, path, token=None, data=None):
    req = urllib.request.Request(st.url + path, data=data, method="POST" if data is not None else "GET")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def metric(st, name, labels):
    status, body = http(st, "/metrics", TOKENS["alice"])
    assert status == 200, status
    for line in body.decode().splitlines():
        if line.startswith(name + "{") and all('%s="%s"' % kv in line for kv in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def sasl_raw(st, user, pw):
    """A raw connection authenticated with SaslHandshake v1 + SaslAuthenticate PLAIN."""
    raw = kafkatest.RawClient(st)
    r = raw.call(SaslHandShakeRequest_v1("PLAIN"))
    assert r.error_code == 0 and "PLAIN" in r.enabled_mechanisms, r
    r = raw.call(SaslAuthenticateRequest_v1(b"\0%s\0%s" % (user.encode(), pw.encode())))
    return raw, r


def kcat(st, mech, user, *args, data=None):
    argv = ["kcat", "-b", st.bootstrap, "-X", "security.protocol=SASL_PLAINTEXT",
            "-X", "sasl.mechanisms=" + mech, "-X", "sasl.username=" + user,
            "-X", "sasl.password=" + PW[user], "-X", "broker.address.family=v4"] + list(args)
    return subprocess.run(argv, input=data, capture_output=True, timeout=60)


def rdk_conf(st, mech, user, pw=None):
    return {"bootstrap.servers": st.bootstrap, "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanisms": mech, "sasl.username": user,
            "sasl.password": pw if pw is not None else PW[user], "broker.address.family": "v4"}


def check_kcat(st):
    for m in MECHS:
        p = kcat(st, m, "alice", "-P", "-t", "app.kcat", data=("kcat %s\n" % m).encode())
        assert p.returncode == 0, (m, p.stderr)
    p = kcat(st, "SCRAM-SHA-512", "alice", "-C", "-t", "app.kcat", "-e", "-o", "beginning")
    assert p.returncode == 0, p.stderr
    got = sorted(p.stdout.decode().split("\n")[:-1])
    assert got == sorted("kcat " + m for m in MECHS), got


def check_confluent(st):
    for m in MECHS:
        p = Producer(dict(rdk_conf(st, m, "alice"), **{"enable.idempotence": True}))
        errs = []
        for i in range(20):
            p.produce("app.ck", ("%s %d" % (m, i)).encode(),
                      on_delivery=lambda e, msg: errs.append(e) if e else None)
        assert p.flush(30) == 0 and not errs, errs
    c = Consumer(dict(rdk_conf(st, "SCRAM-SHA-256", "alice"),
                      **{"group.id": "alice-ck", "auto.offset.reset": "earliest",
                         "enable.partition.eof": True}))
    c.subscribe(["app.ck"])
    got = []
    while True:
        m = c.poll(30)
        assert m is not None, "no message in 30 s"
        if m.error():
            assert m.error().code() == KafkaError._PARTITION_EOF, m.error()
            break
        got.append(m.value())
    c.commit(asynchronous=False)
    c.close()
    assert len(got) == 60, len(got)
    # wrong password: an authentication error, not a hang
    bad = Producer(dict(rdk_conf(st, "SCRAM-SHA-512", "alice", "nope"),
                        **{"message.timeout.ms": 3000}))
    errs = []
    bad.produce("app.ck", b"x", on_delivery=lambda e, msg: errs.append(e))
    bad.flush(15)
    assert errs and errs[0] is not None, errs


def check_kafka_python(st):
    for m in MECHS:
        kw = dict(bootstrap_servers=st.bootstrap, security_protocol="SASL_PLAINTEXT",
                  sasl_mechanism=m, sasl_plain_username="alice",
                  sasl_plain_password=PW["alice"], api_version=(2, 0, 0))
        p = KafkaProducer(**kw)
        p.send("app.kp", m.encode()).get(timeout=30)
        p.close()
    # read until the three are in, then the consumer must be at the end of
    # every partition (nothing more in the topic): no 5 s idle wait for the end
    c = KafkaConsumer("app.kp", auto_offset_reset="earliest", consumer_timeout_ms=30000, **kw)
    got = []
    for x in c:
        got.append(x.value)
        if len(got) == len(MECHS):
            break
    parts = list(c.assignment())
    ends = c.end_offsets(parts)
    at = {tp: c.position(tp) for tp in parts}
    c.close()
    assert parts and at == ends, (at, ends)
    got.sort()
    assert got == sorted(m.encode() for m in MECHS), got


def check_refusals(st):
    before = metric(st, "sluice_auth_failures_total", {"listener": "kafka",
                                                       "reason": "bad_credentials"})
    raw, r = sasl_raw(st, "alice", "wrong")
    assert r.error_code == 58, r            # SASL_AUTHENTICATION_FAILED
    assert raw.closed_by_peer(), "connection left open after a failed authentication"
    raw.close()
    after = metric(st, "sluice_auth_failures_total", {"listener": "kafka",
                                                      "reason": "bad_credentials"})
    assert after == before + 1, (before, after)
    # no SASL at all: the first non-SASL request closes the connection
    raw = kafkatest.RawClient(st)
    data, _ = raw.encode(MetadataRequest_v1(None))
    raw.send_raw(data)
    assert raw.closed_by_peer(), "unauthenticated Metadata was served"
    raw.close()
    assert metric(st, "sluice_auth_failures_total",
                  {"listener": "kafka", "reason": "unauthenticated"}) >= 1
    # the users file never holds a password
    with open(st.users_file) as f:
        text = f.read()
    assert PW["alice"] not in text and PW["bob"] not in text
    assert stat.S_IMODE(os.stat(st.users_file).st_mode) == 0o600


def check_acl(st):
    # bob writes secret; alice may not read it anywhere
    raw, r = sasl_raw(st, "bob", PW["bob"])
    assert r.error_code == 0, r
    batch = mkbatch.build(mkbatch.seq_records(3))
    resp = raw.call(ProduceRequest[3](None, -1, 10000, [("secret", [(0, batch)])]))
    assert resp.topics[0][1][0][1] == 0, resp
    raw.close()
    raw, r = sasl_raw(st, "alice", PW["alice"])
    assert r.error_code == 0, r
    f = raw.call(FetchRequest[4](-1, 100, 1, 1 << 20, 0, [("secret", [(0, 0, 1 << 20)])]))
    assert f.topics[0][1][0][1] == 29, f    # TOPIC_AUTHORIZATION_FAILED
    lo = raw.call(OffsetRequest_v1(-1, [("secret", [(0, -1)])]))
    assert lo.topics[0][1][0][1] == 29, lo
    md = raw.call(MetadataRequest_v1(["secret"]))
    assert md.topics[0][0] == 29, md
    md = raw.call(MetadataRequest_v1(None))
    names = [t[1] for t in md.topics]
    assert "secret" not in names and "app.kcat" in names, names
    resp = raw.call(ProduceRequest[3](None, -1, 10000, [("secret", [(0, batch)])]))
    assert resp.topics[0][1][0][1] == 29, resp
    raw.close()
    # HTTP: the same principal through her token
    status, _ = http(st, "/v1/topics/secret/partitions/0/records?offset=0", TOKENS["alice"])
    assert status == 403, status
    status, _ = http(st, "/v1/topics/app.kcat/partitions/0/records?offset=0", TOKENS["alice"])
    assert status == 200, status
    status, _ = http(st, "/v1/topics/secret/partitions/0/records?offset=0", "bad-token-xxxxxxxxx")
    assert status == 401, status
    status, body = http(st, "/metrics", TOKENS["alice"])
    assert status == 200 and b'topic="secret"' not in body and b'topic="app.kcat"' in body
    status, body = http(st, "/metrics", TOKENS["bob"])
    assert status == 200 and b'topic="secret"' in body and b'topic="app.kcat"' not in body
    status, body = http(st, "/metrics", TOKENS["ops"])  # cluster admin: everything
    assert status == 200 and b'topic="secret"' in body and b'topic="app.kcat"' in body
    assert metric(st, "sluice_auth_failures_total", {"listener": "kafka", "reason": "denied"}) >= 4
    assert metric(st, "sluice_auth_failures_total", {"listener": "http", "reason": "denied"}) >= 1


def check_producer_ids(st):
    # bob's agent-style producer over HTTP
    status, body = http(st, "/v1/producers", TOKENS["bob"], data=b"")
    assert status == 200, (status, body)
    pid = json.loads(body)["producer_id"]
    assert pid > (1 << 30), pid             # not a small counter
    b0 = mkbatch.build(mkbatch.seq_records(2, 0), producer_id=pid, epoch=0, seq=0)
    status, body = http(st, "/v1/topics/secret/batches", TOKENS["bob"], data=b0)
    assert status == 200, (status, body)
    # alice forges bob's next batch over Kafka
    raw, r = sasl_raw(st, "alice", PW["alice"])
    forged = mkbatch.build([(0, None, b"forged", [])], producer_id=pid, epoch=0, seq=2)
    resp = raw.call(ProduceRequest[3](None, -1, 10000, [("app.forge", [(0, forged)])]))
    assert resp.topics[0][1][0][1] == 49, resp   # INVALID_PRODUCER_ID_MAPPING
    raw.close()
    # and over HTTP with her token
    status, body = http(st, "/v1/topics/app.forge/batches", TOKENS["alice"], data=forged)
    assert status == 403 and b"producer_id_not_owned" in body, (status, body)
    # bob's real batch is stored, not a "duplicate"
    b1 = mkbatch.build(mkbatch.seq_records(2, 2), producer_id=pid, epoch=0, seq=2)
    status, body = http(st, "/v1/topics/secret/batches", TOKENS["bob"], data=b1)
    assert status == 200 and b'"duplicate":false' in body, (status, body)
    assert metric(st, "sluice_auth_failures_total",
                  {"listener": "kafka", "reason": "foreign_producer_id"}) >= 1
    # InitProducerId ids over Kafka are random too
    p = Producer(dict(rdk_conf(st, "PLAIN", "alice"), **{"enable.idempotence": True}))
    p.produce("app.pid", b"x")
    assert p.flush(30) == 0
    return pid


def check_groups(st):
    raw, r = sasl_raw(st, "alice", PW["alice"])
    fc = raw.call(GroupCoordinatorRequest_v0("bob-group"))
    assert fc.error_code == 30, fc           # GROUP_AUTHORIZATION_FAILED
    jg = raw.call(JoinGroupRequest_v0("bob-group", 10000, "", "consumer",
                                      [("range", b"")]))
    assert jg.error_code == 30, jg
    oc = raw.call(OffsetCommitRequest_v2("bob-group", -1, "", -1,
                                         [("app.kcat", [(0, 0, "")])]))
    assert oc.topics[0][1][0][1] == 30, oc
    ok = raw.call(GroupCoordinatorRequest_v0("alice-g"))
    assert ok.error_code == 0, ok
    raw.close()
    # a real consumer in someone else's group fails, not hangs
    c = Consumer(dict(rdk_conf(st, "SCRAM-SHA-512", "alice"),
                      **{"group.id": "bob-group", "auto.offset.reset": "earliest"}))
    c.subscribe(["app.kcat"])
    err = None
    for _ in range(30):
        m = c.poll(1)
        if m is not None and m.error():
            err = m.error()
            break
    c.close()
    assert err is not None and err.code() == KafkaError.GROUP_AUTHORIZATION_FAILED, err


def check_reauth(env, conf_text, users):
    """KIP-368 on a store with kafka.connections_max_reauth: 1500ms."""
    conf = kafkatest.write_conf(env, conf_text.replace(
        "kafka:\n", "kafka:\n  connections_max_reauth: 1500ms\n"), "reauth.yaml")
    st = kafkatest.start_store(env, "-c", conf)
    raw, r = sasl_raw(st, "alice", PW["alice"])
    assert r.error_code == 0 and r.session_lifetime_ms == 1500, r
    t0 = time.monotonic()
    # re-authenticating on the same connection, as the same principal
    raw2 = raw.call(SaslHandShakeRequest_v1("PLAIN"))
    assert raw2.error_code == 0, raw2
    r = raw.call(SaslAuthenticateRequest_v1(b"\0alice\0" + PW["alice"].encode()))
    assert r.error_code == 0, r
    t0 = time.monotonic()
    assert raw.call(MetadataRequest_v1(None)).brokers
    # the session lifetime is the condition under test: wait it out
    time.sleep(max(0.0, 1.7 - (time.monotonic() - t0)))
    data, _ = raw.encode(MetadataRequest_v1(None))
    raw.send_raw(data)
    assert raw.closed_by_peer(), "request after the session expired was served"
    raw.close()
    # re-authenticating as someone else is refused
    raw, r = sasl_raw(st, "alice", PW["alice"])
    raw.call(SaslHandShakeRequest_v1("PLAIN"))
    r = raw.call(SaslAuthenticateRequest_v1(b"\0bob\0" + PW["bob"].encode()))
    assert r.error_code == 58, r
    assert raw.closed_by_peer()
    raw.close()
    # librdkafka keeps producing across session expiries
    p = Producer(rdk_conf(st, "SCRAM-SHA-512", "alice"))
    for i in range(3):
        p.produce("app.reauth", b"r%d" % i)
        assert p.flush(30) == 0
        time.sleep(1.0)
    assert metric(st, "sluice_auth_failures_total",
                  {"listener": "kafka", "reason": "session_expired"}) >= 1
    st.stop()


class Flex:
    """Just enough of the flexible encoding for the SCRAM user APIs, which
    kafka-python 2.0.2 and confluent-kafka 1.7.0 do not have."""

    def __init__(self, data=b""):
        self.b = bytearray(data)
        self.i = 0

    def uv(self, n):
        while n >= 0x80:
            self.b.append((n & 0x7f) | 0x80)
            n >>= 7
        self.b.append(n)
        return self

    def raw(self, fmt, *v):
        self.b += struct.pack(fmt, *v)
        return self

    def str(self, t):
        return self.uv(len(t) + 1).raw("%ds" % len(t), t.encode())

    def bytes(self, t):
        return self.uv(len(t) + 1).raw("%ds" % len(t), t)

    def get_uv(self):
        n = shift = 0
        while True:
            c = self.b[self.i]
            self.i += 1
            n |= (c & 0x7f) << shift
            shift += 7
            if c < 0x80:
                return n

    def get(self, fmt):
        v = struct.unpack_from(">" + fmt, self.b, self.i)[0]
        self.i += struct.calcsize(">" + fmt)
        return v

    def get_str(self):
        n = self.get_uv() - 1
        if n < 0:
            return None
        v = bytes(self.b[self.i:self.i + n]).decode()
        self.i += n
        return v


def flex_call(raw, key, body):
    raw.corr += 1
    hdr = struct.pack(">hhih", key, 0, raw.corr, 4) + b"test" + b"\0"
    raw.send_raw(struct.pack(">i", len(hdr) + len(body)) + hdr + bytes(body))
    r = Flex(raw.recv_frame())
    assert r.get("i") == raw.corr
    r.get_uv()  # response header tags
    return r


def describe_users(raw, names=None):
    b = Flex()
    if names is None:
        b.uv(0)
    else:
        b.uv(len(names) + 1)
        for n in names:
            b.str(n).uv(0)
    r = flex_call(raw, 50, b.uv(0).b)
    r.get("i")
    top = r.get("h")
    r.get_str()
    out = {}
    for _ in range(r.get_uv() - 1):
        name, err, _msg = r.get_str(), r.get("h"), r.get_str()
        creds = []
        for _ in range(r.get_uv() - 1):
            creds.append((r.get("b"), r.get("i")))
            r.get_uv()
        r.get_uv()
        out[name] = (err, sorted(creds))
    return top, out


def alter_users(raw, deletions=(), upserts=()):
    b = Flex().uv(len(deletions) + 1)
    for name, mech in deletions:
        b.str(name).raw(">b", mech).uv(0)
    b.uv(len(upserts) + 1)
    for name, mech, iters, salt, salted in upserts:
        b.str(name).raw(">bi", mech, iters).bytes(salt).bytes(salted).uv(0)
    r = flex_call(raw, 51, b.uv(0).b)
    r.get("i")
    out = {}
    for _ in range(r.get_uv() - 1):
        name, err, _msg = r.get_str(), r.get("h"), r.get_str()
        r.get_uv()
        out[name] = err
    return out


def check_scram_admin(st):
    """Describe/AlterUserScramCredentials: cluster admin only; an upserted
    user logs in at once, a deleted credential stops working."""
    raw, r = sasl_raw(st, "bob", PW["bob"])
    top, _ = describe_users(raw)
    assert top == 31, top                    # CLUSTER_AUTHORIZATION_FAILED
    raw.close()
    raw, r = sasl_raw(st, "ops", PW["ops"])
    assert r.error_code == 0, r
    top, users = describe_users(raw)
    assert top == 0 and users["alice"] == (0, [(1, 4096), (2, 4096)]), users
    top, users = describe_users(raw, ["nobody"])
    assert users["nobody"][0] == 91, users   # RESOURCE_NOT_FOUND
    salt = os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha512", PW["dave"].encode(), salt, 8192)
    res = alter_users(raw, upserts=[("dave", 2, 8192, salt, salted)])
    assert res == {"dave": 0}, res
    res = alter_users(raw, upserts=[("dave", 2, 100, salt, salted)])
    assert res == {"dave": 93}, res          # UNACCEPTABLE_CREDENTIAL
    p = kcat(st, "SCRAM-SHA-512", "dave", "-L")
    assert p.returncode == 0, p.stderr
    with open(st.users_file) as f:
        assert "dave SCRAM-SHA-512 8192 " in f.read()
    res = alter_users(raw, deletions=[("dave", 2)])
    assert res == {"dave": 0}, res
    raw.close()
    raw, r = sasl_raw(st, "dave", PW["dave"])
    assert r.error_code == 58, r
    raw.close()


def check_acl_apis(st):
    """DescribeAcls/CreateAcls/DeleteAcls through kafka-python's admin client
    read and change the one ACL file; comments in it survive."""
    from kafka.admin import (ACL, ACLFilter, ACLOperation, ACLPermissionType,
                             ACLResourcePatternType, KafkaAdminClient, ResourcePattern,
                             ResourcePatternFilter, ResourceType)
    from kafka.errors import ClusterAuthorizationFailedError

    def admin(user):
        return KafkaAdminClient(bootstrap_servers=st.bootstrap, security_protocol="SASL_PLAINTEXT",
                                sasl_mechanism="PLAIN", sasl_plain_username=user,
                                sasl_plain_password=PW[user])

    def everything(principal=None):
        return ACLFilter(principal=principal, host="*", operation=ACLOperation.ANY,
                         permission_type=ACLPermissionType.ANY,
                         resource_pattern=ResourcePatternFilter(ResourceType.ANY, None,
                                                                ACLResourcePatternType.ANY))

    a = admin("ops")
    acls, err = a.describe_acls(everything())
    got = {(x.principal, x.resource_pattern.resource_type, x.resource_pattern.resource_name,
            x.resource_pattern.pattern_type, x.operation) for x in acls}
    assert ("User:alice", ResourceType.TOPIC, "app", ACLResourcePatternType.PREFIXED,
            ACLOperation.WRITE) in got, got
    assert ("User:ops", ResourceType.CLUSTER, "kafka-cluster", ACLResourcePatternType.LITERAL,
            ACLOperation.ALL) in got, got
    carol = ACL("User:carol", "*", ACLOperation.READ, ACLPermissionType.ALLOW,
                ResourcePattern(ResourceType.TOPIC, "app.kcat", ACLResourcePatternType.LITERAL))
    res = a.create_acls([carol])
    assert len(res["succeeded"]) == 1 and not res["failed"], res
    acls, err = a.describe_acls(everything("User:carol"))
    assert [(x.resource_pattern.resource_name, x.operation) for x in acls] == \
        [("app.kcat", ACLOperation.READ)], acls
    deny = ACL("User:carol", "*", ACLOperation.READ, ACLPermissionType.DENY,
               ResourcePattern(ResourceType.TOPIC, "x", ACLResourcePatternType.LITERAL))
    res = a.create_acls([deny])
    assert len(res["failed"]) == 1, res
    res = a.delete_acls([everything("User:carol")])
    assert len(res[0][1]) == 1, res
    acls, err = a.describe_acls(everything("User:carol"))
    assert acls == [], acls
    a.close()
    with open(st.acl_file) as f:
        text = f.read()
    assert text.startswith("# principal resource permissions\n"), text
    assert "carol" not in text, text
    b = admin("bob")
    try:
        b.describe_acls(everything())
        raise AssertionError("bob listed the ACLs")
    except ClusterAuthorizationFailedError:
        pass
    b.close()


def main():
    with Env() as env:
        users = env.path("users")
        acl = env.path("acl")
        tokens = env.path("tokens")
        with open(acl, "w") as f:
            f.write("# principal resource permissions\n"
                    "User:alice app* produce,consume\n"
                    "User:alice group:alice-* consume\n"
                    "User:bob   secret produce,consume\n"
                    "User:bob   group:bob-* consume\n"
                    "User:ops   cluster admin\n")
        with open(tokens, "w") as f:
            f.write("".join("%s User:%s\n" % (t, u) for u, t in TOKENS.items()))
        os.chmod(tokens, 0o600)
        conf_text = ("kafka:\n  sasl: [SCRAM-SHA-512, SCRAM-SHA-256, PLAIN]\n"
                     "http:\n  tokens_file: %s\n"
                     "auth:\n  users_file: %s\n  acl_file: %s\n"
                     # one consumer per group: no use waiting 3 s for more members
                     "groups:\n  initial_rebalance_delay: 0\n") % (tokens, users, acl)
        conf = kafkatest.write_conf(env, conf_text)
        for u in ("alice", "bob", "ops"):
            p = user_cmd(conf, "add", u, password=PW[u])
            assert p.returncode == 0, p.stderr
        p = user_cmd(conf, "add", "carol")  # no password on stdin
        assert p.returncode != 0
        st = kafkatest.start_store(env, "-c", conf)
        st.users_file = users
        check_kcat(st)
        check_confluent(st)
        check_kafka_python(st)
        check_refusals(st)
        check_acl(st)
        pid = check_producer_ids(st)
        check_groups(st)
        check_scram_admin(st)
        st.acl_file = acl
        check_acl_apis(st)
        check_reauth(env, conf_text, users)
        # user remove + SIGHUP: bob is locked out without a restart
        p = user_cmd(conf, "remove", "bob")
        assert p.returncode == 0, p.stderr
        st.proc.send_signal(signal.SIGHUP)
        kafkatest.wait_for(lambda: "SIGHUP: 2 SASL users" in st.log(), 20, "users reloaded")
        raw, r = sasl_raw(st, "bob", PW["bob"])
        assert r.error_code == 58, r
        raw.close()
        kafkatest.restart(st)
        raw, r = sasl_raw(st, "bob", PW["bob"])
        assert r.error_code == 58, r
        raw.close()
        raw, r = sasl_raw(st, "alice", PW["alice"])
        assert r.error_code == 0, r
        raw.close()
        result("kcat, confluent-kafka, kafka-python over SASL_PLAINTEXT x %d mechanisms; "
               "refusals: bad password, unauthenticated, topic, group, producer id %d; "
               "KIP-368 session expiry and re-authentication; "
               "Describe/AlterUserScramCredentials; Describe/Create/DeleteAcls" % (len(MECHS), pid))
    return 0


if __name__ == "__main__":
    sys.exit(main())
