/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Filter `add`: static headers on every event (`headers: {env: prod, team:
 * payments}`), e.g. to route or search by them downstream.
 */
#include <string.h>

#include "lib/mem.h"
#include "plugins/filters/xform.h"

struct filter_add_conf {
	struct cfg_kv headers;
};

/* clang-format off */
static const struct cfg_option filter_add_opts[] = {
	{.name = "headers", .type = CFG_MAP, .offset = offsetof(struct filter_add_conf, headers),
	 .flags = CFG_REQUIRED, .help = "name: value pairs added as record headers"},
	CFG_OPT_END,
};
/* clang-format on */

struct filter_add {
	const struct filter_add_conf *conf;
	struct xhdrs hdrs;
	uint64_t events, overflow;
};

static int filter_add_init(const struct plugin_args *a, void **ctx, struct cfg_error *err)
{
	struct filter_add *f = mem_calloc(1, sizeof(*f));
	const struct filter_add_conf *c = a->conf;

	*ctx = f;
	if (!f)
		return -ENOMEM;
	f->conf = c;
	if (c->headers.n == 0 || c->headers.n > EVENT_MAX_HEADERS / 2) {
		cfg_error_at(err, NULL, "add: 1 to %d headers", EVENT_MAX_HEADERS / 2);
		return -ERR_CONFIG;
	}
	return 0;
}

static enum filter_verdict filter_add_filter(void *ctx, struct event *ev, struct buf *scratch)
{
	struct filter_add *f = ctx;

	(void)scratch;
	for (size_t i = 0; i < f->conf->headers.n; i++)
		if (xhdrs_add(&f->hdrs, ev, f->conf->headers.keys[i], f->conf->headers.vals[i],
			      strlen(f->conf->headers.vals[i])) < 0)
			f->overflow++;
	f->events++;
	return FILTER_KEEP;
}

static size_t filter_add_metrics(void *ctx, struct plugin_metric *m, size_t max)
{
	struct filter_add *f = ctx;
	const struct plugin_metric v[] = {
		{"sluice_agent_filter_add_events_total", "counter", "Events given static headers.",
		 f->events, NULL, NULL},
		{"sluice_agent_filter_add_overflow_total", "counter",
		 "Headers left out because the event already had the maximum.", f->overflow, NULL,
		 NULL},
	};

	return plugin_metrics_copy(m, max, v, sizeof(v) / sizeof(v[0]));
}

static void filter_add_exit(void *ctx)
{
	mem_free(ctx);
}

const struct plugin filter_add_plugin = {
	.name = "add",
	.kind = PLUGIN_FILTER,
	.description = "add static headers (env, team, ...)",
	.options = filter_add_opts,
	.conf_size = sizeof(struct filter_add_conf),
	.init = filter_add_init,
	.filter = filter_add_filter,
	.metrics = filter_add_metrics,
	.exit = filter_add_exit,
};
