# SPDX-License-Identifier: Apache-2.0
"""A small HTTP receiver for the agent's http output tests: it decodes and
validates each body format strictly (ndjson, json_array, elasticsearch_bulk,
loki_push; gzip or zstd Content-Encoding), keeps the record values it
accepted, and can misbehave on purpose: answer 503 or 429 with Retry-After
every Nth request (before taking anything), be slow, refuse bodies holding a
marker with 400, and de-duplicate Elasticsearch documents by _id (409) as
Elasticsearch does."""
import gzip
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import zstandard


class Receiver:
    def __init__(self, fmt, fail_every=0, fail_status=503, slow=0.0, poison=None):
        self.fmt = fmt
        self.fail_every = fail_every
        self.fail_status = fail_status
        self.slow = slow
        self.poison = poison
        self.values = []
        self.requests = 0
        self.failed_on_purpose = 0
        self.refused = 0
        self.errors = []
        self.encodings = set()
        self.ids = set()
        self.lock = threading.Lock()
        self.request_times = []
        rcv = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(n)
                code, body, extra = rcv.handle(self.headers, raw)
                self.send_response(code)
                for k, v in extra.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        return "http://127.0.0.1:%d/ingest" % self.port

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *a):
        self.server.shutdown()
        self.server.server_close()

    def count(self):
        with self.lock:
            return len(self.values)

    def handle(self, headers, raw):
        with self.lock:
            self.requests += 1
            nreq = self.requests
            self.request_times.append(time.time())
        if self.slow:
            time.sleep(self.slow)
        if self.fail_every and nreq % self.fail_every == 0:
            with self.lock:
                self.failed_on_purpose += 1
            return self.fail_status, b'{"error":"try later"}', {"Retry-After": "1"}
        enc = headers.get("Content-Encoding", "")
        try:
            if enc == "gzip":
                data = gzip.decompress(raw)
            elif enc == "zstd":
                data = zstandard.ZstdDecompressor().decompressobj().decompress(raw)
            elif enc == "":
                data = raw
            else:
                raise ValueError("unknown Content-Encoding %r" % enc)
            if self.poison and self.poison.encode() in data:
                with self.lock:
                    self.refused += 1
                return 400, b'{"error":"poisoned"}', {}
            vals, answer = self.decode(data)
        except Exception as e:  # noqa: BLE001 - reported by the test
            with self.lock:
                self.errors.append("%s: %r" % (type(e).__name__, e))
            return 400, json.dumps({"error": str(e)}).encode(), {}
        with self.lock:
            self.encodings.add(enc or "identity")
            self.values.extend(vals)
        return 200, answer, {}

    def decode(self, data):
        text = data.decode("utf-8")
        if self.fmt == "ndjson":
            assert text.endswith("\n"), "ndjson body must end with a newline"
            objs = [json.loads(line) for line in text.split("\n")[:-1]]
            for o in objs:
                assert {"topic", "offset", "timestamp", "value", "key", "headers"} <= o.keys(), o
            return [o["value"] for o in objs], b'{"ok":true}'
        if self.fmt == "json_array":
            objs = json.loads(text)
            assert isinstance(objs, list) and objs, "json_array body must be a non-empty array"
            for o in objs:
                assert "value" in o and "timestamp" in o, o
            return [o["value"] for o in objs], b'{"ok":true}'
        if self.fmt == "elasticsearch_bulk":
            assert text.endswith("\n"), "_bulk body must end with a newline"
            lines = text.split("\n")[:-1]
            assert len(lines) % 2 == 0, "_bulk: action and document lines come in pairs"
            vals, items = [], []
            for i in range(0, len(lines), 2):
                action = json.loads(lines[i])
                doc = json.loads(lines[i + 1])
                meta = action["create"]
                assert meta["_index"] and meta["_id"], action
                assert "@timestamp" in doc and "message" in doc, doc
                with self.lock:
                    dup = meta["_id"] in self.ids
                    self.ids.add(meta["_id"])
                if dup:
                    items.append({"create": {"_id": meta["_id"], "status": 409}})
                else:
                    vals.append(doc["message"])
                    items.append({"create": {"_id": meta["_id"], "status": 201}})
            errors = any(it["create"]["status"] != 201 for it in items)
            return vals, json.dumps({"took": 1, "errors": errors, "items": items}).encode()
        if self.fmt == "loki_push":
            obj = json.loads(text)
            vals = []
            for s in obj["streams"]:
                assert s["stream"]["topic"] and s["stream"]["input"], s["stream"]
                for ts, line in s["values"]:
                    assert isinstance(ts, str) and ts.isdigit() and len(ts) >= 19, ts
                    vals.append(line)
            return vals, b""
        raise ValueError("unknown format " + self.fmt)
