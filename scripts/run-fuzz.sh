#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Run each libFuzzer binary, starting from its seed corpus in
# tests/data/fuzz/<name>/ (copied, so the repository is never modified).
# A crash leaves its reproducer in build/fuzz/crashes/<name>/ and fails.
# usage: run-fuzz.sh SECONDS FUZZER...       SECONDS per fuzzer
#        run-fuzz.sh total:SECONDS FUZZER... SECONDS of wall time shared (at
#                                            least 1 each)
# FUZZ_JOBS (2) fuzzers run at once; output is printed in the order given.
set -u
secs=$1
shift
jobs=${FUZZ_JOBS:-2}
case "$secs" in
total:*)
    secs=$(( ${secs#total:} * jobs / $# ))
    [ "$secs" -ge 1 ] || secs=1
    ;;
esac
if [ "${RUN_FUZZ_ONE:-}" = "" ]; then
    # fan out: each fuzzer's report into its own file, then print in order
    out_dir=$(mktemp -d)
    trap 'rm -rf "$out_dir"' EXIT
    printf '%s\n' "$@" | xargs -P "$jobs" -I{} sh -c \
        'RUN_FUZZ_ONE=1 "$0" "$1" "$2" >"$3/$(basename "$2").out" 2>&1' \
        "$0" "$secs" {} "$out_dir"
    fails=0
    for bin in "$@"; do
        f="$out_dir/$(basename "$bin").out"
        cat "$f"
        grep -q '^FAIL' "$f" && fails=$((fails + 1))
    done
    [ $fails -eq 0 ]
    exit
fi
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
