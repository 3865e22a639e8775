# SPDX-License-Identifier: Apache-2.0
"""DeleteRecords, ListOffsets (max timestamp, earliest), OffsetForLeaderEpoch
and DescribeProducers against sluice-store, with current librdkafka.

confluent-kafka >= 2.4 (AdminClient.delete_records / list_offsets): Debian's
1.7 under /usr/bin/python3 is too old, so the test re-runs itself under
build/venv (scripts/test-deps.sh) when that has a newer one.

An idempotent producer writes numbered records with increasing timestamps to
partition 0 of a 2-partition topic, one of them (index MAXI) dated far in
the future, inside a zstd batch.  list_offsets(max_timestamp) names exactly
that record and its timestamp.  delete_records(partition 0 up to DEL) answers
low watermark DEL; then earliest is DEL, a consumer assigned at offset 0 with
auto.offset.reset=earliest starts exactly at DEL and reads every later record
once, one assigned below DEL with auto.offset.reset=error gets
OFFSET_OUT_OF_RANGE, the HTTP replay refuses offset 0 with 416 and starts at
DEL by default.  After a kill -9 and restart the log start is still DEL.
OffsetForLeaderEpoch v4 (epoch 0: the log end; epoch 5: -1/-1; current epoch
1: UNKNOWN_LEADER_EPOCH) and DescribeProducers v0 (the producer id the
idempotent producer got, its last sequence), Produce v11 and Fetch v13 with
an unknown topic id (UNKNOWN_TOPIC_ID at once) are checked with raw frames.
The consumer's Fetch version, from librdkafka's protocol debug log, is the
highest the store advertises; the producer's Produce a flexible one (v9+;
librdkafka 2.16 stops at v10).
"""
import os
import re
import struct
import sys
import time

import confluent_kafka


def _version():
    v = confluent_kafka.version()  # ("1.7.0", n) or, newer, "2.16.1"
    return v[0] if isinstance(v, tuple) else v


def _reexec_in_venv():
    if tuple(int(x) for x in _version().split(".")[:2]) >= (2, 4):
        return
    top = os.environ.get("SLUICE_TOP") or os.path.abspath(
        os.path.join(os.path.dirname(__file__), "..", ".."))
    venv = os.path.join(top, "build", "venv")
    py = os.path.join(venv, "bin", "python")
    # the venv's python is a symlink to this very interpreter: compare prefixes
    if os.path.exists(py) and os.path.realpath(sys.prefix) != os.path.realpath(venv):
        os.execv(py, [py] + sys.argv)
    raise SystemExit("confluent-kafka %s has no delete_records/list_offsets and %s is missing "
                     "(scripts/test-deps.sh creates it)" % (_version(), py))


_reexec_in_venv()

from confluent_kafka import (Consumer, KafkaError, KafkaException, Producer,  # noqa: E402
                             TopicPartition)
from confluent_kafka.admin import AdminClient, OffsetSpec  # noqa: E402

import harness  # noqa: E402
from sluicetest import Env, result  # noqa: E402

TOPIC = "recadm"
N = 3000
MAXI = 1234
DEL = 1500
FAR = 4102444800000  # 2100-01-01


def produce(bootstrap, t0, debug_log):
    p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all",
                  "compression.type": "zstd", "linger.ms": 20,
                  "broker.address.family": "v4", "debug": "protocol",
                  "logger": _Logger(debug_log)})
    errors, offsets = [], {}

    def on_delivery(err, msg):
        if err is not None:
            errors.append(err)
        else:
            offsets[int(msg.value().split(b"=")[1])] = msg.offset()

    for i in range(N):
        ts = FAR if i == MAXI else t0 + i
        p.produce(TOPIC, value=b"seq=%d" % i, partition=0, timestamp=ts, on_delivery=on_delivery)
        p.poll(0)
    assert p.flush(60) == 0, "undelivered records"
    assert not errors, errors[:3]
    assert sorted(offsets.values()) == list(range(N)), "offsets not 0..N-1"
    return offsets


