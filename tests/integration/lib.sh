# SPDX-License-Identifier: Apache-2.0
#
# Shared helpers for bash integration tests.  Source it first:
#   . "$(dirname "$0")/lib.sh"
# It sets strict mode, creates $T (a private temp dir), and installs a trap
# that kills every daemon started through these helpers and removes $T, even
# when the test fails (KEEP=1 keeps $T for debugging).  Stores start through
# tests/integration/harness.py, the same code the Python tests use.
set -euo pipefail

: "${SLUICE_BIN:?run through tests/integration/run.sh or set SLUICE_BIN}"
SLUICE_TOP=${SLUICE_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SLUICE_SHARED=${SLUICE_SHARED:-$SLUICE_TOP/../shared}
_HARNESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
T=$(mktemp -d /tmp/sluice-it.XXXXXX)
_PIDS=()

_cleanup() {
    local rc=$?
    for p in "${_PIDS[@]:-}"; do
        [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    if [ "${KEEP:-0}" = 1 ] || [ $rc -ne 0 -a "${KEEP_ON_FAIL:-0}" = 1 ]; then
        echo "kept $T" >&2
    else
        rm -rf "$T"
    fi
    exit $rc
}
trap _cleanup EXIT INT TERM

fail() { echo "FAIL: $*" >&2; exit 1; }
result() { echo "RESULT $*"; }
track_pid() { _PIDS+=("$1"); }

# A free TCP port on 127.0.0.1 (the kernel picks it; a tiny race is accepted).
free_port() {
    harness free-port
}

# wait_port PORT [TIMEOUT_S]: until something accepts on 127.0.0.1:PORT.
wait_port() {
    local port=$1 t=${2:-20} i=0
    while ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        i=$((i + 1))
        [ $i -le $((t * 20)) ] || fail "nothing listening on port $port after ${t}s"
        sleep 0.05
    done
}

# harness SUBCOMMAND ...: tests/integration/harness.py as a command.
harness() {
    /usr/bin/python3 -S "$_HARNESS_DIR/harness.py" "$@"
}

# _start_store READY [DATA_DIR] [extra sluice-store args...]: the one way a
# shell test starts a store.  harness.py picks the ports and builds the
# command line; the store runs as this shell's child (so `wait` gives its
# exit status) and is ready when it listens itself on READY's ports: both,
# kafka (the Kafka listener) or http (the HTTP API answers /health).
# Sets STORE_PID, STORE_DATA, STORE_ARGS, KAFKA_PORT, HTTP_PORT, STORE_URL,
# BROKER, STORE_LOG.  Reuses KAFKA_PORT/HTTP_PORT when already set (restart
# on the same ports); otherwise a port a neighbour took first means fresh
# ports and another try.
_start_store() {
    local ready=$1 tries=1 i rc from
    shift
    STORE_DATA=${1:-$T/store}
    shift || true
    STORE_ARGS=("$@")
    STORE_LOG=$T/store.log
    [ -n "${KAFKA_PORT:-}${HTTP_PORT:-}" ] || tries=4
    mkdir -p "$STORE_DATA"
    for ((i = 1; i <= tries; i++)); do
        eval "$(harness store-cmd --data-dir "$STORE_DATA" ${KAFKA_PORT:+--kafka-port "$KAFKA_PORT"} \
            ${HTTP_PORT:+--http-port "$HTTP_PORT"} -- "$@")" || fail "harness.py store-cmd"
        BROKER=127.0.0.1:$KAFKA_PORT
        from=$(stat -c %s "$STORE_LOG" 2>/dev/null || echo 0)
        "${STORE_ARGV[@]}" >>"$STORE_LOG" 2>&1 &
        STORE_PID=$!
        track_pid "$STORE_PID"
        rc=0
        harness wait-ready --pid "$STORE_PID" --ready "$ready" --kafka-port "$KAFKA_PORT" \
            --http-port "$HTTP_PORT" --log "$STORE_LOG" --log-from "$from" || rc=$?
        [ $rc -eq 0 ] && return 0
        kill -9 "$STORE_PID" 2>/dev/null || true
        wait "$STORE_PID" 2>/dev/null || true
        STORE_PID=
        { [ $rc -eq 3 ] && [ $i -lt $tries ]; } || fail "sluice-store did not start"
        KAFKA_PORT= HTTP_PORT=
    done
}

# start_store [DATA_DIR] [extra sluice-store args...]: ready on both ports.
start_store() {
    _start_store both "$@"
}

# stop_store [SIGNAL]: TERM (default, waits for a clean exit) or KILL.
stop_store() {
    local sig=${1:-TERM}
    [ -n "${STORE_PID:-}" ] || return 0
    kill -"$sig" "$STORE_PID" 2>/dev/null || true
    wait "$STORE_PID" 2>/dev/null || true
    STORE_PID=
}

# gen_corpus FILE SIZE [args...]: the shared reproducible corpus.
gen_corpus() {
    /usr/bin/python3 "$SLUICE_SHARED/bench/gen_corpus.py" "$@"
}

# check_seq --expect N < consumed: 0 missing, 0 duplicated or fail.
check_seq() {
    /usr/bin/python3 "$SLUICE_SHARED/bench/check_seq.py" "$@"
}

# wait_grep FILE REGEX [TIMEOUT_S]: until FILE has a line matching REGEX
# (grep -E); status 1 after TIMEOUT_S (10) seconds.
wait_grep() {
    local i=0 n=$((${3:-10} * 20))
    until grep -qE -- "$2" "$1" 2>/dev/null; do
        i=$((i + 1))
        [ $i -le $n ] || return 1
        sleep 0.05
    done
}

# record_compat CLIENT VERSION CHECK RESULT: one line of the client
# compatibility matrix (harness.record_compat; scripts/kafka_matrix.py reads
# them; the last line per check wins, so record "fail" first and "pass" at the end).
record_compat() {
    /usr/bin/python3 -c 'import sys; sys.path.insert(0, sys.argv[1])
from harness import record_compat; record_compat(*sys.argv[2:])' "$(dirname "${BASH_SOURCE[0]}")" "$@"
}
