# SPDX-License-Identifier: Apache-2.0
"""A tailed file is what it is (device, inode, birth time, fingerprint), not
where it is: issue 19, cases 1, 2, 4, 5, 6 and 7.  Each case has its own agent,
directory and exactly-once file output, numbered corpora (gen_corpus.py) and
check_seq.py; the cases run at the same time.

symlink      logs/app.log -> pods/app-0.log; kill -9; append to app-0, write
             app-1 and re-point the link while the agent is down: app-0 is
             found where it really is and finished, app-1 read whole.
generations  app.log -> app.log.1 -> app.log.2 while the agent is down, with
             exclude ["*.[0-9]"]: every generation is finished.
justseen     the same for a file the agent saw moments before its kill -9
             (batch max_delay_ms 10 s, killed within 5 s of seeing it):
             its registration is spooled at once, not with the next batch,
             or the restart would not know the file and lose all of it.
fast         ten rotations in a burst, faster than any scan (refresh_interval
             60s), rotated names excluded: every generation is finished.
kubelet      the same through the kubelet's symlink and 0.log.<time> names,
             16 MiB written as fast as Python can, rotated every 2 MiB.
reuse        a file deleted and created again with the same first 2 KiB
             (a fingerprint collision) on what may be the same inode (ext4
             holds a freed inode back for a while), once while the agent runs
             and once while it is down; a live twin with those first bytes;
             an empty file written only while the agent is down.
copytruncate the bytes a truncation loses (an unfinished last line the agent
             saw) are counted in sluice_agent_tail_truncated_lost_bytes_total
             and named in the warning (issue 19 case 2).
nowatch      the inotify watch limit (12, in a user namespace of the agent's
             own) below the files tailed: the rest are polled, said once,
             nothing lost through rotations (issue 19 case 7).
deleted      a file deleted while the agent is down is counted and logged as
             lost; a deleted file the writer keeps open is let go (no
             descriptor) within rotate_wait + poll_interval of being shipped.
"""
import json
import os
import random
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from agentkit import Agent, corpus, run_parallel, wait_until  # noqa: E402
from sluicetest import BIN, Env, result, wait_port  # noqa: E402

CONFIG = """
agent:
  data_dir: {d}/data
  http: {{ listen: @HTTP@ }}
  shutdown_timeout: 10s
inputs:
  - id: app
    type: tail
    paths: [{paths}]
    read_from_head: {head}
    refresh_interval: {refresh}
    rotate_wait: 1s
    poll_interval: 200ms
    multiline: {{ start: '^[0-9{{]', flush_ms: 1000 }}
{extra}outputs:
  - id: out
    type: file
    path: {d}/out.ndjson
    format: ndjson
    batch: {{ max_delay_ms: 50 }}
"""

KILLS = int(os.environ.get("KILLS", "8"))
RND = random.Random(int(os.environ.get("SEED", "19")))
SEQ = re.compile(r'(?:seq=|"seq": ?)\d+')
HEADER = b"".join(b"# banner line %03d of a header every file of this app starts with\n" % i
                  for i in range(40))


