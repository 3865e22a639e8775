# SPDX-License-Identifier: Apache-2.0
"""The Kafka listener under bad input, pipelining and back-pressure.

While one healthy connection keeps being served, other connections send a
frame larger than kafka.max_request_bytes, a negative size, a size too small
for a header, random garbage, a header with an unknown API key, an
unsupported version, a body that does not decode, and a frame cut short by
the client closing: each of those connections is closed by the server (or
just dropped), the process survives, and the healthy connection still gets
its answers.  ApiVersions at an unknown version is answered in v0 with
UNSUPPORTED_VERSION and our ranges (KIP-511).  A client pipelining hundreds
of requests in one write, against kafka.max_inflight 4 and a small
kafka.max_output_bytes, gets every response, in order.
"""
# harness: quick
import os
import random
import socket
import struct
import sys
import time

from kafka.protocol.admin import ApiVersionRequest
from kafka.protocol.fetch import FetchRequest
from kafka.protocol.metadata import MetadataRequest
from kafka.protocol.produce import ProduceRequest
from kafka.record.memory_records import MemoryRecordsBuilder

import kafkatest
from sluicetest import Env, result

MAX_REQUEST = 1 << 20


def healthy_roundtrip(raw):
    resp = raw.call(ApiVersionRequest[1]())
    assert resp.error_code == 0
    resp = raw.call(MetadataRequest[1](None))
    assert resp.brokers[0][0] == 0


def bad_connection(st, payload, what, close_after=False):
    c = kafkatest.RawClient(st)
    c.send_raw(payload)
    if close_after:
        c.close()
        return
    assert c.closed_by_peer(5.0), "%s: connection not closed" % what
    c.close()


def header(key, ver, corr=1, client=b"frames"):
    return struct.pack(">hhih", key, ver, corr, len(client)) + client


def frame(body):
    return struct.pack(">i", len(body)) + body


def main():
    with Env() as env:
        st = kafkatest.start_store(env, conf="kafka:\n  max_request_bytes: %d\n"
                                   "  max_inflight: 4\n  max_output_bytes: 64KiB\n" % MAX_REQUEST)
        good = kafkatest.RawClient(st)
        healthy_roundtrip(good)
        rnd = random.Random(7)
        cases = [
            (struct.pack(">i", MAX_REQUEST + 1) + b"x" * 100, "oversized frame"),
            (struct.pack(">i", -1), "negative size"),
            (struct.pack(">i", 3) + b"abc", "size below a header"),
            (frame(bytes(rnd.getrandbits(8) for _ in range(200))), "garbage"),
            (frame(header(77, 0)), "unknown API key"),
            (frame(header(3, 42)), "unsupported Metadata version"),
            (frame(header(0, 2) + b"\x00" * 20), "Produce v2 (message format 0/1)"),
            (frame(header(3, 1) + struct.pack(">i", 1000)), "Metadata body that does not decode"),
            (frame(header(3, 1) + struct.pack(">i", -1) + b"trailing"), "trailing bytes"),
        ]
        for payload, what in cases:
            bad_connection(st, payload, what)
            healthy_roundtrip(good)
        # cut short: half a frame, then the client goes away
        bad_connection(st, struct.pack(">i", 500) + b"y" * 100, "truncated", close_after=True)
        bad_connection(st, b"\x00\x00", "truncated size", close_after=True)
        healthy_roundtrip(good)
        assert st.proc.poll() is None, "store died"
        result("%d kinds of bad frames: each connection closed, the healthy one served throughout"
               % (len(cases) + 2))

        # KIP-511
        c = kafkatest.RawClient(st)
        body = header(18, 99, corr=4242) + b"\x00" + b"\x02x\x02y\x00"
        c.send_raw(frame(body))
        resp = c.recv_frame()
        corr, err, n = struct.unpack(">ihi", resp[:10])
        assert (corr, err) == (4242, 35), (corr, err)
        ranges = {struct.unpack(">h", resp[10 + 6 * i:12 + 6 * i])[0]:
                  struct.unpack(">hh", resp[12 + 6 * i:16 + 6 * i]) for i in range(n)}
        assert len(resp) == 10 + 6 * n, "not a v0 body"
        assert ranges[18] == (0, 4) and ranges[3] == (0, 12), ranges
        healthy_roundtrip(c)
        c.close()
        result("ApiVersions v99: v0 answer, UNSUPPORTED_VERSION, %d API ranges" % n)

        # pipelining through back-pressure (max_inflight 4, 64 KiB output)
        p = kafkatest.RawClient(st)
        reqs = []
        data = b""
        for i in range(600):
            req = ApiVersionRequest[i % 3]() if i % 2 else MetadataRequest[i % 4](None if i % 4 else [])
            d, corr = p.encode(req)
            data += d
            reqs.append((req, corr))
        p.send_raw(data)
        time.sleep(0.5)  # the server stops reading while we do not read
        for req, corr in reqs:
            p.read_response(req, corr)
        result("600 pipelined requests in one write: 600 responses in order")

        # large fetch responses to a client that reads slowly
        records = MemoryRecordsBuilder(magic=2, compression_type=0, batch_size=1 << 20)
        for i in range(2000):
            records.append(timestamp=None, key=b"k", value=b"v%05d seq=%d " % (i, i) + b"x" * 400)
        records.close()
        batch = records.buffer()
        resp = p.call(ProduceRequest[7](None, -1, 10000, [("frames", [(0, batch)])]))
        assert resp.topics[0][1][0][1] == 0, resp
        fetches = []
        data = b""
        for i in range(40):
            req = FetchRequest[4](-1, 100, 1, 4 << 20, 0, [("frames", [(0, 0, 4 << 20)])])
            d, corr = p.encode(req)
            data += d
            fetches.append((req, corr))
        p.send_raw(data)
        time.sleep(0.5)
        total = 0
        for req, corr in fetches:
            r = p.read_response(req, corr)
            part = r.topics[0][1][0]
            assert part[1] == 0 and part[2] == 2000, part[:3]
            total += len(part[-1])
        assert total == 40 * len(batch), (total, len(batch))
        p.close()
        healthy_roundtrip(good)
        result("40 pipelined %d-byte fetches to a slow reader: all sent whole, in order"
               % len(batch))
        good.close()
        assert st.proc.poll() is None


if __name__ == "__main__":
    sys.exit(main())
