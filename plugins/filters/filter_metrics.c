/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Filter `metrics`: log-based metrics.  Each instance is one Prometheus
 * family on the agent's /metrics, fed by the events that pass through it:
 *
 *   kind: counter    events matching (`match` regex on the line or `field`)
 *   kind: sum        the sum of `value_field` over matching events (counter)
 *   kind: histogram  `value_field` observed into `buckets` (+ _sum, _count)
 *
 * Labels come from parsed fields or headers (`labels: {label: field}`; a
 * missing field is an empty label).  The number of label sets is bounded by
 * `max_series`: events that would open one more series are counted in a
 * single series whose labels all read `__overflow__`, and in
 * sluice_agent_metrics_overflow_total{metric=...}, so a label fed by an
 * unbounded value (a user id) cannot grow the agent's memory or the scrape.
 *
 * The filter never drops an event; events that do not match pass untouched.
 * Matching runs a required-literal prefilter (re_literal) before PCRE2:
 * most lines lack the literal and never reach the regex.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"
#include "lib/prom.h"
#include "lib/regex.h"
#include "plugins/filters/xform.h"
#include "lib/re_literal.h"

#define LABELS_MAX 8
#define LABEL_TEXT_MAX 2048
#define OVERFLOW "__overflow__"

static const char *const kinds[] = {"counter", "sum", "histogram", NULL};

enum { KIND_COUNTER, KIND_SUM, KIND_HISTOGRAM };

struct filter_metrics_conf {
	char *name;
	char *help;
	int kind;
	char *match;
	char *field;
	char *value_field;
	struct cfg_list buckets;
	struct cfg_kv labels;
	int64_t max_series;
};

static int check_name(const char *v, char *why, size_t whylen)
{
	for (const char *p = v; *p; p++) {
		bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
			  *p == ':' || (p > v && *p >= '0' && *p <= '9');

		if (!ok) {
			snprintf(why, whylen, "a metric name is [a-zA-Z_:][a-zA-Z0-9_:]*");
			return -1;
		}
	}
	return *v ? 0 : -1;
}

static const struct cfg_option filter_metrics_opts[] = {
	{.name = "name",
	 .type = CFG_STRING,
	 .offset = offsetof(struct filter_metrics_conf, name),
	 .flags = CFG_REQUIRED,
	 .check = check_name,
	 .help = "the metric family's name"},
	{.name = "help",
	 .type = CFG_STRING,
	 .offset = offsetof(struct filter_metrics_conf, help),
	 .def = "Log-based metric.",
	 .help = "the family's HELP text"},
	{.name = "kind",
	 .type = CFG_ENUM,
	 .offset = offsetof(struct filter_metrics_conf, kind),
	 .def = "counter",
	 .choices = kinds,
	 .help = "counter, sum or histogram"},
	{.name = "match",
	 .type = CFG_STRING,
	 .offset = offsetof(struct filter_metrics_conf, match),
	 .check = regex_check,
	 .help = "PCRE2 regex the subject must match (default: all)"},
	{.name = "field",
	 .type = CFG_STRING,
	 .offset = offsetof(struct filter_metrics_conf, field),
	 .help = "match a parsed field (or header) instead of the raw line"},
	{.name = "value_field",
	 .type = CFG_STRING,
	 .offset = offsetof(struct filter_metrics_conf, value_field),
	 .help = "sum and histogram: the numeric field (or header) to add or observe"},
	{.name = "buckets",
	 .type = CFG_LIST,
	 .offset = offsetof(struct filter_metrics_conf, buckets),
	 .help = "histogram: upper bounds, increasing"},
	{.name = "labels",
	 .type = CFG_MAP,
	 .offset = offsetof(struct filter_metrics_conf, labels),
	 .help = "label name -> field or header it is read from"},
	{.name = "max_series",
	 .type = CFG_INT,
	 .offset = offsetof(struct filter_metrics_conf, max_series),
	 .def = "1000",
	 .min = 1,
	 .max = 100000,
	 .help = "label sets kept; more go to the __overflow__ series"},
	CFG_OPT_END,
};

