/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Writer threads.  One mutex guards the three lists (queue, written, done)
 * and the append ticket; compression and file I/O happen outside it.  Jobs
 * carry a ticket taken at submit time and are appended strictly in ticket
 * order, so with several workers a job compressed early waits for its
 * predecessors: per spool, entries land in the order the pipeline made them,
 * which the position contract needs.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "agent/pipeline/writer.h"
#include "lib/clock.h"
#include "lib/codec.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"

#define MAX_WORKERS 16
#define MAX_SPOOLS 64
#define POOL_MAX 8

struct jlist {
	struct job *head;
	struct job *tail;
};

struct writer {
	struct evloop *loop;
	writer_done_fn done_fn;
	void *done_arg;
	pthread_mutex_t lock;
	pthread_cond_t work_cond;  /* queue not empty, or stop */
	pthread_cond_t order_cond; /* next_append moved */
	pthread_cond_t sync_cond;  /* written not empty, or stop */
	struct jlist queue;
	struct jlist written;
	struct jlist done;
	uint64_t next_ticket;
	uint64_t next_append;
	bool stop;
	int nworkers;
	pthread_t workers[MAX_WORKERS];
	bool worker_started[MAX_WORKERS];
	pthread_t syncer;
	bool syncer_started;
	struct spool *spools[MAX_SPOOLS];
	size_t nspools;
	struct evloop_async async;
	struct evloop_async progress_async;
	writer_progress_fn progress_fn;
	atomic_size_t queued;    /* uncompressed bytes not yet compressed */
	atomic_size_t low_water; /* 0: nobody waits for progress */
	pthread_mutex_t pool_lock;
	struct buf pool[POOL_MAX];
	size_t npool;
	size_t pending; /* loop thread only */
	atomic_uint_fast64_t bytes;
	atomic_uint_fast64_t busy_ns;
	struct log_ratelimit rl_append;
	struct log_ratelimit rl_sync;
};

static void jlist_push(struct jlist *l, struct job *j)
{
	j->next = NULL;
	if (l->tail)
		l->tail->next = j;
	else
		l->head = j;
	l->tail = j;
}

static struct job *jlist_pop(struct jlist *l)
{
	struct job *j = l->head;

	if (j) {
		l->head = j->next;
		if (!l->head)
			l->tail = NULL;
		j->next = NULL;
	}
	return j;
}

static struct job *jlist_take(struct jlist *l)
{
	struct job *j = l->head;

	l->head = l->tail = NULL;
	return j;
}

struct job *job_new(void)
{
	struct job *j = mem_calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	batch_builder_init(&j->bb, BATCH_MAX_SIZE);
	batch_params_init(&j->params);
	buf_init(&j->items, SPOOL_MAX_ENTRY);
	return j;
}

void job_free(struct job *j)
{
	if (!j)
		return;
	batch_builder_release(&j->bb);
	buf_release(&j->items);
	mem_free(j->srcs);
	mem_free(j->topic);
	mem_free(j);
}

/* Sleep without holding the lock, waking early when the writer stops. */
static void pause_ms(struct writer *w, unsigned ms)
{
	struct timespec ts = clock_deadline(CLOCK_REALTIME, ms);

	pthread_mutex_lock(&w->lock);
	if (!w->stop)
		pthread_cond_timedwait(&w->work_cond, &w->lock, &ts);
	pthread_mutex_unlock(&w->lock);
}

static bool stopped(struct writer *w)
{
	bool s;

	pthread_mutex_lock(&w->lock);
	s = w->stop;
	pthread_mutex_unlock(&w->lock);
	return s;
}

