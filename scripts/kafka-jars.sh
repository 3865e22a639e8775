#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Test-only: the Apache Kafka 4.x broker and tools jars (pinned in
# tests/kafka/pom.xml) for the tests and benchmarks that run a real Kafka
# cluster (tests/integration/kafkacluster.py).  Maven copies them from its
# repository (~/.m2, filled from Maven Central on first use) into
# build/kafka-jars/; no tarball is downloaded.  A stamp holding the pom's
# checksum makes a second run a no-op.  SLUICE_KAFKA_JARS overrides the dir.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${SLUICE_KAFKA_JARS:-$top/build/kafka-jars}
pom=$top/tests/kafka/pom.xml
sum=$(sha256sum "$pom" | cut -d' ' -f1)
if [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$sum" ]; then
    exit 0
fi
if ! command -v mvn >/dev/null 2>&1 || ! command -v java >/dev/null 2>&1; then
    echo "kafka-jars: mvn and java are needed (scripts/deps.sh installs them)" >&2
    exit 1
fi
echo "kafka-jars: fetching the Kafka jars pinned in tests/kafka/pom.xml into $dir"
rm -rf "$dir"
mkdir -p "$dir"
mvn -q -B -f "$pom" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$dir"
echo "$sum" >"$dir/.stamp"
