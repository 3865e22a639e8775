# SPDX-License-Identifier: Apache-2.0
"""Kafka transactions (KIP-98) with confluent-kafka (librdkafka) against sluice-store.

A transactional producer writes numbered corpus events (seq=N) to two topics
in one transaction, sends a consumer group's offsets with
send_offsets_to_transaction and commits; a second transaction is aborted
(its events carry "aborted=N" instead of seq=N); a third commits.  A
read_committed consumer sees exactly the committed events (check_seq) and no
aborted one; a read_uncommitted consumer sees both; the group's committed
offset is the one sent in the transaction, and while a transaction holds
staged offsets a read_committed consumer's OffsetFetch (require_stable,
KIP-447) gets UNSTABLE_OFFSET_COMMIT.  While a transaction is open, the
read_committed latest offset (ListOffsets) is its first offset (the last
stable offset), which DescribeProducers reports as its start.  A second
producer with the same transactional.id fences the first (zombie fencing).
Then the store is killed (SIGKILL) with a transaction open (produced, not
committed) and restarted: that transaction is aborted (read_committed never
shows its records), the committed ones survive, and a new producer with the
same transactional.id commits again.  Over HTTP a transactional batch
outside a transaction is 409, a control batch 400.  A transaction left open
past its transaction.timeout.ms is aborted by the coordinator (the last
stable offset catches up with the high watermark) and its producer fenced.
With SASL and an ACL file, a transactional.id needs a txn: grant (Kafka's
WRITE on the TransactionalId): alice's "ok-1" commits, her "other" is
TRANSACTIONAL_ID_AUTHORIZATION_FAILED.
"""
import os
import struct
import subprocess
import sys
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

import harness
import kafkatest
from kafka.record.default_records import DefaultRecordBatchBuilder
from kafka.record.util import calc_crc32c
from sluicetest import BIN, Env, result

PER_TXN = 1000
TOPICS = ("txa", "txb")
PARTS = 2


def producer(bootstrap, tid, timeout_ms=60000):
    return Producer({"bootstrap.servers": bootstrap, "transactional.id": tid,
                     "transaction.timeout.ms": timeout_ms, "linger.ms": 5,
                     "broker.address.family": "v4"})


def produce_txn(p, events, commit, offsets=None, group_md=None):
    """One transaction: events alternate between the two topics."""
    errors = []

    def on_delivery(err, msg):
        if err is not None:
            errors.append(err)

    p.begin_transaction()
    for i, ev in enumerate(events):
        while True:
            try:
                p.produce(TOPICS[i % 2], key=b"k%d" % (i % 7), value=ev, on_delivery=on_delivery)
                break
            except BufferError:
                p.poll(0.1)
        p.poll(0)
    assert p.flush(60) == 0 and not errors, "undelivered: %s" % errors[:3]
    if offsets is not None:
        p.send_offsets_to_transaction(offsets, group_md, 30)
    if commit:
        p.commit_transaction(60)
    else:
        p.abort_transaction(60)


