/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parser `json`: the line must be one JSON text; it is validated (not
 * rebuilt: the value goes on byte for byte) and its `time_key` member, when
 * configured, becomes the record timestamp.  One pass over the line, no
 * allocation.
 */
#include <string.h>

#include "lib/mem.h"
#include "plugins/filters/parser_common.h"

struct parser_json_conf {
	struct parser_time_conf time;
};

static const struct cfg_option parser_json_opts[] = {
	PARSER_TIME_OPTS(struct parser_json_conf),
	CFG_OPT_END,
};

static int parser_json_init(const struct plugin_args *a, void **ctx, struct cfg_error *err)
{
	struct parser_state *ps = mem_calloc(1, sizeof(*ps));
	const struct parser_json_conf *c = a->conf;

	(void)err;
	*ctx = ps;
	if (!ps)
		return -ENOMEM;
	ps->time = &c->time;
	ps->name = "json";
	return 0;
}

static enum filter_verdict parser_json_filter(void *ctx, struct event *ev, struct buf *scratch)
{
	struct parser_state *ps = ctx;
	const char *key = ps->time->time_key && *ps->time->time_key ? ps->time->time_key : NULL;
	struct jspan at;
	size_t off = 0;

	(void)scratch;
	if (jscan(ev->value, ev->value_len, key, &at, &off) < 0) {
		parser_fail(ps, ev, "json: invalid at byte %zu", off);
		return FILTER_KEEP;
	}
	ps->parsed++;
	if (key)
		parser_time(ps, ev, &at);
	return FILTER_KEEP;
}

static size_t parser_json_metrics(void *ctx, struct plugin_metric *m, size_t max)
{
	return parser_metrics(ctx, m, max);
}

static void parser_json_exit(void *ctx)
{
	mem_free(ctx);
}

const struct plugin parser_json_plugin = {
	.name = "json",
	.kind = PLUGIN_PARSER,
	.description = "validate JSON lines; time_key becomes the record timestamp",
	.options = parser_json_opts,
	.conf_size = sizeof(struct parser_json_conf),
	.init = parser_json_init,
	.filter = parser_json_filter,
	.metrics = parser_json_metrics,
	.exit = parser_json_exit,
};
