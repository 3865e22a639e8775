/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sluice alert test RULES.yaml --topic T --from-time T [--to-time T]`:
 * backtest alert rules on stored history.  The records of every partition
 * of the topics, merged in timestamp order (cli_merge), are fed to the
 * rule engine the agent's alertmanager output runs (lib/alert.h), which is
 * evaluated at every second of record time from the first record to the end
 * of the range; each firing and resolution is collected and printed as a
 * table or one JSON object per alert.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_merge.h"
#include "cli/cli_source.h"
#include "cli/cli_time.h"
#include "lib/alert.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "lib/json.h"
#include "lib/mem.h"

#define MAX_TOPICS 16
#define STEP_MS 1000
#define MAX_ROWS 100000

struct arow {
	size_t rule;
	char *labels;            /* k=v,k=v */
	int64_t fired, resolved; /* resolved 0: still firing */
	uint64_t count;
};

struct atest {
	const struct alert_rules *rules;
	struct alert_engine *eng;
	int64_t next_eval; /* INT64_MIN until the first record */
	struct arow *rows;
	size_t nrows;
	uint64_t records;
	bool overflow;
};

static char *labels_of(const struct alert_view *v)
{
	struct buf b;
	char *s;
	int rc = 0;

	buf_init(&b, 1 << 20);
	for (size_t i = 0; i < v->ngroup; i++)
		rc = err_first(rc, buf_printf(&b, "%s%s=%s", i ? "," : "", v->group_keys[i],
					      v->group_vals[i]));
	rc = err_first(rc, buf_cstr(&b));
	s = rc == 0 ? mem_strdup(b.data ? (const char *)b.data : "") : NULL;
	buf_release(&b);
	return s;
}

static void on_change(void *arg, const struct alert_view *v, enum alert_change c)
{
	struct atest *t = arg;
	char *l = labels_of(v);

	if (!l)
		return;
	if (c == ALERT_RESOLVED) {
		for (size_t i = t->nrows; i-- > 0;) {
			if (t->rows[i].rule == v->rule && !t->rows[i].resolved &&
			    !strcmp(t->rows[i].labels, l)) {
				t->rows[i].resolved = v->ends_at;
				break;
			}
		}
		mem_free(l);
		return;
	}
	if (t->nrows == MAX_ROWS) {
		t->overflow = true;
		mem_free(l);
		return;
	}
	if ((t->nrows & (t->nrows - 1)) == 0) {
		struct arow *n = mem_realloc(t->rows, (t->nrows ? t->nrows * 2 : 16) * sizeof(*n));

		if (!n) {
			mem_free(l);
			return;
		}
		t->rows = n;
	}
	t->rows[t->nrows++] = (struct arow){v->rule, l, v->starts_at, 0, v->count};
}

/* Evaluate every step up to (not past) ts. */
static void eval_until(struct atest *t, int64_t ts)
{
	if (t->next_eval == INT64_MIN)
		t->next_eval = ts - ts % STEP_MS + STEP_MS;
	while (t->next_eval <= ts) {
		alert_engine_eval(t->eng, t->next_eval, on_change, t);
		t->next_eval += STEP_MS;
	}
}

static int emit(void *arg, struct cli_source *s, const struct record *r)
{
	struct atest *t = arg;
	struct record_header hdrs[64];
	struct record_header_iter it;
	struct alert_event ev;
	size_t nh = 0;

	eval_until(t, r->timestamp);
	record_header_iter_init(&it, r);
	while (nh < 64 && record_header_iter_next(&it, &hdrs[nh]) == 1)
		nh++;
	ev.ts = r->timestamp;
	ev.value = r->value ? (const char *)r->value : "";
	ev.len = r->value_len > 0 ? (size_t)r->value_len : 0;
	ev.hdrs = hdrs;
	ev.nhdrs = nh;
	ev.topic = s->topic;
	alert_engine_feed(t->eng, &ev);
	t->records++;
	return 0;
}

static void print_rows(const struct atest *t, bool json)
{
	char a[40], b[40];

	if (!json)
		printf("%-24s %-32s %-24s %-24s %s\n", "RULE", "LABELS", "FIRED", "RESOLVED",
		       "COUNT");
	for (size_t i = 0; i < t->nrows; i++) {
		const struct arow *r = &t->rows[i];

		clock_fmt_rfc3339(r->fired, a, sizeof(a));
		if (r->resolved)
			clock_fmt_rfc3339(r->resolved, b, sizeof(b));
		if (!json) {
			printf("%-24s %-32s %-24s %-24s %" PRIu64 "\n",
			       alert_rule_name(t->rules, r->rule), *r->labels ? r->labels : "-", a,
			       r->resolved ? b : "firing", r->count);
			continue;
		}
		{
			struct buf o;
			int rc;

			buf_init(&o, 1 << 20);
			rc = buf_append_str(&o, "{\"rule\":");
			rc = err_first(rc, json_cstr(&o, alert_rule_name(t->rules, r->rule)));
			rc = err_first(rc, buf_append_str(&o, ",\"labels\":"));
			rc = err_first(rc, json_cstr(&o, r->labels));
			rc = err_first(rc, buf_append_str(&o, ",\"fired_at\":"));
			rc = err_first(rc, json_cstr(&o, a));
			rc = err_first(rc, buf_append_str(&o, ",\"resolved_at\":"));
			if (r->resolved)
				rc = err_first(rc, json_cstr(&o, b));
			else
				rc = err_first(rc, buf_append_str(&o, "null"));
			rc = err_first(rc, buf_printf(&o, ",\"count\":%" PRIu64 "}\n", r->count));
			if (rc == 0)
				fwrite(o.data, 1, o.len, stdout);
			else
				cli_err("alert test: cannot format a result: %s", err_str(rc));
			buf_release(&o);
		}
	}
}

struct aopts {
	const char *rules;
	char *topics[MAX_TOPICS];
	size_t ntopics;
	int64_t from, to;
	bool json;
	char topic_buf[4096];
};

static int parse_opts(struct cli_ctx *ctx, int argc, char **argv, struct aopts *o)
{
	static const struct option opts[] = {
		CLI_GLOBAL_LONGOPTS,
		{"topic", required_argument, NULL, 't'},
		{"from-time", required_argument, NULL, 's'},
		{"to-time", required_argument, NULL, 'e'},
		{"format", required_argument, NULL, 'F'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int64_t now = clock_wall_ms();
	bool has_from = false;
	int c;

	o->to = now;
	while ((c = getopt_long(argc, argv, "t:s:e:F:h", opts, NULL)) != -1) {
		if (cli_global_opt(ctx, c, optarg))
			continue;
		switch (c) {
		case 't':
			snprintf(o->topic_buf, sizeof(o->topic_buf), "%s", optarg);
			o->ntopics = 0;
			for (char *p = o->topic_buf, *q; p && *p && o->ntopics < MAX_TOPICS;
			     p = q) {
				q = strchr(p, ',');
				if (q)
					*q++ = '\0';
				o->topics[o->ntopics++] = p;
			}
			break;
		case 's':
		case 'e':
			if (cli_time_parse(optarg, now, c == 's' ? &o->from : &o->to) < 0) {
				cli_err("--%s: not a time: %s", c == 's' ? "from-time" : "to-time",
					optarg);
				return CLI_USAGE;
			}
			has_from |= c == 's';
			break;
		case 'F':
			if (strcmp(optarg, "json") && strcmp(optarg, "table")) {
				cli_err("--format: table or json");
				return CLI_USAGE;
			}
			o->json = !strcmp(optarg, "json");
			break;
		case 'h':
			cli_help_command("alert", stdout);
			return -1;
		default:
			return CLI_USAGE;
		}
	}
	if (optind + 2 != argc || strcmp(argv[optind], "test") || !o->ntopics || !has_from) {
		cli_err("usage: sluice alert test RULES.yaml --topic T --from-time T [--to-time T]");
		return CLI_USAGE;
	}
	o->rules = argv[optind + 1];
	return CLI_OK;
}

static int build(struct cli_ctx *ctx, const struct aopts *o, struct cli_source **out, size_t *n)
{
	struct cli_source *src = NULL;
	int32_t counts[MAX_TOPICS];
	size_t cap = 0;

	*n = 0;
	for (size_t t = 0; t < o->ntopics; t++) {
		int rc = cli_topic_partitions(ctx, o->topics[t], &counts[t]);

		if (rc != CLI_OK)
			return rc;
		cap += (size_t)counts[t];
	}
	src = mem_calloc(cap ? cap : 1, sizeof(*src));
	if (!src)
		return CLI_FAIL;
	for (size_t t = 0; t < o->ntopics; t++) {
		for (int32_t p = 0; p < counts[t]; p++) {
			if (cli_source_init(&src[*n], &ctx->http, NULL, o->topics[t], p,
					    CLI_START_EARLIEST, true, o->from, o->to, false) < 0) {
				for (size_t i = 0; i <= *n; i++)
					cli_source_release(&src[i], NULL);
				mem_free(src);
				return CLI_FAIL;
			}
			(*n)++;
		}
	}
	*out = src;
	return CLI_OK;
}

int cli_alert_main(struct cli_ctx *ctx, int argc, char **argv)
{
	struct aopts o;
	struct atest t;
	struct alert_rules *rules = NULL;
	struct cli_source *src = NULL;
	struct cli_merge m;
	struct cfg_error err;
	size_t n = 0;
	int rc;

	memset(&o, 0, sizeof(o));
	memset(&t, 0, sizeof(t));
	memset(&m, 0, sizeof(m));
	t.next_eval = INT64_MIN;
	rc = parse_opts(ctx, argc, argv, &o);
	if (rc == -1)
		return CLI_OK;
	if (rc != CLI_OK)
		return rc;
	if (alert_rules_load(o.rules, &rules, &err) < 0) {
		cli_err("%s", err.msg);
		return CLI_USAGE;
	}
	t.rules = rules;
	t.eng = alert_engine_new(rules, 100000);
	rc = t.eng ? cli_connect(ctx) : CLI_FAIL;
	if (rc == CLI_OK)
		rc = build(ctx, &o, &src, &n);
	if (rc != CLI_OK)
		goto out;
	m.src = src;
	m.n = n;
	if (cli_merge_init(&m, src, n) < 0) {
		rc = CLI_FAIL;
		goto out;
	}
	rc = cli_merge_run(&m, emit, NULL, &t, 0);
	if (rc < 0) {
		for (size_t i = 0; i < n; i++)
			if (src[i].failed)
				cli_err("%s", src[i].err);
		rc = CLI_FAIL;
		goto out;
	}
	if (t.next_eval != INT64_MIN)
		eval_until(&t, o.to);
	print_rows(&t, o.json);
	if (t.overflow)
		cli_err("more than %d alerts: the rest left out", MAX_ROWS);
	cli_err("%" PRIu64 " records, %zu rules, %zu alerts", t.records, rules->n, t.nrows);
	rc = CLI_OK;
out:
	cli_merge_release(&m);
	mem_free(src);
	for (size_t i = 0; i < t.nrows; i++)
		mem_free(t.rows[i].labels);
	mem_free(t.rows);
	alert_engine_free(t.eng);
	alert_rules_free(rules);
	return rc;
}