struct mseries {
	uint64_t hash;
	char *labels; /* rendered: a="x",b="y" */
	uint64_t count;
	double sum;
	uint64_t *buckets; /* histogram: per bound, not cumulative */
};

struct filter_metrics {
	const struct filter_metrics_conf *conf;
	pcre2_code *re;
	pcre2_match_data *md;
	struct re_literal lit;
	double *bounds;
	size_t nbounds;
	struct mseries *series;
	size_t nseries;
	uint32_t *index; /* open addressing: series index + 1, 0 = empty */
	size_t index_cap;
	size_t overflow_idx; /* SIZE_MAX until used */
	char fbuf[4096];
	char lbuf[LABEL_TEXT_MAX];
	uint64_t matched, overflowed, bad_values;
};

static uint64_t fnv(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)p[i]) * 1099511628211ull;
	return h;
}

static void filter_metrics_exit(void *ctx)
{
	struct filter_metrics *m = ctx;

	if (!m)
		return;
	for (size_t i = 0; i < m->nseries; i++) {
		mem_free(m->series[i].labels);
		mem_free(m->series[i].buckets);
	}
	mem_free(m->series);
	mem_free(m->index);
	mem_free(m->bounds);
	re_literal_release(&m->lit);
	pcre2_match_data_free(m->md);
	pcre2_code_free(m->re);
	mem_free(m);
}

static int parse_bounds(struct filter_metrics *m, struct cfg_error *err)
{
	const struct cfg_list *b = &m->conf->buckets;

	if (m->conf->kind != KIND_HISTOGRAM)
		return 0;
	if (b->n == 0) {
		cfg_error_at(err, NULL, "metrics %s: a histogram needs buckets", m->conf->name);
		return -ERR_CONFIG;
	}
	m->bounds = mem_calloc(b->n, sizeof(double));
	if (!m->bounds)
		return -ENOMEM;
	for (size_t i = 0; i < b->n; i++) {
		char *end = NULL;
		double v = strtod(b->v[i], &end);

		if (!end || *end || end == b->v[i] || !isfinite(v) ||
		    (i && v <= m->bounds[i - 1])) {
			cfg_error_at(err, NULL,
				     "metrics %s: bucket '%s' is not a number above the "
				     "one before",
				     m->conf->name, b->v[i]);
			return -ERR_CONFIG;
		}
		m->bounds[i] = v;
	}
	m->nbounds = b->n;
	return 0;
}

static int filter_metrics_init(const struct plugin_args *a, void **ctx, struct cfg_error *err)
{
	struct filter_metrics *m = mem_calloc(1, sizeof(*m));
	const struct filter_metrics_conf *c = a->conf;
	int rc;

	*ctx = m;
	if (!m)
		return -ENOMEM;
	m->conf = c;
	m->overflow_idx = SIZE_MAX;
	if (c->kind != KIND_COUNTER && (!c->value_field || !*c->value_field)) {
		cfg_error_at(err, NULL, "metrics %s: %s needs value_field", c->name,
			     kinds[c->kind]);
		return -ERR_CONFIG;
	}
	if (c->labels.n > LABELS_MAX) {
		cfg_error_at(err, NULL, "metrics %s: at most %d labels", c->name, LABELS_MAX);
		return -ERR_CONFIG;
	}
	for (size_t i = 0; i < c->labels.n; i++) {
		char why[128];

		if (check_name(c->labels.keys[i], why, sizeof(why)) < 0 ||
		    strchr(c->labels.keys[i], ':')) {
			cfg_error_at(err, NULL, "metrics %s: bad label name '%s'", c->name,
				     c->labels.keys[i]);
			return -ERR_CONFIG;
		}
	}
	rc = parse_bounds(m, err);
	if (rc < 0)
		return rc;
	if (c->match && *c->match) {
		m->re = xform_regex(c->match);
		m->md = pcre2_match_data_create(1, NULL);
		if (!m->re || !m->md)
			return -ERR_CONFIG;
		re_literal_init(&m->lit, c->match);
	}
	m->index_cap = 16;
	while (m->index_cap < (size_t)c->max_series * 2 + 2)
		m->index_cap *= 2;
	m->index = mem_calloc(m->index_cap, sizeof(*m->index));
	m->series = mem_calloc((size_t)c->max_series + 1, sizeof(*m->series));
	return m->index && m->series ? 0 : -ENOMEM;
}

