# SPDX-License-Identifier: Apache-2.0
"""Apache Kafka's own Java side against sluice-store, all pinned at 4.1.1
(tests/kafka/pom.xml, jars in build/kafka-jars from scripts/kafka-jars.sh):

1. the Java client (kafka-clients): tests/java/SluiceClientTest.java, compiled
   here with javac into build/java: idempotent produce in every codec with
   headers, a consumer group that commits and a second consumer resuming
   from the commit, the Admin API (topics, configs, offsets, records, groups,
   cluster), static membership and transactions (read_committed);
2. Kafka's command-line tools, by their main classes: kafka-topics
   --create/--list/--describe/--alter --partitions/--delete,
   kafka-console-producer then kafka-console-consumer --group (numbered
   events, check_seq.py), kafka-consumer-groups --describe/--reset-offsets
   --to-earliest --execute/--delete, kafka-configs --describe/--alter,
   kafka-get-offsets, kafka-delete-records;
3. a Kafka Connect standalone worker (file offset storage, connectors from
   the classpath) whose FileStreamSinkConnector drains the tools' topic of N
   numbered events into a file, awaited until all N arrived (check_seq.py).

A JVM start costs 1-2 s of CPU, so the client checks and every tool run in
one JVM (SluiceClientTest serve: a tool's Exit.exit ends the tool, not the
JVM; SLUICE_JAVA_FORK_TOOLS=1 runs each tool in its own JVM instead), and
Connect, the only other JVM, runs beside it.

A check that needs an API (or version) the store's ApiVersions answer does
not advertise is reported "SKIP: <API> vN not advertised", so the test turns
strict by itself once the store offers it; any other failure fails the test.
Each check is appended to $SLUICE_COMPAT_DIR/<client>.jsonl (default
build/compat/; clients "java kafka-clients", "kafka tools", "kafka connect",
version 4.1.1) for docs/KAFKA.md's compatibility matrix.
"""
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import TOP, Env, RawClient, free_port, result, wait_until  # noqa: E402

VERSION = "4.1.1"
JARS = os.environ.get("SLUICE_KAFKA_JARS") or os.path.join(TOP, "build/kafka-jars")
SRC = os.path.join(TOP, "tests/java/SluiceClientTest.java")
CLASSES = os.path.join(TOP, "build/java")
COMPAT = os.environ.get("SLUICE_COMPAT_DIR") or os.path.join(TOP, "build/compat")
FORK = os.environ.get("SLUICE_JAVA_FORK_TOOLS") == "1"
# a fast start on a loaded 2-core machine: C1 only, serial GC, quiet logs
JVM = ["-Xmx384m", "-Xms64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k",
       "-Djava.awt.headless=true", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"]
N = 1000            # events through the console producer, consumer and Connect
TOPIC = "kt"
JAVA, TOOLS, CONNECT = "java kafka-clients", "kafka tools", "kafka connect"
CLIENTS = (JAVA, TOOLS, CONNECT)
API_NAMES = {21: "DeleteRecords", 37: "CreatePartitions", 42: "DeleteGroups",
             44: "IncrementalAlterConfigs"}

TOPICS = "org.apache.kafka.tools.TopicCommand"
PRODUCER = "org.apache.kafka.tools.ConsoleProducer"
CONSUMER = "org.apache.kafka.tools.consumer.ConsoleConsumer"
GROUPS = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand"
CONFIGS = "kafka.admin.ConfigCommand"
OFFSETS = "org.apache.kafka.tools.GetOffsetShell"
DELETE_RECORDS = "org.apache.kafka.tools.DeleteRecordsCommand"
STANDALONE = "org.apache.kafka.connect.cli.ConnectStandalone"


def classpath():
    return CLASSES + os.pathsep + os.path.join(JARS, "*")


def java(main, *args):
    return ["java"] + JVM + ["-cp", classpath(), main] + [str(a) for a in args]


def prepare():
    """The jars (a no-op when the pom's stamp matches) and the test program,
    compiled again only when its source is newer than its class."""
    if not shutil.which("javac"):
        raise AssertionError("no javac: scripts/deps.sh installs openjdk-17-jdk-headless")
    subprocess.run([os.path.join(TOP, "scripts/kafka-jars.sh")], check=True)
    cls = os.path.join(CLASSES, "SluiceClientTest.class")
    if not os.path.exists(cls) or os.path.getmtime(cls) < os.path.getmtime(SRC):
        os.makedirs(CLASSES, exist_ok=True)
        subprocess.run(["javac", "-Xlint:all", "-Xlint:-serial", "-Xlint:-path", "-d", CLASSES,
                        "-cp", os.path.join(JARS, "*"), SRC], check=True)


def api_versions(store):
    """{api key: (min, max)} as the store advertises them."""
    from kafka.protocol.admin import ApiVersionRequest
    c = RawClient(store)
    try:
        r = c.call(ApiVersionRequest[0]())
    finally:
        c.close()
    assert r.error_code == 0, "ApiVersions error %d" % r.error_code
    return {k: (lo, hi) for k, lo, hi in r.api_versions}


def _record_compat(client, version, check, res):
    """harness.record_compat's format, for a harness without it: one line
    appended to $SLUICE_COMPAT_DIR/<client>.jsonl, result "pass", "fail: why"
    or "skip: why"."""
    os.makedirs(COMPAT, exist_ok=True)
    name = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in client)
    with open(os.path.join(COMPAT, name + ".jsonl"), "a") as f:
        f.write(json.dumps({"client": client, "version": version, "check": check,
                            "result": res}) + "\n")


