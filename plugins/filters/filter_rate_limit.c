/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Filter `rate_limit`: at most `events_per_second` per source (a file, the
 * journal's units — the record key when the input sets one — a syslog
 * listener), with bursts up to `burst`; the excess is dropped and counted.
 * A token bucket per source, refilled from the loop's clock.  At most
 * `max_sources` buckets are kept: when a new source finds the table full,
 * buckets idle for a minute are dropped first, then the whole table
 * (starting every source with a full bucket again).
 */
#include <string.h>

#include "lib/hmap.h"
#include "lib/clock.h"
#include "lib/mem.h"
#include "plugins/filters/xform.h"

#define IDLE_MS 60000

struct filter_rate_limit_conf {
	int64_t events_per_second;
	int64_t burst;
	int64_t max_sources;
};

/* clang-format off */
static const struct cfg_option filter_rate_limit_opts[] = {
	{.name = "events_per_second", .type = CFG_INT,
	 .offset = offsetof(struct filter_rate_limit_conf, events_per_second), .flags = CFG_REQUIRED,
	 .min = 1, .max = 100000000, .help = "sustained events per second per source"},
	{.name = "burst", .type = CFG_INT, .offset = offsetof(struct filter_rate_limit_conf, burst),
	 .def = "0", .min = 0, .max = 1000000000,
	 .help = "events allowed at once above the rate (0: events_per_second)"},
	{.name = "max_sources", .type = CFG_INT,
	 .offset = offsetof(struct filter_rate_limit_conf, max_sources), .def = "10000", .min = 1,
	 .max = 10000000, .help = "sources tracked at once"},
	CFG_OPT_END,
};
/* clang-format on */

struct bucket {
	struct hmap_node node;
	double tokens;
	uint64_t last_ms;
	size_t klen;
	char key[];
};

struct filter_rate_limit {
	const struct filter_rate_limit_conf *conf;
	struct hmap buckets;
	size_t n;
	double burst;
	uint64_t passed, dropped, resets;
};

uint64_t (*filter_rate_limit_clock)(void) = clock_mono_ms;

static void clear(struct filter_rate_limit *f, uint64_t now, bool only_idle)
{
	struct hmap_iter it;
	struct hmap_node *n;

	hmap_iter_init(&f->buckets, &it);
	while ((n = hmap_iter_next(&f->buckets, &it)) != NULL) {
		struct bucket *b = hmap_entry(n, struct bucket, node);

		if (only_idle && now - b->last_ms < IDLE_MS)
			continue;
		hmap_remove(&f->buckets, n);
		mem_free(b);
		f->n--;
	}
}

static void filter_rate_limit_exit(void *ctx)
{
	struct filter_rate_limit *f = ctx;

	if (!f)
		return;
	clear(f, 0, false);
	hmap_release(&f->buckets);
	mem_free(f);
}

static int filter_rate_limit_init(const struct plugin_args *a, void **ctx, struct cfg_error *err)
{
	struct filter_rate_limit *f = mem_calloc(1, sizeof(*f));
	const struct filter_rate_limit_conf *c = a->conf;

	(void)err;
	*ctx = f;
	if (!f)
		return -ENOMEM;
	f->conf = c;
	f->burst = (double)(c->burst ? c->burst : c->events_per_second);
	hmap_init(&f->buckets);
	return 0;
}

static struct bucket *bucket_get(struct filter_rate_limit *f, const char *k, size_t kl,
				 uint64_t now)
{
	uint64_t h = hmap_hash(HMAP_SEED, k, kl);
	struct bucket *b;

	for (struct hmap_node *n = hmap_first(&f->buckets, h); n; n = hmap_next(n, h)) {
		b = hmap_entry(n, struct bucket, node);
		if (b->klen == kl && memcmp(b->key, k, kl) == 0)
			return b;
	}
	if (f->n >= (size_t)f->conf->max_sources) {
		clear(f, now, true);
		if (f->n >= (size_t)f->conf->max_sources) {
			clear(f, now, false);
			f->resets++;
		}
	}
	b = mem_alloc(sizeof(*b) + kl + 1);
	if (!b)
		return NULL;
	memset(b, 0, sizeof(*b));
	memcpy(b->key, k, kl);
	b->key[kl] = '\0';
	b->klen = kl;
	b->tokens = f->burst;
	b->last_ms = now;
	if (hmap_insert(&f->buckets, &b->node, h) < 0) {
		mem_free(b);
		return NULL;
	}
	f->n++;
	return b;
}

static enum filter_verdict filter_rate_limit_filter(void *ctx, struct event *ev,
						    struct buf *scratch)
{
	struct filter_rate_limit *f = ctx;
	uint64_t now = filter_rate_limit_clock();
	const char *k = "";
	size_t kl = 0;
	struct bucket *b;

	(void)scratch;
	if (ev->key) {
		k = ev->key;
		kl = ev->key_len;
	} else if (ev->source) {
		k = source_ident(ev->source);
		kl = strlen(k);
	}
	b = bucket_get(f, k, kl, now);
	if (!b) {
		f->passed++;
		return FILTER_KEEP; /* out of memory: never drop for our own failure */
	}
	if (now > b->last_ms) {
		b->tokens +=
			(double)(now - b->last_ms) * (double)f->conf->events_per_second / 1000.0;
		if (b->tokens > f->burst)
			b->tokens = f->burst;
		b->last_ms = now;
	}
	if (b->tokens >= 1.0) {
		b->tokens -= 1.0;
		f->passed++;
		return FILTER_KEEP;
	}
	f->dropped++;
	return FILTER_DROP;
}

static size_t filter_rate_limit_metrics(void *ctx, struct plugin_metric *m, size_t max)
{
	struct filter_rate_limit *f = ctx;
	const struct plugin_metric v[] = {
		{"sluice_agent_filter_rate_limit_passed_total", "counter",
		 "Events within the rate limit.", f->passed, NULL, NULL},
		{"sluice_agent_filter_rate_limit_dropped_total", "counter",
		 "Events over the rate limit, dropped.", f->dropped, NULL, NULL},
		{"sluice_agent_filter_rate_limit_sources", "gauge", "Sources with a bucket.", f->n,
		 NULL, NULL},
		{"sluice_agent_filter_rate_limit_resets_total", "counter",
		 "Times the bucket table was full and cleared.", f->resets, NULL, NULL},
	};

	return plugin_metrics_copy(m, max, v, sizeof(v) / sizeof(v[0]));
}

const struct plugin filter_rate_limit_plugin = {
	.name = "rate_limit",
	.kind = PLUGIN_FILTER,
	.description = "at most N events/s per source; the excess is dropped and counted",
	.options = filter_rate_limit_opts,
	.conf_size = sizeof(struct filter_rate_limit_conf),
	.init = filter_rate_limit_init,
	.filter = filter_rate_limit_filter,
	.metrics = filter_rate_limit_metrics,
	.exit = filter_rate_limit_exit,
};
