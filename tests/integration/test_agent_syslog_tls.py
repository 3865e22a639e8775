# SPDX-License-Identifier: Apache-2.0
"""syslog input over TLS (RFC 5425, issue 17 item 7): `listen: tls://` with
client_auth: require and a test CA (harness.Pki, the openssl CLI).

1. Python's ssl module (OpenSSL) with a client certificate sends numbered
   RFC 5424 messages in octet-counted frames, in one write and split across
   TLS records;
2. rsyslogd (omfwd with the ossl stream driver, octet-counted framing, its
   own client certificate, checking the agent's name) forwards a file it
   reads with imfile;
3. refusals, each closed and counted in sluice_agent_syslog_tls_refused_total:
   plain TCP on the TLS port, `openssl s_client` with TLS 1.1, a client
   without a certificate, one whose certificate an unknown CA signed, and an
   expired one.  None of their messages arrive.

The sink is the exactly-once file output: check_seq.py finds every message
of 1 and 2 exactly once, and the agent keeps serving after the refusals.
"""
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Agent, Env, Pki, free_port, result, wait_until  # noqa: E402

CONF = """
agent:
  data_dir: {d}/data
  http: {{ listen: @HTTP@ }}
inputs:
  - id: tls
    type: syslog
    listen: tls://127.0.0.1:{port}
    tls: {{ cert: {crt}, key: {key}, ca: {ca}, client_auth: require }}
outputs:
  - id: out
    type: file
    path: {d}/out.txt
    batch: {{ max_delay_ms: 50 }}
"""

RSYSLOG = """
global(workDirectory="{wd}"
       defaultNetstreamDriverCAFile="{ca}"
       defaultNetstreamDriverCertFile="{crt}"
       defaultNetstreamDriverKeyFile="{key}")
module(load="imfile")
input(type="imfile" file="{src}" tag="rsapp" ruleset="fwd")
ruleset(name="fwd") {{
  action(type="omfwd" target="127.0.0.1" port="{port}" protocol="tcp"
         streamDriver="ossl" streamDriverMode="1" streamDriverAuthMode="x509/name"
         streamDriverPermittedPeers="localhost" tcp_Framing="octet-counted"
         template="RSYSLOG_SyslogProtocol23Format")
}}
"""


def frame(msg):
    return b"%d %s" % (len(msg), msg)


def client_ctx(pki, cert=None, key=None):
    ctx = ssl.create_default_context(cafile=pki.p("ca.crt"))
    if cert:
        ctx.load_cert_chain(cert, key)
    return ctx


