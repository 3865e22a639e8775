/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Idempotent-producer state: a table (lib/hmap) keyed by producer id,
 * each entry holding the epoch and the last 5 batches, with Kafka's rules for
 * duplicates, sequence gaps and epochs, and the snapshot encoding.
 *
 * Snapshot (big-endian; docs/FORMATS.md):
 *   "SLPS" | version u16 (1) | flags u16 (0) | offset i64 | count u32 |
 *   count x (pid i64 | epoch i16 | nbatches u8 | 0 u8 | last_ms i64 |
 *            nbatches x (first_seq i32 | last_seq i32 | base i64 | last i64)) |
 *   crc32c u32 of everything before it
 */
#include <string.h>

#include "lib/crc32c.h"
#include "lib/err.h"
#include "lib/mem.h"
#include "store/engine/producer_state.h"

#define SNAP_MAGIC "SLPS"
#define SNAP_VERSION 1
#define SNAP_HEADER 20
#define SNAP_ENTRY 20
#define SNAP_BATCH 24
_Static_assert(sizeof(SNAP_MAGIC) - 1 == 4, "snapshot magic");
_Static_assert(SNAP_HEADER == 4 + 2 + 2 + 8 + 4,
	       "snapshot header: magic | version u16 | flags u16 | offset i64 | count u32");
_Static_assert(SNAP_ENTRY == 8 + 2 + 1 + 1 + 8,
	       "producer: id i64 | epoch i16 | nbatches u8 | 0 u8 | last append i64");
_Static_assert(SNAP_BATCH == 4 + 4 + 8 + 8,
	       "batch: first seq i32 | last seq i32 | base offset i64 | last offset i64");
/* A snapshot never holds more producers than this; a count past it is
 * corruption, not an allocation. */
#define SNAP_MAX_PRODUCERS (1u << 24)

void producer_state_init(struct producer_state *ps)
{
	hmap_init(&ps->map);
	ps->count = 0;
}

void producer_state_clear(struct producer_state *ps)
{
	struct hmap_iter it;
	struct hmap_node *n;

	hmap_iter_init(&ps->map, &it);
	while ((n = hmap_iter_next(&ps->map, &it)) != NULL) {
		hmap_remove(&ps->map, n);
		mem_free(hmap_entry(n, struct producer_entry, node));
	}
	ps->count = 0;
}

void producer_state_release(struct producer_state *ps)
{
	producer_state_clear(ps);
	hmap_release(&ps->map);
}

int32_t producer_seq_add(int32_t seq, int32_t delta)
{
	/* Kafka's DefaultRecordBatch.incrementSequence: wrap past INT32_MAX to 0 */
	if (seq > INT32_MAX - delta)
		return delta - (INT32_MAX - seq) - 1;
	return seq + delta;
}

static uint64_t hash_pid(int64_t pid)
{
	/* splitmix64 (hmap_hash_u64): producer ids are sequential, spread them */
	return hmap_hash_u64(0, (uint64_t)pid);
}

static struct producer_entry *find(const struct producer_state *ps, int64_t pid)
{
	uint64_t h = hash_pid(pid);

	for (struct hmap_node *n = hmap_first(&ps->map, h); n; n = hmap_next(n, h)) {
		struct producer_entry *e = hmap_entry(n, struct producer_entry, node);

		if (e->pid == pid)
			return e;
	}
	return NULL;
}

/* The entry for pid, created empty when absent. */
static struct producer_entry *get_or_add(struct producer_state *ps, int64_t pid)
{
	struct producer_entry *e = find(ps, pid);

	if (e)
		return e;
	e = mem_calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->pid = pid;
	if (hmap_insert(&ps->map, &e->node, hash_pid(pid)) < 0) {
		mem_free(e);
		return NULL;
	}
	ps->count++;
	return e;
}

int producer_state_check(const struct producer_state *ps, const struct batch_info *bi,
			 struct producer_batch *dup)
{
	const struct producer_entry *e;
	int32_t last_seq, expected;

	if (bi->producer_id < 0)
		return 0;
	e = find(ps, bi->producer_id);
	if (!e || e->nbatches == 0)
		return 0;
	last_seq = producer_seq_add(bi->base_sequence, bi->last_offset_delta);
	if (bi->producer_epoch == e->epoch) {
		for (int i = 0; i < e->nbatches; i++) {
			const struct producer_batch *b = &e->batches[i];

			if (b->first_seq == bi->base_sequence && b->last_seq == last_seq) {
				*dup = *b;
				return 1;
			}
		}
	}
	if (bi->producer_epoch < e->epoch)
		return -ERR_FENCED;
	if (bi->producer_epoch > e->epoch)
		return bi->base_sequence == 0 ? 0 : -ERR_OUT_OF_ORDER;
	expected = producer_seq_add(e->batches[e->nbatches - 1].last_seq, 1);
	return bi->base_sequence == expected ? 0 : -ERR_OUT_OF_ORDER;
}

int producer_state_update(struct producer_state *ps, const struct batch_info *bi,
			  int64_t base_offset, int64_t now_ms)
{
	struct producer_entry *e;
	struct producer_batch *b;

	if (bi->producer_id < 0)
		return 0;
	e = get_or_add(ps, bi->producer_id);
	if (!e)
		return -ENOMEM;
	if (e->nbatches > 0 && bi->producer_epoch != e->epoch)
		e->nbatches = 0; /* a new epoch starts a new history */
	e->epoch = bi->producer_epoch;
	if (e->nbatches == PRODUCER_STATE_BATCHES) {
		memmove(&e->batches[0], &e->batches[1],
			sizeof(e->batches[0]) * (PRODUCER_STATE_BATCHES - 1));
		e->nbatches--;
	}
	b = &e->batches[e->nbatches++];
	b->first_seq = bi->base_sequence;
	b->last_seq = producer_seq_add(bi->base_sequence, bi->last_offset_delta);
	b->base_offset = base_offset;
	b->last_offset = base_offset + bi->last_offset_delta;
	if (now_ms > e->last_ms)
		e->last_ms = now_ms;
	return 0;
}

