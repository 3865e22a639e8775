# SPDX-License-Identifier: Apache-2.0
"""bench/agent_outputs: the same corpus tailed from head through each of the
agent's network outputs, interleaved in one run so the ratios hold when the
machine's speed drifts:

  store   tail -> store output -> sluice-store (HTTP ingest)
  kafka   tail -> kafka output (client: native, the default) -> sluice-store's Kafka port
  kafka-rdk  the same with client: librdkafka (the client before the native one)
  http    tail -> http output (ndjson, zstd) -> a counting HTTP sink

Each pipeline runs until every event is delivered (the store's record count,
or the sink's count); printed per pipeline: MB/s of log lines, agent CPU
seconds per GB, agent peak RSS (VmHWM), and the kafka/store and http/store
CPU ratios (issue targets: <= 2.5x, <= 40 MiB peak RSS).

  BENCH_SIZE=256M   corpus size (gen_corpus.py, cached in BENCH_CACHE)
  BENCH_REPS=3      rounds; each round runs every pipeline once; medians
  BENCH_PIPES=store,kafka,http   a subset
  BENCH_HTTP_FORMAT=ndjson       the http output's format (json_array,
                                 elasticsearch_bulk, loki_push)
Run under `flock /tmp/sluice-heavy.lock` on a shared machine.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import zstandard

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("BENCH_SIZE", "256M")
import bench_agent_tail as bat  # noqa: E402

REPS = int(os.environ.get("BENCH_REPS", "3"))
PIPES = os.environ.get("BENCH_PIPES", "store,kafka,http").split(",")
FORMAT = os.environ.get("BENCH_HTTP_FORMAT", "ndjson")


class Sink:
    """Counts the ndjson lines of every POST body (decompressed) and answers
    200: the cheapest receiver that still reads every byte."""

    def __init__(self):
        self.lines = 0
        self.lock = threading.Lock()
        sink = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                if self.headers.get("Content-Encoding") == "zstd":
                    body = zstandard.ZstdDecompressor().decompressobj().decompress(body)
                if FORMAT == "loki_push":
                    got = sum(len(st["values"]) for st in json.loads(body)["streams"])
                elif FORMAT == "elasticsearch_bulk":
                    got = body.count(b'{"create":')
                elif FORMAT == "json_array":
                    got = len(json.loads(body))
                else:
                    got = body.count(b"\n")
                with sink.lock:
                    sink.lines += got
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.srv.server_address[1]
        self.t = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.t.start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def run_one(work, logs, pipe, events):
    for d in ("store", "agent-data"):
        shutil.rmtree(os.path.join(work, d), ignore_errors=True)
    store, url, sink = None, None, None
    try:
        if pipe in ("store", "kafka", "kafka-rdk"):
            store, url = bat.start_store(work)
            if not store:
                raise RuntimeError("sluice-store did not start")
        if pipe == "store":
            output = "    type: store\n    url: %s" % url

            def done(port):
                return bat.topic_records(url, "app") >= events
        elif pipe in ("kafka", "kafka-rdk"):
            kport = int(open(os.path.join(work, "kport")).read())
            output = "    type: kafka\n    brokers: 127.0.0.1:%d\n    topic: app" % kport
            if pipe == "kafka-rdk":
                output += "\n    client: librdkafka"

            def done(port):
                return bat.topic_records(url, "app") >= events
        else:
            sink = Sink()
            output = ("    type: http\n    url: http://127.0.0.1:%d/ingest\n    format: %s\n"
                      "    compression: zstd" % (sink.port, FORMAT))

            def done(port):
                return sink.lines >= events
        wall, cpu, hwm, m, threads = bat.run_agent(work, logs, output, done)
        return wall, cpu, hwm
    finally:
        if store:
            store.send_signal(signal.SIGTERM)
            store.wait(60)
        if sink:
            sink.close()


def main():
    path, events, lines, size = bat.corpus()
    work = tempfile.mkdtemp(prefix="sluice-bench-out.")
    # the kafka pipeline needs the store's Kafka port: start_store picks it;
    # record it through a wrapper
    orig = bat.start_store

    def start_store(w):
        kport, hport = bat.free_port(), bat.free_port()
        log = open(os.path.join(w, "store.log"), "ab")
        p = subprocess.Popen([os.path.join(bat.BIN, "sluice-store"), "--data-dir",
                              os.path.join(w, "store"), "--kafka-listen", "127.0.0.1:%d" % kport,
                              "--http-listen", "127.0.0.1:%d" % hport],
                             stdout=log, stderr=subprocess.STDOUT)
        bat.wait_port(hport, 20, p)
        bat.wait_port(kport, 20, p)
        with open(os.path.join(w, "kport"), "w") as f:
            f.write(str(kport))
        return p, "http://127.0.0.1:%d" % hport
    bat.start_store = start_store
    try:
        logs = os.path.join(work, "logs")
        os.makedirs(logs)
        shutil.copyfile(path, os.path.join(logs, "corpus.log"))
        zmbs = bat.zstd_speed(path)
        res = {p: [] for p in PIPES}
        for i in range(REPS):
            for p in PIPES:
                r = run_one(work, logs, p, events)
                res[p].append(r)
                print("  round %d %-9s: %.1f MB/s, %.2f CPU-s/GB, peak RSS %.1f MiB" %
                      (i + 1, p, size / 1e6 / r[0], r[1] / (size / 1e9), r[2] / 1024),
                      file=sys.stderr)
        gb = size / 1e9
        med = {}
        print("corpus: %s, %d events, %.1f MB; machine: zstd -b1 %.0f MB/s; median of %d rounds" %
              (bat.SIZE, events, size / 1e6, zmbs, REPS))
        for p in PIPES:
            rs = sorted(res[p], key=lambda r: r[1])
            wall, cpu, _ = rs[len(rs) // 2]
            hwm = max(r[2] for r in rs)
            med[p] = cpu / gb
            print("%-9s %.1f MB/s, %.2f agent CPU-s/GB, agent peak RSS %.1f MiB" %
                  (p, size / 1e6 / wall, cpu / gb, hwm / 1024))
        if "store" in med:
            for p in PIPES:
                if p != "store":
                    print("%s/store CPU per GB: %.2fx (target <= 2.5x)" % (p, med[p] / med["store"]))
    finally:
        bat.start_store = orig
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