static void *worker_main(void *arg)
{
	struct writer *w = arg;
	struct codec_ctx *cc = codec_ctx_new();
	struct buf out;
	struct job *j;

	buf_init(&out, BATCH_MAX_SIZE);
	for (;;) {
		uint64_t t0;
		const void *batch = NULL;
		size_t batch_len = 0;
		int rc = 0;

		pthread_mutex_lock(&w->lock);
		while (!w->stop && !w->queue.head)
			pthread_cond_wait(&w->work_cond, &w->lock);
		j = w->stop ? NULL : jlist_pop(&w->queue);
		pthread_mutex_unlock(&w->lock);
		if (!j)
			break;
		while (j->type == SPOOL_BATCH) {
			t0 = clock_mono_ns();
			buf_reset(&out);
			rc = cc ? batch_builder_finish(&j->bb, cc, &j->params, &out) : -ENOMEM;
			atomic_fetch_add(&w->busy_ns, clock_mono_ns() - t0);
			if (rc == 0) {
				batch = out.data;
				batch_len = out.len;
				j->batch_bytes = (uint32_t)out.len;
				break;
			}
			/* Out of memory: the records stay in the job and the
			 * jobs behind it wait, so nothing is reordered. */
			log_write_rl(&w->rl_append, 10000, LOG_LVL_ERROR,
				     "writer: cannot compress a batch for %s/%d (%s); retrying",
				     j->topic, j->partition, err_str(rc));
			if (stopped(w))
				break;
			pause_ms(w, 1000);
			if (!cc)
				cc = codec_ctx_new();
		}
		pthread_mutex_lock(&w->lock);
		while (!w->stop && j->ticket != w->next_append)
			pthread_cond_wait(&w->order_cond, &w->lock);
		pthread_mutex_unlock(&w->lock);
		if (j->type == SPOOL_BATCH) {
			/* The records are compressed: their memory goes back now,
			 * not after the fsync. */
			size_t low;

			writer_buf_give(w, &j->bb.records);
			atomic_fetch_sub(&w->queued, j->mem);
			j->mem = 0;
			low = atomic_load(&w->low_water);
			if (low && atomic_load(&w->queued) <= low) {
				atomic_store(&w->low_water, 0);
				evloop_async_send(&w->progress_async);
			}
		}
		if (rc < 0)
			rc = -ECANCELED;
		while (rc == 0) {
			if (stopped(w)) {
				rc = -ECANCELED;
				break;
			}
			rc = spool_append(j->spool, j->type, j->topic, j->partition, j->items.data,
					  j->items.len, j->nitems, batch, batch_len, &j->entry_id);
			if (rc == 0)
				break;
			log_write_rl(
				&w->rl_append, 10000, LOG_LVL_ERROR,
				"spool %s: cannot append (%s); retrying every second, inputs pause "
				"when memory fills",
				spool_dir(j->spool), err_str(rc));
			rc = 0;
			pause_ms(w, 1000);
		}
		j->rc = rc;
		if (rc == 0)
			atomic_fetch_add(&w->bytes, batch_len + j->items.len);
		pthread_mutex_lock(&w->lock);
		if (j->ticket == w->next_append)
			w->next_append++;
		pthread_cond_broadcast(&w->order_cond);
		if (rc == 0) {
			jlist_push(&w->written, j);
			pthread_cond_signal(&w->sync_cond);
		} else {
			jlist_push(&w->done, j);
		}
		pthread_mutex_unlock(&w->lock);
		if (rc < 0)
			evloop_async_send(&w->async);
	}
	buf_release(&out);
	codec_ctx_free(cc);
	return NULL;
}

static void *syncer_main(void *arg)
{
	struct writer *w = arg;

	for (;;) {
		struct spool *todo[MAX_SPOOLS];
		struct job *batch, *j;
		size_t nall;
		struct timespec ts = clock_deadline(CLOCK_REALTIME, 1000);
		bool stop;

		pthread_mutex_lock(&w->lock);
		if (!w->stop && !w->written.head)
			pthread_cond_timedwait(&w->sync_cond, &w->lock, &ts);
		stop = w->stop;
		batch = jlist_take(&w->written);
		nall = w->nspools;
		memcpy(todo, w->spools, nall * sizeof(todo[0]));
		pthread_mutex_unlock(&w->lock);
		/* Every attached spool: the written ones need their data synced,
		 * idle ones may have an acknowledged mark to persist. */
		for (size_t i = 0; i < nall; i++) {
			for (;;) {
				int rc = spool_sync(todo[i], stop);

				if (rc < 0) {
					log_write_rl(&w->rl_sync, 10000, LOG_LVL_ERROR,
						     "spool %s: sync failed (%s); retrying",
						     spool_dir(todo[i]), err_str(rc));
					if (stopped(w))
						break;
					pause_ms(w, 1000);
					continue;
				}
				if (!spool_dirty(todo[i]))
					break;
			}
		}
		if (batch) {
			pthread_mutex_lock(&w->lock);
			while ((j = batch) != NULL) {
				batch = j->next;
				j->next = NULL;
				if (spool_durable_id(j->spool) <= j->entry_id)
					j->rc = -ECANCELED; /* the sync never succeeded */
				jlist_push(&w->done, j);
			}
			pthread_mutex_unlock(&w->lock);
			evloop_async_send(&w->async);
		}
		if (stop)
			break;
	}
	return NULL;
}

static void deliver_done(struct writer *w)
{
	struct job *j;

	pthread_mutex_lock(&w->lock);
	j = jlist_take(&w->done);
	pthread_mutex_unlock(&w->lock);
	while (j) {
		struct job *next = j->next;

		j->next = NULL;
		w->pending--;
		w->done_fn(j, w->done_arg);
		j = next;
	}
}

static void on_async(struct evloop_async *a)
{
	deliver_done(a->data);
}

static void on_progress(struct evloop_async *a)
{
	struct writer *w = a->data;

	if (w->progress_fn)
		w->progress_fn(w->done_arg);
}

size_t writer_queued(const struct writer *w)
{
	return atomic_load(&((struct writer *)w)->queued);
}

void writer_want_progress(struct writer *w, size_t low)
{
	atomic_store(&w->low_water, low ? low : 1);
	if (atomic_load(&w->queued) <= low) {
		atomic_store(&w->low_water, 0);
		evloop_async_send(&w->progress_async);
	}
}

