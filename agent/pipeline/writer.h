/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The writer moves finished batches from the event loop to disk without
 * blocking it: worker threads compress a job's records (the expensive part,
 * so reading and compressing overlap) and append it to its output's spool in
 * submission order; a syncer thread makes what was appended durable with one
 * fdatasync per spool for everything written meanwhile (group commit) and
 * hands the jobs back to the loop, where the pipeline advances positions.
 *
 *   loop --submit--> [queue] --workers: compress, append in order--> [written]
 *        <--done (evloop async)-- [done] <--syncer: fdatasync--------'
 *
 * A job whose append fails (disk full, I/O error) is retried every second
 * with a rate-limited error, holding back the jobs behind it: nothing is
 * reordered or dropped, the queue fills and the inputs pause.
 *
 * Threading: writer_new/submit/free and the done callback run on the loop
 * thread; the job belongs to the writer between submit and done.
 */
#ifndef SLUICE_AGENT_WRITER_H
#define SLUICE_AGENT_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/spool/spool.h"
#include "lib/batch.h"
#include "lib/buf.h"
#include "lib/evloop.h"

struct source;

struct job_src {
	struct source *src;
	uint64_t ordinal;
};

struct job {
	struct job *next;
	struct spool *spool;
	void *owner;  /* the output, for the done callback */
	uint8_t type; /* SPOOL_BATCH, SPOOL_POSITIONS, SPOOL_ROUTES */
	char *topic;  /* BATCH (owned) */
	int32_t partition;
	struct batch_builder bb; /* BATCH: the records, compressed by a worker */
	struct batch_params params;
	struct buf items; /* encoded positions or routes */
	uint32_t nitems;
	struct job_src *srcs; /* sources whose positions the job carries */
	size_t nsrcs;
	size_t mem;           /* bytes accounted while queued */
	size_t spool_mem;     /* pipeline: counted against the spool cap until done */
	uint64_t ticket;      /* writer: append order */
	uint64_t entry_id;    /* result: spool entry id */
	int rc;               /* result: 0, or negative when cancelled */
	uint32_t batch_bytes; /* result: compressed size */
};

struct writer;

typedef void (*writer_done_fn)(struct job *j, void *arg);
typedef void (*writer_progress_fn)(void *arg);

/* Start nworkers compression threads and the syncer.  done is called on the
 * loop thread for every job, in submission order per spool; progress (may be
 * NULL) after compression freed memory, when writer_want_progress() asked. */
int writer_new(struct evloop *loop, int nworkers, writer_done_fn done, writer_progress_fn progress,
	       void *arg, struct writer **out);
/* Uncompressed record bytes waiting for a worker (any thread).  A job's
 * records leave this count, and their buffer goes back to the pool, as soon
 * as it is compressed: waiting for fsync holds no record memory. */
size_t writer_queued(const struct writer *w);
/* Call progress once the queue drained below low bytes. */
void writer_want_progress(struct writer *w, size_t low);
/* Record buffers cycle through a small thread-safe pool: take fills b with
 * a spare (or leaves it empty), give returns one (freed when the pool is
 * full). */
void writer_buf_take(struct writer *w, struct buf *b);
void writer_buf_give(struct writer *w, struct buf *b);
/* Stop the threads.  Jobs not yet durable are handed to done with
 * rc = -ECANCELED.  NULL is a no-op. */
void writer_free(struct writer *w);
/* Spools whose acknowledged mark the syncer persists even when idle. */
int writer_attach(struct writer *w, struct spool *sp);
void writer_submit(struct writer *w, struct job *j);
/* Jobs submitted and not yet handed back. */
size_t writer_pending(const struct writer *w);
/* Compressed bytes written and jobs completed since start (any thread). */
uint64_t writer_bytes(const struct writer *w);
/* Nanoseconds the workers spent compressing (any thread). */
uint64_t writer_busy_ns(const struct writer *w);

/* Allocate a job with empty buffers (bb holds nothing until reset by the
 * caller); free one, including its buffers. */
struct job *job_new(void);
void job_free(struct job *j);

#endif
