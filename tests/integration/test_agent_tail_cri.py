# SPDX-License-Identifier: Apache-2.0
"""`format: cri` and `format: docker`: Kubernetes container logs as
containerd / CRI-O and Docker's json-file driver write them (issue 19 case
10), through kubelet's layout and rotation, both formats at once.

/logs/containers/<pod>_<ns>_<container>-<id>.log -> pods/<ns>_<pod>_<uid>/
<container>/0.log.  A numbered corpus is written as CRI lines
(`<time> <stream> <P|F> <log>`): a third of the lines on stderr, every
fourth line cut into three pieces (P, P, F), half of those with a line of
the other stream between their pieces (such a line arrives in two records);
0.log is rotated kubelet's way (0.log.<time>, a new 0.log) every 512 KiB
between whole lines, and the agent is killed with SIGKILL once at a random
piece.  The docker run writes the same pieces as json-file objects (a
piece is a "log" without its trailing newline; the text JSON-escaped as
Go's encoder does, <>& included).  Every line must arrive exactly once
(check_seq.py), byte for byte,
with its stream, its time from the line and the pod,
namespace, container and container id from the name in its headers.
"""
import collections
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from agentkit import Agent, corpus, run_parallel, wait_until  # noqa: E402
from sluicetest import Env, result  # noqa: E402

CONFIG = """
agent:
  data_dir: {d}/data
  http: {{ listen: @HTTP@ }}
  shutdown_timeout: 10s
inputs:
  - id: k8s
    type: tail
    format: {fmt}
    paths: [{d}/logs/containers/*.log]
    read_from_head: true
    rotate_wait: 1s
    poll_interval: 200ms
outputs:
  - id: out
    type: file
    path: {d}/out.ndjson
    format: ndjson
    batch: {{ max_delay_ms: 50 }}
"""
T0 = 1796182200000   # 2026-12-02T03:30:00Z, ms
POD, NS, CONTAINER, CID = "web-7d4b9c-x2x", "prod", "nginx-proxy", "0123456789abcdef"


def stamp(ms):
    s, m = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s)) + ".%03d123456Z" % m


def docker_line(cri):
    """The json-file object of one CRI piece line."""
    ts, stream, tag, text = cri[:-1].split(b" ", 3)
    log = text.decode() + ("\n" if tag == b"F" else "")
    enc = json.dumps(log)
    for c, u in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        enc = enc.replace(c, u)   # Go's json.Marshal escapes these
    return ('{"log":%s,"stream":"%s","time":"%s"}\n' % (enc, stream.decode(),
                                                        ts.decode())).encode()


def cri_pieces(lines, rnd):
    """CRI lines for lines[i] = (text, stream, ms): every fourth line in three
    pieces, half of those with the next line (of the other stream) written
    between its pieces, as runtimes interleave stdout and stderr.  Returns
    the CRI lines and the records expected: [(value, stream, ms)]; a line
    interleaved so arrives as two records (docs/AGENT.md)."""
    def rec(text, stream, ms, tag):
        return b"%s %s %s %s\n" % (stamp(ms).encode(), stream.encode(), tag, text)
    out, want, i = [], [], 0
    while i < len(lines):
        text, stream, ms = lines[i]
        seq = text.rfind(b"seq")
        if i % 4 != 0 or seq < 3:
            out.append(rec(text, stream, ms, b"F"))
            want.append((text, stream, ms))
            i += 1
            continue
        a, b = sorted(rnd.sample(range(1, seq), 2))   # the seq stays whole, in the last
        out.append(rec(text[:a], stream, ms, b"P"))
        out.append(rec(text[a:b], stream, ms, b"P"))
        if i + 1 < len(lines) and lines[i + 1][1] != stream and rnd.random() < 0.5:
            nxt = lines[i + 1]
            out.append(rec(nxt[0], nxt[1], nxt[2], b"F"))
            out.append(rec(text[b:], stream, ms, b"F"))
            want += [(text[:b], stream, ms), nxt, (text[b:], stream, ms)]
            i += 2
            continue
        out.append(rec(text[b:], stream, ms, b"F"))
        want.append((text, stream, ms))
        i += 1
    return out, want


