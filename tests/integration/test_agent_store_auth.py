# SPDX-License-Identifier: Apache-2.0
"""The store output with the store's bearer-token auth on (http.tokens_file):
an agent whose token_file holds a wrong token is refused with 401, keeps
retrying and neither drops nor dead-letters anything; given the right token
(same data dir, restarted) it ships every event exactly once, and the token
never appears in the agent's log."""
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
        agent = Agent(env, store_config(env, store, logs, data=env.path("data"),
                                        extra_output="    token_file: %s\n" % token))
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


def store_records_auth(store):
    req = urllib.request.Request("%s/v1/topics/app" % store.url,
                                 headers={"Authorization": "Bearer " + GOOD})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read()).get("records", 0)
    except Exception:  # noqa: BLE001 - not created yet
        return -1


if __name__ == "__main__":
    main()
