# SPDX-License-Identifier: Apache-2.0
"""Replay benchmark (issue 10): 2 GiB of gen_corpus.py lines in a 6-partition
topic, timestamps spread over 2 hours (bench/replay_load), then with the real
`sluice` CLI against a real store:

  1. a 5-minute slice in the middle with --grep: time from starting the
     command to its first record on stdout (target < 200 ms) and the scan
     rate of decompressed log bytes (--stats);
  2. a scan of the whole topic with a --grep that matches nothing (the pure
     scan rate, target >= 500 MB/s of decompressed bytes);
  3. a full `consume --from-offset 0 > /dev/null` replay: MB/s.

Takes /tmp/sluice-heavy.lock.  BENCH_CORPUS_SIZE (default 2G) shrinks it for
a quick run.  The corpus is cached in /var/tmp between runs (same seed, same
bytes).
"""
import fcntl
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

BIN = os.environ["SLUICE_BIN"]
BENCH_BIN = os.environ["SLUICE_BENCH_BIN"]
SHARED = os.environ.get("SLUICE_SHARED") or os.path.join(os.path.dirname(__file__), "../../shared")
SIZE = os.environ.get("BENCH_CORPUS_SIZE", "2G")
PARTS = 6


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


# Timestamps relative to now (the store's default retention is 7 days: a
# fixed date stops working a week later): the 2 hours ending an hour ago,
# on a whole minute, and a 5-minute slice in their middle.
START_T = (int(time.time()) // 60 - 180) * 60
START = iso(START_T)
SLICE_FROM, SLICE_TO = iso(START_T + 3600), iso(START_T + 3900)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def first_byte_ms(argv):
    """Run argv; ms until its first stdout byte, and its stderr."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = p.stdout.read(1)
    t1 = time.monotonic()
    rest = p.stdout.read()
    err = p.stderr.read().decode()
    p.wait()
    if p.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(argv), p.returncode, err))
    return (t1 - t0) * 1000 if first else None, len(first) + len(rest), err


def stats(err):
    m = re.search(r"(\d+) records out, (\d+) scanned, ([\d.]+) MB received, ([\d.]+) MB decoded, "
                  r"([\d.]+) MB of log lines in ([\d.]+) s \(([\d.]+) MB/s of log lines\)", err)
    if not m:
        raise RuntimeError("no stats in: " + err)
    return {"out": int(m.group(1)), "scanned": int(m.group(2)), "received": float(m.group(3)),
            "decoded": float(m.group(4)), "lines": float(m.group(5)), "secs": float(m.group(6)),
            "rate": float(m.group(7))}


def main():
    lock = open("/tmp/sluice-heavy.lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    corpus = "/var/tmp/sluice-corpus-%s-seed42" % SIZE
    if not os.path.exists(corpus):
        subprocess.run([sys.executable, os.path.join(SHARED, "bench/gen_corpus.py"), corpus + ".tmp",
                        SIZE], check=True, stderr=subprocess.DEVNULL)
        os.rename(corpus + ".tmp", corpus)
    tmp = tempfile.mkdtemp(prefix="sluice-bench-replay.", dir="/var/tmp")
    port, kport = free_port(), free_port()
    url = "http://127.0.0.1:%d" % port
    store = subprocess.Popen([os.path.join(BIN, "sluice-store"), "--data-dir", tmp + "/data",
                              "--http-listen", "127.0.0.1:%d" % port,
                              "--kafka-listen", "127.0.0.1:%d" % kport],
                             stdout=open(tmp + "/store.log", "w"), stderr=subprocess.STDOUT)
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(url + "/health", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        sluice = [os.path.join(BIN, "sluice"), "--store", url]
        subprocess.run(sluice + ["topic", "create", "bench", "--partitions", str(PARTS)], check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run([os.path.join(BENCH_BIN, "replay_load"), "--url", url, "--corpus", corpus,
                        "--topic", "bench", "--partitions", str(PARTS),
                        "--start", START, "--span", "2h"], check=True)
        # drop the page cache of nothing: the data was just written and is warm,
        # as it is on a store that is receiving logs during an incident.
        slice_args = ["consume", "bench", "--from-time", SLICE_FROM,
                      "--to-time", SLICE_TO, "--stats"]
        ms, nbytes, err = first_byte_ms(sluice + slice_args + ["--grep", r"failed to process order \d+"])
        st = stats(err)
        print("RESULT replay_slice_grep first_record=%.1fms records=%d scanned=%d log_lines=%.1fMB "
              "in %.3fs (%.0f MB/s of log lines)" % (ms, st["out"], st["scanned"], st["lines"],
                                                      st["secs"], st["rate"]))
        ms2, _, err = first_byte_ms(sluice + slice_args + ["--grep", "order 8172[0-9]"])
        st2 = stats(err)
        print("RESULT replay_slice_rare_grep first_record=%s records=%d log_lines=%.1fMB in %.3fs "
              "(%.0f MB/s of log lines)" % ("%.1fms" % ms2 if ms2 is not None else "none",
                                            st2["out"], st2["lines"], st2["secs"], st2["rate"]))
        _, _, err = first_byte_ms(sluice + ["consume", "bench", "--grep", "no such line xyzzy",
                                            "--stats"])
        st3 = stats(err)
        print("RESULT replay_scan_all_grep scanned=%d log_lines=%.1fMB decoded=%.1fMB received=%.1fMB "
              "in %.2fs (%.0f MB/s of log lines)" % (st3["scanned"], st3["lines"], st3["decoded"],
                                                      st3["received"], st3["secs"], st3["rate"]))
        t0 = time.monotonic()
        with open(os.devnull, "wb") as null:
            p = subprocess.run(sluice + ["consume", "bench", "--from-offset", "0", "--stats"],
                               stdout=null, stderr=subprocess.PIPE, check=True)
        took = time.monotonic() - t0
        st4 = stats(p.stderr.decode())
        print("RESULT replay_full records=%d log_lines=%.1fMB received=%.1fMB in %.2fs "
              "(%.0f MB/s of log lines; %.0f MB/s wall including process start)"
              % (st4["out"], st4["lines"], st4["received"], st4["secs"], st4["rate"],
                 st4["lines"] / took))
    finally:
        store.terminate()
        store.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
