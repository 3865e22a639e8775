/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Batcher.  Builders live for the batcher's life (one per topic-partition
 * seen), each with its own delay timer, so a source's cached builder pointer
 * never dangles.  Record buffers cycle through a small pool: a finished
 * builder hands its buffer to the job and takes a spare, the job's buffer
 * comes back when the writer is done with it, so steady state allocates
 * nothing per batch.
 */
#include <string.h>

#include "agent/pipeline/batcher.h"
#include "agent/spool/spool_entry.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/murmur2.h"

struct slot {
	struct source *src; /* NULL: superseded */
	uint64_t ordinal;
	uint8_t flags;
	bool has_meta;
	bool urgent;     /* a new source's registration: spooled at once */
	struct buf meta; /* per-event meta, when the input gives one */
};

struct builder {
	struct hmap_node node;
	struct batcher *bt;
	char *topic; /* NULL for the positions builder */
	int32_t partition;
	int32_t next_seq;
	struct batch_builder bb;
	struct slot *slots;
	size_t nslots;
	size_t capslots;
	struct buf forgets; /* encoded FORGET positions */
	uint32_t nforgets;
	struct evloop_timer timer;
	bool timer_on;
	uint64_t deadline; /* evloop ms the timer closes the batch at */
};

struct batcher {
	struct evloop *loop;
	struct batcher_opts o;
	struct hmap builders;
	struct builder posb;
	size_t mem;
};

static void on_timer(struct evloop_timer *t);
static void builder_finish(struct batcher *bt, struct builder *b);

static uint64_t tp_hash(const char *topic, int32_t partition)
{
	return hmap_hash_u64(hmap_hash(HMAP_SEED, topic, strlen(topic)), (uint32_t)partition);
}

static void builder_init(struct builder *b, struct batcher *bt)
{
	memset(b, 0, sizeof(*b));
	b->bt = bt;
	batch_builder_init(&b->bb, BATCH_MAX_SIZE);
	buf_init(&b->forgets, SPOOL_MAX_ENTRY);
}

static void slots_drop(struct builder *b)
{
	for (size_t i = 0; i < b->nslots; i++) {
		struct slot *sl = &b->slots[i];

		if (sl->src) {
			struct source_out *so = &sl->src->out[b->bt->o.out_idx];

			if (so->slot_builder == b) {
				so->slot_builder = NULL;
				so->slot = -1;
			}
			source_unref(sl->src);
			sl->src = NULL;
		}
		buf_release(&sl->meta);
	}
	b->nslots = 0;
}

static void builder_release(struct builder *b)
{
	if (b->timer_on)
		evloop_timer_stop(&b->timer);
	slots_drop(b);
	mem_free(b->slots);
	batch_builder_release(&b->bb);
	buf_release(&b->forgets);
	mem_free(b->topic);
}

static struct builder *builder_get(struct batcher *bt, const char *topic, int32_t partition)
{
	uint64_t h = tp_hash(topic, partition);
	struct builder *b;

	for (struct hmap_node *n = hmap_first(&bt->builders, h); n; n = hmap_next(n, h)) {
		b = hmap_entry(n, struct builder, node);
		if (b->partition == partition && strcmp(b->topic, topic) == 0)
			return b;
	}
	b = mem_alloc(sizeof(*b));
	if (!b)
		return NULL;
	builder_init(b, bt);
	b->topic = mem_strdup(topic);
	b->partition = partition;
	if (!b->topic || hmap_insert(&bt->builders, &b->node, h) < 0) {
		builder_release(b);
		mem_free(b);
		return NULL;
	}
	return b;
}

int batcher_new(struct evloop *loop, const struct batcher_opts *o, const struct spool_table *seq,
		struct batcher **out)
{
	struct batcher *bt = mem_calloc(1, sizeof(*bt));

	*out = NULL;
	if (!bt)
		return -ENOMEM;
	bt->loop = loop;
	bt->o = *o;
	hmap_init(&bt->builders);
	builder_init(&bt->posb, bt);
	if (seq) {
		struct hmap_iter it;
		struct hmap_node *n;

		hmap_iter_init(&seq->seq, &it);
		while ((n = hmap_iter_next(&seq->seq, &it)) != NULL) {
			const struct spool_tseq *s = hmap_entry(n, struct spool_tseq, node);
			struct builder *b = builder_get(bt, s->topic, s->partition);

			if (!b) {
				batcher_free(bt);
				return -ENOMEM;
			}
			b->next_seq = s->next_seq;
		}
	}
	*out = bt;
	return 0;
}