record_compat = getattr(harness, "record_compat", _record_compat)


class Results:
    def __init__(self, apis):
        self.apis = apis
        self.rows = []

    def add(self, client, check, res, detail="", took=None):
        self.rows.append((client, check, res))
        record_compat(client, VERSION, check, res + (": " + detail if detail else ""))
        print("%s [%s] %s%s%s" % (res.upper(), client, check, " (%s)" % took if took else "",
                                  ": " + detail if detail else ""), flush=True)

    def missing(self, needs):
        """The SKIP reason when the store lacks one of needs [(key, min version)]."""
        for key, ver in needs:
            v = self.apis.get(key)
            if v is None or v[1] < ver:
                return "%s v%d not advertised" % (API_NAMES.get(key, "API %d" % key), ver)
        return None

    def check(self, client, name, fn, needs=()):
        why = self.missing(needs)
        if why:
            self.add(client, name, "skip", why)
            return
        t0 = time.time()
        try:
            fn()
            self.add(client, name, "pass", took="%.1fs" % (time.time() - t0))
        except Exception as e:  # noqa: BLE001 - any failure is the check's result
            self.add(client, name, "fail", " ".join(str(e).split())[:600],
                     took="%.1fs" % (time.time() - t0))

    def java_lines(self, rc, out):
        n = 0
        for line in out.splitlines():
            m = re.match(r"(PASS|FAIL|SKIP) ([^:\[]+?)(?: \[([0-9.]+s)\])?(?:: (.*))?$", line)
            if m:
                n += 1
                self.add(JAVA, m.group(2), m.group(1).lower(), m.group(4) or "", m.group(3))
        if n == 0 or (rc != 0 and not self.count("fail")):
            self.add(JAVA, "SluiceClientTest", "fail", "exit %d: %s" % (rc, out[-600:]))

    def count(self, res, client=None):
        return sum(1 for r in self.rows if r[2] == res and client in (None, r[0]))


class Jvm:
    """One SluiceClientTest serve process: a command per line, "END rc" back."""

    def __init__(self, env, bootstrap, apis):
        self.env = env
        self.n = 0
        spec = ",".join("%d:%d-%d" % (k, lo, hi) for k, (lo, hi) in sorted(apis.items()))
        self.log = env.path("jvm.log")
        with open(self.log, "wb") as log:
            self.proc = env.spawn(java("SluiceClientTest", "--apis", spec, bootstrap, "serve"),
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                  bufsize=0)
        self.buf = b""

    def _line(self, timeout):
        deadline = time.time() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError("no answer from the JVM after %ds" % timeout)
            if self.proc.poll() is not None:
                raise AssertionError("the JVM exited with %d" % self.proc.returncode)
            r, _, _ = select.select([self.proc.stdout], [], [], min(left, 1.0))
            if r:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    raise AssertionError("the JVM closed its output")
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()

    def run(self, cmd, *args, stdin=None, timeout=240):
        self.n += 1
        out = self.env.path("cmd%02d.out" % self.n)
        self.proc.stdin.write(("\t".join([out, stdin or "-", cmd] + [str(a) for a in args])
                               + "\n").encode())
        self.proc.stdin.flush()
        line = self._line(timeout)
        assert line.startswith("END "), "JVM answered %r" % line
        with open(out, encoding="utf-8", errors="replace") as f:
            return int(line[4:]), f.read()

    def tool(self, main, *args, stdin=None, timeout=120):
        """(exit code, stdout + stderr) of one Kafka tool."""
        if not FORK:
            return self.run("tool", main, *args, stdin=stdin, timeout=timeout)
        with open(stdin or os.devnull, "rb") as f:
            r = subprocess.run(java(main, *args), stdin=f, capture_output=True, timeout=timeout)
        return r.returncode, (r.stdout + r.stderr).decode(errors="replace")


