# SPDX-License-Identifier: Apache-2.0
"""The group and offset APIs at the newest versions, driven by Kafka's own
4.1 tools (build/kafka-jars, scripts/kafka-jars.sh) against sluice-store.

kafka-console-consumer reads a 2-partition topic as a group member and
commits; kafka-consumer-groups then lists groups with a state filter
(ListGroups v5), describes the group's offsets (DescribeGroups v5,
OffsetFetch v9), deletes its offsets of the topic (OffsetDelete) and
deletes a second group (DeleteGroups v2) whose offsets are then gone.  The
store's debug request log proves the flexible versions were the ones used:
FindCoordinator 5, JoinGroup 9, SyncGroup 5, OffsetCommit 9, OffsetFetch 9,
LeaveGroup 5, ListGroups 5, DescribeGroups 5, DeleteGroups 2.
"""
import glob
import re
import subprocess
import sys

import kafkacluster
import kafkatest
from sluicetest import Env, result

CG = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand"
CONSUMER = "org.apache.kafka.tools.consumer.ConsoleConsumer"


def tool(main, *args, timeout=180):
    p = subprocess.run(kafkacluster.java(main, *args), capture_output=True, text=True,
                       timeout=timeout)
    assert p.returncode == 0, "%s %s: rc %d\n%s%s" % (main, args, p.returncode,
                                                       p.stdout[-2000:], p.stderr[-2000:])
    return p.stdout


def consume(bootstrap, group, n):
    return tool(CONSUMER, "--bootstrap-server", bootstrap, "--topic", "jt", "--group", group,
                "--from-beginning", "--max-messages", str(n))


def main():
    with Env() as env:
        # one consumer at a time: no use waiting for more members
        st = kafkatest.start_store(env, conf="store:\n  log_level: debug\n"
                                   "log:\n  default_partitions: 2\n"
                                   "groups:\n  initial_rebalance_delay: 0\n")
        b = st.bootstrap
        subprocess.run(["kcat", "-b", b, "-P", "-t", "jt", "-K:", "-X",
                        "broker.address.family=v4"],
                       input=b"a:1\nb:2\nc:3\nd:4\ne:5\nf:6\n", check=True, timeout=60)
        out = consume(b, "jg", 6)
        assert sorted(out.split()) == ["1", "2", "3", "4", "5", "6"], out
        consume(b, "jg2", 6)
        result("console consumers of groups jg, jg2 read 6 records each")

        listed = tool(CG, "--bootstrap-server", b, "--list", "--state", "Empty")
        assert re.search(r"^jg\s+Empty\s*$", listed, re.M), listed
        assert "jg" not in tool(CG, "--bootstrap-server", b, "--list", "--state", "Stable")
        desc = tool(CG, "--bootstrap-server", b, "--describe", "--group", "jg")
        rows = re.findall(r"^jg\s+jt\s+(\d)\s+(\d+)\s+(\d+)\s+0\s", desc, re.M)
        assert sum(int(cur) for _, cur, _ in rows) == 6 and len(rows) == 2, desc
        result("--list --state Empty lists jg (not under Stable); --describe: offsets %s"
               % sorted((int(p), int(c)) for p, c, _ in rows))

        out = tool(CG, "--bootstrap-server", b, "--delete-offsets", "--group", "jg",
                   "--topic", "jt")
        assert len(re.findall(r"^jt\s+\d\s+Successful", out, re.M)) == 2, out
        out = tool(CG, "--bootstrap-server", b, "--delete", "--group", "jg2")
        assert "successful" in out, out
        assert "jg2" not in tool(CG, "--bootstrap-server", b, "--list")
        result("--delete-offsets: both partitions; --delete jg2: gone")

        used = {}
        for f in glob.glob(env.path("*.log")) + glob.glob(env.path("*", "*.log")):
            with open(f, errors="replace") as fh:
                for m in re.finditer(r": (\w+) v(\d+) correlation", fh.read()):
                    used.setdefault(m.group(1), set()).add(int(m.group(2)))
        want = {"FindCoordinator": 5, "JoinGroup": 9, "SyncGroup": 5, "OffsetCommit": 9,
                "OffsetFetch": 9, "LeaveGroup": 5, "ListGroups": 5, "DescribeGroups": 5,
                "DeleteGroups": 2, "OffsetDelete": 0}
        for api, v in want.items():
            assert v in used.get(api, ()), "%s v%d not used: %s" % (api, v, used)
        result("versions used: " + ", ".join("%s %d" % kv for kv in sorted(want.items())))


if __name__ == "__main__":
    sys.exit(main())
