#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# kcat (librdkafka 2.0.2) against sluice-store over the Kafka protocol:
# 10,000 keyed corpus events produced with zstd and acks=all, the store
# killed with SIGKILL and restarted, then consumed back with -o beginning -e:
# byte-identical keys and values, per-key order kept, every key in the
# partition Kafka's default partitioner picks, every event exactly once
# (check_seq).  kcat -L lists the topic and its partitions; kcat -G consumes
# as a group member and commits, so a second run of the group reads nothing
# old and picks up exactly what was produced since.
# harness: quick
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kafka_lib.sh"

# groups.initial_rebalance_delay 0: each kcat -G run is the group's only
# member, so Kafka's 3 s wait for more members would only slow the test
cat >"$T/store.yaml" <<YAML
log:
  default_partitions: 4
groups:
  initial_rebalance_delay: 0
YAML
start_store_kafka "$T/data" -c "$T/store.yaml"
KCAT=(kcat -b "$BROKER" -X broker.address.family=v4 -q)

# 10,000 events of the shared corpus, one line each, keyed by 50 sources
gen_corpus "$T/corpus" 4M 2>/dev/null
awk '/seq/ && n < 10000 { n++; printf "web-%02d:/var/log/app.log\t%s\n", n % 50, $0 }' \
    "$T/corpus" >"$T/in"
[ "$(wc -l <"$T/in")" = 10000 ] || fail "corpus too small"
start=$(date +%s.%N)
# murmur2_random is librdkafka's name for the Java client's default partitioner
# (its own default, consistent_random, hashes with CRC32)
timeout 60 "${KCAT[@]}" -P -t logs -K $'\t' -z zstd -X acks=all -X partitioner=murmur2_random \
    -l "$T/in" ||
    fail "kcat produce failed"
result "kcat produced 10000 keyed events with zstd, acks=all in $(echo "$(date +%s.%N) - $start" | bc)s"

# kill -9: acknowledged batches must survive
restart_store_kafka KILL

"${KCAT[@]}" -L -t logs >"$T/meta" || fail "kcat -L failed"
grep -q 'topic "logs" with 4 partitions' "$T/meta" || fail "kcat -L: $(cat "$T/meta")"
for p in 0 1 2 3; do
    grep -q "partition $p, leader 0" "$T/meta" || fail "kcat -L: no partition $p led by 0"
done
"${KCAT[@]}" -L >"$T/meta_all" || fail "kcat -L (all) failed"
grep -q 'broker 0 at 127.0.0.1:'"$KAFKA_PORT" "$T/meta_all" || fail "kcat -L: advertised address"
result "kcat -L: topic logs with 4 partitions, leader 0 at 127.0.0.1:$KAFKA_PORT"

timeout 60 "${KCAT[@]}" -C -t logs -o beginning -e -f '%k\t%s\t%p\n' >"$T/out" ||
    fail "kcat consume failed"
[ "$(wc -l <"$T/out")" = 10000 ] || fail "consumed $(wc -l <"$T/out") of 10000"
# byte-identical key/value pairs
cut -f1,2 "$T/out" | sort >"$T/got.sorted"
sort "$T/in" >"$T/want.sorted"
cmp -s "$T/got.sorted" "$T/want.sorted" || fail "consumed records differ from produced"
# per-key order is produce order (one key, one partition)
for k in web-07 web-33; do
    diff <(grep -a "^$k:" "$T/in" | cut -f2) <(grep -a "^$k:" "$T/out" | cut -f2) >/dev/null ||
        fail "order of key $k changed"
done
cut -f1,3 "$T/out" | check_partitions 4 || fail "keys not in Kafka's partitions"
cut -f2 "$T/out" | check_seq --expect 10000 || fail "exactly-once check"
result "kcat consumed 10000 records after kill -9: identical, ordered, murmur2 partitions, exactly once"

# balanced consumer group: consume and commit, then only new records
timeout 60 "${KCAT[@]}" -G kcatgroup logs -o beginning -e -f '%s\n' >"$T/g1" 2>"$T/g1.err" ||
    fail "kcat -G failed: $(tail -n 5 "$T/g1.err")"
check_seq --expect 10000 <"$T/g1" || fail "kcat -G first run"
seq 20000 20099 | sed 's/^/late event seq=/' >"$T/late"
timeout 30 "${KCAT[@]}" -P -t logs -l "$T/late" || fail "kcat produce (late) failed"
timeout 60 "${KCAT[@]}" -G kcatgroup logs -e -f '%s\n' >"$T/g2" 2>"$T/g2.err" ||
    fail "kcat -G second run failed: $(tail -n 5 "$T/g2.err")"
check_seq --start-seq 20000 --expect 100 <"$T/g2" || fail "kcat -G did not resume at its commit"
result "kcat -G: 10000 records, committed; second run resumed with exactly the 100 new ones"
