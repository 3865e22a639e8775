# SPDX-License-Identifier: Apache-2.0
"""sluice-store opens its log engine from --data-dir, runs until SIGTERM and
exits cleanly leaving its checkpoints; survives kill -9 and restarts; a
second store on the same data directory is refused.  (Data flowing through
the Kafka and HTTP servers is tested by their own integration tests.)
"""
# harness: quick
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import Env, free_port, result, store_argv, wait_until  # noqa: E402


def ready_lines(store):
    return sum(1 for line in store.log().splitlines() if "ready" in line)


def start(store, n):
    """Start (again) and wait for the n-th "ready" line of the log."""
    store.start()
    wait_until(lambda: ready_lines(store) >= n, 10, "sluice-store's ready line #%d" % n)


def main():
    with Env() as env:
        data = env.path("data")
        st = env.start_store(data_dir=data)
        wait_until(lambda: ready_lines(st) >= 1, 10, "sluice-store's ready line")
        assert os.path.isfile(os.path.join(data, "meta/recovery-points")), \
            "no recovery-points after open"
        assert os.path.isfile(os.path.join(data, "meta/producer-ids")), "no producer-ids after open"
        assert "log: opened" in st.log(), "engine did not report opening"

        # a second store on the same directory is refused, the first keeps running
        second = subprocess.run(store_argv(data, free_port(), free_port()), capture_output=True,
                                timeout=30)
        out = (second.stdout + second.stderr).decode(errors="replace")
        assert second.returncode != 0, "a second store opened the same data directory"
        assert "in use by another sluice-store" in out, "no lock message: " + out
        assert st.proc.poll() is None, "the first store died"

        # clean stop
        rc = st.stop()
        assert rc == 0, "sluice-store exited with %s on SIGTERM" % rc
        assert "log: closed" in st.log(), "engine did not close cleanly"

        # kill -9 and come back, twice
        start(st, 2)
        st.kill()
        start(st, 3)
        st.kill()
        start(st, 4)
        rc = st.stop()
        assert rc == 0, "sluice-store exited with %s after restarts" % rc
        result("sluice-store: open, lock, clean stop, kill -9 and restart ok")


if __name__ == "__main__":
    main()
