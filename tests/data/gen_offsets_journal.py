#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Write committed-offsets journals from the format in docs/FORMATS.md,
independently of store/offsets.c: the seeds of fuzz_offsets_journal, and
tests/data/offsets/documented.journal, which test_offsets.c replays to check
that the documented format is the one the store reads.

usage: /usr/bin/python3 tests/data/gen_offsets_journal.py tests/data
"""
import os
import struct
import sys


def _table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


TABLE = _table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


HEADER = b"SLCO" + struct.pack(">I", 1)


def s16(v):
    v = v.encode()
    return struct.pack(">H", len(v)) + v


def record(kind, ts, group, topic, partition, offset=0, epoch=-1, meta=None):
    body = struct.pack(">Bq", kind, ts) + s16(group) + s16(topic) + struct.pack(">i", partition)
    if kind == 1:
        body += struct.pack(">qi", offset, epoch)
        body += struct.pack(">i", -1) if meta is None else struct.pack(">i", len(meta)) + meta.encode()
    return struct.pack(">II", len(body) + 4, crc32c(body)) + body


# The documented example: what test_offsets.c expects after replay
DOCUMENTED = HEADER + b"".join([
    record(1, 1700000000000, "billing", "logs", 0, 41, 0, "host=a"),
    record(1, 1700000000001, "billing", "logs", 1, 7, -1, None),
    record(1, 1700000000002, "search", "logs", 0, 100, 3, ""),
    record(1, 1700000000003, "billing", "logs", 0, 42, 0, "host=b"),   # replaces offset 41
    record(2, 1700000000004, "search", "logs", 0),                      # tombstone
    record(1, 1700000000005, "search", "nginx", 2, 5, -1, None),
])


def main():
    top = sys.argv[1]
    os.makedirs(os.path.join(top, "offsets"), exist_ok=True)
    with open(os.path.join(top, "offsets", "documented.journal"), "wb") as f:
        f.write(DOCUMENTED)
    seeds = {
        "documented": DOCUMENTED,
        "empty": HEADER,
        "torn": DOCUMENTED[:-7],
        "badcrc": DOCUMENTED[:20] + bytes([DOCUMENTED[20] ^ 1]) + DOCUMENTED[21:],
        "longmeta": HEADER + record(1, 1, "g", "t", 0, 1, 1, "m" * 4096),
    }
    d = os.path.join(top, "fuzz", "fuzz_offsets_journal")
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(d, name + ".bin"), "wb") as f:
            f.write(data)
    print("wrote offsets/documented.journal and %d seeds" % len(seeds))


if __name__ == "__main__":
    main()
