/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Filter `grep`: keep events whose subject matches `include` (when set) and
 * does not match `exclude` (when set).  The subject is the raw value, or with
 * `field:` a top-level member of a parsed (JSON) value, else a header of that
 * name; an event without the field counts as not matching.
 */
#include <string.h>

#include "lib/mem.h"
#include "lib/regex.h"
#include "plugins/filters/xform.h"

struct filter_grep_conf {
	char *include;
	char *exclude;
	char *field;
};

/* clang-format off */
static const struct cfg_option filter_grep_opts[] = {
	{.name = "include", .type = CFG_STRING, .offset = offsetof(struct filter_grep_conf, include),
	 .check = regex_check, .help = "PCRE2 regex the subject must match to be kept"},
	{.name = "exclude", .type = CFG_STRING, .offset = offsetof(struct filter_grep_conf, exclude),
	 .check = regex_check, .help = "PCRE2 regex whose matches are dropped"},
	{.name = "field", .type = CFG_STRING, .offset = offsetof(struct filter_grep_conf, field),
	 .help = "match a parsed field (or header) instead of the raw line"},
	CFG_OPT_END,
};
/* clang-format on */

struct filter_grep {
	const struct filter_grep_conf *conf;
	pcre2_code *inc, *exc;
	pcre2_match_data *md;
	char fbuf[4096];
	uint64_t kept, dropped;
};

static void filter_grep_exit(void *ctx)
{
	struct filter_grep *g = ctx;

	if (!g)
		return;
	pcre2_match_data_free(g->md);
	pcre2_code_free(g->inc);
	pcre2_code_free(g->exc);
	mem_free(g);
}

static int filter_grep_init(const struct plugin_args *a, void **ctx, struct cfg_error *err)
{
	struct filter_grep *g = mem_calloc(1, sizeof(*g));
	const struct filter_grep_conf *c = a->conf;

	*ctx = g;
	if (!g)
		return -ENOMEM;
	g->conf = c;
	if ((!c->include || !*c->include) && (!c->exclude || !*c->exclude)) {
		cfg_error_at(err, NULL, "grep: set include, exclude or both");
		return -ERR_CONFIG;
	}
	if (c->include && *c->include && !(g->inc = xform_regex(c->include)))
		return -ERR_CONFIG;
	if (c->exclude && *c->exclude && !(g->exc = xform_regex(c->exclude)))
		return -ERR_CONFIG;
	g->md = pcre2_match_data_create(1, NULL);
	return g->md ? 0 : -ENOMEM;
}

static bool match(struct filter_grep *g, pcre2_code *re, const char *p, size_t n)
{
	return pcre2_match(re, (PCRE2_SPTR)p, n, 0, 0, g->md, NULL) >= 0;
}

static enum filter_verdict filter_grep_filter(void *ctx, struct event *ev, struct buf *scratch)
{
	struct filter_grep *g = ctx;
	const char *p = NULL;
	size_t n = 0;
	bool has;

	(void)scratch;
	has = xform_subject(ev, g->conf->field, g->fbuf, sizeof(g->fbuf), &p, &n);
	if ((g->inc && (!has || !match(g, g->inc, p, n))) ||
	    (g->exc && has && match(g, g->exc, p, n))) {
		g->dropped++;
		return FILTER_DROP;
	}
	g->kept++;
	return FILTER_KEEP;
}

static size_t filter_grep_metrics(void *ctx, struct plugin_metric *m, size_t max)
{
	struct filter_grep *g = ctx;
	const struct plugin_metric v[] = {
		{"sluice_agent_filter_grep_kept_total", "counter", "Events the grep filters kept.",
		 g->kept, NULL, NULL},
		{"sluice_agent_filter_grep_dropped_total", "counter",
		 "Events the grep filters dropped.", g->dropped, NULL, NULL},
	};

	return plugin_metrics_copy(m, max, v, sizeof(v) / sizeof(v[0]));
}

const struct plugin filter_grep_plugin = {
	.name = "grep",
	.kind = PLUGIN_FILTER,
	.description = "keep or drop events by regex on the line or a parsed field",
	.options = filter_grep_opts,
	.conf_size = sizeof(struct filter_grep_conf),
	.init = filter_grep_init,
	.filter = filter_grep_filter,
	.metrics = filter_grep_metrics,
	.exit = filter_grep_exit,
};
