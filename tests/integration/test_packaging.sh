# SPDX-License-Identifier: Apache-2.0
# harness: heavy
#
# The Debian packages, installed for real on this machine (issue 11):
#   1. build sluice-store, sluice-agent and sluice-cli .debs with
#      scripts/build-deb.sh (lintian must be clean), or take them from
#      $SLUICE_DEB_DIR when that holds already-built ones;
#   2. dpkg -i the three; check the system users (sluice-agent in adm and
#      systemd-journal), state directories, conffiles, units and man pages;
#   3. systemd-analyze verify both installed units and report the exposure
#      score of `systemd-analyze security --offline=true` (no PID-1 systemd
#      is needed for either);
#   4. run both daemons as their users from the installed binaries and
#      configs (ports moved to free 127.0.0.1 ports: store by flags, agent by
#      an edited copy of /etc/sluice/agent.yaml tailing a temp log that only
#      the adm group can read), ship lines end to end, read them back with
#      `sluice consume` and kcat, stop both cleanly;
#   5. dpkg --purge the three and check nothing is left: binaries, units,
#      unit symlinks, /etc/sluice, /var/lib/sluice-*, man pages, dpkg state.
#      The system users stay after purge (Debian's advice for system
#      accounts, see packaging/debian/*.postrm); this test deletes them
#      afterwards when it was the one that created them.
# Needs root (dpkg, users); skips loudly otherwise.  An EXIT trap kills the
# daemons and purges the packages when anything fails.
. "$(dirname "$0")/lib.sh"

PKGS="sluice-agent sluice-store sluice-cli"
USERS="sluice-agent sluice-store"

if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP test_packaging: needs root (dpkg -i, system users); nothing tested"
    result "SKIP: not root, packages not tested"
    exit 0
fi
# One run per machine: worktrees test in parallel, and they share dpkg and
# the system users.
exec 9>/tmp/sluice-test-packaging.lock
flock -w 300 9 || fail "another test_packaging held the lock for 300 s"
for p in $PKGS; do
    st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    if [ -n "$st" ] && [ "$st" != "not-installed" ]; then
        echo "SKIP test_packaging: $p is already on this machine ($st); not touching it"
        result "SKIP: $p already installed here ($st), packages not tested"
        exit 0
    fi
done

created_users=""
for u in $USERS; do
    getent passwd "$u" >/dev/null || created_users="$created_users $u"
done
installed=0
AGENT_RU= STORE_RU= AGENT_PID= STORE_PID_U= LINTIAN_PID=

# The daemons run under runuser, which forwards a signal to its child only
# by killing it after 2 s, so they are signalled directly (child of runuser).
child_of() {
    local parent=$1 i=0 c=""
    while [ $i -lt 100 ]; do
        c=$(pgrep -P "$parent" 2>/dev/null | head -n 1 || true)
        [ -n "$c" ] && { echo "$c"; return 0; }
        kill -0 "$parent" 2>/dev/null || break
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}

pkg_cleanup() {
    local rc=$?
    for p in $AGENT_PID $STORE_PID_U $AGENT_RU $STORE_RU $LINTIAN_PID; do
        kill -9 "$p" 2>/dev/null || true
    done
    if [ $installed = 1 ]; then
        echo "cleanup: purging $PKGS" >&2
        dpkg --purge $PKGS >/dev/null 2>&1 || true
    fi
    for u in $created_users; do
        getent passwd "$u" >/dev/null && deluser --quiet --system "$u" >/dev/null 2>&1 || true
        getent group "$u" >/dev/null && delgroup --quiet --system "$u" >/dev/null 2>&1 || true
    done
    set +e          # `(exit 1)` below must not end the trap under set -e
    (exit $rc)      # _cleanup (lib.sh) takes the test's status from $?
    _cleanup
}
trap pkg_cleanup EXIT INT TERM

t0=$(date +%s)

