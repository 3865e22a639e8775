/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The block index worker: one background thread (SCHED_IDLE) that gives every
 * sealed segment its <base>.bidx, off the append path.  Each round it walks
 * all partitions and, for each sealed segment without an attached index,
 * loads the file beside it (checked: CRCs and the segment's size) or, when
 * it is missing or damaged (logged), builds it from the segment's batches
 * and replaces the file atomically.  So it catches up after a restart and
 * on segments that predate the index; appends never wait for it.
 *
 * Also here: the engine's queries over the index (engine_skip,
 * engine_index_walk), which read attached indexes under the partition lock
 * (an attached struct bidx is immutable and lives as long as its segment).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "lib/batch.h"
#include "lib/crc32c.h"
#include "lib/clock.h"
#include "lib/codec.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "store/engine/bidx_worker.h"
#include "store/engine/blockindex.h"
#include "store/engine/engine_int.h"

#define WORKER_TICK_MS 500
#define DECOMPRESS_MAX (256u << 20)
/* an active segment part is built once this many new readable .log bytes */
#define LIVE_MIN_BYTES (256 << 10)

struct bidx_worker {
	struct engine *log;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	bool stop;
	struct bidx_builder *b;
	struct codec_ctx *cc;
	struct buf batch;
	struct buf image;
	struct batch_iter it;
	bool iter_inited;
	char *count_re;    /* log.block_index_count, or NULL */
	uint32_t count_id; /* its crc32c (never 0) */
	pcre2_code *re;
	pcre2_match_data *md;
};

static bool count_match(void *arg, const uint8_t *v, size_t n)
{
	struct bidx_worker *w = arg;

	return pcre2_match(w->re, v, n, 0, 0, w->md, NULL) >= 0;
}

/* Compile the counted pattern (UTF, as consume --grep does).  0 or
 * -ERR_CONFIG (logged). */
static int counter_init(struct bidx_worker *w, const char *pattern)
{
	int ec;
	PCRE2_SIZE eo;

	if (!pattern || !*pattern)
		return 0;
	w->re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
			      PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &ec, &eo, NULL);
	if (!w->re) {
		log_error("log.block_index_count: not a PCRE2 pattern (at %zu): %s", (size_t)eo,
			  pattern);
		return -ERR_CONFIG;
	}
	(void)pcre2_jit_compile(w->re, PCRE2_JIT_COMPLETE);
	w->md = pcre2_match_data_create_from_pattern(w->re, NULL);
	w->count_re = mem_strdup(pattern);
	if (!w->md || !w->count_re)
		return -ENOMEM;
	w->count_id = crc32c(0, pattern, strlen(pattern)) | 1;
	bidx_builder_set_counter(w->b, count_match, w, w->count_id);
	return 0;
}

/* A sealed segment of p still without index, referenced; NULL: none. */
static struct segment *pick(struct partition *p)
{
	struct segment *s = NULL;

	pthread_mutex_lock(&p->mu);
	for (size_t i = 0; i + 1 < p->nsegs && !p->deleted; i++) {
		if (!p->segs[i]->bidx_done && p->segs[i]->sealed) {
			s = p->segs[i];
			segment_ref(s);
			break;
		}
	}
	pthread_mutex_unlock(&p->mu);
	return s;
}

/* Index the batches of s from byte pos (offset next) to limit into
 * w->image.  live: the segment is active; only complete blocks are kept
 * and end_pos, end_next say where they end.  0 or a negative code. */
static int build(struct bidx_worker *w, struct segment *s, int64_t pos, int64_t next, int64_t limit,
		 bool live, int64_t *end_pos, int64_t *end_next)
{
	int rc = 0;

	*end_pos = pos;
	*end_next = next;
	while (pos < limit && rc == 0) {
		struct batch_info bi;

		rc = segment_read_header(s->fd, pos, &bi);
		if (rc < 0 || pos + (int64_t)bi.size > limit)
			break;
		buf_reset(&w->batch);
		rc = buf_reserve(&w->batch, bi.size);
		if (rc < 0)
			break;
		if (fs_pread_full(s->fd, w->batch.data, bi.size, pos) != (ssize_t)bi.size) {
			rc = -ERR_TRUNCATED;
			break;
		}
		w->batch.len = bi.size;
		rc = w->iter_inited ? batch_iter_reuse(&w->it, w->batch.data, bi.size, w->cc,
						       DECOMPRESS_MAX, false)
				    : batch_iter_init(&w->it, w->batch.data, bi.size, w->cc,
						      DECOMPRESS_MAX, false);
		w->iter_inited = true;
		if (rc == 0)
			rc = bidx_builder_add_batch(w->b, &w->it.info, pos, &w->it);
		next = batch_last_offset(&bi) + 1;
		pos += bi.size;
		if (rc == 0 && bidx_builder_block_full(w->b)) {
			rc = bidx_builder_end_block(w->b);
			*end_pos = pos;
			*end_next = next;
		}
	}
	if (live)
		bidx_builder_drop_open(w->b);
	else if (rc == 0) {
		*end_pos = pos;
		*end_next = next;
	}
	if (rc == 0)
		return bidx_builder_finish(w->b, s->base, *end_pos, *end_next, &w->image);
	(void)bidx_builder_finish(w->b, s->base, *end_pos, *end_next, &w->image);
	return rc;
}

