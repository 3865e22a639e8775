/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sluice stats TOPICS: record counts per interval, from the store's
 * GET /v1/topics/{t}/stats (answered from the block index where it can),
 * printed as a terminal bar chart, JSON or CSV.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "cli/cli.h"
#include "cli/cli_time.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "lib/jdoc.h"
#include "lib/mem.h"

#define BAR_WIDTH 50
#define MAX_TOPICS 32

enum stats_fmt { FMT_CHART, FMT_JSON, FMT_CSV };

struct stats_opts {
	const char *topics[MAX_TOPICS];
	size_t ntopics;
	char *topics_buf;
	int64_t from, to, by;
	const char *grep, *group_by;
	bool icase;
	enum stats_fmt fmt;
};

/* An integer member, or def when absent or not an integer. */
static int64_t num(const struct jnode *n, int64_t def)
{
	int64_t v;

	return jnode_i64(n, &v) == 0 ? v : def;
}

static void time_label(int64_t ms, int64_t by, char *out, size_t cap)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, cap, by % 60000 ? "%Y-%m-%d %H:%M:%S" : "%Y-%m-%d %H:%M", &tm);
}

static void print_chart(const struct jnode *root)
{
	const struct jnode *groups = jnode_get(root, "groups");
	int64_t from = 0, by = 60000, total = 0, idx = 0, scanned = 0;

	from = num(jnode_get(root, "from"), from);
	by = num(jnode_get(root, "by"), by);
	total = num(jnode_get(root, "total"), total);
	idx = num(jnode_get(root, "from_index"), idx);
	scanned = num(jnode_get(root, "scanned_bytes"), scanned);
	printf("%s: %" PRId64 " records (%" PRId64 " counted from the index, %" PRId64
	       " bytes scanned)\n",
	       jnode_str(jnode_get(root, "topic")), total, idx, scanned);
	for (size_t g = 0; groups && g < groups->n; g++) {
		const struct jnode *gr = &groups->kids[g];
		const struct jnode *c = jnode_get(gr, "counts");
		int64_t max = 1, gt = 0;

		gt = num(jnode_get(gr, "total"), gt);
		if (groups->n > 1 || strcmp(jnode_str(jnode_get(gr, "name")), "all") != 0)
			printf("== %s (%" PRId64 ")\n", jnode_str(jnode_get(gr, "name")), gt);
		for (size_t k = 0; c && k < c->n; k++)
			if (c->kids[k].i > max)
				max = c->kids[k].i;
		for (size_t k = 0; c && k < c->n; k++) {
			char label[32];
			int64_t n = c->kids[k].i;
			int w = (int)((n * BAR_WIDTH + max - 1) / max);

			time_label(from + (int64_t)k * by, by, label, sizeof(label));
			printf("%s |", label);
			for (int i = 0; i < w; i++)
				fputs("\u2588", stdout);
			printf("%*s %" PRId64 "\n", BAR_WIDTH - w, "", n);
		}
	}
}

static void print_csv(const struct jnode *root, bool header)
{
	const struct jnode *groups = jnode_get(root, "groups");
	int64_t from = 0, by = 60000;

	from = num(jnode_get(root, "from"), from);
	by = num(jnode_get(root, "by"), by);
	if (header)
		printf("time,topic,group,count\n");
	for (size_t g = 0; groups && g < groups->n; g++) {
		const struct jnode *c = jnode_get(&groups->kids[g], "counts");

		for (size_t k = 0; c && k < c->n; k++) {
			const char *name = jnode_str(jnode_get(&groups->kids[g], "name"));
			char label[32];
			time_t t = (time_t)((from + (int64_t)k * by) / 1000);
			struct tm tm;

			gmtime_r(&t, &tm);
			strftime(label, sizeof(label), "%Y-%m-%dT%H:%M:%SZ", &tm);
			/* names are CSV-quoted: sources may hold commas */
			printf("%s,%s,\"", label, jnode_str(jnode_get(root, "topic")));
			for (const char *p = name; *p; p++) {
				if (*p == '"')
					fputs("\"\"", stdout);
				else
					putchar(*p);
			}
			printf("\",%" PRId64 "\n", c->kids[k].i);
		}
	}
}

static int query_path(const struct stats_opts *o, const char *topic, char *out, size_t cap)
{
	size_t n = (size_t)snprintf(out, cap,
				    "/v1/topics/%s/stats?from_time=%" PRId64 "&to_time=%" PRId64
				    "&by=%" PRId64,
				    topic, o->from, o->to, o->by);
	const char *names[] = {"grep", "group_by"};
	const char *vals[] = {o->grep, o->group_by};

	for (size_t i = 0; i < 2 && n < cap; i++) {
		char *esc;

		if (!vals[i])
			continue;
		esc = curl_easy_escape(NULL, vals[i], 0);
		if (!esc)
			return -ENOMEM;
		n += (size_t)snprintf(out + n, cap - n, "&%s=%s", names[i], esc);
		curl_free(esc);
	}
	if (n < cap && o->icase)
		n += (size_t)snprintf(out + n, cap - n, "&icase=1");
	return n < cap ? 0 : -ERR_TOO_LARGE;
}

