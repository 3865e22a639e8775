# SPDX-License-Identifier: Apache-2.0
"""The kafka input end to end: agent A tails a numbered corpus (four files)
into sluice-store (topic "app", four partitions); agents B1 and B2, two
members of one consumer group, consume "app" into a file output each and an
elasticsearch_bulk http output to one receiver.  B1 is killed -9 while the
stream runs (B2 takes its partitions over) and started again with its data
dir (its spool delivers what it held).

Checks: the receiver, which de-duplicates documents by _id as Elasticsearch
does, holds every event exactly once (the kafka input's provenance headers
make _id = topic/partition/offset); the union of the two file outputs holds
every event, and every repeat in it is the same Kafka record (same
topic/partition/offset) delivered by both members -- the documented
crash window -- so de-duplicated by provenance it is exactly once too.
Headers kafka.topic/partition/offset, the record key and timestamp are
checked on the file output's records."""
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from agentkit import Agent, Writer, corpus, store_config, wait_until  # noqa: E402
from http_receiver import Receiver  # noqa: E402
from sluicetest import SHARED, Env, result  # noqa: E402

SEQ = re.compile(r'(?:seq=|"seq": ?)(\d+)')
RANGE = 1000000


def check_ranges(values, expects):
    """check_seq.py over each file's range of sequence numbers (the corpus
    files start at i * RANGE); returns the summed counts."""
    by = [[] for _ in expects]
    for v in values:
        m = SEQ.search(v)
        assert m, "no seq in %r" % v[:100]
        by[int(m.group(1)) // RANGE].append(v)
    tot = [0, 0, 0]
    for i, n in enumerate(expects):
        r = subprocess.run([sys.executable, os.path.join(SHARED, "bench/check_seq.py"),
                            "--start-seq", str(i * RANGE), "--expect", str(n)],
                           input="\n".join(by[i]).encode() + b"\n", capture_output=True)
        line = r.stdout.decode().strip()
        assert r.returncode == 0, "check_seq range %d: %s" % (i, line)
        for j, k in enumerate(("events", "missing", "duplicated")):
            tot[j] += int(re.search(k + r"=(\d+)", line).group(1))
    return "events=%d missing=%d duplicated=%d" % tuple(tot)

CONSUMER = """
agent:
  name: {name}
  data_dir: {data}
  http: {{ listen: @HTTP@ }}
  shutdown_timeout: 10s
inputs:
  - id: fromstore
    type: kafka
    brokers: {brokers}
    topics: [app]
    group: central
    commit_interval: 100ms
    topic: consumed
    librdkafka: {{ session.timeout.ms: "6000", heartbeat.interval.ms: "500" }}
outputs:
  - id: file
    type: file
    path: {data}/out.ndjson
    format: ndjson
    batch: {{ max_bytes: 256KiB, max_delay_ms: 50 }}
  - id: es
    type: http
    url: {url}
    format: elasticsearch_bulk
    batch: {{ max_bytes: 256KiB, max_delay_ms: 50 }}
    retry: {{ initial_delay: 50ms, max_delay: 1s }}
"""


HANDOVER = """
agent:
  name: {name}
  data_dir: {data}
  http: {{ listen: @HTTP@ }}
  shutdown_timeout: 20s
  buffer: {{ max_bytes: 1MiB }}
inputs:
  - id: fromstore
    type: kafka
    brokers: {brokers}
    topics: [app]
    group: handover
    commit_interval: 100ms
    topic: consumed
outputs:
  - id: web
    type: http
    url: {url}
    format: ndjson
    max_request_bytes: 64KiB
    batch: {{ max_bytes: 64KiB, max_delay_ms: 20 }}
"""


def handover(env, store, expects):
    """A clean stop (SIGTERM) of a member mid-stream hands its partitions
    over without a single repeat: the member exits its kafka input only
    after what it emitted is spooled and committed.  Into an ndjson
    receiver that keeps every copy, slowed so the stream lasts."""
    events = sum(expects)
    with Receiver("ndjson", slow=0.03) as rcv:
        cs = [Agent(env, HANDOVER.format(name=n, data=env.path(n), brokers=store.bootstrap,
                                         url=rcv.url), name=n) for n in ("c1", "c2")]
        for c in cs:
            c.start()
        wait_until(lambda: rcv.count() > events // 4, 120, "a quarter at the ndjson receiver")
        assert cs[1].term() == 0
        n = rcv.count()
        assert n < events * 0.9, "the stream ended before the stop (%d of %d)" % (n, events)
        wait_until(lambda: rcv.count() >= events, 180, "every event after the handover")
        # c2 starts again (its spool, if anything was left, is delivered)
        cs[1].start()
        for c in cs:
            assert c.term() == 0
        with rcv.lock:
            vals = list(rcv.values)
    return check_ranges(vals, expects), n


def create_topic(bootstrap, topic, partitions):
    from confluent_kafka.admin import AdminClient, NewTopic
    a = AdminClient({"bootstrap.servers": bootstrap})
    f = a.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])
    f[topic].result(30)


