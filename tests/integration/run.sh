#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Run the integration tests (tests/integration/test_*.sh with /bin/bash and
# test_*.py with /usr/bin/python3, Debian's interpreter that has the Kafka
# clients) against the real binaries in $SLUICE_BIN, in three slots, each
# with a timeout; the runner is runner.py (its docstring has the details).
#   TESTS="name ..."        a subset
#   TIER=quick              only the tests tagged `# harness: quick`
#   INTEGRATION_JOBS=N      N slots (a `# harness: heavy` test takes 2; 1 = serial)
#   INTEGRATION_TIMEOUT=S   seconds per test (900)
# Each test starts and stops its own daemons on 127.0.0.1 ports chosen at
# run time (tests/integration/harness.py).
: "${SLUICE_BIN:?SLUICE_BIN must point at build/bin}"
exec /usr/bin/python3 "$(dirname "$0")/runner.py"
