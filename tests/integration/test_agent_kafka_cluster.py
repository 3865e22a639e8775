# SPDX-License-Identifier: Apache-2.0
# harness: heavy
# (a 3-node Kafka cluster: three JVMs at -Xmx512m; it may run beside one other test)
"""The kafka output against a real Apache Kafka 4.1 cluster (KRaft, three
combined controller+broker nodes on loopback, kafkacluster.py), with both
clients: librdkafka (below) and the native one (client: native, its phases
in kafka_native_phases.py) share the cluster, one start of three JVMs.

1. Failover: topic "fo" with replication factor 3 and min.insync.replicas=2;
   the agent ships a numbered corpus while the partition's leader is killed
   with SIGKILL twice (and restarted once a new leader took over): every
   event arrives exactly once (idempotent producer, acks=all; kcat,
   check_seq.py), and the agent's metrics show the failover (broker errors
   counted, nothing failed for good).  The native client's agent ships into
   "nfo" at the same time; both topics have replicas 1, 2, 3 in that order,
   so they have one leader and each kill (after awaiting that) fails both
   over.
2. Exactly once (exactly_once: true): topic "eo", same replication; the
   agent reloads (SIGHUP) once, then is killed with SIGKILL five times
   mid-stream and restarted: a
   read_committed consumer sees 0 missing, 0 duplicated; the transactions
   and the positions read back after each restart show in the metrics.
3. The CLI against the cluster (--brokers): consume with --grep and a time
   window, and replay, over the "fo" topic.
4. SASL_SSL: each node also has a SASL_SSL listener (SASL PLAIN, a server
   certificate from a test CA); the agent ships a corpus through it with
   security_protocol sasl_ssl (0 missing, 0 duplicated), and a wrong
   password is refused.  Before that, `--check` of every security_protocol
   and sasl_mechanism (they used to crash the agent: an enum index read as a
   string pointer).

2, 3 and 4, and the native client's phases 2-4, run at the same time once
1 is done (each its own topics and agent; no broker is killed after 1).
"""
import os
import json
import queue
import random
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import kafkacluster  # noqa: E402
import kafka_native_phases as native  # noqa: E402
from agentkit import BIN, Agent, Writer, corpus, run_parallel, wait_until  # noqa: E402
from sluicetest import Env, result  # noqa: E402

CONFIG = """
agent:
  data_dir: {data}
  http: {{ listen: @HTTP@ }}
  shutdown_timeout: 20s
inputs:
  - id: app
    type: tail
    paths: [{logs}/*.log]
    read_from_head: true
    multiline: {{ start: '^[0-9{{]', flush_ms: 300 }}
outputs:
  - id: kafka
    type: kafka
    brokers: {bootstrap}
    topic: {topic}
    retry: {{ initial_delay: 50ms, max_delay: 1s }}
    librdkafka: {{ reconnect.backoff.max.ms: "500", topic.metadata.refresh.interval.ms: "1000" }}
{extra}
"""

M = '{output="kafka"}'


values = native.values
seq_check = native.seq_check


def agent_for(env, kc, name, topic, extra=""):
    logs = env.path("logs-" + name)
    os.makedirs(logs)
    cfg = CONFIG.format(data=env.path("data-" + name), logs=logs, bootstrap=kc.bootstrap,
                        topic=topic, extra=extra)
    return Agent(env, cfg, name="agent-" + name), logs


def delivered(agent):
    try:
        return agent.metric("sluice_agent_kafka_records_delivered_total" + M)
    except OSError:
        return 0


def failover_corpora(env):
    """Phase 1's two corpora: (path, events) for "fo" and "nfo"."""
    src, nsrc = env.path("corpus-fo.log"), env.path("corpus-nfo.log")
    return ((src, corpus(env, src, "12M", "--seed", "21")),
            (nsrc, corpus(env, nsrc, "12M", "--seed", "41")))


