# SPDX-License-Identifier: Apache-2.0
"""The store output with the store's bearer-token auth on (http.tokens_file):
an agent whose token_file holds a wrong token is refused with 401, keeps
retrying and neither drops nor dead-letters anything; given the right token
(same data dir, restarted) it ships every event exactly once, and the token
never appears in the agent's log.

Then the credential rotated to another principal (a second token): the
producer id the agent keeps in its spool belongs to the first principal, so
the store answers 403 producer_id_not_owned; the agent asks for a new
producer id (as the new principal) and re-sends, and every event arrives
exactly once (the old agent retried the refused id forever).  The same once
more with a kill -9 while the second half was being shipped."""
import json
import os
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from agentkit import Agent, corpus, kcat_values, store_config, wait_until  # noqa: E402
from sluicetest import Env, result  # noqa: E402

GOOD = "agent-5e1f00d2c3b4a5968778695a"
BAD = "agent-5e1f00d2c3b4a5968778695b"

def main():
    with Env() as env:
        with open(env.path("tokens"), "w") as f:
            f.write("%s app* admin\n" % GOOD)
        os.chmod(env.path("tokens"), 0o600)
        with open(env.path("store.yaml"), "w") as f:
            f.write("http:\n  tokens_file: %s\n" % env.path("tokens"))
        store = env.start_store("-c", env.path("store.yaml"))
        logs = env.path("logs")
        os.makedirs(logs)
        events = corpus(env, os.path.join(logs, "app.log"), "2M")
        token = env.path("agent-token")
        with open(token, "w") as f:
            f.write(BAD + "\n")
        # refused, it cannot deliver: SIGTERM waits out shutdown_timeout, 1 s
        # here (store_config's 10 s otherwise)
        cfg = store_config(env, store, logs, data=env.path("data"),
                           extra_output="    token_file: %s\n" % token) \
            .replace("shutdown_timeout: 10s", "shutdown_timeout: 1s")
        assert "shutdown_timeout: 1s" in cfg
        agent = Agent(env, cfg)
        agent.start()
        wait_until(lambda: agent.metric('sluice_agent_output_retries_total{output="central"}') >= 3,
                   60, "retries after 401")
        m = agent.metrics()
        assert m.get('sluice_agent_output_dead_letter_batches_total{output="central"}', 0) == 0
        assert m.get('sluice_agent_output_records_total{output="central"}', 0) == 0
        assert agent.term() == 0, agent.log()

        with open(token, "w") as f:
            f.write(GOOD + "\n")
        agent.start()
        wait_until(lambda: store_records_auth(store) >= events, 120, "%d records" % events)
        assert agent.term() == 0, agent.log()
        assert GOOD not in agent.log() and BAD not in agent.log(), "token in the agent's log"
        values = kcat_values(store.bootstrap, "app")
        line = env.check_seq(("\n".join(values) + "\n").encode(), expect=events)
        result("wrong token: refused and kept (%d retries, 0 dead-lettered); right token: %s" %
               (m.get('sluice_agent_output_retries_total{output="central"}', 0), line))


def rotated_principal():
    with Env() as env:
        other = "agent-0b7d6e5f4a3c2d1e0f9a8b7c"
        with open(env.path("tokens"), "w") as f:
            f.write("%s app* admin\n%s app* produce\n" % (GOOD, other))
        os.chmod(env.path("tokens"), 0o600)
        with open(env.path("store.yaml"), "w") as f:
            f.write("http:\n  tokens_file: %s\n" % env.path("tokens"))
        store = env.start_store("-c", env.path("store.yaml"))
        logs = env.path("logs")
        os.makedirs(logs)
        first = corpus(env, os.path.join(logs, "app.log"), "1M")
        token = env.path("agent-token")
        with open(token, "w") as f:
            f.write(GOOD + "\n")
        # refused, it cannot deliver: SIGTERM waits out shutdown_timeout, 1 s
        # here (store_config's 10 s otherwise)
        cfg = store_config(env, store, logs, data=env.path("data"),
                           extra_output="    token_file: %s\n" % token) \
            .replace("shutdown_timeout: 10s", "shutdown_timeout: 1s")
        assert "shutdown_timeout: 1s" in cfg
        agent = Agent(env, cfg)
        agent.start()
        wait_until(lambda: store_records_auth(store) >= first, 120, "%d records" % first)
        pid = agent.metric('sluice_agent_store_producer_id{output="central"}')
        assert agent.term() == 0, agent.log()
        # the credential rotated to another principal; more lines meanwhile
        with open(token, "w") as f:
            f.write(other + "\n")
        more = corpus(env, env.path("more"), "1M", "--start-seq", str(first), "--seed", "9")
        with open(env.path("more"), "rb") as src, open(os.path.join(logs, "app.log"), "ab") as f:
            f.write(src.read())
        agent.start()
        wait_until(lambda: store_records_auth(store) >= first + more, 60,
                   "%d records after the rotation" % (first + more))
        pid2 = agent.metric('sluice_agent_store_producer_id{output="central"}')
        resets = agent.metric('sluice_agent_store_producer_resets_total{output="central"}')
        assert pid2 != pid and resets >= 1, (pid, pid2, resets)
        # and back, with a kill -9 while shipping
        with open(token, "w") as f:
            f.write(GOOD + "\n")
        agent.kill()
        last = corpus(env, env.path("last"), "2M", "--start-seq", str(first + more),
                      "--seed", "10")
        agent.start()
        with open(env.path("last"), "rb") as src, open(os.path.join(logs, "app.log"), "ab") as f:
            data = src.read()
            f.write(data[:len(data) // 2])
            f.flush()
            wait_until(lambda: store_records_auth(store) > first + more, 60, "shipping again")
            agent.kill()
            f.write(data[len(data) // 2:])
        agent.start()
        total = first + more + last
        wait_until(lambda: store_records_auth(store) >= total, 60, "%d records" % total)
        assert agent.term() == 0, agent.log()
        assert "producer_id_not_owned" in agent.log(), "the refusal was not logged"
        values = kcat_values(store.bootstrap, "app")
        line = env.check_seq(("\n".join(values) + "\n").encode(), expect=total)
        result("credential rotated to another principal twice (403 producer_id_not_owned, "
               "new producer id %d -> %d), once with a kill -9: %s" % (pid, pid2, line))


def store_records_auth(store):
    req = urllib.request.Request("%s/v1/topics/app" % store.url,
                                 headers={"Authorization": "Bearer " + GOOD})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read()).get("records", 0)
    except Exception:  # noqa: BLE001 - not created yet
        return -1


if __name__ == "__main__":
    rotated_principal()
    main()
