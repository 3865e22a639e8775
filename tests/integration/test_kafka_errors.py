# SPDX-License-Identifier: Apache-2.0
"""Exact Kafka error codes and edge semantics over a raw connection
(requests encoded by kafka-python's protocol classes):

Produce: a batch with a bad CRC -> CORRUPT_MESSAGE; larger than the topic's
max.message.bytes -> MESSAGE_TOO_LARGE; an invalid topic name ->
INVALID_TOPIC_EXCEPTION; a partition past the topic's -> UNKNOWN_TOPIC_OR_PARTITION;
acks=2 -> INVALID_REQUIRED_ACKS; zstd below Produce v7 ->
UNSUPPORTED_COMPRESSION_TYPE; idempotent batches: a retry is a success at the
original offset, a sequence gap OUT_OF_ORDER_SEQUENCE_NUMBER, an older epoch
INVALID_PRODUCER_EPOCH; acks=0 gets no response yet keeps request order, and
a failing acks=0 request closes the connection.  InitProducerId with a
transactional id -> a producer id, epoch 0 then 1 (fencing); its
transactional batch to a partition not in a transaction -> INVALID_TXN_STATE.

Fetch: zstd batches to v4 -> UNSUPPORTED_COMPRESSION_TYPE, but the batches
before the first zstd one are served; v10+ gets them; an offset past the end
-> OFFSET_OUT_OF_RANGE; long-poll returns as soon as data arrives and after
max_wait otherwise.  ListOffsets earliest/latest/by time.  With
log.auto_create off an unknown topic is UNKNOWN_TOPIC_OR_PARTITION for
Metadata and Produce.
"""
# harness: quick
import struct
import sys
import threading
import time

from kafka.protocol.admin import DescribeConfigsRequest
from kafka.protocol.fetch import FetchRequest
from kafka.protocol.metadata import MetadataRequest
from kafka.protocol.offset import OffsetRequest
from kafka.protocol.produce import ProduceRequest
from kafka.record.default_records import DefaultRecordBatchBuilder

import kafkatest
from sluicetest import Env, result


# Record times an hour ago: inside the default 7-day retention, which would
# delete older ones (the test once used 2023 times and failed when the
# store's first retention pass came before its ListOffsets checks).
TS0 = (int(time.time()) - 3600) * 1000


def batch(n=5, codec=0, pid=-1, epoch=-1, seq=-1, size=20, start=0, txn=0):
    b = DefaultRecordBatchBuilder(magic=2, compression_type=codec, is_transactional=txn,
                                  producer_id=pid, producer_epoch=epoch, base_sequence=seq,
                                  batch_size=1 << 22)
    for i in range(n):
        b.append(i, timestamp=TS0 + start + i, key=b"k",
                 value=b"v seq=%d " % (start + i) + b"x" * size, headers=[])
    return bytes(b.build())


def produce(raw, topic, part, data, acks=-1, version=7):
    resp = raw.call(ProduceRequest[version](None, acks, 10000, [(topic, [(part, data)])]))
    p = resp.topics[0][1][0]
    return p[1], p[2]  # error, base offset


def init_producer_id(raw, transactional_id=None):
    tid = struct.pack(">h", -1) if transactional_id is None else \
        struct.pack(">h", len(transactional_id)) + transactional_id
    raw.corr += 1
    body = struct.pack(">hhih", 22, 1, raw.corr, 4) + b"test" + tid + struct.pack(">i", 60000)
    raw.send_raw(struct.pack(">i", len(body)) + body)
    f = raw.recv_frame()
    corr, throttle, err, pid, epoch = struct.unpack(">iihqh", f)
    assert corr == raw.corr
    return err, pid, epoch


def fetch(raw, topic, part, offset, version=4, max_wait=100, min_bytes=0):
    if version == 4:
        req = FetchRequest[4](-1, max_wait, min_bytes, 1 << 24, 0,
                              [(topic, [(part, offset, 1 << 24)])])
    else:
        req = FetchRequest[10](-1, max_wait, min_bytes, 1 << 24, 0, 0, -1,
                               [(topic, [(part, -1, offset, -1, 1 << 24)])], [])
    p = raw.call(req).topics[0][1][0]
    return p[1], p[2], p[-1]  # error, high watermark, records


