#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Kafka over TLS as a ratio to plaintext, in one run (issue 17): the same
# sluice-store settings and the same librdkafka load as
# bench_kafka_produce_consume.sh (zstd, acks=all, 200-byte records of the
# shared corpus), first on a plaintext listener, then on a TLS one
# (kafka.tls, ECDSA P-256 certificate made here with openssl, TLS 1.3), each
# on a fresh data directory; then the TLS handshake rate of both listeners
# with `openssl s_time -new`.  Consume over TLS is zero-copy when OpenSSL
# enables kernel TLS (the tls module); the store's
# sluice_kafka_tls_sendfile_bytes_total{mode} says which path ran.
#
# Knobs: BENCH_SECONDS (10), BENCH_LATENCY_SECONDS (3), BENCH_PARTITIONS (4),
# BENCH_RECORD (200), BENCH_FSYNC (always), BENCH_DIR.  Runs under flock
# /tmp/sluice-heavy.lock like the other heavy benchmarks.
set -euo pipefail

if [ -z "${SLUICE_HEAVY_LOCKED:-}" ]; then
    export SLUICE_HEAVY_LOCKED=1
    exec flock /tmp/sluice-heavy.lock "$0" "$@"
fi

top=${SLUICE_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
shared=${SLUICE_SHARED:-$top/../shared}
bin=${SLUICE_BIN:-$top/build/bin}
bench_bin=${SLUICE_BENCH_BIN:-$top/build/bench}
T=$(mktemp -d "${BENCH_DIR:-/tmp}/sluice-bench-tls.XXXXXX")
store_pid=
stop_store() {
    if [ -n "$store_pid" ]; then
        kill "$store_pid" 2>/dev/null || true
        wait "$store_pid" 2>/dev/null || true
        store_pid=
    fi
}
cleanup() { stop_store; rm -rf "$T"; }
trap cleanup EXIT INT TERM

port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
secs=${BENCH_SECONDS:-10}
lat=${BENCH_LATENCY_SECONDS:-3}
parts=${BENCH_PARTITIONS:-4}

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/ca.key" \
    -out "$T/ca.crt" -days 2 -subj "/CN=bench CA" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/store.key" \
    -out "$T/store.csr" -subj "/CN=localhost" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$T/ext"
openssl x509 -req -in "$T/store.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial \
    -days 2 -extfile "$T/ext" -out "$T/store.crt" 2>/dev/null
/usr/bin/python3 "$shared/bench/gen_corpus.py" "$T/corpus" 128M 2>/dev/null

# run NAME TLS(0|1): start a store, run the load, keep the output in $T/NAME.out
run() {
    local name=$1 tls=$2 kport hport
    kport=$(port)
    hport=$(port)
    cat >"$T/$name.yaml" <<YAML
log:
  fsync: ${BENCH_FSYNC:-always}
  default_partitions: $parts
kafka:
  max_output_bytes: 256MiB
YAML
    if [ "$tls" = 1 ]; then
        printf '  tls: { cert: %s, key: %s }\n' "$T/store.crt" "$T/store.key" >>"$T/$name.yaml"
    fi
    "$bin/sluice-store" -c "$T/$name.yaml" --data-dir "$T/data-$name" \
        --kafka-listen "127.0.0.1:$kport" --http-listen "127.0.0.1:$hport" \
        >"$T/$name.log" 2>&1 &
    store_pid=$!
    for _ in $(seq 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$kport") 2>/dev/null && break
        sleep 0.05
    done
    local x=()
    [ "$tls" = 1 ] && x=(-X security.protocol=SSL -X "ssl.ca.location=$T/ca.crt")
    "$bench_bin/kafka_produce_consume" -b "127.0.0.1:$kport" -t bench -f "$T/corpus" \
        -s "$secs" -l "$lat" -r "${BENCH_RECORD:-200}" -p "$parts" -c "${BENCH_CONSUMERS:-2}" \
        "${x[@]}" | tee "$T/$name.out"
    # the store's own CPU for the whole run (produce, 50% phase, both consumes)
    awk -v hz="$(getconf CLK_TCK)" '{printf "store CPU: %.2f s user, %.2f s system\n", $14/hz, $15/hz}' \
        "/proc/$store_pid/stat" | tee -a "$T/$name.out"
    if [ "$tls" = 1 ]; then
        for p in $kport; do
            echo "handshakes on the Kafka listener (openssl s_time -new, 5 s, TLS 1.3, P-256):"
            openssl s_time -connect "127.0.0.1:$p" -new -time 5 -CAfile "$T/ca.crt" 2>&1 |
                grep -E 'connections in|connections/user' | tee "$T/hs.out" || true
        done
        local m
        if m=$(curl -fsS "http://127.0.0.1:$hport/metrics" 2>/dev/null); then
            echo "$m" | grep '^sluice_kafka_tls_sendfile_bytes_total' || true
        fi
    fi
    stop_store
}

echo "machine: $(nproc) cores, $(uname -r); kernel TLS ULP: $(cat /proc/sys/net/ipv4/tcp_available_ulp 2>/dev/null | grep -qw tls && echo yes || echo "no (tcp_available_ulp: $(cat /proc/sys/net/ipv4/tcp_available_ulp 2>/dev/null))")"
echo "store: fsync=${BENCH_FSYNC:-always}, $parts partitions; $secs s produce, $lat s at 50%, consume all"
echo "--- plaintext"
run plain 0
echo "--- TLS"
run tls 1

# ratio of the MB/s figures (first "X MB/s" of each line)
mbs() { grep "^$2" "$T/$1.out" | head -n 1 | grep -o '[0-9.]* MB/s' | head -n 1 | cut -d' ' -f1; }
for phase in "produce:" "consume:"; do
    a=$(mbs plain "$phase")
    b=$(mbs tls "$phase")
    if [ -n "$a" ] && [ -n "$b" ]; then
        echo "ratio TLS/plaintext $phase $(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.2f (%.1f / %.1f MB/s)", b/a, b, a}')"
    fi
done
