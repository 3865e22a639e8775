# SPDX-License-Identifier: Apache-2.0
"""bench/tail_cri: what `format: cri` costs over plain tail (issue 19).

The same corpus (gen_corpus.py) is tailed from head into the `null` output
twice: as it is, and wrapped in CRI framing (`<time> stdout F <line>`, every
tenth line in two P/F pieces) under `format: cri`.  Prints the agent's CPU
seconds per GB of corpus (the log bytes, the same in both) and per GB of file
read, and the ratio cri / plain per corpus GB (goal <= 1.3x).  The median of
BENCH_REPS runs each.

  BENCH_SIZE=128M  corpus size
  BENCH_REPS=3
Run under `flock /tmp/sluice-heavy.lock` on a shared machine.
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

TOP = os.environ.get("SLUICE_TOP") or os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(TOP, "tests/integration"))
from sluicetest import free_port, wait_port  # noqa: E402

BIN = os.environ.get("SLUICE_BIN") or os.path.join(TOP, "build/bin")
SHARED = os.environ.get("SLUICE_SHARED") or os.path.join(TOP, "../shared")
SIZE = os.environ.get("BENCH_SIZE", "128M")
REPS = int(os.environ.get("BENCH_REPS", "3"))


def metric(port, name):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
    return 0.0


def run(d, log, fmt):
    port = free_port()
    data = os.path.join(d, "data-%s" % fmt)
    shutil.rmtree(data, ignore_errors=True)
    conf = os.path.join(d, "agent-%s.yaml" % fmt)
    with open(conf, "w") as f:
        f.write("agent:\n  data_dir: %s\n  http: { listen: 127.0.0.1:%d }\n"
                "inputs:\n  - id: app\n    type: tail\n    paths: [%s]\n"
                "    read_from_head: true\n    format: %s\n"
                "outputs:\n  - id: out\n    type: null\n" % (data, port, log, fmt))
    p = subprocess.Popen([os.path.join(BIN, "sluice-agent"), "-c", conf],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, 30, p)
        size = os.path.getsize(log)
        while metric(port, "sluice_agent_tail_read_bytes_total") < size:
            time.sleep(0.05)
        return metric(port, "process_cpu_seconds_total")
    finally:
        p.terminate()
        p.wait()


def main():
    d = tempfile.mkdtemp(prefix="sluice-bench-cri.")
    try:
        plain = os.path.join(d, "plain", "app.log")
        cri = os.path.join(d, "cri", "app.log")
        os.makedirs(os.path.dirname(plain))
        os.makedirs(os.path.dirname(cri))
        subprocess.run(["/usr/bin/python3", os.path.join(SHARED, "bench/gen_corpus.py"), plain,
                        SIZE], check=True, capture_output=True)
        with open(plain, "rb") as s, open(cri, "wb") as o:
            for i, line in enumerate(s):
                ts = b"2026-12-02T03:30:%02d.%09dZ" % (i // 1000000 % 60, i % 1000000000)
                if i % 10 == 0 and len(line) > 20:
                    o.write(b"%s stdout P %s\n" % (ts, line[:10]))
                    o.write(b"%s stdout F %s" % (ts, line[10:]))
                else:
                    o.write(b"%s stdout F %s" % (ts, line))
        gb = os.path.getsize(plain) / 1e9
        out = {}
        for fmt, log in (("none", plain), ("cri", cri)):
            out[fmt] = statistics.median(run(d, log, fmt) for _ in range(REPS))
        for fmt, log in (("none", plain), ("cri", cri)):
            print("%-5s %.2f CPU-s per corpus GB, %.2f per GB read (%d MB file)" % (
                fmt, out[fmt] / gb, out[fmt] / (os.path.getsize(log) / 1e9),
                os.path.getsize(log) // 1000000))
        print("ratio cri / plain, per corpus GB: %.2fx (goal <= 1.3x)" % (out["cri"] / out["none"]))
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