def admin_offsets(admin, spec):
    fut = admin.list_offsets({TopicPartition(TOPIC, 0): spec}, request_timeout=30)
    r = fut[TopicPartition(TOPIC, 0)].result()
    return r.offset, r.timestamp


def consume(bootstrap, start, reset, want, debug_log=None, timeout=60):
    conf = {"bootstrap.servers": bootstrap, "group.id": "recadm-%d" % time.time_ns(),
            "enable.auto.commit": False, "auto.offset.reset": reset,
            "enable.partition.eof": True, "broker.address.family": "v4"}
    if debug_log is not None:
        conf["debug"] = "protocol"
        conf["logger"] = _Logger(debug_log)
    c = Consumer(conf)
    c.assign([TopicPartition(TOPIC, 0, start)])
    got, err = [], None
    deadline = time.time() + timeout
    try:
        while time.time() < deadline:
            m = c.poll(1.0)
            if m is None:
                continue
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    if len(got) >= want:
                        break
                    continue
                err = m.error()
                break
            got.append((m.offset(), m.value()))
    finally:
        c.close()
    return got, err


class _Logger:
    def __init__(self, out):
        self.out = out

    def log(self, level, msg, *args):
        self.out.append(msg % args if args else msg)

    debug = info = warning = error = critical = exception = log


def raw_flexible(st, key, ver, body):
    """One flexible request (header v2) and its body bytes (after header v1)."""
    c = harness.RawClient(st)
    try:
        client = b"recadm"
        hdr = struct.pack(">hhih", key, ver, 77, len(client)) + client + b"\x00"
        c.send_raw(struct.pack(">i", len(hdr) + len(body)) + hdr + body)
        frame = c.recv_frame()
    finally:
        c.close()
    assert struct.unpack(">i", frame[:4])[0] == 77
    assert frame[4] == 0, "response header v1: empty tag section"
    return frame[5:]


def uvarint(b, i):
    v = shift = 0
    while True:
        x = b[i]
        i += 1
        v |= (x & 0x7F) << shift
        if not x & 0x80:
            return v, i
        shift += 7


def cstr(s):
    return bytes([len(s) + 1]) + s


def check_epoch(st, end):
    # v4: replica_id, topics[topic, partitions[partition, current epoch, epoch]]
    def ask(current, epoch):
        body = struct.pack(">i", -1) + b"\x02" + cstr(TOPIC.encode()) + b"\x02" + \
            struct.pack(">iii", 0, current, epoch) + b"\x00" + b"\x00" + b"\x00"
        r = raw_flexible(st, 23, 4, body)
        throttle, = struct.unpack(">i", r[:4])
        n, i = uvarint(r, 4)
        assert throttle == 0 and n == 2, (throttle, n)
        ln, i = uvarint(r, i)
        assert r[i:i + ln - 1] == TOPIC.encode()
        i += ln - 1
        n, i = uvarint(r, i)
        assert n == 2
        return struct.unpack(">hiiq", r[i:i + 18])

    assert ask(-1, 0) == (0, 0, 0, end), ask(-1, 0)
    assert ask(0, 0) == (0, 0, 0, end)
    assert ask(-1, 5) == (0, 0, -1, -1), ask(-1, 5)
    assert ask(1, 0)[0] == 75, "current epoch 1: UNKNOWN_LEADER_EPOCH"


