# SPDX-License-Identifier: Apache-2.0
"""`sluice alert test` backtests rules on stored history: records with
timestamps of the last hour (produced with confluent-kafka into
sluice-store, two partitions) hold a burst of 150 errors of service "a"
in one minute, then silence, then a few lines 20 minutes later.  The
backtest must say ManyErrors{service=a} (count > 100 in 5m) fired during
the burst and resolved five minutes after it, and Silent{service=a} (no
events for 10m) fired ten minutes after the burst, resolved when the late
lines came and fired again ten minutes later (still firing at the end);
as a table and as JSON.  A rule file error names file:line:column."""
import json
import os
import subprocess
import sys
import time
from datetime import datetime

sys.path.insert(0, os.path.dirname(__file__))
from sluicetest import BIN, Env, result  # noqa: E402

RULES = """
rules:
  - name: ManyErrors
    match: '"level":"error"'
    group_by: [service]
    condition: count > 100 in 5m
  - name: Silent
    group_by: [service]
    condition: no events for 10m
"""


def ms(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() * 1000


def near(v, want, tol_ms, what):
    assert abs(v - want) <= tol_ms, "%s at %+.1f s from the expected time" % (
        what, (v - want) / 1000)


def main():
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic
    with Env() as env:
        store = env.start_store()
        admin = AdminClient({"bootstrap.servers": store.bootstrap})
        admin.create_topics([NewTopic("app", num_partitions=2,
                                      replication_factor=1)])["app"].result(30)
        now = int(time.time() * 1000)
        t0 = now - 50 * 60 * 1000
        p = Producer({"bootstrap.servers": store.bootstrap})
        for i in range(150):   # 150 errors over 60 s
            v = json.dumps({"level": "error", "service": "a", "seq": i},
                           separators=(",", ":"))
            p.produce("app", v.encode(), partition=i % 2, timestamp=t0 + i * 400)
        for i in range(5):     # 20 minutes later
            v = json.dumps({"level": "info", "service": "a", "seq": 150 + i},
                           separators=(",", ":"))
            p.produce("app", v.encode(), partition=i % 2, timestamp=t0 + 20 * 60000 + i * 1000)
        assert p.flush(30) == 0
        rules = env.path("rules.yaml")
        with open(rules, "w") as f:
            f.write(RULES)
        argv = [os.path.join(BIN, "sluice"), "--store", store.url, "alert", "test", rules,
                "--topic", "app", "--from-time", "-1h"]
        r = subprocess.run(argv + ["--format", "json"], capture_output=True, text=True,
                           timeout=120)
        assert r.returncode == 0, r.stderr
        rows = [json.loads(line) for line in r.stdout.splitlines()]
        many = [x for x in rows if x["rule"] == "ManyErrors"]
        silent = [x for x in rows if x["rule"] == "Silent"]
        assert len(many) == 1 and many[0]["labels"] == "service=a", rows
        burst_end = t0 + 149 * 400
        # the 101st error came at t0 + 40 s; the window keeps 5 s buckets
        near(ms(many[0]["fired_at"]), t0 + 100 * 400, 6000, "ManyErrors fired")
        # count <= 100 once the 50th error left the window
        near(ms(many[0]["resolved_at"]), t0 + 49 * 400 + 300000, 6000, "ManyErrors resolved")
        assert len(silent) == 2, rows
        near(ms(silent[0]["fired_at"]), burst_end + 600000, 2000, "Silent fired")
        near(ms(silent[0]["resolved_at"]), t0 + 20 * 60000, 2000, "Silent resolved")
        near(ms(silent[1]["fired_at"]), t0 + 20 * 60000 + 4000 + 600000, 2000,
             "Silent fired again")
        assert silent[1]["resolved_at"] is None
        assert "155 records" in r.stderr, r.stderr
        t = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        assert t.returncode == 0 and t.stdout.splitlines()[0].split()[:3] == [
            "RULE", "LABELS", "FIRED"], t.stdout
        assert "firing" in t.stdout and len(t.stdout.splitlines()) == 4, t.stdout
        with open(rules, "a") as f:
            f.write("  - name: Bad\n    condition: count > 1 in 5 minutes\n")
        b = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        assert b.returncode == 2 and "rules.yaml:11:" in b.stderr, b.stderr
        result("ManyErrors fired %s resolved %s; Silent fired twice; table and json; "
               "rule errors name file:line:column" % (many[0]["fired_at"],
                                                       many[0]["resolved_at"]))


if __name__ == "__main__":
    main()
