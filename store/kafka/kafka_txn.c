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

int kafka_txn_open(struct kafka_ctx *ctx)
{
	struct txn_config cfg;
	char dir[4096];
	int rc;

	if ((size_t)snprintf(dir, sizeof(dir), "%s/meta", ctx->conf->store.data_dir) >=
	    sizeof(dir))
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
	return rc;
}

void kafka_txn_close(struct kafka_ctx *ctx)
{
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
	prom_family(out, "sluice_txn_aborts_total", "counter",
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
