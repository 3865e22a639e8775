#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Run every integration test (tests/integration/test_*.sh with /bin/bash and
# test_*.py with /usr/bin/python3, Debian's interpreter that has the Kafka
# clients) against the real binaries in $SLUICE_BIN, each with a timeout.
# TESTS="name ..." runs a subset.  Each test starts and stops its own daemons
# on 127.0.0.1 ports chosen at run time.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
: "${SLUICE_BIN:?SLUICE_BIN must point at build/bin}"
export SLUICE_BIN SLUICE_TOP="$top" SLUICE_SHARED="$top/../shared"
timeout_s=${INTEGRATION_TIMEOUT:-900}
pass=0 fail=0 failed=""
start_all=$(date +%s)
for t in "$here"/test_*.sh "$here"/test_*.py; do
    [ -e "$t" ] || continue
    name=$(basename "$t")
    if [ -n "${TESTS:-}" ]; then
        case " $TESTS " in *" ${name%.*} "*|*" $name "*) ;; *) continue ;; esac
    fi
    log=$(mktemp)
    start=$(date +%s)
    case "$t" in
    *.py) timeout -k 10 "$timeout_s" /usr/bin/python3 "$t" >"$log" 2>&1 ;;
    *) timeout -k 10 "$timeout_s" /bin/bash "$t" >"$log" 2>&1 ;;
    esac
    rc=$?
    dur=$(( $(date +%s) - start ))
    if [ $rc -eq 0 ]; then
        pass=$((pass + 1))
        echo "ok   $name (${dur}s)"
        grep -a '^RESULT' "$log" | sed 's/^/     /'
    else
        fail=$((fail + 1))
        failed="$failed $name"
        echo "FAIL $name (exit $rc, ${dur}s)"
        tail -n 80 "$log" | sed 's/^/     | /'
    fi
    rm -f "$log"
done
echo "integration: $pass passed, $fail failed in $(( $(date +%s) - start_all ))s${failed:+ (failed:$failed)}"
[ $fail -eq 0 ]
