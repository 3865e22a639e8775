#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Write seed inputs for the spool and tail-meta fuzzers: valid spool
segments (snapshot, routes, positions, batches; docs/FORMATS.md), two
segments with an ack file, a torn tail, and tail position metas.

usage: gen_spool_seeds.py tests/data/fuzz
"""
import os
import struct
import sys


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def varint(v):
    v = (v << 1) ^ (v >> 63)
    out = b""
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def record(i, value):
    body = b"\0" + varint(i) + varint(i) + varint(1) + b"k" + varint(len(value)) + value + varint(0)
    return varint(len(body)) + body


def batch(values, seq):
    recs = b"".join(record(i, v) for i, v in enumerate(values))
    n = len(values)
    after_crc = struct.pack(">hiqqqhii", 0, n - 1, 1000, 1000 + n - 1, -1, -1, seq, n) + recs
    head = struct.pack(">qiib", 0, 4 + 1 + 4 + len(after_crc), -1, 2)
    return head + struct.pack(">I", crc32c(after_crc)) + after_crc


def s16(b):
    return struct.pack(">H", len(b)) + b


def pos(inp, ident, ordinal, flags=0, meta=b""):
    return bytes([flags]) + s16(inp) + s16(ident) + struct.pack(">QQI", ordinal, 0, len(meta)) + meta


def frame(etype, eid, payload):
    body = struct.pack(">BBHQq", etype, 0, 0, eid, 1700000000000) + payload
    return struct.pack(">III", 0x53504531, len(body), crc32c(body)) + body


def seg_header(first):
    h = b"SLSPOOL1" + struct.pack(">IIQI", 1, 32, first, 0)
    return h + struct.pack(">I", crc32c(h))


def meta(path, name, dev=2049, ino=1234, fp=0xDEADBEEF, fp_len=1024):
    return bytes([1]) + struct.pack(">QQII", dev, ino, fp_len, fp) + s16(path) + s16(name)


def segment(first, with_batches=True):
    out = seg_header(first)
    snap = struct.pack(">I", 1) + s16(b"app") + struct.pack(">I", 1) + s16(b"app") + \
        struct.pack(">ii", 0, 5) + struct.pack(">I", 1) + pos(b"app", b"801:4d2:1", 10, 0, meta(b"/var/log/a.log", b"/var/log/a.log"))
    out += frame(3, first, snap)
    out += frame(4, first + 1, struct.pack(">I", 1) + s16(b"app"))
    if with_batches:
        for i in range(3):
            b = batch([b"line seq=%d" % (i * 2), b"line seq=%d" % (i * 2 + 1)], 5 + i * 2)
            payload = s16(b"app") + struct.pack(">iI", 0, 1) + pos(b"app", b"801:4d2:1", 100 * (i + 1)) + \
                struct.pack(">I", len(b)) + b
            out += frame(1, first + 2 + i, payload)
    out += frame(2, first + 5, struct.pack(">I", 2) + pos(b"app", b"801:4d2:1", 999, 1) +
                 pos(b"app", b"old", 5, 2))
    return out


def main():
    top = sys.argv[1]
    sp = os.path.join(top, "fuzz_spool")
    tm = os.path.join(top, "fuzz_tail_meta")
    os.makedirs(sp, exist_ok=True)
    os.makedirs(tm, exist_ok=True)
    seg = segment(0)
    ack = struct.pack(">QQI", 1, 3, 0)
    ack = ack + struct.pack(">I", 0)
    slot = struct.pack(">QQ", 1, 3)
    slot += struct.pack(">I", crc32c(slot)) + b"\0" * 12
    seeds = {
        "one-segment": seg,
        "two-segments-ack": seg + b"--SEG--" + segment(6, False) + b"--ACK--" + b"\0" * 32 + slot,
        "torn-tail": seg[:-17],
        "header-only": seg_header(0),
        "bad-crc": seg[:60] + bytes([seg[60] ^ 0xFF]) + seg[61:],
    }
    for name, data in seeds.items():
        with open(os.path.join(sp, name), "wb") as f:
            f.write(data)
    for name, data in {"meta": meta(b"/var/log/nginx/access.log.1", b"/var/log/nginx/access.log"),
                       "meta-same": meta(b"/a", b"/a", 1, 2, 3, 0)}.items():
        with open(os.path.join(tm, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
