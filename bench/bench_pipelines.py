# SPDX-License-Identifier: Apache-2.0
"""bench/pipelines: the central consumers of issue 20.

1. Rule matching alone: bench/alert_match feeds every line of the corpus to
   the alert rule engine with 100 rules (10 that match common lines, 3 of
   them grouped by a JSON field, and 90 rare ones; each with a required
   literal the prefilter finds) and prints MB/s of log lines per core.
2. The same 100 rules in the agent: the corpus on stdin into the
   `alertmanager` output (its Alertmanager address refuses connections; no
   alert fires with these thresholds except the rare ones, which never
   match) against the same pipeline into the `null` output; the agent's CPU
   seconds (user + sys) of both and their ratio (goal <= 1.5).
3. The kafka input: the corpus loaded into sluice-store (4 partitions,
   bench/replay_load), then an agent consuming it with `type: kafka` into
   the `null` output; MB/s of record values from start to the last record.

Also `zstd -b1` on the corpus as the machine's speed (see bench_agent_tail).
  BENCH_SIZE=64M  corpus size (cached in BENCH_CACHE)
  BENCH_KAFKA_ONLY=1  only the kafka input
"""
import os
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request

TOP = os.environ.get("SLUICE_TOP") or os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(TOP, "tests/integration"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_agent_tail import corpus, zstd_speed  # noqa: E402
from sluicetest import free_port, wait_port  # noqa: E402

BIN = os.environ.get("SLUICE_BIN") or os.path.join(TOP, "build/bin")
BENCH_BIN = os.environ.get("SLUICE_BENCH_BIN") or os.path.join(TOP, "build/bench")

WORDS = ["kernel", "oom", "panic", "segfault", "upstream", "deadlock", "quota", "refused",
         "timeout", "corrupt", "zombie", "xid", "vanished", "jitter", "backlog", "nack",
         "evicted", "fenced", "garbage", "illegal", "mutex", "lease", "worker", "yield",
         "breaker", "throttle", "wal", "ghost", "handoff", "schema"]
REAL = [('"level": "error"', "svc"), ('HTTP/1.1" 500 ', None), ('"GET /login', None),
        ('"svc": "billing"', None), ('python-requests', None), ('IllegalStateException', None),
        ('"ms": 9\\d\\d', "svc"), ('/cart/checkout', None), ('"level": "warn"', "svc"),
        ('iPhone OS 17', None)]


def write_rules(path):
    out = ["rules:"]
    for i, (m, g) in enumerate(REAL):
        out.append("  - name: real%d\n    match: '%s'\n%s    condition: count > 100000000 in 5m"
                   % (i, m.replace("'", "''"), "    group_by: [%s]\n" % g if g else ""))
    for i in range(90):
        out.append("  - name: rare%d\n    match: '%s_%d (failed|lost) [0-9]+'\n"
                   "    condition: count > 0 in 1m" % (i, WORDS[i % len(WORDS)], i))
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def agent_cpu(conf, stdin_path, tmp, name):
    """Run an agent with its stdin at the corpus until it exits; CPU s, wall s."""
    cpath = os.path.join(tmp, "agent-" + name + ".yaml")
    with open(cpath, "w") as f:
        f.write(conf.replace("@HTTP@", "127.0.0.1:%d" % free_port()))
    t0 = time.time()
    with open(stdin_path, "rb") as inp, open(os.path.join(tmp, name + ".log"), "wb") as log:
        p = subprocess.Popen([os.path.join(BIN, "sluice-agent"), "-c", cpath], stdin=inp,
                             stdout=log, stderr=subprocess.STDOUT)
        _, status, ru = os.wait4(p.pid, 0)
    wall = time.time() - t0
    if status != 0:
        with open(os.path.join(tmp, name + ".log"), errors="replace") as f:
            sys.stderr.write(f.read()[-3000:])
        raise SystemExit("agent %s exited with status %d" % (name, status))
    return ru.ru_utime + ru.ru_stime, wall


PIPE = """
agent:
  data_dir: {tmp}/{name}-data
  http: {{ listen: @HTTP@ }}
inputs:
  - id: in
    type: stdin
outputs:
{out}
"""


def rules_ratio(path, size, tmp):
    rules = os.path.join(tmp, "rules.yaml")
    write_rules(rules)
    r = subprocess.run([os.path.join(BENCH_BIN, "alert_match"), rules, path, "3"],
                       capture_output=True, text=True, check=True)
    print("alert_match (engine alone, 100 rules): " + r.stdout.strip())
    one = os.path.join(tmp, "one.yaml")
    with open(one, "w") as f:
        f.write("rules:\n  - name: any\n    condition: count > 100000000 in 5m\n")
    null = "  - id: out\n    type: \"null\"\n    compression: none\n"
    am = ("  - id: out\n    type: alertmanager\n    url: http://127.0.0.1:%d\n"
          "    compression: none\n    rules: %%s\n" % free_port())
    base = agent_cpu(PIPE.format(tmp=tmp, name="null", out=null), path, tmp, "null")
    r1 = agent_cpu(PIPE.format(tmp=tmp, name="one", out=am % one), path, tmp, "one")
    r100 = agent_cpu(PIPE.format(tmp=tmp, name="rules", out=am % rules), path, tmp, "rules")
    mb = size / 1e6
    print("agent stdin -> null: %.2f CPU s (%.0f MB/s); -> alertmanager with 1 rule without "
          "a regex: %.2f CPU s; with the 100 rules: %.2f CPU s (%.0f MB/s of CPU); "
          "ratio to 1 rule %.2fx, to null %.2fx (goal <= 1.5x)" %
          (base[0], mb / base[0], r1[0], r100[0], mb / r100[0], r100[0] / r1[0],
           r100[0] / base[0]))


def metric(port, name):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name):
                return float(line.rsplit(" ", 1)[1])
    return 0.0


