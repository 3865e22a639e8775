# SPDX-License-Identifier: Apache-2.0
"""packaging/kubernetes/sluice-agent.yaml, without a cluster (issue 19 case 11).

1. tests/k8s/k8scheck (Go, k8s.io/api pinned in tests/k8s/go.mod) decodes
   every document strictly into its Kubernetes API type and checks what the
   API server or a node would refuse (selector vs labels, mounts vs volumes,
   probe ports, requests vs limits, hostPath paths).  It must refuse three
   broken copies: a misspelt field, a bad quantity, a probe on an undeclared
   port.
2. The ConfigMap's agent.yaml passes `sluice-agent --check` with the
   DaemonSet's environment (NODE_NAME, SLUICE_STORE_URL), its mount paths
   moved under a temp root.
3. That very config runs: the real agent tails a kubelet layout
   (/var/log/containers/<pod>_<ns>_<c>-<id>.log -> /var/log/pods/.../0.log,
   CRI lines of a numbered corpus) and ships over https with the CA and
   token of the Secret to a TLS store; every event arrives exactly once
   (check_seq.py), and the probes' GET /health answers 200.
"""
import os
import subprocess
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, Agent, Env, corpus, kcat_values, result, wait_until  # noqa: E402
from test_store_sasl_ssl import make_pki  # noqa: E402

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MANIFEST = os.path.join(TOP, "packaging", "kubernetes", "sluice-agent.yaml")
TOKEN = "k8s-agent-4f1c2b7a9e30d5c6"
# the DaemonSet's mount paths, moved under the test's root
MOUNTS = ["/var/log/containers", "/var/log/pods", "/var/log/journal", "/var/lib/sluice-agent",
          "/etc/sluice-agent/store"]


def build_checker(env):
    """scripts/test-deps.sh builds it (make test's deps step); built again
    here (a no-op from build/gocache) so a subset run needs nothing first."""
    r = subprocess.run([os.path.join(TOP, "scripts", "test-deps.sh"), "go"],
                       capture_output=True, timeout=900)
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    return os.path.join(TOP, "build", "go", "k8scheck")


def check(checker, path, *args):
    return subprocess.run([checker, path] + list(args), capture_output=True, text=True,
                          timeout=60)


def refused(env, checker, name, old, new, want):
    with open(MANIFEST) as f:
        text = f.read()
    assert old in text, old
    bad = env.path(name + ".yaml")
    with open(bad, "w") as f:
        f.write(text.replace(old, new, 1))
    r = check(checker, bad)
    assert r.returncode != 0 and want in r.stderr, (name, r.returncode, r.stderr)


def cri_layout(env, root):
    """kubelet's files: a symlink per container to its pod's 0.log, which
    holds the corpus as CRI lines.  The number of events."""
    src = env.path("corpus.txt")
    n = corpus(env, src, "2M")
    pod_dir = os.path.join(root + "/var/log/pods", "shop_web-0_7f3e9a", "app")
    os.makedirs(pod_dir)
    os.makedirs(root + "/var/log/containers")
    with open(src, "rb") as f, open(os.path.join(pod_dir, "0.log"), "wb") as out:
        for i, line in enumerate(f):
            out.write(b"2026-12-02T06:%02d:%02d.%09dZ stdout F %s"
                      % (i // 60 % 60, i % 60, i, line))
    os.symlink(os.path.join(pod_dir, "0.log"),
               os.path.join(root + "/var/log/containers", "web-0_shop_app-0a1b2c3d.log"))
    return n


def main():
    with Env() as env:
        checker = build_checker(env)
        r = check(checker, MANIFEST)
        assert r.returncode == 0, r.stderr
        refused(env, checker, "typo", "readOnlyRootFilesystem", "readOnlyRootFileSystem",
                "unknown field")
        refused(env, checker, "quantity", "memory: 128Mi", "memory: 128Mx", "quantities")
        refused(env, checker, "port", "port: http\n", "port: metrics\n", "probe")
        result("manifest valid against k8s.io/api; 3 broken copies refused")

        root = env.path("node")
        pki = make_pki(env.path("pki"))
        conf = env.path("agent.yaml")
        r = check(checker, MANIFEST, "sluice-agent/agent.yaml", conf)
        assert r.returncode == 0, r.stderr
        with open(conf) as f:
            text = f.read()
        for m in MOUNTS:
            assert m in text or m in ("/var/log/pods", "/etc/sluice-agent/store"), m
            text = text.replace(m, root + m)
        assert "0.0.0.0:8471" in text
        text = text.replace("0.0.0.0:8471", "@HTTP@")
        n = cri_layout(env, root)
        os.makedirs(root + "/var/log/journal")
        os.makedirs(root + "/etc/sluice-agent/store")
        with open(pki["ca.crt"]) as f, open(root + "/etc/sluice-agent/store/ca.crt", "w") as o:
            o.write(f.read())
        with open(root + "/etc/sluice-agent/store/token", "w") as f:
            f.write(TOKEN + "\n")
        os.chmod(root + "/etc/sluice-agent/store/token", 0o400)
        with open(env.path("tokens"), "w") as f:
            f.write("%s * admin\n" % TOKEN)
        os.chmod(env.path("tokens"), 0o600)
        with open(env.path("store.yaml"), "w") as f:
            f.write("http:\n  tokens_file: %s\n  tls: { cert: %s, key: %s }\n"
                    % (env.path("tokens"), pki["store.crt"], pki["store.key"]))
        store = env.start_store("-c", env.path("store.yaml"), ready="kafka")
        agent_env = dict(NODE_NAME="node-7",
                         SLUICE_STORE_URL="https://localhost:%d" % store.http_port)
        os.environ.update(agent_env)
        agent = Agent(env, text, name="agent-k8s")
        r = subprocess.run([os.path.join(BIN, "sluice-agent"), "--check", "-c", agent.conf_path],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        agent.start()
        wait_until(lambda: agent.metric('sluice_agent_output_records_total{output="central"}')
                   >= n, 120, "%d records shipped" % n)
        values = kcat_values(store.bootstrap, "kubernetes")
        line = env.check_seq(("\n".join(values) + "\n").encode(), expect=n)
        with urllib.request.urlopen("http://127.0.0.1:%d/health" % agent.http_port,
                                    timeout=10) as h:
            assert h.status == 200
        assert agent.term() == 0, agent.log()
        result("the ConfigMap's agent.yaml: --check ok; CRI files shipped over https with the "
               "Secret's CA and token: %s; /health 200" % line)


if __name__ == "__main__":
    main()