size_t producer_state_expire(struct producer_state *ps, int64_t now_ms, int64_t max_age_ms)
{
	struct hmap_iter it;
	struct hmap_node *n;
	size_t count = 0;

	hmap_iter_init(&ps->map, &it);
	while ((n = hmap_iter_next(&ps->map, &it)) != NULL) {
		struct producer_entry *e = hmap_entry(n, struct producer_entry, node);

		if (e->last_ms >= now_ms - max_age_ms)
			continue;
		hmap_remove(&ps->map, n);
		mem_free(e);
		count++;
	}
	ps->count -= count;
	return count;
}

int producer_state_serialize(const struct producer_state *ps, int64_t offset, struct buf *out)
{
	size_t start = out->len;
	struct hmap_iter it;
	struct hmap_node *n;
	uint8_t crc[4];
	int rc;

	rc = buf_append(out, SNAP_MAGIC, 4);
	rc = rc ? rc : buf_append_be16(out, SNAP_VERSION);
	rc = rc ? rc : buf_append_be16(out, 0);
	rc = rc ? rc : buf_append_be64(out, (uint64_t)offset);
	rc = rc ? rc : buf_append_be32(out, (uint32_t)ps->count);
	hmap_iter_init(&ps->map, &it);
	while (rc == 0 && (n = hmap_iter_next(&ps->map, &it)) != NULL) {
		const struct producer_entry *e = hmap_entry(n, struct producer_entry, node);

		rc = buf_append_be64(out, (uint64_t)e->pid);
		rc = rc ? rc : buf_append_be16(out, (uint16_t)e->epoch);
		rc = rc ? rc : buf_append_u8(out, e->nbatches);
		rc = rc ? rc : buf_append_u8(out, 0);
		rc = rc ? rc : buf_append_be64(out, (uint64_t)e->last_ms);
		for (int j = 0; rc == 0 && j < e->nbatches; j++) {
			const struct producer_batch *b = &e->batches[j];

			rc = buf_append_be32(out, (uint32_t)b->first_seq);
			rc = rc ? rc : buf_append_be32(out, (uint32_t)b->last_seq);
			rc = rc ? rc : buf_append_be64(out, (uint64_t)b->base_offset);
			rc = rc ? rc : buf_append_be64(out, (uint64_t)b->last_offset);
		}
	}
	if (rc == 0) {
		put_be32(crc, crc32c(0, out->data + start, out->len - start));
		rc = buf_append(out, crc, 4);
	}
	if (rc < 0)
		out->len = start;
	return rc;
}

int producer_state_load(struct producer_state *ps, const void *data, size_t len, int64_t *offset)
{
	struct cursor c;
	uint32_t count;
	int rc = -ERR_CORRUPT;

	producer_state_clear(ps);
	if (len < SNAP_HEADER + 4 ||
	    crc32c(0, data, len - 4) != get_be32((const uint8_t *)data + len - 4))
		return -ERR_CORRUPT;
	cursor_init(&c, data, len - 4);
	if (memcmp(cursor_take(&c, 4), SNAP_MAGIC, 4) != 0 || cursor_be16(&c) != SNAP_VERSION)
		return -ERR_CORRUPT;
	(void)cursor_be16(&c);
	*offset = (int64_t)cursor_be64(&c);
	count = cursor_be32(&c);
	if (*offset < 0 || count > SNAP_MAX_PRODUCERS || count > cursor_left(&c) / SNAP_ENTRY)
		return -ERR_CORRUPT;
	for (uint32_t i = 0; i < count; i++) {
		struct producer_entry *e;
		int64_t pid = (int64_t)cursor_be64(&c);
		int16_t epoch = (int16_t)cursor_be16(&c);
		uint8_t nb = cursor_u8(&c);
		int64_t last_ms;

		(void)cursor_u8(&c);
		last_ms = (int64_t)cursor_be64(&c);
		if (!cursor_ok(&c) || pid < 0 || epoch < 0 || nb == 0 ||
		    nb > PRODUCER_STATE_BATCHES || find(ps, pid))
			goto out;
		e = get_or_add(ps, pid);
		if (!e) {
			rc = -ENOMEM;
			goto out;
		}
		e->epoch = epoch;
		e->last_ms = last_ms;
		for (uint8_t j = 0; j < nb; j++) {
			struct producer_batch *b = &e->batches[j];

			b->first_seq = (int32_t)cursor_be32(&c);
			b->last_seq = (int32_t)cursor_be32(&c);
			b->base_offset = (int64_t)cursor_be64(&c);
			b->last_offset = (int64_t)cursor_be64(&c);
			if (b->first_seq < 0 || b->last_seq < 0 || b->base_offset < 0 ||
			    b->last_offset < b->base_offset || b->base_offset >= *offset)
				goto out;
		}
		e->nbatches = nb;
	}
	if (cursor_ok(&c) && cursor_left(&c) == 0)
		rc = 0;
out:
	if (rc < 0)
		producer_state_clear(ps);
	return rc;
}
