#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# `make demo`: sluice-store and sluice-agent from build/bin on a sample log
# directory, end to end, in well under a minute.
#
#   1. generate ~2 MiB of logs with ../shared/bench/gen_corpus.py (nginx
#      access lines, JSON application lines, multi-line Java stack traces,
#      every event numbered) and split them into nginx/ and app/ files;
#   2. start the store with conf/store.yaml and the agent with
#      conf/agent.yaml (the files as shipped; ports, directories and
#      read_from_head come from flags and the SLUICE_* variables the agent
#      config reads), on free 127.0.0.1 ports with data in a temp directory;
#   3. wait until every event is in the store, then show records read back
#      with `sluice consume` and kcat, `sluice topics`, and the main counters
#      from both /metrics endpoints;
#   4. prove with check_seq.py that every event arrived exactly once and
#      that multi-line events arrived as one record each;
#   5. stop both with SIGTERM and check they exit cleanly.
#
# SLUICE_BIN (default build/bin, built when missing), DEMO_SIZE (default
# 2M), KEEP=1 keeps the temp directory (data, logs, configs).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${SLUICE_BIN:-}" ]; then
    SLUICE_BIN=$top/build/bin
    make -C "$top" --no-print-directory -j2 all
fi
shared=${SLUICE_SHARED:-$top/../shared}
size=${DEMO_SIZE:-2M}
py=/usr/bin/python3
[ -x "$py" ] || py=python3
for b in sluice-store sluice-agent sluice; do
    [ -x "$SLUICE_BIN/$b" ] || { echo "demo: $SLUICE_BIN/$b missing (run make)" >&2; exit 1; }
done
[ -f "$shared/bench/gen_corpus.py" ] || { echo "demo: $shared/bench/gen_corpus.py missing" >&2; exit 1; }

D=$(mktemp -d /tmp/sluice-demo.XXXXXX)
STORE_PID= AGENT_PID=
cleanup() {
    local rc=$?
    for p in $AGENT_PID $STORE_PID; do
        kill -9 "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    if [ $rc -ne 0 ]; then
        echo "demo: FAILED (exit $rc); daemon logs:" >&2
        for f in "$D/store.log" "$D/agent.log"; do
            [ -f "$f" ] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }
        done
    fi
    if [ "${KEEP:-0}" = 1 ] || [ $rc -ne 0 ]; then
        echo "demo: kept $D"
    else
        rm -rf "$D"
    fi
    exit $rc
}
trap cleanup EXIT INT TERM

