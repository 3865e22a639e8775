# SPDX-License-Identifier: Apache-2.0
"""Static membership (KIP-345), DeleteGroups and OffsetDelete against the
store, with confluent-kafka-python (librdkafka) consumers, kafka-python's
admin client and raw requests.

Two consumers with group.instance.id "a" and "b" start together on a
4-partition topic (the store's default 3 s initial rebalance delay gathers
them into one generation).  "b" is closed (a static member sends no
LeaveGroup) and restarted with the same instance id: it gets its old
partitions back and "a" sees no rebalance (its assign/revoke callback
counts do not move).  A third consumer with instance id "b" while the
restarted one runs takes the instance over: the fenced one gets
FENCED_INSTANCE_ID (fatal in librdkafka), "a" still sees nothing.

DescribeGroups (kafka-python admin) shows the two static members, raw v3
carries the authorized operations when asked (INT32_MIN when not);
FindCoordinator for a transactional id names this broker;
OffsetDelete of the subscribed topic is GROUP_SUBSCRIBED_TO_TOPIC, of
another topic NONE (the offset is gone); DeleteGroups of the active group is
NON_EMPTY_GROUP; once the static members' session timeout removed them the
group is deleted with its committed offsets, also after a store restart,
and a second delete is GROUP_ID_NOT_FOUND.
"""
import struct
import sys
import time

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from kafka import KafkaAdminClient

import kafkatest

from sluicetest import Env, result, wait_until

TOPIC = "sm"
GROUP = "sg"
SESSION_MS = 6000

class Member:
    """A confluent-kafka consumer counting its rebalance callbacks."""

    def __init__(self, bootstrap, instance):
        self.assigns = 0
        self.revokes = 0
        self.parts = []
        self.errors = []
        self.c = Consumer({"bootstrap.servers": bootstrap, "group.id": GROUP,
                           "group.instance.id": instance,
                           "session.timeout.ms": SESSION_MS, "heartbeat.interval.ms": 300,
                           "enable.auto.commit": False, "auto.offset.reset": "earliest",
                           "broker.address.family": "v4",
                           "error_cb": self.errors.append})
        self.c.subscribe([TOPIC], on_assign=self.on_assign, on_revoke=self.on_revoke)

    def on_assign(self, c, parts):
        self.assigns += 1
        self.parts = sorted(p.partition for p in parts)

    def on_revoke(self, c, parts):
        self.revokes += 1
        self.parts = []

    def poll(self):
        m = self.c.poll(0.1)
        if m is not None and m.error():
            self.errors.append(m.error())

    def fenced(self):
        return any(e.code() in (KafkaError.FENCED_INSTANCE_ID, KafkaError._FATAL)
                   for e in self.errors)

