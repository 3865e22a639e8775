# SPDX-License-Identifier: Apache-2.0
"""Block skip index (issue 21), end to end with the real store, CLI and curl:

1. A zstd topic of generated log lines (gen_corpus.py, 2 partitions, 256 KiB
   segments) with rare planted needles gets a <base>.bidx beside every
   sealed segment, built in the background.
2. `sluice consume --grep RE [-i]` answers exactly what `grep -P` finds in a
   full dump, for planted needles, random substrings of real lines, -i,
   alternations and regexes with no required literal; `--source GLOB` too.
   The raw replay with grep= sends far fewer bytes for a needle (curl), also
   from an active segment that was never sealed (in-memory index parts).
3. A damaged index (one flipped byte) is detected on restart, logged and
   rebuilt; a missing one is rebuilt.
4. Retention deletes a segment's index with it.
5. `sluice stats` (chart, json, csv) and GET /v1/topics/{t}/stats over 24 h
   of records with spread timestamps (kafka-python): counts per 5 minutes
   equal what the producer sent, answered mostly from the index without
   grep, by a scan with grep (--grep error -i), grouped by partition and by
   source; `consume --around T --context D` gives exactly [T-D, T+D].
"""
import json
import glob
import os
import random
import subprocess
import time
import urllib.parse

import httptest
from harness import BIN, Env, result, wait_until

CONF = "log: {retention_check: 1s}\n"
SEG = 256 * 1024


def cli(store, *args, check=True):
    r = subprocess.run([os.path.join(BIN, "sluice"), "--store", store.url] + list(args),
                       capture_output=True, timeout=120)
    if check and r.returncode != 0:
        raise AssertionError("sluice %s: %d %s" % (args, r.returncode, r.stderr[-500:]))
    return r.stdout


def sealed_segments(store, topic, parts):
    out = []
    for p in range(parts):
        logs = sorted(glob.glob(os.path.join(store.data_dir, "%s-%d" % (topic, p), "*.log")))
        out += logs[:-1]       # the last one is active
    return out


