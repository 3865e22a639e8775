/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fetch.  A request is served in rounds: gather() reads one slice per
 * partition (releasing the previous round's), and if the total reaches
 * min_bytes, or max_wait has passed, or a partition has an error, the
 * response is encoded with the slices as file pieces; otherwise the request
 * parks and gathers again on the next wake-up from the log listener.
 */
#include <string.h>
#include <unistd.h>

#include "lib/batch.h"
#include "lib/err.h"
#include "lib/log.h"
#include "store/kafka/kafka_api.h"
#include "store/kafka/kafka_authz.h"
#include "store/kafka/kafka_fetch.h"
#include "store/kafka/kafka_req.h"
#include "store/engine/engine.h"
#include "store/quota/quota.h"

#define KERR_FETCH_SESSION_ID_NOT_FOUND 70

void *kafka_fetch_decode(struct kwire_dec *d, int16_t v)
{
	struct kafka_fetch_req *q = kwire_alloc(d, 1, sizeof(*q));

	if (!q)
		return NULL;
	q->replica_id = kwire_get_i32(d);
	q->max_wait_ms = kwire_get_i32(d);
	q->min_bytes = kwire_get_i32(d);
	q->max_bytes = v >= 3 ? kwire_get_i32(d) : INT32_MAX;
	q->isolation_level = v >= 4 ? kwire_get_i8(d) : 0;
	if (v >= 7) {
		q->session_id = kwire_get_i32(d);
		q->session_epoch = kwire_get_i32(d);
	} else {
		q->session_epoch = -1;
	}
	q->ntopics = kwire_get_array(d, 6);
	if (q->ntopics < 0)
		kwire_dec_fail(d);
	q->topics = kwire_alloc(d, q->ntopics, sizeof(*q->topics));
	for (int32_t i = 0; i < q->ntopics && kwire_dec_ok(d); i++) {
		struct kafka_fetch_topic *t = &q->topics[i];

		t->name = kwire_get_str(d);
		t->npartitions = kwire_get_array(d, 16);
		if (t->npartitions < 0)
			kwire_dec_fail(d);
		t->partitions = kwire_alloc(d, t->npartitions, sizeof(*t->partitions));
		for (int32_t j = 0; j < t->npartitions && kwire_dec_ok(d); j++) {
			struct kafka_fetch_partition *p = &t->partitions[j];

			p->index = kwire_get_i32(d);
			p->current_leader_epoch = v >= 9 ? kwire_get_i32(d) : -1;
			p->fetch_offset = kwire_get_i64(d);
			p->last_fetched_epoch = v >= 12 ? kwire_get_i32(d) : -1;
			p->log_start_offset = v >= 5 ? kwire_get_i64(d) : -1;
			p->max_bytes = kwire_get_i32(d);
			kwire_get_tags(d);
		}
		kwire_get_tags(d);
	}
	if (v >= 7) {
		q->nforgotten = kwire_get_array(d, 6);
		for (int32_t i = 0; i < q->nforgotten && kwire_dec_ok(d); i++) {
			int32_t n;

			(void)kwire_get_str(d);
			n = kwire_get_array(d, 4);
			for (int32_t j = 0; j < n && kwire_dec_ok(d); j++)
				(void)kwire_get_i32(d);
			kwire_get_tags(d);
		}
	}
	if (v >= 11)
		q->rack_id = kwire_get_str(d);
	kwire_get_tags(d);
	return kwire_dec_ok(d) ? q : NULL;
}

struct fpart {
	int16_t error;
	int64_t high_watermark;
	int64_t last_stable; /* -1: unknown (an error before any read) */
	int64_t log_start;
	struct engine_slice slice; /* len 0 with fd -1: nothing */
	bool has_slice;
};

struct fetch_state {
	struct fpart **parts; /* [topic][partition] */
	size_t total;
	bool any_error;
};

static void release_slices(struct fetch_state *fs, const struct kafka_fetch_req *q)
{
	for (int32_t i = 0; i < q->ntopics; i++) {
		for (int32_t j = 0; j < q->topics[i].npartitions; j++) {
			struct fpart *fp = &fs->parts[i][j];

			if (fp->has_slice)
				engine_slice_release(&fp->slice);
			fp->has_slice = false;
		}
	}
}

/* Old fetchers cannot take zstd: cut the slice before the first zstd batch.
 * Returns the new length, or -1 when the headers cannot be read. */
static ssize_t cut_before_zstd(const struct engine_slice *s)
{
	uint8_t hdr[BATCH_HEADER_SIZE];
	size_t pos = 0;

	while (pos < s->len) {
		struct batch_info bi;
		ssize_t n = pread(s->fd, hdr, sizeof(hdr), s->pos + (off_t)pos);

		if (n != (ssize_t)sizeof(hdr) || batch_header_parse(hdr, sizeof(hdr), &bi) < 0)
			return -1;
		if (batch_codec(&bi) == CODEC_ZSTD)
			return (ssize_t)pos;
		pos += bi.size;
	}
	return (ssize_t)s->len;
}

static void gather_partition(struct kafka_req *r, const char *topic,
			     const struct kafka_fetch_partition *p, struct fpart *fp, size_t budget,
			     bool first_data)
{
	struct engine_partition_info info;
	size_t pmax = p->max_bytes > 0 ? (size_t)p->max_bytes : 0;
	size_t want = pmax < budget ? pmax : budget;
	int rc;

	fp->error = KERR_NONE;
	fp->high_watermark = -1;
	fp->last_stable = -1;
	fp->log_start = -1;
	if (!kafka_authz_topic(r, topic, ACL_CONSUME)) {
		/* an error answers at once, so this counts once per request */
		fp->error = KERR_TOPIC_AUTHORIZATION_FAILED;
		return;
	}
	if (want == 0 && !first_data) {
		/* nothing fits; report the offsets so the consumer knows its lag */
		rc = engine_partition_info(r->ctx->log, topic, p->index, &info);
		if (rc < 0) {
			fp->error = kafka_api_error(rc);
			return;
		}
		fp->high_watermark = info.visible;
		fp->last_stable = info.last_stable;
		fp->log_start = info.log_start;
		return;
	}
	/* read_committed: never past the last stable offset */
	rc = (((const struct kafka_fetch_req *)r->body)->isolation_level == 1 ? engine_read_stable
									      : engine_read)(
		r->ctx->log, topic, p->index, p->fetch_offset, want ? want : 1, &fp->slice);
	if (rc < 0) {
		fp->error = kafka_api_error(rc);
		if (rc == -ERR_INVALID)
			fp->error = KERR_UNKNOWN_TOPIC_OR_PARTITION;
		if (engine_partition_info(r->ctx->log, topic, p->index, &info) == 0) {
			fp->high_watermark = info.visible;
			fp->last_stable = info.last_stable;
			fp->log_start = info.log_start;
		}
		return;
	}
	fp->has_slice = true;
	fp->high_watermark = fp->slice.high_watermark;
	fp->last_stable = fp->slice.last_stable;
	fp->log_start = fp->slice.log_start;
	/* KIP-74: a batch larger than what is left goes out only as the
	 * response's first data */
	if (fp->slice.len > want && !first_data)
		fp->slice.len = 0;
	if (fp->slice.len > 0 && r->hdr.api_version < 10) {
		ssize_t n = cut_before_zstd(&fp->slice);

		if (n < 0) {
			fp->error = KERR_KAFKA_STORAGE_ERROR;
			n = 0;
		} else if (n == 0) {
			fp->error = KERR_UNSUPPORTED_COMPRESSION_TYPE;
		}
		fp->slice.len = (size_t)n;
	}
	if (fp->slice.len == 0) {
		engine_slice_release(&fp->slice);
		fp->has_slice = false;
	}
}

static void gather(struct kafka_req *r)
{
	struct kafka_fetch_req *q = r->body;
	struct fetch_state *fs = r->hstate;
	size_t max = q->max_bytes > 0 ? (size_t)q->max_bytes : 0;

	release_slices(fs, q);
	fs->total = 0;
	fs->any_error = false;
	for (int32_t i = 0; i < q->ntopics; i++) {
		const struct kafka_fetch_topic *t = &q->topics[i];

		for (int32_t j = 0; j < t->npartitions; j++) {
			struct fpart *fp = &fs->parts[i][j];
			size_t budget = fs->total < max ? max - fs->total : 0;

			gather_partition(r, t->name, &t->partitions[j], fp, budget, fs->total == 0);
			if (fp->has_slice)
				fs->total += fp->slice.len;
			if (fp->error)
				fs->any_error = true;
		}
	}
}

/* ---------------------------------------------------------------- read_committed
 * The transaction fields of a partition's answer, in one place: the last
 * stable offset and the aborted transactions a read_committed consumer
 * (isolation_level 1) skips: the engine's (store/engine/engine.h,
 * "transactions"). */

static int64_t fetch_last_stable_offset(const struct kafka_fetch_req *q, const char *topic,
					int32_t partition, const struct fpart *fp)
{
	(void)q;
	(void)topic;
	(void)partition;
	return fp->last_stable >= 0 ? fp->last_stable : fp->high_watermark;
}

/* At most this many aborted transactions per partition answer: a client
 * fetches again from where the data stopped and gets the next ones. */
#define FETCH_ABORTED_MAX 256

static void fetch_put_aborted_transactions(struct kwire_enc *e, struct engine *log,
					   const struct kafka_fetch_req *q, const char *topic,
					   int32_t partition, const struct fpart *fp)
{
	struct engine_aborted_txn ab[FETCH_ABORTED_MAX];
	int n = 0;

	/* those overlapping the returned range: from its first batch up to the
	 * last stable offset, which the data never passes */
	if (q->isolation_level == 1 && fp->has_slice)
		n = engine_aborted_txns(log, topic, partition, fp->slice.first_offset,
					fp->last_stable, ab, FETCH_ABORTED_MAX);
	if (n > FETCH_ABORTED_MAX)
		n = FETCH_ABORTED_MAX;
	if (n <= 0) {
		kwire_put_array(e, q->isolation_level == 1 ? 0 : -1);
		return;
	}
	kwire_put_array(e, n);
	for (int i = 0; i < n; i++) {
		kwire_put_i64(e, ab[i].producer_id);
		kwire_put_i64(e, ab[i].first_offset);
		kwire_put_tags(e);
	}
}

/* ---------------------------------------------------------------- response */

static void respond(struct kafka_req *r)
{
	struct kafka_fetch_req *q = r->body;
	struct fetch_state *fs = r->hstate;
	int16_t v = r->hdr.api_version;
	struct kwire_enc *e;

	if (!r->throttle_ms)
		r->throttle_ms = quota_charge(r->ctx->quota, r->principal, QUOTA_FETCH, fs->total);
	e = kafka_req_begin(r);
	kwire_put_i32(e, r->throttle_ms);
	if (v >= 7) {
		kwire_put_i16(e, KERR_NONE);
		kwire_put_i32(e, 0); /* session_id: sessionless */
	}
	kwire_put_array(e, q->ntopics);
	for (int32_t i = 0; i < q->ntopics; i++) {
		const struct kafka_fetch_topic *t = &q->topics[i];

		kwire_put_str(e, t->name);
		kwire_put_array(e, t->npartitions);
		for (int32_t j = 0; j < t->npartitions; j++) {
			struct fpart *fp = &fs->parts[i][j];

			kafka_req_note(r, fp->error);
			kwire_put_i32(e, t->partitions[j].index);
			kwire_put_i16(e, fp->error);
			kwire_put_i64(e, fp->high_watermark);
			kwire_put_i64(e, fetch_last_stable_offset(q, t->name,
								  t->partitions[j].index, fp));
			if (v >= 5)
				kwire_put_i64(e, fp->log_start);
			fetch_put_aborted_transactions(e, r->ctx->log, q, t->name,
						       t->partitions[j].index, fp);
			if (v >= 11)
				kwire_put_i32(e, -1); /* preferred_read_replica */
			if (fp->has_slice) {
				atomic_fetch_add_explicit(&r->ctx->stats->fetch_bytes,
							  fp->slice.len, memory_order_relaxed);
				kwire_put_bytes_len(e, (int32_t)fp->slice.len);
				kafka_req_add_slice(r, &fp->slice); /* takes it */
				fp->has_slice = false;
			} else {
				kwire_put_bytes_len(e, 0);
			}
			kwire_put_tags(e);
		}
		kwire_put_tags(e);
	}
	kwire_put_tags(e);
	kafka_req_finish(r);
}

static bool fetch_poll(struct kafka_req *r, bool expired)
{
	struct kafka_fetch_req *q = r->body;
	struct fetch_state *fs = r->hstate;

	gather(r);
	if (!expired && !fs->any_error && fs->total < (size_t)q->min_bytes) {
		/* keep nothing pinned while parked */
		release_slices(fs, q);
		return false;
	}
	respond(r);
	return true;
}

static void fetch_cancel(struct kafka_req *r)
{
	if (r->hstate)
		release_slices(r->hstate, r->body);
}

void kafka_fetch_handle(struct kafka_req *r)
{
	struct kafka_fetch_req *q = r->body;
	struct fetch_state *fs = arena_alloc(&r->arena, sizeof(*fs));

	if (q->session_id != 0 || q->session_epoch > 0) {
		/* we never hand out sessions: the client must fall back to full fetches */
		struct kwire_enc *e = kafka_req_begin(r);

		kwire_put_i32(e, 0);
		kwire_put_i16(e, KERR_FETCH_SESSION_ID_NOT_FOUND);
		kwire_put_i32(e, 0);
		kwire_put_array(e, 0);
		kwire_put_tags(e);
		kafka_req_note(r, KERR_FETCH_SESSION_ID_NOT_FOUND);
		kafka_req_finish(r);
		return;
	}
	if (!fs)
		goto nomem;
	fs->parts =
		arena_calloc(&r->arena, q->ntopics ? (size_t)q->ntopics : 1, sizeof(*fs->parts));
	if (!fs->parts)
		goto nomem;
	for (int32_t i = 0; i < q->ntopics; i++) {
		int32_t n = q->topics[i].npartitions;

		fs->parts[i] = arena_calloc(&r->arena, n ? (size_t)n : 1, sizeof(**fs->parts));
		if (!fs->parts[i])
			goto nomem;
	}
	r->hstate = fs;
	r->cancel = fetch_cancel;
	gather(r);
	r->throttle_ms = quota_delay(r->ctx->quota, r->principal, QUOTA_FETCH);
	if (r->throttle_ms > 0) {
		/* over its fetch quota: offsets but no data, and the throttle (KIP-219) */
		release_slices(fs, q);
		respond(r);
		return;
	}
	if (fs->any_error || fs->total >= (size_t)(q->min_bytes > 0 ? q->min_bytes : 0) ||
	    q->max_wait_ms <= 0) {
		respond(r);
		return;
	}
	release_slices(fs, q);
	/* a client may ask for INT32_MAX ms: kafka.max_fetch_wait bounds it */
	kafka_req_wait(r,
		       q->max_wait_ms < r->ctx->conf->kafka.max_fetch_wait_ms
			       ? q->max_wait_ms
			       : r->ctx->conf->kafka.max_fetch_wait_ms,
		       fetch_poll);
	return;
nomem:
	r->enc.err = -ENOMEM;
	kafka_req_finish(r);
}
