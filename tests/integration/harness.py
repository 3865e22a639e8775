# SPDX-License-Identifier: Apache-2.0
"""The one integration-test harness: starts and stops sluice-store and
sluice-agent on free 127.0.0.1 ports, decides readiness by probing (the port
must be listening *in the started process*, so a port taken by a neighbour
test is noticed), keeps every daemon's log and prints it when a test fails,
and kills everything it started by PID, even when the test raises.

Python tests (run with /usr/bin/python3, which has kafka-python and
confluent-kafka):

    from harness import Env, Agent, wait_until, result
    with Env() as env:
        store = env.start_store()                 # ready="both" | "kafka" | "http"
        agent = env.agent(store_config(env, store, logs)).start()
        wait_until(lambda: store_records(store, "app") >= n, 60, "n records")

Shell tests reach the same code through lib.sh, which runs this file as a
command (`harness.py store-cmd`, `wait-ready`, `wait-stream`).  The runner
(run.sh -> runner.py) runs two tests at a time; a test whose first lines
hold `# harness: serial` runs alone, `# harness: quick` puts it in
`make check`'s tier.

The older modules sluicetest, kafkatest, httptest and agentkit re-export
these names so tests written against them keep working.
"""
import json
import os
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.environ.get("SLUICE_BIN") or os.path.join(HERE, "../../build/bin")
TOP = os.environ.get("SLUICE_TOP") or os.path.abspath(os.path.join(HERE, "../.."))
SHARED = os.environ.get("SLUICE_SHARED") or os.path.join(TOP, "../shared")
READY = ("both", "kafka", "http")
START_TRIES = 4  # fresh ports when a neighbour took ours between probe and bind


# ---------------------------------------------------------------- waiting

def wait_until(pred, timeout, what, step=0.1):
    """Poll pred() until it is true; AssertionError after timeout seconds."""
    deadline = time.time() + timeout
    while True:
        if pred():
            return
        if time.time() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(step)


wait_for = wait_until  # kafkatest's name for the same function


def result(msg):
    print("RESULT " + msg, flush=True)


