# SPDX-License-Identifier: Apache-2.0
"""A real Apache Kafka 4.x cluster (KRaft) for integration tests and benches.

The jars come from scripts/kafka-jars.sh (pinned in tests/kafka/pom.xml,
copied into build/kafka-jars/); each node runs `java -Xmx512m` in combined
controller+broker mode on free 127.0.0.1 ports with its own data dir under
the Env's directory.  Nodes are formatted and started in parallel (a JVM
start on a loaded 2-core machine takes seconds), stopped or killed by PID,
and every node is killed when the Env closes, even on failure; each node's
log is kept in the Env dir and `logs()` returns their tails for a failure
message.

    from sluicetest import Env
    import kafkacluster
    with Env() as env:
        kc = kafkacluster.start(env, nodes=3)        # or kafkacluster.Cluster
        kc.create_topic("t", partitions=1, rf=3, min_isr=2)
        leader = kc.leader("t", 0)                   # node id
        kc.node(leader).kill(); kc.node(leader).start()
"""
import base64
import glob
import os
import signal
import subprocess
import threading
import time
import uuid

import sluicetest

JARS = os.environ.get("SLUICE_KAFKA_JARS") or os.path.join(sluicetest.TOP, "build/kafka-jars")
HEAP = os.environ.get("SLUICE_KAFKA_HEAP", "-Xmx512m")
LOGGING = ["-Djava.awt.headless=true", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
           "-Dorg.slf4j.simpleLogger.showDateTime=true"]
# Tests: a fast start on a loaded 2-core machine (C1 only, serial GC).
JVM = [HEAP, "-Xms128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k"] + LOGGING
# Benchmarks: Kafka's own start-script settings (G1, full JIT), heap as above.
JVM_BENCH = [HEAP, "-Xms512m", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
             "-XX:InitiatingHeapOccupancyPercent=35", "-XX:+ExplicitGCInvokesConcurrent"] + LOGGING


def ensure_jars():
    """Fetch the jars when missing (a no-op when scripts/deps.sh already did)."""
    if not glob.glob(os.path.join(JARS, "kafka_2.13-*.jar")):
        subprocess.run([os.path.join(sluicetest.TOP, "scripts/kafka-jars.sh")], check=True)
    return os.path.join(JARS, "*")


def java(main, *args, jvm=None):
    """argv of one Kafka main class (tools: kafka.tools.*, org.apache.kafka.tools.*)."""
    return ["java"] + (jvm or JVM) + ["-cp", ensure_jars(), main] + list(args)