def failover(env, kc, corpora):
    """Phase 1 for both clients at once: "fo" (librdkafka) and "nfo" (the
    native client, kafka_native_phases.py) on the same replicas in the same
    order, so both have one leader (the first in-sync replica of 1, 2, 3)
    and every kill fails both over."""
    for t in ("fo", "nfo"):
        kc.create_topic(t, partitions=1, rf=3, min_isr=2, replicas=[1, 2, 3])
    (src, events), (nsrc, nevents) = corpora
    agent, logs = agent_for(env, kc, "fo", "fo")
    nagent, nlogs = native.agent_for(env, kc, "nfo", "nfo")
    agent.start()
    nagent.start()
    w = Writer(src, os.path.join(logs, "app.log"), rate=os.path.getsize(src) / 30)
    nw = Writer(nsrc, os.path.join(nlogs, "app.log"), rate=os.path.getsize(nsrc) / 30)
    w.start()
    nw.start()
    t0 = time.time()
    moves = []

    def one_leader():
        leaders = set()
        for t in ("fo", "nfo"):
            try:
                leaders.add(kc.leader(t, 0))
            except Exception:  # noqa: BLE001 - retried until the deadline
                return False
        return len(leaders) == 1 and leaders.pop() > 0
    for _ in range(2):
        before, nbefore = delivered(agent), native.delivered(nagent)
        wait_until(lambda: delivered(agent) > before + 1000 and
                   native.delivered(nagent) > nbefore + 1000, 60, "records flowing to both")
        # the second kill may find the restarted node still catching up: the
        # survivor leads alone below min.insync.replicas until it is back
        wait_until(one_leader, 90, "one leader for fo and nfo")
        leader = kc.leader("fo", 0)
        assert delivered(agent) < events, "the corpus was shipped before the kill"
        assert native.delivered(nagent) < nevents, "the native corpus was shipped before the kill"
        node = kc.node(leader)
        t_kill = time.time()
        node.kill()
        new = kc.wait_leader("fo", 0, not_node=leader, timeout=60)
        nnew = kc.wait_leader("nfo", 0, not_node=leader, timeout=60)
        node.start().wait()
        moves.append("%d->%d/%d at %.0f s, back at %.0f s" % (leader, new, nnew, t_kill - t0,
                                                              time.time() - t0))
    w.join()
    nw.join()
    assert w.error is None, w.error
    assert nw.error is None, nw.error
    wait_until(lambda: delivered(agent) >= events, 120, "every event delivered")
    wait_until(lambda: native.delivered(nagent) >= nevents, 120, "every native event delivered")
    m = agent.metrics()
    assert agent.term() == 0
    errs = m.get("sluice_agent_kafka_broker_errors_total" + M, 0)
    failed = m.get("sluice_agent_kafka_records_failed_total" + M, 0)
    assert errs > 0, "the failover left no trace in the metrics"
    assert failed == 0, "records failed for good: %d" % failed
    line = seq_check(env, values(kc, "fo"), events)
    nline = native.failover_check(env, kc, nagent, nevents)
    how = ("leader kill -9 x2 (%s; 30 s writers; fo->fo/nfo), rf=3 min.isr=2"
           % ", ".join(moves))
    return ["%s: librdkafka %s; metrics: %d broker errors, 0 failed" % (how, line, errs),
            "%s: %s" % (how, nline)]


