/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --help texts of `sluice` and each of its commands.  They are the
 * reference an operator reads mid-incident, so each says what the command
 * does, every option with its default, examples, and the exit status
 * (packaging/man/sluice.1 carries the same content).
 */
#include <string.h>

#include "cli/cli.h"

static const char common[] =
	"Global options (before or after the command):\n"
	"  --store URL         the store's HTTP API (default $SLUICE_STORE, else\n"
	"                      " CLI_DEFAULT_STORE ")\n"
	"  --token-file FILE   bearer token for a store with auth on (default\n"
	"                      $SLUICE_TOKEN_FILE); the first non-empty line is the token\n"
	"  --ca-file FILE      CA bundle that signs an https:// store's certificate\n"
	"                      (default $SLUICE_CA_FILE, else the system's)\n"
	"  --cert FILE         client certificate for a store that requires one (mTLS;\n"
	"                      default $SLUICE_CERT)\n"
	"  --key FILE          its private key (default $SLUICE_KEY; else in --cert);\n"
	"                      after the command spell it --key-file (--key is the\n"
	"                      record key of produce and consume)\n"
	"  --brokers H:P,...   consume and replay read a Kafka cluster instead of the\n"
	"                      store (librdkafka, read_committed; default $SLUICE_BROKERS)\n"
	"  --kafka-prop K=V    a librdkafka property for --brokers (repeatable), e.g.\n"
	"                      security.protocol=SASL_SSL, sasl.username=..., ssl.ca.location=...\n"
	"\n"
	"Exit status: 0 success; 1 the store refused, is unreachable, or the data\n"
	"is bad; 2 a usage error (unknown option, bad time, bad topic name).\n";

static const char main_text[] =
	"usage: sluice [--store URL] [--token-file FILE] COMMAND [ARGS]\n"
	"\n"
	"The operator CLI of the Sluice log store: list and manage topics, write\n"
	"lines, and read records back by offset or time range with grep and follow,\n"
	"merging partitions in timestamp order.\n"
	"\n"
	"Commands:\n"
	"  topics              list topics: partitions, offsets, bytes, retention, lag\n"
	"  topic ACTION NAME   create, alter, delete or describe one topic\n"
	"  produce TOPIC       write stdin lines as records\n"
	"  consume TOPICS      print records by offset or time; grep; follow\n"
	"  alert test RULES    when alert rules would have fired over stored history\n"
	"  stats TOPICS        record counts per interval as a bar chart\n"
	"  replay TOPIC        re-publish a time slice into another topic\n"
	"  help [COMMAND]      this text, or a command's\n"
	"\n"
	"Run 'sluice COMMAND --help' for a command's options and examples.\n"
	"\n";

static const char topics_text[] =
	"usage: sluice topics [--json | --names]\n"
	"\n"
	"List every topic the token may see, one line per partition: log start and\n"
	"end offsets, records held (end - start), bytes on disk, retention time and\n"
	"retention size.  When the store serves consumer groups, a second table\n"
	"shows each group's committed offset, the partition end and the lag.\n"
	"\n"
	"  --json              print the store's JSON instead:\n"
	"                      {\"topics\":[...],\"groups\":[...]|null} (docs/HTTP_API.md)\n"
	"  --names             only the topic names, one per line (for scripts)\n"
	"\n"
	"Example:\n"
	"  sluice --store http://logs:8470 topics\n"
	"\n";

static const char topic_text[] =
	"usage: sluice topic create|alter NAME [--partitions N] [--retention D]\n"
	"                    [--retention-bytes SIZE] [--segment-bytes SIZE]\n"
	"                    [--max-batch-bytes SIZE] [--json]\n"
	"       sluice topic delete NAME\n"
	"       sluice topic describe NAME [--json]\n"
	"\n"
	"Manage one topic (needs a token with the admin permission when auth is on).\n"
	"create fails if the topic exists; alter fails if it does not; delete removes\n"
	"the topic and its data.  Unset options take the store's defaults (log.* in\n"
	"store.yaml).  Topic names are 1-249 characters of a-z A-Z 0-9 . _ -\n"
	"\n"
	"  --partitions N         partition count (alter: can only grow)\n"
	"  --retention D          delete data older than D (7d, 12h, 90m) or 'forever'\n"
	"  --retention-bytes SIZE cap per partition (10GiB, 500MB) or 'unlimited'\n"
	"  --segment-bytes SIZE   roll segment files at this size\n"
	"  --max-batch-bytes SIZE largest record batch accepted\n"
	"  --json                 print the store's topic JSON\n"
	"\n"
	"Examples:\n"
	"  sluice topic create nginx --partitions 6 --retention 14d\n"
	"  sluice topic alter nginx --partitions 12\n"
	"  sluice topic delete scratch\n"
	"\n";

