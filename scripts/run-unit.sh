#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Run every CUnit binary with a timeout and print one line per binary plus the
# totals, taken from CUnit's own "Run Summary" (so the counts are real).
# The binaries run UNIT_JOBS (2) at a time: most of their time is spent
# waiting (crash and recovery tests sleep on timers), and each works in its
# own temp dir.  Output is printed in the order given.
# usage: run-unit.sh TIMEOUT_SECONDS BIN...
set -u
timeout_s=$1
shift
jobs=${UNIT_JOBS:-2}
fails=0 tests=0 asserts=0 tfail=0 bins=0
log_dir=${TMPDIR:-/tmp}/sluice-unit-logs.$$
mkdir -p "$log_dir"
trap 'rm -rf "$log_dir"' EXIT
# one line per binary: its status goes to $log_dir/NAME.rc beside NAME.log
printf '%s\n' "$@" | xargs -P "$jobs" -I{} sh -c \
    'n=$(basename "$1"); timeout -k 10 "$2" "$1" >"$3/$n.log" 2>&1; echo $? >"$3/$n.rc"' \
    sh {} "$timeout_s" "$log_dir"
for bin in "$@"; do
    name=$(basename "$bin")
    bins=$((bins + 1))
    out="$log_dir/$name.log"
    rc=$(cat "$log_dir/$name.rc" 2>/dev/null || echo 127)
    t=$(awk '/^ *tests /{print $3; exit}' "$out")
    tf=$(awk '/^ *tests /{print $5; exit}' "$out")
    a=$(awk '/^ *asserts /{print $3; exit}' "$out")
    t=${t:-0} tf=${tf:-0} a=${a:-0}
    tests=$((tests + t)) asserts=$((asserts + a)) tfail=$((tfail + tf))
    if [ "$rc" -ne 0 ]; then
        fails=$((fails + 1))
        echo "FAIL $name (exit $rc): tests=$t failed=$tf asserts=$a"
        sed -n '1,200p' "$out" | grep -v -- '...passed$' | tail -n 60
    else
        echo "ok   $name: tests=$t asserts=$a"
    fi
done
echo "unit: $bins binaries, $tests tests, $asserts asserts, $tfail tests failed, $fails binaries failed"
[ $fails -eq 0 ]
