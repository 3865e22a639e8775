#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The store's HTTP API driven with curl: every endpoint and every error code
# of docs/HTTP_API.md against a real sluice-store, with batches built by
# kafka-python (mkbatch.py).  Data that goes in is read back and checked
# with check_seq.py (nothing lost, nothing twice).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"

cat >"$T/store.yaml" <<YAML
http:
  max_body_bytes: 256KiB
log:
  max_batch_bytes: 64KiB
  segment_bytes: 1MiB
  retention: 0
YAML
# (retention 0 = forever: topic "timed" carries fixed 2026-11-24 timestamps,
# which the default 7-day retention deletes once the clock is a week past)
start_store_http "$T/data" -c "$T/store.yaml"

# ---------------------------------------------------------------- routing, health
req GET /health; expect 200; [ "$(jqb .status)" = ok ] || fail "health body"
req GET /nope; expect 404 not_found
req GET /v1/topics/x/batches; expect 405 method_not_allowed
grep -qi '^allow: POST' <(curl -s -D - -o /dev/null "$STORE_URL/v1/topics/x/batches") ||
    fail "405 without Allow: POST"
req PUT "/v1/topics/bad%20name"; expect 400 invalid_topic
req GET "/v1/topics/x/partitions/-1/records"; expect 400
result "routing and health ok"

# ---------------------------------------------------------------- topics CRUD
req PUT /v1/topics/logs -d '{"partitions":3,"retention_ms":86400000}'; expect 201
[ "$(jqb .partition_count)" = 3 ] && [ "$(jqb .config.retention_ms)" = 86400000 ] ||
    fail "create: $(cat "$BODY")"
req PUT /v1/topics/logs -d '{"partitions":4}'; expect 200
[ "$(jqb .partition_count)" = 4 ] || fail "alter partitions"
[ "$(jqb '.partitions | length')" = 4 ] || fail "partition list"
req PUT /v1/topics/logs -d '{"partitions":2}'; expect 400 bad_request
req PUT /v1/topics/logs -d '{"retention_bytes":-1,"max_batch_bytes":65536}'; expect 200
req PUT /v1/topics/logs -d '{"bogus":1}'; expect 400 bad_request
req PUT /v1/topics/logs -d 'not json'; expect 400 bad_request
req PUT /v1/topics/logs -d '{"partitions":"4"}'; expect 400 bad_request
req POST /v1/topics -d '{"name":"logs"}'; expect 409 topic_exists
req POST /v1/topics -d '{"name":"bad name"}'; expect 400 invalid_topic
req POST /v1/topics -d '{"partitions":1}'; expect 400 bad_request
req POST /v1/topics -d '{"name":"other","partitions":2}'; expect 201
req GET /v1/topics; expect 200
[ "$(jqb '[.topics[].name] | join(",")')" = "logs,other" ] || fail "topic list: $(cat "$BODY")"
req GET /v1/topics/logs; expect 200
req GET /v1/topics/nope; expect 404 unknown_topic
req DELETE /v1/topics/other; expect 200
[ "$(jqb .deleted)" = other ] || fail "delete body"
req DELETE /v1/topics/other; expect 404 unknown_topic
result "topic create/alter/list/delete ok"

# ---------------------------------------------------------------- ingest
$MKBATCH "$T/b1" --count 5 --codec zstd --key k1 --start-seq 0
post_batch logs "$T/b1" partition=1; expect 200
[ "$(jqb '.batches[0] | "\(.partition) \(.base_offset) \(.last_offset) \(.count) \(.duplicate)"')" = \
  "1 0 4 5 false" ] || fail "ingest answer: $(cat "$BODY")"
