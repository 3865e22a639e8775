# SPDX-License-Identifier: Apache-2.0
"""100 concurrent idempotent producers post batches over HTTP for 10 s to a
store with fsync=always, resending some acknowledged batches on purpose (as
an agent does when an answer is lost).  Every record must be in the log
exactly once: check_seq.py over everything read back, and the partitions'
end offsets must equal the records acknowledged (no second copies).
"""
import http.client
import json
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import httptest  # noqa: E402
import mkbatch  # noqa: E402
from sluicetest import Env, result  # noqa: E402

PRODUCERS = int(os.environ.get("HTTP_PRODUCERS", "100"))
SECONDS = float(os.environ.get("HTTP_SECONDS", "10"))
PARTITIONS = 4
TOPIC = "load"


class Seq:
    def __init__(self):
        self.lock = threading.Lock()
        self.next = 0

    def take(self, n):
        with self.lock:
            s = self.next
            self.next += n
            return s


def producer(idx, store, seq, stats, errors, stop_at):
    rnd = random.Random(idx)
    conn = http.client.HTTPConnection("127.0.0.1", store.http_port, timeout=60)

    def post(path, body=b""):
        nonlocal conn
        for attempt in range(50):
            try:
                conn.request("POST", path, body=body,
                             headers={"Content-Type": "application/vnd.kafka.recordbatch.v2"})
                r = conn.getresponse()
                data = r.read()
                if r.status == 503:
                    time.sleep(0.05 * (attempt + 1))
                    continue
                return r.status, data
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", store.http_port, timeout=60)
                time.sleep(0.05)
        raise RuntimeError("producer %d: no answer after 50 attempts" % idx)

    try:
        status, data = post("/v1/producers")
        assert status == 200, data
        pid = json.loads(data)["producer_id"]
        part = idx % PARTITIONS
        bseq = 0
        last = None
        while time.time() < stop_at:
            if last is not None and rnd.random() < 0.05:
                status, data = post("/v1/topics/%s/batches?partition=%d" % (TOPIC, part), last[0])
                assert status == 200, data
                ans = json.loads(data)["batches"][0]
                assert ans["duplicate"] is True, ans
                assert ans["base_offset"] == last[1], (ans, last)
                with seq.lock:
                    stats["resent"] += 1
                continue
            n = rnd.randint(1, 40)
            first = seq.take(n)
            recs = mkbatch.seq_records(n, first, key=b"producer-%d" % idx)
            body = mkbatch.build(recs, rnd.choice(["none", "zstd", "lz4"]), pid, 0, bseq)
            status, data = post("/v1/topics/%s/batches?partition=%d" % (TOPIC, part), body)
            assert status == 200, (status, data)
            ans = json.loads(data)["batches"][0]
            assert ans["duplicate"] is False and ans["count"] == n, ans
            bseq += n
            last = (body, ans["base_offset"])
            with seq.lock:
                stats["batches"] += 1
                stats["records"] += n
    except Exception as e:  # reported by the main thread
        errors.append("producer %d: %r" % (idx, e))
    finally:
        conn.close()


def main():
    with Env() as env:
        store = httptest.start_store(env)
        status, body = httptest.request(store, "PUT", "/v1/topics/" + TOPIC,
                                        json.dumps({"partitions": PARTITIONS}))
        assert status == 201, body
        seq = Seq()
        stats = {"batches": 0, "records": 0, "resent": 0}
        errors = []
        stop_at = time.time() + SECONDS
        threads = [threading.Thread(target=producer, args=(i, store, seq, stats, errors, stop_at))
                   for i in range(PRODUCERS)]
        t0 = time.time()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        took = time.time() - t0
        if errors:
            raise AssertionError("; ".join(errors[:5]))
        total = seq.next
        assert stats["records"] == total, (stats, total)
        info = httptest.get_json(store, "/v1/topics/" + TOPIC)
        ends = sum(p["end"] for p in info["partitions"])
        assert ends == total, "log holds %d records, %d were acknowledged" % (ends, total)
        values = []
        for p in range(PARTITIONS):
            status, body = httptest.request(store, "GET", "/v1/topics/%s/partitions/%d/records" % (TOPIC, p))
            assert status == 200, body
            values.extend(json.loads(line)["value"] for line in body.splitlines())
        summary = env.check_seq(("\n".join(values) + "\n").encode(), expect=total)
        result("%d producers x %.0fs: %d batches, %d records (%.0f records/s), %d deliberate "
               "resends answered duplicate; %s"
               % (PRODUCERS, took, stats["batches"], total, total / took, stats["resent"], summary))


if __name__ == "__main__":
    main()
