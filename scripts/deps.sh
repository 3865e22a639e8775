#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# The dependency step of `make test`, `make demo`, `make deb` and `make bench`:
# the one list of Debian packages Sluice builds, tests and packages with.  When
# any is missing it runs `apt-get update` once and `apt-get install -y` with the
# exact list; it also installs the npm packages the kafkajs tests use, the
# Kafka jars the real-cluster tests run (scripts/kafka-jars.sh) and the Go
# modules and Python venv of the client tests (scripts/test-deps.sh).
set -eu

PACKAGES="
build-essential pkg-config clang libclang-rt-14-dev clang-format universal-ctags git
libyaml-dev libcurl4-openssl-dev libzstd-dev zlib1g-dev liblz4-dev libsnappy-dev
libssl-dev libgnutls28-dev libpcre2-dev libcunit1-dev libsystemd-dev libmicrohttpd-dev librdkafka-dev
kcat python3 python3-venv python3-kafka python3-confluent-kafka
python3-lz4 python3-snappy python3-zstandard
systemd systemd-journal-remote rsyslog rsyslog-openssl bsdutils curl jq valgrind zstd procps iproute2 man-db
debhelper lintian dpkg-dev fakeroot
prometheus prometheus-alertmanager
openjdk-17-jdk-headless maven
"

missing=""
for p in $PACKAGES; do
    st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$st" = "installed" ] || missing="$missing $p"
done

# Node.js: this machine kind ships nodesource's nodejs (npm included), which
# conflicts with Debian's npm package; only fall back to Debian's when absent.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    missing="$missing nodejs npm"
fi

if [ -n "$missing" ]; then
    echo "deps: missing Debian packages:$missing"
    if [ "$(id -u)" -ne 0 ]; then
        echo "deps: not root; run as root or install them with:" >&2
        echo "  apt-get install -y$missing" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends $missing
fi

# kafkajs (npm) for the Kafka-protocol tests; pinned by tests/js/package-lock.json.
top=$(cd "$(dirname "$0")/.." && pwd)
if [ -f "$top/tests/js/package.json" ] && [ ! -d "$top/tests/js/node_modules/kafkajs" ]; then
    echo "deps: installing npm packages for tests/js"
    (cd "$top/tests/js" && npm ci --no-audit --no-fund --loglevel=error)
fi

# Apache Kafka's jars (Maven) for the tests that run a real Kafka cluster.
"$top/scripts/kafka-jars.sh"

# Go modules (tests/go, tests/k8s) and the Python venv (tests/python) of the
# tests; `make test` runs this step beside the C build instead
# (SLUICE_TEST_DEPS=later), its downloads and Go compiles filling the gaps.
if [ "${SLUICE_TEST_DEPS:-now}" != later ]; then
    "$top/scripts/test-deps.sh"
fi
exit 0
