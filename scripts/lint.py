#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""House rules that the compiler does not check, run by `make lint`.

  layering   lib/ includes only lib/; a plugin includes lib/, its own
             plugins/<name>/ headers, agent/plugin.h and the plugin-service
             headers agent/plugin.h lists; store/, agent/ and cli/ never
             include each other; a folder's *_int.h is included only from
             that folder.
  sizes      a file has at most 1,000 lines, a function at most 120 (from
             Universal Ctags' end: field, signature to closing brace);
             generated files (GENERATED) are exempt.
  generated  store/kafka/kmsg_gen.{h,c} match what scripts/kgen.py makes of
             store/kafka/schema/*.json (`make gen` refreshes them).

Banned functions are refused by the compiler (lib/banned.h), line length and
layout by clang-format (`make lint` runs it last).  Prints one
"file:line: rule: message" per violation and exits 1 if there is any.

usage: scripts/lint.py [FILE...]   (default: every tracked .c/.h file)
"""
import json
import os
import re
import subprocess
import sys

MAX_FILE_LINES = 1000
MAX_FUNCTION_LINES = 120

# The plugin API beyond agent/plugin.h is the list in that header's opening
# comment ("  agent/<path>.h   what it is for" lines); this is used only
# while the header does not carry the list yet.
PLUGIN_API_FALLBACK = [
    "agent/plugin.h",
    "agent/spool/marks.h",
    "agent/pipeline/record_format.h",
    "agent/net/curl_loop.h",
    "agent/net/http_client.h",
]

# Violations known when the lint was written: reported as "known", not
# failed, so that `make lint` guards everything else meanwhile.  An entry
# that no longer violates is reported so that it can be deleted; delete each
# once it is fixed.
# (kind, path[, function]) allowed over the limits for now; none today
KNOWN = set()

# Written by scripts/kgen.py, not by hand: no size limits.
GENERATED = {"store/kafka/kmsg_gen.h", "store/kafka/kmsg_gen.c"}

INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def tracked_sources():
    out = subprocess.run(["git", "ls-files", "*.c", "*.h"], capture_output=True, text=True,
                         check=True).stdout
    return [f for f in out.split("\n") if f]


def plugin_api():
    try:
        with open("agent/plugin.h", encoding="utf-8") as f:
            head = f.read().split("*/", 1)[0]
    except OSError:
        return PLUGIN_API_FALLBACK
    listed = re.findall(r"^\s*\*\s+(agent/[\w/]+\.h)\s", head, re.M)
    return sorted(set(listed) | {"agent/plugin.h"}) if listed else PLUGIN_API_FALLBACK


def top(path):
    return path.split("/", 1)[0]


def include_problem(src, inc, api):
    """Why src may not include inc, or None."""
    if "/" not in inc:
        inc = os.path.normpath(os.path.join(os.path.dirname(src), inc))
    s, i = top(src), top(inc)
    base = os.path.basename(inc)
    if base.endswith("_int.h") and os.path.dirname(inc) != os.path.dirname(src):
        return "%s is private to %s/" % (inc, os.path.dirname(inc))
    if s == "lib" and i != "lib":
        return "lib/ includes only lib/"
    if s == "plugins":
        own = "/".join(src.split("/")[:2]) + "/"
        if i == "lib" or inc.startswith(own) or inc in api:
            return None
        return "a plugin includes lib/, its own folder and the plugin API (agent/plugin.h)"
    if s in ("store", "agent", "cli") and i in ("store", "agent", "cli") and s != i:
        return "%s/ never includes %s/" % (s, i)
    return None


def check_includes(files, api, report):
    for f in files:
        if top(f) not in ("lib", "store", "agent", "plugins", "cli"):
            continue
        with open(f, encoding="utf-8", errors="replace") as fh:
            for n, line in enumerate(fh, 1):
                m = INCLUDE_RE.match(line)
                if not m:
                    continue
                why = include_problem(f, m.group(1), api)
                if why:
                    report(("include", f, m.group(1)), "%s:%d: layering: %s" % (f, n, why))


def check_generated(report):
    """The generated Kafka message tables are not stale."""
    r = subprocess.run([sys.executable, "scripts/kgen.py", "--check"], capture_output=True,
                       text=True)
    if r.returncode != 0:
        for line in (r.stdout + r.stderr).strip().split("\n"):
            report(("generated", line), line)


def check_sizes(files, report):
    files = [f for f in files if f not in GENERATED]
    for f in files:
        with open(f, encoding="utf-8", errors="replace") as fh:
            n = sum(1 for _ in fh)
        if n > MAX_FILE_LINES:
            report(("file", f), "%s:%d: size: %d lines, the limit is %d (split by responsibility)"
                   % (f, MAX_FILE_LINES + 1, n, MAX_FILE_LINES))
    tags = subprocess.run(["ctags", "-o", "-", "--languages=C", "--kinds-C=f", "--fields=+ne",
                           "--output-format=json"] + files,
                          capture_output=True, text=True, check=True).stdout
    for line in tags.split("\n"):
        if not line:
            continue
        t = json.loads(line)
        if t.get("_type") != "tag" or "end" not in t:
            continue
        n = t["end"] - t["line"] + 1
        if n > MAX_FUNCTION_LINES:
            report(("function", t["path"], t["name"]),
                   "%s:%d: size: %s() is %d lines, the limit is %d"
                   % (t["path"], t["line"], t["name"], n, MAX_FUNCTION_LINES))


def main(argv):
    os.chdir(subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True,
                            text=True, check=True).stdout.strip())
    files = argv or tracked_sources()
    files = [f for f in files if os.path.isfile(f)]
    errors = []
    seen = set()

    def report(key, msg):
        seen.add(key)
        if key in KNOWN:
            print("known: " + msg)
        else:
            errors.append(msg)

    check_includes(files, plugin_api(), report)
    check_sizes(files, report)
    if not argv:
        check_generated(report)
        for k in sorted(KNOWN - seen):
            print("note: %s is within the limits: delete it from KNOWN in scripts/lint.py"
                  % " ".join(k[1:]))
    for e in errors:
        print(e)
    print("lint: %d files, %d violations" % (len(files), len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
