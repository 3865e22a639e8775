# SPDX-License-Identifier: Apache-2.0
"""Hostile and broken clients against the store (issue 16, items 7-12), over
raw sockets, with every limit set short so the whole suite runs in well
under 90 s.  After each case: the store process is up, kcat (a normal
librdkafka client) produces and consumes through it, its RSS stays under
RSS_BOUND, and the sluice_* metric of that refusal has counted it.

  7  pipelined long-poll Fetches (max_wait INT32_MAX) then hang-up, on every
     kafka.max_connections slot: the slots come back at once (EPOLLRDHUP
     while reads are paused); a Fetch asking INT32_MAX ms waits only
     kafka.max_fetch_wait
  8  an idle connection is closed at kafka.idle_timeout; a half-sent frame at
     kafka.frame_timeout; connections stalled inside large frames pause at
     kafka.max_queued_request_bytes instead of buffering each its own
  9  slowloris headers are cut at http.header_timeout; one address is capped
     at http.max_connections_per_ip; /health answers while the connection
     table is full of idle clients
 10  differing Content-Length headers, or Content-Length with chunked: 400
 11  free disk under log.min_free_bytes: Produce KAFKA_STORAGE_ERROR (56),
     ingest 503 storage_full, while Fetch and OffsetCommit work; one log line
     per state change; writes resume when space is back
 12  quotas: throttle_time_ms and a muted connection over Kafka, 429 with
     Retry-After over HTTP, per-principal overrides, metrics per principal

CASES="7 9" runs a subset.  Four groups run at the same time, each with
its own store: 7 then 8, 9 then 10, 11, 12.
"""
import os
import re
import select
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.request

from kafka.protocol.admin import ApiVersionRequest
from kafka.protocol.commit import OffsetCommitRequest
from kafka.protocol.fetch import FetchRequest
from kafka.protocol.metadata import MetadataRequest
from kafka.protocol.produce import ProduceRequest
from kafka.record.memory_records import MemoryRecordsBuilder

import kafkatest
import sluicetest
from kafkatest import wait_for
from harness import run_parallel
from sluicetest import Env, result

# store RSS after every case (measured 7-13 MiB; ASan's shadow and quarantine
# take far more, so `make asan` gets a looser bound)
RSS_BOUND = (512 if os.environ.get("SLUICE_SAN") == "1" else 64) << 20
QUEUED_MAX = 8 << 20         # kafka.max_queued_request_bytes below
MAX_REQUEST = 32 << 20
INT32_MAX = (1 << 31) - 1

CONF = """
kafka:
  max_connections: 24
  max_inflight: 4
  max_request_bytes: 32MiB
  max_fetch_wait: 2s
  idle_timeout: 1500ms
  frame_timeout: 800ms
  max_queued_request_bytes: 8MiB
http:
  idle_timeout: 4s
  header_timeout: 1500ms
  max_connections: 24
  max_connections_per_ip: 16
log:
  fsync: never
"""


def cases():
    want = os.environ.get("CASES")
    return set(want.split()) if want else {"7", "8", "9", "10", "11", "12"}


# ---------------------------------------------------------------- common checks

_starting = threading.Lock()


def start_store(env, **kw):
    """kafkatest.start_store, one at a time: the Env names a store's dir and
    config by how many it has."""
    with _starting:
        return kafkatest.start_store(env, **kw)


def metrics(st):
    with urllib.request.urlopen(st.url + "/metrics", timeout=10) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, val = line.rpartition(" ")
            out[name] = float(val)
    return out


def metric(st, name):
    return metrics(st).get(name, 0.0)


