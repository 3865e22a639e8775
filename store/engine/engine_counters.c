/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine-wide counters behind struct engine_stats (declared in
 * partition.h, where appends and flushes update them): the fsync latency
 * histogram and the last storage error.  Any thread; lock-free except the
 * error text.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "store/engine/partition.h"

const double engine_fsync_hist_bounds_ms[11] = {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250};

void engine_counters_error(struct engine_counters *c, const char *fmt, ...)
{
	char msg[sizeof(c->last_error)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	atomic_store(&c->writable, false);
	pthread_mutex_lock(&c->err_mu);
	memcpy(c->last_error, msg, sizeof(msg));
	log_write_rl(&c->rl, 5000, LOG_LVL_ERROR, "log: %s", msg);
	pthread_mutex_unlock(&c->err_mu);
}

void engine_counters_fsync(struct engine_counters *c, uint64_t ns)
{
	double ms = (double)ns / 1e6;
	size_t b = 0;

	while (b < 11 && ms > engine_fsync_hist_bounds_ms[b])
		b++;
	atomic_fetch_add_explicit(&c->fsyncs, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&c->fsync_ns_total, ns, memory_order_relaxed);
	atomic_fetch_add_explicit(&c->fsync_hist[b], 1, memory_order_relaxed);
}
