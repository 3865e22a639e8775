/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-principal byte-rate quotas: a hash table of principals, each with a
 * token bucket per direction (see quota.h).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/config.h"
#include "lib/hmap.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/prom.h"
#include "store/quota/quota.h"

static const char *const dir_names[2] = {"produce", "fetch"};

struct bucket {
	uint64_t rate; /* bytes per second; 0: unlimited */
	double tokens; /* may go negative: debt */
	uint64_t last_ms;
	uint64_t bytes;
	uint64_t throttle_ms;
	uint64_t throttled;
	uint64_t rejected;
};

struct principal {
	struct hmap_node node;
	char name[QUOTA_NAME_MAX + 1];
	uint64_t used_ms;
	struct bucket b[2];
};

struct quota {
	pthread_mutex_t mu;
	bool on;
	uint64_t def[2];
	const struct cfg_kv *over[2];
	int64_t max_throttle_ms;
	struct hmap map;
	struct principal *other; /* shared by newcomers when the table is full of debt */
	uint64_t evicted;
};

static uint64_t rate_for(const struct quota *q, const char *name, int dir)
{
	const struct cfg_kv *kv = q->over[dir];

	for (size_t i = 0; kv && i < kv->n; i++) {
		uint64_t v;

		if (strcmp(kv->keys[i], name) == 0 && cfg_parse_size(kv->vals[i], &v) == 0)
			return v;
	}
	return q->def[dir];
}

struct quota *quota_new(const struct store_config *conf)
{
	struct quota *q = mem_calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	pthread_mutex_init(&q->mu, NULL);
	hmap_init(&q->map);
	q->def[QUOTA_PRODUCE] = conf->quotas.produce_bytes_per_sec;
	q->def[QUOTA_FETCH] = conf->quotas.fetch_bytes_per_sec;
	q->over[QUOTA_PRODUCE] = &conf->quotas.produce_overrides;
	q->over[QUOTA_FETCH] = &conf->quotas.fetch_overrides;
	q->max_throttle_ms = conf->quotas.max_throttle_ms;
	q->on = q->def[0] || q->def[1] || conf->quotas.produce_overrides.n ||
		conf->quotas.fetch_overrides.n;
	return q;
}

void quota_free(struct quota *q)
{
	struct hmap_iter it;
	struct hmap_node *n;

	if (!q)
		return;
	hmap_iter_init(&q->map, &it);
	while ((n = hmap_iter_next(&q->map, &it)) != NULL) {
		hmap_remove(&q->map, n);
		mem_free(hmap_entry(n, struct principal, node));
	}
	hmap_release(&q->map);
	mem_free(q->other);
	pthread_mutex_destroy(&q->mu);
	mem_free(q);
}

static void bucket_init(struct bucket *b, uint64_t rate, uint64_t now)
{
	b->rate = rate;
	b->tokens = (double)rate;
	b->last_ms = now;
}

static void refill(struct bucket *b, uint64_t now)
{
	if (now > b->last_ms) {
		b->tokens += (double)b->rate * (double)(now - b->last_ms) / 1000.0;
		if (b->tokens > (double)b->rate)
			b->tokens = (double)b->rate; /* burst: one second's worth */
	}
	b->last_ms = now;
}

static int32_t debt_ms(const struct quota *q, const struct bucket *b)
{
	double ms;

	if (!b->rate || b->tokens >= 0)
		return 0;
	ms = -b->tokens * 1000.0 / (double)b->rate + 1;
	return ms > (double)q->max_throttle_ms ? (int32_t)q->max_throttle_ms : (int32_t)ms;
}

static struct principal *principal_new(struct quota *q, const char *name, uint64_t now)
{
	struct principal *p = mem_calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->used_ms = now;
	for (int d = 0; d < 2; d++)
		bucket_init(&p->b[d], rate_for(q, p->name, d), now);
	return p;
}

/* Full table: forget the longest-unused principal without debt. */
static bool evict_one(struct quota *q, uint64_t now)
{
	struct principal *victim = NULL;
	struct hmap_iter it;
	struct hmap_node *n;

	hmap_iter_init(&q->map, &it);
	while ((n = hmap_iter_next(&q->map, &it)) != NULL) {
		struct principal *p = hmap_entry(n, struct principal, node);

		refill(&p->b[0], now);
		refill(&p->b[1], now);
		if (p->b[0].tokens < 0 || p->b[1].tokens < 0)
			continue;
		if (!victim || p->used_ms < victim->used_ms)
			victim = p;
	}
	if (!victim)
		return false;
	hmap_remove(&q->map, &victim->node);
	mem_free(victim);
	q->evicted++;
	return true;
}