def rss(st):
    with open("/proc/%d/status" % st.proc.pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def kcat_roundtrip(st, tag):
    """A normal client: kcat produces one message and reads it back."""
    topic = "healthy"
    msg = ("ok-%s-%f" % (tag, time.time())).encode()
    subprocess.run(["kcat", "-b", st.bootstrap, "-t", topic, "-P", "-p", "0",
                    "-X", "socket.timeout.ms=10000"], input=msg + b"\n", check=True,
                   timeout=30, capture_output=True)
    out = subprocess.run(["kcat", "-b", st.bootstrap, "-t", topic, "-C", "-p", "0",
                          "-o", "beginning", "-e", "-q"], check=True, timeout=30,
                         capture_output=True).stdout
    assert msg in out, "kcat did not read back %r" % msg


def after_case(st, tag, metric_name, at_least=1):
    assert st.proc.poll() is None, "store died during case %s" % tag
    kcat_roundtrip(st, tag)
    r = rss(st)
    assert r < RSS_BOUND, "case %s: RSS %d MiB over %d MiB" % (tag, r >> 20, RSS_BOUND >> 20)
    v = metric(st, metric_name)
    assert v >= at_least, "case %s: %s = %s, expected >= %s" % (tag, metric_name, v, at_least)
    return r, v


def connect(port, src="127.0.0.1", timeout=5.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    return s


def closed_within(s, wait):
    """Seconds until the peer closes s, or None if it stays open for wait."""
    t0 = time.time()
    s.settimeout(0.05)
    while time.time() - t0 < wait:
        try:
            if not s.recv(65536):
                return time.time() - t0
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return time.time() - t0
    return None


def frame(request, corr, client_id="hostile"):
    raw = kafkatest.RawClient.__new__(kafkatest.RawClient)
    raw.corr = corr - 1
    data, _ = raw.encode(request, client_id=client_id)
    return data


def call(sock, request, corr, client_id="hostile"):
    sock.sendall(frame(request, corr, client_id))
    return read_response(sock, request, corr)


def recv_exact(sock, n):
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise ConnectionError("closed after %d of %d bytes" % (len(out), n))
        out += chunk
    return out


def read_response(sock, request, corr):
    size = struct.unpack(">i", recv_exact(sock, 4))[0]
    body = recv_exact(sock, size)
    got = struct.unpack(">i", body[:4])[0]
    assert got == corr, "correlation %d, expected %d" % (got, corr)
    return request.RESPONSE_TYPE.decode(body[4:])


def batch(n, size):
    b = MemoryRecordsBuilder(magic=2, compression_type=0, batch_size=64 << 20)
    for i in range(n):
        b.append(timestamp=None, key=b"k", value=b"seq=%d " % i + b"x" * size)
    b.close()
    return bytes(b.buffer())


def produce(sock, topic, data, corr, client_id="hostile"):
    resp = call(sock, ProduceRequest[7](None, -1, 10000, [(topic, [(0, data)])]), corr, client_id)
    return resp.topics[0][1][0][1], resp.throttle_time_ms


def http_raw(st, data, src="127.0.0.1", wait=5.0):
    s = connect(st.http_port, src)
    try:
        s.sendall(data)
        s.settimeout(wait)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not chunk:
                break
            out += chunk
        return out
    finally:
        s.close()


def http_status(resp):
    m = re.match(rb"HTTP/1\.[01] (\d+)", resp)
    return int(m.group(1)) if m else None


# ---------------------------------------------------------------- 7

def case7(st):
    s = connect(st.kafka_port)
    assert produce(s, "longpoll", batch(1, 10), 1)[0] == 0
    s.close()
    # its slot must be free before the 24 below take every one of them
    wait_for(lambda: metric(st, "sluice_kafka_connections") == 0, 30,
             "the producing connection to be closed")
    conns = []
    for i in range(24):                      # every kafka.max_connections slot
        s = connect(st.kafka_port)
        data = b""
        for j in range(4):                   # = kafka.max_inflight: reads pause
            req = FetchRequest[4](-1, INT32_MAX, 1 << 20, 1 << 20, 0, [("longpoll", [(0, 1, 1 << 20)])])
            data += frame(req, j + 1)
        s.sendall(data)
        conns.append(s)
    wait_for(lambda: metric(st, "sluice_kafka_connections") >= 24, 30, "24 parked connections")
    t0 = time.time()
    for s in conns:
        s.close()
    wait_for(lambda: metric(st, "sluice_kafka_connections") == 0, 5,
             "the hung-up connections to be freed")
    freed = time.time() - t0
    # a new client gets a slot at once, long before max_fetch_wait
    s = connect(st.kafka_port)
    assert call(s, ApiVersionRequest[1](), 1).error_code == 0
    # one parked Fetch asking INT32_MAX ms is answered at kafka.max_fetch_wait
    t1 = time.time()
    resp = call(s, FetchRequest[4](-1, INT32_MAX, 1 << 20, 1 << 20, 0,
                                   [("longpoll", [(0, 1, 1 << 20)])]), 2)
    waited = time.time() - t1
    s.close()
    assert resp.topics[0][1][0][1] == 0, resp
    assert 1.5 <= waited < 10, "Fetch with max_wait INT32_MAX answered after %.1fs" % waited
    r, v = after_case(st, "7", "sluice_kafka_hangups_total", 24)
    result("7: 24 connections x 4 parked INT32_MAX-ms Fetches, hung up: all freed %.2fs after "
           "the hang-ups (counted %d); a lone one answered after %.1fs "
           "(max_fetch_wait 2s); RSS %d MiB" % (freed, v, waited, r >> 20))


# ---------------------------------------------------------------- 8

def case8(st):
    # idle: no bytes at all
    s = connect(st.kafka_port)
    took = closed_within(s, 6)
    s.close()
    assert took is not None and took >= 1.0, "idle connection: closed after %s s" % took
    after_case(st, "8-idle", "sluice_kafka_idle_closed_total")
    # a busy connection (one request every 0.5 s) is not idle
    s = connect(st.kafka_port)
    for i in range(5):
        assert call(s, ApiVersionRequest[1](), i + 1).error_code == 0
        time.sleep(0.5)
    s.close()
    # half-sent frames: 2 bytes of a size field; a 20 MiB frame stopping at 1 MiB
    a = connect(st.kafka_port)
    a.sendall(b"\x00\x00")
    b = connect(st.kafka_port)
    b.sendall(struct.pack(">i", 20 << 20) + b"\x00" * (1 << 20))
    t0 = time.time()
    ta = closed_within(a, 5)
    tb = closed_within(b, 5) is not None and time.time() - t0 or None
    a.close()
    b.close()
    assert ta is not None and ta < 4 and tb is not None and tb < 4, (ta, tb)
    after_case(st, "8-frame", "sluice_kafka_frame_timeouts_total", 2)
    # memory: 8 connections each stalled 6 MiB into a 30 MiB frame, against an
    # 8 MiB budget; small requests keep being served meanwhile
    paused0 = metric(st, "sluice_kafka_request_memory_paused_total")
    stalled = []
    chunk = b"\x00" * (6 << 20)
    for i in range(8):
        c = connect(st.kafka_port)
        c.setblocking(False)
        try:
            c.send(struct.pack(">i", 30 << 20) + chunk)
        except BlockingIOError:
            pass
        stalled.append(c)
    wait_for(lambda: metric(st, "sluice_kafka_request_memory_paused_total") > paused0, 10,
             "reads to pause at the request-memory budget")
    peak = 0
    healthy = connect(st.kafka_port)
    for i in range(10):
        peak = max(peak, metric(st, "sluice_kafka_request_memory_bytes"))
        assert call(healthy, MetadataRequest[1](None), i + 1).brokers
        time.sleep(0.05)
    healthy.close()
    # one frame may pass the budget (Kafka's pool does likewise), not eight
    assert peak <= QUEUED_MAX + MAX_REQUEST, peak
    r = rss(st)
    for c in stalled:
        c.close()
    wait_for(lambda: metric(st, "sluice_kafka_request_memory_bytes") == 0, 20,
             "request memory to return")
    r2, v = after_case(st, "8-memory", "sluice_kafka_request_memory_paused_total", paused0 + 1)
    result("8: idle connection closed after %.1fs (idle_timeout 1.5s); half-sent frames closed "
           "after %.1fs / %.1fs (frame_timeout 0.8s); 8 x 6 MiB stalled in 30 MiB frames: "
           "reserved peak %.1f MiB (budget 8 MiB: one frame at a time), RSS %d MiB" % (took, ta, tb, peak / 2**20,
                                                                 max(r, r2) >> 20))


# ---------------------------------------------------------------- 9

def case9(st):
    # slowloris: one header line every 0.2 s
    s = connect(st.http_port)
    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
    t0 = time.time()
    cut = None
    while time.time() - t0 < 6:
        try:
            s.sendall(b"X-Slow-%d: 1\r\n" % int((time.time() - t0) * 10))
        except (BrokenPipeError, ConnectionResetError):
            cut = time.time() - t0
            break
        if closed_within(s, 0.2) is not None:
            cut = time.time() - t0
            break
    s.close()
    assert cut is not None and 1.0 <= cut < 4, "slowloris connection cut after %s" % cut
    after_case(st, "9-slowloris", "sluice_http_header_timeouts_total")
    # per address: 20 connections from 127.0.0.5 against a cap of 16
    conns = [connect(st.http_port, "127.0.0.5") for _ in range(20)]
    refused = 0
    pending = list(conns)
    deadline = time.time() + 1.0             # before header_timeout closes the others
    while pending and time.time() < deadline:
        ready, _, _ = select.select(pending, [], [], 0.05)
        for c in ready:
            pending.remove(c)
            try:
                refused += c.recv(1) == b""
            except ConnectionResetError:
                refused += 1
    for c in conns:
        c.close()
    assert refused == 4, "%d of 20 connections from one address refused" % refused
    after_case(st, "9-per-ip", 'sluice_http_connections_refused_total{reason="per_ip"}', 4)
    # a table full of idle clients (24 from four addresses): /health still answers
    idle = []
    for i in range(24):
        idle.append(connect(st.http_port, "127.0.0.%d" % (10 + i % 4)))
        idle[-1].sendall(b"GET /health HTTP/1.1\r\n")
    t0 = time.time()
    resp = http_raw(st, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", wait=5)
    took = time.time() - t0
    for c in idle:
        c.close()
    assert http_status(resp) == 200, resp[:200]
    assert took < 2, "/health took %.1fs with a full table" % took
    r, v = after_case(st, "9-full", "sluice_http_connections_evicted_total")
    result("9: slowloris cut after %.1fs (header_timeout 1.5s); %d of 20 connections from one "
           "address refused (cap 16); /health 200 in %.0f ms with 24 idle clients in a 24-slot "
           "table (%d evicted); RSS %d MiB" % (cut, refused, took * 1000, v, r >> 20))


# ---------------------------------------------------------------- 10

def case10(st):
    body = batch(1, 10)
    dup = (b"POST /v1/topics/smuggle/batches HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
           b"Content-Length: %d\r\n\r\n" % (len(body), len(body) + 40)) + body
    te = (b"POST /v1/topics/smuggle/batches HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
          b"Transfer-Encoding: chunked\r\n\r\n%x\r\n" % (len(body) + 7, len(body))) + body + b"\r\n0\r\n\r\n"
    r1, r2 = http_raw(st, dup), http_raw(st, te)
    assert http_status(r1) == 400, r1[:300]
    assert http_status(r2) == 400, r2[:300]
    ok = (b"POST /v1/topics/smuggle/batches HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
          b"Connection: close\r\n\r\n" % len(body)) + body
    r3 = http_raw(st, ok)
    assert http_status(r3) == 200, r3[:300]
    r, v = after_case(st, "10", "sluice_http_bad_framing_total", 2)
    result("10: two Content-Lengths -> 400, Content-Length + chunked -> 400, a plain one 200; "
           "bad_framing counted %d; RSS %d MiB" % (v, r >> 20))


# ---------------------------------------------------------------- 11

def fs_free(path):
    sv = os.statvfs(path)
    return sv.f_bavail * sv.f_frsize


def case11(env):
    base = env.path("disk")
    os.makedirs(base)
    # a small tmpfs when we may mount one (root), else the real disk with the
    # headroom set just under its free space (HOSTILE_NO_TMPFS=1 forces that)
    mounted = os.environ.get("HOSTILE_NO_TMPFS") != "1" and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=96m", "tmpfs", base],
        capture_output=True).returncode == 0
    try:
        headroom = 48 << 20 if mounted else fs_free(base) - (200 << 20)
        fill = 64 << 20 if mounted else 400 << 20
        st = start_store(env, conf=CONF + "  min_free_bytes: %d\n  min_free_percent: 0\n"
                                   % headroom, data_dir=os.path.join(base, "data"))
        sluicetest_wait_http(st)
        s = connect(st.kafka_port)
        assert produce(s, "disk", batch(10, 100), 1)[0] == 0
        filler = os.path.join(base, "filler")
        with open(filler, "wb") as f:
            os.posix_fallocate(f.fileno(), 0, fill)
        wait_for(lambda: metric(st, "sluice_log_disk_low") == 1, 10, "the disk to be low")
        errs = [produce(s, "disk", batch(10, 100), 2 + i)[0] for i in range(3)]
        assert errs == [56, 56, 56], errs
        body = batch(5, 100)
        code, resp = http_post(st, "/v1/topics/disk/batches", body)
        assert code == 503 and b"storage_full" in resp, (code, resp)
        # reads and offset commits keep working
        f = call(s, FetchRequest[4](-1, 0, 1, 1 << 20, 0, [("disk", [(0, 0, 1 << 20)])]), 10)
        assert f.topics[0][1][0][1] == 0 and len(f.topics[0][1][0][5]) > 0, f
        oc = call(s, OffsetCommitRequest[2]("g1", -1, "", -1, [("disk", [(0, 10, "")])]), 11)
        assert oc.topics[0][1][0][1] == 0, oc
        os.unlink(filler)
        wait_for(lambda: metric(st, "sluice_log_disk_low") == 0, 10, "the disk to be back")
        assert produce(s, "disk", batch(10, 100), 12)[0] == 0
        s.close()
        log = st.log()
        downs = log.count("under the headroom")
        ups = log.count("free again")
        assert downs == 1 and ups == 1, (downs, ups)
        r, v = after_case(st, "11", "sluice_log_disk_refused_batches_total", 4)
        st.stop()
        result("11: %s, headroom %d MiB: Produce 56 x3, ingest 503 storage_full, Fetch and "
               "OffsetCommit served, writes back once freed; %d refusals counted, 1 log line "
               "each way; RSS %d MiB" % ("tmpfs 96 MiB" if mounted else "real disk",
                                          headroom >> 20, v, r >> 20))
    finally:
        if mounted:
            for st in env.stores:
                if st.data_dir.startswith(base):
                    st.kill()
            subprocess.run(["umount", "-l", base], capture_output=True)


def sluicetest_wait_http(st):
    wait_for(lambda: _http_up(st), 20, "the HTTP API")


def _http_up(st):
    try:
        with urllib.request.urlopen(st.url + "/metrics", timeout=1) as r:
            r.read()
        return True
    except OSError:
        return False


def http_post(st, path, body, src="127.0.0.1"):
    data = (b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
            % (path.encode(), len(body))) + body
    resp = http_raw(st, data, src)
    return http_status(resp), resp


# ---------------------------------------------------------------- 12

QUOTA_CONF = """
quotas:
  produce_bytes_per_sec: 256KiB
  fetch_bytes_per_sec: 256KiB
  produce_overrides: {fast: 64MiB, "127.0.0.8": 64MiB}
  max_throttle: 5s
"""


def case12(env):
    # a bad override is a config error naming file:line:column
    bad = kafkatest.write_conf(env, "quotas:\n  produce_overrides:\n    agent-7: lots\n", "bad.yaml")
    r = subprocess.run([os.path.join(sluicetest.BIN, "sluice-store"), "-c", bad, "--check"],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "bad.yaml:3:14:" in r.stderr, r.stderr
    st = start_store(env, conf=CONF + QUOTA_CONF)
    sluicetest_wait_http(st)
    big = batch(100, 5000)                   # ~500 KB: twice the rate
    hog = connect(st.kafka_port)
    err, thr1 = produce(hog, "quota", batch(40, 5000), 1, "hog")
    assert err == 0 and thr1 == 0, (err, thr1)   # 200 KB: within the first second's burst
    err, thr2 = produce(hog, "quota", big, 2, "hog")
    assert err == 0 and thr2 > 500, (err, thr2)
    # muted (KIP-219): the next request waits out the throttle
    t0 = time.time()
    assert call(hog, ApiVersionRequest[1](), 3, "hog").error_code == 0
    muted = time.time() - t0
    assert muted >= thr2 / 1000.0 * 0.7, (muted, thr2)
    # an override is not throttled; nor is another principal at the default
    fast = connect(st.kafka_port)
    for i in range(4):
        err, thr = produce(fast, "quota", big, 10 + i, "fast")
        assert err == 0 and thr == 0, (err, thr)
    fast.close()
    # fetch quota: reading 4 x 500 KB back as "hog-reader"
    rd = connect(st.kafka_port)
    thr_f = []
    for i in range(3):
        f = call(rd, FetchRequest[4](-1, 0, 1, 1 << 20, 0, [("quota", [(0, 0, 1 << 20)])]),
                 20 + i, "hog-reader")
        thr_f.append(f.throttle_time_ms)
    rd.close()
    hog.close()
    assert max(thr_f) > 0, thr_f
    # HTTP: 429 + Retry-After for a client address over the default; the
    # overridden address is served
    body = batch(100, 5000)
    codes, resp = [], b""
    for i in range(3):
        code, resp = http_post(st, "/v1/topics/quota/batches", body, "127.0.0.7")
        codes.append(code)
        if code == 429:
            break
    assert 429 in codes, codes
    assert re.search(rb"(?im)^retry-after: *[1-9]", resp), resp[:300]
    for i in range(3):
        code, _ = http_post(st, "/v1/topics/quota/batches", body, "127.0.0.8")
        assert code == 200, code
    m = metrics(st)
    hog_t = m.get('sluice_quota_throttled_total{principal="hog",direction="produce"}', 0)
    rej = m.get('sluice_quota_rejected_total{principal="127.0.0.7",direction="produce"}', 0)
    assert hog_t >= 1 and rej >= 1, (hog_t, rej)
    assert m.get('sluice_quota_throttled_total{principal="fast",direction="produce"}', 0) == 0
    r, v = after_case(st, "12", "sluice_kafka_muted_total")
    st.stop()
    result("12: 256 KiB/s quota: 2nd 500 KB Produce throttle_time_ms %d, next request muted "
           "%.2fs; override 'fast' never throttled; Fetch throttles %s; HTTP %s then 429 + "
           "Retry-After, override address 200; RSS %d MiB" % (thr2, muted, thr_f, codes,
                                                               r >> 20))


def main():
    want = cases()
    t0 = time.time()
    with Env() as env:
        def on_one_store(*fns):
            st = start_store(env, conf=CONF)
            sluicetest_wait_http(st)
            for fn in fns:
                fn(st)
            st.stop()
        groups = []
        for pair in ((("7", case7), ("8", case8)), (("9", case9), ("10", case10))):
            fns = [fn for c, fn in pair if c in want]
            if fns:
                groups.append([on_one_store] + fns)
        if "11" in want:
            groups.append((case11, env))
        if "12" in want:
            groups.append((case12, env))
        run_parallel(*groups)
    took = time.time() - t0
    result("hostile suite: cases %s in %.1fs" % (" ".join(sorted(want, key=int)), took))
    assert took < 90, "the hostile suite took %.1fs (budget 90 s)" % took


if __name__ == "__main__":
    main()
