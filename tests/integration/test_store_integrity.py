# SPDX-License-Identifier: Apache-2.0
"""Data loss and integrity (issue 16, items 1-6), with real clients:

1. Records with timestamp -1 (confluent-kafka/librdkafka, and a raw batch
   with librdkafka's header: FirstTimestamp -1, MaxTimestamp 0) survive
   `retention_check: 1s`: the low watermark stays 0.
2. A topic created (kafka-python admin) with message.timestamp.type=
   LogAppendTime keeps records dated 30 days ago: stamped at append (consumers
   see timestamp type 1 and the append time), DescribeConfigs says so; the
   same records in a CreateTime topic are deleted and counted in
   sluice_log_retention_early_deleted_records_total.
3. A batch flagged gzip whose records are not gzip (CRC recomputed) is
   CORRUPT_MESSAGE over Kafka and corrupt_batch over HTTP, nothing appended,
   counted in sluice_log_corrupt_batches_total; kcat still reads the topic.
4. NUL in strings: Produce to "ab\\0cd" is INVALID_TOPIC_EXCEPTION and
   creates no "ab"; DeleteTopics "victim\\0x" leaves "victim"; OffsetCommit
   metadata "Hello\\0world!" and client id "cl\\0id" (DescribeGroups) read
   back whole; curl /v1/topics/a%00b and JSON
   {"name":"appz\\u0000x"} are 400 and create nothing.
5. CreateTopics of 1,500 partitions in a store limited to 300 descriptors
   fails and leaves no partition directory; the store still serves.
6. With umask 0 the data dir and its directories are 0750, files 0640.
"""
import gzip
import json
import os
import re
import resource
import struct
import subprocess
import time

from confluent_kafka import Producer
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.protocol.admin import DeleteTopicsRequest, DescribeGroupsRequest
from kafka.protocol.commit import OffsetCommitRequest, OffsetFetchRequest
from kafka.protocol.group import JoinGroupRequest
from kafka.protocol.offset import OffsetRequest
from kafka.protocol.produce import ProduceRequest
from kafka.record.util import calc_crc32c

import httptest
import kafkatest
import mkbatch
import sluicetest
from sluicetest import Env, result

DAY_MS = 24 * 3600 * 1000
CONF = "log: {retention_check: 1s}\n"


def low_watermark(raw, topic, part=0):
    resp = raw.call(OffsetRequest[1](-1, [(topic, [(part, -2)])]))
    p = resp.topics[0][1][0]
    assert p[1] == 0, "ListOffsets %s: error %d" % (topic, p[1])
    return p[3]


def high_watermark(raw, topic, part=0):
    p = raw.call(OffsetRequest[1](-1, [(topic, [(part, -1)])])).topics[0][1][0]
    return p[3] if p[1] == 0 else -p[1]


def produce(raw, topic, data, part=0):
    resp = raw.call(ProduceRequest[7](None, -1, 10000, [(topic, [(part, data)])]))
    p = resp.topics[0][1][0]
    return p[1], p[2]


def metric(store, name):
    _, body = httptest.request(store, "GET", "/metrics")
    m = re.search(r"^%s(?:\{[^}]*\})? (\d+)" % re.escape(name), body.decode(), re.M)
    return int(m.group(1)) if m else None


def set_header(data, off, fmt, value):
    """Overwrite a header field covered by the CRC and recompute it, as a
    producer would have written it."""
    b = bytearray(data)
    struct.pack_into(fmt, b, off, value)
    struct.pack_into(">I", b, 17, calc_crc32c(bytes(b[21:])))
    return bytes(b)


def await_retention_pass(raw, store):
    """A witness topic gets records 30 days old; once retention deleted them,
    it has run over every topic made before."""
    name = "witness%d" % int(time.time() * 1000)
    old = int(time.time() * 1000) - 30 * DAY_MS
    assert produce(raw, name, mkbatch.build(mkbatch.seq_records(3, ts=old)))[0] == 0
    kafkatest.wait_for(lambda: low_watermark(raw, name) == 3, 30, "retention of " + name)


def check_untimed(env, st, raw):
    # librdkafka, records with timestamp -1
    p = Producer({"bootstrap.servers": st.bootstrap, "linger.ms": 50})
    for i in range(10):
        p.produce("untimed", value=b"untimed %d" % i, timestamp=-1)
    assert p.flush(20) == 0
    # the same header by hand: FirstTimestamp -1, MaxTimestamp 0
    data = mkbatch.build([(-1, None, b"raw %d" % i, []) for i in range(10)])
    data = set_header(set_header(data, 27, ">q", -1), 35, ">q", 0)
    assert produce(raw, "untimed_raw", data)[0] == 0
    assert high_watermark(raw, "untimed") == 10 and high_watermark(raw, "untimed_raw") == 10
    await_retention_pass(raw, st)
    lw = (low_watermark(raw, "untimed"), low_watermark(raw, "untimed_raw"))
    assert lw == (0, 0), "records without a timestamp deleted by retention: %s" % (lw,)
    result("timestamp -1: 10 + 10 records kept past a retention pass (low watermarks 0)")


