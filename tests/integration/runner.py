# SPDX-License-Identifier: Apache-2.0
"""The integration runner behind tests/integration/run.sh.

Runs tests/integration/test_*.sh (with /bin/bash) and test_*.py (with
/usr/bin/python3) against the binaries in $SLUICE_BIN, in INTEGRATION_JOBS
slots (default 3; each test starts its own daemons on free ports, so tests
do not share state).  Most tests spend their time awaiting conditions, so
three run at once on two cores; a test that keeps a core busy most of its
run takes two slots.  A tag in a test's first 40 lines says so:

    # harness: serial    runs alone (shares machine-wide state)
    # harness: heavy     takes two slots (a full-speed pipeline, a compiler, JVMs)
    # harness: quick     belongs to the quick tier (TIER=quick, `make check`)

Each test's output goes to its own file; results are printed in the order
of the test list as they complete ("ok NAME (Ns)" and its RESULT lines, or
"FAIL NAME" and the output's last 80 lines), then the summary line
"integration: N passed, N failed in Ns".  Tests known to be long start
first: durations.json (measured, checked in) as updated by the last run's
$SLUICE_BIN/../integration-times.json.
A test gets INTEGRATION_TIMEOUT seconds (900); every test runs in its own
process group, killed once the test ends (whatever it left running) or when
the runner is interrupted.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def tags(path):
    out = set()
    with open(path, errors="replace") as f:
        for _, line in zip(range(40), f):
            line = line.strip()
            if line.startswith("# harness:"):
                out.update(line[len("# harness:"):].split())
    return out


def discover(wanted, tier):
    tests = sorted(n for n in os.listdir(HERE) if n.startswith("test_") and n.endswith(".sh"))
    tests += sorted(n for n in os.listdir(HERE) if n.startswith("test_") and n.endswith(".py"))
    out = []
    for name in tests:
        if wanted and name not in wanted and os.path.splitext(name)[0] not in wanted:
            continue
        t = tags(os.path.join(HERE, name))
        if tier == "quick" and "quick" not in t:
            continue
        out.append((name, t))
    return out


class Job:
    def __init__(self, name, serial, weight=1):
        self.name, self.serial, self.weight = name, serial, weight
        self.proc = None
        self.log = None
        self.start = self.end = 0.0
        self.rc = None

    def launch(self, timeout):
        path = os.path.join(HERE, self.name)
        interp = "/usr/bin/python3" if self.name.endswith(".py") else "/bin/bash"
        self.log = tempfile.TemporaryFile()
        self.start = time.time()
        self.proc = subprocess.Popen(["timeout", "-k", "10", str(timeout), interp, path],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)

    def poll(self):
        if self.proc is not None and self.rc is None and self.proc.poll() is not None:
            self.rc = self.proc.returncode
            self.end = time.time()
            try:  # whatever the test left running in its process group
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
        return self.rc

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            self.proc.wait()

    def report(self):
        self.log.seek(0)
        text = self.log.read().decode(errors="replace")
        self.log.close()
        dur = int(round(self.end - self.start))
        if self.rc == 0:
            lines = ["ok   %s (%ds)" % (self.name, dur)]
            lines += ["     " + ln for ln in text.splitlines() if ln.startswith("RESULT")]
        else:
            lines = ["FAIL %s (exit %d, %ds)" % (self.name, self.rc, dur)]
            lines += ["     | " + ln for ln in text.splitlines()[-80:]]
        print("\n".join(lines), flush=True)


def main():
    if not os.environ.get("SLUICE_BIN"):
        sys.stderr.write("SLUICE_BIN must point at build/bin\n")
        return 2
    top = os.path.abspath(os.path.join(HERE, "../.."))
    os.environ["SLUICE_TOP"] = top
    os.environ["SLUICE_SHARED"] = os.path.join(top, "../shared")
    jobs = max(1, int(os.environ.get("INTEGRATION_JOBS", "3")))
    timeout = int(os.environ.get("INTEGRATION_TIMEOUT", "900"))
    tier = os.environ.get("TIER", "all")
    wanted = set(os.environ.get("TESTS", "").split())
    # the client tests' compatibility results (harness.record_compat): a fresh
    # directory per run, which scripts/kafka_matrix.py then reads
    compat = os.environ.get("SLUICE_COMPAT_DIR") or os.path.join(
        os.path.dirname(os.path.abspath(os.environ["SLUICE_BIN"])), "compat")
    shutil.rmtree(compat, ignore_errors=True)
    os.makedirs(compat)
    os.environ["SLUICE_COMPAT_DIR"] = compat
    times_path = os.path.join(os.environ["SLUICE_BIN"], "..", "integration-times.json")
    times = {}
    for path in (os.path.join(HERE, "durations.json"), times_path):
        try:
            with open(path) as f:
                times.update(json.load(f))
        except (OSError, ValueError):
            pass

    listed = [Job(n, "serial" in t, min(jobs, 2 if "heavy" in t else 1))
              for n, t in discover(wanted, tier)]
    # longest known first; serial tests when nothing else runs
    todo = sorted(listed, key=lambda j: -times.get(j.name, 60))
    running, printed = [], 0
    t0 = time.time()

    def stop(signum, frame):
        for j in running:
            j.kill()
        sys.exit(130)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while todo or running:
        for j in running[:]:
            if j.poll() is not None:
                running.remove(j)
                times[j.name] = round(j.end - j.start, 1)
        while todo:
            free = jobs - sum(j.weight for j in running)
            if free <= 0:
                break
            nxt = next((j for j in todo if not j.serial and j.weight <= free), None)
            if nxt is None:
                # only serial tests are left (one, alone), or none fits yet
                if running or not all(j.serial for j in todo):
                    break
                nxt = todo[0]
            elif any(j.serial for j in running):
                break
            todo.remove(nxt)
            nxt.launch(timeout)
            running.append(nxt)
            if nxt.serial:
                break
        while printed < len(listed) and listed[printed].rc is not None \
                and listed[printed] not in running:
            listed[printed].report()
            printed += 1
        time.sleep(0.1)
    passed = sum(1 for j in listed if j.rc == 0)
    failed = [j.name for j in listed if j.rc != 0]
    try:
        with open(times_path, "w") as f:
            json.dump(times, f, indent=0, sort_keys=True)
    except OSError:
        pass
    print("integration: %d passed, %d failed in %ds%s"
          % (passed, len(failed), int(time.time() - t0),
             " (failed: %s)" % " ".join(failed) if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
