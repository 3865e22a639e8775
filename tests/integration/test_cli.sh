#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The `sluice` CLI against a real store: every command (topics, topic
# create/alter/describe/delete, produce, consume, replay), every consume
# option (partition, offsets, time range by the time index, grep, key,
# header, max, formats, follow, several topics merged in time order, | head)
# and every error the issue lists (bad time, unknown topic, unreachable
# store; auth failure is in test_http_auth.sh), --help of every command and
# the bash completion.
# harness: quick
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"

# The time-range topics below carry fixed 2026-11-24 timestamps: the default
# 7-day retention would delete them at a retention pass (1 s after start,
# then every 30 s) once the clock is a week past them.
cat >"$T/store.yaml" <<YAML
log:
  retention: 0
YAML
start_store_http "$T/data" -c "$T/store.yaml"
export SLUICE_STORE=$STORE_URL
S=$SLUICE

# expect_rc RC CMD...: run, check the exit status, keep stderr in $T/err
expect_rc() {
    local want=$1 rc
    shift
    set +e
    "$@" >"$T/out" 2>"$T/err"
    rc=$?
    set -e
    [ $rc = "$want" ] || fail "exit $rc (want $want) from $*: $(head -c 600 "$T/err")"
}

# ---------------------------------------------------------------- help
for c in topics topic produce consume replay; do
    $S $c --help | grep -q "^usage: sluice $c" || fail "$c --help"
    $S help $c | grep -q "Exit status" || fail "help $c"
done
$S --help | grep -q '^Commands:' || fail "sluice --help"
expect_rc 2 $S frobnicate
grep -q "unknown command 'frobnicate'" "$T/err" || fail "unknown command message"
expect_rc 2 $S
result "help for every command"

# ---------------------------------------------------------------- topics
$S topics | grep -q '^no topics$' || fail "empty store"
$S topic create t1 --partitions 3 --retention 2d --retention-bytes 1GiB >"$T/out"
grep -q '^t1 ' "$T/out" || fail "create output"
expect_rc 1 $S topic create t1
grep -q "already exists" "$T/err" || fail "create twice: $(cat "$T/err")"
$S topic alter t1 --partitions 4 --retention forever >/dev/null
[ "$($S topic describe t1 --json | jq -r '"\(.partition_count) \(.config.retention_ms) \(.config.retention_bytes)"')" = \
  "4 -1 1073741824" ] || fail "alter/describe"
expect_rc 1 $S topic alter nope --partitions 2
grep -q "unknown topic" "$T/err" || fail "alter unknown: $(cat "$T/err")"
expect_rc 2 $S topic alter t1
expect_rc 2 $S topic create 'bad/name'
expect_rc 2 $S topic create t2 --retention 3x
expect_rc 2 $S topic explode t1
$S topic create t2 >/dev/null
[ "$($S topics --names | paste -sd,)" = "t1,t2" ] || fail "topics --names"
[ "$($S topics | awk 'NR>1{print $1}' | sort | uniq -c | awk '{print $2"="$1}' | paste -sd,)" = "t1=4,t2=1" ] ||
    fail "topics table: $($S topics)"
$S topics --json | jq -e '.topics | length == 2' >/dev/null || fail "topics --json"
$S topic delete t2 | grep -q "deleted topic t2" || fail "delete"
expect_rc 1 $S topic describe t2
result "topics, topic create/alter/describe/delete and their errors"

# ---------------------------------------------------------------- produce + consume, exactly once
gen_corpus "$T/corpus" 2M 2>/dev/null
$S produce logs --key web-01:/var/log/app.log --header host=web-01 <"$T/corpus" 2>"$T/err" ||
    fail "produce: $(cat "$T/err")"
grep -q "^sluice: produced $(wc -l <"$T/corpus") records" "$T/err" || fail "produce summary: $(cat "$T/err")"
$S consume logs >"$T/back"
cmp -s "$T/corpus" "$T/back" || fail "consume differs from what was produced"
check_seq <"$T/back" >/dev/null || fail "seq check"
result "produce -> consume: 2 MiB corpus byte-identical, exactly once"

# keyless lines spread over partitions and come back merged
$S topic create spread --partitions 3 >/dev/null
for i in $(seq 0 5); do
    seq $((i * 100)) $((i * 100 + 99)) | sed 's/^/spread seq=/' | $S produce spread -q
