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
#include "store/kafka/kmsg_gen.h"
#include "store/kafka/kschema.h"
#include "store/engine/engine.h"
#include "store/quota/quota.h"

#define KERR_FETCH_SESSION_ID_NOT_FOUND 70

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
	const char **names;   /* per topic; NULL: an unknown topic id (v13+) */
	size_t total;
	bool any_error;
};

static void release_slices(struct fetch_state *fs, const struct kmsg_fetch_req *q)
{
	for (int32_t i = 0; i < q->n_topics; i++) {
		for (int32_t j = 0; j < q->topics[i].n_partitions; j++) {
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
			     const struct kmsg_fetch_req_fetch_partition *p, struct fpart *fp,
			     size_t budget, bool first_data)
{
	struct engine_partition_info info;
	size_t pmax = p->partition_max_bytes > 0 ? (size_t)p->partition_max_bytes : 0;
	size_t want = pmax < budget ? pmax : budget;
	int rc;

	fp->error = KERR_NONE;
	fp->high_watermark = -1;
	fp->last_stable = -1;
	fp->log_start = -1;
	if (!topic) {
		fp->error = KERR_UNKNOWN_TOPIC_ID;
		return;
	}
	if (!kafka_authz_topic(r, topic, ACL_CONSUME)) {
		/* an error answers at once, so this counts once per request */
		fp->error = KERR_TOPIC_AUTHORIZATION_FAILED;
		return;
	}
	if (want == 0 && !first_data) {
		/* nothing fits; report the offsets so the consumer knows its lag */
		rc = engine_partition_info(r->ctx->log, topic, p->partition, &info);
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
	rc = (((const struct kmsg_fetch_req *)r->body)->isolation_level == 1 ? engine_read_stable
									     : engine_read)(
		r->ctx->log, topic, p->partition, p->fetch_offset, want ? want : 1, &fp->slice);
	if (rc < 0) {
		fp->error = kafka_api_error(rc);
		if (rc == -ERR_INVALID)
			fp->error = KERR_UNKNOWN_TOPIC_OR_PARTITION;
		if (engine_partition_info(r->ctx->log, topic, p->partition, &info) == 0) {
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
	const struct kmsg_fetch_req *q = r->body;
	struct fetch_state *fs = r->hstate;
	size_t max = q->max_bytes > 0 ? (size_t)q->max_bytes : 0;

	release_slices(fs, q);
	fs->total = 0;
	fs->any_error = false;
	for (int32_t i = 0; i < q->n_topics; i++) {
		const struct kmsg_fetch_req_fetch_topic *t = &q->topics[i];

		for (int32_t j = 0; j < t->n_partitions; j++) {
			struct fpart *fp = &fs->parts[i][j];
			size_t budget = fs->total < max ? max - fs->total : 0;

			gather_partition(r, fs->names[i], &t->partitions[j], fp, budget,
					 fs->total == 0);
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
 * (q->isolation_level 1) skips: the engine's (store/engine/engine.h,
 * "transactions"). */

/* At most this many aborted transactions per partition answer: a client
 * fetches again from where the data stopped and gets the next ones. */
#define FETCH_ABORTED_MAX 256

/* 0, or -ENOMEM (no answer then: without its aborted list a read_committed
 * consumer would take aborted records). */
static int fetch_txn_fields(struct kafka_req *r, const struct kmsg_fetch_req *q, const char *topic,
			    int32_t partition, const struct fpart *fp,
			    struct kmsg_fetch_resp_partition_data *o)
{
	struct engine_aborted_txn ab[FETCH_ABORTED_MAX];
	int n = 0;

	o->last_stable_offset = fp->last_stable >= 0 ? fp->last_stable : fp->high_watermark;
	o->n_aborted_transactions = -1; /* null: none (read_uncommitted) */
	o->aborted_transactions = NULL;
	if (q->isolation_level != 1 || !topic)
		return 0;
	/* those overlapping the returned range: from its first batch up to the
	 * last stable offset, which the data never passes */
	if (fp->has_slice)
		n = engine_aborted_txns(r->ctx->log, topic, partition, fp->slice.first_offset,
					fp->last_stable, ab, FETCH_ABORTED_MAX);
	if (n > FETCH_ABORTED_MAX)
		n = FETCH_ABORTED_MAX;
	o->n_aborted_transactions = n > 0 ? n : 0;
	if (n <= 0)
		return 0;
	o->aborted_transactions = kmsg_new(&r->arena, kmsg_fetch_resp_aborted_transaction, n);
	if (!o->aborted_transactions)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		o->aborted_transactions[i].producer_id = ab[i].producer_id;
		o->aborted_transactions[i].first_offset = ab[i].first_offset;
	}
	return 0;
}

/* ---------------------------------------------------------------- response */

/* The encoder's records hook: a partition's log slice goes out as a file
 * piece (sendfile), never copied; kafka_req_add_slice takes it over. */
static void put_slice(struct kwire_enc *e, const struct kbytes *b, void *ctx)
{
	struct kafka_req *r = ctx;
	struct fpart *fp = (struct fpart *)b->ref;

	atomic_fetch_add_explicit(&r->ctx->stats->fetch_bytes, fp->slice.len, memory_order_relaxed);
	kwire_put_bytes_len(e, (int32_t)fp->slice.len);
	kafka_req_add_slice(r, &fp->slice);
	fp->has_slice = false;
}

static struct kmsg_fetch_resp *build(struct kafka_req *r)
{
	const struct kmsg_fetch_req *q = r->body;
	struct fetch_state *fs = r->hstate;
	struct kmsg_fetch_resp *m = kmsg_new(&r->arena, kmsg_fetch_resp, 1);
	int32_t nt = q->n_topics;

	if (!m)
		return NULL;
	m->throttle_time_ms = r->throttle_ms;
	m->n_responses = nt;
	m->responses = kmsg_new(&r->arena, kmsg_fetch_resp_fetchable_topic_response, nt ? nt : 1);
	if (!m->responses)
		return NULL;
	for (int32_t i = 0; i < nt; i++) {
		const struct kmsg_fetch_req_fetch_topic *t = &q->topics[i];
		struct kmsg_fetch_resp_fetchable_topic_response *o = &m->responses[i];
		int32_t np = t->n_partitions;

		o->topic = t->topic;       /* v0-12 */
		o->topic_id = t->topic_id; /* v13+ */
		o->n_partitions = np;
		o->partitions = kmsg_new(&r->arena, kmsg_fetch_resp_partition_data, np ? np : 1);
		if (!o->partitions)
			return NULL;
		for (int32_t j = 0; j < np; j++) {
			struct fpart *fp = &fs->parts[i][j];
			struct kmsg_fetch_resp_partition_data *op = &o->partitions[j];

			kafka_req_note(r, fp->error);
			op->partition_index = t->partitions[j].partition;
			op->error_code = fp->error;
			op->high_watermark = fp->high_watermark;
			op->log_start_offset = fp->log_start;
			if (fetch_txn_fields(r, q, fs->names[i], op->partition_index, fp, op) < 0)
				return NULL;
			op->records.p = NULL;
			op->records.n = fp->has_slice ? (int32_t)fp->slice.len : 0;
			op->records.ref = fp->has_slice ? fp : NULL;
		}
	}
	return m;
}

static void respond(struct kafka_req *r)
{
	struct fetch_state *fs = r->hstate;
	struct kmsg_fetch_resp *m;

	if (!r->throttle_ms)
		r->throttle_ms = quota_charge(r->ctx->quota, r->principal, QUOTA_FETCH, fs->total);
	m = build(r);
	if (!m) {
		kafka_req_begin(r)->err = -ENOMEM;
		kafka_req_finish(r);
		return;
	}
	r->records_fn = put_slice;
	r->records_ctx = r;
	kafka_req_respond(r, m);
}

static bool fetch_poll(struct kafka_req *r, bool expired)
{
	const struct kmsg_fetch_req *q = r->body;
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

/* Per topic the name to read: the request's (v0-12) or the one its topic
 * id names (v13+; NULL when no topic has that id: UNKNOWN_TOPIC_ID). */
static int resolve_names(struct kafka_req *r, const struct kmsg_fetch_req *q,
			 struct fetch_state *fs)
{
	fs->names =
		arena_calloc(&r->arena, q->n_topics ? (size_t)q->n_topics : 1, sizeof(*fs->names));
	if (!fs->names)
		return -ENOMEM;
	for (int32_t i = 0; i < q->n_topics; i++) {
		char buf[TOPIC_NAME_MAX + 1];
		char *name;

		if (r->hdr.api_version < 13) {
			fs->names[i] = q->topics[i].topic;
			continue;
		}
		if (engine_topic_by_id(r->ctx->log, q->topics[i].topic_id.b, buf, sizeof(buf)) < 0)
			continue;
		name = arena_strndup(&r->arena, buf, strlen(buf));
		if (!name)
			return -ENOMEM;
		fs->names[i] = name;
	}
	return 0;
}

void kafka_fetch_handle(struct kafka_req *r)
{
	const struct kmsg_fetch_req *q = r->body;
	struct fetch_state *fs;

	if (q->session_id != 0 || q->session_epoch > 0) {
		/* we never hand out sessions: the client must fall back to full fetches */
		struct kmsg_fetch_resp *m = kmsg_new(&r->arena, kmsg_fetch_resp, 1);

		if (!m)
			goto nomem;
		m->error_code = KERR_FETCH_SESSION_ID_NOT_FOUND;
		kafka_req_note(r, KERR_FETCH_SESSION_ID_NOT_FOUND);
		kafka_req_respond(r, m);
		return;
	}
	fs = arena_alloc(&r->arena, sizeof(*fs));
	if (!fs)
		goto nomem;
	memset(fs, 0, sizeof(*fs));
	fs->parts =
		arena_calloc(&r->arena, q->n_topics ? (size_t)q->n_topics : 1, sizeof(*fs->parts));
	if (!fs->parts || resolve_names(r, q, fs) < 0)
		goto nomem;
	for (int32_t i = 0; i < q->n_topics; i++) {
		int32_t n = q->topics[i].n_partitions;

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
