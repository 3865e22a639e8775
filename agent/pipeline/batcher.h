/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-output batching: one RecordBatch builder per (topic, partition), closed
 * at batch.max_bytes, batch.max_records or batch.max_delay_ms after its first
 * record, and turned into a writer job that carries the records, the next
 * producer sequence of that (topic, partition), and the latest position of
 * every source with records in it.  Position-only updates (registrations,
 * skipped bytes, finished or forgotten sources) of sources with no records
 * pending collect in a separate positions builder, which is always written
 * before the next batch of the same output so a source's positions reach
 * the spool in order.
 *
 * A source maps to one builder for its life (murmur2 of its key over the
 * topic's partition count, asked from the output when the source first
 * emits), so its records stay ordered within one partition.
 *
 * Loop thread only.
 */
#ifndef SLUICE_AGENT_BATCHER_H
#define SLUICE_AGENT_BATCHER_H

#include <stddef.h>
#include <stdint.h>

#include "agent/plugin.h"
#include "agent/pipeline/source.h"
#include "agent/spool/spool_table.h"
#include "agent/pipeline/writer.h"
#include "lib/evloop.h"

struct batcher;

struct batcher_opts {
	uint64_t max_bytes;
	int64_t max_records;
	int64_t max_delay_ms;
	int codec;
	int level;
	size_t out_idx; /* this output's index in source->out[] */
	void *owner;    /* stored in every job */
	struct spool *spool;
	/* Partition count of a topic (>= 1). */
	int32_t (*partitions)(void *arg, const char *topic);
	void *partitions_arg;
	/* Hand a finished job on (the pipeline accounts and submits it). */
	void (*submit)(struct job *j, void *arg);
	void *submit_arg;
	struct writer *writer; /* record buffer pool */
};

/* seq (borrowed, may be NULL) seeds the next producer sequence per
 * (topic, partition) from the spool's table. */
int batcher_new(struct evloop *loop, const struct batcher_opts *o, const struct spool_table *seq,
		struct batcher **out);
/* Pending builders are dropped (their sources' positions did not move).
 * NULL is a no-op. */
void batcher_free(struct batcher *bt);

/* Add one record of s (with its standard headers plus ev->headers).
 * 0, -ERR_TOO_LARGE (the record alone exceeds a batch's hard bound) or
 * -ENOMEM. */
int batcher_add(struct batcher *bt, struct source *s, const char *topic, const struct event *ev);
/* Record that s reached ordinal without a record (flags: SPOOL_POS_*). */
int batcher_position(struct batcher *bt, struct source *s, uint64_t ordinal, uint8_t flags);
/* The same with the meta of that exact ordinal (NULL: the source's meta). */
int batcher_position_meta(struct batcher *bt, struct source *s, uint64_t ordinal, uint8_t flags,
			  const void *meta, size_t meta_len);
/* Register a source new to this spool at ordinal.  Spooled on the next loop
 * turn, not after max_delay_ms (nor after max_delay_ms in the batch of its
 * first records): a file seen and then rotated while the agent is down is
 * found again only if its registration was durable. */
int batcher_register(struct batcher *bt, struct source *s, uint64_t ordinal);
/* Queue a FORGET of (input, ident). */
int batcher_forget(struct batcher *bt, const char *input, const char *ident);
/* Close every builder now (shutdown, reload). */
void batcher_flush(struct batcher *bt);
/* Bytes of records held in open builders. */
size_t batcher_mem(const struct batcher *bt);

#endif
