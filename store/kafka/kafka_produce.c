/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Produce.  The request's record set for a partition is one or more whole
 * RecordBatch v2; all of them are validated before the first is appended,
 * so a corrupt batch anywhere rejects the partition's whole set (Kafka
 * validates the set first, too).  Batches are appended in place in the
 * request frame: the engine rewrites baseOffset there and writes those bytes.
 *
 * Durability wait: each appended partition remembers its last offset; the
 * request is parked (kafka_req_wait) until engine_wait_visible(.., 0) says
 * every one is visible or failed, re-checked whenever the engine's listener
 * wakes the loop.
 */
#include <string.h>

#include "lib/batch.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/topic_name.h"
#include "store/kafka/kafka_api.h"
#include "store/kafka/kafka_authz.h"
#include "store/kafka/kafka_produce.h"
#include "store/kafka/kafka_req.h"
#include "store/engine/engine.h"
#include "store/quota/quota.h"

#define PRODUCE_DEFAULT_TIMEOUT_MS 30000

void *kafka_produce_decode(struct kwire_dec *d, int16_t v)
{
	struct kafka_produce_req *q = kwire_alloc(d, 1, sizeof(*q));

	if (!q)
		return NULL;
	if (v >= 3)
		q->transactional_id = kwire_get_nstr(d);
	q->acks = kwire_get_i16(d);
	q->timeout_ms = kwire_get_i32(d);
	q->ntopics = kwire_get_array(d, 6);
	q->topics = kwire_alloc(d, q->ntopics, sizeof(*q->topics));
	for (int32_t i = 0; i < q->ntopics && kwire_dec_ok(d); i++) {
		struct kafka_produce_topic *t = &q->topics[i];

		t->name = kwire_get_str(d);
		t->npartitions = kwire_get_array(d, 8);
		t->partitions = kwire_alloc(d, t->npartitions, sizeof(*t->partitions));
		for (int32_t j = 0; j < t->npartitions && kwire_dec_ok(d); j++) {
			t->partitions[j].index = kwire_get_i32(d);
			t->partitions[j].records_len =
				kwire_get_bytes(d, &t->partitions[j].records);
			kwire_get_tags(d);
		}
		kwire_get_tags(d);
	}
	kwire_get_tags(d);
	if (q->ntopics < 0)
		kwire_dec_fail(d);
	return kwire_dec_ok(d) ? q : NULL;
}

void kafka_produce_encode(struct kwire_enc *e, int16_t v, const struct kafka_produce_resp *m)
{
	kwire_put_array(e, m->ntopics);
	for (int32_t i = 0; i < m->ntopics; i++) {
		const struct kafka_produce_tresult *t = &m->topics[i];

		kwire_put_str(e, t->name);
		kwire_put_array(e, t->npartitions);
		for (int32_t j = 0; j < t->npartitions; j++) {
			const struct kafka_produce_presult *p = &t->partitions[j];

			kwire_put_i32(e, p->index);
			kwire_put_i16(e, p->error);
			kwire_put_i64(e, p->base_offset);
			if (v >= 2)
				kwire_put_i64(e, p->log_append_time);
			if (v >= 5)
				kwire_put_i64(e, p->log_start);
			if (v >= 8) {
				kwire_put_array(e, 0); /* record_errors */
				kwire_put_str(e, p->error_message);
			}
			kwire_put_tags(e);
		}
		kwire_put_tags(e);
	}
	if (v >= 1)
		kwire_put_i32(e, m->throttle_ms);
	kwire_put_tags(e);
}

/* Per-partition progress, parallel to the response arrays. */
struct pwait {
	int64_t last_offset; /* wait until visible passes it */
	bool pending;
};

struct produce_state {
	struct kafka_produce_resp resp;
	struct pwait **wait; /* [topic][partition] */
};

/* Validate the whole record set (engine_batch_check: the same check as HTTP
 * ingest, records included).  0, or a Kafka error code with *msg. */