static bool still_listed(struct partition *p, struct segment *s)
{
	for (size_t i = 0; i < p->nsegs; i++)
		if (p->segs[i] == s)
			return true;
	return false;
}

static void index_segment(struct bidx_worker *w, struct partition *p, struct segment *s)
{
	char path[4096], name[64];
	struct bidx *x = NULL;
	int64_t size;
	int rc;

	pthread_mutex_lock(&p->mu);
	size = s->size;
	pthread_mutex_unlock(&p->mu);
	if (segment_path(path, sizeof(path), p->dir, s->base, "bidx") < 0) {
		pthread_mutex_lock(&p->mu);
		s->bidx_done = true; /* never retried: pick() must move on */
		pthread_mutex_unlock(&p->mu);
		return;
	}
	rc = bidx_load(path, s->base, size, w->count_id, &x);
	if (rc < 0) {
		if (rc != -ENOENT && rc != -ERR_UNSUPPORTED)
			log_warn("log %s-%d: block index %020" PRId64
				 ".bidx damaged (%s): rebuilding",
				 p->topic, p->index, s->base, err_str(rc));
		int64_t ep, en;

		rc = build(w, s, 0, s->base, size, false, &ep, &en);
		snprintf(name, sizeof(name), "%020" PRId64 ".bidx", s->base);
		if (rc == 0)
			rc = fs_write_atomic(p->dir, name, w->image.data, w->image.len);
		if (rc == 0)
			rc = bidx_load(path, s->base, size, w->count_id, &x);
		if (rc < 0)
			log_warn("log %s-%d: cannot index segment %020" PRId64 ": %s", p->topic,
				 p->index, s->base, err_str(rc));
	}
	pthread_mutex_lock(&p->mu);
	if (still_listed(p, s) && !p->deleted) {
		s->bidx = x;
		x = NULL;
		/* the parts are only read under this lock (engine_skip) or
		 * copied under it (engine_index_walk): safe to drop now */
		if (s->bidx) {
			for (size_t i = 0; i < s->nlive; i++)
				bidx_free(s->live[i]);
			s->nlive = 0;
		}
	} else if (rc == 0) {
		unlink(path); /* retention or deletion took the segment meanwhile */
	}
	s->bidx_done = true;
	pthread_mutex_unlock(&p->mu);
	bidx_free(x);
}

/* Index the complete blocks the active segment gained since the last
 * part (in memory only: the file is written once the segment is sealed).
 * True when a part was added. */
static bool index_live(struct bidx_worker *w, struct partition *p)
{
	struct segment *s;
	struct bidx *x = NULL;
	int64_t start, next, limit, ep, en;
	bool added = false;
	int rc;

	pthread_mutex_lock(&p->mu);
	if (p->deleted || !p->nsegs) {
		pthread_mutex_unlock(&p->mu);
		return false;
	}
	s = p->segs[p->nsegs - 1];
	start = s->nlive ? s->live_pos : 0;
	next = s->nlive ? s->live_next : s->base;
	limit = s->base < p->vis_seg ? s->size : s->base == p->vis_seg ? p->vis_pos : 0;
	if (limit > s->size)
		limit = s->size;
	if (s->bidx || limit - start < LIVE_MIN_BYTES) {
		pthread_mutex_unlock(&p->mu);
		return false;
	}
	segment_ref(s);
	pthread_mutex_unlock(&p->mu);
	rc = build(w, s, start, next, limit, true, &ep, &en);
	if (rc == 0 && ep > start) {
		x = mem_calloc(1, sizeof(*x));
		if (x && bidx_parse(w->image.data, w->image.len, x) == 0) {
			x->data = w->image.data; /* the part owns the image now */
			buf_init(&w->image, (size_t)1 << 31);
		} else {
			mem_free(x);
			x = NULL;
		}
	}
	pthread_mutex_lock(&p->mu);
	if (x && still_listed(p, s) && !s->bidx && (s->nlive ? s->live_pos : 0) == start) {
		if (s->nlive == s->live_cap) {
			size_t nc = s->live_cap ? s->live_cap * 2 : 16;
			struct bidx **nl = mem_realloc(s->live, nc * sizeof(*nl));

			if (nl) {
				s->live = nl;
				s->live_cap = nc;
			}
		}
		if (s->nlive < s->live_cap) {
			s->live[s->nlive++] = x;
			s->live_pos = ep;
			s->live_next = en;
			x = NULL;
			added = true;
		}
	}
	pthread_mutex_unlock(&p->mu);
	bidx_free(x);
	segment_unref(s);
	return added;
}

