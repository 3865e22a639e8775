#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Build Kafka RecordBatch v2 bytes with kafka-python (an implementation
independent of ours) for the HTTP API tests.

As a module:  build(records, codec="none", producer_id=-1, epoch=-1, seq=-1)
              records = [(timestamp_ms, key_bytes|None, value_bytes|None, [(hkey, hval)])]
As a command: mkbatch.py OUT [--count N] [--start-seq N] [--codec C] [--key K]
                         [--ts MS] [--ts-step MS] [--pid P --epoch E --seq S]
                         [--value-size N] [--header k=v] [--corrupt-crc] [--truncate N]
              writes one batch whose values are "line i seq=N" (check_seq.py
              finds them) to OUT, or appends with --append.
"""
import argparse
import sys
import time

from kafka.record.default_records import DefaultRecordBatchBuilder

CODECS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}


def build(records, codec="none", producer_id=-1, epoch=-1, seq=-1):
    b = DefaultRecordBatchBuilder(magic=2, compression_type=CODECS[codec], is_transactional=0,
                                  producer_id=producer_id, producer_epoch=epoch,
                                  base_sequence=seq, batch_size=1 << 30)
    for i, (ts, k, v, h) in enumerate(records):
        b.append(i, timestamp=ts, key=k, value=v, headers=h)
    return bytes(b.build())


def seq_records(count, start_seq=0, key=None, ts=None, ts_step=1, value_size=0, headers=()):
    ts = int(time.time() * 1000) if ts is None else ts
    out = []
    for i in range(count):
        v = b"line %d seq=%d" % (i, start_seq + i)
        if value_size > len(v):
            v += b" " + b"x" * (value_size - len(v) - 1)
        out.append((ts + i * ts_step, key, v, list(headers)))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--count", type=int, default=3)
    ap.add_argument("--start-seq", type=int, default=0)
    ap.add_argument("--codec", default="none", choices=sorted(CODECS))
    ap.add_argument("--key")
    ap.add_argument("--ts", type=int)
    ap.add_argument("--ts-step", type=int, default=1)
    ap.add_argument("--pid", type=int, default=-1)
    ap.add_argument("--epoch", type=int, default=-1)
    ap.add_argument("--seq", type=int, default=-1)
    ap.add_argument("--value-size", type=int, default=0)
    ap.add_argument("--header", action="append", default=[])
    ap.add_argument("--corrupt-crc", action="store_true")
    ap.add_argument("--truncate", type=int, default=0, help="drop the last N bytes")
    ap.add_argument("--append", action="store_true")
    a = ap.parse_args()
    headers = [(h.split("=", 1)[0], h.split("=", 1)[1].encode()) for h in a.header]
    recs = seq_records(a.count, a.start_seq, a.key.encode() if a.key is not None else None,
                       a.ts, a.ts_step, a.value_size, headers)
    data = bytearray(build(recs, a.codec, a.pid, a.epoch, a.seq))
    if a.corrupt_crc:
        data[-1] ^= 0xFF
    if a.truncate:
        data = data[:-a.truncate]
    with open(a.out, "ab" if a.append else "wb") as f:
        f.write(data)


if __name__ == "__main__":
    sys.exit(main())
