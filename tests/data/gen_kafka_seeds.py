#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Write the seed corpus of fuzz_kafka_request: one request frame per file
(the bytes after the 4-byte size field), for every API sluice-store serves,
at the versions the clients send.  Frames come from kafka-python's protocol
classes (an independent encoder) where it has the API/version, and are
spelled out field by field from the Kafka message schemas otherwise.

usage: /usr/bin/python3 tests/data/gen_kafka_seeds.py tests/data/fuzz/fuzz_kafka_request
"""
import os
import struct
import sys

from kafka.protocol.admin import (ApiVersionRequest, CreateTopicsRequest, DeleteTopicsRequest,
                                  DescribeConfigsRequest, DescribeGroupsRequest, ListGroupsRequest)
from kafka.protocol.api import RequestHeader
from kafka.protocol.commit import GroupCoordinatorRequest, OffsetCommitRequest, OffsetFetchRequest
from kafka.protocol.fetch import FetchRequest
from kafka.protocol.group import (HeartbeatRequest, JoinGroupRequest, LeaveGroupRequest,
                                  SyncGroupRequest)
from kafka.protocol.metadata import MetadataRequest
from kafka.protocol.offset import OffsetRequest
from kafka.protocol.produce import ProduceRequest

HERE = os.path.dirname(os.path.abspath(__file__))
BATCH = open(os.path.join(HERE, "batches", "zstd.bin"), "rb").read()
META = b"\x00\x01\x00\x00\x00\x01\x00\x04logs\x00\x00\x00\x00"


def kp(req, corr=1):
    # kafka-python's encode() holds its object weakly: keep references alive
    header = RequestHeader(req, correlation_id=corr, client_id="kafka-python")
    return header.encode() + req.encode()


def i8(v): return struct.pack(">b", v)
def i16(v): return struct.pack(">h", v)
def i32(v): return struct.pack(">i", v)
def i64(v): return struct.pack(">q", v)
def s(v): return i16(-1) if v is None else i16(len(v)) + v.encode()
def b(v): return i32(-1) if v is None else i32(len(v)) + v
def cs(v): return bytes([0]) if v is None else bytes([len(v) + 1]) + v.encode()
def arr(items): return i32(len(items)) + b"".join(items)


def hdr(key, ver, client="rdkafka", flex=False):
    return i16(key) + i16(ver) + i32(7) + s(client) + (b"\x00" if flex else b"")


SEEDS = {
    "apiversions_v0": kp(ApiVersionRequest[0]()),
    "apiversions_v3_librdkafka": hdr(18, 3, flex=True) + cs("librdkafka") + cs("2.0.2") + b"\x00",
    "apiversions_v9_kip511": hdr(18, 9, flex=True) + cs("x") + cs("y") + b"\x00",
    "metadata_v0": kp(MetadataRequest[0]([])),
    "metadata_v1_all": kp(MetadataRequest[1](None)),
    "metadata_v5": kp(MetadataRequest[5](["logs", "other"], True)),
    "metadata_v8": hdr(3, 8) + arr([s("logs")]) + i8(1) + i8(0) + i8(1),
    # flexible Metadata (schema framework): v9 names, v12 ids + nullable names, null = all
    "metadata_v9": hdr(3, 9, flex=True) + bytes([2]) + cs("logs") + b"\x00" + i8(1) + i8(0) +
                   i8(0) + b"\x00",
    "metadata_v12": hdr(3, 12, flex=True) + bytes([3]) + bytes(16) + cs("logs") + b"\x00" +
                    bytes(range(1, 17)) + cs(None) + b"\x00" + i8(1) + i8(1) + b"\x00",
    "metadata_v12_all": hdr(3, 12, flex=True) + b"\x00" + i8(0) + i8(0) + b"\x00",
    "apiversions_v4": hdr(18, 4, flex=True) + cs("librdkafka") + cs("2.10.0") + b"\x00",
    # Kafka's Java AdminClient 4.1.1, recorded (tests/unit/test_kschema.c)
    "metadata_v12_java": bytes.fromhex("0003000c00000006000d61646d696e636c69656e742d3100020000"
                                       "0000000000000000000000000000036a7400000000"),
    "describecluster_v1_java": bytes.fromhex("003c000100000004000d61646d696e636c69656e742d"
                                             "3100000100"),
    # a tag section with an unknown tag (skipped)
    "apiversions_v4_tags": hdr(18, 4, flex=True) + cs("x") + cs("1") + b"\x01\x63\x02ab",
    "produce_v3": kp(ProduceRequest[3](None, -1, 30000, [("logs", [(0, BATCH)])])),
    "produce_v7": kp(ProduceRequest[7](None, 1, 30000, [("logs", [(0, BATCH), (1, BATCH)])])),
    "produce_v8": hdr(0, 8) + s(None) + i16(-1) + i32(1000) +
                  arr([s("logs") + arr([i32(0) + b(BATCH)])]),
    "fetch_v4": kp(FetchRequest[4](-1, 500, 1, 1 << 20, 0, [("logs", [(0, 0, 1 << 20)])])),
    "fetch_v11": hdr(1, 11) + i32(-1) + i32(500) + i32(1) + i32(50 << 20) + i8(0) + i32(0) +
                 i32(-1) + arr([s("logs") + arr([i32(0) + i32(0) + i64(5) + i64(-1) +
                                                  i32(1 << 20)])]) + arr([]) + s(""),
    "listoffsets_v0": kp(OffsetRequest[0](-1, [("logs", [(0, -1, 1)])])),
    "listoffsets_v1": kp(OffsetRequest[1](-1, [("logs", [(0, -2)])])),
    "listoffsets_v5": hdr(2, 5) + i32(-1) + i8(0) +
                      arr([s("logs") + arr([i32(0) + i32(0) + i64(1700000000000)])]),
    "createtopics_v3": kp(CreateTopicsRequest[3]([("new", 3, 1, [], [("retention.ms", "60000")])],
                                                 10000, False)),
    "createtopics_v4": hdr(19, 4) + arr([s("t") + i32(-1) + i16(-1) +
                                         arr([i32(0) + arr([i32(0)])]) + arr([])]) +
                       i32(1000) + i8(1),
    "deletetopics_v3": kp(DeleteTopicsRequest[3](["a", "b"], 10000)),
    "describeconfigs_v2": kp(DescribeConfigsRequest[2]([(2, "logs", None)], False)),
    "describeconfigs_v3": hdr(32, 3) + arr([i8(2) + s("logs") + arr([s("retention.ms")])]) +
                          i8(0) + i8(1),
    "initproducerid_v1": hdr(22, 1) + s(None) + i32(60000),
    "findcoordinator_v0": kp(GroupCoordinatorRequest[0]("g")),
    "findcoordinator_v2": hdr(10, 2) + s("g") + i8(0),
    "joingroup_v2": kp(JoinGroupRequest[2]("g", 10000, 30000, "", "consumer", [("range", META)])),
    "joingroup_v5": hdr(11, 5) + s("g") + i32(10000) + i32(300000) + s("") + s(None) +
                    s("consumer") + arr([s("range") + b(META), s("roundrobin") + b(META)]),
    "syncgroup_v1": kp(SyncGroupRequest[1]("g", 1, "m", [("m", META)])),
    "syncgroup_v3": hdr(14, 3) + s("g") + i32(1) + s("m") + s(None) + arr([s("m") + b(META)]),
    "heartbeat_v1": kp(HeartbeatRequest[1]("g", 1, "m")),
    "heartbeat_v3": hdr(12, 3) + s("g") + i32(1) + s("m") + s(None),
    "leavegroup_v1": kp(LeaveGroupRequest[1]("g", "m")),
    "leavegroup_v3": hdr(13, 3) + s("g") + arr([s("m") + s(None)]),
    "offsetcommit_v2": kp(OffsetCommitRequest[2]("g", 1, "m", -1, [("logs", [(0, 10, "")])])),
    "offsetcommit_v7": hdr(8, 7) + s("g") + i32(1) + s("m") + s(None) +
                       arr([s("logs") + arr([i32(0) + i64(10) + i32(0) + s(None)])]),
    "offsetfetch_v1": kp(OffsetFetchRequest[1]("g", [("logs", [0, 1])])),
    "offsetfetch_v5_all": hdr(9, 5) + s("g") + i32(-1),
    "describegroups_v2": kp(DescribeGroupsRequest[2](["g"])),
    "describegroups_v4": hdr(15, 4) + arr([s("g")]) + i8(0),
    "listgroups_v2": kp(ListGroupsRequest[2]()),
    # SASL and security (issue 17)
    "saslhandshake_v0": hdr(17, 0, "kafka-python") + s("PLAIN"),
    "saslhandshake_v1": hdr(17, 1) + s("SCRAM-SHA-512"),
    "saslauthenticate_v0": hdr(36, 0) + b(b"\0alice\0secret"),
    "saslauthenticate_v1": hdr(36, 1) + b(b"n,,n=alice,r=fyko+d2lbbFgONRv9qkxdawL"),
    "saslauthenticate_v2": hdr(36, 2, flex=True) + bytes([14]) + b"\0alice\0secret" + b"\x00",
    "describeacls_v1": hdr(29, 1) + i8(1) + s(None) + i8(1) + s(None) + s(None) + i8(1) + i8(1),
    "createacls_v1": hdr(30, 1) + arr([i8(2) + s("logs") + i8(3) + s("User:a") + s("*") +
                                       i8(3) + i8(3)]),
    "deleteacls_v1": hdr(31, 1) + arr([i8(2) + s(None) + i8(1) + s("User:a") + s(None) +
                                       i8(1) + i8(1)]),
    # flexible ACL APIs (schema framework): v2 compact forms, v3 user resource type
    "describeacls_v3": hdr(29, 3, flex=True) + i8(1) + cs(None) + i8(1) + cs(None) + cs(None) +
                       i8(1) + i8(1) + b"\x00",
    "createacls_v3": hdr(30, 3, flex=True) + bytes([2]) + i8(2) + cs("logs") + i8(3) +
                     cs("User:a") + cs("*") + i8(3) + i8(3) + b"\x00" + b"\x00",
    "deleteacls_v2": hdr(31, 2, flex=True) + bytes([2]) + i8(2) + cs(None) + i8(1) +
                     cs("User:a") + cs(None) + i8(1) + i8(1) + b"\x00" + b"\x00",
    "describeuserscram_v0": hdr(50, 0, flex=True) + bytes([2]) + cs("alice") + b"\x00\x00",
    "alteruserscram_v0": hdr(51, 0, flex=True) + bytes([2]) + cs("bob") + i8(2) + b"\x00" +
                         bytes([2]) + cs("alice") + i8(1) + i32(4096) + bytes([17]) +
                         b"0123456789abcdef" + bytes([33]) + b"k" * 32 + b"\x00" + b"\x00",
}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, frame in sorted(SEEDS.items()):
        with open(os.path.join(out, name + ".bin"), "wb") as f:
            f.write(frame)
    print("wrote %d seeds to %s" % (len(SEEDS), out))


if __name__ == "__main__":
    main()
