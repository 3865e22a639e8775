# SPDX-License-Identifier: Apache-2.0
"""The PyPI Kafka clients against sluice-store, run with build/venv's python
(tests/python/requirements.lock) by tests/integration/test_kafka_pyclients.py:

    kafkacompat.py confluent|aiokafka BOOTSTRAP N OUT PREFIX

confluent: the newest confluent-kafka-python (its wheel bundles current
librdkafka): the idempotent producer in every codec, a consumer group whose
member 1 takes exactly half and commits and whose member 2 resumes from that
commit, and the AdminClient calls (create_topics with configs,
describe_configs, create_partitions, alter_configs, incremental_alter_configs,
delete_records, describe_cluster, list_offsets earliest/latest/max-timestamp/
for-timestamp, list_consumer_groups with a state filter,
describe_consumer_groups, delete_consumer_groups, delete_topics), and one
committed plus one aborted transaction read back with read_committed.
aiokafka: its admin client creates the topic; the idempotent producer in
every codec, a group of two successive members with explicit commits.

Each check prints one JSON line {"check", "result", "detail"}; result is
"pass", "fail" or "skip: <API> not advertised", a skip decided only from the
store's ApiVersions answer (asked here over a plain socket), so a check turns
strict by itself when the store advertises the API.  The consumed values go
to OUT, one per line, for check_seq.py.
"""
import asyncio
import json
import socket
import struct
import sys
import time
import warnings

PARTS = 3
CODECS = ("none", "gzip", "snappy", "lz4", "zstd")
API_NAMES = {2: "ListOffsets", 16: "ListGroups", 21: "DeleteRecords", 33: "AlterConfigs",
             37: "CreatePartitions", 42: "DeleteGroups", 44: "IncrementalAlterConfigs",
             60: "DescribeCluster", 24: "AddPartitionsToTxn", 26: "EndTxn"}
FAILS = 0


def advertised(bootstrap):
    """The store's ApiVersions (v0): {api key: max version}."""
    host, port = bootstrap.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as s:
        cid = b"kafkacompat"
        body = struct.pack(">hhih", 18, 0, 1, len(cid)) + cid
        s.sendall(struct.pack(">i", len(body)) + body)
        buf = b""
        while len(buf) < 4 or len(buf) < 4 + struct.unpack(">i", buf[:4])[0]:
            chunk = s.recv(65536)
            if not chunk:
                raise ConnectionError("ApiVersions: connection closed")
            buf += chunk
    _, err, n = struct.unpack(">ihi", buf[4:14])
    if err:
        raise RuntimeError("ApiVersions error %d" % err)
    return {k: mx for k, _, mx in struct.iter_unpack(">hhh", buf[14:14 + 6 * n])}


class Report:
    def __init__(self, apis):
        self.apis = apis

    def rec(self, check, fn):
        """Run one check: pass when fn returns, fail with why when it raises."""
        global FAILS
        line = {"check": check, "result": "pass"}
        try:
            fn()
        except Exception as e:  # a check's failure is reported, the run goes on
            line = {"check": check, "result": "fail", "detail": "%s: %s" % (type(e).__name__, e)}
            FAILS += 1
        print(json.dumps(line), flush=True)
        return line["result"] == "pass"

    def need(self, check, key, min_version=0):
        mx = self.apis.get(key)
        if mx is not None and mx >= min_version:
            return True
        name = API_NAMES.get(key, "API %d" % key)
        if mx is not None:
            name += " v%d" % min_version
        print(json.dumps({"check": check, "result": "skip: %s not advertised" % name}), flush=True)
        return False


def event(seq, codec):
    return "seq=%d codec=%s msg=%s" % (seq, codec, "x" * (40 + seq % 60))


def expect(cond, why):
    if not cond:
        raise AssertionError(why)


# ---------------------------------------------------------------- confluent-kafka

