# SPDX-License-Identifier: Apache-2.0
"""Kept so that tests written against it still run: everything lives in
harness.py now.  start_store() here is harness's with ready="kafka" (ready
when the Kafka listener accepts, so these tests do not depend on the HTTP
API); wait_for is harness.wait_until.  New tests use
env.start_store(ready="kafka", conf=...) and import harness directly."""
import harness
from harness import (KafkaStore, RawClient, kafka_partition, murmur2, restart,  # noqa: F401
                     wait_for, write_conf)


def start_store(env, *args, conf=None, data_dir=None):
    """Start sluice-store; conf is store.yaml text (written to the env dir)."""
    return harness.start_store(env, *args, conf=conf, data_dir=data_dir, ready="kafka")


__all__ = ["start_store", "restart", "write_conf", "RawClient", "murmur2", "kafka_partition",
           "wait_for"]