void batcher_free(struct batcher *bt)
{
	struct hmap_iter it;
	struct hmap_node *n;

	if (!bt)
		return;
	hmap_iter_init(&bt->builders, &it);
	while ((n = hmap_iter_next(&bt->builders, &it)) != NULL) {
		struct builder *b = hmap_entry(n, struct builder, node);

		hmap_remove(&bt->builders, n);
		builder_release(b);
		mem_free(b);
	}
	hmap_release(&bt->builders);
	builder_release(&bt->posb);
	mem_free(bt);
}

size_t batcher_mem(const struct batcher *bt)
{
	return bt->mem;
}

static void timer_arm(struct batcher *bt, struct builder *b)
{
	if (b->timer_on)
		return;
	b->timer_on = true;
	b->deadline = evloop_now(bt->loop) + (uint64_t)bt->o.max_delay_ms;
	evloop_timer_start(bt->loop, &b->timer, (uint64_t)bt->o.max_delay_ms, 0, on_timer, b);
}

/* Close b on the next loop turn (registrations made in the same turn, a
 * whole scan's new files, still share one entry). */
static void timer_now(struct batcher *bt, struct builder *b)
{
	uint64_t now = evloop_now(bt->loop);

	if (b->timer_on && b->deadline <= now)
		return;
	if (b->timer_on)
		evloop_timer_stop(&b->timer);
	b->timer_on = true;
	b->deadline = now;
	evloop_timer_start(bt->loop, &b->timer, 0, 0, on_timer, b);
}

/* No record waits in a batch longer than max_delay_ms after it was read:
 * a record read earlier (read_ms) brings the batch's deadline forward.
 * True when that deadline has passed already (the caller closes the batch). */
static bool timer_arm_read(struct batcher *bt, struct builder *b, uint64_t read_ms)
{
	uint64_t now = evloop_now(bt->loop), deadline;

	if (!read_ms || read_ms >= now) {
		timer_arm(bt, b);
		return false;
	}
	deadline = read_ms + (uint64_t)bt->o.max_delay_ms;
	if (deadline <= now)
		return true;
	if (b->timer_on && b->deadline <= deadline)
		return false;
	if (b->timer_on)
		evloop_timer_stop(&b->timer);
	b->timer_on = true;
	b->deadline = deadline;
	evloop_timer_start(bt->loop, &b->timer, deadline - now, 0, on_timer, b);
	return false;
}

static void on_timer(struct evloop_timer *t)
{
	struct builder *b = t->data;

	b->timer_on = false;
	builder_finish(b->bt, b);
}

/* The slot of s in b, moving it there from the positions builder if needed. */
static struct slot *slot_get(struct batcher *bt, struct builder *b, struct source *s)
{
	struct source_out *so = &s->out[bt->o.out_idx];
	struct slot *sl;
	uint8_t flags = 0;
	bool urgent = false;

	if (so->slot_builder == b)
		return &b->slots[so->slot];
	if (so->slot_builder) {
		/* Only the positions builder can hold it: the new slot carries a
		 * later ordinal and supersedes that one. */
		struct slot *old = &so->slot_builder->slots[so->slot];

		flags = old->flags;
		urgent = old->urgent;
		old->src = NULL;
		source_unref(s);
		so->slot_builder = NULL;
	}
	if (b->nslots == b->capslots) {
		size_t cap = b->capslots ? b->capslots * 2 : 8;
		struct slot *v = mem_realloc(b->slots, cap * sizeof(*v));

		if (!v)
			return NULL;
		b->slots = v;
		b->capslots = cap;
	}
	sl = &b->slots[b->nslots];
	memset(sl, 0, sizeof(*sl));
	buf_init(&sl->meta, SPOOL_MAX_META);
	sl->src = s;
	sl->flags = flags;
	sl->urgent = urgent;
	if (urgent) /* the registration moved here: it must not wait max_delay_ms */
		timer_now(bt, b);
	sl->ordinal = so->pos; /* never record less than was recorded before */
	source_ref(s);
	so->slot_builder = b;
	so->slot = (int32_t)b->nslots++;
	return sl;
}

static void take_buffer(struct batcher *bt, struct builder *b)
{
	if (!b->bb.records.cap && bt->o.writer)
		writer_buf_take(bt->o.writer, &b->bb.records);
}

/* Encode every live slot into j->items; only when all fit do the source
 * references move into the job, so a failure leaves the builder intact. */
