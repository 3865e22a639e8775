# SPDX-License-Identifier: Apache-2.0
#
# Shared helpers for bash integration tests.  Source it first:
#   . "$(dirname "$0")/lib.sh"
# It sets strict mode, creates $T (a private temp dir), and installs a trap
# that kills every daemon started through these helpers and removes $T, even
# when the test fails (KEEP=1 keeps $T for debugging).
set -euo pipefail

: "${SLUICE_BIN:?run through tests/integration/run.sh or set SLUICE_BIN}"
SLUICE_TOP=${SLUICE_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SLUICE_SHARED=${SLUICE_SHARED:-$SLUICE_TOP/../shared}
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
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
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

# start_store [DATA_DIR] [extra sluice-store args...]
# Sets STORE_PID, STORE_DATA, KAFKA_PORT, HTTP_PORT, STORE_URL, STORE_LOG.
# Reuses KAFKA_PORT/HTTP_PORT when already set (restart on the same ports).
start_store() {
    STORE_DATA=${1:-$T/store}
    shift || true
    KAFKA_PORT=${KAFKA_PORT:-$(free_port)}
    HTTP_PORT=${HTTP_PORT:-$(free_port)}
    STORE_URL="http://127.0.0.1:$HTTP_PORT"
    STORE_LOG=$T/store.log
    mkdir -p "$STORE_DATA"
    "$SLUICE_BIN/sluice-store" --data-dir "$STORE_DATA" \
        --kafka-listen "127.0.0.1:$KAFKA_PORT" --http-listen "127.0.0.1:$HTTP_PORT" \
        "$@" >>"$STORE_LOG" 2>&1 &
    STORE_PID=$!
    track_pid "$STORE_PID"
    wait_port "$KAFKA_PORT" 30
    wait_port "$HTTP_PORT" 30
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
