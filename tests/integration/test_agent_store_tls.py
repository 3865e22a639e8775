# SPDX-License-Identifier: Apache-2.0
"""The store output over https:// (libcurl): a TLS front (Python's ssl with a
self-signed certificate made by openssl for localhost) forwards to a real
sluice-store.  With ca_file naming that certificate every event arrives
exactly once over TLS and the agent maps libcurl; without it (the system's
CAs) the certificate is refused, connection errors are counted and nothing
is delivered or dropped; tls_verify: false then ships the same spool."""
import os
import socket
import ssl
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(__file__))
from agentkit import (Agent, corpus, kcat_values, store_config, store_records,  # noqa: E402
                      wait_until)
from sluicetest import Env, result  # noqa: E402

class TlsFront(threading.Thread):
    """Terminates TLS and pipes each connection to the store's HTTP port."""

    def __init__(self, cert, key, backend_port):
        super().__init__(daemon=True)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.backend = backend_port
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.handshakes = 0
        self.stopping = False

    def run(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        try:
            t = self.ctx.wrap_socket(c, server_side=True)
        except (ssl.SSLError, OSError):
            c.close()
            return
        self.handshakes += 1
        b = socket.create_connection(("127.0.0.1", self.backend))

        def pump(src, dst):
            try:
                while True:
                    d = src.recv(65536)
                    if not d:
                        break
                    dst.sendall(d)
            except OSError:
                pass
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        threading.Thread(target=pump, args=(b, t), daemon=True).start()
        pump(t, b)

    def stop(self):
        self.stopping = True
        self.sock.close()


def errors(agent):
    return sum(v for k, v in agent.metrics().items()
               if k.startswith('sluice_agent_output_errors_total{output="central"'))


def mapped_curl(pid):
    with open("/proc/%d/maps" % pid) as f:
        return any("libcurl.so" in line for line in f)


def main():
    with Env() as env:
        cert, key = env.path("cert.pem"), env.path("key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                        "-subj", "/CN=localhost", "-addext",
                        "subjectAltName=DNS:localhost,IP:127.0.0.1",
                        "-keyout", key, "-out", cert], check=True, capture_output=True)
        logs = env.path("logs")
        os.makedirs(logs)
        events = corpus(env, os.path.join(logs, "app.log"), "4M")
        store = env.start_store()
        front = TlsFront(cert, key, int(store.url.rsplit(":", 1)[1]))
        front.start()
        try:
            # 1. ca_file names the certificate: delivered exactly once.
            url = "https://localhost:%d" % front.port
            agent = Agent(env, store_config(env, store, logs, url=url, data=env.path("a1"),
                                            extra_output="    ca_file: %s\n" % cert), name="a1")
            agent.start()
            wait_until(lambda: store_records(store, "app") >= events, 120,
                       "%d records over https" % events)
            assert mapped_curl(agent.proc.pid), "https:// should load libcurl"
            reqs = agent.metric('sluice_agent_store_requests_total{output="central"}')
            assert agent.term() == 0, agent.log()
            line = env.check_seq(("\n".join(kcat_values(store.bootstrap, "app")) + "\n").encode(),
                                 expect=events)
            result("https with ca_file: %s in %d requests over %d TLS connections" %
                   (line, reqs, front.handshakes))
            assert front.handshakes <= 4, "keep-alive: %d handshakes" % front.handshakes

            # 2. The system's CAs do not know the certificate: refused, kept.
            logs2 = env.path("logs2")
            os.makedirs(logs2)
            events2 = corpus(env, os.path.join(logs2, "app.log"), "1M")
            # refused, it cannot deliver: SIGTERM waits out shutdown_timeout,
            # 1 s here (store_config's 10 s otherwise)
            conf = store_config(env, store, logs2, url=url, data=env.path("a2"),
                                extra_input="    topic: other\n") \
                .replace("shutdown_timeout: 10s", "shutdown_timeout: 1s")
            assert "shutdown_timeout: 1s" in conf
            agent = Agent(env, conf, name="a2")
            agent.start()
            wait_until(lambda: errors(agent) >= 3, 60, "certificate errors")
            m = agent.metrics()
            nerr = errors(agent)
            assert store_records(store, "other") <= 0, "delivered without a trusted certificate"
            assert m.get('sluice_agent_output_dead_letter_batches_total{output="central"}', 0) == 0
            assert agent.term() == 0, agent.log()
            assert "SSL peer certificate" in agent.log(), agent.log()[-2000:]

            # 3. tls_verify: false on the same data dir: the spool ships.
            agent.write_config(conf + "    tls_verify: false\n")
            agent.start()
            wait_until(lambda: store_records(store, "other") >= events2, 120,
                       "%d records with tls_verify off" % events2)
            assert agent.term() == 0, agent.log()
            line2 = env.check_seq(("\n".join(kcat_values(store.bootstrap, "other")) + "\n").encode(),
                                  expect=events2)
            result("system CAs: refused (%d failed attempts, 0 delivered, 0 dropped); "
                   "tls_verify false then: %s" % (nerr, line2))
        finally:
            front.stop()


if __name__ == "__main__":
    main()
