#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# sluice-store opens its log engine from --data-dir, runs until SIGTERM and
# exits cleanly leaving its checkpoints; survives kill -9 and restarts; a
# second store on the same data directory is refused.  (Data flowing through
# the Kafka and HTTP servers is tested by their own integration tests.)
. "$(dirname "$0")/lib.sh"

data=$T/data
log=$T/store.log
kport=$(free_port)
hport=$(free_port)

start() {
    "$SLUICE_BIN/sluice-store" --data-dir "$data" --kafka-listen "127.0.0.1:$kport" \
        --http-listen "127.0.0.1:$hport" >>"$log" 2>&1 &
    pid=$!
    track_pid "$pid"
    for _ in $(seq 1 200); do
        if [ "$(grep -c 'ready' "$log" || true)" -ge "$1" ]; then
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || fail "sluice-store exited early: $(tail -n 5 "$log")"
        sleep 0.05
    done
    fail "sluice-store not ready after 10s: $(tail -n 5 "$log")"
}

start 1
[ -f "$data/meta/recovery-points" ] || fail "no recovery-points after open"
[ -f "$data/meta/producer-ids" ] || fail "no producer-ids after open"
grep -q 'log: opened' "$log" || fail "engine did not report opening"

# a second store on the same directory is refused, the first keeps running
if "$SLUICE_BIN/sluice-store" --data-dir "$data" --kafka-listen "127.0.0.1:$(free_port)" \
        --http-listen "127.0.0.1:$(free_port)" >"$T/second.log" 2>&1; then
    fail "a second store opened the same data directory"
fi
grep -q 'in use by another sluice-store' "$T/second.log" || fail "no lock message: $(cat "$T/second.log")"
kill -0 "$pid" || fail "the first store died"

# clean stop
kill -TERM "$pid"
wait "$pid" || fail "sluice-store exited with $? on SIGTERM"
grep -q 'log: closed' "$log" || fail "engine did not close cleanly"

# kill -9 and come back, twice
start 2
kill -9 "$pid"; wait "$pid" 2>/dev/null || true
start 3
kill -9 "$pid"; wait "$pid" 2>/dev/null || true
start 4
kill -TERM "$pid"
wait "$pid" || fail "sluice-store exited with $? after restarts"
result "sluice-store: open, lock, clean stop, kill -9 and restart ok"
