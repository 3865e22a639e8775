#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Run each libFuzzer binary, starting from its seed corpus in
# tests/data/fuzz/<name>/ (copied, so the repository is never modified).
# A crash leaves its reproducer in build/fuzz/crashes/<name>/ and fails.
# usage: run-fuzz.sh SECONDS FUZZER...       SECONDS per fuzzer
#        run-fuzz.sh total:SECONDS FUZZER... SECONDS shared (at least 3 each)
set -u
secs=$1
shift
case "$secs" in
total:*)
    secs=$(( ${secs#total:} / $# ))
    [ "$secs" -ge 3 ] || secs=3
    ;;
esac
fails=0
for bin in "$@"; do
    name=$(basename "$bin")
    work=$(mktemp -d)
    crashes="$(dirname "$bin")/crashes/$name"
    mkdir -p "$crashes"
    [ -d "tests/data/fuzz/$name" ] && cp -r "tests/data/fuzz/$name/." "$work/" 2>/dev/null
    dict=""
    [ -f "tests/fuzz/$name.dict" ] && dict="-dict=tests/fuzz/$name.dict"
    # shellcheck disable=SC2086
    out=$("$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
          -artifact_prefix="$crashes/" $dict "$work" 2>&1)
    rc=$?
    runs=$(printf '%s\n' "$out" | tr -d '\000' | awk '/stat::number_of_executed_units/{print $NF}')
    cov=$(printf '%s\n' "$out" | grep -a -o 'cov: [0-9]*' | tail -n 1)
    if [ $rc -ne 0 ]; then
        fails=$((fails + 1))
        echo "FAIL fuzz $name (exit $rc); reproducer in $crashes/"
        printf '%s\n' "$out" | tail -n 40
    else
        echo "ok   fuzz $name: ${runs:-0} runs in ${secs}s, ${cov:-cov: ?}"
    fi
    rm -rf "$work"
done
[ $fails -eq 0 ]
