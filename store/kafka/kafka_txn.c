/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The transactional APIs (store/kafka/kafka_txn.h) over the generated
 * message structs (store/kafka/kmsg_gen.h): authorization, per-partition
 * results, and the version rules of the errors; the state machine itself is
 * store/txn/.  Also the coordinator's two hooks: producer ids owned by the
 * asking principal (store/auth) and committed offsets journalled through
 * the group coordinator's offsets (store/groups/offsets.h).
 */
#include <string.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/prom.h"
#include "store/auth/auth.h"
#include "store/engine/engine.h"
#include "store/groups/groups.h"
#include "store/groups/offsets.h"
#include "store/kafka/kafka_api.h"
#include "store/kafka/kafka_authz.h"
#include "store/kafka/kafka_req.h"
#include "store/kafka/kafka_txn.h"
#include "store/kafka/kmsg_gen.h"
#include "store/store_config.h"
#include "store/txn/txn.h"

/* ---------------------------------------------------------------- hooks */

static int alloc_pid(void *arg, const char *principal, int64_t *pid)
{
	struct kafka_ctx *ctx = arg;

	return auth_producer_id_new(ctx->auth, ctx->log, principal, pid);
}

/* One journal write of committed offsets; freed when durable. */
struct txn_apply {
	struct offsets_commit oc;
	struct offsets_record rec;
	char *group, *topic, *metadata;
};

static void apply_done(struct offsets_commit *oc, int rc)
{
	struct txn_apply *a = oc->arg;

	if (rc < 0)
		log_error("kafka: transactional offsets of group %s: %s", a->group, err_str(rc));
	mem_free(a->group);
	mem_free(a->topic);
	mem_free(a->metadata);
	mem_free(a);
}

static int apply_offsets(void *arg, const char *group, const struct txn_offset *o, size_t n)
{
	struct kafka_ctx *ctx = arg;
	struct offsets *off = groups_offsets(ctx->groups);

	if (!off)
		return -ERR_NOT_FOUND;
	for (size_t i = 0; i < n; i++) {
		struct txn_apply *a = mem_calloc(1, sizeof(*a));
		int rc;

		if (!a)
			return -ENOMEM;
		a->group = mem_strdup(group);
		a->topic = mem_strdup(o[i].topic);
		a->metadata = o[i].metadata ? mem_strdup(o[i].metadata) : NULL;
		if (!a->group || !a->topic || (o[i].metadata && !a->metadata)) {
			apply_done(&a->oc, 0);
			return -ENOMEM;
		}
		a->rec = (struct offsets_record){a->topic, o[i].partition, o[i].offset,
						 o[i].leader_epoch, a->metadata};
		a->oc.group = a->group;
		a->oc.records = &a->rec;
		a->oc.n = 1;
		a->oc.done = apply_done;
		a->oc.arg = a;
		rc = offsets_commit(off, &a->oc);
		if (rc < 0) {
			apply_done(&a->oc, 0);
			return rc;
		}
	}
	return 0;
}

/* OffsetFetch require_stable (KIP-447): UNSTABLE_OFFSET_COMMIT while an
 * open transaction has staged an offset of the partition. */
static bool offsets_pending(void *arg, const char *group, const char *topic, int32_t partition)
{
	return txn_offsets_pending(arg, group, topic, partition);
}

int kafka_txn_open(struct kafka_ctx *ctx)
{
	struct txn_config cfg;
	char dir[4096];
	int rc;

	if ((size_t)snprintf(dir, sizeof(dir), "%s/meta", ctx->conf->store.data_dir) >= sizeof(dir))
		return -ENAMETOOLONG;
	txn_config_init(&cfg);
	cfg.meta_dir = dir;
	cfg.alloc_pid = alloc_pid;
	cfg.apply_offsets = ctx->groups ? apply_offsets : NULL;
	cfg.arg = ctx;
	rc = txn_coord_open(ctx->log, &cfg, &ctx->txn);
	if (rc < 0)
		log_error("kafka: transactions are unavailable (journal in %s): %s", dir,
			  err_str(rc));
	else if (ctx->groups)
		groups_set_txn_pending(ctx->groups, offsets_pending, ctx->txn);
	return rc;
}

void kafka_txn_close(struct kafka_ctx *ctx)
{
	if (ctx->groups && ctx->txn)
		groups_set_txn_pending(ctx->groups, NULL, NULL);
	txn_coord_free(ctx->txn);
	ctx->txn = NULL;
}

