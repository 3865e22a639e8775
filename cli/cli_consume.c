/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sluice consume` and `sluice replay`: one option parser, one set of
 * partition streams merged in timestamp order (cli_merge), and two sinks:
 * printing (cli_out) or re-publishing to another topic (cli_producer) with
 * each record's key, headers and timestamp.
 *
 * Seeking by time uses the store's time index (?time=), so a slice in the
 * middle of a large topic starts streaming at once instead of scanning
 * from the start.
 */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_filter.h"
#include "cli/cli_kafka.h"
#include "cli/cli_merge.h"
#include "cli/cli_out.h"
#include "cli/cli_producer.h"
#include "cli/cli_source.h"
#include "cli/cli_time.h"
#include "lib/clock.h"
#include "lib/config.h"
#include "lib/err.h"
#include "lib/jdoc.h"
#include "lib/mem.h"

#define MAX_TOPICS 64
#define MAX_SOURCES 4096
#define MAX_RECORD_HEADERS 1024

struct consume_opts {
	char *topics[MAX_TOPICS];
	size_t ntopics;
	int64_t partition;   /* -1: all */
	int64_t from_offset; /* CLI_START_* or >= 0 */
	bool has_from_offset;
	int64_t from_ts;
	int64_t to_ts;
	bool has_from_time;
	bool has_to_time;
	bool follow;
	uint64_t max;
	enum cli_format fmt;
	bool stats;
	struct cli_filter filter;
	/* replay */
	const char *to_topic;
	int codec;
	bool quiet;
};

static void on_signal(int sig)
{
	(void)sig;
	cli_merge_stop();
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int split_topics(struct consume_opts *o, char *list)
{
	char *p = list;

	while (*p) {
		char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);

		if (n == 0 || n > CLI_TOPIC_MAX || o->ntopics == MAX_TOPICS) {
			cli_err("'%s' is not a comma-separated list of topic names", list);
			return -ERR_INVALID;
		}
		o->topics[o->ntopics++] = p;
		if (!comma)
			break;
		*comma = '\0';
		p = comma + 1;
	}
	return o->ntopics ? 0 : -ERR_INVALID;
}

static int parse_time_opt(const char *name, const char *arg, int64_t now, int64_t *out)
{
	if (cli_time_parse(arg, now, out) == 0)
		return 0;
	cli_err("%s: '%s' is not a time: use RFC 3339 (2026-11-24T10:02:00Z), "
		"relative (-15m, -2h, -1d) or 'now'",
		name, arg);
	return -ERR_INVALID;
}

/* --around T --context D: the records of [T - D, T + D], every given topic
 * merged by timestamp as always. */
static int apply_around(struct consume_opts *o, const char *around, const char *context,
			int64_t now)
{
	char rel[64];
	int64_t t, d;

	if (parse_time_opt("--around", around, now, &t) < 0)
		return -ERR_INVALID;
	snprintf(rel, sizeof(rel), "+%s", context);
	if (cli_time_parse(rel, 0, &d) < 0 || d < 0) {
		cli_err("--context: '%s' is not a duration (30s, 2m, 1h)", context);
		return -ERR_INVALID;
	}
	o->from_ts = t - d;
	o->to_ts = t + d;
	o->has_from_time = o->has_to_time = true;
	return 0;
}

/* What parse_opts() keeps between options until they are all read. */
struct parse_state {
	const char *cmd;
	const char *grep, *from, *to;
	const char *around, *context; /* --around T --context D */
	bool icase;
	int64_t now; /* when parsing began: relative times count from it */
};

/* One option c with its argument.  CLI_OK, CLI_USAGE, CLI_FAIL, or -1 after
 * printing help. */
static int parse_opt(struct cli_ctx *ctx, struct consume_opts *o, struct parse_state *ps, int c,
		     const char *arg)
{
	const char *cmd = ps->cmd;
	int64_t v;

	switch (c) {
	case 'p':
		if (cfg_parse_int(arg, &o->partition) < 0 || o->partition < 0 ||
		    o->partition > INT32_MAX) {
			cli_err("--partition: '%s' is not a partition number", arg);
			return CLI_USAGE;
		}
		return CLI_OK;
	case 'o':
		if (strcmp(arg, "earliest") == 0 || strcmp(arg, "beginning") == 0) {
			o->from_offset = CLI_START_EARLIEST;
		} else if (strcmp(arg, "latest") == 0 || strcmp(arg, "end") == 0) {
			o->from_offset = CLI_START_LATEST;
		} else if (cfg_parse_int(arg, &v) < 0 || v < 0) {
			cli_err("--from-offset: '%s' is not an offset (N, earliest, latest)", arg);
			return CLI_USAGE;
		} else {
			o->from_offset = v;
		}
		o->has_from_offset = true;
		return CLI_OK;
	case 's':
		ps->from = arg;
		return CLI_OK;
	case 'e':
		ps->to = arg;
		return CLI_OK;
	case 'g':
		ps->grep = arg;
		return CLI_OK;
	case 'i':
		ps->icase = true;
		return CLI_OK;
	case 'k':
		if (cli_filter_key(&o->filter, arg) < 0)
			return CLI_FAIL;
		return CLI_OK;
	case 'R':
		if (cli_filter_source(&o->filter, arg) < 0)
			return CLI_FAIL;
		return CLI_OK;
	case 'A':
		ps->around = arg;
		return CLI_OK;
	case 'C':
		ps->context = arg;
		return CLI_OK;
	case 'H':
		if (cli_filter_header(&o->filter, arg) < 0) {
			cli_err("--header: expected key=value or key (at most %d), got '%s'",
				CLI_FILTER_MAX_HEADERS, arg);
			return CLI_USAGE;
		}
		return CLI_OK;
	case 'f':
		o->follow = true;
		return CLI_OK;
	case 'n':
		if (cfg_parse_int(arg, &v) < 0 || v <= 0) {
			cli_err("--max: '%s' is not a positive count", arg);
			return CLI_USAGE;
		}
		o->max = (uint64_t)v;
		return CLI_OK;
	case 'F':
		if (cli_out_parse_format(arg, &o->fmt) < 0) {
			cli_err("--format: '%s' is not raw, json or pretty", arg);
			return CLI_USAGE;
		}
		return CLI_OK;
	case 'S':
		o->stats = true;
		return CLI_OK;
	case 't':
		o->to_topic = arg;
		return CLI_OK;
	case 'z':
		o->codec = codec_parse(arg);
		if (o->codec < 0) {
			cli_err("--compression: '%s' is not none, gzip, snappy, lz4 or zstd", arg);
			return CLI_USAGE;
		}
		return CLI_OK;
	case 'q':
		o->quiet = true;
		return CLI_OK;
	case 'h':
		cli_help_command(cmd, stdout);
		return -1;
	default:
		if (!cli_global_opt(ctx, c, arg)) {
			cli_help_command(cmd, stderr);
			return CLI_USAGE;
		}
	}
	return CLI_OK;
}

/* The positional TOPIC and the checks between options, once all are read. */
static int finish_opts(int argc, char **argv, struct consume_opts *o, const struct parse_state *ps,
		       bool replay)
{
	const char *cmd = ps->cmd;
	int64_t now = ps->now;
	char err[600];

	if (argc - optind != 1) {
		cli_err("%s: expected %s (see sluice %s --help)", cmd,
			replay ? "one TOPIC" : "TOPIC[,TOPIC...]", cmd);
		return CLI_USAGE;
	}
	if (split_topics(o, argv[optind]) < 0)
		return CLI_USAGE;
	if (ps->around && (ps->from || ps->to)) {
		cli_err("%s: --around replaces --from-time and --to-time", cmd);
		return CLI_USAGE;
	}
	if (ps->around && apply_around(o, ps->around, ps->context, now) < 0)
		return CLI_USAGE;
	if (ps->from && parse_time_opt("--from-time", ps->from, now, &o->from_ts) < 0)
		return CLI_USAGE;
	if (ps->to && parse_time_opt("--to-time", ps->to, now, &o->to_ts) < 0)
		return CLI_USAGE;
	o->has_from_time = o->has_from_time || ps->from != NULL;
	o->has_to_time = o->has_to_time || ps->to != NULL;
	if (ps->grep && cli_filter_grep(&o->filter, ps->grep, ps->icase, err, sizeof(err)) < 0) {
		cli_err("%s", err);
		return CLI_USAGE;
	}
	if (ps->from && o->has_from_offset) {
		cli_err("%s: --from-offset and --from-time are exclusive", cmd);
		return CLI_USAGE;
	}
	if (ps->from && ps->to && o->to_ts < o->from_ts) {
		cli_err("%s: --to-time is before --from-time", cmd);
		return CLI_USAGE;
	}
	if (o->follow && ps->to) {
		cli_err("%s: --follow streams without end; it cannot have --to-time", cmd);
		return CLI_USAGE;
	}
	if (replay) {
		if (!ps->from || !o->to_topic) {
			cli_err("replay: --from-time and --to-topic are required");
			return CLI_USAGE;
		}
		if (o->follow) {
			cli_err("replay: --follow is not supported; replay a closed time range");
			return CLI_USAGE;
		}
		if (!ps->to)
			o->to_ts = now; /* a replay is a closed slice: up to now */
		if (o->ntopics != 1 || strcmp(o->topics[0], o->to_topic) == 0) {
			cli_err("replay: give one source TOPIC and a different --to-topic");
			return CLI_USAGE;
		}
	}
	return CLI_OK;
}

/* Options shared by consume and replay.  CLI_OK, CLI_USAGE, or -1 after
 * printing help (exit 0). */
static int parse_opts(struct cli_ctx *ctx, int argc, char **argv, struct consume_opts *o,
		      bool replay)
{
	static const struct option opts[] = {
		{"partition", required_argument, NULL, 'p'},
		{"from-offset", required_argument, NULL, 'o'},
		{"from-time", required_argument, NULL, 's'},
		{"to-time", required_argument, NULL, 'e'},
		{"grep", required_argument, NULL, 'g'},
		{"ignore-case", no_argument, NULL, 'i'},
		{"key", required_argument, NULL, 'k'},
		{"header", required_argument, NULL, 'H'},
		{"source", required_argument, NULL, 'R'},
		{"around", required_argument, NULL, 'A'},
		{"context", required_argument, NULL, 'C'},
		{"follow", no_argument, NULL, 'f'},
		{"max", required_argument, NULL, 'n'},
		{"format", required_argument, NULL, 'F'},
		{"stats", no_argument, NULL, 'S'},
		{"to-topic", required_argument, NULL, 't'},
		{"compression", required_argument, NULL, 'z'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		CLI_GLOBAL_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	struct parse_state ps = {
		.cmd = replay ? "replay" : "consume", .now = clock_wall_ms(), .context = "2m"};
	int c;

	o->partition = -1;
	o->from_ts = INT64_MIN;
	o->to_ts = INT64_MAX;
	o->fmt = CLI_FMT_RAW;
	o->codec = CODEC_ZSTD;
	while ((c = getopt_long(argc, argv, "p:o:s:e:g:ik:H:fn:F:St:z:qh", opts, NULL)) != -1) {
		int rc = parse_opt(ctx, o, &ps, c, optarg);

		if (rc != CLI_OK)
			return rc;
	}
	return finish_opts(argc, argv, o, &ps, replay);
}

/* Partition count of a topic, or CLI_FAIL after printing why. */
int cli_topic_partitions(struct cli_ctx *ctx, const char *topic, int32_t *count)
{
	char path[320], err[600];
	struct buf raw;
	struct jdoc *doc = NULL;
	long status = 0;
	int64_t v = 0;
	int rc;

	buf_init(&raw, 16u << 20);
	snprintf(path, sizeof(path), "/v1/topics/%s", topic);
	rc = cli_http_request(&ctx->http, "GET", path, NULL, 0, 30000, &raw, &status, err,
			      sizeof(err));
	if (rc < 0) {
		cli_err("%s", err);
		rc = CLI_FAIL;
		goto out;
	}
	if (status != 200) {
		cli_http_error_text(status, raw.data, raw.len, err, sizeof(err));
		if (status == 404 || status == 400)
			cli_err("unknown topic '%s' (%s)", topic, err);
		else if (status == 401 || status == 403)
			cli_err("the store refused the token: %s", err);
		else
			cli_err("topic %s: %s", topic, err);
		rc = CLI_FAIL;
		goto out;
	}
	if (jdoc_parse(raw.data, raw.len, &doc, NULL) < 0 ||
	    jnode_i64(jnode_get(jdoc_root(doc), "partition_count"), &v) < 0 || v < 1 ||
	    v > MAX_SOURCES) {
		cli_err("topic %s: unexpected answer from the store", topic);
		rc = CLI_FAIL;
		goto out;
	}
	*count = (int32_t)v;
	rc = CLI_OK;
out:
	jdoc_free(doc);
	buf_release(&raw);
	return rc;
}

static int build_sources(struct cli_ctx *ctx, struct consume_opts *o, struct cli_source **out,
			 size_t *nout)
{
	struct cli_source *src = NULL;
	int32_t counts[MAX_TOPICS];
	size_t n = 0, cap = 0;
	int64_t first;

	for (size_t t = 0; t < o->ntopics; t++) {
		int rc = cli_topic_partitions(ctx, o->topics[t], &counts[t]);

		if (rc != CLI_OK)
			return rc;
		if (o->partition >= counts[t]) {
			cli_err("topic %s has %d partitions: no partition %" PRId64, o->topics[t],
				(int)counts[t], o->partition);
			return CLI_FAIL;
		}
		cap += o->partition >= 0 ? 1 : (size_t)counts[t];
	}
	if (cap > MAX_SOURCES) {
		cli_err("too many partitions to read at once (%zu)", cap);
		return CLI_FAIL;
	}
	src = mem_calloc(cap, sizeof(*src));
	if (!src)
		return CLI_FAIL;
	first = o->has_from_offset
			? o->from_offset
			: (o->follow && !o->has_from_time ? CLI_START_LATEST : CLI_START_EARLIEST);
	for (size_t t = 0; t < o->ntopics; t++) {
		for (int32_t p = 0; p < counts[t]; p++) {
			if (o->partition >= 0 && p != o->partition)
				continue;
			if (cli_source_init(&src[n], &ctx->http, &o->filter, o->topics[t], p, first,
					    o->has_from_time, o->from_ts, o->to_ts,
					    o->follow) < 0) {
				cli_source_release(&src[n], NULL);
				for (size_t i = 0; i < n; i++)
					cli_source_release(&src[i], NULL);
				mem_free(src);
				return CLI_FAIL;
			}
			n++;
		}
	}
	*out = src;
	*nout = n;
	return CLI_OK;
}

static int emit_print(void *arg, struct cli_source *s, const struct record *r)
{
	return cli_out_record(arg, s->topic, s->partition, r);
}

static int idle_print(void *arg)
{
	return cli_out_flush(arg);
}

struct replay_sink {
	struct cli_producer prod;
	struct record_header hdrs[MAX_RECORD_HEADERS];
};

static int emit_replay(void *arg, struct cli_source *s, const struct record *r)
{
	struct replay_sink *rs = arg;
	struct record_header_iter it;
	size_t nh = 0;

	(void)s;
	record_header_iter_init(&it, r);
	while (nh < MAX_RECORD_HEADERS && record_header_iter_next(&it, &rs->hdrs[nh]) == 1)
		nh++;
	if (nh == MAX_RECORD_HEADERS) {
		snprintf(rs->prod.err, sizeof(rs->prod.err),
			 "a record at offset %" PRId64 " has more than %d headers", r->offset,
			 MAX_RECORD_HEADERS);
		return -ERR_TOO_LARGE;
	}
	return cli_producer_add(&rs->prod, r->timestamp, r->key, r->key_len, r->value, r->value_len,
				rs->hdrs, nh);
}

static void print_stats(const struct cli_merge *m, uint64_t t0_ns)
{
	uint64_t scanned = 0, decoded = 0, values = 0, in = 0, now = clock_mono_ns();
	double secs = (double)(now - t0_ns) / 1e9;

	for (size_t i = 0; i < m->n; i++) {
		scanned += m->src[i].records_scanned;
		decoded += m->src[i].decoded_bytes;
		values += m->src[i].value_bytes;
		in += m->src[i].bytes_in;
	}
	fprintf(stderr,
		"sluice: stats: %" PRIu64 " records out, %" PRIu64 " scanned, %.1f MB received, "
		"%.1f MB decoded, %.1f MB of log lines in %.3f s (%.1f MB/s of log lines), "
		"first record after %.1f ms\n",
		m->emitted, scanned, (double)in / 1e6, (double)decoded / 1e6, (double)values / 1e6,
		secs, secs > 0 ? (double)values / 1e6 / secs : 0.0,
		m->first_emit_ns ? (double)(m->first_emit_ns - t0_ns) / 1e6 : -1.0);
}

/* --brokers: the same options against a Kafka cluster (cli_kafka.c). */
static int consume_kafka(struct cli_ctx *ctx, struct consume_opts *o)
{
	const struct cli_kafka_req req = {
		.topics = o->topics,
		.ntopics = o->ntopics,
		.partition = o->partition,
		.from_offset = o->from_offset,
		.has_from_offset = o->has_from_offset,
		.from_ts = o->from_ts,
		.to_ts = o->to_ts,
		.has_from_time = o->has_from_time,
		.has_to_time = o->has_to_time || o->to_topic,
		.follow = o->follow,
		.max = o->max,
		.fmt = o->fmt,
		.stats = o->stats,
		.quiet = o->quiet,
		.filter = cli_filter_active(&o->filter) ? &o->filter : NULL,
		.to_topic = o->to_topic,
	};

	return cli_kafka_run(ctx, &req);
}

static int run(struct cli_ctx *ctx, int argc, char **argv, bool replay)
{
	struct consume_opts o;
	struct cli_source *src = NULL;
	struct cli_merge m;
	struct cli_out out;
	struct replay_sink *rs = NULL;
	uint64_t t0 = clock_mono_ns();
	size_t n = 0;
	int rc;

	memset(&o, 0, sizeof(o));
	memset(&m, 0, sizeof(m));
	cli_filter_init(&o.filter);
	cli_out_init(&out, stdout, CLI_FMT_RAW);
	rc = parse_opts(ctx, argc, argv, &o, replay);
	if (rc == -1) {
		rc = CLI_OK;
		goto out;
	}
	if (rc != CLI_OK)
		goto out;
	out.fmt = o.fmt;
	if (ctx->brokers) {
		rc = consume_kafka(ctx, &o);
		goto out;
	}
	rc = cli_connect(ctx);
	if (rc != CLI_OK)
		goto out;
	install_signals();
	rc = build_sources(ctx, &o, &src, &n);
	if (rc != CLI_OK)
		goto out;
	/* released through the merge from here on, even if it never starts */
	m.src = src;
	m.n = n;
	if (replay) {
		rs = mem_calloc(1, sizeof(*rs));
		if (!rs || cli_producer_init(&rs->prod, &ctx->http, o.to_topic, o.codec) < 0) {
			cli_err("replay: --to-topic %s: %s", o.to_topic,
				rs ? rs->prod.err : "no memory");
			rc = CLI_FAIL;
			goto out;
		}
	}
	if (cli_merge_init(&m, src, n) < 0) {
		cli_err("out of memory");
		rc = CLI_FAIL;
		goto out;
	}
	rc = cli_merge_run(&m, replay ? emit_replay : emit_print, replay ? NULL : idle_print,
			   replay ? (void *)rs : (void *)&out, o.max);
	if (rc == 0 && replay && cli_merge_stopped()) {
		cli_err("replay: interrupted");
		rc = -ECANCELED;
	}
	if (rc == 0 && replay && cli_producer_flush(&rs->prod) < 0)
		rc = -EIO;
	if (rc == 0 && !replay)
		rc = cli_out_flush(&out);
	if (rc == -EPIPE) {
		rc = 0; /* the reader (| head) has what it wanted */
	} else if (rc == -EIO) {
		for (size_t i = 0; i < n; i++) {
			if (src[i].failed) {
				cli_err("%s", src[i].err);
				break;
			}
		}
		if (replay && rs->prod.err[0])
			cli_err("replay: %s", rs->prod.err);
	} else if (rc < 0 && rc != -ECANCELED) {
		cli_err("%s", replay && rs->prod.err[0] ? rs->prod.err : err_str(rc));
	}
	if (o.stats)
		print_stats(&m, t0);
	if (replay && rc == 0 && !o.quiet)
		cli_err("replayed %" PRIu64 " records in %" PRIu64 " batches from %s to %s",
			rs->prod.records, rs->prod.batches, o.topics[0], o.to_topic);
	rc = rc == 0 ? CLI_OK : CLI_FAIL;
out:
	cli_merge_release(&m);
	mem_free(src);
	if (rs)
		cli_producer_release(&rs->prod);
	mem_free(rs);
	cli_out_release(&out);
	cli_filter_release(&o.filter);
	return rc;
}

int cli_consume_main(struct cli_ctx *ctx, int argc, char **argv)
{
	return run(ctx, argc, argv, false);
}

int cli_replay_main(struct cli_ctx *ctx, int argc, char **argv)
{
	return run(ctx, argc, argv, true);
}
