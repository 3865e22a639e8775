# SPDX-License-Identifier: Apache-2.0
"""Kafka produce and consume throughput over SASL_SSL (SCRAM-SHA-512, TLS
from a test CA) as a ratio to plaintext, in one run (issue 17).

Two sluice-stores with the same settings run side by side, one plaintext
and one with kafka.tls + kafka.sasl [SCRAM-SHA-512] + auth.users_file.  kcat
(librdkafka) produces the same gen_corpus.py file (BENCH_SASL_SIZE, default
64M, numbered lines) to a fresh 6-partition topic on each (acks=all,
linger.ms 5, no compression: the cost measured is TLS and SASL, not a
codec's), then consumes the topic to /dev/null.  The modes alternate for
BENCH_SASL_ROUNDS rounds (default 3); the median of each is reported, with
the store's CPU seconds per GB (utime + stime from /proc).  Record in
bench/RESULTS.md.
"""
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../tests/integration"))
os.environ.setdefault("SLUICE_BIN", os.path.join(HERE, "../build/bin"))
from harness import BIN, Env, Pki  # noqa: E402

SIZE = os.environ.get("BENCH_SASL_SIZE", "64M")
ROUNDS = int(os.environ.get("BENCH_SASL_ROUNDS", "3"))
PW = "bench-pw-51c0e2"
COMMON = ["-X", "linger.ms=5", "-X", "batch.size=1000000", "-X", "acks=all",
          "-X", "compression.codec=none"]


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def kcat_args(st, secure, pki):
    a = ["kcat", "-b", st.bootstrap, "-q"]
    if secure:
        a += ["-X", "security.protocol=SASL_SSL", "-X", "sasl.mechanisms=SCRAM-SHA-512",
              "-X", "sasl.username=bench", "-X", "sasl.password=" + PW,
              "-X", "ssl.ca.location=" + pki.p("ca.crt")]
    return a


def timed(argv, stdin=None, stdout=subprocess.DEVNULL):
    t0 = time.monotonic()
    subprocess.run(argv, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE, check=True,
                   timeout=600)
    return time.monotonic() - t0


def one(st, secure, pki, topic, corpus, nbytes):
    sluice = [os.path.join(BIN, "sluice"), "--store", st.url]
    subprocess.run(sluice + ["topic", "create", topic, "--partitions", "6"], check=True,
                   stdout=subprocess.DEVNULL)
    c0 = cpu_s(st.pid)
    with open(corpus, "rb") as f:
        tp = timed(kcat_args(st, secure, pki) + ["-P", "-t", topic] + COMMON, stdin=f)
    c1 = cpu_s(st.pid)
    tc = timed(kcat_args(st, secure, pki) + ["-C", "-t", topic, "-o", "beginning", "-e",
                                             "-X", "fetch.max.bytes=52428800",
                                             "-X", "fetch.wait.max.ms=50"])
    c2 = cpu_s(st.pid)
    gb = nbytes / 1e9
    return {"produce": nbytes / 1e6 / tp, "consume": nbytes / 1e6 / tc,
            "p_cpu": (c1 - c0) / gb, "c_cpu": (c2 - c1) / gb}


def main():
    with Env() as env:
        pki = Pki(env.path("pki"))
        crt, key = pki.issue("store", "/CN=localhost", "server")
        users = env.path("users")
        open(users, "w").close()
        os.chmod(users, 0o600)
        conf = env.path("secure.yaml")
        with open(conf, "w") as f:
            f.write("kafka:\n  tls: { cert: %s, key: %s }\n  sasl: [SCRAM-SHA-512]\n"
                    "auth:\n  users_file: %s\n" % (crt, key, users))
        subprocess.run([os.path.join(BIN, "sluice-store"), "user", "add", "bench", "-c", conf],
                       input=(PW + "\n").encode(), capture_output=True, check=True, timeout=60)
        plain = env.start_store()
        secure = env.start_store("-c", conf)
        corpus = env.path("corpus")
        env.gen_corpus(corpus, SIZE)
        nbytes = os.path.getsize(corpus)
        got = {False: [], True: []}
        for r in range(ROUNDS):
            for mode in (False, True):
                st = secure if mode else plain
                got[mode].append(one(st, mode, pki, "b%d" % r, corpus, nbytes))
        med = {m: {k: statistics.median(x[k] for x in got[m]) for k in got[m][0]}
               for m in got}
        for m, name in ((False, "plaintext"), (True, "sasl_ssl")):
            print("RESULT kafka_%s produce=%.0fMB/s consume=%.0fMB/s store_cpu_produce=%.2fs/GB "
                  "store_cpu_consume=%.2fs/GB (median of %d, %.0f MB, kcat)"
                  % (name, med[m]["produce"], med[m]["consume"], med[m]["p_cpu"],
                     med[m]["c_cpu"], ROUNDS, nbytes / 1e6))
        print("RESULT kafka_sasl_ssl_vs_plaintext produce=%.2f consume=%.2f "
              "(SCRAM-SHA-512 over TLS; per-round produce %s, consume %s)"
              % (med[True]["produce"] / med[False]["produce"],
                 med[True]["consume"] / med[False]["consume"],
                 " ".join("%.2f" % (s["produce"] / p["produce"])
                          for p, s in zip(got[False], got[True])),
                 " ".join("%.2f" % (s["consume"] / p["consume"])
                          for p, s in zip(got[False], got[True]))))


if __name__ == "__main__":
    main()