def consume_all(bootstrap, isolation, expect_max, timeout=60):
    """Every record of both topics from the start, until EOF on every partition."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "read-%d" % time.time_ns(),
                  "enable.auto.commit": False, "enable.partition.eof": True,
                  "isolation.level": isolation, "broker.address.family": "v4"})
    tps = [TopicPartition(t, q, 0) for t in TOPICS for q in range(PARTS)]
    c.assign(tps)
    got, eof = [], set()
    deadline = time.time() + timeout
    while len(eof) < len(tps) and time.time() < deadline:
        m = c.poll(1.0)
        if m is None:
            continue
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                eof.add((m.topic(), m.partition()))
                continue
            raise KafkaException(m.error())
        got.append(m.value())
        if len(got) > expect_max:
            break
    c.close()
    assert len(eof) == len(tps), "no EOF on %s" % (set((t.topic, t.partition) for t in tps) - eof)
    return got


def mark(ev, word):
    """The event with its sequence number hidden from check_seq."""
    return ev.replace(b"seq=", word + b"=").replace(b'"seq":', b'"' + word + b'":')


def check_committed(env, values, expect):
    assert not any(b"aborted" in v or b"crashed" in v for v in values), \
        "read_committed returned aborted records"
    return env.check_seq(b"\n".join(values) + b"\n", expect=expect)


def txn_starts(st, topic, partition):
    """DescribeProducers v0 (flexible, raw): current_txn_start_offset of every
    producer of the partition."""
    def uvarint(b, i):
        v = shift = 0
        while True:
            v |= (b[i] & 0x7F) << shift
            i += 1
            if not b[i - 1] & 0x80:
                return v, i
            shift += 7

    body = b"\x02" + bytes([len(topic) + 1]) + topic.encode() + b"\x02" + \
        struct.pack(">i", partition) + b"\x00\x00"
    hdr = struct.pack(">hhih", 61, 0, 9, 2) + b"tx" + b"\x00"
    c = harness.RawClient(st)
    try:
        c.send_raw(struct.pack(">i", len(hdr) + len(body)) + hdr + body)
        r = c.recv_frame()[5:]  # correlation id, empty header tags
    finally:
        c.close()
    _, i = uvarint(r, 4)            # topics
    ln, i = uvarint(r, i)           # name
    _, i = uvarint(r, i + ln - 1)   # partitions
    part, err = struct.unpack(">ih", r[i:i + 6])
    assert (part, err) == (partition, 0) and r[i + 6] == 0, (part, err)
    n, i = uvarint(r, i + 7)
    starts = {}
    for _ in range(n - 1):
        pid, _, _, _, coord, start = struct.unpack(">qiiqiq", r[i:i + 36])
        starts[pid] = (coord, start)
        i += 37  # and its empty tag section
    return starts


def check_timeout(st):
    """transaction.timeout.ms: the coordinator aborts a transaction left open
    past it (the last stable offset moves on) and fences its producer."""
    p = Producer({"bootstrap.servers": st.bootstrap, "transactional.id": "tx-slow",
                  "transaction.timeout.ms": 2000, "message.timeout.ms": 1500,
                  "broker.address.family": "v4"})
    p.init_transactions(30)
    p.begin_transaction()
    p.produce("txb", partition=1, value=b"slow=1")
    assert p.flush(30) == 0
    c = Consumer({"bootstrap.servers": st.bootstrap, "group.id": "slow",
                  "isolation.level": "read_committed", "broker.address.family": "v4"})
    tp = TopicPartition("txb", 1)
    t0 = time.time()
    while True:
        _, lso = c.get_watermark_offsets(tp, timeout=10, cached=False)
        _, hi = ru_watermark(st, tp)
        if lso == hi:
            break
        assert time.time() - t0 < 30, "the transaction was not aborted at its timeout"
        time.sleep(0.2)
    waited = time.time() - t0
    c.close()
    try:
        p.commit_transaction(10)
        raise AssertionError("a timed-out transaction committed")
    except KafkaException as e:
        err = e.args[0]
    return ("transaction.timeout.ms 2000: aborted by the coordinator after %.1f s, the "
            "producer's commit fails (%s)" % (waited, err.name()))


def ru_watermark(st, tp):
    c = Consumer({"bootstrap.servers": st.bootstrap, "group.id": "ru",
                  "isolation.level": "read_uncommitted", "broker.address.family": "v4"})
    try:
        return c.get_watermark_offsets(tp, timeout=10, cached=False)
    finally:
        c.close()


def check_unstable(st, p, group_md):
    """KIP-447: while a transaction holds staged offsets of the group, a
    read_committed consumer's OffsetFetch (require_stable) gets
    UNSTABLE_OFFSET_COMMIT (librdkafka retries it until its timeout); after
    the commit it reads the new offset."""
    p.begin_transaction()
    p.produce("txa", partition=1, value=b"unstable=1")
    assert p.flush(30) == 0
    p.send_offsets_to_transaction([TopicPartition("input", 1, 555)], group_md, 30)
    c = Consumer({"bootstrap.servers": st.bootstrap, "group.id": "etl",
                  "isolation.level": "read_committed", "enable.auto.commit": False,
                  "broker.address.family": "v4"})
    err = None
    try:
        got = c.committed([TopicPartition("input", 1)], timeout=3)
        err = got[0].error
    except KafkaException as e:
        err = e.args[0]
    assert err is not None, "a staged offset was readable before the commit"
    p.commit_transaction(30)
    got = c.committed([TopicPartition("input", 1)], timeout=10)
    c.close()
    assert got[0].offset == 555, got
    return "require_stable while offsets are staged: %s; after the commit: 555" % err.name()


def check_http(st):
    """Transactional batches belong to the Kafka protocol: over HTTP one
    outside an open transaction is refused (409), a control batch too (400)."""
    b = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=1,
                                  producer_id=123456, producer_epoch=0, base_sequence=0,
                                  batch_size=1 << 20)
    b.append(0, timestamp=int(time.time() * 1000), key=None, value=b"http seq=0", headers=[])
    data = bytearray(b.build())
    status, body = harness.request(st, "POST", "/v1/topics/txa/batches", bytes(data))
    assert status == 409 and b"invalid_txn_state" in body, (status, body)
    data[22] |= 0x20  # attributes (low byte): control
    data[17:21] = calc_crc32c(bytes(data[21:])).to_bytes(4, "big")
    status, body = harness.request(st, "POST", "/v1/topics/txa/batches", bytes(data))
    assert status == 400, (status, body)
    return ("HTTP: a transactional batch outside a transaction -> 409 invalid_txn_state, "
            "a control batch -> 400")


def check_acl(env):
    users, acl = env.path("users"), env.path("acl")
    with open(acl, "w") as f:
        f.write("User:alice  txa  produce,consume\n"
                "User:alice  txn:ok-*  produce\n")
    conf = kafkatest.write_conf(env, "kafka:\n  sasl: [PLAIN]\n"
                                "auth:\n  users_file: %s\n  acl_file: %s\n" % (users, acl),
                                "store-acl.yaml")
    p = subprocess.run([os.path.join(BIN, "sluice-store"), "user", "add", "alice", "-c", conf],
                       input=b"alice-pw-1\n", capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    st = kafkatest.start_store(env, "-c", conf)
    sasl = {"security.protocol": "SASL_PLAINTEXT", "sasl.mechanisms": "PLAIN",
            "sasl.username": "alice", "sasl.password": "alice-pw-1"}
    ok = Producer(dict(sasl, **{"bootstrap.servers": st.bootstrap, "transactional.id": "ok-1",
                                "broker.address.family": "v4"}))
    ok.init_transactions(30)
    ok.begin_transaction()
    ok.produce("txa", value=b"acl seq=0")
    ok.commit_transaction(30)
    bad = Producer(dict(sasl, **{"bootstrap.servers": st.bootstrap, "transactional.id": "other",
                                 "broker.address.family": "v4"}))
    err = None
    try:
        bad.init_transactions(30)
    except KafkaException as e:
        err = e.args[0]
    assert err is not None and err.code() == KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, err
    st.stop()
    return "ACL: txn:ok-* lets alice commit as ok-1; \"other\" -> %s" % err.name()


def main():
    with Env() as env:
        st = kafkatest.start_store(env, conf="log:\n  default_partitions: %d\n" % PARTS)
        admin = AdminClient({"bootstrap.servers": st.bootstrap, "broker.address.family": "v4"})
        fs = admin.create_topics([NewTopic(t, PARTS, 1) for t in TOPICS + ("input",)])
        for f in fs.values():
            f.result(30)
        corpus = env.path("corpus")
        env.gen_corpus(corpus, "4M")
        events = []
        with open(corpus, "rb") as f:
            for line in f:
                if b"seq" in line:
                    events.append(line.rstrip(b"\n"))
                if len(events) == 4 * PER_TXN:
                    break
        assert len(events) == 4 * PER_TXN, "corpus too small"
        committed = events[:PER_TXN] + events[PER_TXN:2 * PER_TXN]
        aborted = [mark(e, b"aborted") for e in events[2 * PER_TXN:3 * PER_TXN]]

        # the consumer group whose offsets travel with the transaction
        gc = Consumer({"bootstrap.servers": st.bootstrap, "group.id": "etl",
                       "enable.auto.commit": False, "broker.address.family": "v4"})
        group_md = gc.consumer_group_metadata()

        p = producer(st.bootstrap, "tx-main")
        p.init_transactions(30)
        start = time.time()
        produce_txn(p, committed[:PER_TXN], True, [TopicPartition("input", 0, 1234)], group_md)
        produce_txn(p, aborted, False, [TopicPartition("input", 0, 9999)], group_md)
        produce_txn(p, committed[PER_TXN:], True, [TopicPartition("input", 1, 77)], group_md)
        result("3 transactions of %d events over 2 topics (commit, abort, commit) in %.2fs"
               % (PER_TXN, time.time() - start))

        got = consume_all(st.bootstrap, "read_committed", 3 * PER_TXN)
        print(check_committed(env, got, 2 * PER_TXN))
        result("read_committed: exactly the %d committed events, no aborted one" % len(got))
        got = consume_all(st.bootstrap, "read_uncommitted", 3 * PER_TXN)
        assert len(got) == 3 * PER_TXN, "read_uncommitted got %d" % len(got)
        assert sum(1 for v in got if b"aborted" in v) == PER_TXN
        result("read_uncommitted: committed and aborted events (%d)" % len(got))
        offs = gc.committed([TopicPartition("input", 0), TopicPartition("input", 1)], timeout=10)
        assert [tp.offset for tp in offs] == [1234, 77], "committed offsets %s" % offs
        result("send_offsets_to_transaction: group offsets %s (the aborted 9999 never applied)"
               % [tp.offset for tp in offs])
        result(check_unstable(st, p, group_md))
        gc.close()

        # an open transaction holds read_committed at its first offset
        p.begin_transaction()
        p.produce("txa", partition=0, value=b"pending=0")
        assert p.flush(30) == 0
        rc = Consumer({"bootstrap.servers": st.bootstrap, "group.id": "lso",
                       "isolation.level": "read_committed", "broker.address.family": "v4"})
        ru = Consumer({"bootstrap.servers": st.bootstrap, "group.id": "lso2",
                       "isolation.level": "read_uncommitted", "broker.address.family": "v4"})
        lo, hi_c = rc.get_watermark_offsets(TopicPartition("txa", 0), timeout=10, cached=False)
        lo, hi_u = ru.get_watermark_offsets(TopicPartition("txa", 0), timeout=10, cached=False)
        rc.close()
        ru.close()
        assert hi_c == hi_u - 1, "read_committed latest %d, read_uncommitted %d" % (hi_c, hi_u)
        starts = txn_starts(st, "txa", 0)
        assert (0, hi_c) in starts.values(), "DescribeProducers: %s" % starts
        result("open transaction: read_committed latest offset %d = LSO, high watermark %d, "
               "DescribeProducers current_txn_start_offset %d" % (hi_c, hi_u, hi_c))

        # zombie fencing: a new instance with the same transactional.id
        p2 = producer(st.bootstrap, "tx-main")
        p2.init_transactions(30)
        fenced = None
        try:
            p.produce("txa", value=b"zombie=1")
            p.flush(10)
            p.commit_transaction(30)
        except KafkaException as e:
            fenced = e.args[0]
        assert fenced is not None, "the zombie committed"
        assert fenced.fatal() or fenced.code() in (KafkaError._FENCED,
                                                   KafkaError.PRODUCER_FENCED,
                                                   KafkaError.INVALID_PRODUCER_EPOCH), fenced
        result("zombie producer fenced: %s" % fenced.name())
        got = consume_all(st.bootstrap, "read_committed", 3 * PER_TXN)
        print(check_committed(env, got, 2 * PER_TXN))
        assert b"pending=0" not in got and b"zombie=1" not in got

        # kill -9 with a transaction open
        crashed = [mark(e, b"crashed") for e in events[3 * PER_TXN:]]
        p3 = producer(st.bootstrap, "tx-crash")
        p3.init_transactions(30)
        p3.begin_transaction()
        for i, ev in enumerate(crashed):
            p3.produce(TOPICS[i % 2], value=ev)
            p3.poll(0)
        assert p3.flush(60) == 0
        st.kill()
        st.start()
        got = consume_all(st.bootstrap, "read_committed", 4 * PER_TXN)
        print(check_committed(env, got, 2 * PER_TXN))
        result("kill -9 with a transaction open: aborted on restart, committed events survive")
        p4 = producer(st.bootstrap, "tx-crash")
        p4.init_transactions(30)
        # the events whose first attempt was aborted, committed now
        produce_txn(p4, events[2 * PER_TXN:3 * PER_TXN], True)
        got = consume_all(st.bootstrap, "read_committed", 4 * PER_TXN)
        print(check_committed(env, got, 3 * PER_TXN))
        result("the same transactional.id after the restart: init, commit (%d visible)" % len(got))
        try:
            p3.commit_transaction(10)
            raise AssertionError("the pre-crash producer committed")
        except KafkaException:
            pass
        result("the pre-crash producer cannot commit")
        result(check_http(st))
        result(check_timeout(st))
        result(check_acl(env))


if __name__ == "__main__":
    sys.exit(main())