/* One pass over every partition; true when something was indexed. */
static bool round_once(struct bidx_worker *w)
{
	struct engine *log = w->log;
	struct partition **parts = NULL;
	size_t n = 0, k = 0;
	bool did = false;

	pthread_rwlock_rdlock(&log->topics_lock);
	for (size_t i = 0; i < log->ntopics; i++)
		n += (size_t)log->topics[i]->nparts;
	parts = mem_alloc((n ? n : 1) * sizeof(*parts));
	for (size_t i = 0; parts && i < log->ntopics; i++) {
		for (int32_t j = 0; j < log->topics[i]->nparts; j++) {
			parts[k] = log->topics[i]->parts[j];
			partition_ref(parts[k++]);
		}
	}
	pthread_rwlock_unlock(&log->topics_lock);
	for (size_t i = 0; i < k; i++) {
		struct segment *s;

		while (!w->stop && (s = pick(parts[i])) != NULL) {
			index_segment(w, parts[i], s);
			segment_unref(s);
			did = true;
		}
		if (!w->stop)
			did = index_live(w, parts[i]) || did;
		partition_unref(parts[i]);
	}
	mem_free(parts);
	return did;
}

static void *worker_main(void *arg)
{
	struct bidx_worker *w = arg;

	/* below the appenders: SCHED_IDLE runs only on a CPU nothing else
	 * wants (appends never compete with it); where refused, nice 19
	 * (which Linux applies per thread) */
	{
		struct sched_param sp = {0};

		if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp) != 0)
			(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
	}
	pthread_mutex_lock(&w->mu);
	while (!w->stop) {
		struct timespec ts;

		pthread_mutex_unlock(&w->mu);
		(void)round_once(w);
		pthread_mutex_lock(&w->mu);
		if (w->stop)
			break;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += WORKER_TICK_MS * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&w->cond, &w->mu, &ts);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int bidx_worker_start(struct engine *log, const char *count, struct bidx_worker **out)
{
	struct bidx_worker *w = mem_calloc(1, sizeof(*w));
	pthread_condattr_t ca;
	int rc;

	*out = NULL;
	if (!w)
		return -ENOMEM;
	w->log = log;
	w->b = bidx_builder_new();
	w->cc = codec_ctx_new();
	buf_init(&w->batch, BATCH_MAX_SIZE);
	buf_init(&w->image, (size_t)1 << 31);
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &ca);
	pthread_condattr_destroy(&ca);
	rc = w->b && w->cc ? counter_init(w, count) : -ENOMEM;
	if (rc == 0 && pthread_create(&w->thread, NULL, worker_main, w) != 0)
		rc = -EAGAIN;
	if (rc < 0) {
		w->thread = 0;
		bidx_worker_stop(w);
		return rc;
	}
	*out = w;
	return 0;
}

void bidx_worker_stop(struct bidx_worker *w)
{
	if (!w)
		return;
	if (w->thread) {
		pthread_mutex_lock(&w->mu);
		w->stop = true;
		pthread_cond_broadcast(&w->cond);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->thread, NULL);
	}
	if (w->iter_inited)
		batch_iter_release(&w->it);
	bidx_builder_free(w->b);
	codec_ctx_free(w->cc);
	pcre2_match_data_free(w->md);
	pcre2_code_free(w->re);
	mem_free(w->count_re);
	buf_release(&w->batch);
	buf_release(&w->image);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cond);
	mem_free(w);
}

/* ---------------------------------------------------------------- queries */

static size_t seg_of(const struct partition *p, int64_t offset)
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

static int find_part(struct engine *log, const char *topic, int32_t idx, struct partition **out)
{
	struct topic *t;
	int rc = 0;

	pthread_rwlock_rdlock(&log->topics_lock);
	t = engine_topic_find(log, topic);
	if (!t || idx < 0 || idx >= t->nparts) {
		rc = -ERR_NOT_FOUND;
	} else {
		*out = t->parts[idx];
		partition_ref(*out);
	}
	pthread_rwlock_unlock(&log->topics_lock);
	return rc;
}