class Case:
    def __init__(self, env, name, paths, head=True, refresh="1s", extra="", agent_cls=None):
        self.env, self.name = env, name
        self.d = env.path(name)
        os.makedirs(os.path.join(self.d, "logs"))
        self.seq = 0
        self.agent = (agent_cls or Agent)(env, CONFIG.format(d=self.d, paths=paths.format(d=self.d),
                                              head="true" if head else "false",
                                              refresh=refresh, extra=extra), name="agent-" + name)

    def p(self, *parts):
        return os.path.join(self.d, *parts)

    def chunk(self, size="256K"):
        """A numbered corpus continuing the sequence: its bytes."""
        path = self.p("chunk-%d" % self.seq)
        n = corpus(self.env, path, size, "--start-seq", str(self.seq), "--seed", str(self.seq + 1))
        self.seq += n
        with open(path, "rb") as f:
            data = f.read()
        os.unlink(path)
        return data

    def append(self, path, data):
        with open(path, "ab") as f:
            f.write(data)

    def values(self):
        vals = []
        try:
            with open(self.p("out.ndjson")) as f:
                for line in f:
                    vals.append(json.loads(line)["value"])
        except FileNotFoundError:
            pass
        return vals

    def shipped(self, n=None, timeout=45):
        """Wait for n numbered events (the header events carry none)."""
        n = self.seq if n is None else n
        wait_until(lambda: sum(len(SEQ.findall(v)) for v in self.values()) >= n, timeout,
                   "%s: %d events in the output" % (self.name, n))

    def tailed(self, n):
        wait_until(lambda: self.agent.metric('sluice_agent_tail_files{input="app"}') == n, 30,
                   "%s: %d files tailed" % (self.name, n))

    def check(self, timeout=45):
        try:
            self.shipped(timeout=timeout)
        except AssertionError as e:
            waited = str(e)
        else:
            waited = None
        vals = self.values()
        line = self.env.check_seq("\n".join(vals).encode() + b"\n", expect=self.seq)
        assert waited is None, waited
        return line

    def fds_to(self, path):
        """Descriptors the agent holds on path (deleted or not)."""
        fd_dir = "/proc/%d/fd" % self.agent.proc.pid
        n = 0
        for fd in os.listdir(fd_dir):
            try:
                if os.readlink(os.path.join(fd_dir, fd)).startswith(path):
                    n += 1
            except OSError:
                pass
        return n


def repoint(link, target):
    tmp = link + ".tmp"
    os.symlink(target, tmp)
    os.rename(tmp, link)


def case_symlink(env):
    c = Case(env, "symlink", "{d}/logs/*.log", head=False)
    os.makedirs(c.p("pods"))
    open(c.p("pods", "app-0.log"), "w").close()
    os.symlink(c.p("pods", "app-0.log"), c.p("logs", "app.log"))
    c.agent.start()
    c.tailed(1)
    c.append(c.p("pods", "app-0.log"), c.chunk())
    c.shipped()
    c.agent.kill()
    c.append(c.p("pods", "app-0.log"), c.chunk())
    c.append(c.p("pods", "app-1.log"), c.chunk())
    repoint(c.p("logs", "app.log"), c.p("pods", "app-1.log"))
    c.agent.start()
    line = c.check()
    # and once more while it runs: re-pointed again, the old target finished
    c.append(c.p("pods", "app-1.log"), c.chunk())
    c.append(c.p("pods", "app-2.log"), c.chunk())
    repoint(c.p("logs", "app.log"), c.p("pods", "app-2.log"))
    c.append(c.p("pods", "app-2.log"), c.chunk())
    line2 = c.check()
    wait_until(lambda: c.fds_to(c.p("pods", "app-1.log")) == 0, 30, "app-1.log let go")
    # kill -9 at any moment while the pod logs grow, re-pointed while down
    for k in range(3, 3 + KILLS):
        c.append(c.p("pods", "app-%d.log" % (k - 1)), c.chunk("128K"))
        time.sleep(RND.uniform(0, 0.3))
        c.agent.kill()
        c.append(c.p("pods", "app-%d.log" % (k - 1)), c.chunk("64K"))
        c.append(c.p("pods", "app-%d.log" % k), c.chunk("64K"))
        repoint(c.p("logs", "app.log"), c.p("pods", "app-%d.log" % k))
        c.agent.start()
    line3 = c.check()
    assert "is gone" not in c.agent.log(), c.agent.log()[-2000:]
    assert c.agent.term() == 0
    return "re-pointed while down: %s; while running: %s; %d kill -9 while growing, " \
        "re-pointed each time: %s" % (line, line2, KILLS, line3)


