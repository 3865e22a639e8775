# SPDX-License-Identifier: Apache-2.0
"""Log-based metrics scraped by the real Prometheus (Debian's prometheus):
an application appends JSON lines at a steady rate; the agent's metrics
filters count errors per service, sum bytes and observe latencies, and
Prometheus scrapes /metrics every second.  PromQL over Prometheus's HTTP
API must answer the rate the application wrote (errors of service "a" at
20/s), the exact totals once it stopped, the histogram's count, and the
__overflow__ series once the label set bound (max_series: 2) is exceeded."""
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse
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
    read_from_head: true
    parser: json
    filters:
      - type: metrics
        name: app_errors_total
        help: Error lines by service.
        match: '"level":"error"'
        labels: {{ service: service }}
        max_series: 2
      - {{ type: metrics, name: app_bytes_total, kind: sum, value_field: bytes }}
      - type: metrics
        name: app_latency_ms
        kind: histogram
        value_field: ms
        buckets: [10, 100, 1000]
outputs:
  - id: drop
    type: "null"
"""

PROM = """
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: sluice-agent
    static_configs:
      - targets: ['127.0.0.1:{port}']
"""

RATE = 20          # error lines of service "a" per second
SECONDS = 17


def query(port, q):
    url = "http://127.0.0.1:%d/api/v1/query?%s" % (port, urllib.parse.urlencode({"query": q}))
    with urllib.request.urlopen(url, timeout=10) as r:
        body = json.load(r)
    assert body["status"] == "success", body
    return body["data"]["result"]


def ready(port):
    """Prometheus answers 503 on its API until its TSDB is open: /-/ready says when."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/-/ready" % port, timeout=5) as r:
            return r.status == 200
    except OSError:
        return False


def scalar(port, q):
    res = query(port, q)
    return float(res[0]["value"][1]) if res else None


def writer(path, stop, counts):
    t0 = time.time()
    n = 0
    with open(path, "a", buffering=1) as f:
        while not stop.is_set() and time.time() - t0 < SECONDS:
            due = int((time.time() - t0) * RATE)
            while n < due:
                f.write(json.dumps({"level": "error", "service": "a", "bytes": 10, "ms": 5,
                                    "seq": n}, separators=(",", ":")) + "\n")
                f.write(json.dumps({"level": "info", "service": "a", "bytes": 1, "ms": 50},
                                   separators=(",", ":")) + "\n")
                n += 1
            time.sleep(0.02)
    counts["a"] = n


def main():
    with Env() as env:
        os.makedirs(env.path("logs"))
        agent = Agent(env, AGENT.format(dir=env.dir))
        agent.start()
        pport = free_port()
        with open(env.path("prometheus.yml"), "w") as f:
            f.write(PROM.format(port=agent.http_port))
        plog = open(env.path("prometheus.log"), "ab")
        env.spawn(["/usr/bin/prometheus", "--config.file=" + env.path("prometheus.yml"),
                   "--storage.tsdb.path=" + env.path("prom-data"),
                   "--web.listen-address=127.0.0.1:%d" % pport],
                  stdout=plog, stderr=subprocess.STDOUT)
        plog.close()
        wait_port(pport, 60)
        wait_until(lambda: ready(pport), 120, "Prometheus ready (its TSDB open)")
        wait_until(lambda: query(pport, 'up{job="sluice-agent"}') and
                   scalar(pport, 'up{job="sluice-agent"}') == 1, 60, "Prometheus scraping")
        stop = threading.Event()
        counts = {}
        w = threading.Thread(target=writer, args=(env.path("logs", "app.log"), stop, counts))
        w.start()
        # the rate over the last 10 s while the application writes (12 s in,
        # the writer goes on until 17 s: a scrape or two late still finds
        # the 10 s window full of writing)
        wait_until(lambda: (scalar(pport, 'app_errors_total{service="a"}') or 0) >= RATE * 12,
                   60, "12 s of errors in Prometheus")
        rate = scalar(pport, 'rate(app_errors_total{service="a"}[10s])')
        w.join()
        assert rate is not None and abs(rate - RATE) <= RATE * 0.3, "rate %s, want ~%d" % (
            rate, RATE)
        n = counts["a"]
        wait_until(lambda: scalar(pport, 'app_errors_total{service="a"}') == n, 30,
                   "the error total %d in Prometheus" % n)
        wait_until(lambda: scalar(pport, 'app_bytes_total') == 11 * n, 30, "bytes sum")
        wait_until(lambda: scalar(pport, 'app_latency_ms_count') == 2 * n, 30, "histogram count")
        b10 = scalar(pport, 'app_latency_ms_bucket{le="10"}')
        assert b10 == n, b10
        # two more services: one takes the last label set, the other overflows
        with open(env.path("logs", "app.log"), "a") as f:
            for s in ("b", "c", "c"):
                f.write('{"level":"error","service":"%s","bytes":0,"ms":1}\n' % s)
        wait_until(lambda: scalar(pport, 'app_errors_total{service="__overflow__"}') == 2, 30,
                   "the overflow series")
        ov = [v for k, v in agent.metrics().items()
              if k.startswith("sluice_agent_metrics_overflow_total") and "app_errors_total" in k]
        assert ov == [2], agent.metrics()
        assert agent.term() == 0
        result("PromQL rate(app_errors_total[10s]) = %.2f/s (wrote %d/s); totals exact "
               "(%d errors, sum %d bytes, histogram count %d); overflow series 2" %
               (rate, RATE, n, 11 * n, 2 * n))


if __name__ == "__main__":
    main()