/* The index of s covering offset: its file's, or the active segment's
 * part holding it; NULL when none does.  Partition lock held. */
static const struct bidx *index_for(const struct segment *s, int64_t offset)
{
	size_t lo = 0, hi = s->nlive;

	if (s->bidx)
		return s->bidx;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->live[mid]->next_offset <= offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->nlive ? s->live[lo] : NULL;
}

int engine_skip(struct engine *log, const char *topic, int32_t partition, int64_t offset,
		const struct bidx_query *q, int64_t *next)
{
	struct partition *p;
	int rc = find_part(log, topic, partition, &p);

	*next = offset;
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&p->mu);
	if (p->nsegs && offset >= p->log_start) {
		size_t i = seg_of(p, offset);
		const struct bidx *x;

		while (i < p->nsegs && (x = index_for(p->segs[i], offset)) != NULL) {
			uint32_t b = bidx_find(x, offset);
			struct bidx_block blk;

			if (offset >= x->next_offset) {
				if (x != p->segs[i]->bidx || i + 1 == p->nsegs)
					break;
				offset = p->segs[++i]->base;
				continue;
			}
			if (b >= x->nblocks)
				break;
			bidx_get(x, b, &blk);
			if (bidx_block_may_match(&blk, q))
				break;
			offset = blk.next_offset;
		}
		if (offset > p->visible)
			offset = p->visible;
		if (offset > *next)
			*next = offset;
	}
	pthread_mutex_unlock(&p->mu);
	partition_unref(p);
	return 0;
}

struct walk_ent {
	int64_t from, to;
	const struct bidx *x; /* borrowed (segment referenced) or owned copy */
	struct bidx *copy;
	struct segment *seg; /* referenced */
};

static int walk_push(struct walk_ent **v, size_t *n, size_t *cap, struct walk_ent e)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct walk_ent *nv = mem_realloc(*v, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = e;
	return 0;
}

/* The ranges of p to visit, under its lock: a sealed segment with its
 * index, the active segment's parts (copied: parts may not outlive the
 * lock for a caller that reads the log meanwhile) and its unindexed tail. */
static int walk_plan(struct partition *p, struct walk_ent **v, size_t *n, size_t *cap)
{
	int rc = 0;

	for (size_t i = 0; i < p->nsegs && rc == 0; i++) {
		struct segment *s = p->segs[i];
		int64_t end = i + 1 < p->nsegs ? p->segs[i + 1]->base : p->visible;
		int64_t from = s->base;

		if (end > p->visible)
			end = p->visible;
		if (from >= end)
			continue;
		if (!s->bidx) {
			for (size_t k = 0; k < s->nlive && rc == 0; k++) {
				struct walk_ent e = {from, s->live[k]->next_offset, NULL, NULL,
						     NULL};

				if (e.to > end)
					break;
				e.copy = bidx_dup(s->live[k]);
				e.x = e.copy;
				rc = e.copy ? walk_push(v, n, cap, e) : -ENOMEM;
				if (rc < 0)
					bidx_free(e.copy);
				from = e.to;
			}
		}
		if (rc == 0 && from < end) {
			struct walk_ent e = {from, end, s->bidx, NULL, s};

			rc = walk_push(v, n, cap, e);
			if (rc == 0)
				segment_ref(s);
		}
	}
	return rc;
}

int engine_index_walk(struct engine *log, const char *topic, int32_t partition,
		      int (*cb)(void *arg, int64_t from, int64_t to, const struct bidx *x),
		      void *arg)
{
	struct walk_ent *v = NULL;
	size_t n = 0, cap = 0;
	struct partition *p;
	int rc = find_part(log, topic, partition, &p);

	if (rc < 0)
		return rc;
	pthread_mutex_lock(&p->mu);
	rc = walk_plan(p, &v, &n, &cap);
	pthread_mutex_unlock(&p->mu);
	for (size_t i = 0; i < n; i++) {
		if (rc == 0)
			rc = cb(arg, v[i].from, v[i].to, v[i].x);
		bidx_free(v[i].copy);
		segment_unref(v[i].seg);
	}
	mem_free(v);
	partition_unref(p);
	return rc;
}

const char *engine_block_index_count(struct engine *log, uint32_t *id)
{
	*id = log->bidx ? log->bidx->count_id : 0;
	return log->bidx ? log->bidx->count_re : NULL;
}
