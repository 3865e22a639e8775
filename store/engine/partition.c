/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One partition at run time: appends (idempotence check, roll, one pwrite),
 * reads that hand out whole-batch byte ranges, time lookups, the
 * per-partition half of the group commit, repair after a failed fsync,
 * retention and the counters behind /metrics.  Recovery on open lives in
 * store/engine/recovery.c.
 *
 * Visibility.  With fsync "always" visible follows durable: the flusher
 * captures end, fdatasyncs without the lock, then advances both.  With
 * "interval" and "never" visible follows end at once and the flusher only
 * moves durable (and with it the recovery point).  (vis_seg, vis_pos) is the
 * byte position of visible, so readers never hand out bytes past it.
 *
 * A failed fsync with "always" means the unacknowledged tail may or may not
 * be on disk (and Linux may have dropped its dirty pages): the partition
 * truncates back to the durable point through the recovery code and skips
 * the failed offsets, so a waiter on one of them can only ever learn that it
 * failed.  Until a checkpoint covers the gap, nothing after it is
 * acknowledged (rp_force), because recovery only accepts contiguous offsets
 * past the recovery point.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "store/engine/partition.h"
#include "store/engine/recovery.h"

#define READ_JUMP_ENTRIES 256
#define FLUSH_MAX_SEGS 32
#define SNAPSHOTS_KEPT 2

static struct segment *active(const struct partition *p)
{
	return p->segs[p->nsegs - 1];
}

/* Index of the segment holding offset: the largest base <= offset. */
static size_t find_seg(const struct partition *p, int64_t offset)
{
	size_t lo = 0, hi = p->nsegs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->segs[mid]->base <= offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? lo - 1 : 0;
}

/* How far readers may read in s: up to the visible position. */
static int64_t readable_limit(const struct partition *p, const struct segment *s)
{
	if (s->base < p->vis_seg)
		return s->size;
	if (s->base == p->vis_seg)
		return p->vis_pos < s->size ? p->vis_pos : s->size;
	return 0;
}

static void set_visible(struct partition *p, int64_t off, int64_t seg, int64_t pos)
{
	p->visible = off;
	p->vis_seg = seg;
	p->vis_pos = pos;
	pthread_cond_broadcast(&p->cond);
}

static void mark_dirty(struct partition *p, bool kick)
{
	bool was = p->dirty;

	p->dirty = true;
	if (kick && !was && !p->flushing && p->hooks.dirty)
		p->hooks.dirty(p, p->hooks.arg);
}

/* ---------------------------------------------------------------- lifecycle */

static int ensure_dir(const char *dir)
{
	struct stat st;
	char parent[4096];
	const char *slash;
	int rc;

	if (stat(dir, &st) == 0)
		return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
	rc = fs_mkdirs(dir, FS_DIR_MODE);
	if (rc < 0)
		return rc;
	/* the new directory entry must survive a crash with its contents */
	slash = strrchr(dir, '/');
	if (!slash)
		return fs_fsync_dir(".");
	if ((size_t)(slash - dir) >= sizeof(parent))
		return -ENAMETOOLONG;
	memcpy(parent, dir, (size_t)(slash - dir));
	parent[slash - dir] = '\0';
	return fs_fsync_dir(slash == dir ? "/" : parent);
}

static void partition_free(struct partition *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nsegs; i++)
		segment_unref(p->segs[i]);
	mem_free(p->segs);
	producer_state_release(&p->producers);
	ptxn_release(&p->txn);
	buf_release(&p->snapshot);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cond);
	mem_free(p->topic);
	mem_free(p->dir);
	mem_free(p);
}

