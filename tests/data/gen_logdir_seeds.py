#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Write the seed corpus of tests/fuzz/fuzz_logdir.c into
tests/data/fuzz/fuzz_logdir/: edit lists (see the fuzzer's header comment)
against the template data directory the fuzzer builds itself: no edits,
no recovery point, fsync never, and for each template file a flipped byte,
a truncation, an appended tail and a replacement by random bytes."""
import os
import random
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz", "fuzz_logdir")


def op(kind, f, arg, data=b""):
    return struct.pack(">BBHH", kind, f, arg, len(data)) + data


def main():
    rnd = random.Random(20261124)
    os.makedirs(OUT, exist_ok=True)
    seeds = {"valid": b"\x00", "no-recovery-point": b"\x01", "fsync-never": b"\x02"}
    for f in range(24):
        seeds["flip-%02d" % f] = b"\x00" + op(1, f, rnd.randrange(4096), bytes([1 << rnd.randrange(8)]))
        seeds["cut-%02d" % f] = bytes([rnd.randrange(2)]) + op(2, f, rnd.randrange(4096))
        seeds["tail-%02d" % f] = b"\x00" + op(3, f, 0, bytes(rnd.randrange(256) for _ in range(40)))
        seeds["junk-%02d" % f] = b"\x01" + op(0, f, 0, bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 300))))
    for name, data in sorted(seeds.items()):
        with open(os.path.join(OUT, name + ".bin"), "wb") as fh:
            fh.write(data)
    print("%d seeds in %s" % (len(seeds), OUT))


if __name__ == "__main__":
    main()
