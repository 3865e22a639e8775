# SPDX-License-Identifier: Apache-2.0
"""sluice-store against a single-node Apache Kafka 4.1 (KRaft, the jars of
scripts/kafka-jars.sh, -Xmx512m), side by side in one run (issue 22 item 5).

Each broker in turn (sluice-store first, then Kafka; BENCH_ROUNDS=2 repeats
the pair, interleaved) gets, on a fresh data dir:
  1. start-up: time from spawning the broker to the first acks=all produce
     acknowledged (a librdkafka producer retrying from the first instant);
  2. build/bench/kafka_produce_consume (librdkafka, zstd, acks=all, 200-byte
     records of the shared corpus, 4 partitions): produce as fast as it can
     for BENCH_SECONDS, then at half that rate for BENCH_LATENCY_SECONDS
     (p50/p99 latency), then consume everything back;
  3. Kafka's own tools from the tools jar: ProducerPerformance
     (kafka-producer-perf-test: acks=all, zstd, 200-byte records) and
     ConsumerPerformance (kafka-consumer-perf-test) over the same topic;
  4. broker CPU (utime+stime from /proc) over step 2, per GB produced (and
     consumed once), and peak RSS (VmHWM) at the end.
Durability differs and is stated: sluice-store runs with log.fsync=always
(every acknowledged batch fdatasync'ed), Kafka with its default (no fsync:
acknowledged means replicated in memory; here one node, so page cache only).
The machine's speed is measured in the same run (zstd -b1 on the corpus).
Figures go to stdout; bench/RESULTS.md records a run.
"""
import os
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.environ.get("SLUICE_TOP") or os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TOP, "tests/integration"))
import kafkacluster  # noqa: E402
import sluicetest  # noqa: E402

BIN = os.environ.get("SLUICE_BIN") or os.path.join(TOP, "build/bin")
BENCH_BIN = os.environ.get("SLUICE_BENCH_BIN") or os.path.join(TOP, "build/bench")
SECONDS = int(os.environ.get("BENCH_SECONDS", "20"))
LAT_SECONDS = int(os.environ.get("BENCH_LATENCY_SECONDS", "10"))
PERF_RECORDS = int(os.environ.get("BENCH_PERF_RECORDS", "1000000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "1"))
PARTS = 4


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        v = f.read().rsplit(")", 1)[1].split()
    return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")


def hwm_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0


def first_produce(bootstrap, t_spawn, timeout=180):
    """Seconds from t_spawn until an acks=all produce is acknowledged."""
    from confluent_kafka import Producer
    deadline = t_spawn + timeout
    while time.time() < deadline:
        p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "message.timeout.ms": 2000,
                      "socket.connection.setup.timeout.ms": 1000, "reconnect.backoff.ms": 20,
                      "reconnect.backoff.max.ms": 50, "log_level": 0})
        res = []
        p.produce("startup", b"x", on_delivery=lambda err, m: res.append(err))
        p.flush(3)
        if res and res[0] is None:
            return time.time() - t_spawn
        time.sleep(0.02)
    raise RuntimeError("no produce accepted after %ds" % timeout)


def zstd_speed(corpus):
    r = subprocess.run(["zstd", "-b1", "-i3", corpus], capture_output=True, text=True)
    m = re.findall(r"([\d.]+) MB/s", r.stdout + r.stderr)
    return float(m[0]) if m else 0.0


