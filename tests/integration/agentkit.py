# SPDX-License-Identifier: Apache-2.0
"""Kept so that tests written against it still run: the agent helpers live
in harness.py now (Agent, Writer, corpus, store_config, kcat_*, wait_until,
...).  New tests import harness directly."""
from harness import (BIN, Agent, Writer, corpus, free_port, java_events_ok,  # noqa: F401
                     kcat_keys_values, kcat_records, kcat_records_lossy, kcat_values, port_open,
                     run_parallel, store_config, store_records, values_from_ndjson, wait_port,
                     wait_until)
