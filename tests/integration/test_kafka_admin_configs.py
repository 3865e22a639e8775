# SPDX-License-Identifier: Apache-2.0
"""Topic configs and partitions administered over the Kafka protocol.

confluent-kafka's AdminClient (librdkafka) creates topics with configs Kafka
accepts but the store only records (compression.type=lz4,
cleanup.policy=compact, delete.retention.ms) and one it honours
(message.timestamp.type=LogAppendTime); unknown names and invalid values are
refused with INVALID_CONFIG.  DescribeConfigs reports overrides and
defaults (and read-only broker configs).  AlterConfigs lowers retention.ms
on a topic whose segments hold hour-old records: the next retention pass
removes them (the low watermark moves).  IncrementalAlterConfigs (raw v0
frames: this confluent-kafka predates it) switches a topic to
LogAppendTime: records produced next are consumed with the append time and
type LOG_APPEND_TIME.  CreatePartitions grows a topic (Metadata shows the
new partition at once, a producer writes to it), refuses to shrink it, and
validate_only changes nothing.  DescribeLogDirs (raw v1) reports the data
directory and per-partition sizes.  CreateTopics v7 and DeleteTopics v6
(hand-built flexible frames) create a topic, return its id and delete it by
that id.  After kill -9 and a restart every
config and partition count is as it was and still in effect.
"""
import socket
import struct
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TIMESTAMP_CREATE_TIME
from confluent_kafka import TIMESTAMP_LOG_APPEND_TIME
from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic
from kafka.protocol.api import Request, Response
from kafka.protocol.types import Array, Boolean, Int8, Int16, Int32, Int64, Schema, String

import kafkatest
from harness import wait_until
from sluicetest import Env, result

CONF = "log:\n  retention_check: 200ms\n"
S = String("utf-8")


class IncrementalAlterConfigsResponse_v0(Response):
    API_KEY = 44
    API_VERSION = 0
    SCHEMA = Schema(("throttle_time_ms", Int32),
                    ("resources", Array(("error_code", Int16), ("error_message", S),
                                        ("resource_type", Int8), ("resource_name", S))))


class IncrementalAlterConfigsRequest_v0(Request):
    API_KEY = 44
    API_VERSION = 0
    RESPONSE_TYPE = IncrementalAlterConfigsResponse_v0
    SCHEMA = Schema(("resources", Array(("resource_type", Int8), ("resource_name", S),
                                        ("configs", Array(("name", S), ("op", Int8),
                                                          ("value", S))))),
                    ("validate_only", Boolean))


class DescribeLogDirsResponse_v1(Response):
    API_KEY = 35
    API_VERSION = 1
    SCHEMA = Schema(("throttle_time_ms", Int32),
                    ("results", Array(("error_code", Int16), ("log_dir", S),
                                      ("topics", Array(("name", S),
                                                       ("partitions", Array(
                                                           ("partition", Int32),
                                                           ("size", Int64), ("lag", Int64),
                                                           ("future", Boolean))))))))


class DescribeLogDirsRequest_v1(Request):
    API_KEY = 35
    API_VERSION = 1
    RESPONSE_TYPE = DescribeLogDirsResponse_v1
    SCHEMA = Schema(("topics", Array(("topic", S), ("partitions", Array(Int32)))))


# ---- flexible (compact) frames by hand: kafka-python 2.0.2 has no compact types

def _uv(n):
    out = b""
    while True:
        b, n = n & 0x7F, n >> 7
        if not n:
            return out + bytes([b])
        out += bytes([b | 0x80])


def _cs(x):
    return _uv(0) if x is None else _uv(len(x) + 1) + x.encode()


def _carr(items):
    return _uv(len(items) + 1) + b"".join(items)


class _Reader:
    def __init__(self, b):
        self.b, self.p = b, 0

    def take(self, n):
        v = self.b[self.p:self.p + n]
        self.p += n
        return v

    def i8(self):
        return struct.unpack(">b", self.take(1))[0]

    def i16(self):
        return struct.unpack(">h", self.take(2))[0]

    def i32(self):
        return struct.unpack(">i", self.take(4))[0]

    def uv(self):
        n = sh = 0
        while True:
            c = self.take(1)[0]
            n |= (c & 0x7F) << sh
            sh += 7
            if not c & 0x80:
                return n

    def cs(self):
        n = self.uv()
        return None if n == 0 else self.take(n - 1).decode()

    def tags(self):
        for _ in range(self.uv()):
            self.uv()
            self.take(self.uv())

    def carr(self, f):
        n = self.uv()
        return None if n == 0 else [f() for _ in range(n - 1)]