def rotate(path, keep):
    """logrotate's rename scheme: .N-1 -> .N ... app.log -> .1, new app.log."""
    for i in range(keep - 1, 0, -1):
        if os.path.exists("%s.%d" % (path, i)):
            os.rename("%s.%d" % (path, i), "%s.%d" % (path, i + 1))
    os.rename(path, path + ".1")
    open(path, "w").close()


def case_generations(env):
    c = Case(env, "generations", "{d}/logs/*.log*", head=False,
             extra='    exclude: ["*.gz", "*.[0-9]"]\n')
    log = c.p("logs", "app.log")
    open(log, "w").close()
    c.agent.start()
    c.tailed(1)
    c.append(log, c.chunk())
    c.shipped()
    c.agent.kill()
    c.append(log, c.chunk())
    rotate(log, 5)
    c.append(log, c.chunk())
    rotate(log, 5)
    c.append(log, c.chunk())
    c.agent.start()
    line = c.check()
    assert c.agent.term() == 0
    return "2 rotations while down: %s" % line


def case_justseen(env):
    c = Case(env, "justseen", "{d}/logs/*.log*", head=False,
             extra='    exclude: ["*.gz", "*.[0-9]"]\n')
    c.agent.write_config(c.agent.config.replace("max_delay_ms: 50", "max_delay_ms: 10000"))
    c.agent.start()
    syncs = 'sluice_agent_spool_syncs_total{output="out"}'
    s0 = c.agent.metric(syncs)
    log = c.p("logs", "app.log")
    open(log, "w").close()
    c.tailed(1)
    try:  # the registration durable, within half the batch delay
        wait_until(lambda: c.agent.metric(syncs) > s0, 5, "a spool sync", step=0.02)
    except AssertionError:
        pass  # the old agent: killed before its registration was spooled
    c.agent.kill()
    c.append(log, c.chunk())
    rotate(log, 5)
    c.append(log, c.chunk())
    rotate(log, 5)
    c.append(log, c.chunk())
    c.agent.start()
    line = c.check()
    assert c.agent.term() == 0
    return "seen, kill -9, 2 rotations while down: %s" % line


def case_fast(env):
    c = Case(env, "fast", "{d}/logs/*.log", head=False, refresh="60s",
             extra='    exclude: ["*.gz", "*.[0-9]", "*.[0-9][0-9]"]\n')
    log = c.p("logs", "app.log")
    open(log, "w").close()
    c.agent.start()
    c.tailed(1)
    data = [c.chunk("64K") for _ in range(11)]
    for i in range(10):
        c.append(log, data[i])
        rotate(log, 12)
    c.append(log, data[10])
    line = c.check()
    assert c.agent.term() == 0
    return "10 rotations in %s: %s" % ("a burst", line)


def case_kubelet(env):
    """The kubelet's scheme: /var/log/containers/<pod>_<ns>_<c>-<id>.log ->
    /var/log/pods/<ns>_<pod>_<uid>/<c>/0.log, rotated by renaming 0.log to
    0.log.<YYYYMMDD-hhmmss> and creating 0.log, here every 2 MiB of a
    writer going as fast as it can: many rotations between two scans."""
    c = Case(env, "kubelet", "{d}/logs/*.log", head=False, refresh="60s")
    pod = c.p("pods", "ns_web-0_0f3c", "app")
    os.makedirs(pod)
    log = os.path.join(pod, "0.log")
    open(log, "w").close()
    os.symlink(log, c.p("logs", "web-0_ns_app-0123abcd.log"))
    c.agent.start()
    c.tailed(1)
    data = c.chunk("16M")
    written, rotations, off = 0, 0, 0
    f = open(log, "ab")
    while off < len(data):
        # whole lines, as the container runtime writes them
        end = data.rfind(b"\n", off, off + (256 << 10)) + 1 or len(data)
        f.write(data[off:end])
        written += end - off
        off = end
        if written >= 2 << 20 and off < len(data):
            f.close()
            os.rename(log, "%s.20261202-%06d" % (log, rotations))
            rotations += 1
            written = 0
            f = open(log, "ab")
    f.close()
    line = c.check()
    gens = c.agent.metric('sluice_agent_tail_generations_total{input="app"}')
    assert c.agent.term() == 0
    return "16 MiB at full speed, %d rotations (%d finished unseen): %s" % (rotations, gens, line)


