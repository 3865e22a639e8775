/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The log engine's public face (store/engine/engine.h), run-time half: open and close,
 * lookups that pin a partition for the duration of a call, the flusher pool
 * that group-commits dirty partitions, the maintenance thread (periodic
 * flushes, recovery-point checkpoints, retention, producer expiry), producer
 * id blocks and stats.  Topics live in store/engine/engine_topic.c; the locking rules
 * are in store/engine/engine_int.h.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/config.h"
#include "lib/topic_name.h"
#include "store/engine/bidx_worker.h"
#include "store/engine/engine_int.h"

#define PID_BLOCK 1000
#define CHECKPOINT_MIN_MS 1000

void engine_config_init(struct engine_config *c)
{
	memset(c, 0, sizeof(*c));
	c->data_dir = "./data";
	c->fsync = ENGINE_FSYNC_ALWAYS;
	c->fsync_interval_ms = 1000;
	c->auto_create = true;
	c->defaults.partitions = 1;
	c->defaults.retention_ms = 7LL * 24 * 3600 * 1000;
	c->defaults.retention_bytes = -1;
	c->defaults.segment_bytes = 1LL << 30;
	c->defaults.segment_ms = 7LL * 24 * 3600 * 1000;
	c->defaults.max_batch_bytes = 8LL << 20;
	c->index_interval_bytes = 4096;
	c->retention_check_ms = 30000;
}