def check_producers(st):
    body = b"\x02" + cstr(TOPIC.encode()) + b"\x02" + struct.pack(">i", 0) + b"\x00" + b"\x00"
    r = raw_flexible(st, 61, 0, body)
    i = 4
    n, i = uvarint(r, i)
    assert n == 2
    ln, i = uvarint(r, i)
    i += ln - 1
    n, i = uvarint(r, i)
    assert n == 2
    part, err = struct.unpack(">ih", r[i:i + 6])
    i += 6
    assert (part, err) == (0, 0), (part, err)
    assert r[i] == 0, "error_message null"
    i += 1
    n, i = uvarint(r, i)
    assert n == 2, "one active producer, got %d" % (n - 1)
    pid, epoch, last_seq, last_ts, coord, txn = struct.unpack(">qiiqiq", r[i:i + 36])
    assert pid >= 0 and epoch >= 0, (pid, epoch)
    assert last_seq == N - 1, "last sequence %d" % last_seq
    assert last_ts > 0 and coord == -1 and txn == -1
    return pid


def check_produce_v11(st):
    """Produce v11 (flexible) with a stored batch, read back raw over HTTP,
    into partition 1."""
    status, batch = harness.request(st, "GET", "/v1/topics/%s/partitions/0/records?format=raw"
                                    "&max=1" % TOPIC)
    assert status == 200 and len(batch) > 61, status
    count = struct.unpack(">i", batch[57:61])[0]
    body = b"\x00" + struct.pack(">hi", -1, 30000) + b"\x02" + cstr(TOPIC.encode()) + b"\x02" + \
        struct.pack(">i", 1)
    # records: compact nullable bytes (length + 1 as an unsigned varint)
    n = len(batch) + 1
    var = b""
    while True:
        var += bytes([(n & 0x7F) | (0x80 if n > 0x7F else 0)])
        n >>= 7
        if not n:
            break
    body += var + batch + b"\x00" + b"\x00" + b"\x00"
    r = raw_flexible(st, 0, 11, body)
    n, i = uvarint(r, 0)
    assert n == 2
    ln, i = uvarint(r, i)
    i += ln - 1
    n, i = uvarint(r, i)
    assert n == 2
    part, err, base, _lat, log_start = struct.unpack(">ihqqq", r[i:i + 30])
    assert (part, err, base, log_start) == (1, 0, 0, 0), (part, err, base, log_start)
    return count


def check_unknown_topic_id(st):
    """Fetch v13 (topic ids) naming an id no topic has: UNKNOWN_TOPIC_ID (100)
    for its partition, at once."""
    tid = os.urandom(16)
    body = struct.pack(">iiiibii", -1, 5000, 1, 1 << 20, 0, 0, -1) + b"\x02" + tid + \
        b"\x02" + struct.pack(">iiqiqi", 0, -1, 0, -1, -1, 1 << 20) + b"\x00" + b"\x00" + \
        b"\x01" + b"\x01" + b"\x00"
    t0 = time.time()
    r = raw_flexible(st, 1, 13, body)
    assert time.time() - t0 < 4, "answered at once, not after max_wait"
    throttle, err, session = struct.unpack(">ihi", r[:10])
    assert err == 0, err
    n, i = uvarint(r, 10)
    assert n == 2
    assert r[i:i + 16] == tid
    i += 16
    n, i = uvarint(r, i)
    assert n == 2
    part, perr = struct.unpack(">ih", r[i:i + 6])
    assert (part, perr) == (0, 100), (part, perr)


def max_versions(st):
    """Our advertised max version per API key (ApiVersions v0, by hand: the
    venv has no kafka-python)."""
    c = harness.RawClient(st)
    try:
        hdr = struct.pack(">hhih", 18, 0, 5, 6) + b"recadm"
        c.send_raw(struct.pack(">i", len(hdr)) + hdr)
        frame = c.recv_frame()
    finally:
        c.close()
    err, n = struct.unpack(">hi", frame[4:10])
    assert err == 0, err
    out = {}
    for k in range(n):
        key, _mn, mx = struct.unpack(">hhh", frame[10 + 6 * k:16 + 6 * k])
        out[key] = mx
    return out