# ---------------------------------------------------------------- ports

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_port(port, timeout=20.0, proc=None):
    """Until something accepts on 127.0.0.1:port (and proc, if given, lives)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("process exited with %s before listening on %d"
                               % (proc.returncode, port))
        if port_open(port):
            return
        time.sleep(0.05)
    raise RuntimeError("nothing listening on port %d after %.0fs" % (port, timeout))


def _listen_inodes(port, proto="tcp"):
    """Inodes of the sockets listening on TCP port (state LISTEN), or bound
    to UDP port (state 07, unconnected); IPv4 and IPv6 tables."""
    out = set()
    state = "0A" if proto == "tcp" else "07"
    for table in ("/proc/net/%s" % proto, "/proc/net/%s6" % proto):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    p = line.split()
                    if p[3] == state and int(p[1].rsplit(":", 1)[1], 16) == port:
                        out.add(p[9])
        except OSError:
            pass
    return out


def _pid_inodes(pid):
    out = set()
    try:
        fds = os.listdir("/proc/%d/fd" % pid)
    except OSError:
        return out
    for fd in fds:
        try:
            link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if link.startswith("socket:["):
            out.add(link[8:-1])
    return out


def listens(pid, port, proto="tcp"):
    """True when process pid itself holds the socket listening on TCP port
    (proto "udp": the socket bound to UDP port)."""
    inodes = _listen_inodes(port, proto)
    return bool(inodes) and bool(inodes & _pid_inodes(pid))


class StartError(RuntimeError):
    """A daemon exited or never became ready; .port_taken when its log says
    a port was already in use (the caller may retry on fresh ports)."""

    def __init__(self, msg, port_taken=False):
        super().__init__(msg)
        self.port_taken = port_taken


def _tail(path, since=0, limit=3000):
    try:
        with open(path, "rb") as f:
            f.seek(since)
            return f.read().decode(errors="replace")[-limit:]
    except OSError:
        return ""


def _health_ok(port):
    """The HTTP API answers /health (any status: the listener is serving)."""
    import urllib.error
    import urllib.request
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/health" % port, timeout=1) as r:
            r.read()
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def _logged(path, since, text):
    try:
        with open(path, "rb") as f:
            f.seek(since)
            return text.encode() in f.read()
    except OSError:
        return False


def wait_ready(pid, kafka_port=None, http_port=None, ready="both", timeout=30.0, log=None,
               log_from=0, alive=None):
    """Until process pid listens on its ports: ready "kafka" (Kafka port),
    "http" (HTTP port answers /health), "both" (both ports), "agent" (the
    HTTP port, and the log says "sluice-agent running" since log_from: the
    agent binds its HTTP port before it starts its outputs and inputs, and
    a test that changes their files at once would race their start).
    alive() -> bool says whether the process still runs (default: /proc/pid
    exists and is not a zombie).  StartError otherwise."""
    if alive is None:
        def alive():
            try:
                with open("/proc/%d/stat" % pid) as f:
                    return f.read().rsplit(")", 1)[1].split()[0] != "Z"
            except OSError:
                return False
    ports = {"kafka": [kafka_port], "http": [http_port], "both": [kafka_port, http_port],
             "agent": [http_port]}[ready]
    deadline = time.time() + timeout
    while True:
        if all(listens(pid, p) for p in ports) and (ready != "http" or _health_ok(http_port)) \
                and (ready != "agent" or not log or _logged(log, log_from, "sluice-agent running")):
            return
        if not alive():
            text = _tail(log, log_from) if log else ""
            raise StartError("process %d exited before it was ready on %s:\n%s"
                             % (pid, ports, text), port_taken="Address already in use" in text)
        if time.time() >= deadline:
            raise StartError("process %d not ready on %s after %.0fs:\n%s"
                             % (pid, ports, timeout, _tail(log, log_from) if log else ""))
        time.sleep(0.05)


def _log_size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


# ---------------------------------------------------------------- store

def store_argv(data_dir, kafka_port, http_port, args=()):
    return ([os.path.join(BIN, "sluice-store"), "--data-dir", data_dir,
             "--kafka-listen", "127.0.0.1:%d" % kafka_port,
             "--http-listen", "127.0.0.1:%d" % http_port] + list(args))


class Store:
    """One sluice-store.  ready: "both" (both listeners, the default),
    "kafka" (tests that do not need the HTTP API), "http" (/health answers).
    start() keeps the ports across restarts; only the first start may move
    to fresh ports when a neighbour took one."""

    ready = "both"

    def __init__(self, env, data_dir, args, ready=None, preexec_fn=None):
        self.env = env
        self.data_dir = data_dir
        self.args = list(args)
        self.preexec_fn = preexec_fn  # run in the child before exec (limits, umask)
        if ready is not None:
            self.ready = ready
        self.kafka_port = free_port()
        self.http_port = free_port()
        self.proc = None
        self.started = False
        self.log_path = os.path.join(env.dir, "store-%d.log" % self.kafka_port)

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.http_port

    @property
    def bootstrap(self):
        return "127.0.0.1:%d" % self.kafka_port

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def start(self, timeout=30):
        os.makedirs(self.data_dir, exist_ok=True)
        tries = 1 if self.started else START_TRIES
        for attempt in range(tries):
            since = _log_size(self.log_path)
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen(
                    store_argv(self.data_dir, self.kafka_port, self.http_port, self.args),
                    stdout=log, stderr=subprocess.STDOUT, preexec_fn=self.preexec_fn)
            try:
                wait_ready(self.proc.pid, self.kafka_port, self.http_port, self.ready, timeout,
                           self.log_path, since, alive=lambda: self.proc.poll() is None)
                self.started = True
                return self
            except StartError as e:
                self.stop(signal.SIGKILL)
                if not e.port_taken or attempt == tries - 1:
                    raise RuntimeError("store: %s" % e) from None
                self.kafka_port, self.http_port = free_port(), free_port()
        raise AssertionError("unreachable")

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

    def kafka_listening(self):
        return port_open(self.kafka_port)

    def log(self):
        return _tail(self.log_path, 0, 1 << 30)


class KafkaStore(Store):
    ready = "kafka"


class HttpStore(Store):
    ready = "http"


def write_conf(env, text, name="store.yaml"):
    path = env.path(name)
    with open(path, "w") as f:
        f.write(text)
    return path


def restart(store, kill=False):
    """Stop (TERM, or KILL) and start again on the same ports and data."""
    return store.restart(kill=kill)


# ---------------------------------------------------------------- agent

class Agent:
    """One sluice-agent.  config is YAML text in which @HTTP@ becomes
    127.0.0.1:<a free port> (its metrics/health listener, probed for
    readiness); it is written to <env>/<name>.yaml."""

    def __init__(self, env, config, name="agent"):
        self.env = env
        self.name = name
        self.http_port = free_port()
        self.conf_path = env.path(name + ".yaml")
        self.log_path = env.path(name + ".log")
        self.config = config
        self.write_config(config)
        self.proc = None
        self.started = False
        if self not in env.agents:
            env.agents.append(self)

    def write_config(self, config):
        self.config = config
        with open(self.conf_path, "w") as f:
            f.write(config.replace("@HTTP@", "127.0.0.1:%d" % self.http_port))

    def start(self, wait=True, preexec_fn=None, timeout=30):
        tries = START_TRIES if wait and not self.started else 1
        for attempt in range(tries):
            since = _log_size(self.log_path)
            with open(self.log_path, "ab") as log:
                self.proc = self.env.spawn(
                    [os.path.join(BIN, "sluice-agent"), "-c", self.conf_path],
                    stdout=log, stderr=subprocess.STDOUT, preexec_fn=preexec_fn)
            if not wait:
                return self
            try:
                wait_ready(self.proc.pid, http_port=self.http_port, ready="agent",
                           timeout=timeout, log=self.log_path, log_from=since,
                           alive=lambda: self.proc.poll() is None)
                self.started = True
                return self
            except StartError as e:
                self.kill()
                if not e.port_taken or attempt == tries - 1 or "@HTTP@" not in self.config:
                    raise RuntimeError("agent %s: %s" % (self.name, e)) from None
                self.http_port = free_port()
                self.write_config(self.config)
        raise AssertionError("unreachable")

    def wait_listening(self, tcp=(), udp=(), timeout=30):
        """Until the agent's own inputs listen on these ports: its HTTP
        listener (what start() awaits) may come up before them."""
        for proto, ports in (("tcp", tcp), ("udp", udp)):
            for port in ports:
                wait_until(lambda: (listens(self.proc.pid, port, proto)
                                    or self.proc.poll() is not None),
                           timeout, "agent %s to listen on %s port %d" % (self.name, proto, port),
                           step=0.05)
                if self.proc.poll() is not None:
                    raise RuntimeError("agent %s exited with %s:\n%s"
                                       % (self.name, self.proc.returncode, _tail(self.log_path)))
        return self

    def signal(self, sig):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)

    def kill(self):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.kill()
        rc = self.proc.wait()
        self.proc = None
        return rc

    def term(self, timeout=60):
        if self.proc is None:
            return None
        self.signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("agent did not stop within %ds of SIGTERM" % timeout)
        self.proc = None
        return rc

    def metrics(self):
        import urllib.request
        url = "http://127.0.0.1:%d/metrics" % self.http_port
        with urllib.request.urlopen(url, timeout=10) as r:
            text = r.read().decode()
        out = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                k, _, v = line.rpartition(" ")
                out[k] = float(v)
        return out

    def metric(self, name, default=0.0):
        return self.metrics().get(name, default)

    def log(self):
        return _tail(self.log_path, 0, 1 << 30)


def store_config(env, store, logs, extra_agent="", extra_output="", multiline=True,
                 read_from_head=True, url=None, data=None, input_id="app", extra_input=""):
    """An agent tailing logs/*.log (input input_id) into the store output
    "central"; url defaults to the store's, data to env's agent-data."""
    # the product's default flush: the test writers cut events at any byte,
    # and a writer thread stalled longer than flush_ms (a busy machine) would
    # split an event in two
    ml = "    multiline: { start: '^[0-9{]', flush_ms: 1000 }\n" if multiline else ""
    return ("agent:\n  data_dir: %s\n  http: { listen: @HTTP@ }\n  shutdown_timeout: 10s\n%s"
            "inputs:\n  - id: %s\n    type: tail\n    paths: [%s/*.log]\n"
            "    read_from_head: %s\n%s%s"
            "outputs:\n  - id: central\n    type: store\n    url: %s\n"
            "    retry: { initial_delay: 50ms, max_delay: 1s }\n%s"
            % (data or env.path("agent-data"), extra_agent, input_id, logs,
               "true" if read_from_head else "false", ml, extra_input, url or store.url,
               extra_output))


# ---------------------------------------------------------------- environment

class Env:
    """A private temp dir and everything a test starts in it.  On exit every
    store, agent and spawned process is killed by PID; when the test raised,
    the tail of each daemon's log is printed first.  KEEP=1 keeps the dir."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="sluice-it.")
        self.procs = []
        self.stores = []
        self.agents = []

    def __enter__(self):
        return self

    def start_store(self, *args, data_dir=None, conf=None, ready=None, preexec_fn=None):
        """Start a sluice-store; conf is store.yaml text (written to the dir)."""
        args = list(args)
        if conf is not None:
            args = ["-c", write_conf(self, conf, "store%d.yaml" % len(self.stores))] + args
        st = Store(self, data_dir or os.path.join(self.dir, "store%d" % len(self.stores)), args,
                   ready=ready, preexec_fn=preexec_fn)
        self.stores.append(st)
        return st.start()

    def agent(self, config, name="agent"):
        return Agent(self, config, name=name)

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
                sys.stderr.write("--- store log %s ---\n%s\n"
                                 % (st.log_path, _tail(st.log_path, 0, 4000)))
            st.kill()
        if et is not None:
            for a in self.agents:
                sys.stderr.write("--- agent log %s ---\n%s\n"
                                 % (a.log_path, _tail(a.log_path, 0, 4000)))
        if et is not None:
            # last, so the runner's tail of the output shows what failed
            sys.stderr.write("--- failed: %s: %s\n" % (et.__name__, str(ev)[:2000]))
        if os.environ.get("KEEP") == "1":
            sys.stderr.write("kept %s\n" % self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
        return False


def start_store(env, *args, conf=None, data_dir=None, ready="both"):
    """Module-level form of Env.start_store (kafkatest/httptest pick ready)."""
    return env.start_store(*args, conf=conf, data_dir=data_dir, ready=ready)


# ---------------------------------------------------------------- data

class Writer(threading.Thread):
    """Append src to dst at about `rate` bytes/s in chunks that end anywhere
    (mid-line too), like an application writing its log."""

    def __init__(self, src, dst, rate, chunk=65536):
        super().__init__(daemon=True)
        self.src, self.dst, self.rate, self.chunk = src, dst, rate, chunk
        self.done = threading.Event()
        self.error = None

    def run(self):
        try:
            with open(self.src, "rb") as s, open(self.dst, "ab", buffering=0) as d:
                t0 = time.time()
                sent = 0
                while True:
                    b = s.read(self.chunk)
                    if not b:
                        break
                    d.write(b)
                    sent += len(b)
                    ahead = sent / self.rate - (time.time() - t0)
                    if ahead > 0:
                        time.sleep(ahead)  # pacing the writer, not awaiting a condition
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = e
        finally:
            self.done.set()


def corpus(env, path, size, *args):
    """Generate a corpus; returns its event count."""
    r = subprocess.run(["/usr/bin/python3", os.path.join(SHARED, "bench/gen_corpus.py"), path,
                        str(size)] + list(args), capture_output=True, check=True)
    return int(r.stderr.split()[0])


def values_from_ndjson(data):
    """NDJSON records -> (list of value strings)."""
    vals = []
    for line in data.splitlines():
        if not line.strip():
            continue
        o = json.loads(line)
        if "error" in o and "value" not in o:
            raise AssertionError("replay error: %s" % line[:200])
        vals.append(o["value"])
    return vals


def java_events_ok(values):
    """Every Java trace is one record: its first line with seq= and its three
    continuation lines.  Returns the number of traces."""
    n = 0
    for v in values:
        if "java.lang.IllegalStateException" in v:
            lines = v.split("\n")
            if len(lines) != 4 or "seq=" not in lines[0] or not lines[2].startswith("\tat "):
                raise AssertionError("java trace split or merged: %r" % v[:300])
            n += 1
        elif "\tat " in v:
            raise AssertionError("stack frame outside its event: %r" % v[:200])
    return n


def run_parallel(*calls):
    """Run (fn, args...) tuples on their own threads at once; returns their
    results in order, or raises the first exception one of them raised."""
    out, errors = [None] * len(calls), []

    def one(i, fn, args):
        try:
            out[i] = fn(*args)
        except BaseException as e:  # noqa: BLE001 - re-raised below
            errors.append(e)
    threads = [threading.Thread(target=one, args=(i, c[0], c[1:])) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return out


# ---------------------------------------------------------------- kcat and the store's HTTP API

def _kcat(bootstrap, topic, fmt, timeout):
    r = subprocess.run(["kcat", "-b", bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-q"]
                       + fmt, capture_output=True, timeout=timeout)
    if r.returncode != 0:
        raise AssertionError("kcat failed: %s" % r.stderr.decode(errors="replace")[-500:])
    return r.stdout


def kcat_records(bootstrap, topic, timeout=300):
    """Every record of topic from the beginning, over the Kafka protocol, as
    kcat -J envelopes (key, payload, headers, partition, offset...)."""
    return [json.loads(line) for line in _kcat(bootstrap, topic, ["-J"], timeout).splitlines()
            if line.strip()]


def kcat_records_lossy(bootstrap, topic, timeout=300):
    """kcat_records() for topics with binary values: kcat -J prints those
    bytes raw, so each line is decoded with U+FFFD for invalid UTF-8."""
    return [json.loads(line.decode("utf-8", "replace"))
            for line in _kcat(bootstrap, topic, ["-J"], timeout).splitlines() if line.strip()]


def kcat_keys_values(bootstrap, topic, timeout=300):
    """Every record's (key, value) from the beginning, over the Kafka protocol,
    multi-line values whole.  kcat frames each record with the lengths of its
    key and value (-f '%K %S'), which is several times faster to read back
    than -J's JSON for a million records; NULL keys and values read as ""."""
    d, i, out = _kcat(bootstrap, topic, ["-f", "%K %S\\n%k%s\\n"], timeout), 0, []
    while i < len(d):
        j = d.index(b"\n", i)
        kl, vl = (int(x) for x in d[i:j].split(b" "))
        i = j + 1
        k = d[i:i + kl].decode("utf-8", "replace") if kl > 0 else ""
        i += max(kl, 0)
        v = d[i:i + vl].decode("utf-8", "replace") if vl > 0 else ""
        i += max(vl, 0)
        if d[i:i + 1] != b"\n":
            raise AssertionError("kcat output out of frame at byte %d" % i)
        i += 1
        out.append((k, v))
    return out


def kcat_values(bootstrap, topic, timeout=300):
    """Every record value, multi-line values whole."""
    return [v for _, v in kcat_keys_values(bootstrap, topic, timeout)]


def store_records(store, topic):
    """Records the store holds for topic (-1 while it is down or the topic
    does not exist yet)."""
    import urllib.request
    try:
        with urllib.request.urlopen("%s/v1/topics/%s" % (store.url, topic), timeout=10) as r:
            return json.loads(r.read()).get("records", 0)
    except Exception:  # noqa: BLE001 - down or not created yet
        return -1


def request(store, method, path, body=None, headers=None, timeout=60):
    """One HTTP request to the store: (status, body bytes)."""
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", store.http_port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def get_json(store, path):
    status, body = request(store, "GET", path)
    if status != 200:
        raise AssertionError("GET %s: %d %s" % (path, status, body[:300]))
    return json.loads(body)


# ---------------------------------------------------------------- Kafka protocol

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
        from kafka.protocol.api import RequestHeader  # only the Kafka tests need kafka-python
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


# ---------------------------------------------------------------- shell CLI

def stream_received(pid, port, keepalive=False):
    """True when a TCP connection of process pid to 127.0.0.1:port has
    received bytes: the store answered, so a follow request is in place.
    keepalive: only connections with SO_KEEPALIVE count (how the sluice CLI
    and curl open streams, unlike the CLI's one-shot requests)."""
    r = subprocess.run(["ss", "-Htnpio", "state", "established", "dport", "= :%d" % port],
                       capture_output=True, text=True)
    conns, cur = [], None
    for line in r.stdout.splitlines():
        if not line[:1].isspace():
            cur = [line]
            conns.append(cur)
        elif cur is not None:
            cur.append(line)
    for c in conns:
        info = " ".join(c)
        if "pid=%d," % pid not in info or (keepalive and "timer:(keepalive" not in info):
            continue
        for w in info.split():
            if w.startswith("bytes_received:") and int(w.split(":")[1]) > 0:
                return True
    return False


def _cli(argv):
    import argparse
    ap = argparse.ArgumentParser(prog="harness.py")
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("store-cmd", help="print shell assignments: ports, STORE_URL, STORE_ARGV")
    a.add_argument("--data-dir", required=True)
    a.add_argument("--kafka-port", type=int)
    a.add_argument("--http-port", type=int)
    a.add_argument("args", nargs="*")
    a = sub.add_parser("wait-ready", help="until PID listens; exit 3 if a port was taken")
    a.add_argument("--pid", type=int, required=True)
    a.add_argument("--kafka-port", type=int)
    a.add_argument("--http-port", type=int)
    a.add_argument("--ready", choices=READY + ("agent",), default="both")
    a.add_argument("--log")
    a.add_argument("--log-from", type=int, default=0)
    a.add_argument("--timeout", type=float, default=30)
    a = sub.add_parser("wait-stream", help="until PID's connection to PORT received bytes")
    a.add_argument("--pid", type=int, required=True)
    a.add_argument("--port", type=int, required=True)
    a.add_argument("--keepalive", action="store_true")
    a.add_argument("--timeout", type=float, default=30)
    a = sub.add_parser("free-port")
    o = ap.parse_args(argv)
    if o.cmd == "store-cmd":
        kp, hp = o.kafka_port or free_port(), o.http_port or free_port()
        print("KAFKA_PORT=%d HTTP_PORT=%d STORE_URL=http://127.0.0.1:%d" % (kp, hp, hp))
        print("STORE_ARGV=(%s)" % " ".join(shlex.quote(w) for w in
                                            store_argv(o.data_dir, kp, hp, o.args)))
        return 0
    if o.cmd == "wait-ready":
        try:
            wait_ready(o.pid, o.kafka_port, o.http_port, o.ready, o.timeout, o.log, o.log_from)
        except StartError as e:
            sys.stderr.write("%s\n" % e)
            return 3 if e.port_taken else 1
        return 0
    if o.cmd == "wait-stream":
        try:
            wait_until(lambda: stream_received(o.pid, o.port, o.keepalive), o.timeout,
                       "process %d's stream from port %d" % (o.pid, o.port))
        except AssertionError as e:
            sys.stderr.write("%s\n" % e)
            return 1
        return 0
    if o.cmd == "free-port":
        print(free_port())
        return 0
    return 2


class Pki:
    """A test CA and certificates signed by it, all with the openssl CLI, in
    directory d: ca.{crt,key} and other-ca.{crt,key} (an unknown CA), then
    issue() for server ("server" extensions: localhost, 127.0.0.1) and
    client ("client") certificates.  Moved here from test_store_tls.py so
    the syslog TLS test and bench_sasl_ssl.py share it."""

    def __init__(self, d):
        self.d = d
        os.makedirs(os.path.join(d, "newcerts"), exist_ok=True)
        open(self.p("index.txt"), "w").close()
        with open(self.p("serial"), "w") as f:
            f.write("1000\n")
        with open(self.p("ca.cnf"), "w") as f:
            f.write("[ca]\ndefault_ca = d\n[d]\ndir = %s\ndatabase = $dir/index.txt\n"
                    "new_certs_dir = $dir/newcerts\nserial = $dir/serial\ndefault_md = sha256\n"
                    "policy = any\nunique_subject = no\n[any]\ncommonName = supplied\n"
                    "organizationName = optional\n[server]\nsubjectAltName = "
                    "DNS:localhost,IP:127.0.0.1\nextendedKeyUsage = serverAuth\n"
                    "[client]\nextendedKeyUsage = clientAuth\n" % d)
        self.ca("ca")
        self.ca("other-ca")

    @staticmethod
    def _sh(argv):
        return subprocess.run(argv, check=True, capture_output=True, timeout=60)

    def p(self, name):
        return os.path.join(self.d, name)

    def ca(self, name):
        self._sh(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                  "ec_paramgen_curve:P-256", "-nodes", "-keyout", self.p(name + ".key"),
                  "-out", self.p(name + ".crt"), "-days", "30", "-subj", "/CN=Sluice test " + name])

    def issue(self, name, subj, ext, ca="ca", start=None, end=None):
        """Key and certificate name.{key,crt}; start/end as YYYYMMDDHHMMSSZ."""
        self._sh(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                  "-nodes", "-keyout", self.p(name + ".key"), "-out", self.p(name + ".csr"),
                  "-subj", subj])
        argv = ["openssl", "ca", "-batch", "-notext", "-preserveDN", "-config", self.p("ca.cnf"),
                "-cert", self.p(ca + ".crt"), "-keyfile", self.p(ca + ".key"),
                "-in", self.p(name + ".csr"), "-out", self.p(name + ".crt"), "-extensions", ext]
        argv += ["-startdate", start, "-enddate", end] if start else ["-days", "30"]
        self._sh(argv)
        return self.p(name + ".crt"), self.p(name + ".key")

    def der(self, name):
        import ssl
        return ssl.PEM_cert_to_DER_cert(open(self.p(name + ".crt")).read())


if __name__ == "__main__":
    sys.exit(_cli(sys.argv[1:]))


# ---------------------------------------------------------------- client compatibility
# (after the CLI entry point so it stays at the end of the file; importers see it)

def record_compat(client, version, check, result):
    """Append one check's outcome to $SLUICE_COMPAT_DIR/<client>.jsonl
    (default build/compat/): result is "pass", "fail[: why]" or
    "skip: <why>".  scripts/kafka_matrix.py renders these into the client
    compatibility matrix of docs/KAFKA.md and checks that table."""
    d = os.environ.get("SLUICE_COMPAT_DIR") or os.path.join(TOP, "build", "compat")
    os.makedirs(d, exist_ok=True)
    name = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in client)
    line = json.dumps({"client": client, "version": version, "check": check,
                       "result": result}) + "\n"
    with open(os.path.join(d, name + ".jsonl"), "a") as f:  # one write: lines never interleave
        f.write(line)


def compat_run(client, version, check, fn):
    """Run a test's main fn and record its outcome as one compat check:
    pass when it returns 0/None, fail when it returns non-zero or raises."""
    try:
        rc = fn()
    except BaseException as e:
        record_compat(client, version, check, "fail: %s" % (str(e).splitlines() or [""])[0][:200])
        raise
    record_compat(client, version, check, "fail: exit %s" % rc if rc else "pass")
    return rc


def compat_checks(env, argv, out, client, version, n, codecs, timeout=120):
    """Run a client tool (tests/go, tests/python) that prints one JSON line
    per check ({"check", "result": "pass" | "fail" | "skip: why", "detail"})
    and writes the values its group consumed to out; record every check, then
    check_seq the consumed numbered events, whole and per codec (each event
    holds " codec=NAME ", codec i has events i*per .. (i+1)*per-1, per =
    n // len(codecs)).  Prints each outcome; returns the failed checks."""
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if r.stderr.strip():
        sys.stderr.write(r.stderr[-3000:] + "\n")
    lines = [json.loads(ln) for ln in r.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise AssertionError("%s: no checks reported (exit %d)" % (client, r.returncode))
    outcomes = []
    for ln in lines:
        res = ln["result"] if ln["result"] != "fail" else "fail: " + ln.get("detail", "")
        outcomes.append((ln["check"], res))
    data = b""
    if os.path.exists(out):
        with open(out, "rb") as f:
            data = f.read()
    per = n // len(codecs)
    parts = [("group-consumed events exactly once (check_seq)", data, 0, n)]
    for i, c in enumerate(codecs):
        mine = [ln for ln in data.splitlines() if (" codec=%s " % c).encode() in ln]
        parts.append(("%s events exactly once (check_seq)" % c, b"\n".join(mine) + b"\n",
                      i * per, per))
    for check, blob, start, expect in parts:
        cs = subprocess.run([sys.executable, os.path.join(SHARED, "bench/check_seq.py"),
                             "--start-seq", str(start), "--expect", str(expect)],
                            input=blob, capture_output=True)
        outcomes.append((check, "pass" if cs.returncode == 0 else
                         "fail: " + cs.stdout.decode().strip()))
    failed = []
    counts = {"pass": 0, "fail": 0, "skip": 0}
    for check, res in outcomes:
        record_compat(client, version, check, res)
        kind = res.split(":")[0]
        counts[kind] += 1
        print("  %s: %s" % (check, res), flush=True)
        if kind == "fail":
            failed.append(check)
    if r.returncode != 0 and not failed:
        failed.append("%s exit %d" % (client, r.returncode))
    result("%s %s: %d passed, %d failed, %d skipped"
           % (client, version, counts["pass"], counts["fail"], counts["skip"]))
    return failed