def pod_case(env, name, pod, rotate_wait="1s"):
    """A case on kubelet's layout (logs/<pod>_ns_app-<id>.log -> pods/ns_<pod>_<uid>/app/0.log),
    its agent started and a first chunk shipped: (case, path of 0.log)."""
    c = Case(env, name, "{d}/logs/*.log", head=False, refresh="2s")
    c.agent.write_config(c.agent.config.replace("rotate_wait: 1s", "rotate_wait: " + rotate_wait))
    d = c.p("pods", "ns_%s_9a2b" % pod, "app")
    os.makedirs(d)
    log = os.path.join(d, "0.log")
    open(log, "w").close()
    os.symlink(log, c.p("logs", "%s_ns_app-4567cdef.log" % pod))
    c.agent.start()
    c.tailed(1)
    c.append(log, c.chunk())
    c.shipped()
    return c, log


def case_unseen(env):
    """A generation no scan saw at the name: kubelet's layout (the symlink's
    target directory is not watched).  0.log is rotated and the rescan that
    follows finds nothing at the name; then, before the next scan (the
    refresh), a new 0.log is written and rotated too, and a third one
    created.  The scan that finds the third must read the second, rotated
    from the name between the two, as a generation."""
    c, log = pod_case(env, "unseen", "web-1")
    m = 'sluice_agent_tail_%s_total{input="app"}'
    r0, s0 = c.agent.metric(m % "rotations"), c.agent.metric(m % "scans")
    os.rename(log, log + ".20261202-000000")
    wait_until(lambda: c.agent.metric(m % "rotations") > r0, 10, "the rotation seen")
    s1 = c.agent.metric(m % "scans")
    wait_until(lambda: c.agent.metric(m % "scans") > max(s0, s1), 10, "a scan after it")
    second, third = c.chunk("64K"), c.chunk("64K")
    with open(log, "wb") as f:
        f.write(second)
    os.rename(log, log + ".20261202-000001")
    with open(log, "wb") as f:
        f.write(third)
    line = c.check()
    gens = c.agent.metric('sluice_agent_tail_generations_total{input="app"}')
    assert c.agent.term() == 0
    return "rotated twice around one scan: %s (%d read as generations)" % (line, gens)


def case_unseendown(env):
    """The same while the agent is down: 0.log rotated while the agent reads
    it (and still written to under its new name), the agent killed, then a
    second 0.log written and rotated and a third created.  The restarted
    agent resumes the first beside its new name and must read the second
    as a generation of the name."""
    # the first stays unfinished (resumed, not a tomb) when the agent restarts
    c, log = pod_case(env, "unseendown", "web-2", rotate_wait="60s")
    r0 = c.agent.metric('sluice_agent_tail_rotations_total{input="app"}')
    os.rename(log, log + ".20261202-000000")
    wait_until(lambda: c.agent.metric('sluice_agent_tail_rotations_total{input="app"}') > r0,
               10, "the rotation seen")
    c.append(log + ".20261202-000000", c.chunk("64K"))
    c.shipped()
    c.agent.kill()
    with open(log, "wb") as f:
        f.write(c.chunk("64K"))
    os.rename(log, log + ".20261202-000001")
    with open(log, "wb") as f:
        f.write(c.chunk("64K"))
    c.agent.start()
    line = c.check()
    assert c.agent.term() == 0
    return "rotated while read, kill -9, rotated again while down: %s" % line


def create(path, data, ino):
    """Create path with data; True if it got inode ino."""
    with open(path, "wb") as f:
        f.write(data)
    return os.stat(path).st_ino == ino