void kafka_txn_render_metrics(struct buf *out, void *arg)
{
	struct kafka_ctx *ctx = arg;
	struct txn_stats st;

	if (!ctx->txn)
		return;
	txn_get_stats(ctx->txn, &st);
	prom_family(out, "sluice_txn_commits_total", "counter", "Transactions committed.");
	prom_u64(out, "sluice_txn_commits_total", "", st.commits);
	prom_family(
		out, "sluice_txn_aborts_total", "counter",
		"Transactions aborted (by the producer, a new instance, a timeout or a restart).");
	prom_u64(out, "sluice_txn_aborts_total", "", st.aborts);
	prom_family(out, "sluice_txn_timeouts_total", "counter",
		    "Transactions aborted because transaction.timeout.ms passed.");
	prom_u64(out, "sluice_txn_timeouts_total", "", st.timeouts);
	prom_family(out, "sluice_txn_fenced_total", "counter",
		    "Requests and transactional batches refused for a stale producer epoch.");
	prom_u64(out, "sluice_txn_fenced_total", "", st.fenced);
	prom_family(out, "sluice_txn_ids", "gauge", "Transactional ids the coordinator knows.");
	prom_u64(out, "sluice_txn_ids", "", st.ids);
	prom_family(out, "sluice_txn_ongoing", "gauge", "Transactions open now.");
	prom_u64(out, "sluice_txn_ongoing", "", st.ongoing);
}

/* ---------------------------------------------------------------- helpers */

/* PRODUCER_FENCED exists from these versions on; older clients get
 * INVALID_PRODUCER_EPOCH, as Kafka answers them. */
static int16_t fenced_for(int16_t err, int16_t v, int16_t first)
{
	return err == KERR_PRODUCER_FENCED && v < first ? KERR_INVALID_PRODUCER_EPOCH : err;
}

/* The transactional id check every API starts with: 0 or the error. */
static int16_t txn_gate(struct kafka_req *r, const char *tid)
{
	if (!tid || !tid[0])
		return KERR_INVALID_REQUEST;
	if (!r->ctx->txn)
		return KERR_COORDINATOR_NOT_AVAILABLE;
	if (!kafka_authz_txn(r, tid))
		return KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
	return KERR_NONE;
}

/* ---------------------------------------------------------------- InitProducerId */

void kafka_txn_initproducerid_handle(struct kafka_req *r)
{
	const struct kmsg_init_producer_id_req *q = r->body;
	struct kmsg_init_producer_id_resp *resp =
		kmsg_new(&r->arena, kmsg_init_producer_id_resp, 1);
	int16_t v = r->hdr.api_version, err;
	int64_t id = -1;
	int16_t epoch = -1;

	if (!resp) {
		kafka_req_respond(r, NULL); /* out of memory: the connection closes */
		return;
	}
	if (!q->transactional_id) {
		/* idempotence only: a fresh id owned by the principal */
		err = KERR_NONE;
		if (!kafka_authz_may(r, ACL_TOPIC, NULL, ACL_PRODUCE)) {
			auth_count(r->ctx->auth, AUTH_KAFKA, AUTH_DENIED);
			err = KERR_CLUSTER_AUTHORIZATION_FAILED;
		} else {
			int rc = auth_producer_id_new(r->ctx->auth, r->ctx->log,
						      kafka_authz_principal(r), &id);

			if (rc < 0) {
				log_warn("kafka: cannot allocate a producer id: %s", err_str(rc));
				err = kafka_api_error(rc);
				id = -1;
			} else {
				epoch = 0;
			}
		}
	} else {
		err = txn_gate(r, q->transactional_id);
		if (!err)
			err = (int16_t)txn_init_producer(r->ctx->txn, q->transactional_id,
							 q->transaction_timeout_ms, q->producer_id,
							 q->producer_epoch,
							 kafka_authz_principal(r), &id, &epoch);
		err = fenced_for(err, v, 4);
	}
	resp->error_code = err;
	resp->producer_id = err ? -1 : id;
	resp->producer_epoch = err ? -1 : epoch;
	kafka_req_note(r, err);
	kafka_req_respond(r, resp);
}

/* ---------------------------------------------------------------- AddPartitionsToTxn */

/* Per partition: topic authorization and existence (0 when fine). */
static int16_t check_partition(struct kafka_req *r, const char *topic, int32_t p, bool authorized)
{
	struct topic_config tc;

	if (!authorized)
		return KERR_TOPIC_AUTHORIZATION_FAILED;
	if (engine_topic_config(r->ctx->log, topic, &tc) < 0 || p < 0 || p >= tc.partitions)
		return KERR_UNKNOWN_TOPIC_OR_PARTITION;
	return KERR_NONE;
}

