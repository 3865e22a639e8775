# SPDX-License-Identifier: Apache-2.0
#
# Helpers for the Kafka-protocol integration tests, on top of lib.sh (source
# lib.sh first).

# start_store_kafka [DATA_DIR] [args...]: start_store, but ready as soon as the
# Kafka listener accepts, so these tests do not depend on the HTTP API.
# Reuses KAFKA_PORT/HTTP_PORT when set (a restart keeps the ports).
start_store_kafka() {
    STORE_DATA=${1:-$T/store}
    shift || true
    STORE_ARGS=("$@")
    KAFKA_PORT=${KAFKA_PORT:-$(free_port)}
    HTTP_PORT=${HTTP_PORT:-$(free_port)}
    STORE_URL="http://127.0.0.1:$HTTP_PORT"
    STORE_LOG=$T/store.log
    BROKER=127.0.0.1:$KAFKA_PORT
    mkdir -p "$STORE_DATA"
    "$SLUICE_BIN/sluice-store" --data-dir "$STORE_DATA" \
        --kafka-listen "$BROKER" --http-listen "127.0.0.1:$HTTP_PORT" \
        "$@" >>"$STORE_LOG" 2>&1 &
    STORE_PID=$!
    track_pid "$STORE_PID"
    local i=0
    until (exec 3<>"/dev/tcp/127.0.0.1/$KAFKA_PORT") 2>/dev/null; do
        kill -0 "$STORE_PID" 2>/dev/null || { tail -n 30 "$STORE_LOG" >&2; fail "store exited"; }
        i=$((i + 1))
        [ $i -le 600 ] || fail "store Kafka listener not up after 30s"
        sleep 0.05
    done
}

# restart_store_kafka [TERM|KILL]: stop and start again on the same data and ports.
restart_store_kafka() {
    stop_store "${1:-TERM}"
    start_store_kafka "$STORE_DATA" "${STORE_ARGS[@]}"
}

# check_partitions N < "KEY<TAB>PARTITION" lines: every key is in the partition
# Kafka's default partitioner (murmur2) picks among N.
check_partitions() {
    /usr/bin/python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import kafkatest
for line in sys.stdin.buffer:
    k, p = line.rstrip(b"\n").rsplit(b"\t", 1)
    want = kafkatest.kafka_partition(k, int(sys.argv[2]))
    if int(p) != want:
        print("key %r in partition %s, Kafka puts it in %d" % (k, p.decode(), want)); sys.exit(1)
print("partitions ok")' "$SLUICE_TOP/tests/integration" "$1"
}