static const char produce_text[] =
	"usage: sluice produce TOPIC [--key K] [--header k=v]... [--compression C]\n"
	"                      [--linger D] [--quiet]\n"
	"\n"
	"Read lines from stdin and write each (without its newline) as one record,\n"
	"timestamped when read.  Records are batched per partition and sent as an\n"
	"idempotent producer: a batch retried after a lost answer is never stored\n"
	"twice.  Failed sends are retried for a minute.  With --key, records go to\n"
	"murmur2(key) mod partitions (as Kafka's partitioner); without, batches go\n"
	"round robin.  An unknown topic is created by the store when its\n"
	"log.auto_create is on.  A summary goes to stderr.\n"
	"\n"
	"  --key K            record key for every line\n"
	"  --header k=v       add a record header (repeatable)\n"
	"  --compression C    none, gzip, snappy, lz4 or zstd (default zstd)\n"
	"  --linger D         send what is pending after stdin was quiet this long\n"
	"                     (default 100ms)\n"
	"  -q, --quiet        no summary\n"
	"\n"
	"Examples:\n"
	"  tail -F /var/log/app.log | sluice produce app --key $(hostname):app.log\n"
	"  echo 'deploy 1.4.2 done' | sluice produce events --header source=ci\n"
	"\n";

static const char consume_text[] =
	"usage: sluice consume TOPIC[,TOPIC...] [--partition N]\n"
	"                      [--from-offset N | --from-time T] [--to-time T]\n"
	"                      [--grep RE [-i]] [--key K] [--header k=v]...\n"
	"                      [--follow] [--max N] [--format raw|json|pretty] [--stats]\n"
	"\n"
	"Print records of one or more topics, all partitions merged in timestamp\n"
	"order (each partition keeps its own order).  --from-time seeks with the\n"
	"store's time index, so a slice in the middle of a large topic starts at\n"
	"once; nothing is scanned from the start.  Each record is flushed as it is\n"
	"printed when stdout is a terminal or a pipe, so '| grep' and '| head' work\n"
	"(and '| head' ends the command quietly).\n"
	"\n"
	"Start (default: the beginning, or the end with --follow):\n"
	"  --from-offset N    offset N of each partition (also 'earliest', 'latest')\n"
	"  --from-time T      the first records at or after T\n"
	"End (default: what is in the log now; --follow: never):\n"
	"  --to-time T        records up to and including T\n"
	"  --max N            stop after N records\n"
	"  -f, --follow       keep printing new records as they arrive (Ctrl-C ends)\n"
	"Filters (all given must match):\n"
	"  -g, --grep RE      PCRE2 regular expression searched in the record value\n"
	"  -i, --ignore-case  case-insensitive --grep\n"
	"      --source GLOB  record key or header host/path/unit matching GLOB\n"
	"  --around T         the records of [T - context, T + context] (all TOPICS\n"
	"                     merged by timestamp), instead of --from/--to-time\n"
	"  --context D        with --around (default 2m)\n"
	"  --key K            record key equals K\n"
	"  --header k=v       a header k with value v (or just 'k': present)\n"
	"  -p, --partition N  only partition N of each topic\n"
	"Output:\n"
	"  --format raw       the value, one record per line (default)\n"
	"  --format json      one JSON object per record (same as the HTTP API's NDJSON:\n"
	"                     topic, partition, offset, timestamp, time, key, headers,\n"
	"                     value; non-UTF-8 bytes as base64 with a *_base64 flag)\n"
	"  --format pretty    time topic/partition@offset key  value\n"
	"  --stats            records scanned, bytes decoded and rate on stderr at the end\n"
	"\n"
	"T is RFC 3339 (2026-11-24T10:02:00Z, 2026-11-24 10:02:00+01:00), relative to\n"
	"now (-15m, -2h, -1d, -1h30m) or 'now'.\n"
	"\n"
	"Examples:\n"
	"  sluice consume nginx,orders --from-time 2026-11-24T10:02:00Z \\\n"
	"         --to-time 2026-11-24T10:07:00Z --grep 'order[ =]81723'\n"
	"  sluice consume nginx --from-time -15m --follow --format pretty\n"
	"  sluice consume orders --partition 2 --from-offset 1500 --max 10 --format json\n"
	"\n";

