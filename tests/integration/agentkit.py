# SPDX-License-Identifier: Apache-2.0
"""Helpers for the agent's integration tests (used with sluicetest.Env).

    from agentkit import Agent, Writer, corpus
    agent = Agent(env, config_text)   # writes agent.yaml, start()/kill()/term()
    w = Writer(src, dst, rate)        # copies a corpus into a growing file

Records are checked with check_seq.py: `values_from_ndjson()` turns the
store's replay NDJSON (or the file output's NDJSON) into one value per record,
and `java_events_ok()` proves multi-line Java traces stayed one record each.
"""
import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.request

from sluicetest import BIN, free_port, wait_port


class Agent:
    def __init__(self, env, config, name="agent"):
        self.env = env
        self.name = name
        self.http_port = free_port()
        self.conf_path = env.path(name + ".yaml")
        self.log_path = env.path(name + ".log")
        self.write_config(config)
        self.proc = None

    def write_config(self, config):
        with open(self.conf_path, "w") as f:
            f.write(config.replace("@HTTP@", "127.0.0.1:%d" % self.http_port))

    def start(self, wait=True, preexec_fn=None):
        log = open(self.log_path, "ab")
        self.proc = self.env.spawn([os.path.join(BIN, "sluice-agent"), "-c", self.conf_path],
                                   stdout=log, stderr=subprocess.STDOUT, preexec_fn=preexec_fn)
        log.close()
        if wait:
            wait_port(self.http_port, 30, self.proc)
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
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.http_port, timeout=10) as r:
            text = r.read().decode()
        out = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                k, _, v = line.rpartition(" ")
                out[k] = float(v)
        return out

    def metric(self, name, default=0.0):
        m = self.metrics()
        return m.get(name, default)

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""


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
                        time.sleep(ahead)
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = e
        finally:
            self.done.set()


def corpus(env, path, size, *args):
    """Generate a corpus; returns its event count."""
    r = subprocess.run(["/usr/bin/python3", os.path.join(os.environ.get("SLUICE_SHARED", ""),
                                                         "bench/gen_corpus.py"), path, str(size)]
                       + list(args), capture_output=True, check=True)
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


def wait_until(pred, timeout, what, step=0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(step)
    raise AssertionError("timed out after %ds waiting for %s" % (timeout, what))


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def kcat_records(bootstrap, topic, timeout=300):
    """Every record of topic from the beginning, over the Kafka protocol, as
    kcat -J envelopes (key, payload, headers, partition, offset...)."""
    r = subprocess.run(["kcat", "-b", bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-q",
                        "-J"], capture_output=True, timeout=timeout)
    if r.returncode != 0:
        raise AssertionError("kcat failed: %s" % r.stderr.decode(errors="replace")[-500:])
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


def kcat_records_lossy(bootstrap, topic, timeout=300):
    """kcat_records() for topics with binary values: kcat -J prints those
    bytes raw, so each line is decoded with U+FFFD for invalid UTF-8."""
    r = subprocess.run(["kcat", "-b", bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-q",
                        "-J"], capture_output=True, timeout=timeout)
    if r.returncode != 0:
        raise AssertionError("kcat failed: %s" % r.stderr.decode(errors="replace")[-500:])
    return [json.loads(line.decode("utf-8", "replace")) for line in r.stdout.splitlines()
            if line.strip()]


def kcat_keys_values(bootstrap, topic, timeout=300):
    """Every record's (key, value) from the beginning, over the Kafka protocol,
    multi-line values whole.  kcat frames each record with the lengths of its
    key and value (-f '%K %S'), which is several times faster to read back
    than -J's JSON for a million records; NULL keys and values read as ""."""
    r = subprocess.run(["kcat", "-b", bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-q",
                        "-f", "%K %S\\n%k%s\\n"], capture_output=True, timeout=timeout)
    if r.returncode != 0:
        raise AssertionError("kcat failed: %s" % r.stderr.decode(errors="replace")[-500:])
    d, i, out = r.stdout, 0, []
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
    """Records the store holds for topic (0 when it does not exist yet)."""
    try:
        with urllib.request.urlopen("%s/v1/topics/%s" % (store.url, topic), timeout=10) as r:
            return json.loads(r.read()).get("records", 0)
    except Exception:  # noqa: BLE001 - down or not created yet
        return -1


def store_config(env, store, logs, extra_agent="", extra_output="", multiline=True,
                 read_from_head=True, url=None, data=None, input_id="app", extra_input=""):
    """An agent tailing logs/*.log (input input_id) into the store output
    "central"; url defaults to the store's, data to env's agent-data."""
    ml = "    multiline: { start: '^[0-9{]', flush_ms: 300 }\n" if multiline else ""
    return ("agent:\n  data_dir: %s\n  http: { listen: @HTTP@ }\n  shutdown_timeout: 10s\n%s"
            "inputs:\n  - id: %s\n    type: tail\n    paths: [%s/*.log]\n"
            "    read_from_head: %s\n%s%s"
            "outputs:\n  - id: central\n    type: store\n    url: %s\n"
            "    retry: { initial_delay: 50ms, max_delay: 1s }\n%s"
            % (data or env.path("agent-data"), extra_agent, input_id, logs,
               "true" if read_from_head else "false", ml, extra_input, url or store.url,
               extra_output))