def librdkafka_load(bootstrap, corpus):
    r = subprocess.run([os.path.join(BENCH_BIN, "kafka_produce_consume"), "-b", bootstrap,
                        "-t", "bench", "-f", corpus, "-s", str(SECONDS), "-l", str(LAT_SECONDS),
                        "-r", "200", "-p", str(PARTS), "-c", "1"],
                       capture_output=True, text=True, timeout=SECONDS + LAT_SECONDS + 300)
    out = r.stdout
    if r.returncode != 0:
        raise RuntimeError("kafka_produce_consume failed:\n%s\n%s" % (out, r.stderr[-2000:]))
    f = {}
    m = re.search(r"produce: (\d+) records \(([\d.]+) MB.* ([\d.]+) MB/s", out)
    f["produced_mb"], f["produce_mbs"] = float(m.group(2)), float(m.group(3))
    m = re.search(r"50% load: .*latency p50 ([\d.]+) ms p99 ([\d.]+) ms", out)
    f["half_p50"], f["half_p99"] = float(m.group(1)), float(m.group(2))
    m = re.search(r"consume: .*\(([\d.]+) MB\) in [\d.]+ s: ([\d.]+) MB/s", out)
    f["consumed_mb"], f["consume_mbs"] = float(m.group(1)), float(m.group(2))
    f["raw"] = out.strip()
    return f


def java_tools(bootstrap):
    f = {}
    r = subprocess.run(kafkacluster.java(
        "org.apache.kafka.tools.ProducerPerformance", "--topic", "perf", "--num-records",
        str(PERF_RECORDS), "--record-size", "200", "--throughput", "-1", "--producer-props",
        "bootstrap.servers=" + bootstrap, "acks=all", "compression.type=zstd",
        "linger.ms=5", "batch.size=262144", jvm=kafkacluster.JVM_BENCH),
        capture_output=True, text=True, timeout=600)
    m = re.findall(r"records sent, [\d.]+ records/sec \(([\d.]+) MB/sec\), ([\d.]+) ms avg "
                   r"latency.*?(\d+) ms 50th, \d+ ms 95th, (\d+) ms 99th", r.stdout)
    if r.returncode != 0 or not m:
        raise RuntimeError("ProducerPerformance failed:\n%s%s" % (r.stdout[-1500:],
                                                                   r.stderr[-1500:]))
    f["jprod_mbs"], f["jprod_p50"], f["jprod_p99"] = float(m[-1][0]), int(m[-1][2]), int(m[-1][3])
    r = subprocess.run(kafkacluster.java(
        "org.apache.kafka.tools.ConsumerPerformance", "--bootstrap-server", bootstrap,
        "--topic", "perf", "--messages", str(PERF_RECORDS), "--timeout", "60000",
        jvm=kafkacluster.JVM_BENCH),
        capture_output=True, text=True, timeout=600)
    lines = [x for x in r.stdout.splitlines() if re.match(r"\d{4}-", x)]
    if r.returncode != 0 or not lines:
        raise RuntimeError("ConsumerPerformance failed:\n%s%s" % (r.stdout[-1500:],
                                                                   r.stderr[-1500:]))
    f["jcons_mbs"] = float(lines[-1].split(",")[3])
    return f


def run_sluice(env, corpus):
    st = sluicetest.Store(env, env.path("sluice-data"), [])
    conf = env.path("store.yaml")
    with open(conf, "w") as fh:
        fh.write("log:\n  fsync: always\n  default_partitions: %d\nkafka:\n"
                 "  max_output_bytes: 256MiB\n" % PARTS)
    st.args = ["-c", conf]
    t0 = time.time()
    log = open(st.log_path, "ab")
    proc = subprocess.Popen([os.path.join(BIN, "sluice-store"), "--data-dir", st.data_dir,
                             "--kafka-listen", st.bootstrap, "--http-listen",
                             "127.0.0.1:%d" % st.http_port, "-c", conf], stdout=log,
                            stderr=subprocess.STDOUT)
    log.close()
    env.procs.append(proc)
    try:
        return measure("sluice-store (fsync=always)", proc.pid, st.bootstrap, t0, corpus, None)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)


def run_kafka(env, corpus):
    kc = kafkacluster.Cluster(env, nodes=1, jvm=kafkacluster.JVM_BENCH)
    for n in kc.nodes:
        n.write_conf()
        n.format()
    node = kc.nodes[0]
    t0 = time.time()
    node.start()
    try:
        return measure("Kafka 4.1.1 (1 node, no fsync)", node.proc.pid, node.bootstrap, t0,
                       corpus, kc)
    finally:
        node.kill(signal.SIGTERM)