static int one_topic(struct cli_ctx *ctx, const struct stats_opts *o, size_t i)
{
	char path[8192], err[256];
	struct buf body;
	struct jdoc *d = NULL;
	long status = 0;
	size_t eo;
	int rc;

	buf_init(&body, 256u << 20);
	if (query_path(o, o->topics[i], path, sizeof(path)) < 0) {
		cli_err("stats: query too long");
		rc = CLI_USAGE;
		goto out;
	}
	rc = cli_http_request(&ctx->http, "GET", path, NULL, 0, 600000, &body, &status, err,
			      sizeof(err));
	if (rc < 0) {
		cli_err("stats: %s", err);
		rc = CLI_FAIL;
		goto out;
	}
	if (status != 200) {
		cli_http_error_text(status, body.data, body.len, err, sizeof(err));
		cli_err("stats %s: %s", o->topics[i], err);
		rc = status == 400 ? CLI_USAGE : CLI_FAIL;
		goto out;
	}
	rc = CLI_OK;
	if (o->fmt == FMT_JSON) {
		while (body.len && body.data[body.len - 1] == '\n')
			body.len--;
		printf("%s%.*s", i ? "," : "{\"topics\":[", (int)body.len, (const char *)body.data);
		if (i + 1 == o->ntopics)
			printf("]}\n");
		goto out;
	}
	if (jdoc_parse(body.data, body.len, &d, &eo) < 0) {
		cli_err("stats: the store's answer is not JSON");
		rc = CLI_FAIL;
		goto out;
	}
	if (o->fmt == FMT_CSV)
		print_csv(jdoc_root(d), i == 0);
	else
		print_chart(jdoc_root(d));
out:
	jdoc_free(d);
	buf_release(&body);
	return rc;
}

static int parse_stats_opts(struct cli_ctx *ctx, int argc, char **argv, struct stats_opts *o)
{
	static const struct option opts[] = {
		{"from-time", required_argument, NULL, 's'},
		{"to-time", required_argument, NULL, 'e'},
		{"by", required_argument, NULL, 'b'},
		{"grep", required_argument, NULL, 'g'},
		{"ignore-case", no_argument, NULL, 'i'},
		{"group-by", required_argument, NULL, 'G'},
		{"format", required_argument, NULL, 'F'},
		{"help", no_argument, NULL, 'h'},
		CLI_GLOBAL_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	int64_t now = clock_wall_ms();
	const char *from = "-1h", *to = "now", *by = "1m";
	char rel[64];
	int c;

	while ((c = getopt_long(argc, argv, "s:e:b:g:iG:F:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			from = optarg;
			break;
		case 'e':
			to = optarg;
			break;
		case 'b':
			by = optarg;
			break;
		case 'g':
			o->grep = optarg;
			break;
		case 'i':
			o->icase = true;
			break;
		case 'G':
			o->group_by = optarg;
			break;
		case 'F':
			if (strcmp(optarg, "json") == 0)
				o->fmt = FMT_JSON;
			else if (strcmp(optarg, "csv") == 0)
				o->fmt = FMT_CSV;
			else if (strcmp(optarg, "chart") == 0)
				o->fmt = FMT_CHART;
			else {
				cli_err("--format: chart, json or csv");
				return CLI_USAGE;
			}
			break;
		case 'h':
			cli_help_command("stats", stdout);
			return -1;
		default:
			if (!cli_global_opt(ctx, c, optarg)) {
				cli_help_command("stats", stderr);
				return CLI_USAGE;
			}
		}
	}
	snprintf(rel, sizeof(rel), "+%s", by);
	if (cli_time_parse(from, now, &o->from) < 0 || cli_time_parse(to, now, &o->to) < 0 ||
	    cli_time_parse(rel, 0, &o->by) < 0 || o->by < 1000 || o->to < o->from) {
		cli_err("stats: bad --from-time, --to-time or --by (at least 1s)");
		return CLI_USAGE;
	}
	if (argc - optind != 1) {
		cli_err("stats: expected TOPIC[,TOPIC...] (see sluice stats --help)");
		return CLI_USAGE;
	}
	o->topics_buf = mem_strdup(argv[optind]);
	if (!o->topics_buf)
		return CLI_FAIL;
	for (char *p = o->topics_buf, *e; p && *p && o->ntopics < MAX_TOPICS; p = e) {
		e = strchr(p, ',');
		if (e)
			*e++ = '\0';
		o->topics[o->ntopics++] = p;
	}
	return o->ntopics ? CLI_OK : CLI_USAGE;
}

int cli_stats_main(struct cli_ctx *ctx, int argc, char **argv)
{
	struct stats_opts o;
	int rc;

	memset(&o, 0, sizeof(o));
	rc = parse_stats_opts(ctx, argc, argv, &o);
	if (rc == CLI_OK)
		rc = cli_connect(ctx);
	for (size_t i = 0; rc == CLI_OK && i < o.ntopics; i++)
		rc = one_topic(ctx, &o, i);
	mem_free(o.topics_buf);
	return rc < 0 ? CLI_OK : rc;
}
