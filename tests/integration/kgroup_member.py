# SPDX-License-Identifier: Apache-2.0
"""One kafka-python group consumer for test_kafka_groups.py (a separate
process so that it can be killed with SIGKILL).

usage: kgroup_member.py BOOTSTRAP TOPIC GROUP OUT STATUS SESSION_MS

Writes each polled batch's values to OUT (flushed and fsynced) and then
commits synchronously, so whatever it has written is committed before it
polls again; on every assignment it replaces STATUS with the sorted
partition numbers it owns.
"""
import os
import sys

from kafka import ConsumerRebalanceListener, KafkaConsumer


class Listener(ConsumerRebalanceListener):
    def __init__(self, status):
        self.status = status

    def on_partitions_revoked(self, revoked):
        pass

    def on_partitions_assigned(self, assigned):
        tmp = self.status + ".tmp"
        with open(tmp, "w") as f:
            f.write(" ".join(str(tp.partition) for tp in sorted(assigned)) + "\n")
        os.rename(tmp, self.status)


def main():
    bootstrap, topic, group, out, status, session = sys.argv[1:7]
    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, client_id="member",
                      enable_auto_commit=False, auto_offset_reset="earliest",
                      session_timeout_ms=int(session), heartbeat_interval_ms=300,
                      max_poll_records=200)
    c.subscribe([topic], listener=Listener(status))
    with open(out, "ab") as f:
        while True:
            batches = c.poll(timeout_ms=200)
            if not batches:
                continue
            for records in batches.values():
                for r in records:
                    f.write(r.value + b"\n")
            f.flush()
            os.fsync(f.fileno())
            c.commit()


if __name__ == "__main__":
    main()