void kafka_txn_addpartitions_handle(struct kafka_req *r)
{
	const struct kmsg_add_partitions_to_txn_req *q = r->body;
	const struct kmsg_add_partitions_to_txn_req_add_partitions_to_txn_topic *ts =
		q->v3_and_below_topics;
	int32_t nt = q->n_v3_and_below_topics > 0 ? q->n_v3_and_below_topics : 0;
	struct kmsg_add_partitions_to_txn_resp *resp =
		kmsg_new(&r->arena, kmsg_add_partitions_to_txn_resp, 1);
	struct kmsg_add_partitions_to_txn_resp_add_partitions_to_txn_topic_result *tr = NULL;
	struct txn_tp *tps;
	int32_t ntp = 0;
	int16_t err, first = KERR_NONE;
	bool failed = false;

	for (int32_t i = 0; i < nt; i++)
		ntp += ts[i].n_partitions > 0 ? ts[i].n_partitions : 0;
	tps = arena_calloc(&r->arena, (size_t)ntp + 1, sizeof(*tps));
	if (nt)
		tr = kmsg_new(&r->arena,
			      kmsg_add_partitions_to_txn_resp_add_partitions_to_txn_topic_result,
			      nt);
	if (!resp || !tps || (nt && !tr)) {
		kafka_req_respond(r, NULL); /* out of memory: the connection closes */
		return;
	}
	err = txn_gate(r, q->v3_and_below_transactional_id);
	ntp = 0;
	for (int32_t i = 0; i < nt; i++) {
		int32_t np = ts[i].n_partitions > 0 ? ts[i].n_partitions : 0;
		bool authorized = !err && kafka_authz_topic(r, ts[i].name, ACL_PRODUCE);

		tr[i].name = ts[i].name;
		tr[i].n_results_by_partition = np;
		tr[i].results_by_partition =
			np ? kmsg_new(
				     &r->arena,
				     kmsg_add_partitions_to_txn_resp_add_partitions_to_txn_partition_result,
				     np)
			   : NULL;
		if (np && !tr[i].results_by_partition) {
			kafka_req_respond(r, NULL);
			return;
		}
		for (int32_t j = 0; j < np; j++) {
			int16_t pe = err ? err
					 : check_partition(r, ts[i].name, ts[i].partitions[j],
							   authorized);

			tr[i].results_by_partition[j].partition_index = ts[i].partitions[j];
			tr[i].results_by_partition[j].partition_error_code = pe;
			failed |= pe != KERR_NONE;
			if (pe && !first)
				first = pe;
			tps[ntp++] = (struct txn_tp){ts[i].name, ts[i].partitions[j]};
		}
	}
	if (!err && !failed) {
		err = (int16_t)txn_add_partitions(r->ctx->txn, q->v3_and_below_transactional_id,
						  q->v3_and_below_producer_id,
						  q->v3_and_below_producer_epoch, tps, (size_t)ntp);
		err = fenced_for(err, r->hdr.api_version, 2);
		first = err;
	}
	/* Kafka: when any partition fails, the others were not attempted */
	for (int32_t i = 0; i < nt; i++) {
		for (int32_t j = 0; j < tr[i].n_results_by_partition; j++) {
			int16_t *pe = &tr[i].results_by_partition[j].partition_error_code;

			if (!failed)
				*pe = err;
			else if (*pe == KERR_NONE)
				*pe = KERR_OPERATION_NOT_ATTEMPTED;
		}
	}
	resp->n_results_by_topic_v3_and_below = nt;
	resp->results_by_topic_v3_and_below = tr;
	kafka_req_note(r, first);
	kafka_req_respond(r, resp);
}

/* ---------------------------------------------------------------- AddOffsetsToTxn */

void kafka_txn_addoffsets_handle(struct kafka_req *r)
{
	const struct kmsg_add_offsets_to_txn_req *q = r->body;
	struct kmsg_add_offsets_to_txn_resp *resp =
		kmsg_new(&r->arena, kmsg_add_offsets_to_txn_resp, 1);
	int16_t err;

	if (!resp) {
		kafka_req_respond(r, NULL); /* out of memory: the connection closes */
		return;
	}
	err = txn_gate(r, q->transactional_id);
	if (!err && !kafka_authz_group(r, q->group_id, ACL_CONSUME))
		err = KERR_GROUP_AUTHORIZATION_FAILED;
	if (!err && !r->ctx->groups)
		err = KERR_COORDINATOR_NOT_AVAILABLE;
	if (!err)
		err = (int16_t)txn_add_offsets(r->ctx->txn, q->transactional_id, q->producer_id,
					       q->producer_epoch, q->group_id);
	resp->error_code = fenced_for(err, r->hdr.api_version, 2);
	kafka_req_note(r, resp->error_code);
	kafka_req_respond(r, resp);
}

