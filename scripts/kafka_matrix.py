#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The Kafka client compatibility matrix of docs/KAFKA.md, from the results
the client tests recorded (tests/integration/harness.py record_compat): one
JSON line per check in $SLUICE_COMPAT_DIR/<client>.jsonl (default
build/compat/; the integration runner empties it at the start of each run):

    {"client": "franz-go", "version": "1.22.3", "check": "produce lz4", "result": "pass"}

result is "pass", "fail[: why]" or "skip: <why>"; for one client and check
the last line wins (a shell test records "fail" first and "pass" at its end).
The table has one row per check (client, version, what is tested, result),
clients in name order, checks in the order they ran; a failure shows as
**fail** (the why stays in the test's output, so the table does not change
with an error text), a skip with its reason.

    scripts/kafka_matrix.py           check the table between the markers
                                      <!-- compat-matrix:begin/end --> in
                                      docs/KAFKA.md; exit 1 with a diff
    scripts/kafka_matrix.py --write   rewrite it from the results
    scripts/kafka_matrix.py --print   print the table

`make test` runs the check after the integration tests.
"""
import argparse
import difflib
import glob
import json
import os
import sys

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BEGIN, END = "<!-- compat-matrix:begin -->", "<!-- compat-matrix:end -->"


def load(d):
    rows = {}  # (client, check) -> (version, result); dicts keep first-insertion order
    for path in sorted(glob.glob(os.path.join(d, "*.jsonl"))):
        with open(path) as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    r = json.loads(line)
                    key, val = (r["client"], r["check"]), (r["version"], r["result"])
                except (ValueError, KeyError) as e:
                    raise SystemExit("%s:%d: bad result line (%s)" % (path, n, e))
                rows[key] = val
    return rows


def cell(s):
    return str(s).replace("|", "\\|").replace("\n", " ")


def render(rows):
    out = ["| client | version | what is tested | result |", "|---|---|---|---|"]
    for client in sorted({c for c, _ in rows}, key=str.lower):
        for (c, check), (version, res) in rows.items():
            if c != client:
                continue
            kind = res.split(":", 1)[0].strip()
            shown = {"pass": "pass", "fail": "**fail**"}.get(kind, cell(res))
            out.append("| %s | %s | %s | %s |" % (cell(client), cell(version), cell(check), shown))
    return "\n".join(out) + "\n"


def split_doc(text, path):
    b, e = text.find(BEGIN), text.find(END)
    if b < 0 or e < b:
        raise SystemExit("%s: no %s ... %s block" % (path, BEGIN, END))
    return text[:b + len(BEGIN)] + "\n", text[b + len(BEGIN):e].lstrip("\n"), text[e:]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--write", action="store_true", help="rewrite the table in the doc")
    ap.add_argument("--print", action="store_true", help="print the table")
    ap.add_argument("--dir", default=os.environ.get("SLUICE_COMPAT_DIR")
                    or os.path.join(TOP, "build", "compat"))
    ap.add_argument("--doc", default=os.path.join(TOP, "docs", "KAFKA.md"))
    a = ap.parse_args()
    rows = load(a.dir)
    if not rows:
        print("kafka_matrix: no results in %s (run the integration tests first)" % a.dir,
              file=sys.stderr)
        return 1
    table = render(rows)
    if a.print:
        sys.stdout.write(table)
        return 0
    with open(a.doc) as f:
        text = f.read()
    head, old, tail = split_doc(text, a.doc)
    kinds = [res.split(":", 1)[0].strip() for _, res in rows.values()]
    summary = "%d checks of %d clients: %d pass, %d fail, %d skip" % (
        len(rows), len({c for c, _ in rows}), kinds.count("pass"), kinds.count("fail"),
        kinds.count("skip"))
    if a.write:
        with open(a.doc, "w") as f:
            f.write(head + table + tail)
        print("kafka_matrix: wrote %s (%s)" % (os.path.relpath(a.doc, TOP), summary))
        return 0
    if old == table:
        print("kafka_matrix: %s matches the results (%s)" % (os.path.relpath(a.doc, TOP), summary))
        return 0
    sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), table.splitlines(True),
                                               "docs/KAFKA.md (matrix)", "results (%s)" % a.dir))
    print("kafka_matrix: the compatibility matrix in %s differs from this run's results; "
          "if the change is right: scripts/kafka_matrix.py --write" % os.path.relpath(a.doc, TOP),
          file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
