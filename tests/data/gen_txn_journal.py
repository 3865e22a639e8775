#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Write the seed corpus of fuzz_txn_journal: transactions journals in the
format of docs/FORMATS.md ("Transactions journal"), and control record keys.

usage: /usr/bin/python3 tests/data/gen_txn_journal.py tests/data/fuzz/fuzz_txn_journal
"""
import os
import struct
import sys


def crc32c_sw(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def s(v):
    return struct.pack(">H", len(v)) + v.encode()


def record(tid, pid, epoch, state, parts=(), groups=(), offs=()):
    p = b"\x01" + s(tid) + struct.pack(">qhiB", pid, epoch, 60000, state)
    p += struct.pack(">I", len(parts)) + b"".join(s(t) + struct.pack(">i", n) for t, n in parts)
    p += struct.pack(">I", len(groups)) + b"".join(s(g) for g in groups)
    p += struct.pack(">I", len(offs))
    for g, t, n, off, md in offs:
        p += s(g) + s(t) + struct.pack(">iqi", n, off, -1)
        p += struct.pack(">i", -1) if md is None else struct.pack(">i", len(md)) + md.encode()
    return struct.pack(">II", len(p), crc32c_sw(p)) + p


SEEDS = {
    "empty": b"",
    "one": record("tx", 1000, 0, 0),
    "ongoing": record("tx", 1000, 1, 1, [("logs", 0), ("logs", 1)], ["g"]),
    "prepare_commit": record("a", 7, 3, 2, [("t", 0)], ["g"],
                             [("g", "t", 0, 42, None), ("g", "t", 1, 43, "meta")]),
    "history": record("tx", 1000, 0, 0) + record("tx", 1000, 1, 1, [("logs", 0)]) +
               record("tx", 1000, 1, 4) + record("other", 2000, 0, 3, [("x", 9)]),
    "torn": record("tx", 1000, 0, 0) + record("tx", 1000, 1, 1, [("logs", 0)])[:-5],
    # control record keys (attributes 0, deltas 0, key length 4, version 0, type)
    "control_abort": bytes([32, 0, 0, 0, 8, 0, 0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0]),
    "control_commit": bytes([32, 0, 0, 0, 8, 0, 0, 0, 1, 12, 0, 0, 0, 0, 0, 0, 0]),
}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(SEEDS.items()):
        with open(os.path.join(out, name + ".bin"), "wb") as f:
            f.write(data)
    print("wrote %d seeds to %s" % (len(SEEDS), out))


if __name__ == "__main__":
    main()
