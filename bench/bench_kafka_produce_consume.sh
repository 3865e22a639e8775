#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Kafka-protocol benchmark (issue 4): sluice-store with log.fsync=always on a
# fresh data directory, the shared corpus (bench/gen_corpus.py in ../shared)
# cut into 200-byte records, produced by librdkafka with zstd and acks=all
# for 30 s, then at 50% of the measured rate for 10 s, then consumed back
# (build/bench/kafka_produce_consume prints the figures).
#
# Runs under flock /tmp/sluice-heavy.lock so it never overlaps another heavy
# job on this machine.  Knobs: BENCH_SECONDS (30), BENCH_LATENCY_SECONDS (10),
# BENCH_PARTITIONS (4), BENCH_RECORD (200), BENCH_DIR (where the data goes).
set -euo pipefail

if [ -z "${SLUICE_HEAVY_LOCKED:-}" ]; then
    export SLUICE_HEAVY_LOCKED=1
    exec flock /tmp/sluice-heavy.lock "$0" "$@"
fi

top=${SLUICE_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
shared=${SLUICE_SHARED:-$top/../shared}
bin=${SLUICE_BIN:-$top/build/bin}
bench_bin=${SLUICE_BENCH_BIN:-$top/build/bench}
T=$(mktemp -d "${BENCH_DIR:-/tmp}/sluice-bench.XXXXXX")
store_pid=
cleanup() {
    [ -n "$store_pid" ] && kill "$store_pid" 2>/dev/null && wait "$store_pid" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT INT TERM

port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
kport=$(port)
hport=$(port)
cat >"$T/store.yaml" <<YAML
log:
  fsync: always
  default_partitions: ${BENCH_PARTITIONS:-4}
kafka:
  max_output_bytes: 256MiB
YAML
/usr/bin/python3 "$shared/bench/gen_corpus.py" "$T/corpus" 128M 2>/dev/null
"$bin/sluice-store" -c "$T/store.yaml" --data-dir "$T/data" --kafka-listen "127.0.0.1:$kport" \
    --http-listen "127.0.0.1:$hport" >"$T/store.log" 2>&1 &
store_pid=$!
for _ in $(seq 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$kport") 2>/dev/null && break
    sleep 0.05
done

echo "machine: $(nproc) cores, $(uname -r); store: fsync=always, ${BENCH_PARTITIONS:-4} partitions, data on $(df --output=source "$T" | tail -n 1)"
"$bench_bin/kafka_produce_consume" -b "127.0.0.1:$kport" -t bench -f "$T/corpus" \
    -s "${BENCH_SECONDS:-30}" -l "${BENCH_LATENCY_SECONDS:-10}" -r "${BENCH_RECORD:-200}" \
    -p "${BENCH_PARTITIONS:-4}" -c "${BENCH_CONSUMERS:-2}"
rc=$?
echo "store RSS at the end: $(awk '/VmHWM/ {print $2, $3}' "/proc/$store_pid/status") peak"
exit $rc