/* Append v escaped as a label value. */
static size_t put_value(char *dst, size_t used, size_t cap, const char *v, size_t n)
{
	for (size_t i = 0; i < n && used + 3 < cap; i++) {
		char ch = v[i];

		if (ch == '\\' || ch == '"' || ch == '\n') {
			dst[used++] = '\\';
			dst[used++] = ch == '\n' ? 'n' : ch;
		} else {
			dst[used++] = ch;
		}
	}
	return used;
}

/* The event's label text into m->lbuf; its length. */
static size_t label_text(struct filter_metrics *m, const struct event *ev, bool overflow)
{
	const struct cfg_kv *l = &m->conf->labels;
	size_t used = 0;

	for (size_t i = 0; i < l->n; i++) {
		const char *p = NULL;
		size_t n = 0;
		int w = snprintf(m->lbuf + used, sizeof(m->lbuf) - used, "%s%s=\"", i ? "," : "",
				 l->keys[i]);

		if (w < 0 || (size_t)w >= sizeof(m->lbuf) - used - 2)
			break;
		used += (size_t)w;
		if (overflow) {
			p = OVERFLOW;
			n = strlen(OVERFLOW);
		} else if (!xform_subject(ev, l->vals[i], m->fbuf, sizeof(m->fbuf), &p, &n)) {
			n = 0;
		}
		used = put_value(m->lbuf, used, sizeof(m->lbuf) - 1, p, n);
		m->lbuf[used++] = '"';
	}
	m->lbuf[used] = '\0';
	return used;
}

static struct mseries *series_add(struct filter_metrics *m, uint64_t h, size_t len)
{
	struct mseries *s = &m->series[m->nseries];

	s->hash = h;
	s->labels = mem_alloc(len + 1);
	if (!s->labels)
		return NULL;
	memcpy(s->labels, m->lbuf, len + 1);
	if (m->nbounds) {
		s->buckets = mem_calloc(m->nbounds, sizeof(uint64_t));
		if (!s->buckets) {
			mem_free(s->labels);
			return NULL;
		}
	}
	m->nseries++;
	return s;
}

static struct mseries *series_for(struct filter_metrics *m, const struct event *ev)
{
	size_t len = label_text(m, ev, false);
	uint64_t h = fnv(m->lbuf, len);
	size_t mask = m->index_cap - 1, i = (size_t)h & mask;
	struct mseries *s;

	for (; m->index[i]; i = (i + 1) & mask) {
		s = &m->series[m->index[i] - 1];
		if (s->hash == h && !strcmp(s->labels, m->lbuf))
			return s;
	}
	if (m->nseries < (size_t)m->conf->max_series) {
		s = series_add(m, h, len);
		if (s)
			m->index[i] = (uint32_t)m->nseries;
		return s;
	}
	m->overflowed++;
	if (m->overflow_idx == SIZE_MAX) {
		len = label_text(m, ev, true);
		if (!series_add(m, 0, len))
			return NULL;
		m->overflow_idx = m->nseries - 1;
	}
	return &m->series[m->overflow_idx];
}

static bool matches(struct filter_metrics *m, const struct event *ev)
{
	const char *p;
	size_t n;

	if (!m->re)
		return true;
	if (!xform_subject(ev, m->conf->field, m->fbuf, sizeof(m->fbuf), &p, &n))
		return false;
	if (!re_literal_may_match(&m->lit, p, n))
		return false;
	return pcre2_match(m->re, (PCRE2_SPTR)p, n, 0, 0, m->md, NULL) >= 0;
}

static enum filter_verdict filter_metrics_filter(void *ctx, struct event *ev, struct buf *scratch)
{
	struct filter_metrics *m = ctx;
	struct mseries *s;
	double v = 0;

