/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The transaction coordinator (store/txn/txn.h): the state machine of every
 * transactional.id, its journal, the markers it writes through the engine,
 * the check the engine runs on every transactional batch, and the thread
 * that aborts transactions past their timeout.
 *
 * The ids live in a plain array searched linearly: a store serves tens to a
 * few thousand transactional producers, and every search is under the one
 * mutex anyway.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "store/engine/engine.h"
#include "store/txn/txn_int.h"

/* The marker of a partition that is gone (topic deleted): nothing to wait for. */
#define MARKER_GONE (-2)

struct txn_coord {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	pthread_t thread;
	bool started, stop;
	struct engine *log;
	struct txn_config cfg;
	struct txn_log jl;
	struct txn_entry **v;
	size_t n, cap;
	struct txn_stats st;
};

static const char *const state_names[TXN_STATE_COUNT] = {
	"Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort",
};

const char *txn_state_name(enum txn_state s)
{
	return (unsigned)s < TXN_STATE_COUNT ? state_names[s] : "Dead";
}

void txn_config_init(struct txn_config *c)
{
	memset(c, 0, sizeof(*c));
	c->max_timeout_ms = 900000;
	c->check_interval_ms = 1000;
}

static struct txn_entry *find_tid(const struct txn_coord *c, const char *tid)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->v[i]->tid, tid) == 0)
			return c->v[i];
	return NULL;
}

static struct txn_entry *find_pid(const struct txn_coord *c, int64_t pid)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i]->pid == pid)
			return c->v[i];
	return NULL;
}

static int insert(struct txn_coord *c, struct txn_entry *e)
{
	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 16;
		void *p = mem_realloc(c->v, nc * sizeof(*c->v));

		if (!p)
			return -ENOMEM;
		c->v = p;
		c->cap = nc;
	}
	c->v[c->n++] = e;
	return 0;
}

/* Journal e's state.  Rewrites the journal compacted when it holds many
 * more records than ids. */
static enum txn_err persist(struct txn_coord *c, const struct txn_entry *e, bool sync)
{
	int rc = txn_log_write(&c->jl, e, sync);

	if (rc < 0) {
		log_error("transactions: cannot journal %s: %s", e->tid, err_str(rc));
		return TXN_ERR_KAFKA_STORAGE_ERROR;
	}
	if (c->jl.records > 4 * (uint64_t)c->n + 1024) {
		rc = txn_log_rewrite(&c->jl, c->v, c->n);
		if (rc < 0)
			log_warn("transactions: cannot compact the journal: %s", err_str(rc));
	}
	return TXN_OK;
}

/* Append the markers not written yet.  True when every one is. */
static bool write_markers(struct txn_coord *c, struct txn_entry *e, bool commit)
{
	bool all = true;

	for (size_t i = 0; i < e->nparts; i++) {
		struct txn_part *p = &e->parts[i];
		struct engine_append_result res;
		int rc;

		if (p->marker != -1)
			continue;
		rc = engine_append_marker(c->log, p->topic, p->partition, e->pid, e->epoch, commit,
					  0, &res);
		if (rc == -ERR_NOT_FOUND) {
			p->marker = MARKER_GONE;
		} else if (rc < 0) {
			log_warn("transactions: %s: marker on %s-%d: %s (retrying)", e->tid,
				 p->topic, p->partition, err_str(rc));
			all = false;
		} else {
			p->marker = res.last_offset;
		}
	}
	return all;
}

/* A Prepare* transaction whose markers are all visible becomes Complete*. */
static bool settle(struct txn_coord *c, struct txn_entry *e)
{
	bool commit = e->state == TXN_PREPARE_COMMIT;

	if (e->state != TXN_PREPARE_COMMIT && e->state != TXN_PREPARE_ABORT)
		return true;
	if (!write_markers(c, e, commit))
		return false;
	for (size_t i = 0; i < e->nparts; i++) {
		struct engine_partition_info pi;
		const struct txn_part *p = &e->parts[i];

		if (p->marker == MARKER_GONE)
			continue;
		if (engine_partition_info(c->log, p->topic, p->partition, &pi) < 0)
			continue; /* deleted meanwhile */
		if (pi.visible <= p->marker)
			return false;
	}
	e->state = commit ? TXN_COMPLETE_COMMIT : TXN_COMPLETE_ABORT;
	txn_entry_reset(e);
	/* no fsync: lost, the restart writes the markers once more */
	persist(c, e, false);
	if (commit)
		c->st.commits++;
	else
		c->st.aborts++;
	return true;
}

