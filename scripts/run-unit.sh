#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Run every CUnit binary with a timeout and print one line per binary plus the
# totals, taken from CUnit's own "Run Summary" (so the counts are real).
# usage: run-unit.sh TIMEOUT_SECONDS BIN...
set -u
timeout_s=$1
shift
fails=0 tests=0 asserts=0 tfail=0 bins=0
log_dir=${TMPDIR:-/tmp}/sluice-unit-logs.$$
mkdir -p "$log_dir"
for bin in "$@"; do
    name=$(basename "$bin")
    bins=$((bins + 1))
    out="$log_dir/$name.log"
    timeout -k 10 "$timeout_s" "$bin" >"$out" 2>&1
    rc=$?
    t=$(awk '/^ *tests /{print $3; exit}' "$out")
    tf=$(awk '/^ *tests /{print $5; exit}' "$out")
    a=$(awk '/^ *asserts /{print $3; exit}' "$out")
    t=${t:-0} tf=${tf:-0} a=${a:-0}
    tests=$((tests + t)) asserts=$((asserts + a)) tfail=$((tfail + tf))
    if [ $rc -ne 0 ]; then
        fails=$((fails + 1))
        echo "FAIL $name (exit $rc): tests=$t failed=$tf asserts=$a"
        sed -n '1,200p' "$out" | grep -v -- '...passed$' | tail -n 60
    else
        echo "ok   $name: tests=$t asserts=$a"
    fi
done
echo "unit: $bins binaries, $tests tests, $asserts asserts, $tfail tests failed, $fails binaries failed"
rm -rf "$log_dir"
[ $fails -eq 0 ]
