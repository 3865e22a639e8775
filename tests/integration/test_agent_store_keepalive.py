# SPDX-License-Identifier: Apache-2.0
"""A silently dropped idle connection to the store is found within a bound
(issue 19 case 9, the keep-alive half).

The test runs in a network namespace of its own (unshare -n: its loopback is
nobody else's), so it can drop the network without a word to either end:
`ip link set lo down` makes every packet vanish, no RST, no FIN, as when a
NAT or firewall forgets a connection.  The agent ships a first part of a
numbered corpus to the store and keeps its connection idle in its pool; the
link goes down; the agent's TCP keep-alive (20 s idle, 3 probes 5 s apart)
must close that connection within 45 s (without it Linux waits two hours,
and the agent's own idle limit 60 s).  Then the link comes back, the rest is
appended, and every event arrives exactly once (check_seq.py).
"""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Agent, Env, corpus, kcat_values, result, store_config, wait_until  # noqa: E402

BOUND = 45


def agent_conns(pid):
    """Established TCP connections of process pid (ss -p)."""
    out = subprocess.run(["ss", "-tnpH", "state", "established"], capture_output=True,
                         text=True).stdout
    return [l for l in out.splitlines() if re.search(r"pid=%d," % pid, l)]


def link(state):
    subprocess.run(["ip", "link", "set", "lo", state], check=True)


def main():
    with Env() as env:
        store = env.start_store()
        logs = env.path("logs")
        os.makedirs(logs)
        first = corpus(env, env.path("part1"), "1M")
        rest = corpus(env, env.path("part2"), "1M", "--start-seq", str(first))
        with open(env.path("part1"), "rb") as f, open(os.path.join(logs, "app.log"), "wb") as o:
            o.write(f.read())
        agent = Agent(env, store_config(env, store, logs))
        agent.start()
        wait_until(lambda: agent.metric('sluice_agent_output_records_total{output="central"}')
                   >= first, 60, "the first part delivered")
        pid = agent.proc.pid
        wait_until(lambda: any(":%d " % store.http_port in l for l in agent_conns(pid)), 10,
                   "the agent's idle connection to the store")
        assert any("keepalive" in l for l in subprocess.run(
            ["ss", "-tnpoH", "state", "established"], capture_output=True,
            text=True).stdout.splitlines() if "pid=%d," % pid in l), "no keep-alive timer"
        link("down")
        t0 = time.time()
        try:
            wait_until(lambda: not any(":%d " % store.http_port in l for l in agent_conns(pid)),
                       BOUND + 15, "the dead connection closed")
            took = time.time() - t0
        finally:
            link("up")
        assert took <= BOUND, "found dead after %.0f s (bound %d s)" % (took, BOUND)
        with open(env.path("part2"), "rb") as f, open(os.path.join(logs, "app.log"), "ab") as o:
            o.write(f.read())
        wait_until(lambda: agent.metric('sluice_agent_output_records_total{output="central"}')
                   >= first + rest, 120, "everything delivered")
        assert agent.term() == 0, agent.log()
        line = env.check_seq(("\n".join(kcat_values(store.bootstrap, "app")) + "\n").encode(),
                             expect=first + rest)
        result("silently dropped idle connection closed after %.0f s (bound %d s); after the "
               "link came back: %s" % (took, BOUND, line))


if __name__ == "__main__":
    if os.environ.get("SLUICE_NETNS") != "1":
        # a network namespace of our own, with its loopback up
        r = subprocess.run(["unshare", "-n", "--", "sh", "-c",
                            "ip link set lo up && SLUICE_NETNS=1 exec \"$0\" \"$@\"",
                            sys.executable, os.path.abspath(__file__)])
        if r.returncode == 125 or (r.returncode != 0 and os.geteuid() != 0):
            result("skipped: no network namespace here (needs root)")
            sys.exit(0)
        sys.exit(r.returncode)
    main()