def exactly_once(env, kc, kills=5):
    kc.create_topic("eo", partitions=1, rf=3, min_isr=2)
    src = env.path("corpus-eo.log")
    events = corpus(env, src, "8M", "--seed", "22")
    agent, logs = agent_for(env, kc, "eo", "eo", "    exactly_once: true\n")
    agent.start()
    w = Writer(src, os.path.join(logs, "app.log"), rate=os.path.getsize(src) / 10)
    w.start()
    rnd = random.Random(22)
    commits = skipped = commit_ms = 0
    # a reload mid-stream first: the pipeline is rebuilt like a restart (the
    # new producer fences the old one's transaction)
    wait_until(lambda: delivered(agent) > 0, 60, "records flowing")
    agent.signal(signal.SIGHUP)
    wait_until(lambda: agent.metric("sluice_agent_reloads_total") >= 1, 60, "the reload")
    for _ in range(kills):
        time.sleep(rnd.uniform(0.8, 2.0))
        m = agent.metrics()
        commits += m.get("sluice_agent_kafka_transactions_committed_total" + M, 0)
        skipped += m.get("sluice_agent_kafka_batches_skipped_total" + M, 0)
        commit_ms += m.get("sluice_agent_kafka_transaction_commit_ms_total" + M, 0)
        agent.kill()
        agent.start()
    w.join()
    assert w.error is None, w.error
    wait_until(lambda: len(values(kc, "eo")) >= events, 120, "every event committed", step=1)
    m = agent.metrics()
    commits += m.get("sluice_agent_kafka_transactions_committed_total" + M, 0)
    skipped += m.get("sluice_agent_kafka_batches_skipped_total" + M, 0)
    commit_ms += m.get("sluice_agent_kafka_transaction_commit_ms_total" + M, 0)
    assert agent.term() == 0
    line = seq_check(env, values(kc, "eo"), events)
    assert commits > 0
    # The data dir wiped (spool entry ids start again at 1) under the same
    # transactional.id: the positions in Kafka belong to the old spool and
    # must not make the new one skip its first entries.
    shutil.rmtree(env.path("data-eo"))
    logs2 = env.path("logs-eo2")
    os.makedirs(logs2)
    more = corpus(env, os.path.join(logs2, "app.log"), "1M", "--seed", "24", "--start-seq",
                  str(events))
    agent.write_config(CONFIG.format(data=env.path("data-eo"), logs=logs2,
                                     bootstrap=kc.bootstrap, topic="eo",
                                     extra="    exactly_once: true\n"))
    agent.start()
    wait_until(lambda: len(values(kc, "eo")) >= events + more, 120,
               "the new spool's events committed", step=1)
    assert agent.term() == 0
    line2 = seq_check(env, values(kc, "eo"), events + more)
    return ("exactly_once, agent kill -9 x%d: %s (read_committed); %d transactions "
            "(commit %.1f ms each), %d committed batches re-sent by the spool and skipped, "
            "one SIGHUP reload; then a wiped data dir: %s"
            % (kills, line, commits, commit_ms / max(commits, 1), skipped, line2))


def sluice(*args, timeout=120):
    r = subprocess.run([os.path.join(BIN, "sluice")] + list(args), capture_output=True,
                       timeout=timeout)
    assert r.returncode == 0, (args, r.returncode, r.stderr.decode(errors="replace"))
    return r.stdout.decode(errors="replace")


def rfc3339(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)


