#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Write golden RecordBatch v2 files built by kafka-python (an independent
implementation) for test_batch: uncompressed ones must match our builder byte
for byte; compressed ones must decode to the same records.

usage: /usr/bin/python3 tests/data/gen_golden_batches.py tests/data/batches
Each NAME.bin is one batch holding RECORDS below (test_batch.c repeats them).
"""
import os
import sys

from kafka.record.default_records import DefaultRecordBatchBuilder

CODECS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}

RECORDS = [
    (1700000000000, b"web-01:/var/log/nginx/access.log", b'10.0.0.1 - - "GET / HTTP/1.1" 200 seq=1',
     [("host", b"web-01"), ("path", b"/var/log/nginx/access.log")]),
    (1700000000005, None, b"no key here", []),
    (1699999999990, b"k", None, [("h", b"")]),
    (1700000000100, b"", b"x" * 300, [("input", b"nginx")]),
]


def build(codec, producer_id=-1, epoch=-1, seq=-1, base=0):
    b = DefaultRecordBatchBuilder(magic=2, compression_type=codec, is_transactional=0,
                                  producer_id=producer_id, producer_epoch=epoch,
                                  base_sequence=seq, batch_size=1 << 20)
    for i, (ts, k, v, h) in enumerate(RECORDS):
        b.append(i, timestamp=ts, key=k, value=v, headers=h)
    out = bytearray(b.build())
    if base:
        out[0:8] = base.to_bytes(8, "big", signed=True)
    return bytes(out)


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    cases = [("plain", 0, {}), ("idempotent", 0, dict(producer_id=4242, epoch=3, seq=17))]
    for name, code in CODECS.items():
        if code:
            cases.append((name, code, {}))
    for name, code, kw in cases:
        try:
            data = build(code, **kw)
        except Exception as e:  # codec module missing in this Python
            print("skip %s: %s" % (name, e), file=sys.stderr)
            continue
        with open(os.path.join(outdir, name + ".bin"), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
