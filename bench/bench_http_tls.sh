#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# HTTP ingest over TLS as a ratio to plaintext, in one run (issue 17): the
# agent's path to the store (libcurl posting ~1 MiB zstd batches, as the
# store output does on https://) against sluice-store three times on fresh
# data directories: plaintext, https (http.tls), and https with
# client_auth: require and a client certificate (mTLS).  Same client count,
# duration and corpus each time (build/bench/http_ingest).  Then the TLS
# handshake rate of the HTTP listener (openssl s_time -new).
#
# Knobs: BENCH_CLIENTS (8), BENCH_SECONDS (10), BENCH_PARTITIONS (4).  Takes
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
n=${BENCH_CLIENTS:-8}
secs=${BENCH_SECONDS:-10}
parts=${BENCH_PARTITIONS:-4}
T=$(mktemp -d /var/tmp/sluice-bench-httptls.XXXXXX)
pid=
stop_store() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        pid=
    fi
}
cleanup() { stop_store; rm -rf "$T"; }
trap cleanup EXIT INT TERM
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

ec() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "$@" 2>/dev/null; }
ec -x509 -keyout "$T/ca.key" -out "$T/ca.crt" -days 2 -subj "/CN=bench CA"
ec -keyout "$T/store.key" -out "$T/store.csr" -subj "/CN=localhost"
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$T/ext"
openssl x509 -req -in "$T/store.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial \
    -days 2 -extfile "$T/ext" -out "$T/store.crt" 2>/dev/null
ec -keyout "$T/client.key" -out "$T/client.csr" -subj "/CN=bench-agent"
printf 'extendedKeyUsage=clientAuth\n' >"$T/cext"
openssl x509 -req -in "$T/client.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial \
    -days 2 -extfile "$T/cext" -out "$T/client.crt" 2>/dev/null
/usr/bin/python3 "$shared/bench/gen_corpus.py" "$T/corpus" 256M 2>/dev/null

# run NAME MODE(plain|tls|mtls)
run() {
    local name=$1 mode=$2 hp kp scheme=http curlx=() benchx=()
    hp=$(port)
    kp=$(port)
    : >"$T/$name.yaml"
    if [ "$mode" != plain ]; then
        scheme=https
        curlx=(--cacert "$T/ca.crt")
        benchx=(--cacert "$T/ca.crt")
        printf 'http:\n  tls: { cert: %s, key: %s' "$T/store.crt" "$T/store.key" >>"$T/$name.yaml"
        if [ "$mode" = mtls ]; then
            printf ', client_ca: %s, client_auth: require' "$T/ca.crt" >>"$T/$name.yaml"
            curlx+=(--cert "$T/client.crt" --key "$T/client.key")
            benchx+=(--cert "$T/client.crt" --key "$T/client.key")
        fi
        printf ' }\n' >>"$T/$name.yaml"
    fi
    local url=$scheme://localhost:$hp
    "$bin/sluice-store" -c "$T/$name.yaml" --data-dir "$T/data-$name" \
        --http-listen "127.0.0.1:$hp" --kafka-listen "127.0.0.1:$kp" >"$T/$name.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 300); do curl -sf "${curlx[@]}" -o /dev/null "$url/health" && break; sleep 0.1; done
    curl -sf "${curlx[@]}" -o /dev/null -X PUT "$url/v1/topics/bench" -d "{\"partitions\":$parts}"
    echo "--- $name ($url)"
    "$bench_bin/http_ingest" --url "$url" --corpus "$T/corpus" --topic bench \
        --partitions "$parts" --clients "$n" --seconds "$secs" "${benchx[@]}" | tee "$T/$name.out"
    if [ "$mode" = tls ]; then
        echo "handshakes on the HTTP listener (openssl s_time -new, 5 s, TLS 1.3, P-256):"
        openssl s_time -connect "127.0.0.1:$hp" -new -time 5 -CAfile "$T/ca.crt" 2>&1 |
            grep -E 'connections in|connections/user' || true
    fi
    stop_store
}

echo "machine: $(nproc) cores, $(uname -r); store fsync=always, $parts partitions; $n clients x $secs s"
run plain plain
run tls tls
run mtls mtls
mbs() { grep -o 'compressed=[0-9.]*' "$T/$1.out" | head -n 1 | cut -d= -f2; }
a=$(mbs plain)
for m in tls mtls; do
    b=$(mbs $m)
    [ -n "$a" ] && [ -n "$b" ] &&
        echo "ratio $m/plaintext: $(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.2f (%.1f / %.1f MB/s)", b/a, b, a}')"
done
