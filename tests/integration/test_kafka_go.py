# SPDX-License-Identifier: Apache-2.0
"""The Go Kafka clients against sluice-store: franz-go (kgo + kadm) and
IBM/sarama, from the Go module proxy, pinned by tests/go/go.mod + go.sum.

tests/go (kafkacompat) is built here into build/go (Go's build cache in
build/gocache, GOFLAGS=-mod=readonly; scripts/test-deps.sh downloads the
pinned modules, a no-op when `make test` already did).  For each client it
creates a 3-partition topic, produces 5,000 numbered events split over the
five codecs (none gzip snappy lz4 zstd) with the idempotent producer, consumes
them with a group (member 1 takes exactly half and commits, member 2 resumes
from that commit) and runs the admin calls listed in tests/go/*.go, each
asserting what the store answered.  The consumed values must hold every event
exactly once (check_seq, for the whole run and per codec).  A check that
needs an API the store's ApiVersions does not advertise is recorded as a
skip, decided by kafkacompat from ApiVersions alone; any other failure fails
this test.  Every check goes to the compatibility matrix (record_compat).
"""
import json
import os
import re
import subprocess
import sys

from harness import BIN, SHARED, TOP, Env, record_compat, result

N = 5000
CODECS = ("none", "gzip", "snappy", "lz4", "zstd")
GO = os.path.join(TOP, "tests", "go")


def go_env(build):
    env = dict(os.environ, GOFLAGS="-mod=readonly", GOTOOLCHAIN="local",
               GOCACHE=os.path.join(build, "gocache"))
    return env


def module_version(path):
    with open(os.path.join(GO, "go.mod")) as f:
        m = re.search(r"^\s*(?:require\s+)?%s\s+v(\S+)" % re.escape(path), f.read(), re.M)
    return m.group(1) if m else "?"


def build_tool():
    build = os.path.abspath(os.path.join(BIN, ".."))
    subprocess.run([os.path.join(TOP, "scripts", "test-deps.sh"), "go"], check=True,
                   env=dict(os.environ, SLUICE_BUILD=build))
    exe = os.path.join(build, "go", "kafkacompat")
    subprocess.run(["go", "build", "-o", exe, "."], cwd=GO, check=True, env=go_env(build))
    return exe


def seq_ok(env, values, start, expect):
    r = subprocess.run([sys.executable, os.path.join(SHARED, "bench", "check_seq.py"),
                        "--start-seq", str(start), "--expect", str(expect)],
                       input=values, capture_output=True)
    return r.returncode == 0, r.stdout.decode().strip()


def run_client(env, exe, store, sub, client, version):
    out = env.path(sub + ".txt")
    r = subprocess.run([exe, sub, "-brokers", store.bootstrap, "-n", str(N), "-out", out,
                        "-prefix", "go"], capture_output=True, text=True, timeout=120)
    lines = [json.loads(ln) for ln in r.stdout.splitlines() if ln.startswith("{")]
    if r.stderr.strip():
        print(r.stderr[-3000:], file=sys.stderr)
    if not lines:
        raise AssertionError("%s: no checks reported (exit %d)" % (sub, r.returncode))
    counts = {"pass": 0, "fail": 0, "skip": 0}
    failed = []
    for ln in lines:
        res = ln["result"] if ln["result"] != "fail" else "fail: " + ln.get("detail", "")
        record_compat(client, version, ln["check"], res)
        kind = res.split(":")[0]
        counts[kind] += 1
        print("  %s %s: %s" % (client, ln["check"], res))
        if kind == "fail":
            failed.append(ln["check"])
    # the numbered events, as consumed by the group: whole run and per codec
    data = open(out, "rb").read() if os.path.exists(out) else b""
    ok, msg = seq_ok(env, data, 0, N)
    check = "group-consumed events exactly once (check_seq)"
    record_compat(client, version, check, "pass" if ok else "fail: " + msg)
    counts["pass" if ok else "fail"] += 1
    if not ok:
        failed.append(check)
    per = N // len(CODECS)
    for i, c in enumerate(CODECS):
        part = b"\n".join(ln for ln in data.splitlines() if b" codec=%s " % c.encode() in ln)
        ok, msg = seq_ok(env, part + b"\n", i * per, per)
        check = "%s events exactly once (check_seq)" % c
        record_compat(client, version, check, "pass" if ok else "fail: " + msg)
        counts["pass" if ok else "fail"] += 1
        if not ok:
            failed.append(check)
    if r.returncode != 0 and not failed:
        failed.append("exit %d" % r.returncode)
    result("%s %s: %d passed, %d failed, %d skipped" % (client, version, counts["pass"],
                                                        counts["fail"], counts["skip"]))
    return failed


def main():
    exe = build_tool()
    franz = "%s (kadm %s)" % (module_version("github.com/twmb/franz-go"),
                              module_version("github.com/twmb/franz-go/pkg/kadm"))
    sarama = module_version("github.com/IBM/sarama")
    with Env() as env:
        store = env.start_store(ready="kafka")
        failed = run_client(env, exe, store, "franz", "franz-go", franz)
        failed += run_client(env, exe, store, "sarama", "sarama", sarama)
    if failed:
        print("FAIL: " + "; ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