def ok(rc, out, *want):
    """rc 0 and every regex of want in out."""
    short = " ".join(out.split())[-500:]
    if rc != 0:
        raise AssertionError("exit %d: %s" % (rc, short))
    for w in want:
        if not re.search(w, out, re.M):
            raise AssertionError("no /%s/ in: %s" % (w, short))


def table(out, first):
    """Rows of a tool's whitespace table whose first column is first."""
    return [line.split() for line in out.splitlines() if line.split()[:1] == [first]]


class Tools:
    """Kafka's command-line tools over topic kt (N numbered events)."""

    def __init__(self, env, jvm, res, bs):
        self.env, self.jvm, self.res, self.bs = env, jvm, res, bs
        self.B = ["--bootstrap-server", bs]
        self.produced = False
        self.latest = None

    def run(self, main, *args, **kw):
        return self.jvm.tool(main, *self.B, *args, **kw)

    def offsets(self, *extra):
        rc, out = self.run(OFFSETS, "--topic", TOPIC, *extra)
        ok(rc, out, r"^%s:0:\d+" % TOPIC)
        return {int(p): int(o) for p, o in re.findall(r"^%s:(\d+):(\d+)$" % TOPIC, out, re.M)}

    def group_rows(self):
        """{partition: (current offset, lag)} of kafka-consumer-groups --describe kcg."""
        rc, out = self.run(GROUPS, "--describe", "--group", "kcg")
        ok(rc, out, r"^kcg\s+%s\s" % TOPIC)
        return {int(r[2]): (r[3], r[5]) for r in table(out, "kcg") if r[1] == TOPIC}

    def listed(self, main, name):
        rc, out = self.run(main, "--list")
        ok(rc, out)
        return name in out.split()

    # ---- before Connect starts: the topic and its events
    def create(self):
        ok(*self.run(TOPICS, "--create", "--topic", TOPIC, "--partitions", 2,
                     "--replication-factor", 1, "--config", "retention.ms=86400000"),
           r"Created topic %s\." % TOPIC)

    def create_again(self):
        rc, out = self.run(TOPICS, "--create", "--topic", TOPIC, "--partitions", 2)
        assert rc == 1 and "TopicExistsException" in out, \
            "exit %d: %s" % (rc, " ".join(out.split())[-300:])

    def listing(self):
        assert self.listed(TOPICS, TOPIC), "%s not listed" % TOPIC

    def describe(self):
        rc, out = self.run(TOPICS, "--describe", "--topic", TOPIC)
        ok(rc, out, r"PartitionCount: 2\b", r"ReplicationFactor: 1\b", r"retention\.ms=86400000")
        parts = re.findall(r"Partition: (\d+)\s+Leader: 0\s+Replicas: 0\s+Isr: 0", out)
        assert sorted(parts) == ["0", "1"], "partition lines %s in %s" % (parts, out)
        if self.res.apis.get(3, (0, 0))[1] >= 10:  # Metadata v10+ carries topic ids
            ok(rc, out, r"TopicId: \S+")  # the tool leaves out a zero id

    def produce(self):
        path = self.env.path("events.txt")
        with open(path, "w") as f:
            for i in range(N):
                f.write("seq=%d kafka-console-producer event %s\n" % (i, "x" * (i % 50)))
        rc, out = self.run(PRODUCER, "--topic", TOPIC, "--producer-property", "acks=all",
                           stdin=path)
        ok(rc, out)
        # a failed send is only logged (ErrorLoggingCallback), the exit code stays 0
        assert not re.search(r"\b(ERROR|Exception)\b", out), "producer said: %s" % out[-500:]
        self.produced = True

    def setup(self):
        self.res.check(TOOLS, "kafka-topics --create", self.create)
        self.res.check(TOOLS, "kafka-topics --create of an existing topic fails", self.create_again)
        self.res.check(TOOLS, "kafka-topics --list", self.listing)
        self.res.check(TOOLS, "kafka-topics --describe", self.describe)
        self.res.check(TOOLS, "kafka-console-producer", self.produce)

    # ---- beside Connect: reading, groups, configs, offsets
    def consume(self):
        rc, out = self.run(CONSUMER, "--topic", TOPIC, "--group", "kcg", "--from-beginning",
                           "--max-messages", N, "--timeout-ms", 60000)
        ok(rc, out, r"Processed a total of %d messages" % N)
        self.env.check_seq(out.encode(), expect=N)

    def groups_describe(self):
        rows = self.group_rows()
        cur = sum(int(c) for c, _ in rows.values())
        assert len(rows) == 2 and cur == N and all(lag == "0" for _, lag in rows.values()), \
            "group offsets %s, want 2 partitions summing to %d with lag 0" % (rows, N)

    def groups_reset(self):
        rc, out = self.run(GROUPS, "--reset-offsets", "--group", "kcg", "--topic", TOPIC,
                           "--to-earliest", "--execute")
        ok(rc, out)
        new = {r[2]: r[3] for r in table(out, "kcg")}
        assert new == {"0": "0", "1": "0"}, "reset printed %s" % new
        rows = self.group_rows()
        assert {c for c, _ in rows.values()} == {"0"}, "after the reset: %s" % rows

    def configs(self, *args):
        return self.run(CONFIGS, "--entity-type", "topics", "--entity-name", TOPIC, *args)

    def configs_describe(self):
        ok(*self.configs("--describe"), r"retention\.ms=86400000")

    def configs_alter(self):
        ok(*self.configs("--alter", "--add-config", "retention.ms=172800000"),
           r"Completed updating config for topic %s" % TOPIC)
        ok(*self.configs("--describe"), r"retention\.ms=172800000")

    def get_offsets(self):
        latest = self.offsets()
        earliest = self.offsets("--time", -2)
        assert len(latest) == 2 and sum(latest.values()) == N, "latest %s, want %d" % (latest, N)
        assert earliest == {0: 0, 1: 0}, "earliest %s" % earliest
        self.latest = latest

    def reading(self):
        c = self.res.check
        c(TOOLS, "kafka-console-consumer --group", self.consume)
        c(TOOLS, "kafka-consumer-groups --describe", self.groups_describe)
        c(TOOLS, "kafka-consumer-groups --reset-offsets --to-earliest --execute", self.groups_reset)
        c(TOOLS, "kafka-configs --describe", self.configs_describe)
        c(TOOLS, "kafka-configs --alter --add-config", self.configs_alter, needs=[(44, 0)])
        c(TOOLS, "kafka-get-offsets", self.get_offsets)

    # ---- once Connect is done: what changes or removes the topic
    def alter_partitions(self):
        ok(*self.run(TOPICS, "--alter", "--topic", TOPIC, "--partitions", 3))
        ok(*self.run(TOPICS, "--describe", "--topic", TOPIC), r"PartitionCount: 3\b")

    def delete_records(self):
        assert self.latest, "needs kafka-get-offsets' result"
        part = max(self.latest, key=self.latest.get)
        off = min(10, self.latest[part])
        path = self.env.path("delete-records.json")
        with open(path, "w") as f:
            json.dump({"version": 1, "partitions": [
                {"topic": TOPIC, "partition": part, "offset": off}]}, f)
        ok(*self.run(DELETE_RECORDS, "--offset-json-file", path),
           r"partition: %s-%d\s+low_watermark: %d" % (TOPIC, part, off))
        earliest = self.offsets("--time", -2)
        assert earliest.get(part) == off, "earliest %s after deleting below %d" % (earliest, off)

    def groups_delete(self):
        ok(*self.run(GROUPS, "--delete", "--group", "kcg"),
           r"Deletion of requested consumer groups \('kcg'\) was successful")
        assert not self.listed(GROUPS, "kcg"), "kcg still listed"

    def topics_delete(self):
        ok(*self.run(TOPICS, "--delete", "--topic", TOPIC))
        wait_until(lambda: not self.listed(TOPICS, TOPIC), 30,
                   "%s gone from kafka-topics --list" % TOPIC, step=0.5)

    def removing(self):
        c = self.res.check
        c(TOOLS, "kafka-topics --alter --partitions", self.alter_partitions, needs=[(37, 0)])
        c(TOOLS, "kafka-delete-records", self.delete_records, needs=[(21, 0)])
        c(TOOLS, "kafka-consumer-groups --delete", self.groups_delete, needs=[(42, 0)])
        c(TOOLS, "kafka-topics --delete", self.topics_delete)