def poll_all(members, pred, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for m in members:
            m.poll()
        if pred():
            return
    raise AssertionError("timed out waiting for " + what)

def str16(s):
    b = s.encode()
    return struct.pack(">h", len(b)) + b

def offset_delete(store, group, topics):
    """OffsetDelete v0, raw: {topic: [partitions]} -> (error, {(t, p): error})."""
    raw = kafkatest.RawClient(store)
    try:
        body = str16(group) + struct.pack(">i", len(topics))
        for t, parts in topics.items():
            body += str16(t) + struct.pack(">i", len(parts))
            body += b"".join(struct.pack(">i", p) for p in parts)
        hdr = struct.pack(">hhi", 47, 0, 7) + str16("offdel")
        raw.send_raw(struct.pack(">i", len(hdr) + len(body)) + hdr + body)
        f = raw.recv_frame()
    finally:
        raw.close()
    corr, err, _throttle, nt = struct.unpack(">ihii", f[:14])
    assert corr == 7
    at, out = 14, {}
    for _ in range(nt):
        n = struct.unpack(">h", f[at:at + 2])[0]
        t = f[at + 2:at + 2 + n].decode()
        at += 2 + n
        np_ = struct.unpack(">i", f[at:at + 4])[0]
        at += 4
        for _ in range(np_):
            p, e = struct.unpack(">ih", f[at:at + 6])
            out[(t, p)] = e
            at += 6
    return err, out

def raw_checks(store):
    """DescribeGroups v3 authorized operations (KIP-430) and FindCoordinator
    for a transactional id (key type 1), encoded with kafka-python's classes."""
    from kafka.protocol.admin import DescribeGroupsRequest_v3
    from kafka.protocol.commit import GroupCoordinatorRequest_v1
    raw = kafkatest.RawClient(store)
    try:
        for want_ops, expect in ((True, (1 << 3) | (1 << 6) | (1 << 8)), (False, -2 ** 31)):
            # kafka-python's v3 response class lacks authorized_operations: parse it here
            data, corr = raw.encode(DescribeGroupsRequest_v3(
                groups=[GROUP], include_authorized_operations=want_ops))
            raw.send_raw(data)
            f = raw.recv_frame()
            assert struct.unpack(">iii", f[:12]) == (corr, 0, 1), f[:12]
            at = 14  # past the group's error code
            assert f[12:14] == b"\x00\x00", f[12:14]
            for _ in range(4):  # group id, state, protocol type, protocol
                at += 2 + struct.unpack(">h", f[at:at + 2])[0]
            nm = struct.unpack(">i", f[at:at + 4])[0]
            at += 4
            for _ in range(nm):
                for _ in range(3):  # member id, client id, host
                    at += 2 + struct.unpack(">h", f[at:at + 2])[0]
                for _ in range(2):  # metadata, assignment
                    at += 4 + struct.unpack(">i", f[at:at + 4])[0]
            ops = struct.unpack(">i", f[at:at + 4])[0]
            assert ops == expect and at + 4 == len(f), (want_ops, ops, at, len(f))
        # kafka-python's v1 response class has no throttle_time_ms: parse it here
        data, corr = raw.encode(GroupCoordinatorRequest_v1(coordinator_key="tx-1",
                                                           coordinator_type=1))
        raw.send_raw(data)
        f = raw.recv_frame()
        got = struct.unpack(">iihhi", f[:16])  # corr, throttle, error, null message, node
        assert got == (corr, 0, 0, -1, 0), got
        assert struct.unpack(">i", f[-4:])[0] == store.kafka_port, f
    finally:
        raw.close()
    result("DescribeGroups v3: READ|DELETE|DESCRIBE when asked; "
           "FindCoordinator(TRANSACTION): this broker")


def committed(admin, group):
    return {(tp.topic, tp.partition): m.offset
            for tp, m in admin.list_consumer_group_offsets(group).items()}

def main():
    with Env() as env:
        st = kafkatest.start_store(env, conf="log:\n  default_partitions: 4\n")
        p = Producer({"bootstrap.servers": st.bootstrap, "broker.address.family": "v4"})
        for i in range(200):
            p.produce(TOPIC, key=b"k%d" % i, value=b"v%d" % i)
            p.produce("other", key=b"k%d" % i, value=b"v%d" % i)
        assert p.flush(30) == 0

        a, b = Member(st.bootstrap, "a"), Member(st.bootstrap, "b")
        t0 = time.time()
        poll_all([a, b], lambda: sorted(a.parts + b.parts) == [0, 1, 2, 3], 60,
                 "both static members assigned")
        result("two static members: a %s, b %s after %.1f s (%d/%d assign callbacks)"
               % (a.parts, b.parts, time.time() - t0, a.assigns, b.assigns))
        a_assigns, a_revokes, b_parts = a.assigns, a.revokes, b.parts

        # restart b with the same instance id: no rebalance for a
        b.c.close()
        b2 = Member(st.bootstrap, "b")
        poll_all([a, b2], lambda: b2.parts, 30, "restarted b assigned")
        for _ in range(20):  # a heartbeat or two of a
            a.poll()
        assert b2.parts == b_parts, (b2.parts, b_parts)
        assert (a.assigns, a.revokes) == (a_assigns, a_revokes), \
            "a saw a rebalance: %d/%d assigns, %d/%d revokes" % (
                a.assigns, a_assigns, a.revokes, a_revokes)
        result("b restarted with instance id b: got %s back, a saw no rebalance" % b2.parts)

        # a duplicate instance id takes over; the running one is fenced
        b3 = Member(st.bootstrap, "b")
        poll_all([a, b2, b3], lambda: b3.parts and b2.fenced(), 30,
                 "FENCED_INSTANCE_ID for the replaced member")
        assert (a.assigns, a.revokes) == (a_assigns, a_revokes)
        result("duplicate instance b: the old one got %s" % [str(e) for e in b2.errors][:1])

        admin = KafkaAdminClient(bootstrap_servers=st.bootstrap, client_id="adm")
        desc = admin.describe_consumer_groups([GROUP])[0]
        assert desc.state == "Stable" and len(desc.members) == 2, desc
        assert GROUP in [g for g, _ in admin.list_consumer_groups()]
        result("describe: %s, %d members" % (desc.state, len(desc.members)))
        raw_checks(st)

        # OffsetDelete: refused for the subscribed topic only
        a.c.commit(offsets=[TopicPartition(TOPIC, 0, 5), TopicPartition("other", 0, 6)],
                   asynchronous=False)
        err, parts = offset_delete(st, GROUP, {TOPIC: [0], "other": [0]})
        assert err == 0 and parts == {(TOPIC, 0): 86, ("other", 0): 0}, (err, parts)
        assert committed(admin, GROUP) == {(TOPIC, 0): 5}, committed(admin, GROUP)
        err, _ = offset_delete(st, "nosuchgroup", {TOPIC: [0]})
        assert err == 69, err
        result("OffsetDelete: subscribed topic GROUP_SUBSCRIBED_TO_TOPIC, other deleted")

        # DeleteGroups: refused while members are active
        res = admin.delete_consumer_groups([GROUP])
        assert res[0][1].errno == 68, res  # NON_EMPTY_GROUP
        for m in (a, b3):
            m.c.close()  # static: no LeaveGroup, the session timeout removes them
        b2.c.close()
        wait_until(lambda: admin.describe_consumer_groups([GROUP])[0].state == "Empty",
                   SESSION_MS / 1000 + 20, "static members removed by the session timeout")
        res = admin.delete_consumer_groups([GROUP])
        assert res[0][1].errno == 0, res
        assert committed(admin, GROUP) == {}
        assert GROUP not in [g for g, _ in admin.list_consumer_groups()]
        res = admin.delete_consumer_groups([GROUP])
        assert res[0][1].errno == 69, res  # GROUP_ID_NOT_FOUND
        admin.close()
        kafkatest.restart(st, kill=True)
        admin = KafkaAdminClient(bootstrap_servers=st.bootstrap, client_id="adm")
        assert committed(admin, GROUP) == {}
        assert GROUP not in [g for g, _ in admin.list_consumer_groups()]
        admin.close()
        result("DeleteGroups: NON_EMPTY_GROUP while active; deleted once empty, "
               "also after kill -9; then GROUP_ID_NOT_FOUND")

if __name__ == "__main__":
    sys.exit(main())