def confluent(rep, bootstrap, n, out, prefix):
    from confluent_kafka import (Consumer, ConsumerGroupState, ConsumerGroupTopicPartitions,
                                 KafkaException, Producer, TopicPartition)
    from confluent_kafka.admin import (AdminClient, AlterConfigOpType, ConfigEntry,
                                       ConfigResource, NewPartitions, NewTopic, OffsetSpec,
                                       ResourceType)
    common = {"bootstrap.servers": bootstrap, "broker.address.family": "v4"}
    adm = AdminClient(common)
    topic, group = prefix + "-confluent", prefix + "-confluent-group"

    def retention():
        res = ConfigResource(ResourceType.TOPIC, topic)
        return adm.describe_configs([res])[res].result(15)["retention.ms"].value

    def create():
        cfg = {"retention.ms": "3600000", "cleanup.policy": "delete",
               "compression.type": "producer", "message.timestamp.type": "CreateTime"}
        adm.create_topics([NewTopic(topic, PARTS, 1, config=cfg)])[topic].result(15)
        expect(retention() == "3600000", "retention.ms described as %r" % retention())
    if not rep.rec("create_topics with configs + describe_configs", create):
        try:
            adm.create_topics([NewTopic(topic, PARTS, 1)])[topic].result(15)
        except KafkaException:
            pass  # it may exist already: the config check failed after creating

    # produce: the idempotent producer, every codec, explicit timestamps
    base = int(time.time() * 1000) - 3600 * 1000
    per = n // len(CODECS)
    written = {}  # partition -> [(offset, timestamp)]
    for i, codec in enumerate(CODECS):
        def produce(i=i, codec=codec):
            p = Producer(dict(common, **{"enable.idempotence": True, "acks": "all",
                                         "compression.type": codec, "linger.ms": 5}))
            errs, seen = [], set()

            def dr(err, msg):
                if err:
                    errs.append(err)
                    return
                key = (msg.partition(), msg.offset())
                if key in seen:
                    errs.append("offset %s reported twice" % (key,))
                seen.add(key)
                written.setdefault(msg.partition(), []).append((msg.offset(), msg.timestamp()[1]))
            for s in range(i * per, (i + 1) * per):
                p.produce(topic, event(s, codec).encode(), key=b"k%d" % s,
                          timestamp=base + s, on_delivery=dr)
                p.poll(0)
            left = p.flush(30)
            expect(left == 0 and not errs, "%d undelivered, errors %s" % (left, errs[:3]))
            expect(len(seen) == per, "%d delivery reports for %d" % (len(seen), per))
        rep.rec("produce %s (idempotent)" % codec, produce)

    # the group: member 1 consumes exactly half and commits, member 2 resumes
    vals = []

    def member(upto, first, during=None):
        c = Consumer(dict(common, **{"group.id": group, "enable.auto.commit": False,
                                     "auto.offset.reset": "earliest"}))
        c.subscribe([topic])
        nxt = {}
        deadline = time.time() + 25
        try:
            while len(vals) < upto:
                expect(time.time() < deadline, "timed out with %d values" % len(vals))
                m = c.poll(0.5)
                if m is None:
                    continue
                if m.error():
                    raise KafkaException(m.error())
                first.setdefault(m.partition(), m.offset())
                nxt[m.partition()] = m.offset() + 1
                vals.append(m.value().decode())
            c.commit(offsets=[TopicPartition(topic, p, o) for p, o in nxt.items()],
                     asynchronous=False)
            if during:
                during()
        finally:
            c.close()

    def committed():
        got = adm.list_consumer_group_offsets(
            [ConsumerGroupTopicPartitions(group)])[group].result(15)
        return {tp.partition: tp.offset for tp in got.topic_partitions
                if tp.topic == topic and tp.offset >= 0}
    c1 = {}

    def m1():
        member(n // 2, {})
        c1.update(committed())
        expect(len(vals) == n // 2 and sum(c1.values()) == len(vals),
               "committed %s after consuming %d" % (c1, len(vals)))
    ok1 = rep.rec("consume with group + commit (member 1)", m1)

    def describe_live():
        d = adm.describe_consumer_groups([group])[group].result(15)
        expect(d.state == ConsumerGroupState.STABLE and len(d.members) == 1,
               "described %s with %d members" % (d.state, len(d.members)))

    def m2():
        first = {}
        member(n, first, lambda: rep.rec("describe_consumer_groups (live member)", describe_live))
        for p, o in first.items():
            expect(o == c1.get(p, 0), "member 2 started partition %d at %d, committed %s"
                   % (p, o, c1.get(p)))
        expect(len(vals) == n and first, "consumed %d of %d" % (len(vals), n))
        got = committed()
        expect(sum(got.values()) == n, "committed %s after consuming all %d" % (got, n))
    if ok1:
        rep.rec("resume from commit (member 2) + list_consumer_group_offsets", m2)
    with open(out, "w") as f:
        f.write("".join(v + "\n" for v in sorted(vals)))

    tps = [TopicPartition(topic, p) for p in range(PARTS)]

    def offsets(spec):
        fs = adm.list_offsets({tp: spec for tp in tps})
        return {tp.partition: f.result(15).offset for tp, f in fs.items()}

    def earliest_latest():
        lo, hi = offsets(OffsetSpec.earliest()), offsets(OffsetSpec.latest())
        for p in range(PARTS):
            expect(lo[p] == 0 and hi[p] == len(written.get(p, ())),
                   "partition %d: earliest %d latest %d, produced %d"
                   % (p, lo[p], hi[p], len(written.get(p, ()))))
    rep.rec("list_offsets earliest + latest", earliest_latest)

    def for_timestamp():
        at = base + n // 2
        got = offsets(OffsetSpec.for_timestamp(at))
        for p in range(PARTS):
            want = min((o for o, ts in written.get(p, ()) if ts >= at), default=-1)
            expect(got[p] == want or (want == -1 and got[p] == len(written.get(p, ()))),
                   "partition %d: offset for %d is %d, want %d" % (p, at, got[p], want))
    rep.rec("list_offsets for_timestamp", for_timestamp)

    if rep.need("list_offsets max_timestamp", 2, 7):
        def max_ts():
            got = offsets(OffsetSpec.max_timestamp())
            for p in range(PARTS):
                want = max(written.get(p, [(-1, -1)]), key=lambda ot: ot[1])[0]
                expect(got[p] == want, "partition %d: max-timestamp offset %d, want %d"
                       % (p, got[p], want))
        rep.rec("list_offsets max_timestamp", max_ts)

    def listed(states=None):
        kw = {"states": states} if states else {}
        r = adm.list_consumer_groups(**kw).result(15)
        expect(not r.errors, "errors %s" % r.errors)
        return {g.group_id: g for g in r.valid}

    def list_groups():
        expect(group in listed(), "%s not listed" % group)
    rep.rec("list_consumer_groups", list_groups)
    if rep.need("list_consumer_groups state filter", 16, 4):
        def by_state():
            expect(group in listed({ConsumerGroupState.EMPTY}), "%s not listed as EMPTY" % group)
            expect(group not in listed({ConsumerGroupState.STABLE}),
                   "empty %s listed under STABLE" % group)
        rep.rec("list_consumer_groups state filter", by_state)

    def describe_empty():
        d = adm.describe_consumer_groups([group])[group].result(15)
        expect(d.state == ConsumerGroupState.EMPTY and not d.members,
               "described %s with %d members" % (d.state, len(d.members)))
    rep.rec("describe_consumer_groups (empty)", describe_empty)

    if rep.need("describe_cluster", 60):
        def cluster():
            d = adm.describe_cluster().result(15)
            expect(len(d.nodes) == 1 and d.cluster_id and d.controller is not None
                   and d.controller.id == d.nodes[0].id,
                   "cluster %r, nodes %s, controller %s" % (d.cluster_id, d.nodes, d.controller))
            expect(d.nodes[0].port == int(bootstrap.rsplit(":", 1)[1]), "node %s" % d.nodes[0])
        rep.rec("describe_cluster", cluster)

    if rep.need("incremental_alter_configs", 44):
        def incr():
            res = ConfigResource(ResourceType.TOPIC, topic, incremental_configs=[
                ConfigEntry("retention.ms", "7200000",
                            incremental_operation=AlterConfigOpType.SET)])
            adm.incremental_alter_configs([res])[res].result(15)
            expect(retention() == "7200000", "retention.ms is %r after setting 7200000"
                   % retention())
        rep.rec("incremental_alter_configs", incr)
    if rep.need("alter_configs", 33):
        def alter():
            res = ConfigResource(ResourceType.TOPIC, topic,
                                 set_config={"retention.ms": "10800000"})
            with warnings.catch_warnings():  # deprecated by the client, still Kafka's API
                warnings.simplefilter("ignore", DeprecationWarning)
                adm.alter_configs([res])[res].result(15)
            expect(retention() == "10800000", "retention.ms is %r after setting 10800000"
                   % retention())
        rep.rec("alter_configs", alter)

    if rep.need("delete_records", 21):
        def delete_records():
            tp = TopicPartition(topic, 0, 5)
            r = adm.delete_records([tp])[tp].result(15)
            expect(r.low_watermark == 5, "low watermark %d" % r.low_watermark)
            expect(offsets(OffsetSpec.earliest())[0] == 5, "earliest is not 5 after deleting")
        rep.rec("delete_records", delete_records)
    if rep.need("create_partitions", 37):
        def partitions():
            adm.create_partitions([NewPartitions(topic, PARTS + 1)])[topic].result(15)
            deadline = time.time() + 10  # librdkafka's metadata cache, not the store
            while len(adm.list_topics(topic, timeout=10).topics[topic].partitions) != PARTS + 1:
                expect(time.time() < deadline, "partition count did not become %d" % (PARTS + 1))
                time.sleep(0.1)
        rep.rec("create_partitions", partitions)
    if rep.need("delete_consumer_groups", 42):
        def delete_groups():
            adm.delete_consumer_groups([group])[group].result(15)
            expect(group not in listed(), "%s still listed" % group)
        rep.rec("delete_consumer_groups", delete_groups)

    check = "transactions: commit + abort, read_committed"
    if rep.need(check, 24) and rep.need(check, 26):
        rep.rec(check, lambda: confluent_txn(adm, common, prefix + "-confluent-txn"))

    def delete_topic():
        adm.delete_topics([topic])[topic].result(15)
        deadline = time.time() + 10
        while topic in adm.list_topics(timeout=10).topics:
            expect(time.time() < deadline, "%s still listed" % topic)
            time.sleep(0.1)
    rep.rec("delete_topics", delete_topic)


def confluent_txn(adm, common, topic):
    """One committed and one aborted transaction; a read_committed consumer
    sees exactly the committed records, a read_uncommitted one both."""
    from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
    from confluent_kafka.admin import NewTopic
    adm.create_topics([NewTopic(topic, 1, 1)])[topic].result(15)
    p = Producer(dict(common, **{"transactional.id": topic, "transaction.timeout.ms": 10000}))
    p.init_transactions(15)
    for commit in (True, False):
        p.begin_transaction()
        for i in range(10):
            p.produce(topic, b"txn commit=%d i=%d" % (commit, i))
        if commit:
            p.commit_transaction(15)
        else:
            p.flush(15)
            p.abort_transaction(15)

    def read(level, want):
        c = Consumer(dict(common, **{"group.id": topic + "-" + level, "isolation.level": level,
                                     "enable.auto.commit": False, "enable.partition.eof": True}))
        c.assign([TopicPartition(topic, 0, 0)])
        got, deadline = [], time.time() + 10
        try:
            while time.time() < deadline:
                m = c.poll(0.5)
                if m is None:
                    continue
                if m.error():
                    if m.error().code() == -191 and len(got) >= want:  # _PARTITION_EOF
                        break
                    if m.error().code() != -191:
                        raise KafkaException(m.error())
                    continue
                got.append(m.value())
        finally:
            c.close()
        return got
    committed, every = read("read_committed", 10), read("read_uncommitted", 20)
    expect(committed == [b"txn commit=1 i=%d" % i for i in range(10)] and len(every) == 20,
           "read_committed saw %d (want the 10 committed), read_uncommitted %d (want 20)"
           % (len(committed), len(every)))
    adm.delete_topics([topic])[topic].result(15)


# ---------------------------------------------------------------- aiokafka

async def aio(rep, bootstrap, n, out, prefix):
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    topic, group = prefix + "-aiokafka", prefix + "-aiokafka-group"
    codecs = (None, "gzip", "snappy", "lz4", "zstd")  # the last three through cramjam
    results = []

    async def rec(check, coro_fn):
        global FAILS
        line = {"check": check, "result": "pass"}
        try:
            await asyncio.wait_for(coro_fn(), 40)
        except Exception as e:
            line = {"check": check, "result": "fail", "detail": "%s: %s" % (type(e).__name__, e)}
            FAILS += 1
        print(json.dumps(line), flush=True)
        results.append(line)
        return line["result"] == "pass"

    async def create():
        adm = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await adm.start()
        try:
            await adm.create_topics([NewTopic(topic, PARTS, 1)])
            md = await adm.describe_topics([topic])
            expect(len(md[0]["partitions"]) == PARTS, "described %s" % md)
        finally:
            await adm.close()
    if not await rec("admin create_topics + describe_topics", create):
        return

    per = n // len(codecs)
    for i, codec in enumerate(codecs):
        async def produce(i=i, codec=codec):
            p = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True,
                                 acks="all", compression_type=codec)
            await p.start()
            try:
                futs = [await p.send(topic, event(s, codec or "none").encode(),
                                     key=b"k%d" % s) for s in range(i * per, (i + 1) * per)]
                mds = await asyncio.gather(*futs)
                offs = {(m.partition, m.offset) for m in mds}
                expect(len(offs) == per, "%d distinct offsets for %d sends" % (len(offs), per))
            finally:
                await p.stop()
        await rec("produce %s (idempotent)" % (codec or "none"), produce)

    vals = []

    async def member(upto, first):
        c = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group,
                             enable_auto_commit=False, auto_offset_reset="earliest")
        await c.start()
        nxt = {}
        try:
            while len(vals) < upto:
                got = await c.getmany(timeout_ms=500, max_records=upto - len(vals))
                for tp, msgs in got.items():
                    for m in msgs:
                        first.setdefault(tp.partition, m.offset)
                        nxt[tp] = m.offset + 1
                        vals.append(m.value.decode())
            await c.commit({tp: o for tp, o in nxt.items()})
            return {tp.partition: await c.committed(TopicPartition(topic, tp.partition))
                    for tp in nxt}
        finally:
            await c.stop()
    c1 = {}

    async def m1():
        c1.update(await member(len(codecs) * per // 2, {}))
        expect(sum(c1.values()) == len(vals) == len(codecs) * per // 2,
               "committed %s after consuming %d" % (c1, len(vals)))
    if await rec("consume with group + commit (member 1)", m1):
        async def m2():
            first = {}
            await member(len(codecs) * per, first)
            for p, o in first.items():
                expect(o == c1.get(p, 0), "member 2 started partition %d at %d, committed %s"
                       % (p, o, c1.get(p)))
            expect(first and len(vals) == len(codecs) * per, "consumed %d" % len(vals))
        await rec("resume from commit (member 2)", m2)
    with open(out, "w") as f:
        f.write("".join(v + "\n" for v in sorted(vals)))


def main():
    client, bootstrap, n, out, prefix = sys.argv[1:6]
    rep = Report(advertised(bootstrap))
    if client == "confluent":
        confluent(rep, bootstrap, int(n), out, prefix)
    elif client == "aiokafka":
        asyncio.run(aio(rep, bootstrap, int(n), out, prefix))
    else:
        sys.exit("unknown client " + client)
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