class Connect:
    """A standalone worker with the file sink over TOPIC."""

    def __init__(self, env, bs):
        self.out = env.path("connect-sink.txt")
        self.log = env.path("connect.log")
        worker = env.path("connect-worker.properties")
        sink = env.path("connect-sink.properties")
        with open(worker, "w") as f:
            f.write("bootstrap.servers=%s\n" % bs
                    + "key.converter=org.apache.kafka.connect.storage.StringConverter\n"
                    + "value.converter=org.apache.kafka.connect.storage.StringConverter\n"
                    + "offset.storage.file.filename=%s\n" % env.path("connect.offsets")
                    + "offset.flush.interval.ms=500\n"
                    + "listeners=http://127.0.0.1:%d\n" % free_port()
                    # connectors from the classpath, found through their
                    # ServiceLoader manifests (no reflective scan of 100 jars)
                    + "plugin.discovery=service_load\n"
                    + "consumer.heartbeat.interval.ms=500\n")
        with open(sink, "w") as f:
            f.write("name=sluice-file-sink\n"
                    "connector.class=org.apache.kafka.connect.file.FileStreamSinkConnector\n"
                    "tasks.max=1\n"
                    "topics=%s\n"
                    "file=%s\n" % (TOPIC, self.out))
        with open(self.log, "wb") as log:
            self.proc = env.spawn(java(STANDALONE, worker, sink), stdout=log,
                                  stderr=subprocess.STDOUT)

    def lines(self):
        try:
            with open(self.out, "rb") as f:
                return f.read().count(b"\n")
        except FileNotFoundError:
            return 0

    def check(self, env):
        def arrived():
            assert self.proc.poll() is None, "the worker exited with %d" % self.proc.returncode
            return self.lines() >= N
        try:
            wait_until(arrived, 120, "%d events in the sink file (have %d)" % (N, self.lines()))
            with open(self.out, "rb") as f:
                env.check_seq(f.read(), expect=N)
        except AssertionError as e:
            with open(self.log, errors="replace") as f:
                raise AssertionError("%s; worker log: %s" % (e, " ".join(f.read()[-800:].split())))
        finally:
            self.stop()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()