def flex_call(st, key, version, body):
    """One request with header v2; the response body after header v1."""
    frame = struct.pack(">hhi", key, version, 7) + struct.pack(">h", 5) + b"admin" + b"\0" + body
    sk = socket.create_connection(("127.0.0.1", st.kafka_port), timeout=10)
    try:
        sk.sendall(struct.pack(">i", len(frame)) + frame)
        n = struct.unpack(">i", sk.recv(4, socket.MSG_WAITALL))[0]
        data = sk.recv(n, socket.MSG_WAITALL)
    finally:
        sk.close()
    r = _Reader(data)
    assert r.i32() == 7
    r.tags()
    return r


def check_topic_ids(st, a):
    """CreateTopics v7 answers the new topic's id; DeleteTopics v6 deletes by it."""
    t = _cs("byid") + struct.pack(">ih", 2, 1) + _carr([]) + \
        _carr([_cs("cleanup.policy") + _cs("compact") + b"\0"]) + b"\0"
    r = flex_call(st, 19, 7, _carr([t]) + struct.pack(">i", 30000) + b"\0\0")
    r.i32()

    def created():
        name, tid, err, msg = r.cs(), r.take(16), r.i16(), r.cs()
        nparts, rf = r.i32(), r.i16()
        cfgs = r.carr(lambda: (r.cs(), r.cs(), r.i8(), r.i8(), r.i8(), r.tags())[:2])
        r.tags()
        return name, tid, err, msg, nparts, rf, dict(cfgs or [])
    (name, tid, err, msg, nparts, rf, cfgs), = r.carr(created)
    assert (name, err, nparts, rf) == ("byid", 0, 2, 1), (name, err, msg, nparts, rf)
    assert tid != bytes(16) and cfgs["cleanup.policy"] == "compact", (tid, cfgs)
    assert describe(a, "byid")["cleanup.policy"].value == "compact"

    def deleted(r):
        def one():
            v = (r.cs(), r.take(16), r.i16(), r.cs())
            r.tags()
            return v
        r.i32()
        return r.carr(one)
    both = _carr([_cs("byid") + tid + b"\0"])
    (_, _, err, msg), = deleted(flex_call(st, 20, 6, both + struct.pack(">i", 30000) + b"\0"))
    assert err == 42, (err, msg)  # INVALID_REQUEST: name and id together
    gone = _carr([_cs(None) + bytes(15) + b"\x01" + b"\0"])
    (_, _, err, _), = deleted(flex_call(st, 20, 6, gone + struct.pack(">i", 30000) + b"\0"))
    assert err == 100, err  # UNKNOWN_TOPIC_ID
    by_id = _carr([_cs(None) + tid + b"\0"])
    (dname, did, err, msg), = deleted(flex_call(st, 20, 6, by_id + struct.pack(">i", 30000) + b"\0"))
    assert (dname, did, err) == ("byid", tid, 0), (dname, did, err, msg)
    wait_until(lambda: "byid" not in a.list_topics(timeout=10).topics, 10, "byid deleted")
    result("CreateTopics v7 returns the topic id (and configs); DeleteTopics v6 by id deletes "
           "it; name and id together INVALID_REQUEST; an unknown id UNKNOWN_TOPIC_ID")


def admin(st):
    return AdminClient({"bootstrap.servers": st.bootstrap, "broker.address.family": "v4"})


def create(a, topics):
    """{name: None or the KafkaError code} for each NewTopic."""
    out = {}
    for name, fut in a.create_topics(topics, operation_timeout=10).items():
        try:
            fut.result(30)
            out[name] = None
        except KafkaException as e:
            out[name] = e.args[0]
    return out


def describe(a, topic):
    res = ConfigResource(ConfigResource.Type.TOPIC, topic)
    return a.describe_configs([res])[res].result(30)


def produce(st, topic, values, partition=-1, ts=0):
    p = Producer({"bootstrap.servers": st.bootstrap, "broker.address.family": "v4",
                  "linger.ms": 0})
    errs = []
    for v in values:
        kw = {"timestamp": ts} if ts else {}
        p.produce(topic, value=v, partition=partition,
                  on_delivery=lambda e, m: errs.append(e) if e else None, **kw)
        p.flush(30)  # one batch each: the segment tests count batches
    assert p.flush(30) == 0 and not errs, errs


def consume(st, topic, n, partition=0, start=0):
    from confluent_kafka import TopicPartition
    c = Consumer({"bootstrap.servers": st.bootstrap, "group.id": "g-%d" % time.time_ns(),
                  "enable.auto.commit": False, "broker.address.family": "v4"})
    c.assign([TopicPartition(topic, partition, start)])
    got = []
    deadline = time.time() + 60
    while len(got) < n and time.time() < deadline:
        m = c.poll(1.0)
        if m is None:
            continue
        if m.error():
            raise KafkaException(m.error())
        got.append(m)
    c.close()
    assert len(got) == n, "consumed %d of %d from %s" % (len(got), n, topic)
    return got