# ---------------------------------------------------------------- 1. build
if [ -n "${SLUICE_DEB_DIR:-}" ] && ls "$SLUICE_DEB_DIR"/sluice-agent_*.deb >/dev/null 2>&1; then
    debs=$SLUICE_DEB_DIR
    result "prebuilt packages from $debs (not rebuilt, lintian not rerun)"
else
    DEB_LINTIAN=0 "$SLUICE_TOP/scripts/build-deb.sh" >"$T/build-deb.log" 2>&1 || {
        tail -n 40 "$T/build-deb.log"
        fail "scripts/build-deb.sh failed (dpkg-buildpackage)"
    }
    debs=$SLUICE_TOP/build/deb
    result "deb build $(( $(date +%s) - t0 ))s"
    # lintian (~12 s on one core) checks the packages while they are
    # installed and run; its verdict is awaited after the purge (lintian_done)
    lintian --fail-on error,warning --profile debian "$debs"/*.changes >"$T/lintian.log" 2>&1 &
    LINTIAN_PID=$!
fi

# ---------------------------------------------------------------- 2. install
files=""
for p in $PKGS; do
    f=$(ls "$debs"/${p}_*.deb | head -n 1)
    [ -f "$f" ] || fail "no ${p}_*.deb in $debs"
    files="$files $f"
done
installed=1
dpkg -i $files >"$T/dpkg-i.log" 2>&1 || { cat "$T/dpkg-i.log"; fail "dpkg -i failed"; }
for p in $PKGS; do
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$p")" = installed ] || fail "$p not installed"
done

for b in /usr/bin/sluice-store /usr/bin/sluice-agent /usr/bin/sluice; do
    [ -x "$b" ] || fail "$b missing"
done
for m in /usr/share/man/man8/sluice-store.8.gz /usr/share/man/man8/sluice-agent.8.gz \
         /usr/share/man/man1/sluice.1.gz; do
    [ -f "$m" ] || fail "man page $m missing"
done
[ -f /usr/share/bash-completion/completions/sluice ] || fail "bash completion for sluice missing"
for u in lib/systemd/system/sluice-store.service lib/systemd/system/sluice-agent.service; do
    [ -f "/$u" ] || fail "unit /$u missing"
done

getent passwd sluice-store >/dev/null || fail "user sluice-store missing"
# postinst made a CA and a store certificate; the key readable by the store only
tls=/etc/sluice/tls
for f in ca.crt ca.key store.crt store.key; do
    [ -f "$tls/$f" ] || fail "postinst did not make $tls/$f"
done
[ "$(stat -c '%U:%G %a' "$tls/store.key")" = "root:sluice-store 640" ] ||
    fail "$tls/store.key: $(stat -c '%U:%G %a' "$tls/store.key")"
[ "$(stat -c '%U %a' "$tls/ca.key")" = "root 600" ] || fail "$tls/ca.key: $(stat -c '%U %a' "$tls/ca.key")"
openssl verify -CAfile "$tls/ca.crt" "$tls/store.crt" >/dev/null || fail "store.crt not signed by ca.crt"
openssl x509 -in "$tls/store.crt" -noout -ext subjectAltName | grep -q 'DNS:localhost' ||
    fail "store.crt has no DNS:localhost"
sum=$(md5sum "$tls/store.crt")
/var/lib/dpkg/info/sluice-store.postinst configure >/dev/null || fail "postinst configure again"
runuser -u sluice-store -- /usr/bin/sluice-store -c /etc/sluice/store.yaml --check >/dev/null ||
    fail "the packaged store.yaml (TLS on 0.0.0.0) does not pass --check"
[ "$(md5sum "$tls/store.crt")" = "$sum" ] || fail "reconfigure replaced the existing store.crt"
result "postinst: self-signed CA and store certificate in $tls (store.key root:sluice-store 640, ca.key 600), kept on reconfigure"
getent passwd sluice-agent >/dev/null || fail "user sluice-agent missing"
groups_agent=" $(id -nG sluice-agent) "
case "$groups_agent" in *" adm "*) ;; *) fail "sluice-agent not in adm:$groups_agent" ;; esac
case "$groups_agent" in *" systemd-journal "*) ;; *) fail "sluice-agent not in systemd-journal:$groups_agent" ;; esac
for u in $USERS; do
    sh=$(getent passwd "$u" | cut -d: -f7)
    case "$sh" in */nologin|*/false) ;; *) fail "$u has a login shell: $sh" ;; esac
    d=/var/lib/$u
    [ "$(stat -c '%U:%G %a' "$d")" = "$u:$u 750" ] || fail "$d: $(stat -c '%U:%G %a' "$d")"