def main():
    t0 = time.time()
    prepare()
    res = None
    with Env() as env:
        store = env.start_store(ready="kafka")
        bs = store.bootstrap
        res = Results(api_versions(store))
        jvm = Jvm(env, bs, res.apis)
        tools = Tools(env, jvm, res, bs)
        tools.setup()
        connect = Connect(env, bs) if tools.produced else None
        tools.reading()
        res.java_lines(*jvm.run("checks", "produce", "consume", "admin", "static", "txn"))
        name = "standalone FileStreamSinkConnector drains a topic"
        if connect:
            res.check(CONNECT, name, lambda: connect.check(env))
        else:
            res.add(CONNECT, name, "fail", "no events to drain: kafka-console-producer failed")
        tools.removing()
        jvm.proc.stdin.close()
        with open(jvm.log, errors="replace") as f:
            err = f.read()
        if res.count("fail") and err.strip():
            sys.stderr.write("--- SluiceClientTest serve stderr ---\n%s\n" % err[-3000:])
    summary = ", ".join("%s %d/%d/%d" % (c, res.count("pass", c), res.count("fail", c),
                                          res.count("skip", c)) for c in CLIENTS)
    result("pass/fail/skip: %s in %.1fs" % (summary, time.time() - t0))
    sys.exit(1 if res.count("fail") else 0)


if __name__ == "__main__":
    main()