int partition_open(const struct partition_params *pp, struct partition **out)
{
	struct partition *p = mem_calloc(1, sizeof(*p));
	pthread_condattr_t ca;
	struct recovery rep;
	uint64_t t0 = clock_mono_ns();
	int rc;

	*out = NULL;
	if (!p)
		return -ENOMEM;
	atomic_init(&p->refs, 1);
	pthread_mutex_init(&p->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cond, &ca);
	pthread_condattr_destroy(&ca);
	producer_state_init(&p->producers);
	ptxn_init(&p->txn);
	buf_init(&p->snapshot, 256u << 20);
	p->snapshot_off = -1;
	p->topic = mem_strdup(pp->topic);
	p->dir = mem_strdup(pp->dir);
	p->index = pp->index;
	p->fsync = pp->fsync;
	p->interval = pp->index_interval;
	p->counters = pp->counters;
	p->hooks = pp->hooks;
	if (!p->topic || !p->dir) {
		rc = -ENOMEM;
		goto out;
	}
	rc = ensure_dir(p->dir);
	if (rc < 0)
		goto out;
	rc = recovery_run(p, &pp->rp, NULL, &rep);
	if (rc < 0)
		goto out;
	p->last_snap_off = rep.snapshot_offset;
	if (rep.truncated_bytes || rep.validated_bytes || rep.replayed_batches)
		log_info("log %s-%d: recovered offsets %lld..%lld in %lld segments in %.1f ms "
			 "(validated %lld bytes, truncated %lld, replayed %lld producer batches)",
			 p->topic, p->index, (long long)p->log_start, (long long)p->end,
			 (long long)rep.segments, (double)(clock_mono_ns() - t0) / 1e6,
			 (long long)rep.validated_bytes, (long long)rep.truncated_bytes,
			 (long long)rep.replayed_batches);
out:
	if (rc < 0) {
		partition_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

static int write_snapshot(struct partition *p, const struct buf *b, int64_t off)
{
	char name[64];

	snprintf(name, sizeof(name), "%020lld.snapshot", (long long)off);
	return fs_write_atomic(p->dir, name, b->data, b->len);
}

/* "<20 digits>.snapshot": its offset, or -1. */
static int64_t snapshot_name(const char *name)
{
	int64_t v = 0;

	if (strlen(name) != 29 || strcmp(name + 20, ".snapshot") != 0)
		return -1;
	for (int i = 0; i < 20; i++) {
		if (name[i] < '0' || name[i] > '9' || v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (name[i] - '0');
	}
	return v;
}

/* Keep the newest SNAPSHOTS_KEPT snapshot files, delete the others. */
static void prune_snapshots(struct partition *p)
{
	int64_t keep[SNAPSHOTS_KEPT];
	size_t nkeep = 0;
	struct dirent *e;
	DIR *d;

	for (int pass = 0; pass < 2; pass++) {
		d = opendir(p->dir);
		if (!d)
			return;
		while ((e = readdir(d)) != NULL) {
			int64_t v = snapshot_name(e->d_name);
			size_t min = 0;
			bool kept = false;

			if (v < 0)
				continue;
			if (pass == 0) {
				if (nkeep < SNAPSHOTS_KEPT) {
					keep[nkeep++] = v;
					continue;
				}
				for (size_t i = 1; i < nkeep; i++)
					if (keep[i] < keep[min])
						min = i;
				if (v > keep[min])
					keep[min] = v;
				continue;
			}
			for (size_t i = 0; i < nkeep; i++)
				kept = kept || keep[i] == v;
			if (!kept) {
				char path[4096];

				if (segment_path(path, sizeof(path), p->dir, v, "snapshot") == 0)
					unlink(path);
			}
		}
		closedir(d);
	}
}

void partition_close(struct partition *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	if (!p->deleted && !p->broken && p->last_snap_off != p->end) {
		struct buf b;

		/* a snapshot at the end: the next open replays nothing */
		buf_init(&b, 256u << 20);
		if (producer_state_serialize(&p->producers, p->end, &b) == 0 &&
		    write_snapshot(p, &b, p->end) == 0) {
			p->last_snap_off = p->end;
			prune_snapshots(p);
		}
		buf_release(&b);
	}
	pthread_mutex_unlock(&p->mu);
	partition_unref(p);
}

void partition_unref(struct partition *p)
{
	if (p && atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1)
		partition_free(p);
}

void partition_mark_deleted(struct partition *p)
{
	pthread_mutex_lock(&p->mu);
	p->deleted = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->mu);
}

/* ---------------------------------------------------------------- append */

/* Start a new active segment at end (lock held). */
int partition_roll(struct partition *p, int64_t now)
{
	struct segment *old = active(p), *ns;
	int rc;

	rc = segment_create(p->dir, p->end, now, &ns);
	if (rc < 0)
		return rc;
	if (p->nsegs == p->segs_cap) {
		size_t ncap = p->segs_cap * 2;
		struct segment **n = mem_realloc(p->segs, ncap * sizeof(*n));

		if (!n) {
			segment_remove_files(ns);
			segment_unref(ns);
			return -ENOMEM;
		}
		p->segs = n;
		p->segs_cap = ncap;
	}
	p->segs[p->nsegs++] = ns;
	segment_seal(old);
	/* the producer state as of the new segment's base, written by the
	 * flusher; recovery replays headers from the newest snapshot */
	buf_reset(&p->snapshot);
	p->snapshot_off =
		producer_state_serialize(&p->producers, p->end, &p->snapshot) == 0 ? p->end : -1;
	/* the sealed segment and the new directory entries need an fsync */
	mark_dirty(p, true);
	return 0;
}

/* Truncate back to p->repair_cut after a failure (lock held): the durable
 * point after a failed fsync, the last whole batch after a torn write. */
static int repair(struct partition *p)
{
	struct segment **old = p->segs;
	size_t nold = p->nsegs;
	struct partition_point cut = p->repair_cut;
	int64_t failed_end = p->end;
	struct recovery rep;
	int rc;

	p->segs = NULL;
	p->nsegs = p->segs_cap = 0;
	rc = recovery_run(p, NULL, &cut, &rep);
	if (rc < 0 || p->nsegs == 0) {
		for (size_t i = 0; i < p->nsegs; i++)
			segment_unref(p->segs[i]);
		mem_free(p->segs);
		p->segs = old;
		p->nsegs = p->segs_cap = nold;
		return rc < 0 ? rc : -ERR_STORAGE;
	}
	for (size_t i = 0; i < nold; i++)
		segment_unref(old[i]);
	mem_free(old);
	p->snapshot_off = -1;
	p->last_snap_off = rep.snapshot_offset;
	p->visible = cut.offset < p->end ? cut.offset : p->end;
	if (failed_end > p->end) {
		/* never reuse an offset someone may still be waiting on */
		p->end = failed_end;
		active(p)->next_offset = failed_end;
		p->rp_force = true;
	}
	p->broken = false;
	log_warn("log %s-%d: truncated to the durable offset %lld after a failed write; "
		 "next offset %lld",
		 p->topic, p->index, (long long)cut.offset, (long long)p->end);
	return 0;
}

int partition_append(struct partition *p, const struct topic_config *tc, uint8_t *batch, size_t len,
		     struct engine_append_result *res, bool *notify)
{
	struct batch_info bi;
	struct producer_batch dup;
	struct segment *a;
	int64_t now = clock_wall_ms(), seg_max;
	bool torn;
	int rc, ctl = -1;

	*notify = false;
	if ((int64_t)len > tc->max_batch_bytes || (int64_t)len > SEG_MAX_BYTES)
		return -ERR_TOO_LARGE;
	rc = batch_header_parse(batch, len, &bi);
	if (rc < 0 || bi.size != len || bi.count <= 0 || bi.last_offset_delta != bi.count - 1)
		return -ERR_CORRUPT;
	if (bi.max_ts < 0)
		bi.max_ts = now; /* no record has a time: date the batch by its arrival */
	pthread_mutex_lock(&p->mu);
	if (p->deleted) {
		rc = -ERR_NOT_FOUND;
		goto out;
	}
	if (p->broken && (p->flushing || repair(p) < 0)) {
		rc = -ERR_STORAGE;
		goto out;
	}
	if (bi.attributes & BATCH_ATTR_CONTROL) {
		/* a marker from the coordinator (engine_append_marker): it
		 * carries no sequence */
		ctl = ptxn_control_type(batch + BATCH_HEADER_SIZE, len - BATCH_HEADER_SIZE);
		rc = ctl < 0 ? -ERR_CORRUPT : 0;
	} else {
		rc = producer_state_check(&p->producers, &bi, &dup);
	}
	if (rc == 0 && (bi.attributes & BATCH_ATTR_TRANSACTIONAL) && !p->txn.marked &&
	    ptxn_mark(&p->txn, p->dir) < 0)
		rc = -ERR_STORAGE; /* without the marker a restart would lose the state */
	if (rc == 1) {
		res->base_offset = dup.base_offset;
		res->last_offset = dup.last_offset;
		res->log_start = p->log_start;
		res->duplicate = true;
		atomic_fetch_add_explicit(&p->counters->duplicates, 1, memory_order_relaxed);
		rc = 0;
		goto out;
	}
	if (rc < 0)
		goto out;
	a = active(p);
	seg_max = tc->segment_bytes < SEG_MAX_BYTES ? tc->segment_bytes : SEG_MAX_BYTES;
	if (a->size > 0 &&
	    (a->size + (int64_t)len > seg_max || now - a->created_ms >= tc->segment_ms ||
	     p->end + bi.last_offset_delta - a->base > SEG_MAX_OFFSETS)) {
		rc = partition_roll(p, now);
		if (rc < 0) {
			engine_counters_error(p->counters, "%s-%d: cannot roll a new segment: %s",
					      p->topic, p->index, err_str(rc));
			rc = -ERR_STORAGE;
			goto out;
		}
		a = active(p);
	}
	bi.base_offset = p->end;
	batch_set_base_offset(batch, p->end);
	rc = segment_append(a, batch, len, &bi, p->interval, &torn);
	if (rc < 0) {
		engine_counters_error(p->counters, "%s-%d: append: %s", p->topic, p->index,
				      err_str(-errno));
		if (torn) {
			p->broken = true;
			p->repair_cut =
				(struct partition_point){p->end, a->base, a->size, a->max_ts, true};
		}
		goto out;
	}
	p->end = a->next_offset;
	p->bytes += (int64_t)len;
	if (bi.max_ts > p->last_ts)
		p->last_ts = bi.max_ts;
	if (!(bi.attributes & BATCH_ATTR_CONTROL) &&
	    producer_state_update(&p->producers, &bi, bi.base_offset, now) < 0)
		log_error("log %s-%d: out of memory recording producer %lld", p->topic, p->index,
			  (long long)bi.producer_id);
	if (ptxn_note(&p->txn, &bi, ctl) < 0)
		log_error("log %s-%d: out of memory recording a transaction of producer %lld",
			  p->topic, p->index, (long long)bi.producer_id);
	atomic_fetch_add_explicit(&p->counters->appends, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&p->counters->append_bytes, len, memory_order_relaxed);
	if (!atomic_load_explicit(&p->counters->writable, memory_order_relaxed))
		atomic_store(&p->counters->writable, true);
	if (p->fsync == ENGINE_FSYNC_ALWAYS) {
		mark_dirty(p, true);
	} else {
		if (p->fsync == ENGINE_FSYNC_INTERVAL)
			p->dirty = true;
		set_visible(p, p->end, a->base, a->size);
		*notify = true;
	}
	res->base_offset = bi.base_offset;
	res->last_offset = batch_last_offset(&bi);
	res->log_start = p->log_start;
	res->duplicate = false;
out:
	pthread_mutex_unlock(&p->mu);
	return rc;
}

int partition_find_duplicate(struct partition *p, const uint8_t *batch, size_t len,
			     struct engine_append_result *res)
{
	struct batch_info bi;
	struct producer_batch dup;
	int rc = batch_header_parse(batch, len, &bi);

	if (rc < 0 || bi.size != len)
		return -ERR_CORRUPT;
	if (bi.producer_id < 0)
		return 0;
	pthread_mutex_lock(&p->mu);
	rc = p->deleted ? -ERR_NOT_FOUND : producer_state_check(&p->producers, &bi, &dup);
	if (rc == 1) {
		res->base_offset = dup.base_offset;
		res->last_offset = dup.last_offset;
		res->log_start = p->log_start;
		res->log_append_time = -1;
		res->duplicate = true;
		atomic_fetch_add_explicit(&p->counters->duplicates, 1, memory_order_relaxed);
	} else if (rc != -ERR_NOT_FOUND) {
		rc = 0; /* in sequence, a gap or fenced: not a retry, whatever else */
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

/* ---------------------------------------------------------------- flush */

/* One flush round, carried across its three phases: collect under the lock,
 * sync without it, settle under it again. */
struct flush_round {
	struct segment *segs[FLUSH_MAX_SEGS];
	int idx_fds[FLUSH_MAX_SEGS], tidx_fds[FLUSH_MAX_SEGS];
	size_t ns;
	struct partition_point target;
	struct buf snap;
	int64_t snap_off;
	bool dir, force, ok, ckpt_ok;
	int err;
};

/* Phase 1, under p->mu: what this round makes durable (the segments to sync,
 * the target point, the pending snapshot).  False when there is nothing to
 * do; then nothing is taken. */
static bool flush_collect(struct partition *p, struct flush_round *r)
{
	if (p->deleted || p->broken || p->flushing)
		return false;
	if (!p->dirty && p->snapshot_off < 0 && p->durable.offset == p->end &&
	    p->durable.seg_base == active(p)->base && p->durable.pos == active(p)->size)
		return false; /* nothing since the last round */
	p->dirty = false;
	p->flushing = true;
	{
		struct segment *a = active(p);

		r->target = (struct partition_point){p->end, a->base, a->size, a->max_ts, true};
	}
	for (size_t i = 0; i < p->nsegs; i++) {
		struct segment *s = p->segs[i];
		bool last = i + 1 == p->nsegs;

		if (!last && (!s->sealed || s->synced))
			continue;
		if (!last && r->ns == FLUSH_MAX_SEGS - 1) {
			/* a backlog of sealed segments: this round ends with the
			 * previous one, the next round continues */
			struct segment *prev = r->segs[r->ns - 1];

			r->target = (struct partition_point){prev->next_offset, prev->base,
							     prev->size, prev->max_ts, true};
			p->dirty = true;
			break;
		}
		segment_ref(s);
		r->idx_fds[r->ns] = s->sealed ? s->idx.fd : -1;
		r->tidx_fds[r->ns] = s->sealed ? s->tidx.fd : -1;
		r->segs[r->ns++] = s;
		if (!s->dir_synced)
			r->dir = true;
	}
	r->snap = p->snapshot;
	r->snap_off = p->snapshot_off;
	buf_init(&p->snapshot, 256u << 20);
	p->snapshot_off = -1;
	r->force = p->rp_force;
	return true;
}

/* Phase 2, without the lock: fdatasync the segments and their sealed
 * indexes, the directory, write the snapshot, and for a forced recovery
 * point the checkpoint. */
static void flush_sync(struct partition *p, struct flush_round *r)
{
	for (size_t i = 0; i < r->ns && r->ok; i++) {
		uint64_t t0 = clock_mono_ns();

		if (fdatasync(r->segs[i]->fd) != 0) {
			r->err = errno;
			r->ok = false;
			break;
		}
		engine_counters_fsync(p->counters, clock_mono_ns() - t0);
		if ((r->idx_fds[i] >= 0 && fdatasync(r->idx_fds[i]) != 0) ||
		    (r->tidx_fds[i] >= 0 && fdatasync(r->tidx_fds[i]) != 0)) {
			r->err = errno;
			r->ok = false;
		}
	}
	if (r->ok && r->dir) {
		int rc = fs_fsync_dir(p->dir);

		if (rc < 0) {
			r->err = -rc;
			r->ok = false;
		}
	}
	if (r->ok && r->snap_off >= 0) {
		int rc = write_snapshot(p, &r->snap, r->snap_off);

		if (rc < 0)
			log_warn("log %s-%d: cannot write the producer snapshot at %lld: %s",
				 p->topic, p->index, (long long)r->snap_off, err_str(rc));
		else
			prune_snapshots(p);
	}
	if (r->ok && r->force) {
		pthread_mutex_lock(&p->mu);
		if (r->target.offset > p->durable.offset)
			p->durable = r->target;
		pthread_mutex_unlock(&p->mu);
		r->ckpt_ok = p->hooks.checkpoint && p->hooks.checkpoint(p->hooks.arg) == 0;
	}
}

/* Phase 3 after a failed sync, under p->mu. */
static void flush_failed(struct partition *p, struct flush_round *r, bool *notify)
{
	atomic_fetch_add(&p->counters->fsync_errors, 1);
	engine_counters_error(p->counters, "%s-%d: fsync: %s", p->topic, p->index,
			      err_str(-r->err));
	if (p->fsync == ENGINE_FSYNC_ALWAYS && !p->deleted) {
		unsigned slot = p->nfailed++ % PARTITION_FAILED_RANGES;

		p->failed[slot].from = p->durable.offset;
		p->failed[slot].to = p->end;
		p->broken = true;
		p->repair_cut = p->durable;
		if (repair(p) < 0)
			log_error("log %s-%d: cannot truncate the unacknowledged tail; "
				  "appends fail until it can",
				  p->topic, p->index);
		pthread_cond_broadcast(&p->cond);
		*notify = true;
	} else {
		p->dirty = true; /* the periodic flush retries */
	}
}

/* Phase 3 after a good sync, under p->mu: close the synced sealed indexes,
 * advance the durable point and, in fsync-always mode, the visible one. */
static void flush_done(struct partition *p, struct flush_round *r, bool *notify)
{
	for (size_t i = 0; i < r->ns; i++) {
		struct segment *s = r->segs[i];

		s->dir_synced = true;
		if (s->sealed && !s->synced && s != active(p)) {
			if (s->idx.fd >= 0)
				close(s->idx.fd);
			if (s->tidx.fd >= 0)
				close(s->tidx.fd);
			s->idx.fd = s->tidx.fd = -1;
			s->synced = true;
		}
	}
	if (r->snap_off >= 0)
		p->last_snap_off = r->snap_off;
	if (r->target.offset > p->durable.offset ||
	    (r->target.offset == p->durable.offset && r->target.pos > p->durable.pos))
		p->durable = r->target;
	if (r->force && !r->ckpt_ok) {
		p->dirty = true; /* the periodic tick retries the checkpoint */
	} else {
		p->rp_force = r->force ? false : p->rp_force;
		if (p->fsync == ENGINE_FSYNC_ALWAYS && !p->rp_force &&
		    r->target.offset > p->visible) {
			set_visible(p, r->target.offset, r->target.seg_base, r->target.pos);
			*notify = true;
		}
	}
}

bool partition_flush(struct partition *p, bool *notify)
{
	struct flush_round r = {.ok = true, .ckpt_ok = true};
	bool requeue;

	*notify = false;
	pthread_mutex_lock(&p->mu);
	if (!flush_collect(p, &r)) {
		pthread_mutex_unlock(&p->mu);
		return false;
	}
	pthread_mutex_unlock(&p->mu);

	flush_sync(p, &r);

	pthread_mutex_lock(&p->mu);
	p->flushing = false;
	if (!r.ok)
		flush_failed(p, &r, notify);
	else
		flush_done(p, &r, notify);
	requeue = p->dirty && r.ok && r.ckpt_ok && !p->deleted && !p->broken;
	pthread_mutex_unlock(&p->mu);
	for (size_t i = 0; i < r.ns; i++)
		segment_unref(r.segs[i]);
	buf_release(&r.snap);
	return requeue;
}

bool partition_is_dirty(struct partition *p)
{
	bool d;

	pthread_mutex_lock(&p->mu);
	d = (p->dirty || p->snapshot_off >= 0) && !p->deleted && !p->broken;
	pthread_mutex_unlock(&p->mu);
	return d;
}

struct partition_point partition_durable(struct partition *p)
{
	struct partition_point d;

	pthread_mutex_lock(&p->mu);
	d = p->durable;
	pthread_mutex_unlock(&p->mu);
	return d;
}

/* ---------------------------------------------------------------- read */

/* Find the first batch with last offset >= offset, scanning headers from the
 * index hint (eo at ep; hinted false: start of segment).  1 and *pos, *bi;
 * 0 when no readable batch of this segment qualifies; a negative code. */
static int find_batch(int fd, int64_t offset, int64_t base, int64_t eo, int64_t ep, bool hinted,
		      int64_t limit, int64_t *pos_out, struct batch_info *bi)
{
	int64_t pos = ep;
	int rc;

	if (hinted) {
		/* an index entry is a hint: it must name the batch it points at */
		rc = segment_read_header(fd, pos, bi);
		if (rc < 0 || bi->base_offset != eo || pos >= limit)
			pos = 0;
	}
	(void)base;
	while (pos < limit) {
		rc = segment_read_header(fd, pos, bi);
		if (rc < 0)
			return rc == -ERR_TRUNCATED ? -ERR_CORRUPT : rc;
		if ((int64_t)bi->size > limit - pos)
			return 0;
		if (batch_last_offset(bi) >= offset) {
			*pos_out = pos;
			return 1;
		}
		pos += bi->size;
	}
	return 0;
}

int partition_read(struct partition *p, int64_t offset, size_t max_bytes, bool stable,
		   struct engine_slice *out)
{
	int64_t offs[READ_JUMP_ENTRIES], poss[READ_JUMP_ENTRIES];
	int64_t after = -1, stop;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->fd = -1;
	pthread_mutex_lock(&p->mu);
	if (p->deleted) {
		rc = -ERR_NOT_FOUND;
		goto unlock;
	}
	if (offset < p->log_start || offset > p->end) {
		rc = -ERR_OUT_OF_RANGE;
		goto unlock;
	}
	out->high_watermark = p->visible;
	out->last_stable = ptxn_lso(&p->txn, p->visible);
	stop = stable ? out->last_stable : p->visible;
	out->log_start = p->log_start;
	out->first_offset = offset;
	for (;;) {
		struct segment *s;
		struct batch_info bi;
		int64_t limit, eo, ep, pos, cur;
		size_t i, nj;
		long eno;

		if (offset >= stop)
			goto unlock;
		i = find_seg(p, offset);
		while (i < p->nsegs && p->segs[i]->base <= after)
			i++;
		if (i >= p->nsegs)
			goto unlock;
		s = p->segs[i];
		limit = readable_limit(p, s);
		segment_lookup(s, offset, &eo, &ep, &eno);
		nj = segment_index_copy(s, eno + 1, offs, poss, READ_JUMP_ENTRIES);
		segment_ref(s);
		pthread_mutex_unlock(&p->mu);

		rc = find_batch(s->fd, offset, s->base, eo, ep, eno >= 0, limit, &pos, &bi);
		if (rc == 1 && bi.base_offset >= stop) {
			segment_unref(s);
			return 0; /* the next batch is past the last stable offset */
		}
		if (rc == 1) {
			cur = pos + bi.size;
			out->first_offset = bi.base_offset;
			/* jump over whole index intervals that fit, then walk headers */
			for (size_t j = nj; j-- > 0;) {
				struct batch_info jb;

				if (poss[j] <= cur || poss[j] > limit ||
				    poss[j] - pos > (int64_t)max_bytes)
					continue;
				if (segment_read_header(s->fd, poss[j], &jb) == 0 &&
				    jb.base_offset == offs[j])
					cur = poss[j];
				break;
			}
			while (cur < limit) {
				if (segment_read_header(s->fd, cur, &bi) < 0 ||
				    bi.base_offset >= stop || (int64_t)bi.size > limit - cur ||
				    cur + (int64_t)bi.size - pos > (int64_t)max_bytes)
					break;
				cur += bi.size;
			}
			out->fd = s->fd;
			out->pos = pos;
			out->len = (size_t)(cur - pos);
			out->ref = s;
			return 0;
		}
		segment_unref(s);
		if (rc < 0)
			return rc == -ERR_CORRUPT ? rc : -ERR_STORAGE;
		/* nothing at or after offset in this segment (a gap): the next one */
		pthread_mutex_lock(&p->mu);
		if (p->deleted) {
			rc = -ERR_NOT_FOUND;
			goto unlock;
		}
		after = s->base;
		if (offset < p->log_start) {
			rc = -ERR_OUT_OF_RANGE; /* retention passed it meanwhile */
			goto unlock;
		}
	}
unlock:
	pthread_mutex_unlock(&p->mu);
	return rc;
}

int partition_offset_for_time(struct partition *p, int64_t ts, int64_t *offset)
{
	return partition_offset_for_time_from(p, ts, 0, offset);
}

int partition_offset_for_time_from(struct partition *p, int64_t ts, int64_t from, int64_t *offset)
{
	int64_t after = -1;
	int rc = 0;

	pthread_mutex_lock(&p->mu);
	if (p->deleted) {
		rc = -ERR_NOT_FOUND;
		goto unlock;
	}
	*offset = p->visible;
	if (ts == -2)
		*offset = p->log_start;
	if (ts < 0) {
		rc = ts < -2 ? -ERR_INVALID : 0;
		goto unlock;
	}
	if (from < p->log_start)
		from = p->log_start;
	for (;;) {
		struct segment *s = NULL;
		struct batch_info bi;
		int64_t limit = 0, start, eo, ep, pos;
		bool found = false;
		long eno;

		for (size_t i = 0; i < p->nsegs; i++) {
			s = p->segs[i];
			limit = readable_limit(p, s);
			if (s->base > after && s->next_offset > from && s->max_ts >= ts &&
			    limit > 0)
				break;
			s = NULL;
		}
		if (!s)
			goto unlock;
		start = segment_time_lookup(s, ts);
		if (start < from)
			start = from;
		segment_lookup(s, start, &eo, &ep, &eno);
		segment_ref(s);
		after = s->base;
		pthread_mutex_unlock(&p->mu);

		/* the first batch at or after start whose max timestamp is late enough */
		rc = find_batch(s->fd, start, s->base, eo, ep, eno >= 0, limit, &pos, &bi);
		while (rc == 1) {
			if (bi.max_ts >= ts) {
				found = true;
				break;
			}
			pos += bi.size;
			if (pos >= limit) {
				rc = 0;
				break;
			}
			rc = segment_read_header(s->fd, pos, &bi);
			if (rc == 0)
				rc = (int64_t)bi.size <= limit - pos ? 1 : 0;
		}
		segment_unref(s);
		if (rc < 0)
			return rc == -ERR_CORRUPT || rc == -ERR_TRUNCATED ? -ERR_CORRUPT
									  : -ERR_STORAGE;
		pthread_mutex_lock(&p->mu);
		rc = 0;
		if (found) {
			if (from < p->log_start)
				from = p->log_start;
			*offset = bi.base_offset < from ? from : bi.base_offset;
			goto unlock;
		}
	}
unlock:
	pthread_mutex_unlock(&p->mu);
	return rc;
}

static bool in_failed_range(const struct partition *p, int64_t offset)
{
	unsigned n = p->nfailed < PARTITION_FAILED_RANGES ? p->nfailed : PARTITION_FAILED_RANGES;

	for (unsigned i = 0; i < n; i++)
		if (offset >= p->failed[i].from && offset < p->failed[i].to)
			return true;
	return false;
}

int partition_wait_visible(struct partition *p, int64_t offset, int timeout_ms)
{
	struct timespec deadline = clock_deadline(CLOCK_MONOTONIC, timeout_ms);
	int rc = 0;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		if (p->deleted) {
			rc = -ERR_NOT_FOUND;
			break;
		}
		if (in_failed_range(p, offset)) {
			rc = -ERR_STORAGE;
			break;
		}
		if (offset < p->visible) {
			rc = 0;
			break;
		}
		if (rc == ETIMEDOUT || timeout_ms <= 0) {
			rc = -ETIMEDOUT;
			break;
		}
		rc = pthread_cond_timedwait(&p->cond, &p->mu, &deadline);
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}