done
[ "$(dpkg-query -W -f='${Conffiles}' sluice-agent | awk 'NF{print $1}')" = /etc/sluice/agent.yaml ] ||
    fail "sluice-agent conffiles: $(dpkg-query -W -f='${Conffiles}' sluice-agent)"
[ "$(dpkg-query -W -f='${Conffiles}' sluice-store | awk 'NF{print $1}')" = /etc/sluice/store.yaml ] ||
    fail "sluice-store conffiles: $(dpkg-query -W -f='${Conffiles}' sluice-store)"
result "installed: users sluice-agent ($(id -nG sluice-agent | tr ' ' ,)) and sluice-store, conffiles /etc/sluice/{agent,store}.yaml"

# ---------------------------------------------------------------- 3. units
for s in sluice-store sluice-agent; do
    unit=/lib/systemd/system/$s.service
    systemd-analyze verify "$unit" >"$T/verify-$s.log" 2>&1 || {
        cat "$T/verify-$s.log"; fail "systemd-analyze verify $unit"
    }
    # verify prints problems without failing for some of them
    if grep -v -e '^$' "$T/verify-$s.log" | grep -q .; then
        cat "$T/verify-$s.log"; fail "systemd-analyze verify $unit printed warnings"
    fi
    for k in Type=notify WatchdogSec= Restart=on-failure NoNewPrivileges=yes ProtectSystem=strict \
             ProtectHome=yes PrivateTmp=yes "ReadWritePaths=/var/lib/$s" CapabilityBoundingSet= \
             SystemCallFilter=@system-service 'ExecReload=/bin/kill -HUP $MAINPID'; do
        grep -qxF -- "$k" "$unit" || grep -q -- "^$k" "$unit" || fail "$unit lacks $k"
    done
    [ "$(grep -c '^ReadWritePaths=' "$unit")" = 1 ] || fail "$unit: more than one ReadWritePaths"
    [ "$(grep '^CapabilityBoundingSet=' "$unit")" = "CapabilityBoundingSet=" ] ||
        fail "$unit: CapabilityBoundingSet not empty"
    systemd-analyze security --offline=true "$unit" >"$T/sec-$s.log" 2>&1 || true
    score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) \([A-Z]*\).*/\1 \2/p' "$T/sec-$s.log")
    [ -n "$score" ] || { cat "$T/sec-$s.log"; fail "no exposure score for $s"; }
    result "$s.service: systemd-analyze verify clean, exposure $score"
done
grep -q '^LimitNOFILE=' /lib/systemd/system/sluice-agent.service || fail "agent unit lacks LimitNOFILE"

# ---------------------------------------------------------------- 4. run
KAFKA_PORT=$(free_port)
HTTP_PORT=$(free_port)
AGENT_PORT=$(free_port)
STORE_URL=https://localhost:$HTTP_PORT
CA=/etc/sluice/tls/ca.crt
chmod 0755 "$T"

# What systemd would see: a notify socket per daemon (as the units'
# Type=notify gives them) and a 1 s watchdog, so READY=1 and the event
# loop's WATCHDOG=1 pings (every 0.5 s) are checked without PID-1 systemd.
notify_listen() {   # notify_listen SOCKET OUTFILE
    /usr/bin/python3 -u -c '
import os, socket, sys
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)
with open(out, "a") as f:
    while True:
        f.write(s.recv(4096).decode(errors="replace").replace("\n", " ") + "\n")
        f.flush()
