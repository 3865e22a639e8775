# SPDX-License-Identifier: Apache-2.0
"""The http output: every body format against a strict local receiver
(http_receiver.py), with gzip/zstd/none bodies, 503 and 429 answers with
Retry-After on purpose, exactly-once checks (check_seq.py) and, for
elasticsearch_bulk, a restart of the agent whose resent documents the
receiver answers 409 like Elasticsearch.  ndjson (documents without ids)
while the agent is killed with SIGKILL three times: 0 missing, and the
output's delivered marks keep batches a 2xx had answered from being sent
again (at most the request in flight at each kill repeats).  Then a poisoned
batch (400) goes to dead-letter while everything else arrives."""
import glob
import os
import random
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from agentkit import Agent, Writer, corpus, java_events_ok, wait_until  # noqa: E402
from http_receiver import Receiver  # noqa: E402
from sluicetest import SHARED, Env, result  # noqa: E402

CONFIG = """
agent:
  data_dir: {data}
  http: {{ listen: @HTTP@ }}
  shutdown_timeout: 10s
inputs:
  - id: app
    type: tail
    paths: [{logs}/*.log]
    read_from_head: true
    multiline: {{ start: '^[0-9{{]', flush_ms: 300 }}
outputs:
  - id: web
    type: http
    url: {url}
    format: {fmt}
    compression: {comp}
    headers: {{ X-Scope-OrgID: tenant-1 }}
    max_request_bytes: 512KiB
    retry: {{ initial_delay: 50ms, max_delay: 2s }}
"""


def one_format(env, fmt, comp, fail_every, fail_status, restart=False):
    name = fmt + "-" + comp
    logs = env.path("logs-" + name)
    os.makedirs(logs)
    events = corpus(env, os.path.join(logs, "app.log"), "6M", "--seed", str(len(name)))
    with Receiver(fmt, fail_every=fail_every, fail_status=fail_status) as rcv:
        agent = Agent(env, CONFIG.format(data=env.path("data-" + name), logs=logs, url=rcv.url,
                                         fmt=fmt, comp=comp), name="agent-" + name)
        agent.start()
        if restart:
            wait_until(lambda: rcv.count() > events // 4, 60, "a quarter of the events")
            agent.kill()      # kill -9: spooled, unacknowledged batches go again
            agent.start()
        wait_until(lambda: rcv.count() >= events, 120, "every event at the receiver")
        time.sleep(0.5)
        retries = agent.metric('sluice_agent_http_retries_total{output="web"}')
        assert agent.term() == 0
        assert not rcv.errors, rcv.errors[:3]
        line = env.check_seq("\n".join(rcv.values).encode() + b"\n", expect=events)
        java = java_events_ok(rcv.values)
        # (a restart starts the counter again)
        assert restart or rcv.failed_on_purpose == 0 or retries >= rcv.failed_on_purpose
        return ("%s %s: %d requests, %d answered %d on purpose (Retry-After 1), %d retries%s: "
                "%s, %d java traces whole, body encodings %s"
                % (fmt, comp, rcv.requests, rcv.failed_on_purpose, fail_status, retries,
                   ", agent kill -9 midway" if restart else "", line, java,
                   sorted(rcv.encodings)))


def kills(env, n=3):
    logs = env.path("logs-kills")
    os.makedirs(logs)
    src = env.path("corpus-kills.log")
    events = corpus(env, src, "12M", "--seed", "21")
    metric = 'sluice_agent_http_batches_skipped_total{output="web"}'
    with Receiver("ndjson") as rcv:
        agent = Agent(env, CONFIG.format(data=env.path("data-kills"), logs=logs, url=rcv.url,
                                         fmt="ndjson", comp="none"), name="agent-kills")
        agent.start()
        w = Writer(src, os.path.join(logs, "app.log"), rate=os.path.getsize(src) / 10)
        w.start()
        rnd = random.Random(21)
        skipped = 0
        for _ in range(n):
            time.sleep(rnd.uniform(1.0, 2.0))
            skipped += agent.metric(metric)
            agent.kill()
            agent.start()
        w.join()
        assert w.error is None, w.error
        seq = re.compile(r'(?:seq=|"seq": ?)(\d+)')  # as check_seq.py

        def distinct():
            with rcv.lock:
                vals = list(rcv.values)
            return len({m.group(1) for m in map(seq.search, vals) if m})

        # duplicates make the raw count reach `events` early: count seqs
        wait_until(lambda: distinct() >= events, 120, "every event at the receiver")
        skipped += agent.metric(metric)
        assert agent.term() == 0
        assert not rcv.errors, rcv.errors[:3]
        r = subprocess.run(["/usr/bin/python3", os.path.join(SHARED, "bench/check_seq.py"),
                            "--expect", str(events)],
                           input="\n".join(rcv.values).encode() + b"\n", capture_output=True)
        line = r.stdout.decode().strip()
        m = re.search(r"missing=(\d+).*duplicated=(\d+)", line)
        assert m, line
        assert int(m.group(1)) == 0, line
        # the marks were used, and what repeats is at most the request in
        # flight at each kill (max_request_bytes 512 KiB: < 2,000 records)
        assert skipped > 0, "the delivered marks were never used: " + line
        assert int(m.group(2)) <= 2000 * n, line
        return ("ndjson, agent kill -9 x%d mid-stream: %s (%d re-sent batches skipped by the "
                "delivered marks)" % (n, line, skipped))


def dead_letter(env):
    logs = env.path("logs-dl")
    os.makedirs(logs)
    with open(os.path.join(logs, "app.log"), "w") as f:
        for i in range(100):
            f.write("2026-11-25 ok line seq=%d\n" % i)
    with Receiver("ndjson", poison="POISON") as rcv:
        cfg = CONFIG.format(data=env.path("data-dl"), logs=logs, url=rcv.url, fmt="ndjson",
                            comp="none").replace("max_request_bytes: 512KiB",
                                                 "batch: { max_delay_ms: 50 }")
        agent = Agent(env, cfg, name="agent-dl")
        agent.start()
        wait_until(lambda: rcv.count() >= 100, 30, "the first 100 lines")
        with open(os.path.join(logs, "app.log"), "a") as f:
            f.write("2026-11-25 POISON seq=100\n")
        wait_until(lambda: rcv.refused >= 1 and
                   agent.metric('sluice_agent_http_refused_total{output="web"}') >= 1,
                   30, "the poisoned batch to be refused")
        time.sleep(0.5)
        with open(os.path.join(logs, "app.log"), "a") as f:
            for i in range(101, 200):
                f.write("2026-11-25 ok line seq=%d\n" % i)
        wait_until(lambda: rcv.count() >= 199, 30, "the lines after the poisoned one")
        assert agent.term() == 0
        dl = glob.glob(env.path("data-dl", "dead-letter", "**", "*"), recursive=True)
        blob = b"".join(open(p, "rb").read() for p in dl if os.path.isfile(p))
        assert dl and b"http_400" in blob, "no dead-letter entry with its reason: %r" % dl
        assert rcv.count() == 199, rcv.count()
        return ("400 for a poisoned batch: quarantined to dead-letter (%d files) with code "
                "http_400; the 199 other lines arrived once" % len(dl))


def main():
    with Env() as env:
        result(one_format(env, "ndjson", "gzip", 5, 503))
        result(one_format(env, "json_array", "none", 7, 429))
        result(one_format(env, "elasticsearch_bulk", "zstd", 6, 503, restart=True))
        result(one_format(env, "loki_push", "zstd", 4, 429))
        result(kills(env))
        result(dead_letter(env))


if __name__ == "__main__":
    main()
