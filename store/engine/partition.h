/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One partition of the log engine: its segments, offsets (log_start, end,
 * visible, durable), idempotent-producer state, appends, reads, time
 * lookups, retention, the per-partition half of the group commit, and
 * recovery on open.  Private to the engine (store/engine/engine.c is its only user).
 *
 * Threading: every function takes the partition's mutex itself; callers hold
 * no partition lock.  The mutex is never held across an fsync or a read of
 * batch data: the flusher captures what to sync under it and syncs without
 * it; readers capture a segment reference and a readable limit under it and
 * scan headers without it.  Lock order: partition mutex, then the engine's
 * flush-queue mutex (inside hooks.dirty) — never the other way round.
 */
#ifndef SLUICE_STORE_PARTITION_H
#define SLUICE_STORE_PARTITION_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "store/engine/engine_types.h"
#include "store/engine/partition_txn.h"
#include "store/engine/producer_state.h"
#include "store/engine/segment.h"

/* Producers silent this long are forgotten (Kafka's producer.id.expiration.ms
 * is one day; agents may sit out longer outages, hence a week). */
#define PARTITION_PRODUCER_EXPIRY_MS (7LL * 24 * 3600 * 1000)
/* Offset ranges whose fsync failed, remembered for engine_wait_visible(). */
#define PARTITION_FAILED_RANGES 16

/* Engine-wide counters behind struct engine_stats; updated lock-free. */
struct engine_counters {
	atomic_uint_fast64_t appends;
	atomic_uint_fast64_t append_bytes;
	atomic_uint_fast64_t duplicates;
	atomic_uint_fast64_t fsyncs;
	atomic_uint_fast64_t fsync_errors;
	atomic_uint_fast64_t fsync_ns_total;
	atomic_uint_fast64_t fsync_hist[12];
	atomic_uint_fast64_t truncated_bytes;
	atomic_uint_fast64_t segments_deleted;
	atomic_uint_fast64_t corrupt_batches; /* refused by engine_batch_check */
	atomic_uint_fast64_t early_deleted_records;
	atomic_bool writable;
	pthread_mutex_t err_mu;
	char last_error[128];
	struct log_ratelimit rl; /* a full disk fails every append: log a few */
};

/* A durable position: every batch below offset is fsynced.  Also the
 * recovery point persisted in data_dir/meta/recovery-points. */
struct partition_point {
	int64_t offset;
	int64_t seg_base; /* segment holding the position */
	int64_t pos;      /* byte position of offset in that segment */
	int64_t max_ts;   /* that segment's max timestamp below pos */
	bool valid;
};

struct partition;

struct partition_hooks {
	/* The partition has unflushed work (called with its mutex held). */
	void (*dirty)(struct partition *p, void *arg);
	/* Write the recovery-points file now (no partition mutex held).
	 * 0 or a negative code. */
	int (*checkpoint)(void *arg);
	void *arg;
};

struct partition_params {
	const char *topic;
	int32_t index;
	const char *dir; /* data_dir/<topic>-<index> */
	enum engine_fsync fsync;
	int64_t index_interval;
	struct partition_point rp; /* from recovery-points; valid false: none */
	struct engine_counters *counters;
	struct partition_hooks hooks;
};

struct partition {
	atomic_int refs;
	pthread_mutex_t mu;
	pthread_cond_t cond; /* visible advanced, a flush failed, deleted */
	char *topic;
	int32_t index;
	char *dir;
	enum engine_fsync fsync;
	int64_t interval;
	struct engine_counters *counters;
	struct partition_hooks hooks;

	struct segment **segs; /* by base offset; the last one is active */
	size_t nsegs;
	size_t segs_cap;
	int64_t log_start;
	int64_t end;
	int64_t visible;
	int64_t vis_seg; /* base of the segment holding visible ... */
	int64_t vis_pos; /* ... and its byte position there */
	struct partition_point durable;
	int64_t bytes;
	int64_t last_ts;
	struct producer_state producers;
	struct ptxn txn; /* ongoing and aborted transactions (partition_txn.h) */

	bool dirty;    /* appended (or rolled) since the last flush capture */
	bool flushing; /* a flusher works on it right now */
	bool broken;   /* tail state unknown after a failure: repair first */
	bool deleted;
	bool rp_force; /* a gap follows a failed fsync: checkpoint before acks */
	struct partition_point repair_cut; /* where a broken partition truncates to */
	int64_t last_snap_off;             /* newest snapshot on disk; -1 none */
	struct buf snapshot;               /* producer snapshot waiting for the flusher */
	int64_t snapshot_off;              /* -1: none pending */
	struct {
		int64_t from, to;
	} failed[PARTITION_FAILED_RANGES];
	unsigned nfailed; /* total ever recorded (ring index) */