def wait_indexed(store, topic, parts, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        segs = sealed_segments(store, topic, parts)
        if segs and all(os.path.exists(s[:-4] + ".bidx") for s in segs):
            return segs
        time.sleep(0.1)
    raise AssertionError("sealed segments not indexed after %ds" % timeout)


def produce(store, topic, lines, key):
    r = subprocess.run([os.path.join(BIN, "sluice"), "--store", store.url, "produce", topic,
                        "--key", key, "--quiet", "--linger", "10ms"],
                       input=b"".join(l + b"\n" for l in lines), capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr[-500:]


def grep_p(lines, regex, icase):
    argv = ["grep", "-aP"] + (["-i"] if icase else []) + ["--", regex]
    r = subprocess.run(argv, input=b"".join(l + b"\n" for l in lines), capture_output=True,
                       env=dict(os.environ, LC_ALL="C"))
    return sorted(r.stdout.splitlines())


def consume_lines(store, topic, *args):
    return sorted(cli(store, "consume", topic, *args).splitlines())


def iso(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)


def stats_part(store):
    from kafka import KafkaProducer
    st, body = httptest.request(store, "POST", "/v1/topics",
                                b'{"name":"ev","partitions":2,"segment_bytes":65536}')
    assert st == 201, body
    now = int(time.time()) * 1000
    t0 = now - 24 * 3600 * 1000
    prod = KafkaProducer(bootstrap_servers=store.bootstrap, compression_type="gzip",
                         linger_ms=5)
    sent = []
    for i in range(30000):
        ts = t0 + i * 2880 + (i % 7)
        lvl = "ERROR" if i % 11 == 0 else ("error" if i % 13 == 0 else "info")
        v = "%s request %d id=%016x" % (lvl, i, (i * 2654435761) % (1 << 64))
        key = "host-%d" % (i % 3)
        prod.send("ev", value=v.encode(), key=key.encode(), timestamp_ms=ts, partition=i % 2)
        sent.append((ts, key, i % 2, v))
    prod.flush()
    prod.close()
    wait_indexed(store, "ev", 2)
    by = 300000
    frm, to = t0, now

    def expect(pred, group):
        start = frm // by * by
        out = {}
        for ts, key, part, v in sent:
            if ts >= start and pred(v):
                g = group(key, part)
                out.setdefault(g, {})
                b = (ts - start) // by
                out[g][b] = out[g].get(b, 0) + 1
        return out

    def got(*args):
        doc = json.loads(cli(store, "stats", "ev", "--from-time", iso(frm), "--to-time",
                             iso(to), "--by", "5m", "--format", "json", *args))
        t = doc["topics"][0]
        res = {g["name"]: {i: c for i, c in enumerate(g["counts"]) if c}
               for g in t["groups"]}
        return res, t

    res, t = got()
    assert res == expect(lambda v: True, lambda k, p: "all"), "no grep"
    assert t["from_index"] > 20000, t["from_index"]
    indexed = t["from_index"]
    res, t = got("--grep", "error", "-i")
    assert res == expect(lambda v: "error" in v.lower(), lambda k, p: "all"), "grep -i"
    # log.block_index_count defaults to (?i)error: counted by the index too
    assert t["from_index"] > 1000, t["from_index"]
    res, t = got("--grep", "(?i)error")
    assert res == expect(lambda v: "error" in v.lower(), lambda k, p: "all"), "(?i)error"
    assert t["from_index"] > 1000, t["from_index"]
    res, _ = got("--group-by", "partition")
    assert res == expect(lambda v: True, lambda k, p: str(p)), "by partition"
    res, _ = got("--group-by", "source", "--grep", "ERROR")
    assert res == expect(lambda v: "ERROR" in v, lambda k, p: k), "by source"
    res2, t2 = got("--grep", ".")
    assert res2 == got()[0] and t2["from_index"] == 0, "index vs scan"
    result("stats: 5 queries equal to the records sent; %d of %d counted from the index"
           % (indexed, len(sent)))
    chart = cli(store, "stats", "ev", "--from-time", "-6h", "--by", "1h").decode()
    assert chart.count("\n") >= 7 and "\u2588" in chart, chart
    csv = cli(store, "stats", "ev", "--from-time", "-1h", "--by", "30m", "--format", "csv",
              "--group-by", "partition").decode().splitlines()
    assert csv[0] == "time,topic,group,count" and len(csv) >= 5, csv
    doc = httptest.get_json(store, "/v1/topics/ev/stats?from_time=%d&by=3600000" % frm)
    assert doc["total"] == len(sent), doc["total"]
    st, _ = httptest.request(store, "GET", "/v1/topics/ev/stats?from_time=x")
    assert st == 400
    mid = t0 + 12 * 3600 * 1000
    around = cli(store, "consume", "ev", "--around", iso(mid), "--context", "1m").splitlines()
    want = sorted(v.encode() for ts, _, _, v in sent if mid - 60000 <= ts <= mid + 60000)
    assert sorted(around) == want, (len(around), len(want))
    result("stats chart/csv/HTTP and consume --around ok")


def main():
    rnd = random.Random(21)
    with Env() as env:
        store = env.start_store(conf=CONF)
        st, body = httptest.request(store, "POST", "/v1/topics",
                                    ('{"name":"app","partitions":2,"segment_bytes":%d}'
                                     % SEG).encode())
        assert st == 201, body
        corpus = env.path("corpus.txt")
        env.gen_corpus(corpus, "24M")
        with open(corpus, "rb") as f:
            lines = [l for l in f.read().split(b"\n") if l]
        needles = ["R-%016x" % rnd.getrandbits(64) for _ in range(5)]
        for i, n in enumerate(needles):
            for k in range(i % 3 + 1):
                at = rnd.randrange(len(lines))
                lines[at] = lines[at] + b" req=" + n.encode()
        half = len(lines) // 2
        produce(store, "app", lines[:half], "web-1:nginx")
        produce(store, "app", lines[half:], "db-2:app")
        segs = wait_indexed(store, "app", 2)
        result("%d sealed segments indexed" % len(segs))
        data = sum(os.path.getsize(s) for s in segs)
        idx = sum(os.path.getsize(s[:-4] + ".bidx") for s in segs)
        result("index %.2f%% of the compressed data (%d / %d bytes)"
               % (100.0 * idx / data, idx, data))

        queries = [(n, False) for n in needles] + [(n.lower(), True) for n in needles]
        queries += [("(%s|%s)" % (needles[0], needles[1]), False),
                    ("req=R-[0-9a-f]{16}", False), (".*seq=12345\\b", False),
                    ("seq=\\d+$", False), ("X" + needles[2][1:].upper(), True)]
        for _ in range(8):
            l = rnd.choice(lines).decode()
            a = rnd.randrange(max(1, len(l) - 20))
            sub = "".join(c if c.isalnum() else "." for c in l[a:a + rnd.randint(6, 20)])
            queries.append((sub, rnd.random() < 0.5))
        for regex, icase in queries:
            want = grep_p(lines, regex, icase)
            got = consume_lines(store, "app", "--grep", regex, *(["-i"] if icase else []))
            assert got == want, "%s (icase %s): %d vs grep -P %d" % (regex, icase, len(got),
                                                                    len(want))
        result("%d queries identical to grep -P over the full dump" % len(queries))
        for glob_ in ("db-*", "web-1:*", "none*"):
            want = sorted(lines[half:] if glob_ == "db-*" else
                          lines[:half] if glob_ == "web-1:*" else [])
            got = consume_lines(store, "app", "--source", glob_)
            assert got == want, "--source %s: %d vs %d" % (glob_, len(got), len(want))
        got = consume_lines(store, "app", "--source", "db-*", "--grep", needles[0])
        assert got == [l for l in grep_p(lines, needles[0], False) if l in set(lines[half:])]
        result("--source globs identical")

        # the NDJSON replay filters in the store: the same answers
        def ndjson(extra):
            vals = []
            for p in (0, 1):
                out = subprocess.run(["curl", "-sf", store.url + "/v1/topics/app/partitions/%d"
                                      "/records?format=ndjson&" % p + extra],
                                     capture_output=True, check=True).stdout
                vals += [json.loads(l)["value"].encode() for l in out.split(b"\n") if l]
            return sorted(vals)
        for regex, icase in queries:
            want = grep_p(lines, regex, icase)
            got = ndjson(urllib.parse.urlencode({"grep": regex, "icase": int(icase)}))
            assert got == want, "ndjson %s (icase %s): %d vs grep -P %d" % (regex, icase,
                                                                           len(got), len(want))
        got = ndjson(urllib.parse.urlencode({"source": "db-*", "grep": needles[0]}))
        assert got == [l for l in grep_p(lines, needles[0], False) if l in set(lines[half:])]
        st, body = httptest.request(store, "GET", "/v1/topics/app/partitions/0/records"
                                    "?format=ndjson&grep=%28unclosed")
        assert st == 400 and b"bad regular expression" in body, (st, body)
        result("NDJSON replay with grep=/source=: %d queries identical, bad RE refused (400)"
               % (len(queries) + 1))

        full = subprocess.run(["curl", "-s", store.url + "/v1/topics/app/partitions/0/records"
                               "?format=raw"], capture_output=True).stdout
        part = subprocess.run(["curl", "-s", store.url + "/v1/topics/app/partitions/0/records"
                               "?format=raw&grep=" + needles[3]], capture_output=True).stdout
        assert len(part) * 3 < len(full), (len(part), len(full))
        result("raw replay with grep=: %d of %d bytes sent" % (len(part), len(full)))

        # the active segment (default 1 GiB segments: never sealed here) is
        # indexed in memory, block by block, as it grows
        produce(store, "live", lines[:half], "web-1:nginx")
        raw = store.url + "/v1/topics/live/partitions/0/records?format=raw"
        full = len(subprocess.run(["curl", "-s", raw], capture_output=True).stdout)
        deadline = time.time() + 60
        while time.time() < deadline:
            part = len(subprocess.run(["curl", "-s", raw + "&grep=" + needles[0]],
                                      capture_output=True).stdout)
            if part * 3 < full:
                break
            time.sleep(0.2)
        assert part * 3 < full, (part, full)
        for regex, icase in queries[:12]:
            want = grep_p(lines[:half], regex, icase)
            got = consume_lines(store, "live", "--grep", regex, *(["-i"] if icase else []))
            assert got == want, "live %s: %d vs %d" % (regex, len(got), len(want))
        result("active segment indexed as it grows: %d of %d bytes sent; 12 queries identical"
               % (part, full))

        # damage one index, remove another: both rebuilt after a restart
        victim, gone = segs[0][:-4] + ".bidx", segs[1][:-4] + ".bidx"
        with open(victim, "rb") as f:
            good = f.read()
        with open(victim, "r+b") as f:
            f.seek(len(good) // 2)
            f.write(bytes([good[len(good) // 2] ^ 0xff]))
        os.unlink(gone)
        store.restart()
        deadline = time.time() + 60
        while time.time() < deadline and not (
                "damaged" in store.log() and os.path.exists(gone)
                and open(victim, "rb").read() == good):
            time.sleep(0.1)
        assert "damaged" in store.log(), store.log()[-2000:]
        assert open(victim, "rb").read() == good
        assert os.path.exists(gone)
        got = consume_lines(store, "app", "--grep", needles[1])
        assert got == grep_p(lines, needles[1], False)
        result("damaged and missing indexes rebuilt")

        st, body = httptest.request(store, "PUT", "/v1/topics/app",
                                    ('{"retention_bytes":%d}' % (3 * SEG)).encode())
        assert st == 200, body
        deadline = time.time() + 60
        while time.time() < deadline and os.path.exists(victim):
            time.sleep(0.1)
        assert not os.path.exists(victim) and not os.path.exists(segs[0])

        def orphans():
            out = set()
            for p in range(2):
                d = os.path.join(store.data_dir, "app-%d" % p)
                bases = {f[:-5] for f in os.listdir(d) if f.endswith(".bidx")}
                out |= bases - {f[:-4] for f in os.listdir(d) if f.endswith(".log")}
            return out
        # retention unlinks a segment's files one after the other, and the
        # index builder removes an index it finished for a segment deleted
        # meanwhile: an orphan may be seen for a moment while retention goes
        # on, but one left behind would be seen every time
        wait_until(lambda: not orphans(), 30, "no index left without its segment")
        result("retention deleted segments with their indexes")
        stats_part(store)


if __name__ == "__main__":
    main()
