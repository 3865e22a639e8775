/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The record-level admin operations of one partition (store/engine/partition.h)
 * that Kafka's DeleteRecords, ListOffsets(-3) and DescribeProducers need:
 *
 *   log start offset  DeleteRecords moves it forward to any offset up to the
 *                     high watermark, also inside a segment.  It is durable:
 *                     saved in <dir>/log-start-offset (checkpoint.h) before
 *                     the call returns, reloaded by recovery, so a kill -9
 *                     never brings deleted records back.  Whole segments
 *                     below it go at once (partition_retention).
 *   max timestamp     the offset of the first record carrying the
 *                     partition's largest timestamp (KIP-734): the time index
 *                     finds its batch, that one batch is decoded.
 *   producers         a copy of the idempotent-producer table.
 */
#include <string.h>

#include "lib/batch.h"
#include "lib/codec.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "store/engine/checkpoint.h"
#include "store/engine/engine.h"
#include "store/engine/partition.h"

/* A batch decoded for the max-timestamp lookup is at most this big. */
#define MAXTS_DECODE_MAX (64u << 20)

void partition_load_log_start(struct partition *p)
{
	int64_t v;
	int rc = checkpoint_load_log_start(p->dir, &v);

	if (rc == -ENOENT)
		return;
	if (rc < 0) {
		/* keeping the segments' start shows deleted records again: say so */
		log_warn("log %s-%d: ignoring unreadable log-start-offset: %s", p->topic, p->index,
			 err_str(rc));
		return;
	}
	if (v > p->end)
		v = p->end; /* the tail it pointed into was lost (fsync never) */
	if (v > p->log_start)
		p->log_start = v;
}

int partition_delete_records(struct partition *p, int64_t offset, int64_t *low)
{
	int rc = 0;

	pthread_mutex_lock(&p->mu);
	if (p->deleted) {
		rc = -ERR_NOT_FOUND;
		goto unlock;
	}
	if (offset == -1)
		offset = p->visible;
	if (offset < 0 || offset > p->visible) {
		rc = -ERR_OUT_OF_RANGE;
		goto unlock;
	}
	*low = p->log_start;
	if (offset <= p->log_start)
		goto unlock;
	pthread_mutex_unlock(&p->mu);

	/* durable before anyone sees it (the caller serializes these calls) */
	rc = checkpoint_save_log_start(p->dir, offset);
	if (rc < 0) {
		log_error("log %s-%d: saving the log start offset %lld: %s", p->topic, p->index,
			  (long long)offset, err_str(rc));
		return rc == -ENOENT ? -ERR_NOT_FOUND : -ERR_STORAGE;
	}
	pthread_mutex_lock(&p->mu);
	if (p->deleted) {
		rc = -ERR_NOT_FOUND;
		goto unlock;
	}
	if (offset > p->log_start)
		p->log_start = offset;
	*low = p->log_start;
unlock:
	pthread_mutex_unlock(&p->mu);
	return rc;
}

/* Decode the batch at byte pos of fd: among its records at offsets >= from,
 * *max is the largest timestamp and *at the first offset whose timestamp is
 * want (-1: none); *last its last offset. */
static int decode_batch(int fd, off_t pos, int64_t from, int64_t want, int64_t *at, int64_t *max,
			int64_t *last)
{
	uint8_t head[BATCH_HEADER_SIZE];
	struct batch_info bi;
	struct batch_iter it;
	struct codec_ctx *cc = NULL;
	struct record r;
	struct buf b;
	ssize_t got;
	int rc;

	*at = -1;
	*max = -1;
	buf_init(&b, BATCH_MAX_SIZE);
	memset(&it, 0, sizeof(it));
	got = fs_pread_full(fd, head, sizeof(head), pos);
	rc = got == (ssize_t)sizeof(head) ? batch_header_parse(head, sizeof(head), &bi)
					  : -ERR_STORAGE;
	if (rc < 0)
		goto out;
	*last = batch_last_offset(&bi);
	if (bi.attributes & BATCH_ATTR_LOG_APPEND_TIME) { /* one time for all records */
		*max = bi.max_ts;
		if (bi.max_ts == want && *last >= from)
			*at = from > bi.base_offset ? from : bi.base_offset;
		goto out;
	}
	rc = buf_reserve(&b, bi.size);
	if (rc < 0)
		goto out;
	got = fs_pread_full(fd, b.data, bi.size, pos);
	if (got != (ssize_t)bi.size) {
		rc = -ERR_STORAGE;
		goto out;
	}
	cc = codec_ctx_new();
	if (!cc) {
		rc = -ENOMEM;
		goto out;
	}
	rc = batch_iter_init(&it, b.data, bi.size, cc, MAXTS_DECODE_MAX, false);
	if (rc < 0)
		goto out;
	while ((rc = batch_iter_next(&it, &r)) == 1) {
		if (r.offset < from)
			continue;
		if (r.timestamp > *max)
			*max = r.timestamp;
		if (*at < 0 && r.timestamp == want)
			*at = r.offset;
	}
out:
	batch_iter_release(&it);
	codec_ctx_free(cc);
	buf_release(&b);
	return rc < 0 ? rc : 0;
}