	/* owned by the engine's flush queue, under its mutex */
	struct partition *flush_next;
	bool queued;
};

/* Open (creating the directory when absent) and recover.  0 or a negative
 * code; *out is the one reference the caller owns. */
int partition_open(const struct partition_params *pp, struct partition **out);
/* Clean shutdown (after a final flush: partition_flush until clean): write
 * the producer snapshot at the end offset, then drop the caller's reference.
 * NULL is a no-op. */
void partition_close(struct partition *p);

/* References: the topic table holds one, the flush queue one per queued
 * partition, every engine call one for its duration.  The last unref frees
 * (without touching the disk).  unref(NULL) is a no-op. */
static inline void partition_ref(struct partition *p)
{
	atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
}
void partition_unref(struct partition *p);

/* Mark deleted: later calls fail with -ERR_NOT_FOUND, waiters wake. */
void partition_mark_deleted(struct partition *p);

int partition_append(struct partition *p, const struct topic_config *tc, uint8_t *batch, size_t len,
		     struct engine_append_result *res, bool *notify);
/* engine_find_duplicate() on one partition. */
int partition_find_duplicate(struct partition *p, const uint8_t *batch, size_t len,
			     struct engine_append_result *res);
/* stable: never past the last stable offset (read_committed), else the
 * visible offset. */
int partition_read(struct partition *p, int64_t offset, size_t max_bytes, bool stable,
		   struct engine_slice *out);
/* Aborted transactions overlapping [from, to) (ptxn_aborted). */
size_t partition_aborted(struct partition *p, int64_t from, int64_t to,
			 struct engine_aborted_txn *out, size_t max);
int partition_offset_for_time(struct partition *p, int64_t ts, int64_t *offset);
/* The same for batches holding offsets >= from only (from < log_start: log_start):
 * the answer is never below from. */
int partition_offset_for_time_from(struct partition *p, int64_t ts, int64_t from, int64_t *offset);
void partition_info(struct partition *p, struct engine_partition_info *out);
int partition_wait_visible(struct partition *p, int64_t offset, int timeout_ms);

/* One group-commit round (flusher thread): fsync what was appended since the
 * last round, advance durable (and visible with fsync "always").  *notify
 * when visible moved or a failure was recorded.  Returns true when more work
 * arrived meanwhile (requeue). */
bool partition_flush(struct partition *p, bool *notify);
/* Is there unflushed work (for the periodic and final flushes)? */
bool partition_is_dirty(struct partition *p);

/* Start a new active segment at the end; the caller holds p->mu (append,
 * retention).  0 or a negative code. */
int partition_roll(struct partition *p, int64_t now);
/* Delete segments past the topic's retention (partition_retention.c).
 * Returns segments deleted. */
int partition_retention(struct partition *p, const struct topic_config *tc, int64_t now_ms);
/* Forget idle producers. */
void partition_expire_producers(struct partition *p, int64_t now_ms);

/* partition_records.c.  Recovery (p->mu held or not shared yet): raise
 * log_start to the saved <dir>/log-start-offset. */
void partition_load_log_start(struct partition *p);
/* DeleteRecords: move log_start to offset (-1: the high watermark), saved
 * durably first; *low the log start after.  Callers serialize calls (the
 * engine's admin_mu).  -ERR_OUT_OF_RANGE past the high watermark. */
int partition_delete_records(struct partition *p, int64_t offset, int64_t *low);
/* The offset of the first visible record with the largest timestamp and that
 * timestamp; both -1 when there is none. */
int partition_max_timestamp(struct partition *p, int64_t *offset, int64_t *ts);
/* A copy of the producer table (*out: mem_free it). */
int partition_producers(struct partition *p, struct engine_producer **out, size_t *n);

/* The current durable point (for the recovery-points checkpoint). */
struct partition_point partition_durable(struct partition *p);

/* Record an error for struct engine_stats. */
void engine_counters_error(struct engine_counters *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Count one fsync of ns nanoseconds (total and histogram). */
void engine_counters_fsync(struct engine_counters *c, uint64_t ns);

#endif
