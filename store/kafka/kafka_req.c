/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Request objects: response assembly (memory pieces from one growing buffer,
 * file pieces from log slices), completion, and the wait list that long-poll
 * Fetch and durable Produce park on.
 */
#include <string.h>

#include "lib/clock.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "store/kafka/kafka_req.h"

const double kafka_lat_bounds_ms[KAFKA_LAT_BUCKETS] = {0.1, 0.25, 0.5, 1,   2.5, 5,    10,
						       25,  50,   100, 250, 500, 1000, 5000};

void kafka_latency_add(struct kafka_latency *l, uint64_t ns)
{
	double ms = (double)ns / 1e6;
	size_t i = 0;

	while (i < KAFKA_LAT_BUCKETS && ms > kafka_lat_bounds_ms[i])
		i++;
	atomic_fetch_add_explicit(&l->bucket[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&l->count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&l->sum_us, ns / 1000, memory_order_relaxed);
}

struct kafka_req *kafka_req_new(struct kafka_ctx *ctx, uint8_t *frame, size_t len)
{
	struct kafka_req *r = mem_calloc(1, sizeof(*r));
	size_t out_max;

	if (!r) {
		mem_free(frame);
		return NULL;
	}
	r->ctx = ctx;
	r->frame = frame;
	r->frame_len = len;
	r->start_ns = clock_mono_ns();
	arena_init(&r->arena, kafka_api_arena_bound(len));
	out_max = ctx->conf ? (size_t)ctx->conf->kafka.max_output_bytes : 0;
	buf_init(&r->out, out_max > (1u << 20) ? out_max : (1u << 20));
	return r;
}

static void unwait(struct kafka_req *r)
{
	struct kafka_ctx *ctx = r->ctx;

	if (!r->waiting)
		return;
	r->waiting = false;
	evloop_timer_stop(&r->timer);
	if (r->wprev)
		r->wprev->wnext = r->wnext;
	else
		ctx->waiters = r->wnext;
	if (r->wnext)
		r->wnext->wprev = r->wprev;
	r->wnext = NULL;
	r->wprev = NULL;
}

void kafka_req_free(struct kafka_req *r)
{
	if (!r)
		return;
	unwait(r);
	if (r->cancel && !r->done)
		r->cancel(r);
	for (size_t i = 0; i < r->npieces; i++)
		if (r->pieces[i].file)
			engine_slice_release(&r->pieces[i].slice);
	mem_free(r->pieces);
	buf_release(&r->out);
	arena_release(&r->arena);
	mem_free(r->frame);
	mem_free(r);
}

struct kwire_enc *kafka_req_begin(struct kafka_req *r)
{
	r->started = true;
	buf_reset(&r->out);
	kwire_enc_init(&r->enc, &r->out, false);
	kwire_put_i32(&r->enc, 0); /* size, patched by finish */
	kwire_put_i32(&r->enc, r->hdr.correlation_id);
	/* Response header v1 (tags) for flexible versions, except ApiVersions,
	 * whose response header stays v0 so any client can parse it. */
	r->enc.flex = r->hdr.flex;
	if (r->hdr.flex && r->hdr.api_key != KAFKA_API_VERSIONS)
		kwire_put_tags(&r->enc);
	r->enc.records_fn = r->records_fn;
	r->enc.records_ctx = r->records_ctx;
	return &r->enc;
}

void kafka_req_respond(struct kafka_req *r, const void *obj)
{
	struct kwire_enc *e = kafka_req_begin(r);

	if (!r->api || !r->api->resp || !obj) {
		if (!e->err)
			e->err = -ERR_INVALID;
	} else {
		kschema_encode(r->api->resp, r->hdr.api_version, obj, e);
	}
	kafka_req_finish(r);
}

static int push_piece(struct kafka_req *r, const struct kafka_piece *p)
{
	if (r->npieces == r->cappieces) {
		size_t cap = r->cappieces ? r->cappieces * 2 : 8;
		struct kafka_piece *v = mem_realloc(r->pieces, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		r->pieces = v;
		r->cappieces = cap;
	}
	r->pieces[r->npieces++] = *p;
	return 0;
}

/* Close the memory piece that runs from the end of the last piece to out.len. */
static int push_mem(struct kafka_req *r)
{
	size_t start = 0;
	struct kafka_piece p;

	for (size_t i = r->npieces; i > 0; i--) {
		if (!r->pieces[i - 1].file) {
			start = r->pieces[i - 1].off + r->pieces[i - 1].len;
			break;
		}
	}
	if (r->out.len == start)
		return 0;
	memset(&p, 0, sizeof(p));
	p.off = start;
	p.len = r->out.len - start;
	p.slice.fd = -1;
	return push_piece(r, &p);
}

void kafka_req_add_slice(struct kafka_req *r, struct engine_slice *s)
{
	struct kafka_piece p;
	int rc;

	rc = push_mem(r);
	memset(&p, 0, sizeof(p));
	p.file = true;
	p.len = s->len;
	p.slice = *s;
	if (rc == 0)
		rc = push_piece(r, &p);
	if (rc < 0) {
		engine_slice_release(s);
		if (!r->enc.err)
			r->enc.err = rc;
	} else {
		r->out_total += s->len;
	}
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

void kafka_req_finish(struct kafka_req *r)
{
	struct kafka_ctx *ctx = r->ctx;
	int rc;

	unwait(r);
	rc = r->enc.err ? r->enc.err : push_mem(r);
	if (rc == 0) {
		size_t total = r->out_total + r->out.len;

		if (total - 4 > INT32_MAX) {
			rc = -ERR_TOO_LARGE;
		} else {
			kwire_patch_i32(&r->enc, 0, (int32_t)(total - 4));
			r->out_total = total;
		}
	}
	r->done = true;
	if (rc < 0) {
		log_warn("kafka: cannot encode %s v%d response: %s", kafka_api_name(r->hdr.api_key),
			 r->hdr.api_version, err_str(rc));
		ctx->req_fail(r);
		return;
	}
	ctx->req_done(r);
}

void kafka_req_finish_silent(struct kafka_req *r)
{
	unwait(r);
	r->done = true;
	r->no_response = true;
	r->out_total = 0;
	r->ctx->req_done(r);
}

static void on_timer(struct evloop_timer *t)
{
	struct kafka_req *r = t->data;

	/* The poll must finish the request; unwait guards a poll that forgot. */
	if (!r->poll(r, true))
		unwait(r);
}

void kafka_req_wait(struct kafka_req *r, int64_t timeout_ms,
		    bool (*poll)(struct kafka_req *r, bool expired))
{
	struct kafka_ctx *ctx = r->ctx;

	if (timeout_ms < 0)
		timeout_ms = 0;
	r->poll = poll;
	if (!r->waiting) {
		r->waiting = true;
		r->wprev = NULL;
		r->wnext = ctx->waiters;
		if (ctx->waiters)
			ctx->waiters->wprev = r;
		ctx->waiters = r;
	}
	evloop_timer_start(ctx->loop, &r->timer, (uint64_t)timeout_ms, 0, on_timer, r);
}

void kafka_ctx_wake(struct kafka_ctx *ctx)
{
	struct kafka_req *r = ctx->waiters;

	/* A poll only ever finishes (and unlinks) its own request, and the
	 * server defers connection teardown, so the saved next stays valid. */
	while (r) {
		struct kafka_req *next = r->wnext;

		if (r->poll(r, false))
			unwait(r);
		r = next;
	}
}
