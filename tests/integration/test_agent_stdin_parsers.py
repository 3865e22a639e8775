# SPDX-License-Identifier: Apache-2.0
"""stdin input, parsers and filters through the real agent and store:

1. gen_corpus.py output piped into `type: stdin` with `parser: json`
   (time_key ts) and filters redact + add: every line arrives exactly once
   (check_seq.py), JSON lines carry their own timestamp and the redacted
   value, other lines are kept raw with a parse_error header; the parser's
   counters in /metrics match; at EOF the agent drains and exits 0 by itself.
2. logfmt on stdin with grep (exclude), sample (1 in 4 debug) and
   rate_limit, next to a tail input with the regex parser: counts in
   /metrics add up to what was sent, what arrives is what the filters let
   through, nginx lines become JSON objects of the named groups, and the
   agent keeps running after stdin's EOF because another input is active.
"""
# harness: quick
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from agentkit import Agent, corpus, kcat_records, store_records, wait_until  # noqa: E402
from sluicetest import BIN, Env, result  # noqa: E402

CONF1 = """
agent:
  data_dir: {dir}/agent1
  http: {{ listen: @HTTP@ }}
  shutdown_timeout: 20s
inputs:
  - id: pipe
    type: stdin
    parser: {{ type: json, time_key: ts }}
    filters:
      - {{ type: redact, patterns: ['"user": (\\d+)'], mask: '"***"' }}
      - {{ type: add, headers: {{ env: test, team: logs }} }}
outputs:
  - id: central
    type: store
    url: {url}
    batch: {{ max_delay_ms: 50 }}
"""

CONF2 = """
agent:
  data_dir: {dir}/agent2
  http: {{ listen: @HTTP@ }}
inputs:
  - id: kv
    type: stdin
    parser: logfmt
    filters:
      - {{ type: grep, field: level, exclude: '^trace$' }}
      - {{ type: sample, every: 4, levels: [debug] }}
      - {{ type: rate_limit, events_per_second: 2000, burst: 2000 }}
  - id: web
    type: tail
    paths: [{dir}/web/*.log]
    read_from_head: true
    parser:
      type: regex
      pattern: '^(?<ip>\\S+) \\S+ \\S+ \\[(?<time>[^\\]]+)\\] "(?<method>\\S+) (?<path>\\S+) [^"]*" (?<status>\\d+) (?<bytes>\\d+)'
      time_key: time
      time_format: '%d/%b/%Y:%H:%M:%S %z'
outputs:
  - id: central
    type: store
    url: {url}
    batch: {{ max_delay_ms: 50 }}
"""


def hdrs(r):
    h = r.get("headers") or []
    return dict(zip(h[0::2], h[1::2]))


def run_json(env, store):
    src = env.path("corpus.log")
    events = corpus(env, src, "8M")
    with open(src, "rb") as f:
        data = f.read()
    lines = data.count(b"\n")
    json_lines = sum(1 for ln in data.splitlines() if ln.startswith(b"{"))
    agent = Agent(env, CONF1.format(dir=env.dir, url=store.url), name="agent1")
    log = open(agent.log_path, "ab")
    proc = env.spawn([os.path.join(BIN, "sluice-agent"), "-c", agent.conf_path],
                     stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    proc.stdin.write(data)
    proc.stdin.flush()
    wait_until(lambda: store_records(store, "pipe") >= lines, 60, "%d records" % lines)
    m = agent.metrics()
    assert m['sluice_agent_parser_records_total{input="pipe",parser="json"}'] == json_lines, m
    assert m['sluice_agent_parser_errors_total{input="pipe",parser="json"}'] == lines - json_lines
    assert m['sluice_agent_filter_redact_events_total{input="pipe"}'] == json_lines
    assert m['sluice_agent_filter_add_events_total{input="pipe"}'] == lines
    t0 = time.time()
    proc.stdin.close()               # EOF: the agent drains and exits by itself
    rc = proc.wait(30)
    assert rc == 0, "agent exit %d after EOF" % rc
    assert "end of input" in agent.log(), agent.log()[-1000:]
    recs = kcat_records(store.bootstrap, "pipe")
    assert len(recs) == lines, "%d records for %d lines" % (len(recs), lines)
    vals = [r["payload"] for r in recs]
    line = env.check_seq("\n".join(vals).encode() + b"\n", expect=events)
    for r in recs:
        h = hdrs(r)
        assert h.get("env") == "test" and h.get("team") == "logs", h
        if r["payload"].startswith("{"):
            assert "parse_error" not in h, h
            o = json.loads(r["payload"])
            assert o["req"]["user"] == "***", o
            ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(r["ts"] / 1000))
            assert o["ts"].startswith(ts), (o["ts"], r["ts"])
        else:
            assert h.get("parse_error", "").startswith("json:"), h
    result("stdin + json + redact + add: %d lines, %d JSON, %s; exit 0 %.1fs after EOF"
           % (lines, json_lines, line, time.time() - t0))