def file_records(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                if line.strip():
                    out.append(json.loads(line))
    except FileNotFoundError:
        pass
    return out


def hdr(rec, name):
    h = rec.get("headers") or {}
    if isinstance(h, dict):
        return h.get(name)
    for e in h:
        if e.get("key") == name:
            return e.get("value")
    return None


def main():
    with Env() as env:
        store = env.start_store()
        create_topic(store.bootstrap, "app", 4)
        logs = env.path("logs")
        os.makedirs(logs)
        expects = [corpus(env, env.path("c%d.log" % i), "1500K", "--seed", str(i),
                          "--start-seq", str(i * RANGE)) for i in range(4)]
        events = sum(expects)
        # four applications writing for about 15 s, so the kill and the
        # takeover happen while records stream
        writers = [Writer(env.path("c%d.log" % i), os.path.join(logs, "f%d.log" % i), 100 << 10,
                          chunk=8192)
                   for i in range(4)]
        with Receiver("elasticsearch_bulk") as rcv:
            a = Agent(env, store_config(env, store, logs, input_id="app",
                                        extra_input="    topic: app\n"), name="agentA")
            bs = []
            for n in ("b1", "b2"):
                bs.append(Agent(env, CONSUMER.format(name=n, data=env.path(n),
                                                     brokers=store.bootstrap, url=rcv.url),
                                name=n))
            bs[0].start()
            bs[1].start()
            a.start()
            for w in writers:
                w.start()
            wait_until(lambda: rcv.count() > events // 5, 120, "a fifth at the receiver")
            bs[0].kill()
            # B2 takes every partition over once B1's session times out
            wait_until(lambda: bs[1].metric('sluice_agent_kafka_in_partitions{input="fromstore"}')
                       == 4, 60, "B2 owning the four partitions")
            n = rcv.count()
            wait_until(lambda: rcv.count() > n + 1000, 60, "B2 delivering B1's partitions")
            bs[0].start()
            for w in writers:
                w.join()
                assert w.error is None, w.error
            seqs = set()

            # the receiver keeps a document's value only the first time its
            # _id comes (a repeat is answered 409)
            wait_until(lambda: rcv.count() >= events, 180, "every event at the receiver")
            assert not rcv.errors, rcv.errors[:3]
            with rcv.lock:
                vals = list(rcv.values)
            es_line = check_ranges(vals, expects)
            # the receiver keeps only the documents it accepted (201)
            assert len(vals) == events, (len(vals), events)
            # both members' spools are delivered once everything is in
            recs = []

            def files_complete():
                recs[:] = file_records(env.path("b1", "out.ndjson")) + \
                    file_records(env.path("b2", "out.ndjson"))
                return len({(hdr(r, "kafka.partition"), hdr(r, "kafka.offset"))
                            for r in recs}) >= events
            wait_until(files_complete, 120, "every event in the file outputs")
            for b in bs:
                assert b.term() == 0
            a.term()
        by_pos = {}
        repeats = 0
        for r in recs:
            pos = (hdr(r, "kafka.topic"), hdr(r, "kafka.partition"), hdr(r, "kafka.offset"))
            assert pos[0] == "app" and pos[1] is not None and pos[2] is not None, r
            if pos in by_pos:
                assert by_pos[pos] == r["value"], "same position, different record: %r" % (pos,)
                repeats += 1
            by_pos[pos] = r["value"]
            seqs.add(pos)
        assert any(r.get("key") for r in recs), "record keys are carried"
        now_ms = time.time() * 1000
        assert all(abs(r["timestamp"] - now_ms) < 3600e3 for r in recs[:100]), recs[0]
        raw_line = "raw union: %d records, %d repeated positions" % (len(recs), repeats)
        file_line = check_ranges(list(by_pos.values()), expects)
        hand_line, at = handover(env, store, expects)
        result("SIGTERM of a member after %d events, partitions handed over: %s" %
               (at, hand_line))
        result("es(_id dedup) %s; files by position %s; %s" % (es_line, file_line, raw_line))


if __name__ == "__main__":
    main()
