# SPDX-License-Identifier: Apache-2.0
"""journald input, exactly once across a journal file rotation and a kill -9:

real journal files are written with systemd-journal-remote (export format
in, .journal out) into a directory the agent reads with `path:`; entries of
app.service carry `seq=N`, entries of noise.service must be filtered out by
`units:`.  The agent is killed with SIGKILL in the middle; while it is down
the journal rotates to a second file; after the restart more entries arrive.
kcat reads the topic back from the real store: check_seq.py finds 0 missing
and 0 duplicated; keys are host:unit, headers carry unit/priority/pid,
timestamps are the entries' realtime, and a binary MESSAGE arrives byte for
byte.  A second agent with `fields: all` and a missing journal directory
checks the JSON value and the runtime warning.
"""
# harness: quick
import base64
import json
import os
import socket
import struct
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from agentkit import Agent, kcat_records_lossy, store_records, wait_until  # noqa: E402
from sluicetest import Env, result  # noqa: E402

REMOTE = "/lib/systemd/systemd-journal-remote"
BOOT = "0123456789abcdef0123456789abcdef"
T0 = int((time.time() - 3600) * 1e6)   # realtime of entry 0, in µs
CHUNK = 400


class Journal:
    """Writes entries; every entry gets a later realtime than the one before."""

    def __init__(self, d):
        self.dir = d
        self.n = 0          # entries written (all units)
        self.seq = 0        # app.service entries (seq=N)

    def entry(self, unit, msg, prio):
        us = T0 + self.n * 1000
        self.n += 1
        out = [b"__REALTIME_TIMESTAMP=%d" % us, b"__MONOTONIC_TIMESTAMP=%d" % (1000 + self.n),
               b"_BOOT_ID=" + BOOT.encode(), b"_HOSTNAME=box", b"_SYSTEMD_UNIT=" + unit,
               b"PRIORITY=%d" % prio, b"SYSLOG_IDENTIFIER=" + unit.split(b".")[0], b"_PID=4242"]
        if b"\n" in msg or b"\0" in msg:
            out.append(b"MESSAGE\n" + struct.pack("<Q", len(msg)) + msg)
        else:
            out.append(b"MESSAGE=" + msg)
        return b"\n".join(out) + b"\n\n"

    def write(self, name, count, binary_at=None):
        buf = []
        for _ in range(count):
            if self.n % 7 == 3:
                buf.append(self.entry(b"noise.service", b"noise", 7))
            msg = b"app event seq=%d" % self.seq
            if binary_at is not None and self.seq == binary_at:
                msg = b"bin seq=%d \x00\x01\xff\n tail" % self.seq
            buf.append(self.entry(b"app.service", msg, self.seq % 8))
            self.seq += 1
        subprocess.run([REMOTE, "--output=" + os.path.join(self.dir, name), "-"],
                       input=b"".join(buf), check=True, capture_output=True, timeout=60)


CONF = """
agent:
  data_dir: {dir}/agent-data
  http: {{ listen: @HTTP@ }}
  shutdown_timeout: 10s
inputs:
  - id: journal
    type: journald
    path: {dir}/journal
    units: [app.service]
    read_from_head: true
outputs:
  - id: central
    type: store
    url: {url}
    batch: {{ max_delay_ms: 50, max_records: 300 }}
    retry: {{ initial_delay: 50ms, max_delay: 1s }}
"""


def http_records(store, topic, n):
    url = "%s/v1/topics/%s/partitions/0/records?offset=0&max=%d" % (store.url, topic, n)
    with urllib.request.urlopen(url, timeout=30) as r:
        return [json.loads(line) for line in r.read().splitlines() if line.strip()]


def main():
    host = socket.gethostname()
    with Env() as env:
        jdir = env.path("journal")
        os.makedirs(jdir)
        j = Journal(jdir)
        j.write("a.journal", CHUNK, binary_at=5)
        store = env.start_store()
        agent = Agent(env, CONF.format(dir=env.dir, url=store.url))
        agent.start()
        # entries appended while the agent runs
        for _ in range(3):
            j.write("a.journal", CHUNK)
            time.sleep(0.2)
        wait_until(lambda: store_records(store, "journal") >= CHUNK, 30, "first records")
        j.write("a.journal", CHUNK)
        agent.kill()                     # SIGKILL, somewhere in the middle
        before = store_records(store, "journal")
        # rotation while the agent is down: a second journal file
        j.write("b.journal", CHUNK)
        j.write("b.journal", CHUNK)
        agent.start()
        j.write("b.journal", CHUNK)
        total = j.seq
        wait_until(lambda: store_records(store, "journal") >= total, 45,
                   "%d records in the store" % total)
        time.sleep(0.5)                  # nothing more may arrive
        m = agent.metrics()
        assert agent.term() == 0
        recs = kcat_records_lossy(store.bootstrap, "journal")
        vals = [r["payload"] or "" for r in recs]
        line = env.check_seq("\n".join(v.replace("\n", " ") for v in vals).encode() + b"\n",
                             expect=total)
        assert len(recs) == total, "%d records for %d entries" % (len(recs), total)
        assert all(r["key"] == host + ":app.service" for r in recs), recs[0]["key"]
        assert not any("noise" in v for v in vals), "units: did not filter"
        h = recs[0].get("headers") or []
        hd = dict(zip(h[0::2], h[1::2]))
        assert hd.get("unit") == "app.service" and hd.get("pid") == "4242" and \
            hd.get("priority") == "0" and hd.get("syslog_identifier") == "app" and \
            hd.get("hostname") == "box" and hd.get("path") == jdir, hd
        # record timestamp = the entry's realtime (ms)
        first = recs[0]
        assert abs(first["ts"] - T0 // 1000) < 5000, (first["ts"], T0 // 1000)
        # the binary MESSAGE, byte for byte (the HTTP replay base64-encodes non-text values)
        hr = http_records(store, "journal", 20)
        b = [r for r in hr if r.get("value_base64")]
        assert b, "binary message not found: %r" % hr[:3]
        raw = base64.b64decode(b[0]["value"])
        assert raw == b"bin seq=5 \x00\x01\xff\n tail", raw
        assert m.get('sluice_agent_journald_entries_total{input="journal"}', 0) > 0
        result("journald: %d entries, 2 journal files, kill -9 at %d: %s" % (total, before, line))

        # fields: all, and a journal directory that is not there (yet)
        out = env.path("all.ndjson")
        a2 = Agent(env, """
agent:
  data_dir: {d}/agent2
  http: {{ listen: @HTTP@ }}
inputs:
  - id: j2
    type: journald
    path: {d}/journal
    units: [app.service]
    read_from_head: true
    fields: all
  - id: gone
    type: journald
    path: {d}/no-such-journal
outputs:
  - id: f
    type: file
    path: {out}
    format: ndjson
    batch: {{ max_delay_ms: 20 }}
""".format(d=env.dir, out=out), name="agent2").start()
        wait_until(lambda: os.path.exists(out) and
                   sum(1 for _ in open(out)) >= total, 30, "fields: all records")
        assert a2.term() == 0
        with open(out) as f:
            rec = json.loads(f.readline())
        v = json.loads(rec["value"])
        assert v["_SYSTEMD_UNIT"] == "app.service" and v["MESSAGE"] == "app event seq=0", v
        assert "__CURSOR" in v and v["_PID"] == "4242", v
        assert "no-such-journal" in a2.log() and "will retry" in a2.log(), a2.log()[-2000:]
        result("fields: all gives JSON objects; a missing journal directory is a warning")


if __name__ == "__main__":
    main()