def measure(name, pid, bootstrap, t0, corpus, kc):
    f = {"name": name}
    f["startup_s"] = first_produce(bootstrap, t0)
    if kc is not None:
        kc.create_topic("bench", partitions=PARTS, rf=1)
        kc.create_topic("perf", partitions=PARTS, rf=1)
    c0 = cpu_s(pid)
    f.update(librdkafka_load(bootstrap, corpus))
    f["cpu_s"] = cpu_s(pid) - c0
    # every record produced (both phases) is consumed once: the GB base
    f["cpu_per_gb"] = f["cpu_s"] / max(f["consumed_mb"] / 1000, 1e-9)
    f["rss_mib"] = hwm_mib(pid)
    f.update(java_tools(bootstrap))
    f["rss_mib"] = max(f["rss_mib"], hwm_mib(pid))
    print("%s:\n  %s" % (name, f["raw"].replace("\n", "\n  ")), flush=True)
    print("  start to first produce %.2f s; broker CPU %.1f s over the librdkafka run "
          "(%.2f CPU-s per GB produced and consumed); peak RSS %.1f MiB; Java ProducerPerformance "
          "%.1f MB/s (p50 %d ms, p99 %d ms), ConsumerPerformance %.1f MB/s"
          % (f["startup_s"], f["cpu_s"], f["cpu_per_gb"], f["rss_mib"], f["jprod_mbs"],
             f["jprod_p50"], f["jprod_p99"], f["jcons_mbs"]), flush=True)
    return f


ROWS = [("produce MB/s, librdkafka acks=all zstd", "produce_mbs", True),
        ("produce MB/s, Java ProducerPerformance acks=all", "jprod_mbs", True),
        ("p50 produce latency at half load (ms)", "half_p50", False),
        ("p99 produce latency at half load (ms)", "half_p99", False),
        ("consume MB/s, librdkafka", "consume_mbs", True),
        ("consume MB/s, Java ConsumerPerformance", "jcons_mbs", True),
        ("broker peak RSS (MiB)", "rss_mib", False),
        ("broker CPU-s per GB (produced and consumed once)", "cpu_per_gb", False),
        ("start to first produce accepted (s)", "startup_s", False)]


def main():
    if not os.environ.get("SLUICE_HEAVY_LOCKED"):
        # never beside another heavy job (the other benches take this lock)
        os.environ["SLUICE_HEAVY_LOCKED"] = "1"
        os.execvp("flock", ["flock", "/tmp/sluice-heavy.lock", sys.executable] + sys.argv)
    kafkacluster.ensure_jars()
    with sluicetest.Env() as env:
        corpus = env.path("corpus")
        env.gen_corpus(corpus, "128M")
        speed = zstd_speed(corpus)
        print("machine: %d cores, zstd -b1 %.0f MB/s on the corpus (reference machine ~730); "
              "loadavg %s" % (os.cpu_count(), speed, open("/proc/loadavg").read().split()[0]))
        res = []
        for i in range(ROUNDS):
            res.append((run_sluice(env, corpus), run_kafka(env, corpus)))
        s, k = res[-1]
        print("\n| measure | sluice-store (fsync=always) | Kafka 4.1.1 (no fsync) | "
              "sluice / Kafka |")
        print("|---|---|---|---|")
        for label, key, _ in ROWS:
            print("| %s | %.2f | %.2f | %.2f× |" % (label, s[key], k[key],
                                                 s[key] / k[key] if k[key] else 0))
        print("machine after: zstd -b1 %.0f MB/s, loadavg %s" % (
            zstd_speed(corpus), open("/proc/loadavg").read().split()[0]))


if __name__ == "__main__":
    main()