def cli(env, kc):
    from confluent_kafka import Producer
    kc.create_topic("cli", partitions=3, rf=3, min_isr=2)
    base = 1764000000000
    p = Producer({"bootstrap.servers": kc.bootstrap, "enable.idempotence": True})
    for i in range(300):
        p.produce("cli", value=b"cli seq=%d" % i, key=b"k%d" % (i % 7), timestamp=base + i * 1000,
                  headers=[("n", b"%d" % (i % 3))])
    assert p.flush(60) == 0
    # the agent's corpus: --grep finds one event among 73k
    out = sluice("consume", "--brokers", kc.bootstrap, "fo", "--grep", '"seq": 1234[,}]')
    assert len(out.splitlines()) == 1 and '"seq": 1234' in out, out[:300]
    # a time window over three partitions: offsets-for-times, then a bounded read
    out = sluice("consume", "--brokers", kc.bootstrap, "cli", "--from-time", rfc3339(base + 100000),
                 "--to-time", rfc3339(base + 149000), "--format", "json")
    got = sorted(int(json.loads(x)["value"].split("=")[1]) for x in out.splitlines())
    assert got == list(range(100, 150)), got[:10]
    out = sluice("consume", "--brokers", kc.bootstrap, "cli", "--header", "n=1",
                 "--grep", "seq=1[0-9]$")
    assert sorted(out.splitlines()) == sorted("cli seq=%d" % i for i in (10, 13, 16, 19)), out
    # replay a slice into another topic of the cluster, key, headers and times kept
    sluice("replay", "--brokers", kc.bootstrap, "cli", "--from-time", rfc3339(base + 200000),
           "--to-time", rfc3339(base + 209000), "--to-topic", "cli-replayed", "--quiet")
    out = sluice("consume", "--brokers", kc.bootstrap, "cli-replayed", "--format", "json")
    recs = [json.loads(x) for x in out.splitlines()]
    assert sorted(int(r["value"].split("=")[1]) for r in recs) == list(range(200, 210)), out[:300]
    # --follow: new records show up while it runs
    f = subprocess.Popen([os.path.join(BIN, "sluice"), "consume", "--brokers", kc.bootstrap, "cli",
                          "--follow", "--grep", "^late"], stdout=subprocess.PIPE)
    env.procs.append(f)
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x.decode().strip())
                                     for x in iter(f.stdout.readline, b"")], daemon=True).start()
    try:
        # warm-up records until the follower shows one (it is at the end of
        # the log), then five more that must all show, in order
        for n in range(240):
            p.produce("cli", value=b"late warm-up %d" % n, key=b"x")
            p.flush(10)
            try:
                lines.get(timeout=0.25)
                break
            except queue.Empty:
                pass
        else:
            raise AssertionError("sluice consume --follow never showed a new record")
        for i in range(5):
            p.produce("cli", value=b"late %d" % i, key=b"x")
        assert p.flush(60) == 0
        got = []
        deadline = time.time() + 60
        while len(got) < 5 and time.time() < deadline:
            try:
                x = lines.get(timeout=1)
            except queue.Empty:
                continue
            if "warm-up" not in x:
                got.append(x)
        assert got == ["late %d" % i for i in range(5)], got
    finally:
        f.kill()
        f.wait()
    return ("sluice --brokers: consume --grep (1 event of the corpus), --from-time/--to-time "
            "over 3 partitions (50), --header + --grep (4), replay to another topic (10), "
            "--follow (5 new)")


def kcat_secure(kc, user, password, *args):
    return subprocess.run(["kcat", "-b", kc.secure_bootstrap, "-X", "security.protocol=SASL_SSL",
                           "-X", "sasl.mechanisms=PLAIN", "-X", "sasl.username=" + user,
                           "-X", "sasl.password=" + password, "-X", "ssl.ca.location=" + kc.ca]
                          + list(args), capture_output=True, timeout=120)


