/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Filter `sample`: keeps 1 event in `every` among those whose `field` (a
 * parsed field or a header; default "level") is one of `levels` (compared
 * case-insensitively); other events pass untouched.  With no `levels` every
 * event is sampled.  Deterministic (a counter, not a random draw), so a
 * replay of the same input keeps the same events.
 */
#include <string.h>
#include <strings.h>

#include "lib/mem.h"
#include "plugins/filters/xform.h"

struct filter_sample_conf {
	int64_t every;
	char *field;
	struct cfg_list levels;
};

/* clang-format off */
static const struct cfg_option filter_sample_opts[] = {
	{.name = "every", .type = CFG_INT, .offset = offsetof(struct filter_sample_conf, every),
	 .flags = CFG_REQUIRED, .min = 1, .max = 1000000000, .help = "keep 1 event in N"},
	{.name = "field", .type = CFG_STRING, .offset = offsetof(struct filter_sample_conf, field),
	 .def = "level", .help = "parsed field (or header) holding the level"},
	{.name = "levels", .type = CFG_LIST, .offset = offsetof(struct filter_sample_conf, levels),
	 .help = "levels to sample, e.g. [debug, trace] (default: every event)"},
	CFG_OPT_END,
};
/* clang-format on */

struct filter_sample {
	const struct filter_sample_conf *conf;
	uint64_t seen, kept, dropped;
	char fbuf[256];
};

static int filter_sample_init(const struct plugin_args *a, void **ctx, struct cfg_error *err)
{
	struct filter_sample *f = mem_calloc(1, sizeof(*f));

	(void)err;
	*ctx = f;
	if (!f)
		return -ENOMEM;
	f->conf = a->conf;
	return 0;
}

static bool applies(struct filter_sample *f, const struct event *ev)
{
	const char *p;
	size_t n;

	if (f->conf->levels.n == 0)
		return true;
	if (!xform_subject(ev, f->conf->field, f->fbuf, sizeof(f->fbuf), &p, &n))
		return false;
	for (size_t i = 0; i < f->conf->levels.n; i++) {
		const char *l = f->conf->levels.v[i];

		if (strlen(l) == n && strncasecmp(l, p, n) == 0)
			return true;
	}
	return false;
}

static enum filter_verdict filter_sample_filter(void *ctx, struct event *ev, struct buf *scratch)
{
	struct filter_sample *f = ctx;

	(void)scratch;
	if (!applies(f, ev))
		return FILTER_KEEP;
	if (f->seen++ % (uint64_t)f->conf->every == 0) {
		f->kept++;
		return FILTER_KEEP;
	}
	f->dropped++;
	return FILTER_DROP;
}

static size_t filter_sample_metrics(void *ctx, struct plugin_metric *m, size_t max)
{
	struct filter_sample *f = ctx;
	const struct plugin_metric v[] = {
		{"sluice_agent_filter_sample_kept_total", "counter", "Sampled events kept.",
		 f->kept, NULL, NULL},
		{"sluice_agent_filter_sample_dropped_total", "counter", "Sampled events dropped.",
		 f->dropped, NULL, NULL},
	};

	return plugin_metrics_copy(m, max, v, sizeof(v) / sizeof(v[0]));
}

static void filter_sample_exit(void *ctx)
{
	mem_free(ctx);
}

const struct plugin filter_sample_plugin = {
	.name = "sample",
	.kind = PLUGIN_FILTER,
	.description = "keep 1 in N events (of the given levels)",
	.options = filter_sample_opts,
	.conf_size = sizeof(struct filter_sample_conf),
	.init = filter_sample_init,
	.filter = filter_sample_filter,
	.metrics = filter_sample_metrics,
	.exit = filter_sample_exit,
};