def kafka_input(path, lines, size, tmp):
    kport, hport = free_port(), free_port()
    store = subprocess.Popen([os.path.join(BIN, "sluice-store"), "--data-dir",
                              os.path.join(tmp, "store"), "--kafka-listen",
                              "127.0.0.1:%d" % kport, "--http-listen", "127.0.0.1:%d" % hport],
                             stdout=open(os.path.join(tmp, "store.log"), "wb"),
                             stderr=subprocess.STDOUT)
    agent = None
    try:
        wait_port(kport, 30)
        wait_port(hport, 30)
        subprocess.run([os.path.join(BIN, "sluice"), "--store", "http://127.0.0.1:%d" % hport,
                        "topic", "create", "logs", "--partitions", "4"], check=True,
                       capture_output=True)
        subprocess.run([os.path.join(BENCH_BIN, "replay_load"), "--url",
                        "http://127.0.0.1:%d" % hport, "--corpus", path, "--topic", "logs",
                        "--partitions", "4", "--start",
                        time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 7200))],
                       check=True, capture_output=True)
        aport = free_port()
        conf = os.path.join(tmp, "kafka.yaml")
        with open(conf, "w") as f:
            f.write("agent:\n  data_dir: %s/kafka-data\n  http: { listen: 127.0.0.1:%d }\n"
                    "inputs:\n  - id: k\n    type: kafka\n    brokers: 127.0.0.1:%d\n"
                    "    topics: [logs]\n    group: bench\n"
                    "outputs:\n  - id: out\n    type: \"null\"\n    compression: none\n"
                    % (tmp, aport, kport))
        t0 = time.time()
        pre = ["perf", "record", "-q", "-o", os.environ["BENCH_PERF"], "--"] \
            if os.environ.get("BENCH_PERF") else []
        agent = subprocess.Popen(pre + [os.path.join(BIN, "sluice-agent"), "-c", conf],
                                 stdout=open(os.path.join(tmp, "kafka.log"), "wb"),
                                 stderr=subprocess.STDOUT)
        wait_port(aport, 30)
        name = 'sluice_agent_kafka_in_records_total{input="k"}'
        first = None   # (time, records, bytes) when the first records came
        while True:
            got = metric(aport, name)
            if got > 0 and first is None:
                first = (time.time(), got,
                         metric(aport, 'sluice_agent_kafka_in_bytes_total{input="k"}'))
            if got >= lines:
                break
            if time.time() - t0 > 300:
                raise SystemExit("kafka input: not all records after 300 s")
            time.sleep(0.02)
        wall = time.time() - t0
        vbytes = metric(aport, 'sluice_agent_kafka_in_bytes_total{input="k"}')
        cpu = 0.0
        with open("/proc/%d/stat" % agent.pid) as f:
            st = f.read().rsplit(")", 1)[1].split()
            cpu = (int(st[11]) + int(st[12])) / os.sysconf("SC_CLK_TCK")
        steady = time.time() - first[0]
        print("kafka input -> null: %d records, %.1f MB of values in %.2f s = %.0f MB/s wall "
              "including the group join (the store's groups.initial_rebalance_delay, 3 s by "
              "default); %.0f MB/s from the first records to the last (%.2f s); %.2f CPU s "
              "(%.0f MB/s per core)" %
              (lines, vbytes / 1e6, wall, vbytes / 1e6 / wall,
               (vbytes - first[2]) / 1e6 / steady if steady > 0 else 0, steady, cpu,
               vbytes / 1e6 / cpu))
    finally:
        for p in (agent, store):
            if p and p.poll() is None:
                p.terminate()
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


def main():
    path, events, lines, size = corpus()
    print("corpus %s: %d events, %d lines, %.1f MB; zstd -b1 %.0f MB/s (machine speed)" %
          (path, events, lines, size / 1e6, zstd_speed(path)))
    with tempfile.TemporaryDirectory(prefix="sluice-bench-pipelines.") as tmp:
        if not os.environ.get("BENCH_KAFKA_ONLY"):
            rules_ratio(path, size, tmp)
        kafka_input(path, lines, size, tmp)


if __name__ == "__main__":
    main()
