# SPDX-License-Identifier: Apache-2.0
"""syslog input over TCP and UDP into a real store:

1. `logger --server 127.0.0.1 --port N --tcp|--udp --rfc5424|--rfc3164`
   messages arrive with facility/severity/app/host headers and their own
   timestamp; octet-counted frames from a raw socket too;
2. malformed frames (no <PRI>, a digit-led line without a length, a bad
   RFC 5424 timestamp, an over-long octet count) are kept as raw records
   with a `syslog_error` header and counted;
3. back-pressure: with the store down the spool fills (1 MiB cap), the TCP
   input stops reading and the sender blocks; UDP datagrams sent meanwhile
   are either delivered or counted as dropped (delivered + dropped = sent);
   when the store is back everything sent over TCP arrives exactly once
   (check_seq.py).
"""
import os
import random
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from agentkit import (Agent, kcat_records, kcat_records_lossy, port_open, store_records,  # noqa: E402
                      wait_until)
from sluicetest import Env, free_port, result  # noqa: E402

CONF = """
agent:
  data_dir: {dir}/agent-data
  http: {{ listen: @HTTP@ }}
  shutdown_timeout: 10s
  buffer: {{ max_bytes: 1MiB, max_memory: 4MiB, segment_bytes: 256KiB }}
inputs:
  - id: tcp
    type: syslog
    listen: tcp://127.0.0.1:{tcp}
    max_message_bytes: 8KiB
  - id: udp
    type: syslog
    listen: udp://127.0.0.1:{udp}
    udp_buffer: 64KiB
outputs:
  - id: central
    type: store
    url: {url}
    batch: {{ max_delay_ms: 50 }}
    retry: {{ initial_delay: 50ms, max_delay: 500ms }}
"""


def logger(port, proto, fmt, lines):
    subprocess.run(["logger", "--server", "127.0.0.1", "--port", str(port), "--" + proto,
                    "--" + fmt, "-t", "myapp", "-p", "local3.warning"],
                   input="\n".join(lines).encode() + b"\n", check=True, timeout=60)


def headers(rec):
    h = rec.get("headers") or []
    return dict(zip(h[0::2], h[1::2]))


