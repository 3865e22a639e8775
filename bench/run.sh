#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# `make bench`: run every benchmark script under bench/ (bench_*.sh with bash,
# bench_*.py with /usr/bin/python3) one after the other, so they do not
# compete for the machine's two cores.  Each prints its figures; the ones we
# keep are recorded in bench/RESULTS.md with the command that produced them.
# BENCH="name ..." runs a subset.
set -u
here=$(cd "$(dirname "$0")" && pwd)
export SLUICE_TOP=$(cd "$here/.." && pwd)
export SLUICE_SHARED="$SLUICE_TOP/../shared"
rc=0
for b in "$here"/bench_*.sh "$here"/bench_*.py; do
    [ -e "$b" ] || continue
    name=$(basename "$b")
    if [ -n "${BENCH:-}" ]; then
        case " $BENCH " in *" ${name%.*} "*|*" $name "*) ;; *) continue ;; esac
    fi
    echo "== $name"
    case "$b" in
    *.py) /usr/bin/python3 "$b" || rc=1 ;;
    *) /bin/bash "$b" || rc=1 ;;
    esac
done
exit $rc