done
[ "$($S topic describe spread --json | jq '[.partitions[] | select(.end > 0)] | length')" -ge 2 ] ||
    fail "keyless batches did not spread"
$S consume spread | check_seq --expect 600 >/dev/null || fail "spread seq"
result "keyless produce round robin, consume merges partitions"

# ---------------------------------------------------------------- time range, merge order, grep
# two partitions with interleaved timestamps: 10:00:00.000 + 1 s steps on p0, + 0.5 s offset on p1
$S topic create timed --partitions 2 >/dev/null
base=1795514400000
for b in 0 1 2 3 4 5; do
    $MKBATCH "$T/p0" --count 10 --ts $((base + b * 10000)) --ts-step 1000 --start-seq $((b * 10)) \
        --key a --header src=a --codec zstd
    $MKBATCH "$T/p1" --count 10 --ts $((base + b * 10000 + 500)) --ts-step 1000 \
        --start-seq $((1000 + b * 10)) --key b --header src=b --codec lz4
    post_batch timed "$T/p0" partition=0; expect 200
    post_batch timed "$T/p1" partition=1; expect 200
done
$S consume timed --format json >"$T/all.json"
[ "$(wc -l <"$T/all.json")" = 120 ] || fail "timed count"
jq -r .timestamp "$T/all.json" | sort -c -n || fail "partitions not merged in timestamp order"
$S consume timed --from-time 2026-11-24T10:00:20Z --to-time 2026-11-24T10:00:24.5Z \
    --format json --stats >"$T/slice.json" 2>"$T/stats"
[ "$(jq -r '"\(.partition):\(.offset)"' "$T/slice.json" | paste -sd,)" = \
  "0:20,1:20,0:21,1:21,0:22,1:22,0:23,1:23,0:24,1:24" ] || fail "time slice: $(jq -c '[.partition,.offset,.time]' "$T/slice.json")"
scanned=$(sed -n 's/.* \([0-9]*\) scanned.*/\1/p' "$T/stats")
[ "$scanned" -le 40 ] || fail "time seek scanned $scanned records: it did not use the time index"
$S consume timed --from-time 2026-11-24T10:00:20+00:00 --to-time 1795514424500 >/dev/null 2>&1 &&
    fail "--to-time as epoch ms should be refused by the CLI"
$S consume timed --grep 'seq=10[0-9]{2}$' --format json | jq -r .partition | sort -u | paste -sd, |
    grep -qx 1 || fail "grep"
[ "$($S consume timed --grep 'LINE 3 SEQ=(13|1013)$' -i | paste -sd,)" = "line 3 seq=13,line 3 seq=1013" ] ||
    fail "grep -i: $($S consume timed --grep 'LINE 3 SEQ=(13|1013)$' -i)"
[ "$($S consume timed --key b | wc -l)" = 60 ] || fail "--key"
[ "$($S consume timed --header src=a | wc -l)" = 60 ] || fail "--header k=v"
[ "$($S consume timed --header src | wc -l)" = 120 ] || fail "--header k"
[ "$($S consume timed --header src=c | wc -l)" = 0 ] || fail "--header no match"
[ "$($S consume timed --partition 1 --from-offset 55 | paste -sd,)" = \
  "line 5 seq=1055,line 6 seq=1056,line 7 seq=1057,line 8 seq=1058,line 9 seq=1059" ] ||
    fail "--partition --from-offset"
[ "$($S consume timed --max 7 | wc -l)" = 7 ] || fail "--max"
$S consume timed --partition 0 --max 1 --format pretty | grep -q '^2026-11-24T10:00:00.000Z timed/0@0 a  line 0 seq=0$' ||
    fail "pretty: $($S consume timed --partition 0 --max 1 --format pretty)"
$S consume timed --max 1 --format json | jq -e '.topic == "timed" and .headers[0].key == "src"' >/dev/null ||
    fail "json"
result "time range via the time index ($scanned records scanned), merge order, grep, key, header, partition, offset, max, formats"

# several topics merged; | head ends quietly
$S topic create timed2 >/dev/null
$MKBATCH "$T/q" --count 5 --ts $((base + 250)) --ts-step 1000 --start-seq 5000
post_batch timed2 "$T/q" partition=0; expect 200
$S consume timed,timed2 --format json --max 12 >"$T/multi"
[ "$(jq -r '.topic' "$T/multi" | sort | uniq -c | awk '{print $2"="$1}' | paste -sd,)" = "timed=8,timed2=4" ] ||
    fail "multi-topic: $(jq -c '[.topic,.time]' "$T/multi")"
