# SPDX-License-Identifier: Apache-2.0
"""Shared helpers for Python integration tests (run with /usr/bin/python3,
which has kafka-python and confluent-kafka).

    from sluicetest import Env
    with Env() as env:
        store = env.start_store()
        ...                       # store.kafka_port, store.http_port, store.url

Everything started through an Env is killed and its temp dir removed on exit,
even when the test raises (KEEP=1 keeps the dir).
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BIN = os.environ.get("SLUICE_BIN") or os.path.join(os.path.dirname(__file__), "../../build/bin")
TOP = os.environ.get("SLUICE_TOP") or os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
SHARED = os.environ.get("SLUICE_SHARED") or os.path.join(TOP, "../shared")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, timeout=20.0, proc=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("process exited with %s before listening on %d" % (proc.returncode, port))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nothing listening on port %d after %.0fs" % (port, timeout))


def result(msg):
    print("RESULT " + msg, flush=True)


class Store:
    def __init__(self, env, data_dir, args):
        self.env = env
        self.data_dir = data_dir
        self.args = list(args)
        self.kafka_port = free_port()
        self.http_port = free_port()
        self.proc = None
        self.log_path = os.path.join(env.dir, "store-%d.log" % self.kafka_port)

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.http_port

    @property
    def bootstrap(self):
        return "127.0.0.1:%d" % self.kafka_port

    def start(self, timeout=30):
        os.makedirs(self.data_dir, exist_ok=True)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [os.path.join(BIN, "sluice-store"), "--data-dir", self.data_dir,
             "--kafka-listen", self.bootstrap, "--http-listen", "127.0.0.1:%d" % self.http_port]
            + self.args, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        wait_port(self.kafka_port, timeout, self.proc)
        wait_port(self.http_port, timeout, self.proc)
        return self

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode
        self.proc = None
        return rc

    def kill(self):
        return self.stop(signal.SIGKILL)

    def restart(self, kill=False):
        self.stop(signal.SIGKILL if kill else signal.SIGTERM)
        return self.start()

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""


class Env:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="sluice-it.")
        self.procs = []
        self.stores = []

    def __enter__(self):
        return self

    def start_store(self, *args, data_dir=None):
        st = Store(self, data_dir or os.path.join(self.dir, "store%d" % len(self.stores)), args)
        self.stores.append(st)
        return st.start()

    def spawn(self, argv, **kw):
        p = subprocess.Popen(argv, **kw)
        self.procs.append(p)
        return p

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def gen_corpus(self, out, size, *args):
        subprocess.run([sys.executable, os.path.join(SHARED, "bench/gen_corpus.py"), out, str(size)]
                       + list(args), check=True, stderr=subprocess.DEVNULL)

    def check_seq(self, data, expect=None):
        """Run check_seq.py over bytes; returns its summary line or raises."""
        argv = [sys.executable, os.path.join(SHARED, "bench/check_seq.py")]
        if expect is not None:
            argv += ["--expect", str(expect)]
        r = subprocess.run(argv, input=data, capture_output=True)
        line = r.stdout.decode().strip()
        if r.returncode != 0:
            raise AssertionError("check_seq: " + line)
        return line

    def __exit__(self, et, ev, tb):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        for st in self.stores:
            if et is not None:
                sys.stderr.write("--- store log %s ---\n%s\n" % (st.log_path, st.log()[-4000:]))
            st.kill()
        if os.environ.get("KEEP") == "1":
            sys.stderr.write("kept %s\n" % self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
        return False
