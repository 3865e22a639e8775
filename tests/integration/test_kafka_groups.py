# SPDX-License-Identifier: Apache-2.0
"""Consumer groups with kafka-python 2.0.2: three consumers (separate
processes) in one group on a 6-partition topic get 2 partitions each; after
they consumed the first half of the data, one is killed with SIGKILL; within
its session timeout (plus the survivors' next heartbeat) the other two own
all 6 partitions; the second half produced then is consumed by them.  Each
member commits after writing what it consumed, so across the group every
record is consumed exactly once (check_seq), and the group's committed
offsets end at the partitions' high watermarks.
"""
import os
import signal
import sys
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

import kafkatest
from sluicetest import Env, result

SESSION_MS = 3000
N = 6000
HERE = os.path.dirname(os.path.abspath(__file__))


def owned(path):
    try:
        with open(path) as f:
            return sorted(int(x) for x in f.read().split())
    except OSError:
        return None


def consumed(paths):
    n = 0
    for p in paths:
        try:
            with open(p, "rb") as f:
                n += f.read().count(b"\n")
        except OSError:
            pass
    return n


def produce(bootstrap, values):
    p = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    for i, v in enumerate(values):
        p.send("grp6", key=b"k%d" % (i % 97), value=v)
    p.flush(60)
    p.close()


def main():
    with Env() as env:
        st = kafkatest.start_store(env)
        admin = KafkaAdminClient(bootstrap_servers=st.bootstrap)
        admin.create_topics([NewTopic("grp6", 6, 1)])
        corpus = env.path("corpus")
        env.gen_corpus(corpus, "3M")
        with open(corpus, "rb") as f:
            values = [l.rstrip(b"\n") for l in f if b"seq" in l][:N]
        assert len(values) == N

        outs = [env.path("out%d" % i) for i in range(3)]
        stats = [env.path("status%d" % i) for i in range(3)]
        members = [env.spawn([sys.executable, os.path.join(HERE, "kgroup_member.py"),
                              st.bootstrap, "grp6", "g6", outs[i], stats[i], str(SESSION_MS)])
                   for i in range(3)]
        kafkatest.wait_for(lambda: all(owned(s) and len(owned(s)) == 2 for s in stats)
                           and sorted(sum((owned(s) for s in stats), [])) == list(range(6)),
                           60, "3 members with 2 partitions each")
        result("3 members joined: %s" % [owned(s) for s in stats])

        produce(st.bootstrap, values[:N // 2])
        kafkatest.wait_for(lambda: consumed(outs) >= N // 2, 60, "first half consumed")
        tps = [TopicPartition("grp6", p) for p in range(6)]

        def committed_total():
            got = admin.list_consumer_group_offsets("g6")
            return sum(got[tp].offset for tp in tps if tp in got and got[tp].offset > 0)
        # the last commits have landed (a member killed before its commit would leave
        # records to be consumed twice): the group is idle now
        kafkatest.wait_for(lambda: committed_total() == N // 2, 30,
                           "the group's commits to cover the first half")
        assert all(consumed([o]) > 0 for o in outs), "a member consumed nothing"

        t0 = time.time()
        members[2].send_signal(signal.SIGKILL)
        members[2].wait()
        kafkatest.wait_for(lambda: owned(stats[0]) and owned(stats[1]) and
                           sorted(owned(stats[0]) + owned(stats[1])) == list(range(6)),
                           SESSION_MS / 1000 + 20, "survivors to own all 6 partitions")
        took = time.time() - t0
        assert took <= SESSION_MS / 1000 + 3, "takeover took %.1fs" % took
        result("SIGKILLed one member: the other two own %s after %.1fs (session timeout %.1fs)"
               % ([owned(stats[0]), owned(stats[1])], took, SESSION_MS / 1000))

        produce(st.bootstrap, values[N // 2:])
        kafkatest.wait_for(lambda: consumed(outs) >= N, 60, "second half consumed")
        # committed offsets are the high watermarks: each member commits after it wrote
        # what it polled, so once the commits are at the ends nothing more is written
        c = KafkaConsumer(bootstrap_servers=st.bootstrap, group_id=None)
        ends = c.end_offsets(tps)
        c.close()

        def at_ends():
            got = admin.list_consumer_group_offsets("g6")
            return all(tp in got and got[tp].offset == ends[tp] for tp in tps)
        kafkatest.wait_for(at_ends, 30, "the group's commits to reach the ends")
        data = b"".join(open(o, "rb").read() for o in outs)
        print(env.check_seq(data, expect=N))
        committed = admin.list_consumer_group_offsets("g6")
        for tp in tps:
            assert committed[tp].offset == ends[tp], "%s committed %d, end %d" % (
                tp, committed[tp].offset, ends[tp])
        result("%d records consumed exactly once across the group; commits at the ends %s"
               % (N, [ends[tp] for tp in tps]))
        admin.close()


if __name__ == "__main__":
    sys.exit(main())