def main():
    with Env() as env:
        for r in run_parallel((run, env, "cri"), (run, env, "docker")):
            result(r)


def run(env, fmt):
    rnd = random.Random(int(os.environ.get("SEED", "10")))
    d = env.path(fmt)
    pod = os.path.join(d, "pods", "%s_%s_4f1c" % (NS, POD), CONTAINER)
    os.makedirs(pod)
    os.makedirs(os.path.join(d, "logs", "containers"))
    log = os.path.join(pod, "0.log")
    open(log, "w").close()
    os.symlink(log, os.path.join(d, "logs", "containers",
                                 "%s_%s_%s-%s.log" % (POD, NS, CONTAINER, CID)))
    src = os.path.join(d, "corpus")
    events = corpus(env, src, "3M")
    with open(src, "rb") as f:
        raw = f.read().split(b"\n")[:-1]
    lines = [(t, "stderr" if i % 3 == 0 else "stdout", T0 + i) for i, t in enumerate(raw)]
    pieces, want = cri_pieces(lines, rnd)
    if fmt == "docker":
        pieces = [(docker_line(p), p) for p in pieces]
    else:
        pieces = [(p, p) for p in pieces]
    agent = Agent(env, CONFIG.format(d=d, fmt=fmt), name="agent-" + fmt)
    agent.start()
    written, rotations = 0, 0

    def recs():
        try:
            with open(os.path.join(d, "out.ndjson")) as f:
                return [json.loads(line) for line in f if line.endswith("\n")]
        except (FileNotFoundError, ValueError):   # read while it is cut back
            return []
    kill_at = rnd.randrange(len(pieces) // 4, len(pieces) * 3 // 4)
    out = open(log, "ab", buffering=0)
    waiting = None   # the stream whose pieces wait for their F
    for i, (p, cri) in enumerate(pieces):
        out.write(p)
        written += len(p)
        _, stream, tag, _ = cri.split(b" ", 3)
        waiting = stream if tag == b"P" else (None if stream == waiting else waiting)
        if i == kill_at:
            # once something is delivered: a kill before the first spool
            # write or the file output's first state is another matter
            # (see the report of issue 19)
            wait_until(lambda: len(recs()) > 0, 30, "the first records")
            agent.kill()
            agent.start()
        # between whole lines: a line whose pieces straddle a rotation
        # arrives as two records (docs)
        if written >= 512 << 10 and waiting is None:
            out.close()
            os.rename(log, "%s.20261202-%06d" % (log, rotations))
            rotations += 1
            written = 0
            out = open(log, "ab", buffering=0)
    out.close()
    wait_until(lambda: len(recs()) >= len(want), 60, "%d records" % len(want))
    split = agent.metric('sluice_agent_tail_cri_interleaved_total{input="k8s"}')
    invalid = agent.metric('sluice_agent_tail_cri_invalid_total{input="k8s"}')
    assert agent.term() == 0
    rs = recs()
    line = env.check_seq("\n".join(r["value"] for r in rs).encode() + b"\n", expect=events)
    ok = {}
    for v, stream, ms in want:
        ok.setdefault(v.decode("utf-8", "replace"), set()).add((stream, ms))
    got = collections.Counter(r["value"] for r in rs)
    assert got == collections.Counter(v.decode("utf-8", "replace") for v, _, _ in want), \
        "records differ from the lines written"
    bad = 0
    for r in rs:
        h = r.get("headers") or []
        h = {x["key"]: x["value"] for x in h} if isinstance(h, list) else h
        if (h.get("stream"), r["timestamp"]) not in ok[r["value"]] or \
                h.get("pod") != POD or h.get("namespace") != NS or \
                h.get("container") != CONTAINER or h.get("container_id") != CID:
            bad += 1
            if bad < 3:
                sys.stderr.write("bad record: %r\n" % r)
    assert bad == 0, "%d records without their stream, time or pod" % bad
    assert invalid == 0, "%d lines not understood" % invalid
    return ("%s: %d lines as %d %s lines (pieces, streams interleaved), %d rotations, 1 "
            "kill -9: %s; every record as written with stream, time and pod headers; %d "
            "lines split by the other stream" % (fmt, len(lines), len(pieces), fmt,
                                                rotations, line, split))


if __name__ == "__main__":
    main()