def run_logfmt(env, store):
    os.makedirs(env.path("web"))
    web = [('10.0.0.%d - - [10/Oct/2000:13:55:%02d -0700] "GET /p/%d HTTP/1.1" 200 %d "-" "curl"'
            % (i % 250, i % 60, i, 100 + i)) for i in range(500)]
    with open(env.path("web", "access.log"), "w") as f:
        f.write("\n".join(web) + "\nnot an access line\n")
    n = 10000
    levels = ["info", "debug", "trace", "error"]
    lines = ["level=%s seq=%d msg=\"hello world %d\"" % (levels[i % 4], i, i) for i in range(n)]
    agent = Agent(env, CONF2.format(dir=env.dir, url=store.url), name="agent2")
    log = open(agent.log_path, "ab")
    proc = env.spawn([os.path.join(BIN, "sluice-agent"), "-c", agent.conf_path],
                     stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    agent.proc = proc
    proc.stdin.write(("\n".join(lines) + "\n").encode())
    proc.stdin.close()
    wait_until(lambda: store_records(store, "web") >= 501, 30, "web records")

    def kv_counted():
        # every stdin line went through grep, sample or rate_limit (and EOF was read)
        m = agent.metrics()
        return sum(m.get('sluice_agent_filter_%s_total{input="kv"}' % k, 0)
                   for k in ("grep_dropped", "sample_dropped", "rate_limit_passed",
                             "rate_limit_dropped")) >= n
    wait_until(kv_counted, 60, "the %d stdin lines through the filters" % n)
    time.sleep(1.0)  # a grace second in which a wrong exit at EOF would show
    assert proc.poll() is None, "the agent exited at stdin EOF although a tail input runs"
    m = agent.metrics()
    grep_dropped = m['sluice_agent_filter_grep_dropped_total{input="kv"}']
    s_kept = m['sluice_agent_filter_sample_kept_total{input="kv"}']
    s_dropped = m['sluice_agent_filter_sample_dropped_total{input="kv"}']
    rl_passed = m['sluice_agent_filter_rate_limit_passed_total{input="kv"}']
    rl_dropped = m['sluice_agent_filter_rate_limit_dropped_total{input="kv"}']
    assert grep_dropped == n // 4, grep_dropped
    assert s_kept + s_dropped == n // 4 and s_kept == n // 16, (s_kept, s_dropped)
    assert rl_passed + rl_dropped == n - n // 4 - s_dropped, (rl_passed, rl_dropped)
    assert m['sluice_agent_input_dropped_total{input="kv"}'] == grep_dropped + s_dropped + rl_dropped
    wait_until(lambda: store_records(store, "kv") >= rl_passed, 30, "kv records")
    assert agent.term() == 0
    recs = kcat_records(store.bootstrap, "kv")
    assert len(recs) == rl_passed, (len(recs), rl_passed)
    seen = set()
    for r in recs:
        o = json.loads(r["payload"])
        assert o["level"] != "trace", o
        seen.add(int(o["seq"]))
    assert len(seen) == len(recs), "duplicates"
    w = kcat_records(store.bootstrap, "web")
    assert len(w) == 501, len(w)
    o = json.loads(w[7]["payload"])
    assert o == {"ip": "10.0.0.7", "time": "10/Oct/2000:13:55:07 -0700", "method": "GET",
                 "path": "/p/7", "status": "200", "bytes": "107"} or \
        set(o) == {"ip", "time", "method", "path", "status", "bytes"}, o
    assert w[7]["ts"] == 971211307000, w[7]["ts"]
    assert hdrs(w[-1]).get("parse_error") == "regex: no match", hdrs(w[-1])
    assert re.search(r"rate_limit", json.dumps(list(m)))
    result("logfmt + grep/sample/rate_limit: %d sent, grep -%d, sample -%d, rate_limit -%d, "
           "%d delivered; regex: 500 nginx lines as JSON, 1 kept raw"
           % (n, grep_dropped, s_dropped, rl_dropped, len(recs)))


def main():
    with Env() as env:
        # retention 0 (forever): the regex input stamps records with their 2000 log times
        store = env.start_store(conf="log:\n  retention: 0\n")
        run_json(env, store)
        run_logfmt(env, store)


if __name__ == "__main__":
    main()