static void apply_offsets(struct txn_coord *c, const struct txn_entry *e)
{
	if (!c->cfg.apply_offsets)
		return;
	/* one call per offset: a group's staged offsets are not contiguous, and
	 * the hook batches its journal writes anyway */
	for (size_t i = 0; i < e->noffs; i++) {
		int rc = c->cfg.apply_offsets(c->cfg.arg, e->offs[i].group, &e->offs[i], 1);

		if (rc < 0)
			log_error("transactions: %s: committing offsets of group %s: %s", e->tid,
				  e->offs[i].group, err_str(rc));
	}
}

/* Ongoing -> PrepareAbort (durable), markers, maybe CompleteAbort.  bump:
 * fence the producer (timeout, a new instance). */
static enum txn_err begin_abort(struct txn_coord *c, struct txn_entry *e, bool bump)
{
	enum txn_err err;

	if (bump && e->epoch < INT16_MAX - 1)
		e->epoch++;
	e->state = TXN_PREPARE_ABORT;
	for (size_t i = 0; i < e->noffs; i++) {
		mem_free(e->offs[i].group);
		mem_free(e->offs[i].topic);
		mem_free(e->offs[i].metadata);
	}
	e->noffs = 0;
	err = persist(c, e, true);
	if (err)
		return err;
	settle(c, e);
	return TXN_OK;
}

/* The producer of a request against its transactional.id. */
static enum txn_err check_producer(struct txn_coord *c, const struct txn_entry *e, int64_t pid,
				   int16_t epoch)
{
	if (!e || pid != e->pid)
		return TXN_ERR_INVALID_PRODUCER_ID_MAPPING;
	if (epoch != e->epoch) {
		c->st.fenced++;
		return TXN_ERR_PRODUCER_FENCED;
	}
	return TXN_OK;
}

static int check_produce(void *arg, const char *topic, int32_t partition, int64_t pid,
			 int16_t epoch)
{
	struct txn_coord *c = arg;
	const struct txn_entry *e;
	int rc = 0;

	pthread_mutex_lock(&c->mu);
	e = find_pid(c, pid);
	if (!e)
		rc = -ERR_TXN_STATE;
	else if (epoch < e->epoch)
		rc = -ERR_FENCED;
	else if (epoch != e->epoch || e->state != TXN_ONGOING ||
		 !txn_entry_has_part(e, topic, partition))
		rc = -ERR_TXN_STATE;
	if (rc == -ERR_FENCED)
		c->st.fenced++;
	pthread_mutex_unlock(&c->mu);
	return rc;
}

/* ---------------------------------------------------------------- requests */

static enum txn_err new_id(struct txn_coord *c, const char *tid, int32_t timeout_ms,
			   const char *principal, struct txn_entry **out)
{
	struct txn_entry *e = mem_calloc(1, sizeof(*e));
	int rc;

	if (!e)
		return TXN_ERR_COORDINATOR_NOT_AVAILABLE;
	e->tid = mem_strdup(tid);
	rc = e->tid ? 0 : -ENOMEM;
	if (rc == 0)
		rc = c->cfg.alloc_pid ? c->cfg.alloc_pid(c->cfg.arg, principal, &e->pid)
				      : engine_producer_id_alloc(c->log, &e->pid);
	if (rc == 0)
		rc = insert(c, e);
	if (rc < 0) {
		log_error("transactions: cannot add %s: %s", tid, err_str(rc));
		txn_entry_free(e);
		return TXN_ERR_COORDINATOR_NOT_AVAILABLE;
	}
	e->timeout_ms = timeout_ms;
	e->state = TXN_EMPTY;
	*out = e;
	return TXN_OK;
}