# two batches of different codecs in one body
$MKBATCH "$T/b2" --count 3 --codec gzip --start-seq 5
$MKBATCH "$T/b2" --count 2 --codec lz4 --start-seq 8 --append
$MKBATCH "$T/b2" --count 2 --codec snappy --start-seq 10 --append
post_batch logs "$T/b2" partition=1; expect 200
[ "$(jqb '[.batches[] | .base_offset] | join(",")')" = "5,8,10" ] || fail "multi-batch: $(cat "$BODY")"
# no ?partition: murmur2 of the first key, as Kafka's partitioner (kafka-python's murmur2)
want=$(/usr/bin/python3 -c 'from kafka.partitioner.default import murmur2; print((murmur2(b"web-01:/var/log/x") & 0x7fffffff) % 4)')
$MKBATCH "$T/b3" --count 1 --codec zstd --key web-01:/var/log/x --start-seq 12
post_batch logs "$T/b3"; expect 200
[ "$(jqb '.batches[0].partition')" = "$want" ] || fail "key partition $(jqb '.batches[0].partition') != $want"
result "ingest: multi-codec bodies, key partitioning ok"

# errors: nothing of a body with one bad batch is written
end_before=$(curl -s "$STORE_URL/v1/topics/logs" | jq '.partitions[1].end')
$MKBATCH "$T/bad" --count 2 --corrupt-crc
post_batch logs "$T/bad" partition=1; expect 400 corrupt_batch
$MKBATCH "$T/trunc" --count 2 --truncate 7
post_batch logs "$T/trunc" partition=1; expect 400 corrupt_batch
cp "$T/b1" "$T/mixed"; cat "$T/bad" >>"$T/mixed"
post_batch logs "$T/mixed" partition=1; expect 400 corrupt_batch
[ "$(jqb .batch)" = 1 ] || fail "corrupt batch index"
printf 'x' >"$T/tiny"
post_batch logs "$T/tiny" partition=1; expect 400 corrupt_batch
req POST /v1/topics/logs/batches?partition=1; expect 400 bad_request
[ "$(curl -s "$STORE_URL/v1/topics/logs" | jq '.partitions[1].end')" = "$end_before" ] ||
    fail "a rejected body changed the log"
post_batch logs "$T/b1" partition=99; expect 404 unknown_partition
post_batch logs "$T/b1" partition=x; expect 400 bad_request
# too large: body over http.max_body_bytes (declared, and chunked), batch over max_batch_bytes
head -c 300000 /dev/zero >"$T/huge"
post_batch logs "$T/huge"; expect 413 too_large
STATUS=$(curl -s -o "$T/body" -w '%{http_code}' -H 'Transfer-Encoding: chunked' \
         --data-binary "@$T/huge" "$STORE_URL/v1/topics/logs/batches?partition=0")
expect 413 too_large
$MKBATCH "$T/big" --count 2 --value-size 40000
post_batch logs "$T/big" partition=0; expect 413 too_large
req GET /health; expect 200
result "corrupt_batch, truncated, too_large (body, chunked, batch), unknown_partition ok"

# idempotence: exact retry -> 200 duplicate with the original offsets, no second copy
req POST /v1/producers; expect 200
pid=$(jqb .producer_id)
[ "$pid" -ge 0 ] || fail "producer id"
$MKBATCH "$T/i0" --count 4 --pid "$pid" --epoch 0 --seq 0 --start-seq 100 --codec zstd
$MKBATCH "$T/i1" --count 4 --pid "$pid" --epoch 0 --seq 4 --start-seq 104
post_batch logs "$T/i0" partition=2; expect 200
first=$(jqb '.batches[0] | "\(.base_offset) \(.last_offset)"')
[ "$(jqb '.batches[0].duplicate')" = false ] || fail "first send flagged duplicate"
post_batch logs "$T/i0" partition=2; expect 200
[ "$(jqb '.batches[0].duplicate')" = true ] || fail "retry not flagged duplicate: $(cat "$BODY")"
[ "$(jqb '.batches[0] | "\(.base_offset) \(.last_offset)"')" = "$first" ] || fail "retry offsets differ"
# a body mixing the retry and a new batch: one answer each
cat "$T/i0" "$T/i1" >"$T/i01"
post_batch logs "$T/i01" partition=2; expect 200
[ "$(jqb '[.batches[].duplicate] | join(",")')" = "true,false" ] || fail "mixed retry: $(cat "$BODY")"
$MKBATCH "$T/gap" --count 1 --pid "$pid" --epoch 0 --seq 42 --start-seq 900
post_batch logs "$T/gap" partition=2; expect 409 out_of_order_sequence
$MKBATCH "$T/e1" --count 1 --pid "$pid" --epoch 1 --seq 0 --start-seq 108
post_batch logs "$T/e1" partition=2; expect 200
$MKBATCH "$T/e0" --count 1 --pid "$pid" --epoch 0 --seq 8 --start-seq 901
post_batch logs "$T/e0" partition=2; expect 409 producer_fenced
curl -s "$STORE_URL/v1/topics/logs/partitions/2/records" >"$T/p2.ndjson"
jq -r .value "$T/p2.ndjson" | check_seq --start-seq 100 --expect 9 ||
    fail "partition 2 after retries: $(jq -r .value "$T/p2.ndjson")"