int engine_part_dir(const struct engine *log, const char *topic, int32_t p, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s/%s-%d", log->data_dir, topic, p);

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* ---------------------------------------------------------------- flushing */

static void notify(struct engine *log)
{
	pthread_mutex_lock(&log->l_mu);
	if (log->listener)
		log->listener(log->listener_arg);
	pthread_mutex_unlock(&log->l_mu);
}

/* hooks.dirty: queue the partition for a flusher (partition mutex held). */
static void enqueue(struct partition *p, void *arg)
{
	struct engine *log = arg;

	pthread_mutex_lock(&log->q_mu);
	if (!p->queued && !log->q_stop) {
		p->queued = true;
		partition_ref(p);
		p->flush_next = NULL;
		if (log->q_tail)
			log->q_tail->flush_next = p;
		else
			log->q_head = p;
		log->q_tail = p;
		pthread_cond_signal(&log->q_cond);
	}
	pthread_mutex_unlock(&log->q_mu);
}

static void *flusher_main(void *arg)
{
	struct engine *log = arg;

	pthread_mutex_lock(&log->q_mu);
	for (;;) {
		struct partition *p;
		bool again, moved;

		while (!log->q_head && !log->q_stop)
			pthread_cond_wait(&log->q_cond, &log->q_mu);
		if (log->q_stop)
			break;
		p = log->q_head;
		log->q_head = p->flush_next;
		if (!log->q_head)
			log->q_tail = NULL;
		p->queued = false;
		pthread_mutex_unlock(&log->q_mu);

		again = partition_flush(p, &moved);
		if (moved)
			notify(log);
		if (again)
			enqueue(p, log);
		partition_unref(p);
		pthread_mutex_lock(&log->q_mu);
	}
	pthread_mutex_unlock(&log->q_mu);
	return NULL;
}

/* Pin every partition (for the maintenance thread and close).  The caller
 * unrefs each and frees the arrays. */
struct pinned {
	struct partition **p;
	struct topic_config *cfg;
	size_t n;
};

static int pin_all(struct engine *log, struct pinned *out)
{
	size_t n = 0, k = 0;

	memset(out, 0, sizeof(*out));
	pthread_rwlock_rdlock(&log->topics_lock);
	for (size_t i = 0; i < log->ntopics; i++)
		n += (size_t)log->topics[i]->nparts;
	out->p = mem_alloc((n ? n : 1) * sizeof(*out->p));
	out->cfg = mem_alloc((n ? n : 1) * sizeof(*out->cfg));
	if (!out->p || !out->cfg) {
		pthread_rwlock_unlock(&log->topics_lock);
		mem_free(out->p);
		mem_free(out->cfg);
		memset(out, 0, sizeof(*out));
		return -ENOMEM;
	}
	for (size_t i = 0; i < log->ntopics; i++) {
		for (int32_t j = 0; j < log->topics[i]->nparts; j++) {
			out->p[k] = log->topics[i]->parts[j];
			out->cfg[k] = log->topics[i]->cfg;
			partition_ref(out->p[k]);
			k++;
		}
	}
	pthread_rwlock_unlock(&log->topics_lock);
	out->n = k;
	return 0;
}

static void unpin_all(struct pinned *pn)
{
	for (size_t i = 0; i < pn->n; i++)
		partition_unref(pn->p[i]);
	mem_free(pn->p);
	mem_free(pn->cfg);
	memset(pn, 0, sizeof(*pn));
}

int engine_write_checkpoint(struct engine *log, bool force)
{
	struct checkpoint c;
	uint64_t sum = 1469598103934665603ULL;
	int rc = 0;

	pthread_mutex_lock(&log->ckpt_mu);
	checkpoint_init(&c);
	pthread_rwlock_rdlock(&log->topics_lock);
	for (size_t i = 0; i < log->ntopics && rc == 0; i++) {
		struct topic *t = log->topics[i];

		for (int32_t j = 0; j < t->nparts && rc == 0; j++) {
			struct partition_point pt = partition_durable(t->parts[j]);

			rc = checkpoint_add(&c, t->name, j, &pt);
			sum = (sum ^ (uint64_t)pt.offset ^ ((uint64_t)pt.pos << 20)) *
			      1099511628211ULL;
			sum = (sum ^ (uint64_t)pt.seg_base ^ (uint64_t)j) * 1099511628211ULL;
			for (const char *s = t->name; *s; s++)
				sum = (sum ^ (uint8_t)*s) * 1099511628211ULL;
		}
	}
	pthread_rwlock_unlock(&log->topics_lock);
	if (rc == 0 && (force || !log->ckpt_valid || sum != log->ckpt_sum)) {
		rc = checkpoint_save(&c, log->meta_dir);
		if (rc == 0) {
			log->ckpt_sum = sum;
			log->ckpt_valid = true;
		} else {
			log_error("log: cannot write %s/recovery-points: %s", log->meta_dir,
				  err_str(rc));
		}
	}
	checkpoint_release(&c);
	pthread_mutex_unlock(&log->ckpt_mu);
	return rc;
}

static int checkpoint_hook(void *arg)
{
	return engine_write_checkpoint(arg, true);
}

static void *maint_main(void *arg)
{
	struct engine *log = arg;
	uint64_t now = clock_mono_ms(), next_flush = now, next_ckpt = now + CHECKPOINT_MIN_MS;
	/* The first retention pass, like every later one, waits retention_check
	 * after open: an operator who set a long interval (to read old data
	 * before it goes) does not lose it within a second of a restart. */
	uint64_t next_ret = now + (uint64_t)log->cfg.retention_check_ms, tick = 250;

	if (log->cfg.fsync == ENGINE_FSYNC_INTERVAL && (uint64_t)log->cfg.fsync_interval_ms < tick)
		tick = (uint64_t)log->cfg.fsync_interval_ms;
	pthread_mutex_lock(&log->m_mu);
	while (!log->m_stop) {
		struct timespec ts = clock_deadline(CLOCK_MONOTONIC, (int64_t)tick);
		struct pinned pn;

		pthread_cond_timedwait(&log->m_cond, &log->m_mu, &ts);
		if (log->m_stop)
			break;
		pthread_mutex_unlock(&log->m_mu);
		now = clock_mono_ms();
		if (pin_all(log, &pn) == 0) {
			bool flush_due = now >= next_flush;

			/* interval mode: every fsync_interval; otherwise a safety net
			 * for partitions whose flush must be retried */
			if (flush_due) {
				next_flush = now + (log->cfg.fsync == ENGINE_FSYNC_INTERVAL
							    ? (uint64_t)log->cfg.fsync_interval_ms
							    : 1000);
				for (size_t i = 0; i < pn.n; i++) {
					if (partition_is_dirty(pn.p[i])) {
						pthread_mutex_lock(&pn.p[i]->mu);
						enqueue(pn.p[i], log);
						pthread_mutex_unlock(&pn.p[i]->mu);
					}
				}
			}
			if (now >= next_ret) {
				int64_t wall = clock_wall_ms();

				next_ret = now + (uint64_t)log->cfg.retention_check_ms;
				for (size_t i = 0; i < pn.n; i++) {
					partition_retention(pn.p[i], &pn.cfg[i], wall);
					partition_expire_producers(pn.p[i], wall);
				}
			}
			unpin_all(&pn);
		}
		if (now >= next_ckpt) {
			next_ckpt = now + CHECKPOINT_MIN_MS;
			(void)engine_write_checkpoint(log, false);
		}
		pthread_mutex_lock(&log->m_mu);
	}
	pthread_mutex_unlock(&log->m_mu);
	return NULL;
}

/* ---------------------------------------------------------------- open/close */

static int open_partition(struct engine *log, const char *topic, int32_t idx,
			  const struct checkpoint *ck, struct partition **out)
{
	struct partition_params pp;
	const struct partition_point *rp = ck ? checkpoint_find(ck, topic, idx) : NULL;
	char dir[4096];
	int rc = engine_part_dir(log, topic, idx, dir, sizeof(dir));

	if (rc < 0)
		return rc;
	memset(&pp, 0, sizeof(pp));
	pp.topic = topic;
	pp.index = idx;
	pp.dir = dir;
	pp.fsync = log->cfg.fsync;
	pp.index_interval = log->cfg.index_interval_bytes;
	if (rp)
		pp.rp = *rp;
	pp.counters = &log->counters;
	pp.hooks.dirty = enqueue;
	pp.hooks.checkpoint = checkpoint_hook;
	pp.hooks.arg = log;
	rc = partition_open(&pp, out);
	if (rc < 0)
		log_error("log: cannot open partition %s-%d: %s", topic, idx, err_str(rc));
	return rc;
}

int engine_open_parts(struct engine *log, const char *name, int32_t from, int32_t to,
		      struct partition **parts, const struct checkpoint *ck)
{
	for (int32_t i = from; i < to; i++) {
		int rc = open_partition(log, name, i, ck, &parts[i]);

		if (rc < 0) {
			for (int32_t j = from; j < i; j++) {
				partition_unref(parts[j]);
				parts[j] = NULL;
			}
			return rc;
		}
	}
	return 0;
}

/* A data directory made by someone else (an older store, mkdir) keeps its
 * mode; say so when every local user may read the logs in it. */
static void warn_if_public(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) == 0 && (st.st_mode & S_IROTH))
		log_warn("log: %s is readable by every local user (mode %03o): "
			 "chmod o-rwx it to keep the logs private",
			 dir, (unsigned)(st.st_mode & 0777));
}

