/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DeleteRecords, OffsetForLeaderEpoch and DescribeProducers
 * (store/kafka/kafka_records.h).  Field order follows each API's
 * Request/Response.json; version conditions stand next to each field; the
 * tag sections are no-ops below an API's first flexible version (kwire).
 *
 * Authorization: DeleteRecords needs admin on the topic (Kafka: DELETE),
 * OffsetForLeaderEpoch and DescribeProducers consume (Kafka: DESCRIBE and
 * READ).  DeleteRecords answers after the new log start is on disk; the
 * request's timeout has nothing to wait for.
 */
#include <string.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "store/auth/auth.h"
#include "store/engine/engine.h"
#include "store/kafka/kafka_api.h"
#include "store/kafka/kafka_authz.h"
#include "store/kafka/kafka_records.h"
#include "store/kafka/kafka_req.h"

/* The one leader epoch of every partition. */
#define LEADER_EPOCH 0

enum rec_api { REC_DELETE, REC_EPOCH, REC_PRODUCERS };

/* The three requests share one shape: topics, then per partition an index
 * and the API's own fields. */
static void *decode(struct kwire_dec *d, int16_t v, enum rec_api api)
{
	struct kafka_records_req *q = kwire_alloc(d, 1, sizeof(*q));

	if (!q)
		return NULL;
	q->replica_id = api == REC_EPOCH && v >= 3 ? kwire_get_i32(d) : -2;
	q->ntopics = kwire_get_array(d, 2);
	if (q->ntopics < 0)
		kwire_dec_fail(d);
	q->topics = kwire_alloc(d, q->ntopics, sizeof(*q->topics));
	for (int32_t i = 0; i < q->ntopics && kwire_dec_ok(d); i++) {
		struct kafka_records_topic *t = &q->topics[i];

		t->name = kwire_get_str(d);
		t->npartitions = kwire_get_array(d, 4);
		if (t->npartitions < 0)
			kwire_dec_fail(d);
		t->partitions = kwire_alloc(d, t->npartitions, sizeof(*t->partitions));
		for (int32_t j = 0; j < t->npartitions && kwire_dec_ok(d); j++) {
			struct kafka_records_partition *p = &t->partitions[j];

			p->index = kwire_get_i32(d);
			p->current_leader_epoch = -1;
			if (api == REC_DELETE)
				p->offset = kwire_get_i64(d);
			if (api == REC_EPOCH) {
				p->current_leader_epoch = v >= 2 ? kwire_get_i32(d) : -1;
				p->leader_epoch = kwire_get_i32(d);
			}
			/* DescribeProducers' partitions are a plain int32 array */
			if (api != REC_PRODUCERS)
				kwire_get_tags(d);
		}
		kwire_get_tags(d);
	}
	if (api == REC_DELETE)
		q->timeout_ms = kwire_get_i32(d);
	kwire_get_tags(d);
	return kwire_dec_ok(d) ? q : NULL;
}

void *kafka_records_delete_decode(struct kwire_dec *d, int16_t v)
{
	return decode(d, v, REC_DELETE);
}

void *kafka_records_epoch_decode(struct kwire_dec *d, int16_t v)
{
	return decode(d, v, REC_EPOCH);
}

void *kafka_records_producers_decode(struct kwire_dec *d, int16_t v)
{
	return decode(d, v, REC_PRODUCERS);
}

/* The Kafka error for a partition the principal may (not) use. */
static int16_t part_error(struct kafka_req *r, const char *topic, int32_t index, unsigned perm,
			  struct engine_partition_info *info)
{
	int rc;

	if (!kafka_authz_topic(r, topic, perm))
		return KERR_TOPIC_AUTHORIZATION_FAILED;
	rc = engine_partition_info(r->ctx->log, topic, index, info);
	return rc == -ERR_INVALID ? KERR_UNKNOWN_TOPIC_OR_PARTITION : kafka_api_error(rc);
}

/* ---------------------------------------------------------------- DeleteRecords */