def check_log_append_time(env, st, raw):
    admin = KafkaAdminClient(bootstrap_servers=st.bootstrap, request_timeout_ms=10000)
    try:
        admin.create_topics([NewTopic("lat", 1, 1,
                                      topic_configs={"message.timestamp.type": "LogAppendTime"}),
                             NewTopic("ct", 1, 1,
                                      topic_configs={"message.timestamp.type": "CreateTime"})])
        desc = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, "lat")])
        entries = {e[0]: e[1] for e in desc[0].resources[0][4]}
        assert entries["message.timestamp.type"] == "LogAppendTime", entries
    finally:
        admin.close()
    assert httptest.get_json(st, "/v1/topics/lat")["config"]["timestamp_type"] == "LogAppendTime"
    old = int(time.time() * 1000) - 30 * DAY_MS
    before = metric(st, "sluice_log_retention_early_deleted_records_total")
    t0 = int(time.time() * 1000)
    prod = KafkaProducer(bootstrap_servers=st.bootstrap, linger_ms=20)
    for topic in ("lat", "ct"):
        for i in range(5):
            prod.send(topic, b"old %d" % i, timestamp_ms=old + i)
    prod.flush(20)
    prod.close()
    await_retention_pass(raw, st)
    assert low_watermark(raw, "lat") == 0, "LogAppendTime topic lost its records"
    kafkatest.wait_for(lambda: low_watermark(raw, "ct") == 5, 30, "CreateTime topic expiry")
    cons = KafkaConsumer(bootstrap_servers=st.bootstrap, auto_offset_reset="earliest",
                         consumer_timeout_ms=10000, enable_auto_commit=False)
    cons.assign([TopicPartition("lat", 0)])
    got = [m for _, m in zip(range(5), cons)]
    cons.close()
    assert len(got) == 5, got
    for m in got:
        assert m.timestamp_type == 1 and t0 - 1000 <= m.timestamp <= time.time() * 1000 + 1000, m
    after = metric(st, "sluice_log_retention_early_deleted_records_total")
    assert after is not None and after >= (before or 0) + 5, (before, after)
    assert "less than retention.ms" in st.log()
    result("LogAppendTime: 5 records dated 30 d ago kept and stamped (type 1); CreateTime "
           "twins deleted, early-deleted counter %s -> %s" % (before, after))


def check_lying_codec(env, st, raw):
    good = mkbatch.build(mkbatch.seq_records(3))
    assert produce(raw, "codec", good)[0] == 0
    b = bytearray(mkbatch.build(mkbatch.seq_records(3, start_seq=3)))
    liar = set_header(bytes(b), 21, ">h", struct.unpack_from(">h", b, 21)[0] | 1)  # gzip
    before = metric(st, "sluice_log_corrupt_batches_total") or 0
    err, _ = produce(raw, "codec", liar)
    assert err == 2, "Produce of a lying gzip batch: error %d, want CORRUPT_MESSAGE" % err
    status, body = httptest.request(st, "POST", "/v1/topics/codec/batches?partition=0", liar)
    assert status == 400 and b"corrupt_batch" in body, (status, body)
    # a real gzip stream whose records end in junk
    plain = mkbatch.build(mkbatch.seq_records(3, start_seq=6))
    z = gzip.compress(plain[61:] + b"\x7f\x7f junk")
    hdr = bytearray(plain[:61])
    struct.pack_into(">i", hdr, 8, 61 + len(z) - 12)
    struct.pack_into(">h", hdr, 21, 1)
    junk = set_header(bytes(hdr) + z, 21, ">h", 1)
    err, _ = produce(raw, "codec", junk)
    assert err == 2, "Produce of gzip records with junk: error %d" % err
    assert high_watermark(raw, "codec") == 3
    after = metric(st, "sluice_log_corrupt_batches_total")
    assert after == before + 3, (before, after)
    out = subprocess.run(["kcat", "-C", "-b", st.bootstrap, "-t", "codec", "-p", "0", "-o",
                          "beginning", "-e", "-q"], capture_output=True, timeout=30)
    assert out.returncode == 0 and out.stdout.count(b"seq=") == 3, out
    result("lying codec: Kafka error 2 and HTTP 400, gzip of junk records error 2, nothing "
           "appended, counter +3, kcat reads 3")