void writer_buf_take(struct writer *w, struct buf *b)
{
	pthread_mutex_lock(&w->pool_lock);
	if (w->npool) {
		*b = w->pool[--w->npool];
		buf_reset(b);
	}
	pthread_mutex_unlock(&w->pool_lock);
}

void writer_buf_give(struct writer *w, struct buf *b)
{
	if (!b->cap)
		return;
	pthread_mutex_lock(&w->pool_lock);
	if (w->npool < POOL_MAX) {
		w->pool[w->npool++] = *b;
		buf_init(b, b->max);
		b = NULL;
	}
	pthread_mutex_unlock(&w->pool_lock);
	if (b)
		buf_release(b);
}

int writer_new(struct evloop *loop, int nworkers, writer_done_fn done, writer_progress_fn progress,
	       void *arg, struct writer **out)
{
	struct writer *w = mem_calloc(1, sizeof(*w));
	int rc;

	*out = NULL;
	if (!w)
		return -ENOMEM;
	if (nworkers < 1)
		nworkers = 1;
	if (nworkers > MAX_WORKERS)
		nworkers = MAX_WORKERS;
	w->loop = loop;
	w->done_fn = done;
	w->progress_fn = progress;
	w->done_arg = arg;
	pthread_mutex_init(&w->pool_lock, NULL);
	w->nworkers = nworkers;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->work_cond, NULL);
	pthread_cond_init(&w->order_cond, NULL);
	pthread_cond_init(&w->sync_cond, NULL);
	evloop_async_start(loop, &w->async, on_async, w);
	evloop_async_start(loop, &w->progress_async, on_progress, w);
	for (int i = 0; i < nworkers; i++) {
		char name[16];

		rc = -pthread_create(&w->workers[i], NULL, worker_main, w);
		if (rc < 0)
			goto fail;
		w->worker_started[i] = true;
		snprintf(name, sizeof(name), "compress-%u", (unsigned)(unsigned char)i);
		pthread_setname_np(w->workers[i], name); /* for top -H; best effort */
	}
	rc = -pthread_create(&w->syncer, NULL, syncer_main, w);
	if (rc < 0)
		goto fail;
	w->syncer_started = true;
	pthread_setname_np(w->syncer, "spool-sync");
	*out = w;
	return 0;
fail:
	writer_free(w);
	return rc;
}

int writer_attach(struct writer *w, struct spool *sp)
{
	int rc = 0;

	pthread_mutex_lock(&w->lock);
	if (w->nspools == MAX_SPOOLS)
		rc = -ERR_TOO_LARGE;
	else
		w->spools[w->nspools++] = sp;
	pthread_mutex_unlock(&w->lock);
	return rc;
}

void writer_submit(struct writer *w, struct job *j)
{
	if (j->type == SPOOL_BATCH)
		atomic_fetch_add(&w->queued, j->mem);
	pthread_mutex_lock(&w->lock);
	j->ticket = w->next_ticket++;
	jlist_push(&w->queue, j);
	pthread_cond_signal(&w->work_cond);
	pthread_mutex_unlock(&w->lock);
	w->pending++;
}

size_t writer_pending(const struct writer *w)
{
	return w->pending;
}

uint64_t writer_bytes(const struct writer *w)
{
	return atomic_load(&((struct writer *)w)->bytes);
}

uint64_t writer_busy_ns(const struct writer *w)
{
	return atomic_load(&((struct writer *)w)->busy_ns);
}

void writer_free(struct writer *w)
{
	struct job *j;

	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_broadcast(&w->work_cond);
	pthread_cond_broadcast(&w->order_cond);
	pthread_cond_broadcast(&w->sync_cond);
	pthread_mutex_unlock(&w->lock);
	for (int i = 0; i < w->nworkers; i++)
		if (w->worker_started[i])
			pthread_join(w->workers[i], NULL);
	if (w->syncer_started)
		pthread_join(w->syncer, NULL);
	/* Whatever the threads did not finish goes back as cancelled. */
	while ((j = jlist_pop(&w->queue)) != NULL) {
		j->rc = -ECANCELED;
		atomic_fetch_sub(&w->queued, j->mem);
		j->mem = 0;
		jlist_push(&w->done, j);
	}
	while ((j = jlist_pop(&w->written)) != NULL) {
		if (spool_durable_id(j->spool) <= j->entry_id)
			j->rc = -ECANCELED;
		jlist_push(&w->done, j);
	}
	deliver_done(w);
	evloop_async_stop(&w->async);
	evloop_async_stop(&w->progress_async);
	for (size_t i = 0; i < w->npool; i++)
		buf_release(&w->pool[i]);
	pthread_mutex_destroy(&w->pool_lock);
	pthread_cond_destroy(&w->work_cond);
	pthread_cond_destroy(&w->order_cond);
	pthread_cond_destroy(&w->sync_cond);
	pthread_mutex_destroy(&w->lock);
	mem_free(w);
}