static int16_t validate_set(struct engine *log, uint8_t *p, int32_t len, int16_t version,
			    const char **msg, int32_t *nbatches)
{
	size_t off = 0;

	*nbatches = 0;
	if (!p || len <= 0) {
		*msg = "empty record set";
		return KERR_CORRUPT_MESSAGE;
	}
	while (off < (size_t)len) {
		struct batch_info bi;
		int rc = batch_next(p + off, (size_t)len - off, &bi);

		if (rc == 0)
			rc = engine_batch_check(log, p + off, bi.size, &bi);
		if (rc == -ERR_TOO_LARGE) {
			*msg = "record batch inflates past the store's bound";
			return KERR_MESSAGE_TOO_LARGE;
		}
		if (rc == -ENOMEM) {
			*msg = "out of memory";
			return KERR_UNKNOWN_SERVER_ERROR;
		}
		if (rc == -ERR_UNSUPPORTED) {
			*msg = "only RecordBatch v2 (magic 2) is accepted";
			return KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT;
		}
		if (rc < 0) {
			*msg = "record batch fails validation (CRC, structure or records)";
			return KERR_CORRUPT_MESSAGE;
		}
		if (batch_codec(&bi) == CODEC_ZSTD && version < 7) {
			*msg = "zstd needs Produce v7+";
			return KERR_UNSUPPORTED_COMPRESSION_TYPE;
		}
		if (bi.attributes & BATCH_ATTR_CONTROL) {
			/* markers come from the coordinator only; a transactional
			 * batch is checked against it by engine_append() */
			*msg = "control batches are written by the transaction coordinator";
			return KERR_INVALID_RECORD;
		}
		off += bi.size;
		(*nbatches)++;
	}
	return KERR_NONE;
}

static void produce_partition(struct kafka_req *r, const char *topic, int32_t nparts,
			      const struct kafka_produce_partition *pp,
			      struct kafka_produce_presult *res, struct pwait *w)
{
	struct kafka_stats *st = r->ctx->stats;
	/* the frame is ours and mutable; the decoder only hands out const views */
	uint8_t *p = (uint8_t *)pp->records;
	size_t off = 0;
	int32_t nbatches;
	const char *msg = NULL;
	int16_t err;

	res->index = pp->index;
	res->base_offset = -1;
	res->log_start = -1;
	res->log_append_time = -1;
	if (pp->index < 0 || pp->index >= nparts) {
		res->error = KERR_UNKNOWN_TOPIC_OR_PARTITION;
		return;
	}
	err = validate_set(r->ctx->log, p, pp->records_len, r->hdr.api_version, &msg, &nbatches);
	if (!err)
		err = kafka_authz_producer_ids(r, pp->records, pp->records_len);
	if (err) {
		res->error = err;
		res->error_message = msg;
		return;
	}
	for (int32_t i = 0; i < nbatches; i++) {
		struct engine_append_result ar;
		struct batch_info bi;
		int rc;

		/* validate_set() parsed every header already */
		SLUICE_IGNORE(batch_header_parse(p + off, (size_t)pp->records_len - off, &bi));
		rc = engine_append(r->ctx->log, topic, pp->index, p + off, bi.size, &ar);
		if (rc < 0) {
			res->error = kafka_api_error(rc);
			if (rc == -ERR_CORRUPT || rc == -ERR_INVALID)
				res->error = KERR_CORRUPT_MESSAGE;
			if (rc == -ERR_NOT_FOUND)
				res->error = KERR_UNKNOWN_TOPIC_OR_PARTITION;
			log_debug("kafka: produce %s-%d: %s", topic, pp->index, err_str(rc));
			/* batches before this one stay appended; wait for them below */
			break;
		}
		if (i == 0) {
			res->base_offset = ar.base_offset;
			res->log_append_time = ar.log_append_time;
		}
		res->log_start = ar.log_start;
		w->last_offset = ar.last_offset;
		w->pending = true;
		atomic_fetch_add_explicit(&st->produce_batches, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&st->produce_bytes, bi.size, memory_order_relaxed);
		off += bi.size;
	}
}

/* Check the durability of every pending partition.  true when none is left. */
static bool check_visible(struct kafka_req *r, bool expired)
{
	struct produce_state *ps = r->hstate;
	bool left = false;

	for (int32_t i = 0; i < ps->resp.ntopics; i++) {
		struct kafka_produce_tresult *t = &ps->resp.topics[i];

		for (int32_t j = 0; j < t->npartitions; j++) {
			struct pwait *w = &ps->wait[i][j];
			int rc;

			if (!w->pending)
				continue;
			rc = engine_wait_visible(r->ctx->log, t->name, t->partitions[j].index,
						 w->last_offset, 0);
			if (rc == -ETIMEDOUT && !expired) {
				left = true;
				continue;
			}
			w->pending = false;
			if (rc < 0 && !t->partitions[j].error) {
				t->partitions[j].error = kafka_api_error(rc);
				t->partitions[j].base_offset = -1;
			}
		}
	}
	return !left;
}

