# SPDX-License-Identifier: Apache-2.0
"""Kept so that tests written against it still run: everything lives in
harness.py now (Env, Store, free_port, wait_port, result, BIN, TOP, SHARED).
New tests import harness directly."""
from harness import (BIN, SHARED, TOP, Env, Store, free_port, port_open, result,  # noqa: F401
                     wait_port, wait_until)
