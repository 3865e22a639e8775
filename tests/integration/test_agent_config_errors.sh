#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# `sluice-agent --check` on every broken configuration in
# tests/data/agent/bad/: exit status 1 and exactly one line on stderr naming
# file:line:column and saying what the file's "# expect:" comment says.
# The shipped conf/agent.yaml must pass.
# harness: quick
. "$(dirname "$0")/lib.sh"

n=0
for f in "$SLUICE_TOP"/tests/data/agent/bad/*.yaml; do
    want=$(sed -n 's/^# expect: //p' "$f")
    rc=0
    "$SLUICE_BIN/sluice-agent" --check -c "$f" >"$T/out" 2>"$T/err" || rc=$?
    [ $rc -eq 1 ] || fail "$(basename "$f"): exit status $rc, expected 1"
    [ "$(wc -l <"$T/err")" -eq 1 ] || { cat "$T/err"; fail "$(basename "$f"): not one line"; }
    grep -qE "^$f:[0-9]+:[0-9]+: " "$T/err" || { cat "$T/err"; fail "$(basename "$f"): no file:line:column"; }
    grep -qF -- "$want" "$T/err" || { cat "$T/err"; fail "$(basename "$f"): expected '$want'"; }
    echo "$(basename "$f"): $(cat "$T/err")"
    n=$((n + 1))
done
[ $n -ge 10 ] || fail "only $n broken configurations"
HOME=$T SLUICE_DATA_DIR=$T/data "$SLUICE_BIN/sluice-agent" --check -c "$SLUICE_TOP/conf/agent.yaml" \
    || fail "conf/agent.yaml does not pass --check"
"$SLUICE_BIN/sluice-agent" --list-plugins | grep -q '^input   tail' || fail "--list-plugins"
"$SLUICE_BIN/sluice-agent" --help-plugin store | grep -q 'max_in_flight' || fail "--help-plugin"
result "$n broken configs rejected with file:line:column"
