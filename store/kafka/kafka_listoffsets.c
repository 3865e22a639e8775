/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ListOffsets (store/kafka/kafka_listoffsets.h).  Field order follows
 * ListOffsetsRequest/Response.json; version conditions stand next to each
 * field; flexible versions (v6+) add the tag sections.  A special timestamp
 * a version does not know (-3 below v7, -4 below v8) is INVALID_REQUEST, as
 * any other negative one.
 */
#include <string.h>
#include <unistd.h>

#include "lib/batch.h"
#include "lib/codec.h"
#include "lib/err.h"
#include "store/auth/auth.h"
#include "store/engine/engine.h"
#include "store/kafka/kafka_api.h"
#include "store/kafka/kafka_authz.h"
#include "store/kafka/kafka_listoffsets.h"
#include "store/kafka/kafka_req.h"

#define TS_SCAN_MAX_BATCH (64u << 20)
#define LO_LATEST -1
#define LO_EARLIEST -2
#define LO_MAX_TIMESTAMP -3
#define LO_EARLIEST_LOCAL -4

void *kafka_listoffsets_decode(struct kwire_dec *d, int16_t v)
{
	struct kafka_listoffsets_req *q = kwire_alloc(d, 1, sizeof(*q));

	if (!q)
		return NULL;
	q->replica_id = kwire_get_i32(d);
	q->isolation_level = v >= 2 ? kwire_get_i8(d) : 0;
	q->ntopics = kwire_get_array(d, 6);
	if (q->ntopics < 0)
		kwire_dec_fail(d);
	q->topics = kwire_alloc(d, q->ntopics, sizeof(*q->topics));
	for (int32_t i = 0; i < q->ntopics && kwire_dec_ok(d); i++) {
		struct kafka_listoffsets_topic *t = &q->topics[i];

		t->name = kwire_get_str(d);
		t->npartitions = kwire_get_array(d, 12);
		if (t->npartitions < 0)
			kwire_dec_fail(d);
		t->partitions = kwire_alloc(d, t->npartitions, sizeof(*t->partitions));
		for (int32_t j = 0; j < t->npartitions && kwire_dec_ok(d); j++) {
			struct kafka_listoffsets_partition *p = &t->partitions[j];

			p->index = kwire_get_i32(d);
			p->current_leader_epoch = v >= 4 ? kwire_get_i32(d) : -1;
			p->timestamp = kwire_get_i64(d);
			p->max_num_offsets = v == 0 ? kwire_get_i32(d) : 1;
			kwire_get_tags(d);
		}
		kwire_get_tags(d);
	}
	kwire_get_tags(d);
	return kwire_dec_ok(d) ? q : NULL;
}

/* The batch holding off was found by its max timestamp; find the first of
 * its records at or after ts, so the answer is record-exact as Kafka's is.
 * Leaves *off and *found alone when the batch cannot be read. */
static void refine_by_time(struct engine *log, const char *topic, int32_t p, int64_t ts,
			   int64_t *off, int64_t *found)
{
	struct engine_slice s;
	struct codec_ctx *cc = NULL;
	struct batch_info bi;
	struct batch_iter it;
	struct record rec;
	uint8_t hdr[BATCH_HEADER_SIZE];
	struct buf b;
	bool iter = false;

	buf_init(&b, TS_SCAN_MAX_BATCH);
	if (engine_read(log, topic, p, *off, 1, &s) < 0)
		return;
	if (s.len < BATCH_HEADER_SIZE ||
	    pread(s.fd, hdr, sizeof(hdr), s.pos) != (ssize_t)sizeof(hdr) ||
	    batch_header_parse(hdr, sizeof(hdr), &bi) < 0 || bi.size > s.len ||
	    bi.size > TS_SCAN_MAX_BATCH)
		goto out;
	*found = bi.max_ts;
	if (buf_reserve(&b, bi.size) < 0 || pread(s.fd, b.data, bi.size, s.pos) != (ssize_t)bi.size)
		goto out;
	b.len = bi.size;
	cc = codec_ctx_new();
	if (!cc || batch_iter_init(&it, b.data, b.len, cc, TS_SCAN_MAX_BATCH, false) < 0) {
		if (cc)
			batch_iter_release(&it);
		goto out;
	}
	iter = true;
	while (batch_iter_next(&it, &rec) == 1) {
		if (rec.timestamp >= ts && rec.offset >= *off) {
			*off = rec.offset;
			*found = rec.timestamp;
			break;
		}
	}
out:
	if (iter)
		batch_iter_release(&it);
	codec_ctx_free(cc);
	buf_release(&b);
	engine_slice_release(&s);
}