static int encode_slots(struct batcher *bt, struct builder *b, struct job *j)
{
	size_t live = 0;
	int rc = 0;

	for (size_t i = 0; i < b->nslots; i++)
		live += b->slots[i].src != NULL;
	j->srcs = mem_calloc(live ? live : 1, sizeof(*j->srcs));
	if (!j->srcs)
		return -ENOMEM;
	for (size_t i = 0; i < b->nslots && rc == 0; i++) {
		struct slot *sl = &b->slots[i];
		struct source *s = sl->src;
		struct spool_pos p;

		if (!s)
			continue;
		p.flags = sl->flags;
		p.input = s->input_id;
		p.input_len = strlen(s->input_id);
		p.ident = s->ident;
		p.ident_len = strlen(s->ident);
		p.ordinal = sl->ordinal;
		p.origin = s->origin;
		p.meta = sl->has_meta ? sl->meta.data : s->meta;
		p.meta_len = sl->has_meta ? sl->meta.len : s->meta_len;
		rc = spool_pos_encode(&j->items, &p);
		j->nitems++;
	}
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < b->nslots; i++) {
		struct slot *sl = &b->slots[i];
		struct source *s = sl->src;

		if (!s)
			continue;
		j->srcs[j->nsrcs].src = s;
		j->srcs[j->nsrcs].ordinal = sl->ordinal;
		j->nsrcs++;
		sl->src = NULL; /* the job holds the reference now */
		s->out[bt->o.out_idx].slot_builder = NULL;
		s->out[bt->o.out_idx].slot = -1;
	}
	return 0;
}

static void builder_finish(struct batcher *bt, struct builder *b)
{
	struct job *j;
	int rc;

	if (b->timer_on) {
		evloop_timer_stop(&b->timer);
		b->timer_on = false;
	}
	if (b == &bt->posb) {
		size_t live = b->nforgets;

		for (size_t i = 0; i < b->nslots; i++)
			live += b->slots[i].src != NULL;
		if (live == 0) {
			slots_drop(b);
			return;
		}
	} else if (b->bb.count == 0) {
		return;
	}
	if (b != &bt->posb)
		builder_finish(bt, &bt->posb);
	j = job_new();
	if (!j)
		goto oom;
	j->spool = bt->o.spool;
	j->owner = bt->o.owner;
	j->type = b == &bt->posb ? SPOOL_POSITIONS : SPOOL_BATCH;
	if (j->type == SPOOL_BATCH) {
		j->topic = mem_strdup(b->topic);
		if (!j->topic)
			goto oom;
	}
	rc = b->nforgets ? buf_append(&j->items, b->forgets.data, b->forgets.len) : 0;
	j->nitems = b->nforgets;
	if (rc == 0)
		rc = encode_slots(bt, b, j);
	if (rc < 0)
		goto oom;
	if (j->type == SPOOL_BATCH) {
		struct batch_builder tmp = j->bb;

		j->partition = b->partition;
		j->params.codec = bt->o.codec;
		j->params.level = bt->o.level;
		j->params.base_sequence = b->next_seq;
		b->next_seq = spool_seq_add(b->next_seq, b->bb.count);
		/* Swap the records into the job; the builder starts on a spare. */
		j->bb = b->bb;
		b->bb = tmp;
		bt->mem -= j->bb.records.len;
	}
	j->mem = j->bb.records.cap;
	slots_drop(b);
	buf_reset(&b->forgets);
	b->nforgets = 0;
	bt->o.submit(j, bt->o.submit_arg);
	return;
oom:
	/* Everything is still in the builder; the timer tries again.  The
	 * inputs pause on the memory cap long before this in practice. */
	job_free(j);
	log_error("batcher: out of memory closing a batch; retrying");
	timer_arm(bt, b);
}

/* An event with its own key or headers: the slow path, out of line so the
 * per-record path keeps a small stack frame. */
static __attribute__((noinline)) int add_record_full(struct builder *b, struct source *s,
						     const struct event *ev)
{
	struct record_header hdrs[3 + EVENT_MAX_HEADERS];
	const void *key = ev->key ? ev->key : s->key;
	size_t key_len = ev->key ? ev->key_len : s->key_len;
	size_t nh = 3;

	memcpy(hdrs, s->hdrs, sizeof(s->hdrs));
	for (size_t i = 0; i < ev->nheaders && i < EVENT_MAX_HEADERS; i++)
		hdrs[nh++] = ev->headers[i];
	return batch_builder_add(&b->bb, ev->ts, key, (int32_t)key_len, ev->value,
				 (int32_t)ev->value_len, hdrs, nh);
}

/* The record into b: the source's encoded key and headers when the event
 * brings none of its own (the common case, no sizing or encoding per record). */
static int add_record(struct builder *b, struct source *s, const struct event *ev)
{
	if (!ev->key && ev->nheaders == 0 && s->enc.len > s->enc_key_len)
		return batch_builder_add_encoded(&b->bb, ev->ts, s->enc.data, s->enc_key_len,
						 ev->value, (int32_t)ev->value_len,
						 s->enc.data + s->enc_key_len,
						 s->enc.len - s->enc_key_len);
	return add_record_full(b, s, ev);
}