enum txn_err txn_init_producer(struct txn_coord *c, const char *tid, int32_t timeout_ms,
			       int64_t pid_in, int16_t epoch_in, const char *principal,
			       int64_t *pid, int16_t *epoch)
{
	struct txn_entry *e;
	enum txn_err err = TXN_OK;

	*pid = -1;
	*epoch = -1;
	if (timeout_ms <= 0 || timeout_ms > c->cfg.max_timeout_ms)
		return TXN_ERR_INVALID_TRANSACTION_TIMEOUT;
	pthread_mutex_lock(&c->mu);
	e = find_tid(c, tid);
	if (!e) {
		err = new_id(c, tid, timeout_ms, principal, &e);
		goto write;
	}
	if (pid_in >= 0 && (pid_in != e->pid || epoch_in != e->epoch)) {
		err = pid_in != e->pid ? TXN_ERR_INVALID_PRODUCER_ID_MAPPING
				       : TXN_ERR_PRODUCER_FENCED;
		goto out;
	}
	if (e->state == TXN_ONGOING)
		err = begin_abort(c, e, true);
	if (!err && !settle(c, e))
		err = TXN_ERR_CONCURRENT_TRANSACTIONS; /* the client retries */
	if (err)
		goto out;
	if (e->epoch >= INT16_MAX - 1) {
		int64_t np;
		int rc = c->cfg.alloc_pid ? c->cfg.alloc_pid(c->cfg.arg, principal, &np)
					  : engine_producer_id_alloc(c->log, &np);

		if (rc < 0) {
			err = TXN_ERR_COORDINATOR_NOT_AVAILABLE;
			goto out;
		}
		e->pid = np;
		e->epoch = 0;
	} else {
		e->epoch++;
	}
	e->timeout_ms = timeout_ms;
write:
	if (!err)
		err = persist(c, e, true);
	if (!err) {
		*pid = e->pid;
		*epoch = e->epoch;
	}
out:
	pthread_mutex_unlock(&c->mu);
	return err;
}

/* The common start of AddPartitions/AddOffsets: the producer may (re)open
 * its transaction. */
static enum txn_err open_txn(struct txn_coord *c, struct txn_entry *e, int64_t pid, int16_t epoch)
{
	enum txn_err err = check_producer(c, e, pid, epoch);

	if (err)
		return err;
	if (e->state == TXN_PREPARE_COMMIT || e->state == TXN_PREPARE_ABORT) {
		if (!settle(c, e))
			return TXN_ERR_CONCURRENT_TRANSACTIONS;
	}
	if (e->state != TXN_ONGOING) {
		txn_entry_reset(e);
		e->state = TXN_ONGOING;
		e->start_ms = clock_wall_ms();
	}
	return TXN_OK;
}

enum txn_err txn_add_partitions(struct txn_coord *c, const char *tid, int64_t pid, int16_t epoch,
				const struct txn_tp *tps, size_t n)
{
	struct txn_entry *e;
	enum txn_err err;
	bool added = false;

	pthread_mutex_lock(&c->mu);
	e = find_tid(c, tid);
	err = open_txn(c, e, pid, epoch);
	for (size_t i = 0; i < n && !err; i++) {
		int rc = txn_entry_add_part(e, tps[i].topic, tps[i].partition);

		if (rc < 0)
			err = TXN_ERR_COORDINATOR_NOT_AVAILABLE;
		added |= rc > 0;
	}
	if (!err && added)
		err = persist(c, e, true);
	pthread_mutex_unlock(&c->mu);
	return err;
}

enum txn_err txn_add_offsets(struct txn_coord *c, const char *tid, int64_t pid, int16_t epoch,
			     const char *group)
{
	struct txn_entry *e;
	enum txn_err err;
	int rc;

	pthread_mutex_lock(&c->mu);
	e = find_tid(c, tid);
	err = open_txn(c, e, pid, epoch);
	if (!err) {
		rc = txn_entry_add_group(e, group);
		if (rc < 0)
			err = TXN_ERR_COORDINATOR_NOT_AVAILABLE;
		else if (rc > 0)
			err = persist(c, e, true);
	}
	pthread_mutex_unlock(&c->mu);
	return err;
}