static void raise_fd_limit(void)
{
	struct rlimit rl;

	/* every segment keeps its .log open for readers */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* A data dir from before topic ids (or a rebuilt registry): give every
 * topic one and persist them before anyone can see them. */
static int assign_topic_ids(struct engine *log)
{
	int n = registry_assign_ids(&log->persisted);

	if (n <= 0)
		return n;
	log_info("log: gave %d existing topics their topic ids", n);
	return registry_save(&log->persisted, log->meta_dir);
}

static void engine_free(struct engine *log)
{
	for (size_t i = 0; i < log->ntopics; i++)
		engine_topic_free(log->topics[i]);
	mem_free(log->topics);
	hmap_release(&log->topics_by_id);
	registry_release(&log->persisted);
	if (log->lock_fd >= 0)
		close(log->lock_fd);
	pthread_mutex_destroy(&log->admin_mu);
	pthread_rwlock_destroy(&log->topics_lock);
	pthread_mutex_destroy(&log->counters.err_mu);
	pthread_mutex_destroy(&log->q_mu);
	pthread_cond_destroy(&log->q_cond);
	pthread_mutex_destroy(&log->m_mu);
	pthread_cond_destroy(&log->m_cond);
	pthread_mutex_destroy(&log->ckpt_mu);
	pthread_mutex_destroy(&log->l_mu);
	pthread_mutex_destroy(&log->pid_mu);
	diskspace_free(log->disk);
	mem_free(log->data_dir);
	mem_free(log->meta_dir);
	mem_free(log);
}

static struct engine *engine_alloc(const struct engine_config *cfg)
{
	struct engine *log = mem_calloc(1, sizeof(*log));
	pthread_rwlockattr_t ra;
	pthread_condattr_t ca;
	struct buf b;

	if (!log)
		return NULL;
	log->cfg = *cfg;
	log->lock_fd = -1;
	pthread_mutex_init(&log->admin_mu, NULL);
	pthread_rwlockattr_init(&ra);
	/* a waiting admin operation must not starve behind a stream of readers */
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&log->topics_lock, &ra);
	pthread_rwlockattr_destroy(&ra);
	pthread_mutex_init(&log->counters.err_mu, NULL);
	atomic_init(&log->counters.writable, true);
	pthread_mutex_init(&log->q_mu, NULL);
	pthread_cond_init(&log->q_cond, NULL);
	pthread_mutex_init(&log->m_mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&log->m_cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&log->ckpt_mu, NULL);
	pthread_mutex_init(&log->l_mu, NULL);
	pthread_mutex_init(&log->pid_mu, NULL);
	registry_init(&log->persisted);
	hmap_init(&log->topics_by_id);
	log->data_dir = mem_strdup(cfg->data_dir ? cfg->data_dir : "./data");
	buf_init(&b, 4096);
	if (log->data_dir && buf_printf(&b, "%s/meta", log->data_dir) == 0 && buf_cstr(&b) == 0)
		log->meta_dir = mem_strdup((const char *)b.data);
	buf_release(&b);
	if (log->data_dir)
		log->disk =
			diskspace_new(log->data_dir, cfg->min_free_bytes, cfg->min_free_percent);
	if (!log->data_dir || !log->meta_dir || !log->disk) {
		engine_free(log);
		return NULL;
	}
	log->cfg.data_dir = NULL;
	return log;
}