step() { printf '\n== %s\n' "$*"; }
free_port() {
    "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
wait_port() {
    local i=0
    while ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
        i=$((i + 1))
        [ $i -le 400 ] || { echo "demo: nothing listening on port $1 after 20s" >&2; return 1; }
        sleep 0.05
    done
}
t_start=$(date +%s.%N)
elapsed() { "$py" -c "import sys; print('%.1f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$t_start" "$(date +%s.%N)"; }

# ---------------------------------------------------------------- 1. logs
step "sample logs ($size) in $D/logs"
mkdir -p "$D/logs/nginx" "$D/logs/app"
events=$("$py" "$shared/bench/gen_corpus.py" "$D/corpus.log" "$size" 2>&1 >/dev/null | awk '{print $1}')
# Access lines (they start with a client address) to nginx/, the rest (JSON
# and Java stack traces with their continuation lines) to app/.
awk -v n="$D/logs/nginx/access.log" -v a="$D/logs/app/app.log" \
    '/^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+ - - \[/ { print > n; next } { print > a }' "$D/corpus.log"
n_nginx=$(wc -l <"$D/logs/nginx/access.log")
n_app_lines=$(wc -l <"$D/logs/app/app.log")
n_java=$(grep -c '^20[0-9][0-9]-.* ERROR ' "$D/logs/app/app.log" || true)
n_app=$((events - n_nginx))
echo "$events events: $n_nginx nginx lines; $n_app app events ($n_java of them Java stack traces) in $n_app_lines lines"

# ---------------------------------------------------------------- 2. daemons
KAFKA_PORT=$(free_port)
HTTP_PORT=$(free_port)
AGENT_PORT=$(free_port)
STORE=http://127.0.0.1:$HTTP_PORT
step "sluice-store -c conf/store.yaml (kafka 127.0.0.1:$KAFKA_PORT, http 127.0.0.1:$HTTP_PORT, data $D/store)"
"$SLUICE_BIN/sluice-store" -c "$top/conf/store.yaml" --data-dir "$D/store" \
    --kafka-listen "127.0.0.1:$KAFKA_PORT" --http-listen "127.0.0.1:$HTTP_PORT" >"$D/store.log" 2>&1 &
STORE_PID=$!
wait_port "$HTTP_PORT"
wait_port "$KAFKA_PORT"
grep -m1 'ready' "$D/store.log" || true

step "sluice-agent -c conf/agent.yaml (metrics 127.0.0.1:$AGENT_PORT, data $D/agent)"
export SLUICE_AGENT_DATA=$D/agent SLUICE_AGENT_HTTP=127.0.0.1:$AGENT_PORT \
    SLUICE_LOG_DIR=$D/logs SLUICE_READ_FROM_HEAD=true SLUICE_STORE_URL=$STORE
"$SLUICE_BIN/sluice-agent" --check -c "$top/conf/agent.yaml"
"$SLUICE_BIN/sluice-agent" -c "$top/conf/agent.yaml" >"$D/agent.log" 2>&1 &
AGENT_PID=$!
wait_port "$AGENT_PORT"
grep -m1 'running' "$D/agent.log" || true

# ---------------------------------------------------------------- 3. arrival
step "waiting for $events events in topics nginx and app"
stored() {
    "$SLUICE_BIN/sluice" --store "$STORE" topics --json 2>/dev/null |
        "$py" -c '
import json, sys
try:
    d = json.load(sys.stdin)
except ValueError:
    print(0); sys.exit()
print(sum(p.get("end", 0) - p.get("start", 0)
          for t in d.get("topics") or [] if t.get("name") in ("nginx", "app")
          for p in t.get("partitions") or []))'
}
n=0
for _ in $(seq 1 300); do
    n=$(stored)
    [ "$n" -ge "$events" ] && break
    kill -0 "$AGENT_PID" 2>/dev/null || { echo "demo: the agent exited" >&2; exit 1; }
    sleep 0.1
done
[ "$n" -ge "$events" ] || { echo "demo: only $n of $events events arrived in 30s" >&2; exit 1; }
echo "$n records stored after $(elapsed)s"

step "sluice topics"
"$SLUICE_BIN/sluice" --store "$STORE" topics

step "sluice consume nginx --max 3 --format pretty"
"$SLUICE_BIN/sluice" --store "$STORE" consume nginx --max 3 --format pretty | cut -c1-160

step "sluice consume app --grep IllegalStateException --max 1 (a multi-line Java event, one record)"
"$SLUICE_BIN/sluice" --store "$STORE" consume app --grep IllegalStateException --max 1

step "kcat -C -b 127.0.0.1:$KAFKA_PORT -t app -c 3 (any Kafka client reads the same records)"
timeout 20 kcat -C -b "127.0.0.1:$KAFKA_PORT" -t app -o beginning -c 3 -e -q \
    -f 'app/%p@%o key=%k: %s\n' | cut -c1-160

step "metrics: agent (http://127.0.0.1:$AGENT_PORT/metrics)"
curl -fsS -o "$D/agent.metrics" "http://127.0.0.1:$AGENT_PORT/metrics"
grep -E '^sluice_agent_(input_records_total|input_bytes_total|output_records_total|output_batches_total|output_retries_total|spool_bytes|spool_pending_entries)[{ ]' \
    "$D/agent.metrics" || true
step "metrics: store ($STORE/metrics)"
curl -fsS -o "$D/store.metrics" "$STORE/metrics"
grep -E '^sluice_(http_ingest_(batches|records|bytes|duplicate_batches)_total|log_(appends|append_bytes|fsyncs|duplicate_batches)_total)[{ ]' \
    "$D/store.metrics" || true

# ---------------------------------------------------------------- 4. check
step "check_seq.py: every event exactly once"
"$SLUICE_BIN/sluice" --store "$STORE" consume nginx,app >"$D/consumed.txt"
"$py" "$shared/bench/check_seq.py" --expect "$events" <"$D/consumed.txt"
[ "$n" -eq "$events" ] || { echo "demo: $n records for $events events (multi-line events not joined?)" >&2; exit 1; }
echo "$events events -> $n records: each multi-line event is one record"

# ---------------------------------------------------------------- 5. stop
step "stopping (SIGTERM: the agent drains its spool, the store fsyncs and checkpoints)"
kill -TERM "$AGENT_PID"
rc=0; wait "$AGENT_PID" || rc=$?
AGENT_PID=
[ $rc -eq 0 ] || { echo "demo: sluice-agent exited $rc" >&2; exit 1; }
kill -TERM "$STORE_PID"
rc=0; wait "$STORE_PID" || rc=$?
STORE_PID=
[ $rc -eq 0 ] || { echo "demo: sluice-store exited $rc" >&2; exit 1; }
echo "both stopped cleanly"
echo
echo "demo: OK in $(elapsed)s ($events events, $(du -sh "$D/store" | cut -f1) in the store)"
