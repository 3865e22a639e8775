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
import os
import re
import subprocess
import sys

from harness import TOP, Env, compat_checks

N = 5000
CODECS = ("none", "gzip", "snappy", "lz4", "zstd")
GO = os.path.join(TOP, "tests", "go")


def module_version(path):
    with open(os.path.join(GO, "go.mod")) as f:
        m = re.search(r"^\s*(?:require\s+)?%s\s+v(\S+)" % re.escape(path), f.read(), re.M)
    return m.group(1) if m else "?"


def build_tool():
    build = os.path.join(TOP, "build")  # shared by build-asan runs: no sanitizer inside
    subprocess.run([os.path.join(TOP, "scripts", "test-deps.sh"), "go"], check=True)
    exe = os.path.join(build, "go", "kafkacompat")
    env = dict(os.environ, GOFLAGS="-mod=readonly", GOTOOLCHAIN="local",
               GOCACHE=os.path.join(build, "gocache"))
    subprocess.run(["go", "build", "-o", exe, "."], cwd=GO, check=True, env=env)
    return exe


def main():
    exe = build_tool()
    clients = [("franz", "franz-go", "%s (kadm %s)" % (
        module_version("github.com/twmb/franz-go"),
        module_version("github.com/twmb/franz-go/pkg/kadm"))),
        ("sarama", "sarama", module_version("github.com/IBM/sarama"))]
    failed = []
    with Env() as env:
        store = env.start_store(ready="kafka")
        for sub, client, version in clients:
            out = env.path(sub + ".txt")
            argv = [exe, sub, "-brokers", store.bootstrap, "-n", str(N), "-out", out,
                    "-prefix", "go"]
            failed += compat_checks(env, argv, out, client, version, N, CODECS)
        if failed:  # raised inside Env: the store's log is printed too
            raise AssertionError("failed checks: " + "; ".join(failed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
