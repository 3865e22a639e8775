# SPDX-License-Identifier: Apache-2.0
"""The APIs on the schema framework (store/kafka/kschema.h) at their flexible
versions, over raw frames written from Kafka's JSON specs, against a real
sluice-store:

ApiVersions v4 (header v0 response, the advertised ranges); Metadata v12
by name (topic id non-zero, stable across a restart, new after the topic is
deleted and created again), by topic id only (the name comes back), an
unknown id (UNKNOWN_TOPIC_ID), authorized operations only when asked
(INT32_MIN otherwise); DescribeCluster v1 (this broker is the cluster and
its controller; a controller endpoint type is MISMATCHED_ENDPOINT_TYPE);
a tagged field the store does not know is skipped; and kcat -L (librdkafka)
still lists the topics.
"""
# harness: quick
import struct
import subprocess
import sys

from kafka.admin import KafkaAdminClient, NewTopic

import kafkatest
from sluicetest import Env, result


def uvarint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def cstr(s):
    if s is None:
        return b"\x00"
    b = s.encode()
    return uvarint(len(b) + 1) + b


def header(key, ver, corr, flex=True):
    h = struct.pack(">hhi", key, ver, corr) + struct.pack(">h", 6) + b"schema"
    return h + (b"\x00" if flex else b"")


class R:
    """Reader of a flexible response body."""

    def __init__(self, b):
        self.b, self.i = b, 0

    def take(self, n):
        v = self.b[self.i:self.i + n]
        assert len(v) == n, "short response"
        self.i += n
        return v

    def i8(self):
        return struct.unpack(">b", self.take(1))[0]

    def i16(self):
        return struct.unpack(">h", self.take(2))[0]

    def i32(self):
        return struct.unpack(">i", self.take(4))[0]

    def uv(self):
        n, s = 0, 0
        while True:
            c = self.take(1)[0]
            n |= (c & 0x7F) << s
            s += 7
            if not c & 0x80:
                return n

    def cstr(self):
        n = self.uv()
        return None if n == 0 else self.take(n - 1).decode()

    def tags(self):
        for _ in range(self.uv()):
            self.uv()
            self.take(self.uv())

    def done(self):
        assert self.i == len(self.b), "%d bytes left" % (len(self.b) - self.i)


def call(raw, key, ver, body, flex_header=True):
    raw.corr += 1
    frame = header(key, ver, raw.corr) + body
    raw.send_raw(struct.pack(">i", len(frame)) + frame)
    resp = raw.recv_frame()
    assert struct.unpack(">i", resp[:4])[0] == raw.corr
    # response header v1 (a tag section) except ApiVersions (v0)
    r = R(resp[4:])
    if flex_header:
        r.tags()
    return r


def metadata_v12(raw, topics, topic_ops=False):
    """topics: list of (name or None, 16-byte id); None: every topic."""
    if topics is None:
        body = b"\x00"
    else:
        body = uvarint(len(topics) + 1)
        for name, tid in topics:
            body += tid + cstr(name) + b"\x00"
    body += b"\x00" + (b"\x01" if topic_ops else b"\x00") + b"\x00"
    r = call(raw, 3, 12, body)
    r.i32()  # throttle
    for _ in range(r.uv() - 1):
        r.i32(), r.cstr(), r.i32(), r.cstr()
        r.tags()
    cluster, controller = r.cstr(), r.i32()
    out = []
    for _ in range(r.uv() - 1):
        err, name, tid, _internal = r.i16(), r.cstr(), r.take(16), r.i8()
        parts = []
        for _ in range(r.uv() - 1):
            perr, idx, leader, epoch = r.i16(), r.i32(), r.i32(), r.i32()
            for _ in range(3):
                [r.i32() for _ in range(r.uv() - 1)]
            r.tags()
            parts.append((perr, idx, leader, epoch))
        ops = r.i32()
        r.tags()
        out.append({"error": err, "name": name, "id": tid, "parts": parts, "ops": ops})
    r.tags()
    r.done()
    return cluster, controller, out


def check_apiversions(raw):
    raw.corr += 1
    frame = header(18, 4, raw.corr) + cstr("schema-test") + cstr("1.0") + b"\x00"
    raw.send_raw(struct.pack(">i", len(frame)) + frame)
    resp = raw.recv_frame()
    r = R(resp[4:])  # ApiVersions answers with response header v0
    err = r.i16()
    ranges = {}
    for _ in range(r.uv() - 1):
        k, lo, hi = r.i16(), r.i16(), r.i16()
        r.tags()
        ranges[k] = (lo, hi)
    r.i32()
    r.tags()
    r.done()
    assert err == 0, err
    assert ranges[18] == (0, 4) and ranges[3] == (0, 12), ranges
    assert ranges[60] == (0, 1) and ranges[29] == (0, 3), ranges
    result("ApiVersions v4: header v0, Metadata 0-12, DescribeCluster 0-1, ACLs 0-3")