/* Under q->mu.  NULL only when out of memory. */
static struct principal *lookup(struct quota *q, const char *name, uint64_t now)
{
	size_t len = strnlen(name, QUOTA_NAME_MAX);
	uint64_t h = hmap_hash(HMAP_SEED, name, len);
	struct principal *p;

	for (struct hmap_node *n = hmap_first(&q->map, h); n; n = hmap_next(n, h)) {
		p = hmap_entry(n, struct principal, node);
		if (strncmp(p->name, name, QUOTA_NAME_MAX) == 0) {
			p->used_ms = now;
			return p;
		}
	}
	if (q->map.count >= QUOTA_MAX_PRINCIPALS && !evict_one(q, now)) {
		if (!q->other)
			q->other = principal_new(q, "<other>", now);
		return q->other;
	}
	p = principal_new(q, name, now);
	if (p)
		hmap_insert(&q->map, &p->node, h);
	return p;
}

int32_t quota_charge(struct quota *q, const char *principal, enum quota_dir dir, uint64_t n)
{
	uint64_t now;
	struct principal *p;
	int32_t ms = 0;

	if (!q || !q->on)
		return 0;
	now = clock_mono_ms();
	pthread_mutex_lock(&q->mu);
	p = lookup(q, principal ? principal : "", now);
	if (p) {
		struct bucket *b = &p->b[dir];

		b->bytes += n;
		if (b->rate) {
			refill(b, now);
			b->tokens -= (double)n;
			ms = debt_ms(q, b);
			if (ms > 0) {
				b->throttled++;
				b->throttle_ms += (uint64_t)ms;
			}
		}
	}
	pthread_mutex_unlock(&q->mu);
	return ms;
}

int32_t quota_delay(struct quota *q, const char *principal, enum quota_dir dir)
{
	uint64_t now;
	struct principal *p;
	int32_t ms = 0;

	if (!q || !q->on)
		return 0;
	now = clock_mono_ms();
	pthread_mutex_lock(&q->mu);
	p = lookup(q, principal ? principal : "", now);
	if (p) {
		refill(&p->b[dir], now);
		ms = debt_ms(q, &p->b[dir]);
	}
	pthread_mutex_unlock(&q->mu);
	return ms;
}

void quota_rejected(struct quota *q, const char *principal, enum quota_dir dir)
{
	struct principal *p;

	if (!q || !q->on)
		return;
	pthread_mutex_lock(&q->mu);
	p = lookup(q, principal ? principal : "", clock_mono_ms());
	if (p)
		p->b[dir].rejected++;
	pthread_mutex_unlock(&q->mu);
}

static void render_one(struct buf *out, const char *family, const struct principal *p, int what)
{
	for (int d = 0; d < 2; d++) {
		const struct bucket *b = &p->b[d];
		char lb[QUOTA_NAME_MAX * 2 + 64];

		prom_labels(lb, sizeof(lb), "principal", p->name, "direction", dir_names[d], NULL);
		if (what == 0)
			prom_u64(out, family, lb, b->bytes);
		else if (what == 1)
			prom_f64(out, family, lb, (double)b->throttle_ms / 1000.0);
		else if (what == 2)
			prom_u64(out, family, lb, b->throttled);
		else
			prom_u64(out, family, lb, b->rejected);
	}
}

void quota_render(struct buf *out, void *arg)
{
	static const char *const fam[4][2] = {
		{"sluice_quota_bytes_total", "bytes charged to each principal"},
		{"sluice_quota_throttle_seconds_total", "throttle time given to each principal"},
		{"sluice_quota_throttled_total", "Kafka responses with a throttle_time_ms > 0"},
		{"sluice_quota_rejected_total", "HTTP requests refused 429 for the quota"},
	};
	struct quota *q = arg;

	if (!q->on)
		return;
	pthread_mutex_lock(&q->mu);
	for (int w = 0; w < 4; w++) {
		struct hmap_iter it;
		struct hmap_node *n;

		prom_family(out, fam[w][0], "counter", fam[w][1]);
		hmap_iter_init(&q->map, &it);
		while ((n = hmap_iter_next(&q->map, &it)) != NULL)
			render_one(out, fam[w][0], hmap_entry(n, struct principal, node), w);
		if (q->other)
			render_one(out, fam[w][0], q->other, w);
	}
	prom_family(out, "sluice_quota_principals", "gauge", "principals tracked by quotas");
	prom_u64(out, "sluice_quota_principals", NULL, q->map.count);
	prom_family(out, "sluice_quota_principals_evicted_total", "counter",
		    "principals forgotten to stay within the table's bound");
	prom_u64(out, "sluice_quota_principals_evicted_total", NULL, q->evicted);
	pthread_mutex_unlock(&q->mu);
}