static void put_listoffsets_partition(struct kafka_req *r, const char *topic,
				      const struct kafka_listoffsets_partition *p)
{
	struct kwire_enc *e = &r->enc;
	int16_t v = r->hdr.api_version;
	struct engine_partition_info info;
	int64_t off = -1, ts = -1;
	int16_t err;
	int rc;

	rc = kafka_authz_topic(r, topic, ACL_CONSUME)
		     ? engine_partition_info(r->ctx->log, topic, p->index, &info)
		     : -ERR_AUTH;
	if (rc == 0 && p->timestamp == LO_LATEST) {
		/* read_committed: the last stable offset (transactions) */
		off = ((const struct kafka_listoffsets_req *)r->body)->isolation_level == 1
			      ? info.last_stable
			      : info.visible;
	} else if (rc == 0 &&
		   (p->timestamp == LO_EARLIEST || (p->timestamp == LO_EARLIEST_LOCAL && v >= 8))) {
		off = info.log_start;
	} else if (rc == 0 && p->timestamp == LO_MAX_TIMESTAMP && v >= 7) {
		rc = engine_offset_max_timestamp(r->ctx->log, topic, p->index, &off, &ts);
	} else if (rc == 0 && p->timestamp < 0) {
		rc = -ERR_INVALID;
	} else if (rc == 0) {
		rc = engine_offset_for_time(r->ctx->log, topic, p->index, p->timestamp, &off);
		if (rc == 0 && off >= info.visible)
			off = -1; /* no record that late */
		if (rc == 0 && off >= 0)
			refine_by_time(r->ctx->log, topic, p->index, p->timestamp, &off, &ts);
	}
	err = rc == -ERR_AUTH ? KERR_TOPIC_AUTHORIZATION_FAILED : kafka_api_error(rc);
	if (rc == -ERR_INVALID)
		err = p->timestamp < -2 ? KERR_INVALID_REQUEST : KERR_UNKNOWN_TOPIC_OR_PARTITION;
	if (err) {
		off = -1;
		ts = -1;
	}
	kafka_req_note(r, err);
	kwire_put_i32(e, p->index);
	kwire_put_i16(e, err);
	if (v == 0) {
		kwire_put_array(e, off >= 0 ? 1 : 0);
		if (off >= 0)
			kwire_put_i64(e, off);
	} else {
		kwire_put_i64(e, ts);
		kwire_put_i64(e, off);
		if (v >= 4)
			kwire_put_i32(e, err ? -1 : 0); /* leader_epoch */
	}
	kwire_put_tags(e);
}

void kafka_listoffsets_handle(struct kafka_req *r)
{
	struct kafka_listoffsets_req *q = r->body;
	struct kwire_enc *e = kafka_req_begin(r);

	if (r->hdr.api_version >= 2)
		kwire_put_i32(e, 0); /* throttle_time_ms */
	kwire_put_array(e, q->ntopics);
	for (int32_t i = 0; i < q->ntopics; i++) {
		const struct kafka_listoffsets_topic *t = &q->topics[i];

		kwire_put_str(e, t->name);
		kwire_put_array(e, t->npartitions);
		for (int32_t j = 0; j < t->npartitions; j++)
			put_listoffsets_partition(r, t->name, &t->partitions[j]);
		kwire_put_tags(e);
	}
	kwire_put_tags(e);
	kafka_req_finish(r);
}