class Node:
    def __init__(self, cluster, node_id):
        self.cluster = cluster
        self.id = node_id
        self.port = sluicetest.free_port()
        self.controller_port = sluicetest.free_port()
        self.secure_port = sluicetest.free_port() if cluster.sasl_ssl else None
        self.dir = os.path.join(cluster.env.dir, "kafka%d" % node_id)
        self.data = os.path.join(self.dir, "data")
        self.conf = os.path.join(self.dir, "server.properties")
        self.log_path = os.path.join(self.dir, "server.log")
        self.proc = None

    @property
    def bootstrap(self):
        return "127.0.0.1:%d" % self.port

    def write_conf(self):
        c = self.cluster
        rf = min(3, len(c.nodes))
        props = {
            "process.roles": "broker,controller",
            "node.id": self.id,
            "controller.quorum.voters": ",".join(
                "%d@127.0.0.1:%d" % (n.id, n.controller_port) for n in c.nodes),
            "listeners": "PLAINTEXT://127.0.0.1:%d,CONTROLLER://127.0.0.1:%d" % (
                self.port, self.controller_port),
            "advertised.listeners": "PLAINTEXT://127.0.0.1:%d" % self.port,
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": self.data,
            "num.partitions": 1,
            "offsets.topic.replication.factor": rf,
            "offsets.topic.num.partitions": 3,
            "transaction.state.log.replication.factor": rf,
            "transaction.state.log.min.isr": min(2, rf),
            "transaction.state.log.num.partitions": 3,
            "group.initial.rebalance.delay.ms": 0,
            "num.network.threads": 2,
            "num.io.threads": 2,
            "background.threads": 2,
            "num.replica.fetchers": 1,
            "log.flush.interval.messages": c.flush_messages or 9223372036854775807,
            "auto.create.topics.enable": "true",
            "unclean.leader.election.enable": "false",
        }
        if c.sasl_ssl:
            props["listeners"] += ",SASL_SSL://127.0.0.1:%d" % self.secure_port
            props["advertised.listeners"] += ",SASL_SSL://127.0.0.1:%d" % self.secure_port
            props["listener.security.protocol.map"] += ",SASL_SSL:SASL_SSL"
            props.update(c.sasl_ssl_props())
        props.update(c.extra)
        os.makedirs(self.dir, exist_ok=True)
        with open(self.conf, "w") as f:
            for k, v in props.items():
                f.write("%s=%s\n" % (k, v))

    def format(self):
        out = subprocess.run(java("kafka.tools.StorageTool", "format",
                                  "-t", self.cluster.cluster_id,
                                  "-c", self.conf, "--ignore-formatted"),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        if out.returncode != 0:
            raise RuntimeError("kafka storage format of node %d failed:\n%s" % (
                self.id, out.stdout.decode(errors="replace")))

    def start(self):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(java("kafka.Kafka", self.conf, jvm=self.cluster.jvm),
                                     stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.cluster.env.procs.append(self.proc)
        self.started_at = time.time()
        return self

    def wait(self, timeout=120):
        sluicetest.wait_port(self.port, timeout, self.proc)
        return self

    def kill(self, sig=signal.SIGKILL, timeout=60):
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

    def stop(self):
        return self.kill(signal.SIGTERM)

    def log(self, tail=60):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-tail:])
        except OSError:
            return ""


