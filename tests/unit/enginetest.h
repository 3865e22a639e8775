/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers for the log engine's tests: build numbered RecordBatch v2 batches
 * (each record's value is "seq=N"), open a log on a temp directory with
 * small segments, and read a partition back batch by batch through
 * engine_read() slices, the way the network layers will.
 */
#ifndef SLUICE_TESTS_UNIT_LOGTEST_H
#define SLUICE_TESTS_UNIT_LOGTEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/batch.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "store/engine/engine.h"

/* A batch of n records "seq=<first+i>" with timestamps ts.. (1 ms apart). */
static inline int lt_batch(struct buf *out, int64_t first, int n, int64_t ts, int64_t pid,
			   int16_t epoch, int32_t seq, size_t pad)
{
	struct batch_builder bb;
	struct batch_params bp;
	char *val = malloc(pad + 64);
	int rc = val ? 0 : -ENOMEM;

	batch_builder_init(&bb, 64u << 20);
	for (int i = 0; i < n && rc == 0; i++) {
		int len = snprintf(val, 64, "seq=%lld ", (long long)(first + i));

		memset(val + len, 'x', pad);
		len += (int)pad;
		rc = batch_builder_add(&bb, ts + i, "k", 1, val, len, NULL, 0);
	}
	free(val);
	batch_params_init(&bp);
	bp.producer_id = pid;
	bp.producer_epoch = epoch;
	bp.base_sequence = seq;
	buf_reset(out);
	if (rc == 0)
		rc = batch_builder_finish(&bb, NULL, &bp, out);
	batch_builder_release(&bb);
	return rc;
}

static inline void lt_config(struct engine_config *c, const char *dir, enum engine_fsync mode)
{
	engine_config_init(c);
	c->data_dir = dir;
	c->fsync = mode;
	c->fsync_interval_ms = 20;
	c->defaults.segment_bytes = 16384;
	c->index_interval_bytes = 512;
	c->retention_check_ms = 3600000; /* tests call retention explicitly */
	/* and keep their data: the batches carry old timestamps (1970, 2023),
	 * which the 7-day default would delete.  A test that wants retention
	 * sets it. */
	c->defaults.retention_ms = -1;
}

/* Append and wait until visible; returns the base offset or a negative code. */
static inline int64_t lt_append(struct engine *log, const char *topic, int32_t p, struct buf *b,
				bool *dup)
{
	struct engine_append_result r;
	int rc = engine_append(log, topic, p, b->data, b->len, &r);

	if (rc < 0)
		return rc;
	if (dup)
		*dup = r.duplicate;
	rc = engine_wait_visible(log, topic, p, r.last_offset, 10000);
	return rc < 0 ? rc : r.base_offset;
}

/* Callback per batch read back: bytes of the whole batch. */
typedef int (*lt_batch_fn)(const uint8_t *p, size_t n, void *arg);

/* Read every visible batch of a partition from offset `from` with slices of
 * at most max_bytes; validates each batch.  Returns batches read or < 0. */
static inline long lt_read_all(struct engine *log, const char *topic, int32_t p, int64_t from,
			       size_t max_bytes, lt_batch_fn fn, void *arg)
{
	int64_t off = from;
	long n = 0;

	for (;;) {
		struct engine_slice s;
		struct buf b;
		size_t at = 0;
		int rc = engine_read(log, topic, p, off, max_bytes, &s);

		if (rc < 0)
			return rc;
		if (s.len == 0) {
			engine_slice_release(&s);
			return n;
		}
		buf_init(&b, 0);
		if (buf_reserve(&b, s.len) < 0 ||
		    fs_pread_full(s.fd, b.data, s.len, s.pos) != (ssize_t)s.len) {
			buf_release(&b);
			engine_slice_release(&s);
			return -EIO;
		}
		b.len = s.len;
		while (at < b.len) {
			struct batch_info bi;

			rc = batch_next(b.data + at, b.len - at, &bi);
			if (rc == 0)
				rc = batch_validate(b.data + at, bi.size, &bi);
			if (rc == 0 && fn)
				rc = fn(b.data + at, bi.size, arg);
			if (rc < 0) {
				buf_release(&b);
				engine_slice_release(&s);
				return rc;
			}
			off = batch_last_offset(&bi) + 1;
			at += bi.size;
			n++;
		}
		buf_release(&b);
		engine_slice_release(&s);
	}
}

/* The seq=N numbers of a batch's records, in order, into seqs (max). */
static inline int lt_seqs(const uint8_t *p, size_t n, int64_t *seqs, int max)
{
	struct batch_iter it;
	struct record r;
	int k = 0, rc;

	rc = batch_iter_init(&it, p, n, NULL, 1 << 20, true);
	while (rc == 0) {
		char tmp[32];
		size_t l;

		rc = batch_iter_next(&it, &r);
		if (rc != 1)
			break;
		l = r.value_len < 31 ? (size_t)r.value_len : 31;
		memcpy(tmp, r.value, l);
		tmp[l] = '\0';
		if (k < max)
			seqs[k] = strtoll(tmp + 4, NULL, 10);
		k++;
		rc = 0;
	}
	batch_iter_release(&it);
	return rc < 0 ? rc : k;
}

static inline void lt_rmrf(const char *dir)
{
	(void)fs_rmtree(dir);
}

#endif
