# SPDX-License-Identifier: Apache-2.0
"""An agent maps only the libraries its configuration uses (agent/dl/): tail
into the null output maps none of libcurl, librdkafka, libsystemd, snappy's
C++ runtime; the store output on an http:// URL ships with the agent's own
HTTP client and maps none of them either (libcurl is for https://); so does
the kafka output's native client, and with `client: librdkafka` it loads
librdkafka (and ships); the journald input loads libsystemd.  Resident
memory of each is printed for information (the figures live in bench/)."""
# harness: quick
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from agentkit import Agent, kcat_records, store_records, wait_until  # noqa: E402
from sluicetest import Env, result  # noqa: E402

HEAVY = ["libcurl.so", "librdkafka.so", "libsystemd.so", "libsnappy.so", "libstdc++.so",
         "libgnutls.so", "libcrypto.so"]


def mapped(pid):
    with open("/proc/%d/maps" % pid) as f:
        libs = {os.path.basename(line.split()[-1]) for line in f if ".so" in line}
    heavy = {h for h in HEAVY if any(lib.startswith(h) for lib in libs)}
    if any(lib.startswith(("libasan.so", "libubsan.so")) for lib in libs):
        heavy.discard("libstdc++.so")  # the sanitizer runtime's own (make asan)
    return heavy


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def config(env, name, logs, inputs_extra, output):
    return ("agent:\n  data_dir: %s\n  http: { listen: @HTTP@ }\n  shutdown_timeout: 5s\n"
            "inputs:\n  - id: %s\n    type: tail\n    paths: [%s/*.log]\n    read_from_head: true\n"
            "%soutputs:\n  - id: out\n%s" % (env.path(name + "-data"), name, logs, inputs_extra, output))


def run(env, name, logs, output, check, inputs_extra=""):
    agent = Agent(env, config(env, name, logs, inputs_extra, output), name=name)
    agent.start()
    try:
        wait_until(lambda: agent.metric('sluice_agent_output_records_total{output="out"}') >= 3,
                   60, "%s: 3 records delivered" % name)
        check()
        libs = mapped(agent.proc.pid)
        rss = rss_kib(agent.proc.pid)
    finally:
        assert agent.term() == 0, agent.log()
    return libs, rss


def main():
    with Env() as env:
        logs = env.path("logs")
        os.makedirs(logs)
        with open(os.path.join(logs, "app.log"), "w") as f:
            for i in range(3):
                f.write("2026-11-25 footprint seq=%d\n" % i)
        store = env.start_store()

        libs, rss = run(env, "null", logs, "    type: null\n", lambda: None)
        assert not libs, "null output mapped %s" % sorted(libs)
        result("tail -> null maps none of %s (RSS %d KiB)" % (", ".join(HEAVY), rss))

        libs, rss = run(env, "store", logs, "    type: store\n    url: %s\n" % store.url,
                        lambda: wait_until(lambda: store_records(store, "store") >= 3, 30, "store"))
        assert not libs, "store output (http://) mapped %s" % sorted(libs)
        result("tail -> store (http://) maps none of them (RSS %d KiB), 3 records shipped" % rss)

        libs, rss = run(env, "kafka", logs,
                        "    type: kafka\n    brokers: %s\n" % store.bootstrap,
                        lambda: None)
        assert not libs, "kafka output (native client) mapped %s" % sorted(libs)
        assert len(kcat_records(store.bootstrap, "kafka")) >= 3
        result("tail -> kafka (native client) maps none of them (RSS %d KiB), 3 records shipped"
               % rss)

        libs, rss = run(env, "kafkardk", logs,
                        "    type: kafka\n    client: librdkafka\n    brokers: %s\n"
                        % store.bootstrap, lambda: None)
        assert "librdkafka.so" in libs, libs
        assert not libs & {"libcurl.so", "libsystemd.so"}, libs
        assert len(kcat_records(store.bootstrap, "kafkardk")) >= 3
        result("tail -> kafka (client: librdkafka) loads %s (RSS %d KiB), 3 records shipped"
               % (sorted(libs), rss))

        jdir = env.path("journal")
        os.makedirs(jdir)
        libs, rss = run(env, "journald", logs, "    type: null\n", lambda: None,
                        inputs_extra="  - id: j\n    type: journald\n    path: %s\n" % jdir)
        assert "libsystemd.so" in libs, libs
        assert not libs & {"libcurl.so", "librdkafka.so"}, libs
        result("journald input loads %s (RSS %d KiB)" % (sorted(libs), rss))


if __name__ == "__main__":
    main()