def check_describe_cluster(raw, cluster_id):
    r = call(raw, 60, 1, b"\x01\x01\x00")
    r.i32()
    err, msg, etype, cid, ctl = r.i16(), r.cstr(), r.i8(), r.cstr(), r.i32()
    brokers = []
    for _ in range(r.uv() - 1):
        brokers.append((r.i32(), r.cstr(), r.i32(), r.cstr()))
        r.tags()
    ops = r.i32()
    r.tags()
    r.done()
    assert (err, etype, cid, ctl) == (0, 1, cluster_id, 0), (err, msg, etype, cid, ctl)
    assert len(brokers) == 1 and brokers[0][0] == 0, brokers
    assert ops != -2147483648 and ops > 0, ops
    r = call(raw, 60, 1, b"\x00\x02\x00")
    r.i32()
    err = r.i16()
    assert err == 114, err  # MISMATCHED_ENDPOINT_TYPE
    result("DescribeCluster v1: cluster %s, controller 0, 1 broker, ops 0x%x; controllers"
           " endpoint -> 114" % (cid, ops))


def main():
    with Env() as env:
        st = env.start_store()
        admin = KafkaAdminClient(bootstrap_servers=st.bootstrap, client_id="schema-test")
        admin.create_topics([NewTopic("ids-a", 3, 1), NewTopic("ids-b", 1, 1)])
        admin.close()
        raw = kafkatest.RawClient(st)
        check_apiversions(raw)

        cluster, ctl, topics = metadata_v12(raw, [("ids-a", bytes(16))])
        a = topics[0]
        assert a["error"] == 0 and a["name"] == "ids-a" and len(a["parts"]) == 3, a
        assert a["id"] != bytes(16), "topic id all-zero"
        assert a["ops"] == -2147483648, a["ops"]  # not asked
        assert ctl == 0
        check_describe_cluster(raw, cluster)

        # by id only; an unknown id; every topic with ops asked
        _, _, t = metadata_v12(raw, [(None, a["id"]), (None, b"\x42" * 16)], topic_ops=True)
        assert t[0]["error"] == 0 and t[0]["name"] == "ids-a" and t[0]["id"] == a["id"], t[0]
        assert t[0]["ops"] > 0, t[0]["ops"]
        assert t[1]["error"] == 100 and t[1]["name"] is None, t[1]  # UNKNOWN_TOPIC_ID
        _, _, every = metadata_v12(raw, None)
        ids = {x["name"]: x["id"] for x in every}
        assert set(ids) >= {"ids-a", "ids-b"} and ids["ids-a"] == a["id"], ids
        assert ids["ids-a"] != ids["ids-b"]
        result("Metadata v12: ids by name, name by id, unknown id -> 100, ops only when asked")

        # an unknown tag in the request's tag section is skipped
        body = b"\x02" + bytes(16) + cstr("ids-b") + b"\x00" + b"\x00\x00" + \
            b"\x01" + uvarint(77) + b"\x03xyz"
        r = call(raw, 3, 12, body)
        assert r.i32() == 0
        raw.close()

        # stable across a restart; new after delete + re-create
        st.restart()
        raw = kafkatest.RawClient(st)
        _, _, t = metadata_v12(raw, [("ids-a", bytes(16))])
        assert t[0]["id"] == a["id"], "topic id changed across a restart"
        raw.close()
        admin = KafkaAdminClient(bootstrap_servers=st.bootstrap, client_id="schema-test")
        admin.delete_topics(["ids-a"])
        admin.create_topics([NewTopic("ids-a", 2, 1)])
        admin.close()
        raw = kafkatest.RawClient(st)
        _, _, t = metadata_v12(raw, [("ids-a", bytes(16)), (None, a["id"])])
        assert t[0]["error"] == 0 and t[0]["id"] not in (a["id"], bytes(16)), t[0]
        assert t[1]["error"] == 100, t[1]
        raw.close()
        result("topic id: same after a restart, new after delete + re-create, old id unknown")

        out = subprocess.run(["kcat", "-b", st.bootstrap, "-L"], capture_output=True,
                             text=True, timeout=60)
        assert out.returncode == 0 and 'topic "ids-a" with 2 partitions' in out.stdout, out
        result("kcat -L lists the topics")
    return 0


if __name__ == "__main__":
    sys.exit(main())