int batcher_add(struct batcher *bt, struct source *s, const char *topic, const struct event *ev)
{
	struct source_out *so = &s->out[bt->o.out_idx];
	size_t before;
	struct builder *b = so->builder;
	struct slot *sl;
	int64_t max_ts;
	int rc;

	if (!b) {
		int32_t parts =
			bt->o.partitions ? bt->o.partitions(bt->o.partitions_arg, topic) : 1;

		b = builder_get(bt, topic,
				parts > 1 ? murmur2_partition(s->key, s->key_len, parts) : 0);
		if (!b)
			return -ENOMEM;
		so->builder = b;
	}
	if (b->bb.count >= bt->o.max_records)
		builder_finish(bt, b);
	take_buffer(bt, b);
	/* The slot first: a record must never sit in a batch without the
	 * position that covers it. */
	sl = slot_get(bt, b, s);
	if (!sl)
		return -ENOMEM;
	/* Add first and take it back in the rare case it overflows the batch:
	 * cheaper than sizing every record before adding it. */
	before = b->bb.records.len;
	max_ts = b->bb.max_ts;
	rc = add_record(b, s, ev);
	if (b->bb.count > (rc == 0 ? 1 : 0) &&
	    (rc == -ERR_TOO_LARGE || (rc == 0 && b->bb.records.len > bt->o.max_bytes))) {
		if (rc == 0) {
			b->bb.records.len = before;
			b->bb.count--;
			b->bb.max_ts = max_ts;
		}
		builder_finish(bt, b);
		take_buffer(bt, b);
		sl = slot_get(bt, b, s);
		if (!sl)
			return -ENOMEM;
		before = b->bb.records.len;
		rc = add_record(b, s, ev);
	}
	if (rc < 0)
		return rc;
	bt->mem += b->bb.records.len - before;
	if (ev->ordinal > sl->ordinal)
		sl->ordinal = ev->ordinal;
	if (ev->ordinal > so->pos)
		so->pos = ev->ordinal;
	if (ev->meta) {
		buf_reset(&sl->meta);
		sl->has_meta = buf_append(&sl->meta, ev->meta, ev->meta_len) == 0;
	}
	if (b->bb.records.len >= bt->o.max_bytes || b->bb.count >= bt->o.max_records ||
	    timer_arm_read(bt, b, ev->read_ms))
		builder_finish(bt, b);
	return 0;
}

int batcher_position(struct batcher *bt, struct source *s, uint64_t ordinal, uint8_t flags)
{
	return batcher_position_meta(bt, s, ordinal, flags, NULL, 0);
}

int batcher_position_meta(struct batcher *bt, struct source *s, uint64_t ordinal, uint8_t flags,
			  const void *meta, size_t meta_len)
{
	struct source_out *so = &s->out[bt->o.out_idx];
	struct builder *b = so->slot_builder ? so->slot_builder : &bt->posb;
	struct slot *sl = slot_get(bt, b, s);

	if (!sl)
		return -ENOMEM;
	if (ordinal > sl->ordinal)
		sl->ordinal = ordinal;
	if (ordinal > so->pos)
		so->pos = ordinal;
	sl->flags |= flags;
	if (meta) {
		buf_reset(&sl->meta);
		sl->has_meta = buf_append(&sl->meta, meta, meta_len) == 0;
	}
	if (b == &bt->posb)
		timer_arm(bt, b);
	return 0;
}

int batcher_register(struct batcher *bt, struct source *s, uint64_t ordinal)
{
	struct source_out *so = &s->out[bt->o.out_idx];
	int rc = batcher_position(bt, s, ordinal, 0);

	if (rc < 0)
		return rc;
	so->slot_builder->slots[so->slot].urgent = true;
	timer_now(bt, so->slot_builder);
	return 0;
}

int batcher_forget(struct batcher *bt, const char *input, const char *ident)
{
	struct spool_pos p = {
		.flags = SPOOL_POS_FORGET,
		.input = input,
		.input_len = strlen(input),
		.ident = ident,
		.ident_len = strlen(ident),
	};
	int rc = spool_pos_encode(&bt->posb.forgets, &p);

	if (rc < 0)
		return rc;
	bt->posb.nforgets++;
	timer_arm(bt, &bt->posb);
	return 0;
}

void batcher_flush(struct batcher *bt)
{
	struct hmap_iter it;
	struct hmap_node *n;

	hmap_iter_init(&bt->builders, &it);
	while ((n = hmap_iter_next(&bt->builders, &it)) != NULL)
		builder_finish(bt, hmap_entry(n, struct builder, node));
	builder_finish(bt, &bt->posb);
}