def case_reuse(env):
    c = Case(env, "reuse", "{d}/logs/*.log", head=False)
    log, empty = c.p("logs", "app.log"), c.p("logs", "empty.log")
    twin = c.p("logs", "twin.log")
    for p in (log, empty, twin):
        open(p, "w").close()
    c.agent.start()
    c.tailed(3)
    c.append(log, HEADER + c.chunk())
    c.append(twin, HEADER + c.chunk())  # a live file with the same first bytes
    c.shipped()
    # while running: the first generation must be let go before its inode
    # can be given to the next
    # (the data made first: a file made in between would take the inode)
    data = HEADER + c.chunk()
    ino = os.stat(log).st_ino
    os.unlink(log)
    c.tailed(2)
    reused = [create(log, data, ino)]
    c.shipped()
    c.agent.kill()
    # longer than the last, so resuming at its position would skip its head
    data = HEADER + c.chunk("512K")
    ino = os.stat(log).st_ino
    os.unlink(log)
    reused.append(create(log, data, ino))
    c.append(empty, c.chunk())
    c.append(twin, c.chunk())
    c.agent.start()
    line = c.check()
    assert c.agent.term() == 0
    return "same first 2 KiB, deleted and created (inode reused: %s) running and down, a " \
           "live twin with the same first bytes, an empty file written while down: %s" % ("/".join(str(r) for r in reused), line)


def case_deleted(env):
    c = Case(env, "deleted", "{d}/logs/*.log", head=False)
    gone, held = c.p("logs", "gone.log"), c.p("logs", "held.log")
    open(gone, "w").close()
    open(held, "w").close()
    c.agent.start()
    c.tailed(2)
    c.append(gone, c.chunk())
    c.shipped()
    c.agent.kill()
    lost_from = c.seq
    c.append(gone, c.chunk("16K"))
    lost = c.seq - lost_from
    os.unlink(gone)
    c.agent.start()
    wait_until(lambda: "gone.log is gone" in c.agent.log(), 30, "the loss to be logged")
    assert c.agent.metric('sluice_agent_tail_lost_files_total{input="app"}') == 1
    w = open(held, "ab", buffering=0)
    try:
        w.write(c.chunk())
        os.unlink(held)
        w.write(c.chunk())
        c.shipped(c.seq - lost)
        t0 = time.time()
        wait_until(lambda: c.fds_to(held) == 0, 20, "the deleted held.log let go")
        let_go = time.time() - t0
    finally:
        w.close()
    vals = c.values()
    try:
        line = env.check_seq("\n".join(vals).encode() + b"\n")
    except AssertionError as e:
        line = str(e)
    assert ("missing=%d " % lost) in line, line
    assert c.agent.term() == 0
    return "deleted while down: %d events lost, counted and logged (%s); deleted but held " \
           "open: let go %.1f s after its last event was shipped" % (lost, line, let_go)


def case_copytruncate(env):
    c = Case(env, "copytruncate", "{d}/logs/*.log", head=False)
    log = c.p("logs", "app.log")
    open(log, "w").close()
    c.agent.start()
    c.tailed(1)
    partial = b"2026-12-02 03:30:00,000 INFO unfinished when truncated seq=%d" % 0
    c.append(log, c.chunk())
    lost_seq = c.seq
    partial = partial.replace(b"seq=0", b"seq=%d" % lost_seq)
    c.seq += 1
    c.append(log, partial)
    c.shipped(lost_seq)
    # the agent has read up to the unfinished line: the size it saw holds it
    wait_until(lambda: c.agent.metric('sluice_agent_tail_read_bytes_total{input="app"}') >=
               os.path.getsize(log), 30, "the unfinished line read")
    with open(log, "r+b") as f:
        f.truncate(0)
    c.append(log, c.chunk())
    c.shipped(c.seq - 1)
    lost = c.agent.metric('sluice_agent_tail_truncated_lost_bytes_total{input="app"}')
    vals = c.values()
    try:
        line = env.check_seq("\n".join(vals).encode() + b"\n", expect=c.seq)
    except AssertionError as e:
        line = str(e)
    assert "missing=1 duplicated=0" in line, line
    assert lost == len(partial), "lost bytes counted %s, not %d" % (lost, len(partial))
    assert "%d bytes written before the truncation were not read" % len(partial) in \
        c.agent.log(), c.agent.log()[-1000:]
    assert c.agent.term() == 0
    return "the %d-byte unfinished line lost at the truncation counted and logged (%s)" % (
        len(partial), line)


