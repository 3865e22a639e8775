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
#include "store/kafka/kmsg_gen.h"
#include "store/kafka/kschema.h"
#include "store/engine/engine.h"
#include "store/quota/quota.h"

#define PRODUCE_DEFAULT_TIMEOUT_MS 30000

/* Per-partition progress, parallel to the response arrays. */
struct pwait {
	int64_t last_offset; /* wait until visible passes it */
	bool pending;
};

struct produce_state {
	struct kmsg_produce_resp *resp;
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
			      const struct kmsg_produce_req_partition_produce_data *pp,
			      struct kmsg_produce_resp_partition_produce_response *res,
			      struct pwait *w)
{
	struct kafka_stats *st = r->ctx->stats;
	/* the frame is ours and mutable; the decoder only hands out const views */
	uint8_t *p = (uint8_t *)pp->records.p;
	int32_t len = pp->records.n;
	size_t off = 0;
	int32_t nbatches;
	const char *msg = NULL;
	int16_t err;

	/* log start and append time default to -1; the base offset to 0 */
	res->index = pp->index;
	res->base_offset = -1;
	if (pp->index < 0 || pp->index >= nparts) {
		res->error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
		return;
	}
	err = validate_set(r->ctx->log, p, len, r->hdr.api_version, &msg, &nbatches);
	if (!err)
		err = kafka_authz_producer_ids(r, p, len);
	if (err) {
		res->error_code = err;
		res->error_message = (char *)msg;
		return;
	}
	for (int32_t i = 0; i < nbatches; i++) {
		struct engine_append_result ar;
		struct batch_info bi;
		int rc;

		/* validate_set() parsed every header already */
		SLUICE_IGNORE(batch_header_parse(p + off, (size_t)len - off, &bi));
		rc = engine_append(r->ctx->log, topic, pp->index, p + off, bi.size, &ar);
		if (rc < 0) {
			res->error_code = kafka_api_error(rc);
			if (rc == -ERR_CORRUPT || rc == -ERR_INVALID)
				res->error_code = KERR_CORRUPT_MESSAGE;
			if (rc == -ERR_NOT_FOUND)
				res->error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
			log_debug("kafka: produce %s-%d: %s", topic, pp->index, err_str(rc));
			/* batches before this one stay appended; wait for them below */
			break;
		}
		if (i == 0) {
			res->base_offset = ar.base_offset;
			res->log_append_time_ms = ar.log_append_time;
		}
		res->log_start_offset = ar.log_start;
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

	for (int32_t i = 0; i < ps->resp->n_responses; i++) {
		struct kmsg_produce_resp_topic_produce_response *t = &ps->resp->responses[i];

		for (int32_t j = 0; j < t->n_partition_responses; j++) {
			struct kmsg_produce_resp_partition_produce_response *pr =
				&t->partition_responses[j];
			struct pwait *w = &ps->wait[i][j];
			int rc;

			if (!w->pending)
				continue;
			rc = engine_wait_visible(r->ctx->log, t->name, pr->index, w->last_offset,
						 0);
			if (rc == -ETIMEDOUT && !expired) {
				left = true;
				continue;
			}
			w->pending = false;
			if (rc < 0 && !pr->error_code) {
				pr->error_code = kafka_api_error(rc);
				pr->base_offset = -1;
			}
		}
	}
	return !left;
}

static void respond(struct kafka_req *r)
{
	struct produce_state *ps = r->hstate;

	for (int32_t i = 0; i < ps->resp->n_responses; i++)
		for (int32_t j = 0; j < ps->resp->responses[i].n_partition_responses; j++)
			kafka_req_note(r, ps->resp->responses[i].partition_responses[j].error_code);
	kafka_req_respond(r, ps->resp);
}

static bool produce_poll(struct kafka_req *r, bool expired)
{
	if (!check_visible(r, expired))
		return false;
	respond(r);
	return true;
}

/* The error every partition of topic t gets, or 0 with *nparts. */
static int16_t topic_error(struct kafka_req *r, int16_t acks, const char *name, int *nparts)
{
	if (acks != 0 && acks != 1 && acks != -1)
		return KERR_INVALID_REQUIRED_ACKS;
	if (!topic_name_valid(name))
		return KERR_INVALID_TOPIC_EXCEPTION;
	if (!kafka_authz_topic(r, name, ACL_PRODUCE))
		return KERR_TOPIC_AUTHORIZATION_FAILED;
	*nparts = engine_topic_ensure(r->ctx->log, name);
	return *nparts < 0 ? kafka_api_error(*nparts) : KERR_NONE;
}

void kafka_produce_handle(struct kafka_req *r)
{
	const struct kmsg_produce_req *q = r->body;
	struct produce_state *ps = arena_alloc(&r->arena, sizeof(*ps));
	int32_t nt = q->n_topic_data > 0 ? q->n_topic_data : 0;
	bool failed = false;
	int64_t timeout;

	if (!ps)
		goto nomem;
	r->hstate = ps;
	ps->resp = kmsg_new(&r->arena, kmsg_produce_resp, 1);
	ps->wait = arena_calloc(&r->arena, nt ? (size_t)nt : 1, sizeof(*ps->wait));
	if (!ps->resp || !ps->wait)
		goto nomem;
	/* charged after the fact as Kafka does: served, then throttled (KIP-219) */
	r->throttle_ms = quota_charge(r->ctx->quota, r->principal, QUOTA_PRODUCE, r->frame_len);
	ps->resp->throttle_time_ms = r->throttle_ms;
	ps->resp->n_responses = nt;
	ps->resp->responses =
		kmsg_new(&r->arena, kmsg_produce_resp_topic_produce_response, nt ? nt : 1);
	if (!ps->resp->responses)
		goto nomem;
	for (int32_t i = 0; i < nt; i++) {
		const struct kmsg_produce_req_topic_produce_data *t = &q->topic_data[i];
		struct kmsg_produce_resp_topic_produce_response *tr = &ps->resp->responses[i];
		int32_t np = t->n_partition_data > 0 ? t->n_partition_data : 0;
		int nparts = 0;
		int16_t terr = topic_error(r, q->acks, t->name, &nparts);

		tr->name = t->name;
		tr->n_partition_responses = np;
		tr->partition_responses = kmsg_new(
			&r->arena, kmsg_produce_resp_partition_produce_response, np ? np : 1);
		ps->wait[i] = arena_calloc(&r->arena, np ? (size_t)np : 1, sizeof(**ps->wait));
		if (!tr->partition_responses || !ps->wait[i])
			goto nomem;
		for (int32_t j = 0; j < np; j++) {
			struct kmsg_produce_resp_partition_produce_response *pr =
				&tr->partition_responses[j];

			if (terr) {
				pr->index = t->partition_data[j].index;
				pr->error_code = terr;
				pr->base_offset = -1;
			} else {
				produce_partition(r, t->name, nparts, &t->partition_data[j], pr,
						  &ps->wait[i][j]);
			}
			if (pr->error_code)
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
