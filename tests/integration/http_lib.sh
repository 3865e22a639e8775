# SPDX-License-Identifier: Apache-2.0
#
# Helpers for the HTTP API and CLI integration tests, on top of lib.sh
# (source lib.sh first).  Requests go through curl; JSON is read with jq.

MKBATCH="/usr/bin/python3 $SLUICE_TOP/tests/integration/mkbatch.py"
SLUICE="$SLUICE_BIN/sluice"

# start_store_http [DATA_DIR] [args...]: start_store, but ready as soon as
# the HTTP API answers /health, so these tests do not depend on the Kafka
# listener (see kafka_listening).
start_store_http() {
    _start_store http "$@"
}

kafka_listening() {
    (exec 3<>"/dev/tcp/127.0.0.1/$KAFKA_PORT") 2>/dev/null
}

# req METHOD PATH [curl args...]: sets STATUS, BODY (file $T/body)
req() {
    local method=$1 path=$2
    shift 2
    STATUS=$(curl -s -o "$T/body" -w '%{http_code}' -X "$method" "$@" "$STORE_URL$path") ||
        fail "curl $method $path: transport error"
    BODY=$T/body
}

# expect STATUS [ERROR_CODE]: check the last req.
expect() {
    local want=$1 code=${2:-}
    [ "$STATUS" = "$want" ] || fail "expected HTTP $want, got $STATUS: $(head -c 600 "$BODY")"
    if [ -n "$code" ]; then
        local got
        got=$(jq -r '.error // empty' "$BODY")
        [ "$got" = "$code" ] || fail "expected error '$code', got '$got': $(head -c 600 "$BODY")"
    fi
}

# post_batch TOPIC FILE [QUERY]: POST a batch file.
post_batch() {
    req POST "/v1/topics/$1/batches${3:+?$3}" --data-binary "@$2" \
        -H 'Content-Type: application/vnd.kafka.recordbatch.v2'
}

# jqb FILTER: jq over the last body.
jqb() { jq -r "$1" "$BODY"; }
