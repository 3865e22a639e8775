# SPDX-License-Identifier: Apache-2.0
"""Kept so that tests written against it still run: everything lives in
harness.py now.  start_store() here is harness's with ready="http" (ready
when the HTTP API answers /health, so HTTP tests do not depend on the Kafka
listener).  New tests use env.start_store(ready="http") and import harness
directly."""
import harness
from harness import HttpStore, get_json, request  # noqa: F401


def start_store(env, *args, data_dir=None):
    return harness.start_store(env, *args, data_dir=data_dir, ready="http")