def incremental(st, topic, changes, validate_only=False):
    cli = kafkatest.RawClient(st)
    try:
        r = cli.call(IncrementalAlterConfigsRequest_v0(
            resources=[(2, topic, changes)], validate_only=validate_only))
    finally:
        cli.close()
    return r.resources[0][0], r.resources[0][1]


def low_watermark(st, topic, partition=0):
    from confluent_kafka import TopicPartition
    c = Consumer({"bootstrap.servers": st.bootstrap, "group.id": "wm",
                  "broker.address.family": "v4"})
    try:
        return c.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)[0]
    finally:
        c.close()


def check_create(st, a):
    got = create(a, [
        NewTopic("cfg", 2, 1, config={"compression.type": "lz4", "cleanup.policy": "compact",
                                      "message.timestamp.type": "LogAppendTime",
                                      "delete.retention.ms": "100",
                                      "min.insync.replicas": "1"}),
        NewTopic("ts", 1, 1),
        NewTopic("ret", 1, 1, config={"segment.ms": "100"}),
        NewTopic("bad1", 1, 1, config={"compression.type": "brotli"}),
        NewTopic("bad2", 1, 1, config={"no.such.config": "1"}),
        NewTopic("bad3", 1, 1, config={"retention.ms": "abc"}),
        NewTopic("bad4", 1, 1, config={"segment.bytes": "1000"}),
    ])
    for t in ("cfg", "ts", "ret"):
        assert got[t] is None, (t, got[t])
    for t in ("bad1", "bad2", "bad3", "bad4"):
        assert got[t] is not None and got[t].code() == KafkaError.INVALID_CONFIG, (t, got[t])
    assert "Unknown topic config name: no.such.config" in got["bad2"].str(), got["bad2"].str()
    assert "String must be one of" in got["bad1"].str(), got["bad1"].str()
    md = a.list_topics(timeout=10)
    assert not any(t.startswith("bad") for t in md.topics), list(md.topics)

    d = describe(a, "cfg")
    assert d["compression.type"].value == "lz4" and not d["compression.type"].is_default
    assert d["cleanup.policy"].value == "compact"
    assert d["delete.retention.ms"].value == "100"
    assert d["message.timestamp.type"].value == "LogAppendTime"
    assert d["segment.jitter.ms"].is_default and d["segment.jitter.ms"].value == "0"
    assert d["retention.ms"].is_default
    res = ConfigResource(ConfigResource.Type.BROKER, "0")
    b = a.describe_configs([res])[res].result(30)
    assert b["num.partitions"].value == "1" and b["num.partitions"].is_read_only, b
    result("create_topics: 3 created with lz4/compact/LogAppendTime/delete.retention.ms; "
           "brotli, an unknown name, a non-number and a too-small segment.bytes refused with "
           "INVALID_CONFIG; describe_configs reports overrides and defaults")


def check_log_append_time(st):
    t0 = int(time.time() * 1000)
    produce(st, "cfg", [b"a", b"b"], partition=0, ts=1000)
    for m in consume(st, "cfg", 2):
        typ, ts = m.timestamp()
        assert typ == TIMESTAMP_LOG_APPEND_TIME and ts >= t0 - 1000, (typ, ts)
    # an hour old: inside the 7-day retention, which runs every 200 ms here
    old = t0 - 3600 * 1000
    produce(st, "ts", [b"old"], ts=old)
    m = consume(st, "ts", 1)[0]
    assert m.timestamp() == (TIMESTAMP_CREATE_TIME, old), m.timestamp()
    err, msg = incremental(st, "ts", [("message.timestamp.type", 0, "LogAppendTime")],
                           validate_only=True)
    assert err == 0, (err, msg)
    err, msg = incremental(st, "ts", [("message.timestamp.type", 0, "Sometimes")])
    assert err == 40 and "String must be one of" in msg, (err, msg)
    err, msg = incremental(st, "ts", [("retention.ms", 2, "5")])
    assert err == 40, (err, msg)  # APPEND on a non-list
    err, msg = incremental(st, "ts", [("message.timestamp.type", 0, "LogAppendTime"),
                                      ("cleanup.policy", 2, "compact")])
    assert err == 0, (err, msg)
    t1 = int(time.time() * 1000)
    produce(st, "ts", [b"new"], ts=1000)
    m = consume(st, "ts", 2)[1]
    typ, ts = m.timestamp()
    assert typ == TIMESTAMP_LOG_APPEND_TIME and ts >= t1 - 1000, (typ, ts)
    result("LogAppendTime: records of a LogAppendTime topic and of one switched live by "
           "IncrementalAlterConfigs are consumed with the append time, LOG_APPEND_TIME")