def main():
    with Env() as env:
        tcp, udp = free_port(), free_port()
        store = env.start_store()
        agent = Agent(env, CONF.format(dir=env.dir, tcp=tcp, udp=udp, url=store.url)).start()
        # its HTTP listener (what start() awaits) may come up before the syslog inputs
        agent.wait_listening(tcp=[tcp], udp=[udp])
        seq = 0

        def batch(n):
            nonlocal seq
            out = ["msg seq=%d" % i for i in range(seq, seq + n)]
            seq += n
            return out

        # 1. logger, every combination; TCP counts toward check_seq
        logger(tcp, "tcp", "rfc5424", batch(200))
        logger(tcp, "tcp", "rfc3164", batch(200))
        logger(udp, "udp", "rfc5424", ["udp5424 %d" % i for i in range(50)])
        logger(udp, "udp", "rfc3164", ["udp3164 %d" % i for i in range(50)])
        # octet counting from a raw socket, two frames in one write
        s = socket.create_connection(("127.0.0.1", tcp))
        frames = b""
        for m in batch(2):
            msg = b"<13>1 2024-01-02T03:04:05.006Z rawhost rawapp 77 ID1 - " + m.encode()
            frames += b"%d %s" % (len(msg), msg)
        s.sendall(frames)
        s.close()
        # 2. malformed frames over TCP and UDP
        bad = [b"no pri at all", b"12x looks like a length", b"<13>1 yesterday h a - - - m"]
        s = socket.create_connection(("127.0.0.1", tcp))
        s.sendall(b"\n".join(bad) + b"\n")
        s.sendall(b"99999 <13>1 - h a - - - " + b"x" * 9000)  # longer than max_message_bytes
        s.close()
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.sendto(b"\xff\xfe garbage datagram", ("127.0.0.1", udp))
        wait_until(lambda: store_records(store, "tcp") >= seq + 4, 30, "tcp records")
        wait_until(lambda: store_records(store, "udp") >= 101, 30, "udp records")
        m = agent.metrics()
        assert m['sluice_agent_syslog_malformed_total{input="tcp"}'] == 4, m
        assert m['sluice_agent_syslog_too_long_total{input="tcp"}'] == 1, m
        assert m['sluice_agent_syslog_malformed_total{input="udp"}'] == 1, m
        recs = kcat_records(store.bootstrap, "tcp")
        r5424 = next(r for r in recs if r["payload"] == "msg seq=0")
        h = headers(r5424)
        assert h["facility"] == "19" and h["severity"] == "4" and h["app_name"] == "myapp", h
        assert "hostname" in h, h
        r3164 = next(r for r in recs if r["payload"] == "msg seq=200")
        assert headers(r3164)["app_name"] == "myapp", headers(r3164)
        raw = next(r for r in recs if r["payload"] == "msg seq=400")
        assert headers(raw)["hostname"] == "rawhost" and headers(raw)["procid"] == "77", raw
        assert raw["ts"] == 1704164645006, raw["ts"]
        kept = {r["payload"]: headers(r).get("syslog_error") for r in recs
                if "syslog_error" in headers(r)}
        for b in bad:
            assert kept.get(b.decode()), "malformed frame not kept raw: %r in %r" % (b, kept)
        assert any(k.startswith("99999 ") or k.startswith("<13>1 - h a") for k in kept), kept
        result("logger tcp/udp rfc5424/rfc3164 and octet counting OK; %d malformed kept raw"
               % len(kept))

        # 3. back-pressure: store down, spool fills, TCP sender blocks
        dropped_before = int(m['sluice_agent_syslog_udp_dropped_total{input="udp"}'])
        store.stop()
        n_bp = 150000
        first = seq
        rnd = random.Random(7)
        payload = "".join("<14>1 - h bp - - - seq=%d %032x%032x\n" % (i, rnd.getrandbits(128),
                                                                    rnd.getrandbits(128))
                          for i in range(first, first + n_bp)).encode()
        seq += n_bp
        done = threading.Event()

        def send():
            c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
            c.connect(("127.0.0.1", tcp))
            c.sendall(payload)
            c.close()
            done.set()

        t = threading.Thread(target=send, daemon=True)
        t.start()
        wait_until(lambda: agent.metric('sluice_agent_input_paused{input="tcp"}') == 1, 30,
                   "the tcp input to pause on the full spool")
        udp_sent = 3000
        for i in range(udp_sent):
            u.sendto(b"<14>1 - h u - - - udpbp %d %s" % (i, b"y" * 200), ("127.0.0.1", udp))
        time.sleep(1.0)
        assert not done.is_set(), "the TCP sender never blocked (%d bytes)" % len(payload)
        store.start()
        t.join(60)
        assert done.is_set(), "the TCP sender is still blocked after the store came back"
        u.sendto(b"<14>1 - h u - - - last", ("127.0.0.1", udp))  # reports the drop count
        wait_until(lambda: store_records(store, "tcp") >= seq + 4, 60, "all tcp records")
        def dropped_now():
            # the kernel's count arrives with the next datagram read (SO_RXQ_OVFL), so it
            # is read again on each try: the input may still be working through its backlog
            return int(agent.metric('sluice_agent_syslog_udp_dropped_total{input="udp"}')) - \
                dropped_before
        wait_until(lambda: store_records(store, "udp") >= 101 + udp_sent + 1 - dropped_now(), 30,
                   "udp records")
        dropped = dropped_now()
        assert agent.term() == 0
        vals = [r["payload"] for r in kcat_records(store.bootstrap, "tcp")]
        line = env.check_seq("\n".join(vals).encode() + b"\n", expect=seq)
        udp_recs = [r["payload"] or "" for r in kcat_records_lossy(store.bootstrap, "udp")]
        got = sum(1 for v in udp_recs if v.startswith("udpbp "))
        assert got + dropped == udp_sent, "udp: %d delivered + %d dropped != %d sent" % (
            got, dropped, udp_sent)
        assert dropped > 0, "the UDP input never dropped while paused"
        result("back-pressure: %d TCP messages (%.1f MB) blocked and resumed: %s; UDP %d "
               "delivered + %d counted drops = %d sent"
               % (n_bp, len(payload) / 1e6, line, got, dropped, udp_sent))


if __name__ == "__main__":
    main()
