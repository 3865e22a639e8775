#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# HTTP ingest throughput (issue 6): a real sluice-store with fsync=always on
# the local disk, and build/bench/http_ingest posting ~1 MiB zstd batches of
# gen_corpus.py lines from N concurrent libcurl clients for $BENCH_SECONDS
# (default 30) each, for each N in $BENCH_CLIENTS (default "4 16 64").
# Prints compressed and uncompressed-equivalent MB/s and p50/p99 latency.
# Takes /tmp/sluice-heavy.lock so it never overlaps other heavy runs.
#
#   make bench BENCH=bench_http_ingest
#   BENCH_CLIENTS="16" BENCH_SECONDS=10 bench/bench_http_ingest.sh
set -euo pipefail
: "${SLUICE_BIN:?run through make bench}" "${SLUICE_BENCH_BIN:?run through make bench}"
SHARED=${SLUICE_SHARED:-$(cd "$(dirname "$0")/../../shared" && pwd)}
CLIENTS=${BENCH_CLIENTS:-4 16 64}
SECS=${BENCH_SECONDS:-30}
PARTS=${BENCH_PARTITIONS:-4}

exec 9>/tmp/sluice-heavy.lock
flock 9

T=$(mktemp -d /var/tmp/sluice-bench-http.XXXXXX)   # a real disk, not tmpfs
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT INT TERM

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
kport=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
/usr/bin/python3 "$SHARED/bench/gen_corpus.py" "$T/corpus" 256M 2>/dev/null
"$SLUICE_BIN/sluice-store" --data-dir "$T/data" --http-listen "127.0.0.1:$port" \
    --kafka-listen "127.0.0.1:$kport" >"$T/store.log" 2>&1 &
pid=$!
for i in $(seq 1 300); do curl -sf -o /dev/null "$url/health" && break; sleep 0.1; done
curl -sf -o /dev/null -X PUT "$url/v1/topics/bench" -d "{\"partitions\":$PARTS}"
echo "store: fsync=always, data on $(df -T "$T" | awk 'NR==2{print $2}') $T; $(nproc) cores; topic bench with $PARTS partitions"
for n in $CLIENTS; do
    "$SLUICE_BENCH_BIN/http_ingest" --url "$url" --corpus "$T/corpus" --topic bench \
        --partitions "$PARTS" --clients "$n" --seconds "$SECS"
done
curl -s "$url/metrics" | grep -E '^sluice_log_fsyncs_total|^sluice_log_fsync_duration_seconds_(sum|count)' || true