enum txn_err txn_stage_offsets(struct txn_coord *c, const char *tid, int64_t pid, int16_t epoch,
			       const char *group, const struct txn_offset *o, size_t n)
{
	struct txn_entry *e;
	enum txn_err err;

	pthread_mutex_lock(&c->mu);
	e = find_tid(c, tid);
	err = check_producer(c, e, pid, epoch);
	if (!err && (e->state != TXN_ONGOING || !txn_entry_has_group(e, group)))
		err = TXN_ERR_INVALID_TXN_STATE;
	for (size_t i = 0; i < n && !err; i++) {
		struct txn_offset x = o[i];

		x.group = (char *)group;
		if (txn_entry_add_offset(e, &x) < 0)
			err = TXN_ERR_COORDINATOR_NOT_AVAILABLE;
	}
	pthread_mutex_unlock(&c->mu);
	return err;
}

enum txn_err txn_end(struct txn_coord *c, const char *tid, int64_t pid, int16_t epoch, bool commit)
{
	struct txn_entry *e;
	enum txn_err err;

	pthread_mutex_lock(&c->mu);
	e = find_tid(c, tid);
	err = check_producer(c, e, pid, epoch);
	if (err)
		goto out;
	switch (e->state) {
	case TXN_ONGOING:
		break;
	case TXN_PREPARE_COMMIT:
	case TXN_PREPARE_ABORT:
		/* a retry of this very EndTxn is answered once it is settled */
		if ((e->state == TXN_PREPARE_COMMIT) != commit)
			err = TXN_ERR_INVALID_TXN_STATE;
		else if (!settle(c, e))
			err = TXN_ERR_CONCURRENT_TRANSACTIONS;
		goto out;
	case TXN_COMPLETE_COMMIT:
	case TXN_COMPLETE_ABORT:
		if ((e->state == TXN_COMPLETE_COMMIT) != commit)
			err = TXN_ERR_INVALID_TXN_STATE;
		goto out;
	default:
		err = TXN_ERR_INVALID_TXN_STATE;
		goto out;
	}
	if (!commit) {
		err = begin_abort(c, e, false);
		goto out;
	}
	e->state = TXN_PREPARE_COMMIT;
	err = persist(c, e, true);
	if (err) {
		e->state = TXN_ONGOING;
		goto out;
	}
	apply_offsets(c, e);
	settle(c, e);
out:
	pthread_mutex_unlock(&c->mu);
	return err;
}

bool txn_offsets_pending(struct txn_coord *c, const char *group, const char *topic,
			 int32_t partition)
{
	bool pending = false;

	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < c->n && !pending; i++) {
		const struct txn_entry *e = c->v[i];

		if (e->state != TXN_ONGOING && e->state != TXN_PREPARE_COMMIT)
			continue;
		for (size_t j = 0; j < e->noffs && !pending; j++)
			pending = e->offs[j].partition == partition &&
				  strcmp(e->offs[j].group, group) == 0 &&
				  strcmp(e->offs[j].topic, topic) == 0;
	}
	pthread_mutex_unlock(&c->mu);
	return pending;
}

int txn_describe(struct txn_coord *c, const char *tid, struct txn_info *out)
{
	const struct txn_entry *e;
	int rc = 0;

	pthread_mutex_lock(&c->mu);
	e = find_tid(c, tid);
	if (!e) {
		rc = -ERR_NOT_FOUND;
	} else {
		out->pid = e->pid;
		out->epoch = e->epoch;
		out->state = e->state;
		out->timeout_ms = e->timeout_ms;
		out->npartitions = e->nparts;
	}
	pthread_mutex_unlock(&c->mu);
	return rc;
}

void txn_get_stats(struct txn_coord *c, struct txn_stats *out)
{
	pthread_mutex_lock(&c->mu);
	*out = c->st;
	out->ids = c->n;
	out->ongoing = 0;
	for (size_t i = 0; i < c->n; i++)
		out->ongoing += c->v[i]->state == TXN_ONGOING;
	pthread_mutex_unlock(&c->mu);
}

