# SPDX-License-Identifier: Apache-2.0
"""Committed offsets survive kill -9 (confluent-kafka-python 1.7.0).

A group consumer reads the first 500 records of each partition of a
2-partition topic, commits exactly those synchronously, and stops.  The store is killed with SIGKILL and restarted;
a new consumer of the same group starts exactly at the committed offsets
(the first record of each partition is at its committed offset), and what
the two consumers read together is every record exactly once.
"""
# harness: quick
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition

import kafkatest
from sluicetest import Env, result

N = 4000


def consumer(bootstrap):
    return Consumer({"bootstrap.servers": bootstrap, "group.id": "cg1",
                     "enable.auto.commit": False, "auto.offset.reset": "earliest",
                     "session.timeout.ms": 6000, "heartbeat.interval.ms": 500,
                     "broker.address.family": "v4"})


def main():
    with Env() as env:
        # the two consumers run one after the other, each the group's only
        # member: no use waiting Kafka's 3 s initial delay for more
        st = kafkatest.start_store(env, conf="log:\n  default_partitions: 2\n"
                                   "groups:\n  initial_rebalance_delay: 0\n")
        corpus = env.path("corpus")
        env.gen_corpus(corpus, "2M")
        with open(corpus, "rb") as f:
            values = [l.rstrip(b"\n") for l in f if b"seq" in l][:N]
        p = Producer({"bootstrap.servers": st.bootstrap, "acks": "all",
                      "broker.address.family": "v4"})
        for i, v in enumerate(values):
            p.produce("cg", key=b"k%d" % (i % 31), value=v)
            p.poll(0)
        assert p.flush(30) == 0

        # read 500 records of each partition, commit exactly those
        c = consumer(st.bootstrap)
        c.subscribe(["cg"])
        first, per = [], {0: 0, 1: 0}
        deadline = time.time() + 60
        while min(per.values()) < 500 and time.time() < deadline:
            m = c.poll(1.0)
            if m is None or m.error() or per[m.partition()] >= 500:
                continue
            first.append(m)
            per[m.partition()] += 1
            if per[m.partition()] == 500:
                c.pause([TopicPartition("cg", m.partition())])
        assert per == {0: 500, 1: 500}, "first consumer read %s" % per
        offsets = [TopicPartition("cg", part, max(m.offset() for m in first
                                                 if m.partition() == part) + 1)
                   for part in (0, 1)]
        c.commit(offsets=offsets, asynchronous=False)
        committed = {tp.partition: tp.offset
                     for tp in c.committed([TopicPartition("cg", 0), TopicPartition("cg", 1)],
                                           timeout=10)}
        c.close()
        assert committed == {0: 500, 1: 500}, committed
        result("consumer read %d and committed %s" % (len(first), committed))

        kafkatest.restart(st, kill=True)
        result("store killed with SIGKILL and restarted")

        c = consumer(st.bootstrap)
        c.subscribe(["cg"])
        second, firsts = [], {}
        deadline = time.time() + 60
        while len(first) + len(second) < N and time.time() < deadline:
            m = c.poll(1.0)
            if m is None or m.error():
                continue
            firsts.setdefault(m.partition(), m.offset())
            second.append(m)
        c.close()
        assert sorted(firsts) == [0, 1], firsts
        for part, off in firsts.items():
            assert off == committed[part], "partition %d resumed at %d, committed %d" % (
                part, off, committed[part])
        print(env.check_seq(b"\n".join(m.value() for m in first + second) + b"\n", expect=N))
        result("new consumer resumed at %s: %d records, exactly once overall"
               % (firsts, len(second)))


if __name__ == "__main__":
    sys.exit(main())
