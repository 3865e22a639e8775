# SPDX-License-Identifier: Apache-2.0
"""The PyPI Kafka clients against sluice-store: the newest
confluent-kafka-python (its wheel bundles current librdkafka) with its
AdminClient, and aiokafka, run from build/venv (scripts/test-deps.sh creates
it from tests/python/requirements.lock, pinned with hashes; kafka-python and
Debian's confluent-kafka stay under /usr/bin/python3, tested elsewhere).

tests/python/kafkacompat.py does the work (its docstring lists the checks):
numbered events produced idempotently in every codec the client has, a group
whose member 1 takes exactly half and commits and whose member 2 resumes from
that commit, and the admin calls, each asserting what the store answered.
The consumed values must hold every event exactly once (check_seq, whole and
per codec).  A check needing an API the store's ApiVersions does not
advertise is recorded as a skip (decided from ApiVersions alone); any other
failure fails this test.  Every check goes to the compatibility matrix.
"""
import os
import subprocess
import sys

from harness import TOP, Env, compat_checks

N = 5000


def main():
    build = os.path.join(TOP, "build")  # shared by build-asan runs: no sanitizer inside
    subprocess.run([os.path.join(TOP, "scripts", "test-deps.sh"), "python"], check=True)
    py = os.path.join(build, "venv", "bin", "python")
    tool = os.path.join(TOP, "tests", "python", "kafkacompat.py")
    ver = subprocess.run([py, "-c", "import confluent_kafka, aiokafka; "
                          "print(confluent_kafka.__version__, confluent_kafka.libversion()[0], "
                          "aiokafka.__version__)"], check=True, capture_output=True, text=True)
    ck, rdk, aio = ver.stdout.split()
    clients = [("confluent", "confluent-kafka-python (PyPI)", "%s (librdkafka %s)" % (ck, rdk),
                ("none", "gzip", "snappy", "lz4", "zstd")),
               ("aiokafka", "aiokafka", aio, ("none", "gzip", "snappy", "lz4", "zstd"))]
    failed = []
    with Env() as env:
        store = env.start_store(ready="kafka")
        for sub, client, version, codecs in clients:
            out = env.path(sub + ".txt")
            argv = [py, tool, sub, store.bootstrap, str(N), out, "py"]
            failed += compat_checks(env, argv, out, client, version, N, codecs)
        if failed:  # raised inside Env: the store's log is printed too
            raise AssertionError("failed checks: " + "; ".join(failed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