def main():
    with Env() as env:
        st = env.start_store(ready="both", conf="log:\n  default_partitions: 2\n"
                             "  fsync: always\n")
        mv = max_versions(st)
        assert mv.get(21) == 2 and mv.get(23) == 4 and mv.get(61) == 0 and mv.get(2) >= 8, mv
        t0 = int(time.time() * 1000) - 3600 * 1000
        debug = []
        offsets = produce(st.bootstrap, t0, debug)
        admin = AdminClient({"bootstrap.servers": st.bootstrap, "broker.address.family": "v4"})

        off, ts = admin_offsets(admin, OffsetSpec.max_timestamp())
        assert (off, ts) == (offsets[MAXI], FAR), (off, ts, offsets[MAXI])
        assert admin_offsets(admin, OffsetSpec.earliest())[0] == 0
        assert admin_offsets(admin, OffsetSpec.latest())[0] == N

        fut = admin.delete_records([TopicPartition(TOPIC, 0, DEL)], request_timeout=30)
        low = fut[TopicPartition(TOPIC, 0)].result()
        assert low.low_watermark == DEL, low
        # below the high watermark only
        fut = admin.delete_records([TopicPartition(TOPIC, 0, N + 10)], request_timeout=30)
        try:
            fut[TopicPartition(TOPIC, 0)].result()
            raise AssertionError("delete_records past the high watermark succeeded")
        except KafkaException as e:
            assert e.args[0].code() == KafkaError.OFFSET_OUT_OF_RANGE, e
        assert admin_offsets(admin, OffsetSpec.earliest())[0] == DEL
        # the max-timestamp record is gone: the next largest timestamp is the last record
        off, ts = admin_offsets(admin, OffsetSpec.max_timestamp())
        assert (off, ts) == (N - 1, t0 + N - 1), (off, ts)

        got, err = consume(st.bootstrap, 0, "earliest", N - DEL, debug_log=debug)
        assert err is None, err
        assert [o for o, _ in got] == list(range(DEL, N)), (got[:2], len(got))
        assert got[0][1] == b"seq=%d" % DEL
        got, err = consume(st.bootstrap, 10, "error", 1, timeout=30)
        assert err is not None and err.code() == KafkaError._AUTO_OFFSET_RESET, err
        assert "out of range" in err.str().lower() or "offset_out_of_range" in err.str().lower(), \
            err.str()

        # librdkafka picks the highest versions both sides have
        used = {}
        for line in debug:
            m = re.search(r"Sent (\w+)Request \(v(\d+)", line)
            if m:
                used[m.group(1)] = max(used.get(m.group(1), 0), int(m.group(2)))
        assert used.get("Fetch") == mv[1], (used, mv[1])
        # librdkafka 2.16 itself stops at Produce v10: a flexible one, at least
        assert 9 <= used.get("Produce", 0) <= mv[0], (used, mv[0])
        assert used.get("ListOffsets") in (None, mv[2]) or used["ListOffsets"] >= 7, used

        status, body = harness.request(st, "GET", "/v1/topics/%s/partitions/0/records?offset=0"
                                       % TOPIC)
        assert status == 416, (status, body[:200])
        status, body = harness.request(st, "GET", "/v1/topics/%s/partitions/0/records?max=1"
                                       % TOPIC)
        assert status == 200 and b"seq=%d\"" % DEL in body, body[:300]

        assert check_produce_v11(st) > 0
        check_unknown_topic_id(st)
        check_epoch(st, N)
        pid = check_producers(st)

        st.restart(kill=True)
        admin = AdminClient({"bootstrap.servers": st.bootstrap, "broker.address.family": "v4"})
        assert admin_offsets(admin, OffsetSpec.earliest())[0] == DEL, "log start lost on kill -9"
        got, err = consume(st.bootstrap, 0, "earliest", N - DEL)
        assert err is None and [o for o, _ in got] == list(range(DEL, N)), (err, len(got))
        result("delete_records low watermark %d survives kill -9; max timestamp offset %d; "
               "Produce v%d, Fetch v%d, producer id %d" % (DEL, offsets[MAXI], used["Produce"],
                                                      used["Fetch"], pid))


if __name__ == "__main__":
    sys.exit(main())
