# SPDX-License-Identifier: Apache-2.0
"""GET /health tells the truth, and the systemd watchdog sees the same
(issue 19 case 3).  Each case has its own store and agent; they run at once.

stall    the store dies while the agent has data: after agent.health.
         output_stall /health is 503 with the reason, and the watchdog
         ($NOTIFY_SOCKET, $WATCHDOG_USEC as systemd sets them) is no longer
         fed, with STATUS= saying why; the store back, both recover.
paused   the spool fills (buffer.max_bytes) with the store down: past
         agent.health.input_paused, 503 naming the paused input.
spool    the spool cannot be written (RLIMIT_FSIZE stands in for a full
         disk: EFBIG): 503 naming the spool; the limit raised, 200 again.

Every case then delivers everything: check_seq.py 0 lost, 0 duplicated.
"""
import json
import os
import resource
import signal
import socket
import sys
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from agentkit import (Agent, corpus, kcat_values, run_parallel, store_config,  # noqa: E402
                      store_records, wait_until)
from sluicetest import Env, result  # noqa: E402


def health(agent):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/health" % agent.http_port,
                                    timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def wait_health(agent, code, word, timeout=30):
    got = [None]

    def ok():
        got[0] = health(agent)
        return got[0][0] == code and word in " ".join(got[0][1].get("reasons", []))
    wait_until(ok, timeout, "/health %d with %r (last: %s)" % (code, word, got[0]))
    return got[0][1]


class Notify(threading.Thread):
    """The systemd side of sd_notify: every datagram with when it came."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.msgs = []
        self.stop = False

    def run(self):
        while not self.stop:
            try:
                self.msgs.append((time.time(), self.sock.recv(4096).decode()))
            except socket.timeout:
                pass

    def pets(self, since):
        return sum(1 for t, m in list(self.msgs) if t >= since and "WATCHDOG=1" in m)

    def status(self, word):
        return any(word in m for _, m in list(self.msgs) if m.startswith("STATUS="))


def deliver_all(env, store, agent, topic, events):
    wait_until(lambda: store_records(store, topic) >= events, 60,
               "the store to hold %d records" % events)
    assert agent.term() == 0
    vals = kcat_values(store.bootstrap, topic)
    return env.check_seq("\n".join(vals).encode() + b"\n", expect=events)


def setup(env, name, health_conf, extra_agent=""):
    store = env.start_store(data_dir=env.path("store-" + name))  # cases start at once
    logs = env.path("logs-" + name)
    os.makedirs(logs)
    cfg = store_config(env, store, logs, input_id=name, data=env.path("data-" + name),
                       extra_agent="  health: { %s }\n%s" % (health_conf, extra_agent))
    return store, logs, Agent(env, cfg, name="agent-" + name)


def append_corpus(env, path, size, start):
    src = path + ".src-%d" % start
    n = corpus(env, src, size, "--start-seq", str(start), "--seed", str(start + 1))
    with open(src, "rb") as s, open(path, "ab") as d:
        d.write(s.read())
    os.unlink(src)
    return n


def case_stall(env):
    store, logs, agent = setup(env, "stall", "output_stall: 1s, input_paused: 0s")
    note = Notify(env.path("notify.sock"))
    note.start()

    def systemd_env():
        os.environ["NOTIFY_SOCKET"] = note.path
        os.environ["WATCHDOG_USEC"] = "300000"
    agent.start(preexec_fn=systemd_env)
    log = os.path.join(logs, "app.log")
    n = append_corpus(env, log, "256K", 0)
    wait_until(lambda: store_records(store, "stall") >= n, 30, "the first records")
    assert health(agent)[0] == 200
    wait_until(lambda: note.pets(time.time() - 1) >= 2, 10, "the watchdog fed")
    store.kill()
    n += append_corpus(env, log, "256K", n)
    why = wait_health(agent, 503, "nothing delivered")
    t_bad = time.time()
    wait_until(lambda: note.status("unhealthy: output central: nothing delivered"), 10, "STATUS= with the reason")
    time.sleep(1.0)  # a window that must see no WATCHDOG=1 (3 intervals)
    fed = note.pets(t_bad + 0.2)
    assert fed == 0, "the watchdog was fed %d times while unhealthy" % fed
    store.start()
    wait_health(agent, 200, "")
    t_ok = time.time()
    wait_until(lambda: note.pets(t_ok) >= 2, 10, "the watchdog fed again")
    line = deliver_all(env, store, agent, "stall", n)
    note.stop = True
    return "503 %s, watchdog not fed for 1 s, STATUS= said why; recovered: %s" % (
        why["reasons"], line)


def case_paused(env):
    store, logs, agent = setup(env, "paused", "output_stall: 0s, input_paused: 1s",
                               "  buffer: { max_bytes: 1MiB }\n")
    agent.start()
    log = os.path.join(logs, "app.log")
    open(log, "w").close()
    store.kill()
    n = append_corpus(env, log, "16M", 0)
    why = wait_health(agent, 503, "input paused: paused for", 60)
    store.start()
    wait_health(agent, 200, "", 60)
    line = deliver_all(env, store, agent, "paused", n)
    return "503 %s; drained: %s" % (why["reasons"], line)


def case_spool(env):
    store, logs, agent = setup(env, "spool", "output_stall: 0s, input_paused: 0s")

    def small_disk():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 << 10, resource.RLIM_INFINITY))
    agent.start(preexec_fn=small_disk)
    log = os.path.join(logs, "app.log")
    n = append_corpus(env, log, "4M", 0)
    why = wait_health(agent, 503, "spool cannot be written")
    resource.prlimit(agent.proc.pid, resource.RLIMIT_FSIZE,
                     (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    wait_health(agent, 200, "")
    line = deliver_all(env, store, agent, "spool", n)
    return "503 %s; writable again: %s" % (why["reasons"], line)


CASES = {"stall": case_stall, "paused": case_paused, "spool": case_spool}


def guarded(fn, env):
    try:
        return True, fn(env)
    except Exception as e:  # noqa: BLE001 - reported by main
        return False, "%s: %s" % (type(e).__name__, e)


def main():
    names = os.environ.get("CASES", " ".join(CASES)).split()
    with Env() as env:
        out = run_parallel(*[(guarded, CASES[n], env) for n in names])
        for n, (ok, r) in zip(names, out):
            if ok:
                result("%s: %s" % (n, r))
            else:
                sys.stderr.write("FAILED %s: %s\n" % (n, r))
                with open(env.path("agent-%s.log" % n), errors="replace") as f:
                    sys.stderr.write("--- agent-%s.log ---\n%s\n" % (n, f.read()[-3000:]))
        failed = [n for n, (ok, _) in zip(names, out) if not ok]
        assert not failed, "failed: %s" % " ".join(failed)


if __name__ == "__main__":
    main()
