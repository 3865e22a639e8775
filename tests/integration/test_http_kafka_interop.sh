#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Cross-protocol: records posted over HTTP (curl, and `sluice produce`) are
# read by kcat over the Kafka protocol with their keys, headers and
# partitions, and records produced by kcat are read over HTTP (curl NDJSON
# and `sluice consume`).  check_seq.py proves nothing lost or doubled each
# way.  Consumer-group lag committed over the Kafka protocol shows up in
# GET /v1/groups and `sluice topics`.
# harness: quick
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"

start_store_http "$T/data"
if ! kafka_listening; then
    # Until the Kafka protocol server is merged there is nothing to talk to.
    echo "################################################################" >&2
    echo "# NO KAFKA LISTENER on 127.0.0.1:$KAFKA_PORT: this store has no  #" >&2
    echo "# Kafka protocol server; the cross-protocol checks did NOT run.  #" >&2
    echo "################################################################" >&2
    result "SKIPPED: no Kafka listener in this build"
    exit 0
fi
BROKER=127.0.0.1:$KAFKA_PORT
KCAT=(kcat -b "$BROKER" -X broker.address.family=v4 -q)

# ---------------------------------------------------------------- HTTP -> Kafka
req PUT /v1/topics/interop -d '{"partitions":2}'; expect 201
$MKBATCH "$T/a" --count 50 --codec zstd --key web-01 --header host=web-01 --start-seq 0
$MKBATCH "$T/b" --count 50 --codec none --key web-02 --start-seq 50
post_batch interop "$T/a" partition=0; expect 200
post_batch interop "$T/b" partition=1; expect 200
timeout 30 "${KCAT[@]}" -C -t interop -o beginning -e -f '%p|%o|%k|%h|%s\n' >"$T/kcat.out" ||
    fail "kcat consume failed"
[ "$(wc -l <"$T/kcat.out")" = 100 ] || fail "kcat read $(wc -l <"$T/kcat.out") records"
cut -d'|' -f5 "$T/kcat.out" | check_seq --expect 100 || fail "kcat: seq check"
grep -q '^0|0|web-01|host=web-01|line 0 seq=0$' "$T/kcat.out" || fail "kcat: key/header: $(head -n1 "$T/kcat.out")"
grep -q '^1|49|web-02||line 49 seq=99$' "$T/kcat.out" || fail "kcat: partition 1 offsets"
result "HTTP -> kcat: 100 records, keys, headers, partitions, offsets"

# sluice produce -> kcat
seq 1000 1099 | sed 's/^/event seq=/' | "$SLUICE" --store "$STORE_URL" produce cliproduced \
    --key k1 --header src=cli -q || fail "sluice produce"
timeout 30 "${KCAT[@]}" -C -t cliproduced -o beginning -e -f '%k|%h|%s\n' >"$T/kcat2.out" ||
    fail "kcat consume cliproduced"
cut -d'|' -f3 "$T/kcat2.out" | check_seq --start-seq 1000 --expect 100 || fail "sluice produce -> kcat"
[ "$(cut -d'|' -f1,2 "$T/kcat2.out" | sort -u)" = "k1|src=cli" ] || fail "sluice produce key/header"
result "sluice produce -> kcat: 100 records"

# ---------------------------------------------------------------- Kafka -> HTTP
seq 0 199 | sed 's/^/k\t kafka line seq=/' >"$T/in"
timeout 30 "${KCAT[@]}" -P -t fromkafka -K $'\t' -H origin=kcat -z zstd -l "$T/in" ||
    fail "kcat produce failed"
count=$(curl -s "$STORE_URL/v1/topics/fromkafka" | jq '.partitions | length')
: >"$T/http.ndjson"
for p in $(seq 0 $((count - 1))); do
    curl -s "$STORE_URL/v1/topics/fromkafka/partitions/$p/records" >>"$T/http.ndjson"
done
jq -r .value "$T/http.ndjson" | check_seq --expect 200 || fail "kcat -> HTTP seq check"
[ "$(jq -r '"\(.key)|\(.headers[0].key)=\(.headers[0].value)"' "$T/http.ndjson" | sort -u)" = "k|origin=kcat" ] ||
    fail "kcat -> HTTP keys/headers: $(head -n1 "$T/http.ndjson")"
"$SLUICE" --store "$STORE_URL" consume fromkafka | check_seq --expect 200 || fail "kcat -> sluice consume"
result "kcat -> HTTP NDJSON and sluice consume: 200 records, keys, headers"

# ---------------------------------------------------------------- consumer-group lag over HTTP
/usr/bin/python3 - "$BROKER" <<'PY' || fail "kafka-python commit"
import sys
from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata
c = KafkaConsumer(bootstrap_servers=sys.argv[1], group_id="lagcheck", enable_auto_commit=False,
                  api_version_auto_timeout_ms=10000)
tp = TopicPartition("interop", 0)
c.assign([tp])
c.commit({tp: OffsetAndMetadata(20, "")})
c.close()
PY
req GET /v1/groups; expect 200
[ "$(jqb '.groups[] | select(.group=="lagcheck") | .offsets[] | select(.topic=="interop" and .partition==0) | "\(.committed) \(.end) \(.lag)"')" = "20 50 30" ] ||
    fail "GET /v1/groups: $(cat "$BODY")"
"$SLUICE" --store "$STORE_URL" topics >"$T/topics.out"
grep -Eq '^lagcheck +interop +0 +20 +50 +30$' "$T/topics.out" || fail "sluice topics lag: $(cat "$T/topics.out")"
"$SLUICE" --store "$STORE_URL" topics --json | jq -e 'any(.groups[]; .group == "lagcheck")' >/dev/null ||
    fail "topics --json groups"
result "consumer-group lag: GET /v1/groups and sluice topics show committed 20, end 50, lag 30"