def sasl_ssl(env, kc):
    kc.create_topic("sec", partitions=1, rf=3, min_isr=2)
    src = env.path("corpus-sec.log")
    events = corpus(env, src, "2M", "--seed", "23")
    extra = ("    security_protocol: sasl_ssl\n    sasl_mechanism: PLAIN\n"
             "    sasl_username: agent\n    sasl_password: %s\n    ssl_ca_location: %s\n"
             % (kc.USERS["agent"], kc.ca))
    logs = env.path("logs-sec")
    os.makedirs(logs)
    cfg = CONFIG.format(data=env.path("data-sec"), logs=logs, bootstrap=kc.secure_bootstrap,
                        topic="sec", extra=extra)
    agent = Agent(env, cfg, name="agent-sec")
    agent.start()
    w = Writer(src, os.path.join(logs, "app.log"), rate=os.path.getsize(src) / 2)
    w.start()
    w.join()
    wait_until(lambda: delivered(agent) >= events, 120, "every event delivered over SASL_SSL")
    assert agent.term() == 0
    r = kcat_secure(kc, "agent", kc.USERS["agent"], "-C", "-t", "sec", "-o", "beginning", "-e",
                    "-q", "-f", "%s\n")
    assert r.returncode == 0, r.stderr
    line = env.check_seq(r.stdout, expect=events)
    assert "missing=0" in line and "duplicated=0" in line, line
    bad = kcat_secure(kc, "agent", "wrong", "-L", "-m", "10")
    assert bad.returncode != 0 and b"uthentication" in bad.stderr, bad.stderr[-300:]
    # the CLI through the same listener, librdkafka properties passed on
    props = ["security.protocol=SASL_SSL", "sasl.mechanisms=PLAIN", "sasl.username=agent",
             "sasl.password=" + kc.USERS["agent"], "ssl.ca.location=" + kc.ca]
    out = sluice("consume", "--brokers", kc.secure_bootstrap, "sec",
                 *[a for p in props for a in ("--kafka-prop", p)])
    cli_line = env.check_seq(out.encode(), expect=events)
    r = subprocess.run([os.path.join(BIN, "sluice"), "consume", "--brokers",
                        kc.secure_bootstrap, "sec", "--kafka-prop", "no-equals-sign"],
                       capture_output=True, timeout=60)
    assert r.returncode != 0 and b"key=value" in r.stderr, r.stderr
    return ("SASL_SSL (PLAIN, test CA): agent %s; a wrong password refused; "
            "sluice consume --kafka-prop ...: %s" % (line, cli_line))


def security_check(env):
    for proto in ("plaintext", "ssl", "sasl_plaintext", "sasl_ssl"):
        for mech in ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"):
            extra = "    security_protocol: %s\n    sasl_mechanism: %s\n" % (proto, mech)
            if proto.startswith("sasl"):
                extra += "    sasl_username: u\n    sasl_password: p\n"
            path = env.path("check-%s-%s.yaml" % (proto, mech))
            with open(path, "w") as f:
                f.write(CONFIG.format(data=env.path("data-check"), logs=env.path("logs-check"),
                                      bootstrap="127.0.0.1:9", topic="t", extra=extra)
                        .replace("@HTTP@", "127.0.0.1:9"))
            r = subprocess.run([os.path.join(BIN, "sluice-agent"), "--check", "-c", path],
                               capture_output=True, text=True)
            assert r.returncode == 0, (proto, mech, r.returncode, r.stderr[-500:])
    return "--check accepts every security_protocol x sasl_mechanism (12 configs)"


def main():
    with Env() as env:
        result(security_check(env))
        t0 = time.time()
        # phase 1's corpora are written while the JVMs start
        kc, corpora = run_parallel((lambda: kafkacluster.start(env, nodes=3, sasl_ssl=True),),
                                   (failover_corpora, env))
        try:
            result("3-node Kafka 4.1 cluster up in %.1fs" % (time.time() - t0))
            for line in failover(env, kc, corpora):
                result(line)
            phases = [(exactly_once, env, kc), (sasl_ssl, env, kc), (native.agent_kills, env, kc),
                      (native.keyed, env, kc), (native.sasl_ssl, env, kc)]
            if os.environ.get("SLUICE_CLI_KAFKA", "1") == "1":
                phases.insert(1, (cli, env, kc))
            for line in run_parallel(*phases):
                result(line)
        except BaseException:
            print(kc.logs(), flush=True)
            sys.stdout.write("--- agent logs\n")
            for name in ("fo", "eo", "sec", "nfo", "nkill", "nkeys", "nsec", "nbad"):
                try:
                    with open(env.path("agent-%s.log" % name), errors="replace") as f:
                        sys.stdout.write("".join(f.readlines()[-40:]))
                except OSError:
                    pass
            raise
        finally:
            kc.stop()


if __name__ == "__main__":
    main()