jq -r .timestamp "$T/multi" | sort -c -n || fail "multi-topic order"
set -o pipefail
$S consume logs | head -n 3 >/dev/null || fail "| head: non-zero exit"
result "several topics merged by time; | head exits 0"

# ---------------------------------------------------------------- follow
$S consume logs --follow --format raw >"$T/follow" 2>"$T/follow.err" &
fpid=$!
track_pid $fpid
# its stream is in place (the store resolved "the end") before the record goes in
harness wait-stream --keepalive --pid $fpid --port "$HTTP_PORT" || fail "follow opened no stream"
echo "followed seq=424242" | $S produce logs --key web-01:/var/log/app.log -q
for i in $(seq 1 100); do grep -q 'seq=424242' "$T/follow" && break; sleep 0.1; done
grep -q 'seq=424242' "$T/follow" || fail "follow did not see the new record: $(cat "$T/follow.err")"
[ "$(wc -l <"$T/follow")" = 1 ] || fail "follow (from the end) printed old records"
kill -INT $fpid
wait $fpid || fail "follow: exit status after SIGINT"
result "follow prints new records, ends cleanly on SIGINT"

# ---------------------------------------------------------------- replay
$S replay timed --from-time 2026-11-24T10:00:10Z --to-time 2026-11-24T10:00:29Z --to-topic copy 2>"$T/err" ||
    fail "replay: $(cat "$T/err")"
grep -q "replayed 39 records" "$T/err" || fail "replay summary: $(cat "$T/err")"
$S consume timed --from-time 2026-11-24T10:00:10Z --to-time 2026-11-24T10:00:29Z --format json |
    jq -c '[.timestamp,.key,.headers,.value]' | sort >"$T/src"
$S consume copy --format json | jq -c '[.timestamp,.key,.headers,.value]' | sort >"$T/dst"
cmp -s "$T/src" "$T/dst" || fail "replay changed records: $(diff "$T/src" "$T/dst" | head)"
expect_rc 2 $S replay timed --to-topic copy2
expect_rc 2 $S replay timed --from-time -1h --to-topic timed
result "replay keeps keys, headers, timestamps (39 records)"

# ---------------------------------------------------------------- errors
expect_rc 2 $S consume logs --from-time 10:02
grep -q "is not a time" "$T/err" || fail "bad time message"
expect_rc 2 $S consume logs --from-time -15x
expect_rc 2 $S consume logs --from-time -1h --from-offset 3
expect_rc 2 $S consume logs --from-time -1h --to-time -2h
expect_rc 2 $S consume logs --follow --to-time now
expect_rc 2 $S consume logs --format xml
expect_rc 2 $S consume logs --grep '('
expect_rc 1 $S consume nosuchtopic
grep -q "unknown topic 'nosuchtopic'" "$T/err" || fail "unknown topic message: $(cat "$T/err")"
expect_rc 1 $S consume timed --partition 7
expect_rc 1 $S --store http://127.0.0.1:1 consume logs
grep -q "cannot reach the store" "$T/err" || fail "unreachable message: $(cat "$T/err")"
expect_rc 1 $S --store http://127.0.0.1:1 topics
echo x | expect_rc 1 $S --store http://127.0.0.1:1 produce logs
expect_rc 1 $S --token-file "$T/none" topics
result "errors: bad time (2), unknown topic (1), unreachable store (1), bad options (2)"

# ---------------------------------------------------------------- completion
. "$SLUICE_TOP/packaging/bash-completion/sluice"
complete_words() {
    COMP_WORDS=("$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMPREPLY=()
    PATH="$SLUICE_BIN:$PATH" _sluice
    printf '%s\n' "${COMPREPLY[@]}" | sort | paste -sd' '
}
[ "$(complete_words sluice con)" = consume ] || fail "complete command"
[ "$(complete_words sluice consume ti)" = "timed timed2" ] || fail "complete topic: $(complete_words sluice consume ti)"
[ "$(complete_words sluice consume timed,co)" = "timed,copy" ] || fail "complete topic list"
[ "$(complete_words sluice consume logs --fo)" = "--follow --format" ] || fail "complete option"
[ "$(complete_words sluice consume logs --format '')" = "json pretty raw" ] || fail "complete format"
[ "$(complete_words sluice topic de)" = "delete describe" ] || fail "complete topic action"
result "bash completion: commands, options, values, topic names from the store"
