/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Idle and frame timeouts, the store-wide request-memory budget and quota
 * mutes of Kafka connections (see kafka_limits.h).  One sweep timer walks
 * the connections a few times per timeout; request memory is reserved when
 * a large frame's size is read and returned when the connection or the
 * frame's request is freed, which wakes the connections waiting for it.
 */
#include <inttypes.h>

#include "lib/prom.h"
#include "store/kafka/kafka_limits.h"

#define SWEEP_MIN_MS 20
#define SWEEP_MAX_MS 1000

static uint64_t now_ms(const struct kafka_limits *kl)
{
	return evloop_now(kl->loop);
}

static void gauge(struct kafka_limits *kl)
{
	atomic_store_explicit(&kl->mem_gauge, kl->mem_used, memory_order_relaxed);
}

static void wait_unlink(struct kafka_limits_conn *lc)
{
	struct kafka_limits *kl = lc->kl;

	if (!lc->mem_wait)
		return;
	if (lc->wprev)
		lc->wprev->wnext = lc->wnext;
	else
		kl->waiters = lc->wnext;
	if (lc->wnext)
		lc->wnext->wprev = lc->wprev;
	lc->wnext = lc->wprev = NULL;
	lc->mem_wait = false;
}

/* Memory came back: let every waiter try again (each re-checks the budget). */
static void wake_waiters(struct kafka_limits *kl)
{
	while (!kl->stopping && kl->waiters && kl->mem_used < kl->mem_max) {
		struct kafka_limits_conn *lc = kl->waiters;

		wait_unlink(lc);
		kl->resume(lc);
	}
}

static void release_mem(struct kafka_limits *kl, size_t n)
{
	kl->mem_used = n < kl->mem_used ? kl->mem_used - n : 0;
	gauge(kl);
	wake_waiters(kl);
}

static void sweep_one(struct kafka_limits *kl, struct kafka_limits_conn *lc, uint64_t now)
{
	unsigned st = kl->state(lc);

	if (lc->mem_wait || lc->muted_until_ms > now) {
		/* held by us (memory, quota): neither idle nor slow */
		lc->last_io_ms = now;
		if (lc->frame_start_ms)
			lc->frame_start_ms = now;
		return;
	}
	if (st & KAFKA_LIMITS_READS_OFF) {
		/* our pause, not the client's slowness: restart its frame clock */
		if (lc->frame_start_ms)
			lc->frame_start_ms = now;
		if (!(st & KAFKA_LIMITS_BUSY))
			goto idle;
		return;
	}
	if (kl->frame_ms && lc->frame_start_ms && now - lc->frame_start_ms >= kl->frame_ms) {
		if (kl->close(lc, "request not complete within kafka.frame_timeout"))
			atomic_fetch_add_explicit(&kl->frame_timeouts, 1, memory_order_relaxed);
		return;
	}
idle:
	if (kl->idle_ms && !(st & KAFKA_LIMITS_BUSY) && now - lc->last_io_ms >= kl->idle_ms) {
		if (kl->close(lc, "idle for kafka.idle_timeout"))
			atomic_fetch_add_explicit(&kl->idle_closed, 1, memory_order_relaxed);
	}
}

static void on_sweep(struct evloop_timer *t)
{
	struct kafka_limits *kl = t->data;
	uint64_t now = now_ms(kl);
	struct kafka_limits_conn *lc = kl->conns;

	/* close() only marks connections: the list stays intact meanwhile */
	while (lc) {
		struct kafka_limits_conn *next = lc->next;

		sweep_one(kl, lc, now);
		lc = next;
	}
}

int kafka_limits_init(struct kafka_limits *kl, struct evloop *loop, const struct store_config *conf)
{
	uint64_t tick = SWEEP_MAX_MS;

	kl->loop = loop;
	kl->idle_ms = (uint64_t)conf->kafka.idle_timeout_ms;
	kl->frame_ms = (uint64_t)conf->kafka.frame_timeout_ms;
	kl->mem_max = (size_t)conf->kafka.max_queued_request_bytes;
	if (kl->idle_ms && kl->idle_ms / 4 < tick)
		tick = kl->idle_ms / 4;
	if (kl->frame_ms && kl->frame_ms / 4 < tick)
		tick = kl->frame_ms / 4;
	if (tick < SWEEP_MIN_MS)
		tick = SWEEP_MIN_MS;
	if (kl->idle_ms || kl->frame_ms)
		evloop_timer_start(loop, &kl->sweep, tick, tick, on_sweep, kl);
	return 0;
}

void kafka_limits_release(struct kafka_limits *kl)
{
	kl->stopping = true;
	evloop_timer_stop(&kl->sweep);
	for (struct kafka_limits_conn *lc = kl->conns; lc; lc = lc->next)
		evloop_timer_stop(&lc->mute_timer);
}

void kafka_limits_conn_init(struct kafka_limits *kl, struct kafka_limits_conn *lc)
{
	lc->kl = kl;
	lc->last_io_ms = now_ms(kl);
	lc->prev = NULL;
	lc->next = kl->conns;
	if (kl->conns)
		kl->conns->prev = lc;
	kl->conns = lc;
}