def send_tls(port, ctx, frames, pieces=1):
    with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            step = max(1, len(frames) // pieces)
            for i in range(0, len(frames), step):
                s.sendall(frames[i:i + step])


def refused_tls(port, ctx):
    """A handshake the agent must refuse; with TLS 1.3 the client learns it
    only after its first write (the server checks the certificate then)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                s.sendall(frame(b"<13>1 - h bad - - - refused seq=999999999"))
                s.settimeout(10)
                s.recv(1)
    except (ssl.SSLError, ConnectionError, OSError):
        pass


def rsyslog(env, pki, port, src):
    """rsyslogd forwarding src over TLS; None when its ossl driver is absent."""
    rsd = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
    if not os.path.exists("/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_ossl.so") or \
            not os.path.exists(rsd):
        return None
    wd = env.path("rsyslog")
    os.makedirs(wd)
    crt, key = pki.issue("rsyslog", "/CN=rsyslog-client", "client")
    conf = env.path("rsyslog.conf")
    with open(conf, "w") as f:
        f.write(RSYSLOG.format(wd=wd, ca=pki.p("ca.crt"), crt=crt, key=key, src=src, port=port))
    return env.spawn([rsd, "-n", "-f", conf, "-i", os.path.join(wd, "pid")],
                     stdout=open(env.path("rsyslog.log"), "wb"), stderr=subprocess.STDOUT)


def main():
    with Env() as env:
        pki = Pki(env.path("pki"))
        crt, key = pki.issue("agent", "/CN=localhost", "server")
        ccrt, ckey = pki.issue("sender", "/CN=sender,O=Example", "client")
        scrt, skey = pki.issue("stranger", "/CN=stranger", "client", ca="other-ca")
        ecrt, ekey = pki.issue("expired", "/CN=expired", "client",
                               start="20240101000000Z", end="20240102000000Z")
        port = free_port()
        d = env.path("a")
        os.makedirs(d)
        agent = Agent(env, CONF.format(d=d, port=port, crt=crt, key=key, ca=pki.p("ca.crt")))
        agent.start().wait_listening(tcp=[port])
        metric = 'sluice_agent_syslog_tls_%s_total{input="tls"}'

        # 1. Python ssl with a client certificate
        ctx = client_ctx(pki, ccrt, ckey)
        n, seq = 3000, 0
        frames = b"".join(frame(b"<14>1 2026-12-02T06:00:00Z pyhost pyapp - - - py seq=%d" % i)
                          for i in range(seq, seq + 1000))
        send_tls(port, ctx, frames)
        frames = b"".join(frame(b"<14>1 - pyhost pyapp - - - py seq=%d" % i)
                          for i in range(1000, n))
        send_tls(port, ctx, frames, pieces=97)  # frames split across TLS records
        seq = n

        # 2. rsyslog over TLS
        src = env.path("rs.log")
        m = 2000
        with open(src, "w") as f:
            for i in range(seq, seq + m):
                f.write("rs seq=%d\n" % i)
        rs = rsyslog(env, pki, port, src)
        if rs is not None:
            seq += m

        # 3. refusals
        before = agent.metric(metric % "refused")
        with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
            s.sendall(frame(b"<13>1 - h plain - - - plain seq=999999998"))
            s.settimeout(10)
            try:
                s.recv(1)
            except OSError:
                pass
        old = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
                              "-tls1_1", "-cert", ccrt, "-key", ckey, "-CAfile", pki.p("ca.crt")],
                             input=b"", capture_output=True, timeout=30)
        assert old.returncode != 0, "TLS 1.1 accepted"
        nocert = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
                                 "-CAfile", pki.p("ca.crt"), "-quiet"],
                                input=frame(b"<13>1 - h nocert - - - nocert seq=999999997"),
                                capture_output=True, timeout=30)
        refused_tls(port, client_ctx(pki, scrt, skey))
        refused_tls(port, client_ctx(pki, ecrt, ekey))
        wait_until(lambda: agent.metric(metric % "refused") - before >= 5, 30,
                   "5 refused handshakes counted")

        out = os.path.join(d, "out.txt")

        def count():
            try:
                with open(out, "rb") as f:
                    return f.read().count(b"seq=")
            except FileNotFoundError:
                return 0
        try:
            wait_until(lambda: count() >= seq, 60, "%d messages in the output" % seq)
        finally:
            if rs is not None:
                rs.terminate()
                rs.wait(30)
        # the agent still serves after the refusals
        send_tls(port, ctx, frame(b"<14>1 - pyhost pyapp - - - py seq=%d" % seq))
        seq += 1
        wait_until(lambda: count() >= seq, 30, "the message after the refusals")
        refused = agent.metric(metric % "refused") - before
        handshakes = agent.metric(metric % "handshakes")
        assert agent.term() == 0
        with open(out, "rb") as f:
            data = f.read()
        for bad in (b"999999999", b"999999998", b"999999997"):
            assert bad not in data, "a refused connection's message arrived: %r" % bad
        line = env.check_seq(data, expect=seq)
        result("syslog over TLS (client_auth require): python ssl %d + %s, %s; "
               "%d refused (plain TCP, TLS 1.1, no cert, unknown CA, expired), "
               "%d handshakes; nocert s_client rc=%d"
               % (n + 1, "rsyslog ossl %d" % m if rs is not None else "no rsyslog ossl driver",
                  line, refused, handshakes, nocert.returncode))


if __name__ == "__main__":
    main()
