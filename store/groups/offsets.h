/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Committed consumer-group offsets, durable across kill -9.
 *
 * On disk: data_dir/meta/consumer-offsets, an append-only journal of
 * CRC-framed records (docs/FORMATS.md): commits (group, topic, partition,
 * offset, leader epoch, metadata, commit time) and tombstones.  Opening
 * replays it and cuts a torn tail; the journal is rewritten atomically with
 * only the live entries when it grows past 4x their size.
 *
 * Durability: offsets_commit() writes the records at once (page cache) and a
 * flusher thread fdatasyncs, group-committing everything written meanwhile;
 * the commit is applied to the in-memory table and its callback runs on the
 * event-loop thread only after the fdatasync, so an acknowledged commit is
 * on disk and an OffsetFetch never returns an offset that could be lost.
 *
 * Threading: offsets_commit/cancel/delete_*, offsets_get and offsets_foreach
 * run on the event-loop thread; offsets_snapshot() may be called from any
 * thread (the table is under a mutex).  Callbacks run on the loop thread.
 */
#ifndef SLUICE_STORE_OFFSETS_H
#define SLUICE_STORE_OFFSETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/evloop.h"

struct offsets;

#define OFFSETS_FILE "consumer-offsets"
#define OFFSETS_METADATA_MAX 4096

struct offsets_value {
	int64_t offset;
	int32_t leader_epoch;
	const char *metadata; /* NULL for null; borrowed, see offsets_get */
	int64_t commit_ms;    /* wall clock of the commit */
};

struct offsets_record {
	const char *topic;
	int32_t partition;
	int64_t offset;
	int32_t leader_epoch;
	const char *metadata; /* NULL for null */
};

/* One pending commit.  The caller owns it (and the records) until done runs
 * or until it calls offsets_cancel(). */
struct offsets_commit {
	const char *group;
	const struct offsets_record *records;
	size_t n;
	/* the records are deletions (only topic and partition are used):
	 * journalled as tombstones and applied, like commits, once durable */
	bool tombstones;
	/* loop thread, after the fdatasync; rc 0 or a negative code (the
	 * journal could not be written or synced: nothing was applied) */
	void (*done)(struct offsets_commit *c, int rc);
	void *arg;
	/* private */
	struct offsets_pending *pending;
};

/* Open dir/consumer-offsets (creating dir and file) and replay it.  *out
 * starts its flusher thread and posts completions to loop. */
int offsets_open(struct evloop *loop, const char *dir, struct offsets **out);
/* Wait for pending syncs (their callbacks do not run), stop the thread,
 * close the file.  NULL is a no-op. */
void offsets_close(struct offsets *o);

/* Append c's records (commits, or tombstones) and start a sync.  0 (done will run), or a negative
 * code when the write failed (done will not run). */
int offsets_commit(struct offsets *o, struct offsets_commit *c);
/* Forget c's callback (its records are still applied once durable). */
void offsets_cancel(struct offsets *o, struct offsets_commit *c);

/* The committed value; false when none.  v->metadata stays valid until the
 * next change of the table (loop thread). */
bool offsets_get(struct offsets *o, const char *group, const char *topic, int32_t partition,
		 struct offsets_value *v);
/* Call fn for every entry of group (all groups when group is NULL), in no
 * particular order.  fn must not change the table. */
void offsets_foreach(struct offsets *o, const char *group,
		     void (*fn)(void *arg, const char *group, const char *topic, int32_t partition,
				const struct offsets_value *v),
		     void *arg);
/* Newest commit time of group's offsets, or -1 when it has none. */
int64_t offsets_group_last_commit(struct offsets *o, const char *group);

/* Drop entries (journaled as tombstones; durable with the next sync).
 * Return the number dropped. */
size_t offsets_delete_group(struct offsets *o, const char *group);
size_t offsets_delete_topic(struct offsets *o, const char *topic);

/* A copy of every entry, for other threads (HTTP lag, metrics). */
struct offsets_snap_entry {
	char *group;
	char *topic;
	int32_t partition;
	int64_t offset;
	int64_t commit_ms;
};
int offsets_snapshot(struct offsets *o, struct offsets_snap_entry **out, size_t *n);
void offsets_snapshot_free(struct offsets_snap_entry *v, size_t n);

/* Counters for metrics (any thread). */
struct offsets_stats {
	uint64_t commits;
	uint64_t syncs;
	uint64_t sync_errors;
	uint64_t compactions;
	uint64_t entries;
	uint64_t journal_bytes;
};
void offsets_get_stats(struct offsets *o, struct offsets_stats *out);

#endif