void kafka_limits_conn_release(struct kafka_limits_conn *lc)
{
	struct kafka_limits *kl = lc->kl;

	if (!kl)
		return;
	evloop_timer_stop(&lc->mute_timer);
	wait_unlink(lc);
	if (lc->prev)
		lc->prev->next = lc->next;
	else
		kl->conns = lc->next;
	if (lc->next)
		lc->next->prev = lc->prev;
	lc->kl = NULL;
	release_mem(kl, lc->frame_mem + lc->req_mem);
}

void kafka_limits_io(struct kafka_limits_conn *lc)
{
	lc->last_io_ms = now_ms(lc->kl);
}

void kafka_limits_frame(struct kafka_limits_conn *lc, bool partial)
{
	if (!partial)
		lc->frame_start_ms = 0;
	else if (!lc->frame_start_ms)
		lc->frame_start_ms = now_ms(lc->kl);
}

bool kafka_limits_frame_begin(struct kafka_limits_conn *lc, size_t size)
{
	struct kafka_limits *kl = lc->kl;

	if (kl->mem_used < kl->mem_max) {
		kl->mem_used += size;
		lc->frame_mem += size;
		gauge(kl);
		return true;
	}
	if (!lc->mem_wait) {
		lc->mem_wait = true;
		lc->wprev = NULL;
		lc->wnext = kl->waiters;
		if (kl->waiters)
			kl->waiters->wprev = lc;
		kl->waiters = lc;
		atomic_fetch_add_explicit(&kl->mem_paused, 1, memory_order_relaxed);
		log_write_rl(&kl->rl, 5000, LOG_LVL_WARN,
			     "kafka: %zu bytes of large requests buffered "
			     "(kafka.max_queued_request_bytes %zu): pausing reads",
			     kl->mem_used, kl->mem_max);
	}
	return false;
}

void kafka_limits_frame_done(struct kafka_limits_conn *lc, size_t len)
{
	struct kafka_limits *kl = lc->kl;
	size_t held = lc->frame_mem;

	lc->frame_mem = 0;
	lc->req_mem += len;
	kl->mem_used += len;
	release_mem(kl, held);
}

void kafka_limits_req_freed(struct kafka_limits_conn *lc, size_t len)
{
	if (!lc->kl)
		return;
	if (len > lc->req_mem)
		len = lc->req_mem;
	lc->req_mem -= len;
	release_mem(lc->kl, len);
}

bool kafka_limits_blocked(const struct kafka_limits_conn *lc)
{
	return lc->mem_wait || (lc->muted_until_ms && now_ms(lc->kl) < lc->muted_until_ms);
}

static void on_unmute(struct evloop_timer *t)
{
	struct kafka_limits_conn *lc = t->data;

	lc->muted_until_ms = 0;
	lc->kl->resume(lc);
}

void kafka_limits_mute(struct kafka_limits_conn *lc, int32_t ms)
{
	uint64_t until;

	if (ms <= 0 || !lc->kl || lc->kl->stopping)
		return;
	until = now_ms(lc->kl) + (uint64_t)ms;
	if (until <= lc->muted_until_ms)
		return;
	lc->muted_until_ms = until;
	atomic_fetch_add_explicit(&lc->kl->muted, 1, memory_order_relaxed);
	evloop_timer_start(lc->kl->loop, &lc->mute_timer, (uint64_t)ms, 0, on_unmute, lc);
}

void kafka_limits_hangup(struct kafka_limits_conn *lc)
{
	atomic_fetch_add_explicit(&lc->kl->hangups, 1, memory_order_relaxed);
}

static void counter(struct buf *out, const char *name, const char *type, const char *help,
		    atomic_uint_fast64_t *v)
{
	prom_family(out, name, type, help);
	prom_u64(out, name, NULL, atomic_load_explicit(v, memory_order_relaxed));
}

void kafka_limits_render(struct buf *out, struct kafka_limits *kl)
{
	counter(out, "sluice_kafka_idle_closed_total", "counter",
		"Kafka connections closed after kafka.idle_timeout without traffic.",
		&kl->idle_closed);
	counter(out, "sluice_kafka_frame_timeouts_total", "counter",
		"Kafka connections closed with a request not complete within kafka.frame_timeout.",
		&kl->frame_timeouts);
	counter(out, "sluice_kafka_hangups_total", "counter",
		"Kafka connections found hung up (EPOLLRDHUP) while their reads were paused.",
		&kl->hangups);
	counter(out, "sluice_kafka_request_memory_paused_total", "counter",
		"Times a connection paused its reads at kafka.max_queued_request_bytes.",
		&kl->mem_paused);
	counter(out, "sluice_kafka_request_memory_bytes", "gauge",
		"Bytes of large requests buffered, against kafka.max_queued_request_bytes.",
		&kl->mem_gauge);
	counter(out, "sluice_kafka_muted_total", "counter",
		"Times a connection was muted for a quota throttle (KIP-219).", &kl->muted);
}