class LimitedAgent(Agent):
    """The agent in a user namespace of its own whose inotify watch limit is
    WATCHES (/proc/sys/user/max_inotify_watches is per user namespace), so
    the limit is real and nothing else on the machine feels it."""

    def start(self, wait=True, preexec_fn=None):
        log = open(self.log_path, "ab")
        self.proc = self.env.spawn(
            ["unshare", "-U", "-r", "/bin/sh", "-c",
             'echo %d > /proc/sys/user/max_inotify_watches && exec "$0" -c "$1"' % WATCHES,
             os.path.join(BIN, "sluice-agent"), self.conf_path],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        if wait:
            wait_port(self.http_port, 30, self.proc)
        return self


WATCHES = 12


def case_nowatch(env):
    probe = subprocess.run(["unshare", "-U", "-r", "/bin/sh", "-c",
                            "echo 1 > /proc/sys/user/max_inotify_watches"], capture_output=True)
    if probe.returncode != 0:
        return "skipped: no user namespace with its own watch limit (%s)" % probe.stderr[:100]
    c = Case(env, "nowatch", "{d}/logs/*.log", head=False, agent_cls=LimitedAgent)
    names = ["f%02d.log" % i for i in range(40)]
    for n in names:
        open(c.p("logs", n), "w").close()
    c.agent.start()
    c.tailed(len(names))
    for n in names:
        c.append(c.p("logs", n), c.chunk("16K"))
    c.shipped()
    # rotations and new files, seen by polling and the scan only
    for n in names[:10]:
        os.rename(c.p("logs", n), c.p("logs", n + ".1"))
        c.append(c.p("logs", n + ".1"), c.chunk("8K"))
        c.append(c.p("logs", n), c.chunk("8K"))
    line = c.check()
    polled = c.agent.metric('sluice_agent_tail_polled_files{input="app"}')
    said = c.agent.log().count("out of inotify watches")
    assert polled > 0 and said == 1, (polled, said)
    assert c.agent.term() == 0
    return "%d files, %d watches: %d polled, said once; 10 rotated and re-created: %s" % (
        len(names), WATCHES, polled, line)


CASES = {"unseen": case_unseen, "unseendown": case_unseendown, "kubelet": case_kubelet, "nowatch": case_nowatch, "copytruncate": case_copytruncate, "symlink": case_symlink, "generations": case_generations,
         "justseen": case_justseen, "fast": case_fast,
         "reuse": case_reuse, "deleted": case_deleted}


def guarded(fn, env):
    """(True, result) or (False, what failed): every case reports."""
    try:
        return True, fn(env)
    except Exception as e:  # noqa: BLE001 - reported by main
        return False, "%s: %s" % (type(e).__name__, e)


def main():
    names = os.environ.get("CASES", " ".join(CASES)).split()
    with Env() as env:
        out = run_parallel(*[(guarded, CASES[n], env) for n in names])
        failed = [n for n, (ok, _) in zip(names, out) if not ok]
        for n, (ok, r) in zip(names, out):
            if ok:
                result("%s: %s" % (n, r))
            else:
                sys.stderr.write("FAILED %s: %s\n" % (n, r))
                with open(env.path("agent-%s.log" % n), errors="replace") as f:
                    sys.stderr.write("--- agent-%s.log ---\n%s\n" % (n, f.read()[-3000:]))
        assert not failed, "failed: %s" % "; ".join(
            "%s: %s" % (n, r[:600]) for n, (ok, r) in zip(names, out) if not ok)


if __name__ == "__main__":
    main()
