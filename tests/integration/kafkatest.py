# SPDX-License-Identifier: Apache-2.0
"""Kafka-side helpers for Python integration tests, on top of sluicetest:
a store that is ready when its Kafka listener accepts (so these tests do not
depend on the HTTP API), a raw protocol client for exact error codes and
malformed frames, and Kafka's default partitioner.

    from sluicetest import Env
    import kafkatest
    with Env() as env:
        st = kafkatest.start_store(env, conf="log: {default_partitions: 4}")
        raw = kafkatest.RawClient(st)
        resp = raw.call(MetadataRequest[1](None))
"""
import os
import socket
import struct
import subprocess
import time

import sluicetest

from kafka.protocol.api import RequestHeader


class KafkaStore(sluicetest.Store):
    def start(self, timeout=30):
        os.makedirs(self.data_dir, exist_ok=True)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [os.path.join(sluicetest.BIN, "sluice-store"), "--data-dir", self.data_dir,
             "--kafka-listen", self.bootstrap, "--http-listen", "127.0.0.1:%d" % self.http_port]
            + self.args, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        sluicetest.wait_port(self.kafka_port, timeout, self.proc)
        return self


def write_conf(env, text, name="store.yaml"):
    path = env.path(name)
    with open(path, "w") as f:
        f.write(text)
    return path


def start_store(env, *args, conf=None, data_dir=None):
    """Start sluice-store; conf is store.yaml text (written to the env dir)."""
    args = list(args)
    if conf is not None:
        args = ["-c", write_conf(env, conf, "store%d.yaml" % len(env.stores))] + args
    st = KafkaStore(env, data_dir or os.path.join(env.dir, "store%d" % len(env.stores)), args)
    env.stores.append(st)
    return st.start()


def restart(store, kill=False):
    """Stop (TERM, or KILL) and start again on the same ports and data."""
    store.stop(9 if kill else 15)
    return store.start()


class RawClient:
    """One connection speaking the Kafka protocol through kafka-python's
    request/response classes, so tests choose exact API versions and see
    exact error codes; send_raw() writes arbitrary bytes."""

    def __init__(self, store, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", store.kafka_port), timeout=timeout)
        self.corr = 0

    def close(self):
        self.sock.close()

    def send_raw(self, data):
        self.sock.sendall(data)

    def recv_exact(self, n):
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise ConnectionError("connection closed after %d of %d bytes" % (len(out), n))
            out += chunk
        return out

    def recv_frame(self):
        size = struct.unpack(">i", self.recv_exact(4))[0]
        return self.recv_exact(size)

    def encode(self, request, client_id="kafkatest"):
        self.corr += 1
        header = RequestHeader(request, correlation_id=self.corr, client_id=client_id)
        body = header.encode() + request.encode()
        return struct.pack(">i", len(body)) + body, self.corr

    def call(self, request):
        data, corr = self.encode(request)
        self.sock.sendall(data)
        return self.read_response(request, corr)

    def read_response(self, request, corr):
        frame = self.recv_frame()
        got = struct.unpack(">i", frame[:4])[0]
        if got != corr:
            raise AssertionError("correlation id %d, expected %d" % (got, corr))
        return request.RESPONSE_TYPE.decode(frame[4:])

    def closed_by_peer(self, wait=5.0):
        """True when the server closes the connection within wait seconds."""
        self.sock.settimeout(wait)
        try:
            while True:
                if not self.sock.recv(65536):
                    return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False


def murmur2(data):
    """Kafka's Utils.murmur2 (seed 0x9747b28c)."""
    length = len(data)
    seed = 0x9747b28c
    m = 0x5bd1e995
    r = 24
    h = (seed ^ length) & 0xffffffff
    for i in range(0, length - length % 4, 4):
        k = data[i] | data[i + 1] << 8 | data[i + 2] << 16 | data[i + 3] << 24
        k = (k * m) & 0xffffffff
        k ^= k >> r
        k = (k * m) & 0xffffffff
        h = (h * m) & 0xffffffff
        h ^= k
    rest = length % 4
    base = length - rest
    if rest == 3:
        h ^= data[base + 2] << 16
    if rest >= 2:
        h ^= data[base + 1] << 8
    if rest >= 1:
        h ^= data[base]
        h = (h * m) & 0xffffffff
    h ^= h >> 13
    h = (h * m) & 0xffffffff
    h ^= h >> 15
    return h


def kafka_partition(key, partitions):
    """The default partitioner's choice for a non-null key."""
    return (murmur2(key) & 0x7fffffff) % partitions


def wait_for(pred, timeout, what, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(step)
    raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))


__all__ = ["start_store", "restart", "write_conf", "RawClient", "murmur2", "kafka_partition",
           "wait_for"]