static void respond(struct kafka_req *r)
{
	struct produce_state *ps = r->hstate;

	for (int32_t i = 0; i < ps->resp.ntopics; i++)
		for (int32_t j = 0; j < ps->resp.topics[i].npartitions; j++)
			kafka_req_note(r, ps->resp.topics[i].partitions[j].error);
	kafka_produce_encode(kafka_req_begin(r), r->hdr.api_version, &ps->resp);
	kafka_req_finish(r);
}

static bool produce_poll(struct kafka_req *r, bool expired)
{
	if (!check_visible(r, expired))
		return false;
	respond(r);
	return true;
}

void kafka_produce_handle(struct kafka_req *r)
{
	struct kafka_produce_req *q = r->body;
	struct produce_state *ps = arena_alloc(&r->arena, sizeof(*ps));
	bool failed = false;
	int64_t timeout;

	if (!ps)
		goto nomem;
	r->hstate = ps;
	/* charged after the fact as Kafka does: served, then throttled (KIP-219) */
	r->throttle_ms = quota_charge(r->ctx->quota, r->principal, QUOTA_PRODUCE, r->frame_len);
	ps->resp.throttle_ms = r->throttle_ms;
	ps->resp.ntopics = q->ntopics;
	ps->resp.topics = arena_calloc(&r->arena, q->ntopics ? (size_t)q->ntopics : 1,
				       sizeof(*ps->resp.topics));
	ps->wait = arena_calloc(&r->arena, q->ntopics ? (size_t)q->ntopics : 1, sizeof(*ps->wait));
	if (!ps->resp.topics || !ps->wait)
		goto nomem;
	for (int32_t i = 0; i < q->ntopics; i++) {
		const struct kafka_produce_topic *t = &q->topics[i];
		struct kafka_produce_tresult *tr = &ps->resp.topics[i];
		int16_t terr = KERR_NONE;
		int nparts = 0;

		tr->name = t->name;
		tr->npartitions = t->npartitions;
		tr->partitions =
			arena_calloc(&r->arena, t->npartitions ? (size_t)t->npartitions : 1,
				     sizeof(*tr->partitions));
		ps->wait[i] = arena_calloc(&r->arena, t->npartitions ? (size_t)t->npartitions : 1,
					   sizeof(**ps->wait));
		if (!tr->partitions || !ps->wait[i])
			goto nomem;
		if (q->acks != 0 && q->acks != 1 && q->acks != -1) {
			terr = KERR_INVALID_REQUIRED_ACKS;
		} else if (!topic_name_valid(t->name)) {
			terr = KERR_INVALID_TOPIC_EXCEPTION;
		} else if (!kafka_authz_topic(r, t->name, ACL_PRODUCE)) {
			terr = KERR_TOPIC_AUTHORIZATION_FAILED;
		} else {
			nparts = engine_topic_ensure(r->ctx->log, t->name);
			if (nparts < 0)
				terr = kafka_api_error(nparts);
		}
		for (int32_t j = 0; j < t->npartitions; j++) {
			struct kafka_produce_presult *pr = &tr->partitions[j];

			if (terr) {
				pr->index = t->partitions[j].index;
				pr->error = terr;
				pr->base_offset = -1;
				pr->log_start = -1;
				pr->log_append_time = -1;
			} else {
				produce_partition(r, t->name, nparts, &t->partitions[j], pr,
						  &ps->wait[i][j]);
			}
			if (pr->error)
				failed = true;
		}
	}
	if (q->acks == 0) {
		if (failed) {
			/* no response to carry the error: drop the connection so the
			 * producer notices, as Kafka does */
			log_info("kafka: acks=0 produce from %s failed; closing its connection",
				 r->hdr.client_id ? r->hdr.client_id : "-");
			r->ctx->req_fail(r);
			return;
		}
		kafka_req_finish_silent(r);
		return;
	}
	if (check_visible(r, false)) {
		respond(r);
		return;
	}
	timeout = q->timeout_ms > 0 ? q->timeout_ms : PRODUCE_DEFAULT_TIMEOUT_MS;
	kafka_req_wait(r, timeout, produce_poll);
	return;
nomem:
	r->enc.err = -ENOMEM;
	kafka_req_finish(r);
}