def check_retention(st, a):
    old = int(time.time() * 1000) - 3600 * 1000
    for i in range(3):
        start = time.time()
        produce(st, "ret", [b"r%d" % i], ts=old + i)
        # segment.ms=100: the next append rolls once the segment is that old
        wait_until(lambda: time.time() - start > 0.15, 5, "segment age")
    assert low_watermark(st, "ret") == 0
    res = ConfigResource(ConfigResource.Type.TOPIC, "ret",
                         set_config={"retention.ms": "60000", "segment.ms": "100"})
    a.alter_configs([res])[res].result(30)
    wait_until(lambda: low_watermark(st, "ret") >= 2, 30, "retention after retention.ms=60000")
    d = describe(a, "ret")
    assert d["retention.ms"].value == "60000" and not d["retention.ms"].is_default
    result("alter_configs retention.ms 7d -> 60s: the hour-old segments are deleted at the "
           "next retention pass (low watermark %d)" % low_watermark(st, "ret"))


def check_partitions(st, a):
    fs = a.create_partitions([NewPartitions("cfg", 4)], operation_timeout=10)
    fs["cfg"].result(30)
    assert len(a.list_topics("cfg", timeout=10).topics["cfg"].partitions) == 4
    produce(st, "cfg", [b"p3"], partition=3)
    assert consume(st, "cfg", 1, partition=3)[0].value() == b"p3"
    for n, code in ((3, KafkaError.INVALID_PARTITIONS), (4, KafkaError.INVALID_PARTITIONS)):
        try:
            a.create_partitions([NewPartitions("cfg", n)])["cfg"].result(30)
            raise AssertionError("create_partitions to %d accepted" % n)
        except KafkaException as e:
            assert e.args[0].code() == code, e
    a.create_partitions([NewPartitions("cfg", 6)], validate_only=True)["cfg"].result(30)
    assert len(a.list_topics("cfg", timeout=10).topics["cfg"].partitions) == 4
    try:
        a.create_partitions([NewPartitions("nope", 2)])["nope"].result(30)
        raise AssertionError("unknown topic grown")
    except KafkaException as e:
        assert e.args[0].code() == KafkaError.UNKNOWN_TOPIC_OR_PART, e
    result("create_partitions 2 -> 4: Metadata shows 4 at once, produce/consume on "
           "partition 3; shrink and same count INVALID_PARTITIONS; validate_only changes nothing")


def check_log_dirs(st):
    cli = kafkatest.RawClient(st)
    try:
        r = cli.call(DescribeLogDirsRequest_v1(topics=[("cfg", [0, 3, 99])]))
        every = cli.call(DescribeLogDirsRequest_v1(topics=None))
    finally:
        cli.close()
    (err, logdir, topics), = r.results
    assert err == 0 and logdir == st.data_dir, (err, logdir, st.data_dir)
    (name, parts), = topics
    sizes = {p[0]: p[1] for p in parts}
    assert name == "cfg" and set(sizes) == {0, 3} and sizes[0] > 0 and sizes[3] > 0, sizes
    names = {t[0] for t in every.results[0][2]}
    assert {"cfg", "ts", "ret"} <= names, names
    result("DescribeLogDirs v1: the data dir, sizes of cfg-0 %d and cfg-3 %d bytes, partition "
           "99 left out, every topic when none named" % (sizes[0], sizes[3]))


def check_restart(st):
    st.restart(kill=True)
    a = admin(st)
    d = describe(a, "cfg")
    assert d["compression.type"].value == "lz4" and d["cleanup.policy"].value == "compact"
    assert d["delete.retention.ms"].value == "100"
    assert describe(a, "ts")["message.timestamp.type"].value == "LogAppendTime"
    assert describe(a, "ts")["cleanup.policy"].value == "delete,compact"
    assert describe(a, "ret")["retention.ms"].value == "60000"
    assert len(a.list_topics("cfg", timeout=10).topics["cfg"].partitions) == 4
    t1 = int(time.time() * 1000)
    produce(st, "ts", [b"after"], ts=1000)
    m = consume(st, "ts", 3)[2]
    assert m.timestamp()[0] == TIMESTAMP_LOG_APPEND_TIME and m.timestamp()[1] >= t1 - 1000
    result("after kill -9: every config, the 4 partitions and LogAppendTime still in effect")


def main():
    with Env() as env:
        st = kafkatest.start_store(env, conf=CONF)
        a = admin(st)
        check_create(st, a)
        check_log_append_time(st)
        check_retention(st, a)
        check_partitions(st, a)
        check_log_dirs(st)
        check_topic_ids(st, a)
        check_restart(st)


if __name__ == "__main__":
    main()
