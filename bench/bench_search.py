# SPDX-License-Identifier: Apache-2.0
"""Incident search benchmark (issue 21): the block skip index.

A topic of BENCH_SEARCH_SIZE (default 2G; the issue's target is 10G) of
gen_corpus.py lines in 6 partitions, timestamps spread over 24 h
(bench/replay_load, ~1 MiB zstd batches over HTTP), 64 MiB segments, with 5
planted request ids ("req=R-<16 hex>") in 1, 3, 5, 8 and 10 records. With the
real store and CLI it reports:

  1. each needle with `sluice consume --grep NEEDLE`, warm page cache
     (target < 1 s), against the same query without the index, in the same
     run: `--grep '(?=NEEDLE)NEEDLE'` (a lookahead: the literal extraction
     gives up, so the store sends everything; identical matches) — target
     >= 20x;
  2. a 5-minute histogram over the 24 h (`sluice stats --by 5m`): from the
     index alone; of errors (`--grep error -i`, the pattern the index counts
     per minute by default, log.block_index_count), also from the index; and
     of `--grep ERROR` (not counted, 5 letters: too short for the gram
     filter, so a scan);
  3. the index size against the compressed segment bytes (target <= 3 %);
  4. HTTP ingest throughput with the index worker running, against a second
     load into a fresh store with `log.block_index: false` (target >= 0.95).

The corpus is cached in /var/tmp (shared with bench_replay.py; the planted
copy beside it).  Takes /tmp/sluice-heavy.lock.
"""
import fcntl
import glob
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

BIN = os.environ.get("SLUICE_BIN") or os.path.join(os.path.dirname(__file__), "../build/bin")
BENCH_BIN = os.environ.get("SLUICE_BENCH_BIN") or os.path.join(os.path.dirname(__file__),
                                                               "../build/bench")
SHARED = os.environ.get("SLUICE_SHARED") or os.path.join(os.path.dirname(__file__), "../../shared")
SIZE = os.environ.get("BENCH_SEARCH_SIZE", "2G")
PARTS = 6
# The 24 hours ending an hour ago, relative to now: the store's default
# retention (7 days) deleted a fixed date's data a week later.
_T0 = (int(time.time()) // 3600 - 25) * 3600
START = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(_T0))
END = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(_T0 + 86399))
PLANT = [1, 3, 5, 8, 10]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def corpus():
    base = "/var/tmp/sluice-corpus-%s-seed42" % SIZE
    if not os.path.exists(base):
        subprocess.run([sys.executable, os.path.join(SHARED, "bench/gen_corpus.py"), base + ".tmp",
                        SIZE], check=True, stderr=subprocess.DEVNULL)
        os.rename(base + ".tmp", base)
    planted = base + ".planted"
    meta = planted + ".json"
    if os.path.exists(planted) and os.path.exists(meta):
        with open(meta) as f:
            return planted, json.load(f)
    rnd = random.Random(21)
    est = os.path.getsize(base) // 200
    needles = {"R-%016x" % rnd.getrandbits(64): n for n in PLANT}
    at = {}
    for nd, n in needles.items():
        for _ in range(n):
            at[rnd.randrange(est)] = nd
    with open(base, "rb") as src, open(planted + ".tmp", "wb") as dst:
        for i, line in enumerate(src):
            nd = at.get(i)
            if nd:
                line = line.rstrip(b"\n") + b" req=" + nd.encode() + b"\n"
            dst.write(line)
    os.rename(planted + ".tmp", planted)
    with open(meta, "w") as f:
        json.dump(needles, f)
    return planted, needles


