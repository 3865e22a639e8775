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
   the `null` output; MB/s of record values from the first record to the
   last (steady state), agent CPU-s per GB, and the wall with the group join.

Also `zstd -b1` on the corpus as the machine's speed (see bench_agent_tail).
  BENCH_SIZE=64M  corpus size (cached in BENCH_CACHE)
  BENCH_KAFKA_ONLY=1  only the kafka input
  BENCH_KAFKA_SIZE=1024  MB of values in the topic (the corpus loaded as often as needed)
  BENCH_KAFKA_PARTITIONS=4, BENCH_KAFKA_ROUNDS=3 (agents reading the topic, median reported)
  BENCH_KAFKA_CONF  extra YAML lines for the input (4-space indent); with
  BENCH_KAFKA_CONF_B (_C, _D) too, rounds alternate between them (interleaved);
  BENCH_KAFKA_AGENT(_B, ...)  the agent binary of that conf (an old build to compare)
  BENCH_PERF=FILE  perf record -g each round's agent into FILE.N
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


def kafka_load(path, size, tmp):
    """A store with topic `logs` holding the corpus BENCH_KAFKA_COPIES times
    (enough copies for BENCH_KAFKA_SIZE of values); (store, kafka port)."""
    kport, hport = free_port(), free_port()
    parts = int(os.environ.get("BENCH_KAFKA_PARTITIONS", "4"))
    want = float(os.environ.get("BENCH_KAFKA_SIZE", "1024")) * 1e6
    copies = int(os.environ.get("BENCH_KAFKA_COPIES", "0")) or max(1, int(-(-want // size)))
    store = subprocess.Popen([os.path.join(BIN, "sluice-store"), "--data-dir",
                              os.path.join(tmp, "store"), "--kafka-listen",
                              "127.0.0.1:%d" % kport, "--http-listen", "127.0.0.1:%d" % hport],
                             stdout=open(os.path.join(tmp, "store.log"), "wb"),
                             stderr=subprocess.STDOUT)
    try:
        wait_port(kport, 30)
        wait_port(hport, 30)
        subprocess.run([os.path.join(BIN, "sluice"), "--store", "http://127.0.0.1:%d" % hport,
                        "topic", "create", "logs", "--partitions", str(parts)], check=True,
                       capture_output=True)
        t0 = time.time()
        for _ in range(copies):
            subprocess.run([os.path.join(BENCH_BIN, "replay_load"), "--url",
                            "http://127.0.0.1:%d" % hport, "--corpus", path, "--topic", "logs",
                            "--partitions", str(parts), "--start",
                            time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 7200))],
                           check=True, capture_output=True)
        print("kafka input: topic logs, %d partitions, the corpus %d times (%.1f MB of lines) "
              "loaded in %.1f s" % (parts, copies, copies * size / 1e6, time.time() - t0))
    except BaseException:
        store.terminate()
        store.wait()
        raise
    return store, kport, copies


def agent_stat(pid):
    with open("/proc/%d/stat" % pid) as f:
        st = f.read().rsplit(")", 1)[1].split()
    return (int(st[11]) + int(st[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def kafka_round(kport, records, tmp, n, store, extra, binary):
    """One agent (a fresh group and data_dir) reading the whole topic into
    null: (wall incl. the join, steady s, MB of values, steady MB, CPU s)."""
    aport = free_port()
    conf = os.path.join(tmp, "kafka-%d.yaml" % n)
    with open(conf, "w") as f:
        f.write("agent:\n  data_dir: %s/kafka-data-%d\n  http: { listen: 127.0.0.1:%d }\n"
                "inputs:\n  - id: k\n    type: kafka\n    brokers: 127.0.0.1:%d\n"
                "    topics: [logs]\n    group: bench-%d\n%s"
                "outputs:\n  - id: out\n    type: \"null\"\n    compression: none\n"
                % (tmp, n, aport, kport, n, extra))
    pre = ["perf", "record"] + os.environ.get("BENCH_PERF_ARGS", "-g").split() + ["-q", "-o", os.environ["BENCH_PERF"] + ".%d" % n, "--"] \
        if os.environ.get("BENCH_PERF") else []
    t0 = time.time()
    scpu = agent_stat(store.pid)
    agent = subprocess.Popen(pre + [binary, "-c", conf],
                             stdout=open(os.path.join(tmp, "kafka-%d.log" % n), "wb"),
                             stderr=subprocess.STDOUT)
    try:
        wait_port(aport, 30)
        name = 'sluice_agent_kafka_in_records_total{input="k"}'
        bname = 'sluice_agent_kafka_in_bytes_total{input="k"}'
        first = None   # (time, bytes) when the first records came
        while True:
            got = metric(aport, name)
            if got > 0 and first is None:
                first = (time.time(), metric(aport, bname))
            if got >= records:
                break
            if time.time() - t0 > 600:
                raise SystemExit("kafka input: not all records after 600 s")
            time.sleep(0.05)
        end = time.time()
        vbytes = metric(aport, bname)
        cpu = agent_stat(agent.pid) if not pre else 0.0
        if os.environ.get("BENCH_KAFKA_METRICS"):
            with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % aport, timeout=10) as r:
                for line in r.read().decode().splitlines():
                    if not line.startswith("#") and ("pause" in line or "kafka_in" in line
                                                     or "spool" in line):
                        print("  " + line)
        print("  agent peak RSS %.0f MB" % (peak_rss_mb(agent.pid) if not pre else 0.0))
        return (end - t0, end - first[0], vbytes / 1e6, (vbytes - first[1]) / 1e6, cpu,
                agent_stat(store.pid) - scpu)
    finally:
        agent.terminate()
        try:
            agent.wait(60)
        except subprocess.TimeoutExpired:
            agent.kill()
            agent.wait()


def kafka_input(path, lines, size, tmp):
    store, kport, copies = kafka_load(path, size, tmp)
    rounds = int(os.environ.get("BENCH_KAFKA_ROUNDS", "3"))
    agent = os.path.join(BIN, "sluice-agent")
    confs = [(os.environ.get("BENCH_KAFKA_CONF", ""), os.environ.get("BENCH_KAFKA_AGENT", agent))]
    for x in "BCD":
        if "BENCH_KAFKA_CONF_" + x in os.environ or "BENCH_KAFKA_AGENT_" + x in os.environ:
            confs.append((os.environ.get("BENCH_KAFKA_CONF_" + x, ""),
                          os.environ.get("BENCH_KAFKA_AGENT_" + x, agent)))
    res = [[] for _ in confs]
    try:
        for n in range(rounds * len(confs)):
            c = n % len(confs)
            wall, steady, mb, smb, cpu, scpu = kafka_round(kport, lines * copies, tmp, n, store,
                                                           *confs[c])
            res[c].append((smb / steady, mb / wall, cpu / (mb / 1e3) if cpu else 0.0, wall,
                           wall - steady))
            print("kafka input -> null round %d%s: %.1f MB of values; steady (first to last "
                  "record) %.0f MB/s over %.2f s; wall %.2f s including the group join "
                  "(%.2f s to the first record) = %.0f MB/s; agent %.2f CPU s = %.2f CPU-s/GB; "
                  "the store (serving the fetches) %.2f CPU s" %
                  (n, " (conf %s)" % "ABCD"[c] if len(confs) > 1 else "", mb, smb / steady,
                   steady, wall, wall - steady, mb / wall, cpu, res[c][-1][2], scpu))
    finally:
        store.terminate()
        try:
            store.wait(30)
        except subprocess.TimeoutExpired:
            store.kill()
            store.wait()

    for c, rs in enumerate(res):
        def med(i):
            v = sorted(r[i] for r in rs)
            return v[len(v) // 2]
        print("kafka input -> null%s, median of %d rounds: steady %.0f MB/s, %.2f CPU-s/GB, "
              "wall incl. join %.0f MB/s (join %.2f s)" %
              (" (conf %s)" % "ABCD"[c] if len(confs) > 1 else "", rounds, med(0), med(2),
               med(1), med(4)))


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