void kafka_records_delete_handle(struct kafka_req *r)
{
	struct kafka_records_req *q = r->body;
	struct kwire_enc *e = kafka_req_begin(r);

	kwire_put_i32(e, 0); /* throttle_time_ms */
	kwire_put_array(e, q->ntopics);
	for (int32_t i = 0; i < q->ntopics; i++) {
		const struct kafka_records_topic *t = &q->topics[i];

		kwire_put_str(e, t->name);
		kwire_put_array(e, t->npartitions);
		for (int32_t j = 0; j < t->npartitions; j++) {
			const struct kafka_records_partition *p = &t->partitions[j];
			struct engine_partition_info info;
			int64_t low = -1;
			int16_t err = part_error(r, t->name, p->index, ACL_ADMIN, &info);

			if (!err)
				err = kafka_api_error(engine_delete_records(r->ctx->log, t->name,
									    p->index, p->offset, &low));
			if (err)
				low = -1;
			kafka_req_note(r, err);
			kwire_put_i32(e, p->index);
			kwire_put_i64(e, low);
			kwire_put_i16(e, err);
			kwire_put_tags(e);
		}
		kwire_put_tags(e);
	}
	kwire_put_tags(e);
	kafka_req_finish(r);
}

/* ---------------------------------------------------------------- OffsetForLeaderEpoch */

void kafka_records_epoch_handle(struct kafka_req *r)
{
	struct kafka_records_req *q = r->body;
	int16_t v = r->hdr.api_version;
	struct kwire_enc *e = kafka_req_begin(r);

	if (v >= 2)
		kwire_put_i32(e, 0); /* throttle_time_ms */
	kwire_put_array(e, q->ntopics);
	for (int32_t i = 0; i < q->ntopics; i++) {
		const struct kafka_records_topic *t = &q->topics[i];

		kwire_put_str(e, t->name);
		kwire_put_array(e, t->npartitions);
		for (int32_t j = 0; j < t->npartitions; j++) {
			const struct kafka_records_partition *p = &t->partitions[j];
			struct engine_partition_info info;
			int32_t epoch = -1; /* UNDEFINED_EPOCH */
			int64_t end = -1;   /* UNDEFINED_EPOCH_OFFSET */
			int16_t err = part_error(r, t->name, p->index, ACL_CONSUME, &info);

			/* a newer epoch than ours is unknown, an older one fenced */
			if (!err && p->current_leader_epoch > LEADER_EPOCH)
				err = KERR_UNKNOWN_LEADER_EPOCH;
			else if (!err && p->current_leader_epoch >= 0 &&
				 p->current_leader_epoch < LEADER_EPOCH)
				err = KERR_FENCED_LEADER_EPOCH;
			if (!err && p->leader_epoch == LEADER_EPOCH) {
				epoch = LEADER_EPOCH;
				end = info.end;
			}
			kafka_req_note(r, err);
			kwire_put_i16(e, err);
			kwire_put_i32(e, p->index);
			if (v >= 1)
				kwire_put_i32(e, epoch);
			kwire_put_i64(e, end);
			kwire_put_tags(e);
		}
		kwire_put_tags(e);
	}
	kwire_put_tags(e);
	kafka_req_finish(r);
}

/* ---------------------------------------------------------------- DescribeProducers */

static void put_producers(struct kafka_req *r, const char *topic, int32_t index)
{
	struct kwire_enc *e = &r->enc;
	struct engine_partition_info info;
	struct engine_producer *v = NULL;
	size_t n = 0;
	int16_t err = part_error(r, topic, index, ACL_CONSUME, &info);

	if (!err)
		err = kafka_api_error(engine_producers(r->ctx->log, topic, index, &v, &n));
	kafka_req_note(r, err);
	kwire_put_i32(e, index);
	kwire_put_i16(e, err);
	kwire_put_str(e, NULL); /* error_message */
	kwire_put_array(e, err ? 0 : (int32_t)n);
	for (size_t i = 0; !err && i < n; i++) {
		kwire_put_i64(e, v[i].id);
		kwire_put_i32(e, v[i].epoch);
		kwire_put_i32(e, v[i].last_seq);
		kwire_put_i64(e, v[i].last_ms);
		kwire_put_i32(e, -1); /* coordinator_epoch: no transactions */
		kwire_put_i64(e, -1); /* current_txn_start_offset */
		kwire_put_tags(e);
	}
	kwire_put_tags(e);
	mem_free(v);
}

void kafka_records_producers_handle(struct kafka_req *r)
{
	struct kafka_records_req *q = r->body;
	struct kwire_enc *e = kafka_req_begin(r);

	kwire_put_i32(e, 0); /* throttle_time_ms */
	kwire_put_array(e, q->ntopics);
	for (int32_t i = 0; i < q->ntopics; i++) {
		const struct kafka_records_topic *t = &q->topics[i];

		kwire_put_str(e, t->name);
		kwire_put_array(e, t->npartitions);
		for (int32_t j = 0; j < t->npartitions; j++)
			put_producers(r, t->name, t->partitions[j].index);
		kwire_put_tags(e);
	}
	kwire_put_tags(e);
	kafka_req_finish(r);
}