class Cluster:
    def __init__(self, env, nodes=3, extra=None, flush_messages=None, jvm=None, sasl_ssl=False):
        self.env = env
        self.jvm = jvm
        self.sasl_ssl = sasl_ssl
        self.cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        self.extra = dict(extra or {})
        self.flush_messages = flush_messages
        self.nodes = []
        self.nodes = [Node(self, i + 1) for i in range(nodes)]
        env.kafka_cluster = self

    @property
    def bootstrap(self):
        return ",".join(n.bootstrap for n in self.nodes)

    @property
    def secure_bootstrap(self):
        """The SASL_SSL listeners (sasl_ssl=True): SASL PLAIN, users in USERS,
        server certificate signed by self.ca (for 127.0.0.1)."""
        return ",".join("127.0.0.1:%d" % n.secure_port for n in self.nodes)

    USERS = {"admin": "admin-secret", "agent": "agent-secret"}
    KEYSTORE_PASSWORD = "kafka-test-pass"

    def make_certs(self):
        d = os.path.join(self.env.dir, "kafka-tls")
        os.makedirs(d, exist_ok=True)
        self.ca = os.path.join(d, "ca.pem")
        self.keystore = os.path.join(d, "server.p12")

        def ssl(*a):
            subprocess.run(["openssl"] + list(a), check=True, capture_output=True, cwd=d)
        ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
            "ca.pem", "-days", "2", "-subj", "/CN=sluice-test-ca")
        ssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out",
            "server.csr", "-subj", "/CN=127.0.0.1")
        with open(os.path.join(d, "san.ext"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        ssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "san.ext")
        ssl("pkcs12", "-export", "-in", "server.pem", "-inkey", "server.key", "-out",
            "server.p12", "-passout", "pass:" + self.KEYSTORE_PASSWORD, "-name", "kafka")

    def sasl_ssl_props(self):
        users = " ".join('user_%s="%s"' % kv for kv in self.USERS.items())
        return {
            "sasl.enabled.mechanisms": "PLAIN",
            "listener.name.sasl_ssl.plain.sasl.jaas.config":
                "org.apache.kafka.common.security.plain.PlainLoginModule required "
                'username="admin" password="%s" %s;' % (self.USERS["admin"], users),
            "ssl.keystore.type": "PKCS12",
            "ssl.keystore.location": self.keystore,
            "ssl.keystore.password": self.KEYSTORE_PASSWORD,
        }

    def node(self, node_id):
        return self.nodes[node_id - 1]

    def _parallel(self, fn):
        errs = []

        def run(n):
            try:
                fn(n)
            except Exception as e:  # noqa: BLE001 - reported below
                errs.append(e)
        ts = [threading.Thread(target=run, args=(n,)) for n in self.nodes]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        if errs:
            raise errs[0]

    def start(self, timeout=180):
        ensure_jars()
        if self.sasl_ssl:
            self.make_certs()
        for n in self.nodes:
            n.write_conf()
        self._parallel(lambda n: n.format())
        for n in self.nodes:
            n.start()
        try:
            self._parallel(lambda n: n.wait(timeout))
            self.wait_brokers(len(self.nodes), timeout)
        except Exception:
            print(self.logs(), flush=True)
            raise
        return self

    def admin(self):
        from confluent_kafka.admin import AdminClient
        return AdminClient({"bootstrap.servers": self.bootstrap, "socket.timeout.ms": 5000})

    def wait_brokers(self, count, timeout=120):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            try:
                md = self.admin().list_topics(timeout=5)
                if len(md.brokers) >= count:
                    return
                last = "%d brokers" % len(md.brokers)
            except Exception as e:  # noqa: BLE001 - retried until the deadline
                last = e
            time.sleep(0.3)
        raise RuntimeError("kafka: %d brokers not up after %ds (%s)" % (count, timeout, last))

    def create_topic(self, topic, partitions=1, rf=3, min_isr=None, timeout=60, replicas=None):
        """replicas: the node ids of every partition's replicas, in order (the
        first in-sync one leads); default: Kafka places rf of them."""
        from confluent_kafka.admin import NewTopic
        cfg = {}
        if min_isr:
            cfg["min.insync.replicas"] = str(min_isr)
        if replicas:
            nt = NewTopic(topic, partitions, replica_assignment=[list(replicas)] * partitions,
                          config=cfg)
        else:
            nt = NewTopic(topic, partitions, rf, config=cfg)
        admin = self.admin()   # alive until the future resolves
        fs = admin.create_topics([nt], operation_timeout=timeout)
        fs[topic].result(timeout)
        self.wait_leader(topic, 0, timeout)

    def partition(self, topic, p=0):
        md = self.admin().list_topics(topic, timeout=5)
        t = md.topics.get(topic)
        if t is None or t.error is not None or p not in t.partitions:
            return None
        return t.partitions[p]

    def leader(self, topic, p=0):
        part = self.partition(topic, p)
        return part.leader if part is not None else -1

    def wait_leader(self, topic, p=0, timeout=60, not_node=None, isr=None):
        """Node id of the partition's leader once there is one (other than
        not_node, with at least isr in-sync replicas)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                part = self.partition(topic, p)
                if part is not None and part.leader > 0 and part.leader != not_node and \
                        (isr is None or len(part.isrs) >= isr):
                    return part.leader
            except Exception:  # noqa: BLE001 - retried until the deadline
                pass
            time.sleep(0.2)
        raise RuntimeError("kafka: no leader for %s/%d after %ds" % (topic, p, timeout))

    def stop(self):
        for n in self.nodes:
            n.kill()

    def logs(self, tail=40):
        return "\n".join("--- kafka node %d (%s)\n%s" % (n.id, n.log_path, n.log(tail))
                         for n in self.nodes)


def start(env, nodes=3, **kw):
    """Start a cluster whose nodes the Env kills on exit (their logs printed
    when the block raised)."""
    return Cluster(env, nodes, **kw).start()