' "$1" "$2" 9>&- &
    track_pid $!
    local i=0
    while [ ! -S "$1" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    [ -S "$1" ] || fail "notify socket $1 not created"
}
# wait_notify FILE WORD [COUNT]: until FILE holds COUNT lines with WORD (10 s).
wait_notify() {
    local i=0
    while [ "$(grep -c "$2" "$1" 2>/dev/null || true)" -lt "${3:-1}" ]; do
        i=$((i + 1))
        [ $i -le 200 ] || fail "no ${3:-1}x $2 in $1: $(tr '\n' '|' <"$1" 2>/dev/null)"
        sleep 0.05
    done
}
# The packaged store.yaml authenticates everyone: the first SCRAM user is
# the documented first step; the file keeps its root:sluice-store 0640.
for f in users tokens agent.token admin.token; do
    [ -f "/etc/sluice/$f" ] || fail "postinst did not make /etc/sluice/$f"
done
[ "$(stat -c '%U:%G %a' /etc/sluice/tokens)" = "root:sluice-store 640" ] ||
    fail "/etc/sluice/tokens: $(stat -c '%U:%G %a' /etc/sluice/tokens)"
[ "$(stat -c '%G %a' /etc/sluice/agent.token)" = "sluice-agent 640" ] ||
    fail "/etc/sluice/agent.token: $(stat -c '%G %a' /etc/sluice/agent.token)"
[ "$(stat -c '%U %a' /etc/sluice/admin.token)" = "root 600" ] ||
    fail "/etc/sluice/admin.token: $(stat -c '%U %a' /etc/sluice/admin.token)"
SCRAM_PW=pkg-$$-secret
printf '%s\n' "$SCRAM_PW" | /usr/bin/sluice-store user add ops -c /etc/sluice/store.yaml >/dev/null ||
    fail "sluice-store user add"
[ "$(stat -c '%U:%G %a' /etc/sluice/users)" = "root:sluice-store 640" ] ||
    fail "user add changed /etc/sluice/users to $(stat -c '%U:%G %a' /etc/sluice/users)"
grep -q "$SCRAM_PW" /etc/sluice/users && fail "the users file holds the password"
result "postinst: users (root:sluice-store 640, kept by user add), tokens, agent.token (sluice-agent 640), admin.token (root 600)"
ADMIN="--token-file /etc/sluice/admin.token"

notify_listen "$T/store.notify" "$T/store.msgs"
notify_listen "$T/agent.notify" "$T/agent.msgs"

NOTIFY_SOCKET=$T/store.notify WATCHDOG_USEC=1000000 \
runuser -u sluice-store -- /usr/bin/sluice-store -c /etc/sluice/store.yaml 9>&- \
    --kafka-listen "127.0.0.1:$KAFKA_PORT" --http-listen "127.0.0.1:$HTTP_PORT" \
    >"$T/store.log" 2>&1 &
STORE_RU=$!
STORE_PID_U=$(child_of "$STORE_RU") || { cat "$T/store.log"; fail "sluice-store did not start"; }
wait_port "$HTTP_PORT" 30
wait_port "$KAFKA_PORT" 30
[ "$(ps -o user= -p "$STORE_PID_U" | tr -d ' ')" = sluice-store ] || fail "store not running as sluice-store"
[ -n "$(ls -A /var/lib/sluice-store)" ] || fail "store did not use /var/lib/sluice-store"

# A log only the adm group may read: proves the agent's group membership.
logdir=$T/logs
install -d -m 0750 -o root -g adm "$logdir"
log=$logdir/app.log
token=pkgtest-$$-$(date +%s%N)
echo "$token line-1 written before the agent started" >"$log"
chown root:adm "$log"
chmod 0640 "$log"

