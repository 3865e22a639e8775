#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Bearer-token auth of the HTTP API (http.tokens_file): 401 without or with
# a wrong token (before the body is read), 403 outside a token's topic glob
# or permission, /health open, admin implying produce and consume, a broken
# tokens file refusing to start, and tokens never written to the log.
# harness: quick
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"

PRODUCER=prod-7f3a9c0e1d2b4a5968776655
READER=read-0a1b2c3d4e5f60718293a4b5
ADMIN=admin-c0ffee00c0ffee00c0ffee00
WRONG=prod-7f3a9c0e1d2b4a5968776656
cat >"$T/tokens" <<EOF
# token   glob    permissions
$PRODUCER nginx*  produce
$READER   *       consume
$ADMIN    ops-*   admin
EOF
chmod 600 "$T/tokens"
cat >"$T/store.yaml" <<YAML
http:
  tokens_file: $T/tokens
YAML
start_store_http "$T/data" -c "$T/store.yaml"
$MKBATCH "$T/b" --count 3 --key k

auth() { echo "Authorization: Bearer $1"; }

req GET /health; expect 200
req GET /metrics; expect 401 unauthorized
grep -qi '^www-authenticate: Bearer' <(curl -s -D - -o /dev/null "$STORE_URL/metrics") ||
    fail "401 without WWW-Authenticate"
req GET /v1/topics; expect 401 unauthorized
post_batch nginx "$T/b"; expect 401 unauthorized
req POST /v1/topics/nginx/batches --data-binary "@$T/b" -H "$(auth "$WRONG")"; expect 401 unauthorized
req POST /v1/topics/nginx/batches --data-binary "@$T/b" -H "Authorization: Basic eDp5"
expect 401 unauthorized
req POST /v1/topics/nginx/batches --data-binary "@$T/b" -H "Authorization: Bearer"
expect 401 unauthorized
# a refused upload is answered before the body is sent (curl would wait for 100-continue)
head -c 2000000 /dev/zero >"$T/big"
t0=$(date +%s%N)
req POST /v1/topics/nginx/batches --data-binary "@$T/big" -H "$(auth "$WRONG")"
expect 401 unauthorized
[ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 900 ] || fail "401 waited for the body"
result "401: no token, wrong token, other scheme, empty token ok"

req POST /v1/topics/nginx-access/batches --data-binary "@$T/b" -H "$(auth "$PRODUCER")"; expect 200
req POST /v1/topics/orders/batches --data-binary "@$T/b" -H "$(auth "$PRODUCER")"; expect 403 forbidden
req POST /v1/topics/nginx/batches --data-binary "@$T/b" -H "$(auth "$READER")"; expect 403 forbidden
req GET /v1/topics/nginx-access/partitions/0/records -H "$(auth "$PRODUCER")"; expect 403 forbidden
req GET /v1/topics/nginx-access/partitions/0/records -H "$(auth "$READER")"; expect 200
[ "$(wc -l <"$BODY")" = 3 ] || fail "reader got $(wc -l <"$BODY") records"
req POST /v1/producers -H "$(auth "$PRODUCER")"; expect 200
req POST /v1/producers -H "$(auth "$READER")"; expect 403 forbidden
req PUT /v1/topics/nginx-x -H "$(auth "$PRODUCER")"; expect 403 forbidden
req PUT /v1/topics/ops-audit -d '{"partitions":2}' -H "$(auth "$ADMIN")"; expect 201
req PUT /v1/topics/nginx-y -H "$(auth "$ADMIN")"; expect 403 forbidden
req POST /v1/topics/ops-audit/batches --data-binary "@$T/b" -H "$(auth "$ADMIN")"; expect 200
req GET /v1/topics/ops-audit/partitions/0/records -H "$(auth "$ADMIN")"; expect 200
req DELETE /v1/topics/nginx-access -H "$(auth "$ADMIN")"; expect 403 forbidden
req GET /v1/topics -H "$(auth "$PRODUCER")"; expect 200
[ "$(jqb '[.topics[].name] | join(",")')" = "nginx-access" ] || fail "producer sees $(cat "$BODY")"
req GET /v1/topics -H "$(auth "$READER")"; expect 200
[ "$(jqb '[.topics[].name] | join(",")')" = "nginx-access,ops-audit" ] || fail "reader list"
req GET /metrics -H "$(auth "$READER")"; expect 200
grep -q 'sluice_http_auth_failures_total [1-9]' "$BODY" || fail "auth failures not counted"
result "403 outside glob/permission, admin implies produce+consume, filtered lists ok"

# the CLI with a token file, and a refused one
echo "$READER" >"$T/reader.tok"
echo "$WRONG" >"$T/wrong.tok"
"$SLUICE" --store "$STORE_URL" --token-file "$T/reader.tok" consume nginx-access --max 3 >"$T/cli.out" ||
    fail "cli consume with token"
[ "$(wc -l <"$T/cli.out")" = 3 ] || fail "cli consume got $(cat "$T/cli.out")"
set +e
"$SLUICE" --store "$STORE_URL" --token-file "$T/wrong.tok" consume nginx-access 2>"$T/cli.err"
rc=$?
set -e
[ $rc = 1 ] && grep -q "refused the token" "$T/cli.err" || fail "cli auth failure: rc=$rc $(cat "$T/cli.err")"
result "cli --token-file ok, auth failure exits 1 with a clear message"

for tok in "$PRODUCER" "$READER" "$ADMIN" "$WRONG"; do
    ! grep -qF "$tok" "$STORE_LOG" || fail "a token appears in the store log"
done

# a malformed tokens file stops the store at start-up, naming the line only
stop_store
printf '%s nginx write\n' "$PRODUCER" >"$T/tokens"
set +e
timeout 20 "$SLUICE_BIN/sluice-store" --data-dir "$T/data" --http-listen "127.0.0.1:$(free_port)" \
    --kafka-listen "127.0.0.1:$(free_port)" -c "$T/store.yaml" >"$T/bad.log" 2>&1
rc=$?
set -e
[ $rc != 0 ] || fail "store started with a bad tokens file"
grep -q "tokens:1: permissions" "$T/bad.log" || fail "no line number: $(cat "$T/bad.log")"
! grep -qF "$PRODUCER" "$T/bad.log" || fail "token text in the error"
result "bad tokens file refused with file:line, token not echoed"
