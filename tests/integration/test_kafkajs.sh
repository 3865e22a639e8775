#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# kafkajs 2.2.4 (npm, pinned in tests/js) against sluice-store: admin,
# producer without compression and with gzip, a consumer, and a consumer
# group of two members that join, consume, leave cleanly and rejoin
# (tests/js/kafkajs_test.js).  Every record is consumed exactly once
# (check_seq over what the consumers saw).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kafka_lib.sh"

JS=$SLUICE_TOP/tests/js
[ -d "$JS/node_modules/kafkajs" ] || fail "kafkajs not installed (scripts/deps.sh runs npm ci in tests/js)"
KJS_VERSION=$(node -p "require('$JS/node_modules/kafkajs/package.json').version")
KJS_CHECK="admin, produce none+gzip, consume, group of two: join, leave, rejoin"
record_compat kafkajs "$KJS_VERSION" "$KJS_CHECK" fail
start_store_kafka "$T/data"
gen_corpus "$T/corpus" 1M 2>/dev/null
awk '/seq/ && n < 3000 { n++; print }' "$T/corpus" >"$T/events"
KAFKAJS_NO_PARTITIONER_WARNING=1 timeout 240 node "$JS/kafkajs_test.js" "$BROKER" "$T/events" "$T" ||
    fail "kafkajs test failed"
check_seq --expect 3000 <"$T/simple.txt" || fail "kafkajs consumer: exactly-once"
check_seq --expect 3000 <"$T/group.txt" || fail "kafkajs group: exactly-once"
result "kafkajs: 3000 + 3000 records exactly once"
record_compat kafkajs "$KJS_VERSION" "$KJS_CHECK" pass