class Store:
    def __init__(self, conf):
        self.tmp = tempfile.mkdtemp(prefix="sluice-bench-search.", dir="/var/tmp")
        self.port, kport = free_port(), free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        with open(self.tmp + "/store.yaml", "w") as f:
            f.write(conf)
        self.proc = subprocess.Popen([os.path.join(BIN, "sluice-store"), "-c",
                                      self.tmp + "/store.yaml", "--data-dir", self.tmp + "/data",
                                      "--http-listen", "127.0.0.1:%d" % self.port,
                                      "--kafka-listen", "127.0.0.1:%d" % kport],
                                     stdout=open(self.tmp + "/store.log", "w"),
                                     stderr=subprocess.STDOUT)
        for _ in range(300):
            try:
                urllib.request.urlopen(self.url + "/health", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        req = urllib.request.Request(self.url + "/v1/topics", method="POST", data=json.dumps(
            {"name": "bench", "partitions": PARTS, "segment_bytes": 64 << 20,
             "retention_ms": -1}).encode())
        urllib.request.urlopen(req).read()

    def load(self, path):
        t0 = time.monotonic()
        out = subprocess.run([os.path.join(BENCH_BIN, "replay_load"), "--url", self.url,
                              "--corpus", path, "--topic", "bench", "--partitions", str(PARTS),
                              "--start", START, "--span", "24h"], check=True,
                             capture_output=True).stdout.decode()
        return time.monotonic() - t0, out.strip()

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


def timed(argv):
    t0 = time.monotonic()
    r = subprocess.run(argv, capture_output=True, check=True)
    return time.monotonic() - t0, r.stdout


def stats_doc(st, *args):
    took, out = timed([os.path.join(BIN, "sluice"), "--store", st.url, "stats", "bench",
                       "--from-time", START, "--to-time", END, "--format", "json"] + list(args))
    return took, json.loads(out)["topics"][0]


def wait_indexed(st, timeout=1800):
    """Until the worker has caught up: from_index stops growing."""
    last, t0 = -1, time.monotonic()
    while time.monotonic() - t0 < timeout:
        _, doc = stats_doc(st, "--by", "1d")
        if doc["from_index"] == last and last > 0:
            return doc, time.monotonic() - t0
        last = doc["from_index"]
        time.sleep(2)
    raise RuntimeError("index not caught up")


def main():
    lock = open("/tmp/sluice-heavy.lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    path, needles = corpus()
    mb = os.path.getsize(path) / 1e6
    print("corpus %s: %.0f MB of lines, needles %s" % (path, mb, needles))
    # ingest without the worker first (the corpus is in the page cache for both)
    st = Store("log: {fsync: always, block_index: false}\n")
    try:
        secs, out = st.load(path)
        ingest_off = mb / secs
    finally:
        st.stop()
    st = Store("log: {fsync: always}\n")
    try:
        secs, out = st.load(path)
        print(out)
        ingest_on = mb / secs
        print("RESULT search_ingest_with_index %.0f MB/s, without %.0f MB/s: ratio %.2f"
              % (ingest_on, ingest_off, ingest_on / ingest_off))
        doc, caught = wait_indexed(st)
        print("RESULT search_index_catchup %.1fs after the load; %d of %d records countable "
              "from the index" % (caught, doc["from_index"], doc["total"]))
        sluice = [os.path.join(BIN, "sluice"), "--store", st.url]
        for nd, n in sorted(needles.items(), key=lambda kv: kv[1]):
            timed(sluice + ["consume", "bench", "--grep", nd])        # warm
            t_idx, out = timed(sluice + ["consume", "bench", "--grep", nd])
            t_scan, out2 = timed(sluice + ["consume", "bench", "--grep", "(?=%s)%s" % (nd, nd)])
            assert out == out2 and out.count(b"\n") == n, (out.count(b"\n"), n)
            print("RESULT search_needle records=%d indexed=%.3fs scan=%.2fs speedup=%.0fx"
                  % (n, t_idx, t_scan, t_scan / t_idx))
        t_h, doc = stats_doc(st, "--by", "5m")
        print("RESULT search_histogram_5m_24h %.3fs buckets=%d total=%d from_index=%d "
              "scanned=%.1fMB" % (t_h, len(doc["groups"][0]["counts"]), doc["total"],
                                  doc["from_index"], doc["scanned_bytes"] / 1e6))
        t_e, doc = stats_doc(st, "--by", "5m", "--grep", "error", "-i")
        print("RESULT search_error_histogram_5m_24h %.3fs errors=%d from_index=%d scanned=%.1fMB"
              " (--grep error -i: log.block_index_count's default pattern)"
              % (t_e, doc["total"], doc["from_index"], doc["scanned_bytes"] / 1e6))
        t_e, doc = stats_doc(st, "--by", "5m", "--grep", "ERROR")
        print("RESULT search_other_histogram_5m_24h %.3fs matches=%d scanned=%.1fMB"
              " (--grep ERROR: not a counted pattern, scanned)"
              % (t_e, doc["total"], doc["scanned_bytes"] / 1e6))
        logs = bidx = 0
        for f in glob.glob(st.tmp + "/data/bench-*/*.bidx"):
            bidx += os.path.getsize(f)
            logs += os.path.getsize(f[:-5] + ".log")
        allb = sum(os.path.getsize(f) for f in glob.glob(st.tmp + "/data/bench-*/*.log"))
        print("RESULT search_index_size %.2f%% of the sealed segments' compressed bytes "
              "(%.1f MB / %.1f MB; all segments %.1f MB)" % (100.0 * bidx / max(logs, 1),
                                                             bidx / 1e6, logs / 1e6, allb / 1e6))
    finally:
        st.stop()


if __name__ == "__main__":
    main()