def create_topic(raw, name, partitions, configs):
    # CreateTopics v0 by hand: topics [name, partitions, rf, [], configs], timeout
    raw.corr += 1
    body = struct.pack(">hhih", 19, 0, raw.corr, 4) + b"test" + struct.pack(">i", 1)
    body += struct.pack(">h", len(name)) + name + struct.pack(">ihi", partitions, 1, 0)
    body += struct.pack(">i", len(configs))
    for k, v in configs:
        body += struct.pack(">h", len(k)) + k + struct.pack(">h", len(v)) + v
    body += struct.pack(">i", 5000)
    raw.send_raw(struct.pack(">i", len(body)) + body)
    f = raw.recv_frame()
    return struct.unpack(">h", f[4 + 4 + 2 + len(name):4 + 4 + 2 + len(name) + 2])[0]


def main():
    with Env() as env:
        # records are dated 2023: older than the default retention, which
        # would delete them a second after start
        st = kafkatest.start_store(env, conf="log:\n  retention: 0\n")
        raw = kafkatest.RawClient(st)
        assert create_topic(raw, b"small", 1, [(b"max.message.bytes", b"2048")]) == 0
        assert create_topic(raw, b"e", 2, []) == 0

        good = batch()
        corrupt = bytearray(batch())
        corrupt[-3] ^= 0xff
        assert produce(raw, "e", 0, good)[0] == 0
        assert produce(raw, "e", 0, bytes(corrupt))[0] == 2
        assert produce(raw, "small", 0, batch(n=20, size=200))[0] == 10
        assert produce(raw, "bad topic!", 0, good)[0] == 17
        assert produce(raw, "e", 7, good)[0] == 3
        assert produce(raw, "e", 0, good, acks=2)[0] == 21
        zstd = batch(codec=4)
        assert produce(raw, "e", 1, zstd, version=3)[0] == 76
        assert produce(raw, "e", 1, zstd, version=7)[0] == 0
        result("Produce: CORRUPT_MESSAGE, MESSAGE_TOO_LARGE, INVALID_TOPIC_EXCEPTION, "
               "UNKNOWN_TOPIC_OR_PARTITION, INVALID_REQUIRED_ACKS, UNSUPPORTED_COMPRESSION_TYPE")

        err, pid, epoch = init_producer_id(raw)
        assert err == 0 and pid >= 0 and epoch == 0, (err, pid, epoch)
        b0 = batch(pid=pid, epoch=0, seq=0)
        err, off0 = produce(raw, "e", 1, b0)
        assert err == 0
        err, off_retry = produce(raw, "e", 1, b0)
        assert err == 0 and off_retry == off0, (err, off_retry, off0)
        assert produce(raw, "e", 1, batch(pid=pid, epoch=0, seq=5, start=5))[0] == 0
        assert produce(raw, "e", 1, batch(pid=pid, epoch=0, seq=20))[0] == 45
        assert produce(raw, "e", 1, batch(pid=pid, epoch=1, seq=0))[0] == 0
        assert produce(raw, "e", 1, batch(pid=pid, epoch=0, seq=10))[0] == 47
        err, tpid, tepoch = init_producer_id(raw, b"txn")
        assert err == 0 and tpid >= 0 and tepoch == 0, (err, tpid, tepoch)
        assert init_producer_id(raw, b"txn")[1:] == (tpid, 1)
        assert produce(raw, "e", 0, batch(pid=tpid, epoch=1, seq=0, txn=1))[0] == 48
        err, hw, records = fetch(raw, "e", 1, 0, version=10)
        assert err == 0 and hw == 5 + 5 + 5 + 5, hw  # zstd, b0 once, seq 5, epoch 1
        result("idempotence: retry -> same offset %d, gap -> OUT_OF_ORDER_SEQUENCE_NUMBER, "
               "old epoch -> INVALID_PRODUCER_EPOCH, a transactional batch outside a "
               "transaction -> INVALID_TXN_STATE" % off0)

        # acks=0: no response, order kept
        data0, corr0 = raw.encode(ProduceRequest[7](None, 0, 1000, [("e", [(0, good)])]))
        meta = MetadataRequest[1](["e"])
        data1, corr1 = raw.encode(meta)
        raw.send_raw(data0 + data1)
        resp = raw.read_response(meta, corr1)
        assert resp.topics[0][1] == "e"
        # the acks=0 batch was appended (visible once fsynced): two of 5 records
        kafkatest.wait_for(lambda: fetch(raw, "e", 0, 0)[1] == 10, 10, "the acks=0 batch")
        hw = 10
        bad = kafkatest.RawClient(st)
        d, _ = bad.encode(ProduceRequest[7](None, 0, 1000, [("e", [(0, bytes(corrupt))])]))
        bad.send_raw(d)
        assert bad.closed_by_peer(5.0), "failed acks=0 produce did not close the connection"
        result("acks=0: no response, order kept; a failed acks=0 produce closes the connection")

        # zstd to old fetchers
        mixed = batch(codec=1, start=100)
        assert produce(raw, "e", 0, mixed)[0] == 0
        assert produce(raw, "e", 0, batch(codec=4, start=200))[0] == 0
        err, hw, recs = fetch(raw, "e", 0, 10, version=4)
        # the gzip batch exactly as produced (only baseOffset rewritten), not the zstd one
        assert err == 0 and len(recs) == len(mixed) and bytes(recs[8:]) == mixed[8:], \
            (err, len(recs), len(mixed))
        err, hw, recs = fetch(raw, "e", 0, 15, version=4)
        assert err == 76 and len(recs) == 0, (err, len(recs))
        err, hw, recs = fetch(raw, "e", 0, 15, version=10)
        assert err == 0 and len(recs) > 0
        err, hw, recs = fetch(raw, "e", 0, 1000)
        assert err == 1, err
        result("Fetch: zstd to v4 -> batches before it, then UNSUPPORTED_COMPRESSION_TYPE; "
               "v10 gets it; OFFSET_OUT_OF_RANGE")

        # long poll
        t0 = time.time()
        err, hw, recs = fetch(raw, "e", 0, hw, max_wait=500, min_bytes=1)
        waited = time.time() - t0
        assert err == 0 and len(recs) == 0 and 0.4 < waited < 3, (err, len(recs), waited)
        other = kafkatest.RawClient(st)
        timer = threading.Timer(0.3, lambda: produce(other, "e", 0, batch(start=300)))
        timer.start()
        t0 = time.time()
        err, hw2, recs = fetch(raw, "e", 0, hw, max_wait=5000, min_bytes=1)
        woke = time.time() - t0
        timer.join()
        assert err == 0 and len(recs) > 0 and woke < 2.5, (err, len(recs), woke)
        result("long poll: empty after max_wait (%.2fs), woken by a produce after %.2fs"
               % (waited, woke))

        # ListOffsets
        r = raw.call(OffsetRequest[1](-1, [("e", [(0, -2), (1, -1)])]))
        parts = {p[0]: p for p in r.topics[0][1]}
        assert parts[0][3] == 0 and parts[1][3] == 20, parts
        r = raw.call(OffsetRequest[1](-1, [("e", [(0, TS0 + 102)])]))
        p = r.topics[0][1][0]
        assert p[1] == 0 and p[3] == 12 and p[2] == TS0 + 102, p
        r = raw.call(OffsetRequest[1](-1, [("e", [(0, TS0 + 365 * 86400000)])]))
        assert r.topics[0][1][0][3] == -1
        r = raw.call(DescribeConfigsRequest[1]([(2, "nope", None)], False))
        assert r.resources[0][0] == 3
        result("ListOffsets earliest/latest/by time (record-exact), DescribeConfigs unknown topic")

        # auto_create off
        st2 = kafkatest.start_store(env, conf="log:\n  auto_create: false\n")
        raw2 = kafkatest.RawClient(st2)
        r = raw2.call(MetadataRequest[4](["ghost"], True))
        assert r.topics[0][0] == 3, r.topics
        assert produce(raw2, "ghost", 0, good)[0] == 3
        result("auto_create off: Metadata and Produce -> UNKNOWN_TOPIC_OR_PARTITION")
        raw.close()
        raw2.close()
        other.close()


if __name__ == "__main__":
    sys.exit(main())
