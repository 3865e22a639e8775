/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DeleteRecords, OffsetForLeaderEpoch and DescribeProducers
 * (store/kafka/kafka_records.h) over the schema framework (kmsg_*: Kafka
 * 4.1's specs, where OffsetForLeaderEpoch starts at v2).
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
#include "store/kafka/kmsg_gen.h"
#include "store/kafka/kschema.h"

/* The one leader epoch of every partition. */
#define LEADER_EPOCH 0

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

/* n elements of struct T (at least one allocated: kschema_new wants n >= 1). */
#define NEW(r, T, n) kmsg_new(&(r)->arena, T, (n) > 0 ? (n) : 1)
#define COUNT(n) ((n) > 0 ? (n) : 0)

static void respond_nomem(struct kafka_req *r)
{
	kafka_req_begin(r)->err = -ENOMEM;
	kafka_req_finish(r);
}

/* ---------------------------------------------------------------- DeleteRecords */

void kafka_records_delete_handle(struct kafka_req *r)
{
	const struct kmsg_delete_records_req *q = r->body;
	struct kmsg_delete_records_resp *m = NEW(r, kmsg_delete_records_resp, 1);

	if (!m)
		goto fail;
	m->n_topics = COUNT(q->n_topics);
	m->topics = NEW(r, kmsg_delete_records_resp_delete_records_topic_result, m->n_topics);
	if (!m->topics)
		goto fail;
	for (int32_t i = 0; i < m->n_topics; i++) {
		const struct kmsg_delete_records_req_delete_records_topic *t = &q->topics[i];
		struct kmsg_delete_records_resp_delete_records_topic_result *o = &m->topics[i];

		o->name = t->name;
		o->n_partitions = COUNT(t->n_partitions);
		o->partitions = NEW(r, kmsg_delete_records_resp_delete_records_partition_result,
				    o->n_partitions);
		if (!o->partitions)
			goto fail;
		for (int32_t j = 0; j < o->n_partitions; j++) {
			const struct kmsg_delete_records_req_delete_records_partition *p =
				&t->partitions[j];
			struct kmsg_delete_records_resp_delete_records_partition_result *op =
				&o->partitions[j];
			struct engine_partition_info info;
			int64_t low = -1;
			int16_t err = part_error(r, t->name, p->partition_index, ACL_ADMIN, &info);

			if (!err)
				err = kafka_api_error(engine_delete_records(
					r->ctx->log, t->name, p->partition_index, p->offset, &low));
			kafka_req_note(r, err);
			op->partition_index = p->partition_index;
			op->low_watermark = err ? -1 : low;
			op->error_code = err;
		}
	}
	kafka_req_respond(r, m);
	return;
fail:
	respond_nomem(r);
}

/* ---------------------------------------------------------------- OffsetForLeaderEpoch */

static void epoch_end(struct kafka_req *r, const char *topic,
		      const struct kmsg_offset_for_leader_epoch_req_offset_for_leader_partition *p,
		      struct kmsg_offset_for_leader_epoch_resp_epoch_end_offset *o)
{
	struct engine_partition_info info;
	int16_t err = part_error(r, topic, p->partition, ACL_CONSUME, &info);

	/* a newer epoch than ours is unknown, an older one fenced */
	if (!err && p->current_leader_epoch > LEADER_EPOCH)
		err = KERR_UNKNOWN_LEADER_EPOCH;
	else if (!err && p->current_leader_epoch >= 0 && p->current_leader_epoch < LEADER_EPOCH)
		err = KERR_FENCED_LEADER_EPOCH;
	kafka_req_note(r, err);
	o->error_code = err;
	o->partition = p->partition;
	o->leader_epoch = -1; /* UNDEFINED_EPOCH */
	o->end_offset = -1;   /* UNDEFINED_EPOCH_OFFSET */
	if (!err && p->leader_epoch == LEADER_EPOCH) {
		o->leader_epoch = LEADER_EPOCH;
		o->end_offset = info.end;
	}
}

void kafka_records_epoch_handle(struct kafka_req *r)
{
	const struct kmsg_offset_for_leader_epoch_req *q = r->body;
	struct kmsg_offset_for_leader_epoch_resp *m = NEW(r, kmsg_offset_for_leader_epoch_resp, 1);

	if (!m)
		goto fail;
	m->n_topics = COUNT(q->n_topics);
	m->topics = NEW(r, kmsg_offset_for_leader_epoch_resp_offset_for_leader_topic_result,
			m->n_topics);
	if (!m->topics)
		goto fail;
	for (int32_t i = 0; i < m->n_topics; i++) {
		const struct kmsg_offset_for_leader_epoch_req_offset_for_leader_topic *t =
			&q->topics[i];
		struct kmsg_offset_for_leader_epoch_resp_offset_for_leader_topic_result *o =
			&m->topics[i];

		o->topic = t->topic;
		o->n_partitions = COUNT(t->n_partitions);
		o->partitions =
			NEW(r, kmsg_offset_for_leader_epoch_resp_epoch_end_offset, o->n_partitions);
		if (!o->partitions)
			goto fail;
		for (int32_t j = 0; j < o->n_partitions; j++)
			epoch_end(r, t->topic, &t->partitions[j], &o->partitions[j]);
	}
	kafka_req_respond(r, m);
	return;
fail:
	respond_nomem(r);
}

/* ---------------------------------------------------------------- DescribeProducers */

static int producers(struct kafka_req *r, const char *topic, int32_t index,
		     struct kmsg_describe_producers_resp_partition_response *o)
{
	struct engine_partition_info info;
	struct engine_producer *v = NULL;
	size_t n = 0;
	int16_t err = part_error(r, topic, index, ACL_CONSUME, &info);

	if (!err)
		err = kafka_api_error(engine_producers(r->ctx->log, topic, index, &v, &n));
	kafka_req_note(r, err);
	o->partition_index = index;
	o->error_code = err;
	o->n_active_producers = err ? 0 : (int32_t)n;
	o->active_producers =
		NEW(r, kmsg_describe_producers_resp_producer_state, o->n_active_producers);
	if (!o->active_producers) {
		mem_free(v);
		return -ENOMEM;
	}
	for (int32_t i = 0; i < o->n_active_producers; i++) {
		struct kmsg_describe_producers_resp_producer_state *s = &o->active_producers[i];

		s->producer_id = v[i].id;
		s->producer_epoch = v[i].epoch;
		s->last_sequence = v[i].last_seq;
		s->last_timestamp = v[i].last_ms;
		s->coordinator_epoch = v[i].txn_start >= 0 ? 0 : -1; /* one coordinator, epoch 0 */
		s->current_txn_start_offset = v[i].txn_start;
	}
	mem_free(v);
	return 0;
}

void kafka_records_producers_handle(struct kafka_req *r)
{
	const struct kmsg_describe_producers_req *q = r->body;
	struct kmsg_describe_producers_resp *m = NEW(r, kmsg_describe_producers_resp, 1);

	if (!m)
		goto fail;
	m->n_topics = COUNT(q->n_topics);
	m->topics = NEW(r, kmsg_describe_producers_resp_topic_response, m->n_topics);
	if (!m->topics)
		goto fail;
	for (int32_t i = 0; i < m->n_topics; i++) {
		const struct kmsg_describe_producers_req_topic_request *t = &q->topics[i];
		struct kmsg_describe_producers_resp_topic_response *o = &m->topics[i];

		o->name = t->name;
		o->n_partitions = COUNT(t->n_partition_indexes);
		o->partitions =
			NEW(r, kmsg_describe_producers_resp_partition_response, o->n_partitions);
		if (!o->partitions)
			goto fail;
		for (int32_t j = 0; j < o->n_partitions; j++)
			if (producers(r, t->name, t->partition_indexes[j], &o->partitions[j]) < 0)
				goto fail;
	}
	kafka_req_respond(r, m);
	return;
fail:
	respond_nomem(r);
}
