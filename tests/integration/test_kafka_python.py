# SPDX-License-Identifier: Apache-2.0
"""kafka-python 2.0.2 against sluice-store.

Admin: create topics (with partitions and a retention config), creating an
existing one fails with TopicAlreadyExistsError, an invalid name with
InvalidTopicError, a replication factor of 3 with InvalidReplicationFactor;
describe_configs reports the retention set at creation; delete_topics removes
a topic from the listing.  Producers with gzip and with lz4 write corpus
events; a consumer reads both topics back: every event exactly once, keys
intact.  kafka-python infers the broker version from ApiVersions and then
uses its own request versions (Produce v7, Fetch v4, Metadata v5, ...).
"""
# harness: quick
import sys
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.errors import (InvalidReplicationFactorError, InvalidTopicError,
                          TopicAlreadyExistsError)

import kafkatest
from sluicetest import Env, result

N = 5000


def corpus_events(env, n):
    path = env.path("corpus")
    env.gen_corpus(path, "3M")
    out = []
    with open(path, "rb") as f:
        for line in f:
            if b"seq" in line:
                out.append(line.rstrip(b"\n"))
            if len(out) == n:
                break
    assert len(out) == n
    return out


def main():
    with Env() as env:
        st = kafkatest.start_store(env)
        admin = KafkaAdminClient(bootstrap_servers=st.bootstrap, client_id="kp-admin")
        admin.create_topics([NewTopic("kp-gzip", 3, 1, topic_configs={"retention.ms": "86400000"}),
                             NewTopic("kp-lz4", 2, 1), NewTopic("kp-tmp", 1, 1)])
        topics = set(admin.list_topics())
        assert {"kp-gzip", "kp-lz4", "kp-tmp"} <= topics, topics
        for bad, exc in [(NewTopic("kp-gzip", 1, 1), TopicAlreadyExistsError),
                         (NewTopic("bad/name", 1, 1), InvalidTopicError),
                         (NewTopic("kp-rf3", 1, 3), InvalidReplicationFactorError)]:
            try:
                admin.create_topics([bad])
                raise AssertionError("creating %s succeeded" % bad.name)
            except exc:
                pass
        cfg = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, "kp-gzip")])
        entries = {e[0]: e[1] for e in cfg[0].resources[0][4]}
        assert entries.get("retention.ms") == "86400000", entries
        admin.delete_topics(["kp-tmp"])
        kafkatest.wait_for(lambda: "kp-tmp" not in admin.list_topics(), 10, "kp-tmp deleted")
        result("admin: create (3 errors as Kafka returns them), describe_configs, delete")

        events = corpus_events(env, N)
        half = N // 2
        for topic, codec, part in (("kp-gzip", "gzip", events[:half]),
                                   ("kp-lz4", "lz4", events[half:])):
            p = KafkaProducer(bootstrap_servers=st.bootstrap, compression_type=codec,
                              acks="all", linger_ms=5, client_id="kp-" + codec)
            start = time.time()
            futures = [p.send(topic, key=b"k%d" % (i % 11), value=v) for i, v in enumerate(part)]
            p.flush(60)
            offsets = {(f.get(10).partition, f.get(10).offset) for f in futures}
            assert len(offsets) == len(part), "duplicate offsets"
            p.close()
            result("%s producer: %d events in %.2fs" % (codec, len(part), time.time() - start))

        c = KafkaConsumer("kp-gzip", "kp-lz4", bootstrap_servers=st.bootstrap, group_id=None,
                          auto_offset_reset="earliest", consumer_timeout_ms=3000,
                          enable_auto_commit=False, client_id="kp-consumer")
        got = [m for m in c]
        c.close()
        assert all(m.key.startswith(b"k") for m in got)
        print(env.check_seq(b"\n".join(m.value for m in got) + b"\n", expect=N))
        result("consumer: %d gzip+lz4 events exactly once" % len(got))
        admin.close()


if __name__ == "__main__":
    import kafka
    from harness import compat_run
    sys.exit(compat_run("kafka-python", kafka.__version__,
                        "admin create/describe-configs/delete topics, produce gzip+lz4, consume", main))