/* ---------------------------------------------------------------- EndTxn */

void kafka_txn_endtxn_handle(struct kafka_req *r)
{
	const struct kmsg_end_txn_req *q = r->body;
	struct kmsg_end_txn_resp *resp = kmsg_new(&r->arena, kmsg_end_txn_resp, 1);
	int16_t err;

	if (!resp) {
		kafka_req_respond(r, NULL); /* out of memory: the connection closes */
		return;
	}
	err = txn_gate(r, q->transactional_id);
	if (!err)
		err = (int16_t)txn_end(r->ctx->txn, q->transactional_id, q->producer_id,
				       q->producer_epoch, q->committed);
	resp->error_code = fenced_for(err, r->hdr.api_version, 2);
	kafka_req_note(r, resp->error_code);
	kafka_req_respond(r, resp);
}

/* ---------------------------------------------------------------- TxnOffsetCommit */

/* Stage one topic's offsets; the per-partition errors into res. */
static void stage_topic(struct kafka_req *r, const struct kmsg_txn_offset_commit_req *q,
			const struct kmsg_txn_offset_commit_req_topic *t,
			struct kmsg_txn_offset_commit_resp_topic *res, int16_t err)
{
	int32_t np = t->n_partitions > 0 ? t->n_partitions : 0;

	if (!err && !kafka_authz_topic(r, t->name, ACL_CONSUME))
		err = KERR_TOPIC_AUTHORIZATION_FAILED;
	for (int32_t j = 0; j < np; j++) {
		const struct kmsg_txn_offset_commit_req_partition *p = &t->partitions[j];
		int16_t pe = err ? err : check_partition(r, t->name, p->partition_index, true);

		if (!pe && p->committed_metadata &&
		    strlen(p->committed_metadata) > OFFSETS_METADATA_MAX)
			pe = KERR_OFFSET_METADATA_TOO_LARGE;
		if (!pe) {
			struct txn_offset o = {.topic = t->name,
					       .partition = p->partition_index,
					       .offset = p->committed_offset,
					       .leader_epoch = p->committed_leader_epoch,
					       .metadata = p->committed_metadata};

			pe = (int16_t)txn_stage_offsets(r->ctx->txn, q->transactional_id,
							q->producer_id, q->producer_epoch,
							q->group_id, &o, 1);
			/* the group coordinator's answer to a stale producer */
			pe = fenced_for(pe, 0, 1);
		}
		res->partitions[j].partition_index = p->partition_index;
		res->partitions[j].error_code = pe;
		if (pe)
			kafka_req_note(r, pe);
	}
}

void kafka_txn_offsetcommit_handle(struct kafka_req *r)
{
	const struct kmsg_txn_offset_commit_req *q = r->body;
	int32_t nt = q->n_topics > 0 ? q->n_topics : 0;
	struct kmsg_txn_offset_commit_resp *resp =
		kmsg_new(&r->arena, kmsg_txn_offset_commit_resp, 1);
	struct kmsg_txn_offset_commit_resp_topic *tr =
		nt ? kmsg_new(&r->arena, kmsg_txn_offset_commit_resp_topic, nt) : NULL;
	int16_t err;

	if (!resp || (nt && !tr)) {
		kafka_req_respond(r, NULL); /* out of memory: the connection closes */
		return;
	}
	err = txn_gate(r, q->transactional_id);
	if (err == KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
		err = KERR_NONE; /* Kafka authorizes TxnOffsetCommit by group and topic */
	if (!err && !kafka_authz_group(r, q->group_id, ACL_CONSUME))
		err = KERR_GROUP_AUTHORIZATION_FAILED;
	for (int32_t i = 0; i < nt; i++) {
		int32_t np = q->topics[i].n_partitions > 0 ? q->topics[i].n_partitions : 0;

		tr[i].name = q->topics[i].name;
		tr[i].n_partitions = np;
		tr[i].partitions =
			np ? kmsg_new(&r->arena, kmsg_txn_offset_commit_resp_partition, np) : NULL;
		if (np && !tr[i].partitions) {
			kafka_req_respond(r, NULL);
			return;
		}
		stage_topic(r, q, &q->topics[i], &tr[i], err);
	}
	resp->n_topics = nt;
	resp->topics = tr;
	kafka_req_respond(r, resp);
}
