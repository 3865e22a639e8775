/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Output `null`: acknowledges every batch without sending it anywhere.  For
 * measuring the agent alone (reading, batching, compressing, spooling) and
 * for pipelines that only need the side effects of their inputs.
 */
#include "agent/plugin.h"

static const struct cfg_option out_null_opts[] = {
	CFG_OPT_END,
};

static int out_null_init(const struct plugin_args *a, void **ctx, struct cfg_error *err)
{
	(void)a;
	(void)err;
	*ctx = (void *)&out_null_opts; /* no state; any non-NULL pointer */
	return 0;
}

static enum flush_result out_null_flush(void *ctx, struct flush *f)
{
	(void)ctx;
	(void)f;
	return FLUSH_OK;
}

const struct plugin out_null_plugin = {
	.name = "null",
	.kind = PLUGIN_OUTPUT,
	.description = "discard batches (benchmarks, tests)",
	.options = out_null_opts,
	.conf_size = 0,
	.init = out_null_init,
	.flush = out_null_flush,
};