# The packaged agent.yaml with free ports and the temp log instead of
# /var/log.  Its journald input stays unless this binary has no journald
# plugin (the journald input lands separately).
conf=$T/agent.yaml
sed -e "s#127\.0\.0\.1:8471#127.0.0.1:$AGENT_PORT#" \
    -e "s#https://localhost:8470#$STORE_URL#" \
    -e "s#paths: \[/var/log/syslog, /var/log/\*\.log\]#paths: [$logdir/*.log]\n    read_from_head: true#" \
    /etc/sluice/agent.yaml >"$conf"
if /usr/bin/sluice-agent --list-plugins | grep -qw journald; then
    /usr/bin/sluice-agent --check -c /etc/sluice/agent.yaml >/dev/null ||
        fail "the packaged /etc/sluice/agent.yaml does not pass --check"
    result "packaged agent.yaml passes --check"
else
    sed -i -e '/^  - id: journal$/,/^    topic: journald$/d' "$conf"
    result "packaged agent.yaml not checked: this agent has no journald input yet (running a copy without it)"
fi
grep -q "paths: \[$logdir/\*\.log\]" "$conf" || fail "could not point the agent config at $logdir"
grep -q "127.0.0.1:$AGENT_PORT" "$conf" || fail "could not move the agent's http port"
chmod 0644 "$conf"
runuser -u sluice-agent -- /usr/bin/sluice-agent --check -c "$conf" || fail "edited agent.yaml fails --check"

NOTIFY_SOCKET=$T/agent.notify WATCHDOG_USEC=1000000 \
runuser -u sluice-agent -- /usr/bin/sluice-agent -c "$conf" >"$T/agent.log" 2>&1 9>&- &
AGENT_RU=$!
AGENT_PID=$(child_of "$AGENT_RU") || { cat "$T/agent.log"; fail "sluice-agent did not start"; }
wait_port "$AGENT_PORT" 30
[ "$(ps -o user= -p "$AGENT_PID" | tr -d ' ')" = sluice-agent ] || fail "agent not running as sluice-agent"
echo "$token line-2 appended while the agent runs" >>"$log"

topic=$(sed -n 's/^    topic: \(.*\)$/\1/p' "$conf" | head -n 1)
[ -n "$topic" ] || fail "no topic in $conf"
got=0
for _ in $(seq 1 150); do
    n=$(/usr/bin/sluice --store "$STORE_URL" --ca-file "$CA" $ADMIN consume "$topic" 2>/dev/null | grep -c "$token" || true)
    [ "$n" -ge 2 ] && { got=$n; break; }
    sleep 0.2
done
if [ "$got" -lt 2 ]; then
    echo "--- agent log"; cat "$T/agent.log"; echo "--- store log"; cat "$T/store.log"
    fail "the two lines did not arrive in topic $topic"
fi
[ "$got" = 2 ] || fail "expected 2 records, got $got (duplicates?)"
/usr/bin/sluice --store "$STORE_URL" --ca-file "$CA" $ADMIN consume "$topic" --format json --max 1 | grep -q '"key"' ||
    fail "sluice consume --format json"
kc=$(timeout 20 kcat -C -b "127.0.0.1:$KAFKA_PORT" -X security.protocol=SASL_SSL \
     -X sasl.mechanisms=SCRAM-SHA-512 -X sasl.username=ops -X "sasl.password=$SCRAM_PW" \
     -X "ssl.ca.location=$CA" -t "$topic" -o beginning -e -q -f '%s\n' 2>"$T/kcat.err" |
     grep -c "$token" || true)
[ "$kc" = 2 ] || { cat "$T/kcat.err"; fail "kcat read $kc of 2 lines"; }
curl -fsS -o "$T/agent.metrics" "http://127.0.0.1:$AGENT_PORT/metrics" || fail "agent /metrics"
grep -q '^sluice_agent_output_records_total' "$T/agent.metrics" || fail "agent /metrics lacks output records"
curl -fsS --cacert "$CA" "$STORE_URL/health" >/dev/null || fail "store /health"
result "end to end over TLS (the certificate postinst made) with its credentials: 2 lines tail -> agent (sluice-agent user, agent.token) -> store (sluice-store user), read back by sluice consume (admin.token) and kcat (SASL_SSL SCRAM-SHA-512)"