static int open_dirs(struct engine *log)
{
	char path[4096];
	int rc = fs_mkdirs(log->meta_dir, FS_DIR_MODE);

	if (rc < 0)
		return rc;
	if (snprintf(path, sizeof(path), "%s/lock", log->meta_dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	log->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, FS_FILE_MODE);
	if (log->lock_fd < 0)
		return -errno;
	if (flock(log->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
		log_error("log: %s is in use by another sluice-store", log->data_dir);
		return rc;
	}
	if (snprintf(path, sizeof(path), "%s/trash", log->meta_dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	SLUICE_IGNORE(fs_rmtree(path)); /* leftovers; fs_mkdirs() reports a real problem */
	rc = fs_mkdirs(path, FS_DIR_MODE);
	if (rc == 0)
		rc = fs_fsync_dir(log->data_dir);
	return rc;
}

static int load_pid(struct engine *log)
{
	int64_t next = 0;
	int rc = checkpoint_load_pid(log->meta_dir, &next);

	if (rc < 0) {
		if (rc != -ENOENT || log->persisted.n > 0) {
			/* ids handed out before are unknown: start past any of them */
			next = clock_wall_ms() * 1000;
			log_warn(
				"log: %s/producer-ids unreadable (%s); producer ids continue at %lld",
				log->meta_dir, err_str(rc), (long long)next);
		}
		/* from now on a missing file means a lost one */
		rc = checkpoint_save_pid(log->meta_dir, next);
		if (rc < 0)
			return rc;
	}
	log->pid_next = log->pid_limit = next;
	return 0;
}

int engine_open(const struct engine_config *cfg, struct engine **out)
{
	struct engine *log = engine_alloc(cfg);
	struct checkpoint ck;
	char why[CFG_ERR_MAX];
	int rc;

	*out = NULL;
	if (!log)
		return -ENOMEM;
	checkpoint_init(&ck);
	if (registry_check_config(&log->cfg.defaults) < 0 || log->cfg.index_interval_bytes < 1 ||
	    log->cfg.retention_check_ms < 1 || log->cfg.fsync_interval_ms < 1) {
		rc = -ERR_INVALID;
		goto out;
	}
	raise_fd_limit();
	rc = fs_mkdirs(log->data_dir, FS_DIR_MODE);
	if (rc == 0)
		warn_if_public(log->data_dir);
	if (rc == 0)
		rc = open_dirs(log);
	if (rc < 0)
		goto out;
	rc = registry_load(&log->persisted, log->meta_dir, &log->cfg.defaults, why, sizeof(why));
	if (rc == -ENOENT) {
		registry_init(&log->persisted);
		rc = engine_topic_reconstruct(log);
	} else if (rc < 0) {
		log_error("log: topic registry: %s", why);
	}
	if (rc == 0)
		rc = assign_topic_ids(log);
	if (rc < 0)
		goto out;
	rc = checkpoint_load(&ck, log->meta_dir);
	if (rc < 0) {
		log_warn("log: %s/recovery-points unreadable (%s): validating every segment",
			 log->meta_dir, err_str(rc));
		rc = 0;
	}
	rc = load_pid(log);
	if (rc < 0)
		goto out;
	engine_topic_remove_orphans(log);
	for (size_t i = 0; i < log->persisted.n; i++) {
		const struct registry_entry *e = &log->persisted.v[i];
		struct topic *t = mem_calloc(1, sizeof(*t));

		if (!t) {
			rc = -ENOMEM;
			goto out;
		}
		t->name = mem_strdup(e->name);
		t->cfg = e->cfg;
		memcpy(t->id, e->id, sizeof(t->id));
		t->parts = mem_calloc((size_t)e->cfg.partitions, sizeof(*t->parts));
		if (!t->name || !t->parts) {
			engine_topic_free(t);
			rc = -ENOMEM;
			goto out;
		}
		rc = engine_open_parts(log, t->name, 0, e->cfg.partitions, t->parts, &ck);
		if (rc == 0)
			t->nparts = e->cfg.partitions;
		if (rc == 0)
			rc = engine_topic_insert(log, t);
		if (rc < 0) {
			engine_topic_free(t);
			goto out;
		}
	}
	/* recovery may have truncated: record where every partition stands */
	rc = engine_write_checkpoint(log, true);
	if (rc < 0)
		goto out;
	for (int i = 0; i < FLUSH_THREADS; i++) {
		if (pthread_create(&log->flushers[i], NULL, flusher_main, log) != 0) {
			rc = -EAGAIN;
			goto out;
		}
		log->nflushers++;
	}
	if (pthread_create(&log->maint, NULL, maint_main, log) != 0) {
		rc = -EAGAIN;
		goto out;
	}
	log->m_started = true;
	if (!log->cfg.no_block_index) {
		rc = bidx_worker_start(log, cfg->block_index_count, &log->bidx);
		if (rc < 0)
			goto out;
	}
	log_info("log: opened %s: %zu topics, fsync %s", log->data_dir, log->ntopics,
		 log->cfg.fsync == ENGINE_FSYNC_ALWAYS     ? "always"
		 : log->cfg.fsync == ENGINE_FSYNC_INTERVAL ? "interval"
							   : "never");
out:
	checkpoint_release(&ck);
	if (rc < 0) {
		engine_close(log);
		return rc;
	}
	*out = log;
	return 0;
}

void engine_close(struct engine *log)
{
	struct pinned pn;

	if (!log)
		return;
	bidx_worker_stop(log->bidx);
	log->bidx = NULL;
	if (log->m_started) {
		pthread_mutex_lock(&log->m_mu);
		log->m_stop = true;
		pthread_cond_broadcast(&log->m_cond);
		pthread_mutex_unlock(&log->m_mu);
		pthread_join(log->maint, NULL);
	}
	pthread_mutex_lock(&log->q_mu);
	log->q_stop = true;
	pthread_cond_broadcast(&log->q_cond);
	pthread_mutex_unlock(&log->q_mu);
	for (int i = 0; i < log->nflushers; i++)
		pthread_join(log->flushers[i], NULL);
	while (log->q_head) {
		struct partition *p = log->q_head;

		log->q_head = p->flush_next;
		p->queued = false;
		partition_unref(p);
	}
	log->q_tail = NULL;
	/* the final flush, then checkpoints that make the next open instant */
	if (log->nflushers && pin_all(log, &pn) == 0) {
		/* every mode syncs on a clean shutdown, so the next open trusts
		 * everything up to the end */
		for (size_t i = 0; i < pn.n; i++) {
			bool moved;
			int k = 0;

			do {
				(void)partition_flush(pn.p[i], &moved);
			} while (++k < 8 && partition_is_dirty(pn.p[i]));
		}
		(void)engine_write_checkpoint(log, true);
		unpin_all(&pn);
	}
	for (size_t i = 0; i < log->ntopics; i++) {
		struct topic *t = log->topics[i];

		for (int32_t j = 0; j < t->nparts; j++) {
			if (log->nflushers)
				partition_close(t->parts[j]);
			else
				partition_unref(t->parts[j]);
			t->parts[j] = NULL;
		}
		t->nparts = 0;
	}
	if (log->nflushers)
		log_info("log: closed %s", log->data_dir);
	engine_free(log);
}

/* ---------------------------------------------------------------- data path */

/* Pin partition p of topic (and copy its topic's config). */
static int get_part(struct engine *log, const char *topic, int32_t p, struct partition **out,
		    struct topic_config *cfg)
{
	struct topic *t;
	int rc = 0;

	pthread_rwlock_rdlock(&log->topics_lock);
	t = engine_topic_find(log, topic);
	if (!t || p < 0 || p >= t->nparts) {
		rc = -ERR_NOT_FOUND;
	} else {
		*out = t->parts[p];
		partition_ref(*out);
		if (cfg)
			*cfg = t->cfg;
	}
	pthread_rwlock_unlock(&log->topics_lock);
	return rc;
}

int engine_partition_info(struct engine *log, const char *topic, int32_t partition,
			  struct engine_partition_info *out)
{
	struct partition *p;
	int rc = get_part(log, topic, partition, &p, NULL);

	if (rc < 0)
		return rc;
	partition_info(p, out);
	partition_unref(p);
	return 0;
}

int engine_get_part(struct engine *log, const char *topic, int32_t partition,
		    struct partition **out)
{
	return get_part(log, topic, partition, out, NULL);
}

int engine_append(struct engine *log, const char *topic, int32_t partition, uint8_t *batch,
		  size_t len, struct engine_append_result *res)
{
	return engine_append_internal(log, topic, partition, batch, len, res, false);
}

/* A transactional batch from a producer: the coordinator says whether its
 * partition is in the producer's open transaction.  Control batches come
 * only from engine_append_marker(). */
static int check_txn(struct engine *log, const char *topic, int32_t partition, const uint8_t *batch,
		     size_t len)
{
	struct batch_info bi;
	int rc = 0;

	if (batch_header_parse(batch, len, &bi) < 0)
		return -ERR_CORRUPT;
	if (bi.attributes & BATCH_ATTR_CONTROL)
		return -ERR_INVALID;
	if (!(bi.attributes & BATCH_ATTR_TRANSACTIONAL))
		return 0;
	if (bi.producer_id < 0)
		return -ERR_INVALID;
	if (!log->txn_check)
		rc = -ERR_TXN_STATE; /* no coordinator: no transaction can be open */
	else
		rc = log->txn_check(log->txn_check_arg, topic, partition, bi.producer_id,
				    bi.producer_epoch);
	return rc;
}

int engine_append_internal(struct engine *log, const char *topic, int32_t partition, uint8_t *batch,
			   size_t len, struct engine_append_result *res, bool marker)
{
	struct topic_config cfg;
	struct partition *p;
	bool moved = false;
	int rc;

	if (!marker) {
		rc = check_txn(log, topic, partition, batch, len);
		if (rc < 0)
			return rc;
	}
	if (diskspace_low(log->disk)) {
		diskspace_refused(log->disk);
		return -ENOSPC;
	}
	rc = get_part(log, topic, partition, &p, &cfg);
	if (rc == -ERR_NOT_FOUND && log->cfg.auto_create && topic_name_valid(topic)) {
		rc = engine_topic_ensure(log, topic);
		if (rc >= 0)
			rc = get_part(log, topic, partition, &p, &cfg);
	}
	if (rc < 0)
		return rc;
	res->log_append_time = -1;
	if (cfg.timestamp_type == ENGINE_TS_LOG_APPEND_TIME && len >= BATCH_HEADER_SIZE) {
		/* Kafka's LogAppendTime: the store's clock dates the batch */
		int64_t now = clock_wall_ms();

		put_be16(batch + BATCH_OFF_ATTRIBUTES,
			 (uint16_t)(get_be16(batch + BATCH_OFF_ATTRIBUTES) |
				    BATCH_ATTR_LOG_APPEND_TIME));
		batch_set_max_ts(batch, len, now);
		res->log_append_time = now;
	}
	rc = partition_append(p, &cfg, batch, len, res, &moved);
	partition_unref(p);
	if (moved)
		notify(log);
	return rc;
}

int engine_find_duplicate(struct engine *log, const char *topic, int32_t partition,
			  const uint8_t *batch, size_t len, struct engine_append_result *res)
{
	struct topic_config cfg;
	struct partition *p;
	int rc = get_part(log, topic, partition, &p, &cfg);

	if (rc < 0)
		return rc;
	rc = partition_find_duplicate(p, batch, len, res);
	partition_unref(p);
	return rc;
}

struct diskspace *engine_diskspace(struct engine *log)
{
	return log ? log->disk : NULL;
}

const char *engine_data_dir(const struct engine *log)
{
	return log->data_dir;
}

int engine_disk_usage(struct engine *log, uint64_t *total, uint64_t *usable)
{
	struct statvfs st;

	if (statvfs(log->data_dir, &st) != 0)
		return -errno;
	*total = (uint64_t)st.f_blocks * st.f_frsize;
	*usable = (uint64_t)st.f_bavail * st.f_frsize;
	return 0;
}

int engine_wait_visible(struct engine *log, const char *topic, int32_t partition, int64_t offset,
			int timeout_ms)
{
	struct partition *p;
	int rc = get_part(log, topic, partition, &p, NULL);

	if (rc < 0)
		return rc;
	rc = partition_wait_visible(p, offset, timeout_ms);
	partition_unref(p);
	return rc;
}

void engine_set_listener(struct engine *log, void (*cb)(void *arg), void *arg)
{
	/* under the lock that notify() holds while calling: once this returns,
	 * the old callback is not running and will not run again */
	pthread_mutex_lock(&log->l_mu);
	log->listener = cb;
	log->listener_arg = arg;
	pthread_mutex_unlock(&log->l_mu);
}

int engine_producer_id_alloc(struct engine *log, int64_t *id)
{
	int rc = 0;

	pthread_mutex_lock(&log->pid_mu);
	if (log->pid_next >= log->pid_limit) {
		/* reserve a block with one durable write; a crash skips its rest */
		rc = checkpoint_save_pid(log->meta_dir, log->pid_next + PID_BLOCK);
		if (rc == 0)
			log->pid_limit = log->pid_next + PID_BLOCK;
	}
	if (rc == 0)
		*id = log->pid_next++;
	pthread_mutex_unlock(&log->pid_mu);
	return rc < 0 ? -ERR_STORAGE : 0;
}

int engine_read(struct engine *log, const char *topic, int32_t partition, int64_t offset,
		size_t max_bytes, struct engine_slice *out)
{
	struct partition *p;
	int rc = get_part(log, topic, partition, &p, NULL);

	if (rc < 0) {
		memset(out, 0, sizeof(*out));
		out->fd = -1;
		return rc;
	}
	rc = partition_read(p, offset, max_bytes, false, out);
	partition_unref(p);
	return rc;
}

void engine_slice_release(struct engine_slice *s)
{
	if (!s)
		return;
	segment_unref(s->ref);
	s->ref = NULL;
	s->fd = -1;
	s->len = 0;
}

int engine_offset_for_time(struct engine *log, const char *topic, int32_t partition, int64_t ts,
			   int64_t *offset)
{
	struct partition *p;
	int rc = get_part(log, topic, partition, &p, NULL);

	if (rc < 0)
		return rc;
	rc = partition_offset_for_time(p, ts, offset);
	partition_unref(p);
	return rc;
}

int engine_offset_max_timestamp(struct engine *log, const char *topic, int32_t partition,
				int64_t *offset, int64_t *ts)
{
	struct partition *p;
	int rc = get_part(log, topic, partition, &p, NULL);

	if (rc < 0)
		return rc;
	rc = partition_max_timestamp(p, offset, ts);
	partition_unref(p);
	return rc;
}

int engine_delete_records(struct engine *log, const char *topic, int32_t partition, int64_t offset,
			  int64_t *low_watermark)
{
	struct topic_config cfg;
	struct partition *p;
	int rc;

	/* one at a time, and never while the topic's directories are moved away */
	pthread_mutex_lock(&log->admin_mu);
	rc = get_part(log, topic, partition, &p, &cfg);
	if (rc == 0) {
		rc = partition_delete_records(p, offset, low_watermark);
		if (rc == 0) /* whole segments below the new start go now */
			(void)partition_retention(p, &cfg, clock_wall_ms());
		partition_unref(p);
	}
	pthread_mutex_unlock(&log->admin_mu);
	return rc;
}

int engine_producers(struct engine *log, const char *topic, int32_t partition,
		     struct engine_producer **out, size_t *n)
{
	struct partition *p;
	int rc = get_part(log, topic, partition, &p, NULL);

	if (rc < 0)
		return rc;
	rc = partition_producers(p, out, n);
	partition_unref(p);
	return rc;
}

void engine_get_stats(struct engine *log, struct engine_stats *out)
{
	struct engine_counters *c = &log->counters;

	memset(out, 0, sizeof(*out));
	out->appends = atomic_load(&c->appends);
	out->append_bytes = atomic_load(&c->append_bytes);
	out->duplicates = atomic_load(&c->duplicates);
	out->fsyncs = atomic_load(&c->fsyncs);
	out->fsync_errors = atomic_load(&c->fsync_errors);
	out->fsync_ns_total = atomic_load(&c->fsync_ns_total);
	for (int i = 0; i < 12; i++)
		out->fsync_hist[i] = atomic_load(&c->fsync_hist[i]);
	out->truncated_bytes = atomic_load(&c->truncated_bytes);
	out->segments_deleted = atomic_load(&c->segments_deleted);
	out->corrupt_batches = atomic_load(&c->corrupt_batches);
	out->early_deleted_records = atomic_load(&c->early_deleted_records);
	out->writable = atomic_load(&c->writable);
	pthread_mutex_lock(&c->err_mu);
	memcpy(out->last_error, c->last_error, sizeof(out->last_error));
	pthread_mutex_unlock(&c->err_mu);
}
