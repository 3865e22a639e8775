#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# The test-only dependencies from language registries, pinned, installed by
# scripts/deps.sh (so by `make test`) and again, as a no-op when present, by
# the tests that use them:
#   go       the Go modules of tests/go and tests/k8s (go.mod + go.sum; GOFLAGS=-mod=readonly,
#            so nothing but what go.sum pins is used; module cache: go's
#            default, ~/go/pkg/mod, outside the tree), built once into
#            build/go (kafkacompat, k8scheck) with its cache in build/gocache
#   python   build/venv from Debian's /usr/bin/python3 with
#            tests/python/requirements.lock (--require-hashes); recreated when
#            the lock changes
# usage: scripts/test-deps.sh [go|python|all]   (SLUICE_BUILD: another dir than build/)
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${SLUICE_BUILD:-$top/build}
what=${1:-all}
mkdir -p "$build"

# One installer at a time: two tests may start together on a fresh machine.
exec 9>"$build/.test-deps.lock"
flock 9

if [ "$what" = go ] || [ "$what" = all ]; then
    if ! command -v go >/dev/null 2>&1; then
        echo "test-deps: no go command (the machine image ships Go 1.26)" >&2
        exit 1
    fi
    # download, then build once: a cold build of franz-go + sarama takes about a
    # CPU-minute, which the test's own `go build` then finds in build/gocache
    (cd "$top/tests/go" &&
        export GOFLAGS=-mod=readonly GOTOOLCHAIN=local GOCACHE="$top/build/gocache" &&
        go mod download && go build -o "$top/build/go/kafkacompat" .)
    # the Kubernetes manifest checker (k8s.io/api: about a CPU-minute cold)
    (cd "$top/tests/k8s" &&
        export GOFLAGS=-mod=readonly GOTOOLCHAIN=local GOCACHE="$top/build/gocache" &&
        go mod download && go build -o "$top/build/go/k8scheck" .)
fi

if [ "$what" = python ] || [ "$what" = all ]; then
    lock="$top/tests/python/requirements.lock"
    venv="$build/venv"
    want=$(sha256sum "$lock" | cut -d' ' -f1)
    if [ "$(cat "$venv/.lock-sha256" 2>/dev/null || true)" != "$want" ]; then
        echo "test-deps: creating $venv from $(basename "$lock")"
        /usr/bin/python3 -m venv --clear "$venv"
        "$venv/bin/pip" install -q --disable-pip-version-check --no-deps --require-hashes \
            -r "$lock"
        echo "$want" >"$venv/.lock-sha256"
    fi
fi
exit 0
