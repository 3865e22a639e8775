# SPDX-License-Identifier: Apache-2.0
#
# Helpers for the Kafka-protocol integration tests, on top of lib.sh (source
# lib.sh first).

# start_store_kafka [DATA_DIR] [args...]: start_store, but ready as soon as the
# Kafka listener accepts, so these tests do not depend on the HTTP API.
# Reuses KAFKA_PORT/HTTP_PORT when set (a restart keeps the ports).
start_store_kafka() {
    _start_store kafka "$@"
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