def check_nul_strings(env, st, raw):
    err, _ = produce(raw, "ab\0cd", mkbatch.build(mkbatch.seq_records(1)))
    assert err == 17, "Produce to ab\\0cd: error %d" % err
    status, body = httptest.request(st, "GET", "/v1/topics")
    names = [t["name"] for t in json.loads(body)["topics"]] if status == 200 else None
    assert names is not None and "ab" not in names, (status, body[:300])
    assert produce(raw, "victim", mkbatch.build(mkbatch.seq_records(1)))[0] == 0
    resp = raw.call(DeleteTopicsRequest[1](["victim\0x"], 10000))
    assert resp.topic_error_codes[0][1] == 17, resp
    assert high_watermark(raw, "victim") == 1, "DeleteTopics victim\\0x deleted victim"
    meta = "Hello\0world!"
    resp = raw.call(OffsetCommitRequest[2]("g-nul", -1, "", -1, [("victim", [(0, 1, meta)])]))
    assert resp.topics[0][1][0][1] == 0, resp
    resp = raw.call(OffsetFetchRequest[1]("g-nul", [("victim", [0])]))
    got = resp.topics[0][1][0]
    assert got[1] == 1 and got[2] == meta, "metadata read back as %r" % (got[2],)
    # a client id is data: DescribeGroups gives it back whole
    data, corr = raw.encode(JoinGroupRequest[0]("g-cid", 10000, "", "consumer",
                                                [("range", b"")]), client_id="cl\0id")
    raw.send_raw(data)
    join = raw.read_response(JoinGroupRequest[0], corr)
    assert join.error_code == 0, join
    desc = raw.call(DescribeGroupsRequest[0](["g-cid"]))
    cids = [m[1] for m in desc.groups[0][5]]
    assert cids == ["cl\0id"], "client id read back as %r" % (cids,)
    curl = subprocess.run(["curl", "-s", "--path-as-is", "-o", "/dev/null", "-w", "%{http_code}",
                           st.url + "/v1/topics/a%00b"], capture_output=True, timeout=30)
    assert curl.stdout == b"400", curl
    curl = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
                           "-H", "Content-Type: application/json",
                           "--data-binary", '{"name":"appz\\u0000x"}', st.url + "/v1/topics"],
                          capture_output=True, timeout=30)
    assert curl.stdout == b"400", curl
    status, _ = httptest.request(st, "GET", "/v1/topics/appz")
    assert status == 404, "JSON \\u0000 created topic appz (%d)" % status
    result("NUL: produce/delete refused with 17, metadata and client id kept whole, "
           "HTTP %00 and \\u0000 400")


class LimitedStore(kafkatest.KafkaStore):
    """A store with umask 0 and 300 descriptors (soft = hard, so its own
    raise of the soft limit cannot lift it); its data dir is its to create."""

    def start(self, timeout=30):
        def limits():
            os.umask(0)
            resource.setrlimit(resource.RLIMIT_NOFILE, (300, 300))

        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [os.path.join(sluicetest.BIN, "sluice-store"), "--data-dir", self.data_dir,
             "--kafka-listen", self.bootstrap, "--http-listen", "127.0.0.1:%d" % self.http_port],
            stdout=log, stderr=subprocess.STDOUT, preexec_fn=limits)
        log.close()
        sluicetest.wait_port(self.kafka_port, timeout, self.proc)
        return self


def check_rollback_and_modes(env):
    st = LimitedStore(env, env.path("limited", "data"), [])
    env.stores.append(st)
    st.start()
    admin = KafkaAdminClient(bootstrap_servers=st.bootstrap, request_timeout_ms=30000)
    try:
        res = admin.create_topics([NewTopic("many", 1500, 1)], validate_only=False)
        errs = [e[1] for e in res.topic_errors]
    except Exception as e:  # kafka-python raises on a topic error
        errs = [type(e).__name__ + (": Too many open files" if "open files" in str(e) else "")]
    finally:
        admin.close()
    assert errs and errs[0] != 0, "1,500 partitions with 300 descriptors: %s" % errs
    left = [d for d in os.listdir(st.data_dir) if d.startswith("many-")]
    assert not left, "%d partition dirs left behind" % len(left)
    raw = kafkatest.RawClient(st)
    try:
        assert produce(raw, "small", mkbatch.build(mkbatch.seq_records(2)))[0] == 0
        raw.call(OffsetCommitRequest[2]("g", -1, "", -1, [("small", [(0, 1, "")])]))
    finally:
        raw.close()
    bad = []
    for root, dirs, files in os.walk(st.data_dir):
        for d in [root]:
            if os.stat(d).st_mode & 0o7777 != 0o750:
                bad.append("%s %o" % (d, os.stat(d).st_mode & 0o7777))
        for f in files:
            p = os.path.join(root, f)
            if os.stat(p).st_mode & 0o7777 != 0o640:
                bad.append("%s %o" % (p, os.stat(p).st_mode & 0o7777))
    assert not bad, "modes with umask 0: %s" % bad
    nfiles = sum(len(f) for _, _, f in os.walk(st.data_dir))
    result("CreateTopics 1500 partitions failed (%s), 0 dirs left; umask 0: %d files 0640, "
           "dirs 0750" % (errs[0], nfiles))


def main():
    t0 = time.time()
    with Env() as env:
        st = kafkatest.start_store(env, conf=CONF)
        sluicetest.wait_port(st.http_port, 20, st.proc)
        raw = kafkatest.RawClient(st)
        try:
            check_untimed(env, st, raw)
            check_log_append_time(env, st, raw)
            check_lying_codec(env, st, raw)
            check_nul_strings(env, st, raw)
        finally:
            raw.close()
        check_rollback_and_modes(env)
        rss = 0
        with open("/proc/%d/status" % st.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
        assert st.proc.poll() is None and rss < 200 * 1024, rss
    result("store integrity checks in %.1fs" % (time.time() - t0))


if __name__ == "__main__":
    main()
