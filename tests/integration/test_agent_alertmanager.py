# SPDX-License-Identifier: Apache-2.0
"""Alert rules to the real Prometheus Alertmanager (Debian's
prometheus-alertmanager, API v2): an application logs errors for service
"a"; the agent's alertmanager output fires ManyErrors{service="a"}
(count > 5 in 5s), which GET /api/v2/alerts shows with its labels, sample
lines and the `sluice consume` replay command -- after Alertmanager, down
when the alert fired, came up (the POSTs are retried).  The agent is killed -9 and
restarted while the errors go on: the alert is restored from the state
dir, not fired again (fired_total 0 after the restart), and still shown.
The errors stop: the alert is resolved (the agent posts endsAt = now and
Alertmanager drops it from its active alerts), and the absence rule
Silent{service="a"} (no events for 3s) fires."""
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from agentkit import Agent, wait_until  # noqa: E402
from sluicetest import Env, free_port, result, wait_port  # noqa: E402

AGENT = """
agent:
  data_dir: {dir}/agent
  http: {{ listen: @HTTP@ }}
inputs:
  - id: app
    type: tail
    paths: [{dir}/logs/*.log]
    read_from_head: false
    parser: logfmt
outputs:
  - id: alerts
    type: alertmanager
    url: http://127.0.0.1:{am}
    rules: {dir}/rules.yaml
    resend_interval: 2s
    eval_interval: 200ms
    batch: {{ max_delay_ms: 50 }}
"""

RULES = """
rules:
  - name: ManyErrors
    field: level
    match: '^error$'
    group_by: [service]
    condition: count > 5 in 5s
    labels: { severity: page }
    annotations: { summary: "errors on a service" }
  - name: Silent
    group_by: [service]
    condition: no events for 3s
"""

AM = """
route:
  receiver: "null"
  group_wait: 1s
receivers:
  - name: "null"
"""


def am_alerts(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/api/v2/alerts" % port, timeout=10) as r:
        return json.load(r)


def find(port, name):
    return [a for a in am_alerts(port) if a["labels"].get("alertname") == name]


def writer(path, stop):
    n = 0
    with open(path, "a", buffering=1) as f:
        while not stop.is_set():
            f.write("level=error service=a seq=%d msg=\"disk full\"\n" % n)
            n += 1
            time.sleep(0.1)


def main():
    with Env() as env:
        os.makedirs(env.path("logs"))
        with open(env.path("rules.yaml"), "w") as f:
            f.write(RULES)
        with open(env.path("am.yml"), "w") as f:
            f.write(AM)
        amport = free_port()
        agent = Agent(env, AGENT.format(dir=env.dir, am=amport))
        log = env.path("logs", "app.log")
        open(log, "w").close()
        agent.start()
        # the tail input starts at the end of the file: wait until it watches it
        wait_until(lambda: agent.metric('sluice_agent_input_sources{input="app"}') >= 1, 30,
                   "the tail input watching app.log")
        stop = threading.Event()
        w = threading.Thread(target=writer, args=(log, stop))
        w.start()
        try:
            # Alertmanager is not up yet: the alert fires, its POSTs fail and
            # are retried until it answers
            errs = 'sluice_agent_alerts_send_errors_total{output="alerts"}'
            wait_until(lambda: agent.metric(errs) >= 2, 60,
                       "POSTs failing while Alertmanager is down")
            alog = open(env.path("alertmanager.log"), "ab")
            env.spawn(["/usr/bin/prometheus-alertmanager", "--config.file=" + env.path("am.yml"),
                       "--storage.path=" + env.path("am-data"),
                       "--web.listen-address=127.0.0.1:%d" % amport,
                       "--cluster.listen-address="], stdout=alog, stderr=subprocess.STDOUT)
            alog.close()
            wait_port(amport, 60)
            wait_until(lambda: find(amport, "ManyErrors"), 60, "ManyErrors in Alertmanager")
            a = find(amport, "ManyErrors")[0]
            assert a["labels"]["service"] == "a" and a["labels"]["severity"] == "page", a
            ann = a["annotations"]
            assert '"level":"error"' in ann["samples"], ann
            rp = ann["replay"]
            assert rp.startswith("sluice --store ") and " consume app " in rp \
                and "--grep '^error$'" in rp, ann
            assert ann["summary"] == "errors on a service" and ann["condition"] == \
                "count > 5 in 5s", ann
            starts = a["startsAt"]
            assert agent.metric('sluice_agent_alerts_fired_total{output="alerts"}') == 1
            # kill -9 and restart while the errors go on
            agent.kill()
            agent.start()
            wait_until(lambda: agent.metric('sluice_agent_alerts_firing{output="alerts"}') == 1,
                       30, "the alert restored as firing")
            sent0 = agent.metric('sluice_agent_alerts_sent_total{output="alerts"}')
            wait_until(lambda: agent.metric('sluice_agent_alerts_sent_total{output="alerts"}')
                       > sent0, 30, "the restored alert resent")
            assert agent.metric('sluice_agent_alerts_fired_total{output="alerts"}') == 0, \
                "fired again after the restart"
            again = find(amport, "ManyErrors")
            assert again and again[0]["startsAt"] == starts, (again, starts)
        finally:
            stop.set()
            w.join()
        # no more errors: resolved within the 5 s window, and Silent fires
        wait_until(lambda: agent.metric('sluice_agent_alerts_resolved_total{output="alerts"}')
                   >= 1, 30, "ManyErrors resolved by the agent")
        wait_until(lambda: not find(amport, "ManyErrors"), 30,
                   "ManyErrors gone from Alertmanager's active alerts")
        wait_until(lambda: find(amport, "Silent"), 30, "Silent{service=a} in Alertmanager")
        assert find(amport, "Silent")[0]["labels"]["service"] == "a"
        assert agent.term() == 0
        result("ManyErrors fired while Alertmanager was down (POSTs retried), shown with "
               "samples and replay command, survived kill -9 (startsAt %s kept, not fired "
               "again), resolved; absence rule fired" % starts)


if __name__ == "__main__":
    main()
