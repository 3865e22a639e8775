/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ListOffsets (store/kafka/kafka_listoffsets.h) over the schema framework
 * (kmsg_list_offsets_*, Kafka 4.1's ListOffsets{Request,Response}.json,
 * which start at v1).  A special timestamp
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
#include "store/kafka/kmsg_gen.h"
#include "store/kafka/kschema.h"

#define TS_SCAN_MAX_BATCH (64u << 20)
#define LO_LATEST -1
#define LO_EARLIEST -2
#define LO_MAX_TIMESTAMP -3
#define LO_EARLIEST_LOCAL -4

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

/* One partition's answer into o (at its schema defaults: -1 offset and
 * timestamp, leader epoch -1). */
static void lookup(struct kafka_req *r, const char *topic,
		   const struct kmsg_list_offsets_req_list_offsets_partition *p,
		   struct kmsg_list_offsets_resp_list_offsets_partition_response *o)
{
	int16_t v = r->hdr.api_version;
	struct engine_partition_info info;
	int64_t off = -1, ts = -1;
	int16_t err;
	int rc;

	rc = kafka_authz_topic(r, topic, ACL_CONSUME)
		     ? engine_partition_info(r->ctx->log, topic, p->partition_index, &info)
		     : -ERR_AUTH;
	if (rc == 0 && p->timestamp == LO_LATEST) {
		/* read_committed: the last stable offset (transactions) */
		off = ((const struct kmsg_list_offsets_req *)r->body)->isolation_level == 1
			      ? info.last_stable
			      : info.visible;
	} else if (rc == 0 &&
		   (p->timestamp == LO_EARLIEST || (p->timestamp == LO_EARLIEST_LOCAL && v >= 8))) {
		off = info.log_start;
	} else if (rc == 0 && p->timestamp == LO_MAX_TIMESTAMP && v >= 7) {
		rc = engine_offset_max_timestamp(r->ctx->log, topic, p->partition_index, &off, &ts);
	} else if (rc == 0 && p->timestamp < 0) {
		rc = -ERR_INVALID;
	} else if (rc == 0) {
		rc = engine_offset_for_time(r->ctx->log, topic, p->partition_index, p->timestamp,
					    &off);
		if (rc == 0 && off >= info.visible)
			off = -1; /* no record that late */
		if (rc == 0 && off >= 0)
			refine_by_time(r->ctx->log, topic, p->partition_index, p->timestamp, &off,
				       &ts);
	}
	err = rc == -ERR_AUTH ? KERR_TOPIC_AUTHORIZATION_FAILED : kafka_api_error(rc);
	if (rc == -ERR_INVALID)
		err = p->timestamp < -2 ? KERR_INVALID_REQUEST : KERR_UNKNOWN_TOPIC_OR_PARTITION;
	kafka_req_note(r, err);
	o->partition_index = p->partition_index;
	o->error_code = err;
	if (!err) {
		o->offset = off;
		o->timestamp = ts;
		o->leader_epoch = 0;
	}
}

void kafka_listoffsets_handle(struct kafka_req *r)
{
	const struct kmsg_list_offsets_req *q = r->body;
	struct kmsg_list_offsets_resp *m = kmsg_new(&r->arena, kmsg_list_offsets_resp, 1);
	int32_t nt = q->n_topics > 0 ? q->n_topics : 0;

	if (!m)
		goto fail;
	m->n_topics = nt;
	m->topics = kmsg_new(&r->arena, kmsg_list_offsets_resp_list_offsets_topic_response,
			     nt ? nt : 1);
	if (!m->topics)
		goto fail;
	for (int32_t i = 0; i < nt; i++) {
		const struct kmsg_list_offsets_req_list_offsets_topic *t = &q->topics[i];
		struct kmsg_list_offsets_resp_list_offsets_topic_response *o = &m->topics[i];
		int32_t np = t->n_partitions > 0 ? t->n_partitions : 0;

		o->name = t->name;
		o->n_partitions = np;
		o->partitions =
			kmsg_new(&r->arena, kmsg_list_offsets_resp_list_offsets_partition_response,
				 np ? np : 1);
		if (!o->partitions)
			goto fail;
		for (int32_t j = 0; j < np; j++)
			lookup(r, t->name, &t->partitions[j], &o->partitions[j]);
	}
	kafka_req_respond(r, m);
	return;
fail:
	kafka_req_begin(r)->err = -ENOMEM;
	kafka_req_finish(r);
}
