# SPDX-License-Identifier: Apache-2.0
"""The store output follows its host name to a new address (issue 19 case 9).

The agent runs in a user + mount namespace of its own where /etc/hosts is a
file of the test's (bind-mounted), so the name store.sluice.test resolves
through the real getaddrinfo() to what the test says, and nothing else on
the machine sees it.  Store A listens on 127.0.0.2:P, store B on 127.0.0.3:P.
Events go to A; A is killed and the name moved to B while the agent keeps
reading: the agent re-resolves when A stops answering and delivers the rest
to B.  A's records plus B's: check_seq.py 0 lost, 0 duplicated.
"""
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from agentkit import Agent, corpus, kcat_values, wait_until  # noqa: E402
from sluicetest import BIN, Env, free_port, result, wait_port  # noqa: E402

NAME = "store.sluice.test"


class HostsAgent(Agent):
    def __init__(self, env, config, hosts):
        self.hosts = hosts
        super().__init__(env, config)

    def start(self, wait=True, preexec_fn=None):
        log = open(self.log_path, "ab")
        self.proc = self.env.spawn(
            ["unshare", "-U", "-r", "-m", "/bin/sh", "-c",
             'mount --bind "$2" /etc/hosts && exec "$0" -c "$1"',
             os.path.join(BIN, "sluice-agent"), self.conf_path, self.hosts],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        if wait:
            wait_port(self.http_port, 30, self.proc)
        return self


class AddrStore:
    """sluice-store on one loopback address (127.0.0.N)."""

    def __init__(self, env, ip, http_port, name):
        self.env, self.ip, self.http_port = env, ip, http_port
        self.kafka_port = free_port()
        self.dir = env.path(name)
        self.log_path = env.path(name + ".log")
        self.proc = None

    @property
    def bootstrap(self):
        return "%s:%d" % (self.ip, self.kafka_port)

    def start(self):
        log = open(self.log_path, "ab")
        self.proc = self.env.spawn(
            [os.path.join(BIN, "sluice-store"), "--data-dir", self.dir,
             "--kafka-listen", self.bootstrap, "--http-listen",
             "%s:%d" % (self.ip, self.http_port), "--advertised", self.bootstrap],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection((self.ip, self.http_port), timeout=1).close()
                return self
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("store on %s exited" % self.ip)
                time.sleep(0.1)
        raise RuntimeError("store on %s not listening" % self.ip)

    def kill(self):
        self.proc.kill()
        self.proc.wait()

    def records(self, topic):
        return len(kcat_values(self.bootstrap, topic))


def main():
    probe = subprocess.run(["unshare", "-U", "-r", "-m", "/bin/true"], capture_output=True)
    if probe.returncode != 0:
        result("skipped: no user + mount namespaces here")
        return
    with Env() as env:
        port = free_port()
        a = AddrStore(env, "127.0.0.2", port, "store-a").start()
        b = AddrStore(env, "127.0.0.3", port, "store-b")
        hosts = env.path("hosts")
        with open(hosts, "w") as f:
            f.write("127.0.0.2 %s\n" % NAME)
        logs = env.path("logs")
        os.makedirs(logs)
        cfg = ("agent:\n  data_dir: %s\n  http: { listen: @HTTP@ }\n  shutdown_timeout: 10s\n"
               "inputs:\n  - id: app\n    type: tail\n    paths: [%s/*.log]\n"
               "    read_from_head: true\n"
               "outputs:\n  - id: central\n    type: store\n    url: http://%s:%d\n"
               "    retry: { initial_delay: 50ms, max_delay: 500ms }\n"
               % (env.path("agent-data"), logs, NAME, port))
        agent = HostsAgent(env, cfg, hosts).start()
        log = os.path.join(logs, "app.log")
        src = env.path("c1")
        n1 = corpus(env, src, "512K")
        with open(src, "rb") as s, open(log, "ab") as d:
            d.write(s.read())
        wait_until(lambda: agent.metric('sluice_agent_output_records_total{output="central"}')
                   >= n1, 30, "the first events delivered to A")
        a.kill()
        with open(hosts, "w") as f:   # in place: the bind mount follows the inode
            f.write("127.0.0.3 %s\n" % NAME)
        b.start()
        n2 = corpus(env, env.path("c2"), "512K", "--start-seq", str(n1), "--seed", "2")
        with open(env.path("c2"), "rb") as s, open(log, "ab") as d:
            d.write(s.read())
        t0 = time.time()
        wait_until(lambda: agent.metric('sluice_agent_output_records_total{output="central"}')
                   >= n1 + n2, 60, "the rest delivered to B")
        moved = time.time() - t0
        assert agent.term() == 0
        a.start()
        vals = kcat_values(a.bootstrap, "app") + kcat_values(b.bootstrap, "app")
        line = env.check_seq("\n".join(vals).encode() + b"\n", expect=n1 + n2)
        result("name moved from 127.0.0.2 to 127.0.0.3 with the first store dead: delivered "
               "to the new address in %.1f s; both stores together: %s" % (moved, line))


if __name__ == "__main__":
    main()