/* ---------------------------------------------------------------- lifecycle */

void txn_coord_tick(struct txn_coord *c, int64_t now_ms)
{
	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < c->n; i++) {
		struct txn_entry *e = c->v[i];

		if (e->state == TXN_ONGOING && now_ms - e->start_ms > e->timeout_ms) {
			log_info("transactions: %s: aborting a transaction open for %lld ms "
				 "(timeout %d ms)",
				 e->tid, (long long)(now_ms - e->start_ms), e->timeout_ms);
			c->st.timeouts++;
			begin_abort(c, e, true);
		} else {
			settle(c, e);
		}
	}
	pthread_mutex_unlock(&c->mu);
}

static void *run(void *arg)
{
	struct txn_coord *c = arg;

	pthread_mutex_lock(&c->mu);
	while (!c->stop) {
		struct timespec ts = clock_deadline(CLOCK_MONOTONIC, c->cfg.check_interval_ms);

		pthread_cond_timedwait(&c->cond, &c->mu, &ts);
		if (c->stop)
			break;
		pthread_mutex_unlock(&c->mu);
		txn_coord_tick(c, clock_wall_ms());
		pthread_mutex_lock(&c->mu);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

static int replayed(void *arg, struct txn_entry *e)
{
	struct txn_coord *c = arg;

	for (size_t i = 0; i < c->n; i++) {
		if (strcmp(c->v[i]->tid, e->tid) == 0) {
			txn_entry_free(c->v[i]);
			c->v[i] = e;
			return 0;
		}
	}
	if (insert(c, e) < 0) {
		txn_entry_free(e);
		return -ENOMEM;
	}
	return 0;
}

/* After a restart: finish what the journal says was under way. */
static void recover(struct txn_coord *c)
{
	for (size_t i = 0; i < c->n; i++) {
		struct txn_entry *e = c->v[i];

		for (size_t j = 0; j < e->nparts; j++)
			e->parts[j].marker = -1; /* write them again */
		if (e->state == TXN_ONGOING) {
			log_info("transactions: %s: aborting the transaction open at the restart",
				 e->tid);
			begin_abort(c, e, true);
		} else if (e->state == TXN_PREPARE_COMMIT) {
			apply_offsets(c, e);
			settle(c, e);
		} else {
			settle(c, e);
		}
	}
}

int txn_coord_open(struct engine *log, const struct txn_config *cfg, struct txn_coord **out)
{
	struct txn_coord *c = mem_calloc(1, sizeof(*c));
	pthread_condattr_t ca;
	int rc;

	*out = NULL;
	if (!c)
		return -ENOMEM;
	pthread_mutex_init(&c->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cond, &ca);
	pthread_condattr_destroy(&ca);
	c->log = log;
	c->cfg = *cfg;
	c->cfg.meta_dir = NULL;
	c->jl.fd = -1;
	if (c->cfg.check_interval_ms <= 0)
		c->cfg.check_interval_ms = 1000;
	rc = txn_log_open(&c->jl, cfg->meta_dir, replayed, c);
	if (rc == 0 && c->jl.records > c->n)
		rc = txn_log_rewrite(&c->jl, c->v, c->n);
	if (rc < 0)
		goto out;
	pthread_mutex_lock(&c->mu);
	recover(c);
	pthread_mutex_unlock(&c->mu);
	engine_set_txn_check(log, check_produce, c);
	rc = -pthread_create(&c->thread, NULL, run, c);
	if (rc == 0)
		c->started = true;
out:
	if (rc < 0) {
		txn_coord_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void txn_coord_free(struct txn_coord *c)
{
	if (!c)
		return;
	if (c->log)
		engine_set_txn_check(c->log, NULL, NULL);
	if (c->started) {
		pthread_mutex_lock(&c->mu);
		c->stop = true;
		pthread_cond_signal(&c->cond);
		pthread_mutex_unlock(&c->mu);
		pthread_join(c->thread, NULL);
	}
	for (size_t i = 0; i < c->n; i++)
		txn_entry_free(c->v[i]);
	mem_free(c->v);
	txn_log_close(&c->jl);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->mu);
	mem_free(c);
}