for d in store agent; do
    wait_notify "$T/$d.msgs" READY=1
    wait_notify "$T/$d.msgs" WATCHDOG=1 3
done
result "sd_notify: both sent READY=1 and pinged WATCHDOG=1 from the event loop (WatchdogSec=1s)"

# SIGHUP (ExecReload) must reload, not kill.
kill -HUP "$STORE_PID_U" "$AGENT_PID"
wait_notify "$T/agent.msgs" RELOADING=1
wait_notify "$T/agent.msgs" READY=1 2
wait_notify "$T/store.log" "SIGHUP: reloaded"
kill -0 "$STORE_PID_U" 2>/dev/null || fail "sluice-store died on SIGHUP"
kill -0 "$AGENT_PID" 2>/dev/null || fail "sluice-agent died on SIGHUP"

kill -TERM "$AGENT_PID"
rc=0; wait "$AGENT_RU" || rc=$?
[ $rc = 0 ] || { cat "$T/agent.log"; fail "sluice-agent exited $rc on SIGTERM"; }
AGENT_PID= AGENT_RU=
kill -TERM "$STORE_PID_U"
rc=0; wait "$STORE_RU" || rc=$?
[ $rc = 0 ] || { cat "$T/store.log"; fail "sluice-store exited $rc on SIGTERM"; }
STORE_PID_U= STORE_RU=
grep -q STOPPING=1 "$T/agent.msgs" || fail "agent sent no STOPPING=1"
grep -q STOPPING=1 "$T/store.msgs" || fail "store sent no STOPPING=1"
result "SIGHUP reloaded both (agent RELOADING=1 then READY=1); SIGTERM: STOPPING=1 and exit 0"
[ -n "$(ls -A /var/lib/sluice-agent)" ] || fail "agent wrote nothing to /var/lib/sluice-agent"

# ---------------------------------------------------------------- 5. purge
dpkg --purge $PKGS >"$T/purge.log" 2>&1 || { cat "$T/purge.log"; fail "dpkg --purge failed"; }
installed=0
left=""
for f in /usr/bin/sluice-store /usr/bin/sluice-agent /usr/bin/sluice /etc/sluice \
         /var/lib/sluice-agent /var/lib/sluice-store \
         /lib/systemd/system/sluice-store.service /lib/systemd/system/sluice-agent.service \
         /usr/share/man/man8/sluice-store.8.gz /usr/share/man/man8/sluice-agent.8.gz \
         /usr/share/man/man1/sluice.1.gz /usr/share/bash-completion/completions/sluice \
         /usr/share/doc/sluice-agent /usr/share/doc/sluice-store \
         /usr/share/doc/sluice-cli; do
    if [ -e "$f" ] || [ -L "$f" ]; then left="$left $f"; fi
done
links=$(find /etc/systemd/system -name 'sluice-*' 2>/dev/null || true)
[ -z "$links" ] || left="$left $links"
for p in $PKGS; do
    st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ -z "$st" ] || [ "$st" = not-installed ] || left="$left dpkg:$p=$st"
done
[ -z "$left" ] || fail "left after purge:$left"
kept=""
for u in $USERS; do
    if getent passwd "$u" >/dev/null; then kept="$kept $u"; fi
done
result "purge: nothing left (binaries, units, links, /etc/sluice, /var/lib/sluice-*, man, doc); system users kept by design:${kept:- none}"
if [ -n "$LINTIAN_PID" ]; then
    rc=0
    wait "$LINTIAN_PID" || rc=$?
    LINTIAN_PID=
    if [ $rc -ne 0 ] || grep -E '^[EW]: ' "$T/lintian.log"; then
        tail -n 40 "$T/lintian.log"
        fail "lintian reported errors or warnings (exit $rc)"
    fi
    result "lintian clean (no E:/W: tags), run while the packages were installed and run"
fi
result "total ${SECONDS}s"