result "duplicate rule: 200 duplicate:true, no second copy; out_of_order_sequence, producer_fenced ok"

# ---------------------------------------------------------------- replay
req GET "/v1/topics/logs/partitions/1/records?offset=0"; expect 200
[ "$(wc -l <"$BODY")" = 12 ] || fail "ndjson lines: $(wc -l <"$BODY")"
jq -r .value "$BODY" | check_seq --expect 12 >/dev/null || fail "replay seqs"
[ "$(head -n1 "$BODY" | jq -r '"\(.partition) \(.offset) \(.key) \(.value)"')" = "1 0 k1 line 0 seq=0" ] ||
    fail "first record: $(head -n1 "$BODY")"
req GET "/v1/topics/logs/partitions/1/records?offset=6&max=3"; expect 200
[ "$(jq -r .offset "$BODY" | paste -sd,)" = "6,7,8" ] || fail "offset/max: $(cat "$BODY")"
req GET "/v1/topics/logs/partitions/1/records?offset=2&end_offset=4"; expect 200
[ "$(jq -r .offset "$BODY" | paste -sd,)" = "2,3" ] || fail "end_offset: $(cat "$BODY")"
req GET "/v1/topics/logs/partitions/1/records?offset=latest"; expect 200
[ ! -s "$BODY" ] || fail "latest should be empty"
req GET "/v1/topics/logs/partitions/1/records?format=raw"; expect 200
/usr/bin/python3 - "$BODY" <<'PY' || fail "raw replay does not decode"
import sys
from kafka.record.default_records import DefaultRecordBatch
data = open(sys.argv[1], "rb").read()
pos, n = 0, 0
while pos < len(data):
    size = 12 + int.from_bytes(data[pos + 8:pos + 12], "big")
    b = DefaultRecordBatch(data[pos:pos + size])
    assert b.validate_crc(), "crc"
    n += len(list(b))
    pos += size
assert n == 12, n
PY
# time seek on a partition with spread timestamps (its own topic: time order
# in a partition is what the time index assumes)
$MKBATCH "$T/t1" --count 10 --ts 1795514400000 --ts-step 60000 --start-seq 200
$MKBATCH "$T/t2" --count 10 --ts 1795515000000 --ts-step 60000 --start-seq 210
cat "$T/t1" "$T/t2" >"$T/t12"
post_batch timed "$T/t12" partition=0; expect 200
req GET "/v1/topics/timed/partitions/0/records?time=2026-11-24T10:13:00Z&to_time=2026-11-24T10:16:00Z"
expect 200
[ "$(jq -r .value "$BODY" | sed 's/.*seq=//' | paste -sd,)" = "213,214,215,216" ] ||
    fail "time range: $(jq -c '[.offset,.time]' "$BODY" | paste -sd' ')"
[ "$(curl -s -D - -o /dev/null "$STORE_URL/v1/topics/timed/partitions/0/records?time=1795515000000" |
    tr -d '\r' | awk -F': ' 'tolower($1)=="x-sluice-start-offset"{print $2}')" = 10 ] ||
    fail "time index start offset"