static const char replay_text[] =
	"usage: sluice replay TOPIC --from-time T [--to-time T] --to-topic OTHER\n"
	"                     [--partition N] [--grep RE [-i]] [--key K] [--header k=v]...\n"
	"                     [--compression C] [--quiet]\n"
	"\n"
	"Re-publish the records of TOPIC between two times into OTHER, keeping each\n"
	"record's key, headers and timestamp, for example to re-feed an alerting\n"
	"pipeline after fixing it.  Records are read in timestamp order (as consume\n"
	"prints them) and written with an idempotent producer to murmur2(key) mod\n"
	"OTHER's partitions, so each source stays in order.  The same filters as\n"
	"consume select a subset.  Running a replay twice writes the slice twice.\n"
	"\n"
	"  --from-time T      start (required); T as in 'sluice consume --help'\n"
	"  --to-time T        end, inclusive (default: now)\n"
	"  --to-topic OTHER   destination (required; not TOPIC itself)\n"
	"  --compression C    codec of the new batches (default zstd)\n"
	"  -q, --quiet        no summary on stderr\n"
	"\n"
	"Example:\n"
	"  sluice replay orders --from-time 2026-11-24T10:00:00Z \\\n"
	"         --to-time 2026-11-24T11:00:00Z --to-topic orders-refeed\n"
	"\n";

static const char alert_text[] =
	"usage: sluice alert test RULES.yaml --topic T[,T...] --from-time T [--to-time T]\n"
	"                         [--format table|json]\n"
	"\n"
	"Run alert rules (the file the agent's alertmanager output reads) over the\n"
	"records stored between --from-time and --to-time (default now), in\n"
	"timestamp order, evaluating every second of record time, and print each\n"
	"alert that would have fired: rule, labels, when it fired, when it resolved\n"
	"(or 'firing' at the end) and the count when it fired.  --format json prints\n"
	"one JSON object per alert.  Rule file errors name file:line:column (exit 2).\n"
	"\n"
	"  sluice alert test conf/rules.yaml --topic app --from-time -24h\n";
static const char stats_text[] =
	"usage: sluice stats TOPIC[,TOPIC...] [--from-time T] [--to-time T] [--by D]\n"
	"                    [--grep RE [-i]] [--group-by source|partition|header:NAME]\n"
	"                    [--format chart|json|csv]\n"
	"\n"
	"Count records per interval, to see the shape of an incident: when errors\n"
	"started, which source spiked.  Without --grep (or with the pattern the index\n"
	"counts, log.block_index_count: by default --grep error -i), grouped by\n"
	"nothing or by partition, the store answers from its block index alone;\n"
	"otherwise it scans what the index cannot rule out.  Records are counted by\n"
	"their timestamp; the range is widened to whole intervals.\n"
	"\n"
	"  --from-time T      start (default -1h); T as in 'sluice consume --help'\n"
	"  --to-time T        end (default now)\n"
	"  --by D             interval (default 1m; 30s, 5m, 1h, 1d)\n"
	"  -g, --grep RE      count only records whose value matches (PCRE2)\n"
	"  -i, --ignore-case  case-insensitive --grep\n"
	"  --group-by G       source (record key), partition or header:NAME\n"
	"  --format F         chart (default), json (the store's answers) or csv\n"
	"\n"
	"Example:\n"
	"  sluice stats nginx --from-time -24h --by 5m --grep ' 5[0-9][0-9] '\n"
	"\n";

static const struct {
	const char *name;
	const char *text;
} commands[] = {
	{"stats", stats_text},     {"topics", topics_text},   {"topic", topic_text},
	{"produce", produce_text}, {"consume", consume_text}, {"replay", replay_text},
	{"alert", alert_text},
};

void cli_help_main(FILE *out)
{
	fputs(main_text, out);
	fputs(common, out);
}

bool cli_help_command(const char *cmd, FILE *out)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, cmd) == 0) {
			fputs(commands[i].text, out);
			fputs(common, out);
			return true;
		}
	}
	return false;
}
