/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SCAFFOLD, replaced by the log engine: every entry point fails with -ENOSYS
 * so sluice-store links while the engine is being written on its branch.
 */
#include "lib/err.h"
#include "store/log.h"

const double log_fsync_hist_bounds_ms[11] = {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250};

void log_config_init(struct log_config *c)
{
	(void)c;
}

int log_open(const struct log_config *cfg, struct log **out)
{
	(void)cfg;
	*out = NULL;
	return -ENOSYS;
}

void log_close(struct log *log)
{
	(void)log;
}
