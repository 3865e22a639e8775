# SPDX-License-Identifier: Apache-2.0
"""confluent-kafka-python 1.7.0 (librdkafka) against sluice-store.

An idempotent producer (enable.idempotence=true, acks=all, zstd) writes
corpus events with explicit timestamps to a 3-partition topic; every delivery
report must be a success with a distinct offset.  The store is restarted
(SIGTERM) before reading.  A consumer assigned to a partition at a chosen
offset starts exactly there and reads exactly that partition's records; a
consumer using offsets_for_times gets, per partition, the first record whose
timestamp is at or after the target (computed from the delivery reports); the
whole topic read back holds every event exactly once (check_seq).
"""
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

import kafkatest
from sluicetest import Env, result

N = 20000
PARTS = 3


def consume_assigned(bootstrap, assignments, expect, timeout=60):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused-%d" % time.time_ns(),
                  "enable.auto.commit": False, "enable.partition.eof": True,
                  "broker.address.family": "v4"})
    c.assign(assignments)
    got, eof = [], set()
    deadline = time.time() + timeout
    while len(eof) < len(assignments) and time.time() < deadline:
        m = c.poll(1.0)
        if m is None:
            continue
        if m.error():
            if m.error().code() == -191:  # _PARTITION_EOF
                eof.add(m.partition())
                continue
            raise KafkaException(m.error())
        got.append(m)
        if len(got) > expect:
            break
    c.close()
    return got


def main():
    with Env() as env:
        st = kafkatest.start_store(env, conf="log:\n  default_partitions: %d\n" % PARTS)
        corpus = env.path("corpus")
        env.gen_corpus(corpus, "8M")
        events = []
        with open(corpus, "rb") as f:
            for line in f:
                if b"seq" in line:
                    events.append(line.rstrip(b"\n"))
                if len(events) == N:
                    break
        assert len(events) == N, "corpus too small"

        p = Producer({"bootstrap.servers": st.bootstrap, "enable.idempotence": True,
                      "acks": "all", "compression.type": "zstd", "linger.ms": 5,
                      "broker.address.family": "v4"})
        t0 = int(time.time() * 1000) - 3600 * 1000
        reports = {}
        errors = []

        def on_delivery(err, msg):
            if err is not None:
                errors.append(err)
            else:
                reports[msg.value()] = (msg.partition(), msg.offset(), msg.timestamp()[1])

        start = time.time()
        for i, ev in enumerate(events):
            while True:
                try:
                    p.produce("conf", key=b"src-%d" % (i % 13), value=ev, timestamp=t0 + i,
                              on_delivery=on_delivery)
                    break
                except BufferError:
                    p.poll(0.1)
            p.poll(0)
        left = p.flush(60)
        assert left == 0 and not errors, "undelivered %d, errors %s" % (left, errors[:3])
        assert len(reports) == N
        assert len({(pp, o) for pp, o, _ in reports.values()}) == N, "duplicate offsets"
        result("idempotent zstd acks=all producer: %d events in %.2fs, all delivered once"
               % (N, time.time() - start))

        kafkatest.restart(st)

        # by partition and offset
        by_part = {}
        for value, (pp, off, ts) in reports.items():
            by_part.setdefault(pp, []).append((off, ts, value))
        for pp in by_part:
            by_part[pp].sort()
        pp = 1
        start_off = by_part[pp][len(by_part[pp]) // 2][0]
        got = consume_assigned(st.bootstrap, [TopicPartition("conf", pp, start_off)],
                               len(by_part[pp]))
        want = [v for off, ts, v in by_part[pp] if off >= start_off]
        assert got and got[0].offset() == start_off, "first offset %s" % (got[0].offset() if got else None)
        assert [m.value() for m in got] == want, "partition %d from %d differs" % (pp, start_off)
        result("assign(partition %d, offset %d): %d records, exactly that range"
               % (pp, start_off, len(got)))

        # by timestamp
        target = t0 + N // 2 + 17
        c = Consumer({"bootstrap.servers": st.bootstrap, "group.id": "times",
                      "broker.address.family": "v4"})
        found = c.offsets_for_times([TopicPartition("conf", q, target) for q in range(PARTS)],
                                    timeout=10)
        c.close()
        for tp in found:
            exp = next((off for off, ts, v in by_part[tp.partition] if ts >= target), -1)
            assert tp.error is None and tp.offset == exp, \
                "offsets_for_times partition %d: %d, expected %d" % (tp.partition, tp.offset, exp)
        got = consume_assigned(st.bootstrap, found, N)
        assert all(m.timestamp()[1] >= target for m in got)
        assert len(got) == sum(1 for v in reports.values() if v[2] >= target)
        result("offsets_for_times(%d): record-exact offsets %s"
               % (target, [tp.offset for tp in found]))

        # everything, once
        got = consume_assigned(st.bootstrap, [TopicPartition("conf", q, 0) for q in range(PARTS)], N)
        print(env.check_seq(b"\n".join(m.value() for m in got) + b"\n", expect=N))
        result("read back after restart: %d events exactly once" % len(got))


if __name__ == "__main__":
    import confluent_kafka
    from harness import compat_run
    sys.exit(compat_run("confluent-kafka-python (Debian)", "%s (librdkafka %s)" % (
        confluent_kafka.version()[0], confluent_kafka.libversion()[0]),
        "idempotent zstd produce, restart, assign at offset, offsets_for_times", main))