req GET "/v1/topics/logs/partitions/1/records?offset=9999"; expect 416 offset_out_of_range
[ "$(jqb .end)" = 12 ] || fail "416 without end"
req GET "/v1/topics/logs/partitions/1/records?format=xml"; expect 400 bad_request
req GET "/v1/topics/logs/partitions/1/records?offset=-1"; expect 400 bad_request
req GET "/v1/topics/logs/partitions/1/records?time=yesterday"; expect 400 bad_request
req GET "/v1/topics/logs/partitions/1/records?offset=1&time=1"; expect 400 bad_request
req GET "/v1/topics/logs/partitions/9/records"; expect 404 unknown_partition
req GET "/v1/topics/nope/partitions/0/records"; expect 404 unknown_topic
# follow: a long poll sees a batch posted while it waits
curl -sN -D "$T/follow.h" "$STORE_URL/v1/topics/logs/partitions/0/records?offset=latest&wait_ms=4000" \
    >"$T/follow" &
fpid=$!
# the poll is in place once its headers came: the store resolved "latest"
wait_grep "$T/follow.h" '^X-Sluice-Start-Offset:' 10 || fail "long poll: no response headers"
$MKBATCH "$T/f" --count 2 --start-seq 300
post_batch logs "$T/f" partition=0; expect 200
wait $fpid
[ "$(jq -r .value "$T/follow" | paste -sd,)" = "line 0 seq=300,line 1 seq=301" ] ||
    fail "follow got: $(cat "$T/follow")"
result "replay: ndjson, raw, offset/max/end_offset, time range, 416, follow ok"

# ---------------------------------------------------------------- metrics
req GET /metrics; expect 200
for m in 'sluice_http_requests_total{endpoint="batches",code="200"}' \
         'sluice_http_requests_total{endpoint="batches",code="400"}' \
         'sluice_http_request_duration_seconds_bucket{endpoint="batches",le="+Inf"}' \
         'sluice_log_fsync_duration_seconds_bucket{le="+Inf"}' \
         'sluice_partition_end_offset{topic="logs",partition="1"} 12' \
         'sluice_http_ingest_duplicate_batches_total 2' 'sluice_http_connections '; do
    grep -qF "$m" "$BODY" || fail "metrics lack $m"
done
result "metrics ok"

# ---------------------------------------------------------------- auto_create off
stop_store
cat >"$T/store2.yaml" <<YAML
log:
  auto_create: false
YAML
start_store_http "$T/data" -c "$T/store2.yaml"
post_batch newtopic "$T/b1"; expect 404 unknown_topic
post_batch logs "$T/b1" partition=1; expect 200
[ "$(jqb '.batches[0].base_offset')" = 12 ] || fail "restart lost offsets"
result "unknown_topic with auto_create off ok"

# ---------------------------------------------------------------- storage_full
stop_store
mkdir -p "$T/small"
if mount -t tmpfs -o size=3m tmpfs "$T/small" 2>/dev/null; then
    # unmount even on failure (lazily: the store may still hold it), then the usual cleanup
    trap 'r=$?; umount -l "$T/small" 2>/dev/null; (exit $r); _cleanup' EXIT
    cat >"$T/store3.yaml" <<YAML
log:
  segment_bytes: 64KiB
YAML
    start_store_http "$T/small/data" -c "$T/store3.yaml"
    $MKBATCH "$T/fill" --count 60 --value-size 1000 --codec none
    full=0
    for i in $(seq 1 200); do
        post_batch fill "$T/fill"
        if [ "$STATUS" = 503 ]; then full=1; break; fi
        expect 200
    done
    [ $full = 1 ] || fail "never got 503 on a full disk"
    expect 503 storage_full
    grep -qi '^retry-after:' <(curl -s -D - -o /dev/null --data-binary "@$T/fill" \
        "$STORE_URL/v1/topics/fill/batches") || fail "503 without Retry-After"
    req GET /health; expect 503 storage_full
    result "storage_full: 503 + Retry-After, /health 503"
    stop_store
    umount "$T/small"
    trap _cleanup EXIT
else
    echo "SKIP storage_full: cannot mount a small tmpfs here (needs root)" >&2
    result "storage_full SKIPPED (no tmpfs mount)"
fi
result "test_http_api passed"