	(void)scratch;
	if (!matches(m, ev))
		return FILTER_KEEP;
	if (m->conf->kind != KIND_COUNTER) {
		const char *p;
		size_t n;
		char num[64], *end = NULL;

		if (!xform_subject(ev, m->conf->value_field, m->fbuf, sizeof(m->fbuf), &p, &n) ||
		    n == 0 || n >= sizeof(num)) {
			m->bad_values++;
			return FILTER_KEEP;
		}
		memcpy(num, p, n);
		num[n] = '\0';
		v = strtod(num, &end);
		if (end != num + n || !isfinite(v)) {
			m->bad_values++;
			return FILTER_KEEP;
		}
	}
	s = series_for(m, ev);
	if (!s)
		return FILTER_KEEP;
	m->matched++;
	s->count++;
	s->sum += v;
	for (size_t i = 0; i < m->nbounds; i++) {
		if (v <= m->bounds[i]) {
			s->buckets[i]++;
			break;
		}
	}
	return FILTER_KEEP;
}

static void render_histogram(struct filter_metrics *m, const struct mseries *s, struct buf *out)
{
	char name[256], labels[LABEL_TEXT_MAX + 64];
	uint64_t cum = 0;
	const char *sep = *s->labels ? "," : "";

	snprintf(name, sizeof(name), "%s_bucket", m->conf->name);
	for (size_t i = 0; i < m->nbounds; i++) {
		cum += s->buckets[i];
		snprintf(labels, sizeof(labels), "%s%sle=\"%.9g\"", s->labels, sep, m->bounds[i]);
		prom_u64(out, name, labels, cum);
	}
	snprintf(labels, sizeof(labels), "%s%sle=\"+Inf\"", s->labels, sep);
	prom_u64(out, name, labels, s->count);
	snprintf(name, sizeof(name), "%s_sum", m->conf->name);
	prom_f64(out, name, s->labels, s->sum);
	snprintf(name, sizeof(name), "%s_count", m->conf->name);
	prom_u64(out, name, s->labels, s->count);
}

static void filter_metrics_render(void *ctx, struct buf *out)
{
	struct filter_metrics *m = ctx;
	const char *type = m->conf->kind == KIND_HISTOGRAM ? "histogram" : "counter";

	prom_family(out, m->conf->name, type, m->conf->help);
	for (size_t i = 0; i < m->nseries; i++) {
		const struct mseries *s = &m->series[i];

		if (m->conf->kind == KIND_COUNTER)
			prom_u64(out, m->conf->name, s->labels, s->count);
		else if (m->conf->kind == KIND_SUM)
			prom_f64(out, m->conf->name, s->labels, s->sum);
		else
			render_histogram(m, s, out);
	}
}

static size_t filter_metrics_metrics(void *ctx, struct plugin_metric *mm, size_t max)
{
	struct filter_metrics *m = ctx;
	const struct plugin_metric v[] = {
		{"sluice_agent_metrics_matched_total", "counter",
		 "Events counted by log-based metrics.", m->matched, "metric", m->conf->name},
		{"sluice_agent_metrics_overflow_total", "counter",
		 "Events counted in the __overflow__ series (max_series reached).", m->overflowed,
		 "metric", m->conf->name},
		{"sluice_agent_metrics_bad_values_total", "counter",
		 "Matching events whose value_field is missing or not a number (not counted).",
		 m->bad_values, "metric", m->conf->name},
		{"sluice_agent_metrics_series", "gauge", "Label sets of log-based metrics.",
		 m->nseries, "metric", m->conf->name},
	};

	return plugin_metrics_copy(mm, max, v, sizeof(v) / sizeof(v[0]));
}

const struct plugin filter_metrics_plugin = {
	.name = "metrics",
	.kind = PLUGIN_FILTER,
	.description = "log-based metrics (counter, sum, histogram) on the agent's /metrics",
	.options = filter_metrics_opts,
	.conf_size = sizeof(struct filter_metrics_conf),
	.init = filter_metrics_init,
	.filter = filter_metrics_filter,
	.metrics = filter_metrics_metrics,
	.render = filter_metrics_render,
	.exit = filter_metrics_exit,
};