/* The largest timestamp of the records in [from, to) (one segment), by the
 * batch headers; the batch holding from is decoded, its earlier records
 * being deleted. */
static int scan_max(struct partition *p, int64_t from, int64_t to, int64_t *max)
{
	int64_t off = from;
	int rc = 0;

	while (off < to && rc == 0) {
		struct engine_slice s;
		off_t pos, end;

		rc = partition_read(p, off, 1u << 20, false, &s);
		if (rc < 0 || s.len == 0) {
			if (rc == 0)
				engine_slice_release(&s);
			break;
		}
		pos = s.pos;
		end = s.pos + (off_t)s.len;
		while (pos < end && rc == 0) {
			uint8_t head[BATCH_HEADER_SIZE];
			struct batch_info bi;
			int64_t at, m, last;

			if (fs_pread_full(s.fd, head, sizeof(head), pos) != (ssize_t)sizeof(head) ||
			    batch_header_parse(head, sizeof(head), &bi) < 0) {
				rc = -ERR_CORRUPT;
				break;
			}
			m = bi.max_ts;
			if (bi.base_offset < from)
				rc = decode_batch(s.fd, pos, from, INT64_MIN, &at, &m, &last);
			if (m > *max)
				*max = m;
			off = batch_last_offset(&bi) + 1;
			pos += bi.size;
		}
		engine_slice_release(&s);
	}
	return rc;
}

int partition_max_timestamp(struct partition *p, int64_t *offset, int64_t *ts)
{
	int64_t max = -1, s0_max = -1, s0_base = 0, s0_next = 0, from;
	bool straddle = false, first = true;
	int rc = 0;

	*offset = -1;
	*ts = -1;
	pthread_mutex_lock(&p->mu);
	if (p->deleted) {
		pthread_mutex_unlock(&p->mu);
		return -ERR_NOT_FOUND;
	}
	from = p->log_start;
	for (size_t i = 0; i < p->nsegs; i++) {
		const struct segment *s = p->segs[i];

		if (s->size == 0 || s->next_offset <= from)
			continue;
		if (first) {
			s0_base = s->base;
			s0_next = s->next_offset;
			s0_max = s->max_ts;
			straddle = from > s0_base;
			first = false;
		} else if (s->max_ts > max) {
			max = s->max_ts;
		}
	}
	pthread_mutex_unlock(&p->mu);
	if (first)
		return 0; /* empty */
	/* DeleteRecords cut into the first segment: its max may be deleted */
	if (straddle) {
		s0_max = -1;
		rc = scan_max(p, from, s0_next, &s0_max);
		if (rc < 0)
			return rc == -ERR_OUT_OF_RANGE ? 0 : rc;
	}
	if (s0_max > max)
		max = s0_max;
	if (max < 0)
		return 0; /* no record has a timestamp */
	/* the first batch that may hold it; a batch straddling from (header max
	 * from deleted records) is passed over */
	for (int tries = 0; tries < 8; tries++) {
		struct engine_slice s;
		int64_t b, at, m, last;

		rc = partition_offset_for_time_from(p, max, from, &b);
		if (rc < 0)
			return rc;
		rc = partition_read(p, b, 1, false, &s);
		if (rc < 0)
			return rc == -ERR_OUT_OF_RANGE ? 0 : rc;
		if (s.len == 0) { /* not visible (yet) */
			engine_slice_release(&s);
			return 0;
		}
		rc = decode_batch(s.fd, s.pos, b, max, &at, &m, &last);
		engine_slice_release(&s);
		if (rc < 0)
			return rc == -ERR_TRUNCATED || rc == -ERR_UNSUPPORTED ? -ERR_CORRUPT : rc;
		if (at >= 0) {
			*offset = at;
			*ts = max;
			return 0;
		}
		from = last + 1;
	}
	return 0;
}

int partition_producers(struct partition *p, struct engine_producer **out, size_t *n)
{
	struct hmap_iter it;
	struct hmap_node *node;
	size_t i = 0;
	int rc = 0;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&p->mu);
	if (p->deleted) {
		rc = -ERR_NOT_FOUND;
		goto unlock;
	}
	if (p->producers.count == 0)
		goto unlock;
	*out = mem_calloc(p->producers.count, sizeof(**out));
	if (!*out) {
		rc = -ENOMEM;
		goto unlock;
	}
	hmap_iter_init(&p->producers.map, &it);
	while ((node = hmap_iter_next(&p->producers.map, &it)) != NULL && i < p->producers.count) {
		const struct producer_entry *e = hmap_entry(node, struct producer_entry, node);
		struct engine_producer *o = &(*out)[i++];

		o->id = e->pid;
		o->epoch = e->epoch;
		o->last_seq = e->nbatches ? e->batches[e->nbatches - 1].last_seq : -1;
		o->last_ms = e->last_ms;
		o->txn_start = -1;
		for (size_t k = 0; k < p->txn.nopen; k++)
			if (p->txn.open[k].pid == e->pid)
				o->txn_start = p->txn.open[k].first_offset;
	}
	*n = i;
unlock:
	pthread_mutex_unlock(&p->mu);
	return rc;
}
