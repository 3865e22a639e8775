/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent/spool/: the durable per-output spool, its table and delivered marks.
 *
 * The per-output disk spool: an append-only log of CRC-checked entries in
 * segment files under data_dir/spool/<output>/ (format in spool_entry.h and
 * docs/FORMATS.md).  Each entry holds one finished RecordBatch v2 together
 * with the input positions it covers, so "the data is durable" and "the
 * input may move past it" are one fsync, and recovery rebuilds every
 * position from the spool itself; no second checkpoint can disagree.
 *
 * Life of an entry: spool_append() writes it (appender thread),
 * spool_sync() makes it durable with one fdatasync for everything written
 * since the last call (syncer thread: group commit), spool_read() hands
 * durable entries to the output in order (owner thread), spool_ack() marks
 * everything below an id delivered; a segment is deleted once all its
 * entries are acknowledged and the next segment's opening SNAPSHOT is
 * durable.  The acknowledged watermark is persisted by spool_sync() at most
 * once a second: after a crash a few delivered entries may be sent again,
 * which the store's producer-sequence de-duplication absorbs.
 *
 * Recovery (spool_open): segments are scanned in order; the first bad frame
 * of the last segment is a torn write and the file is truncated there; a bad
 * frame in an older segment is corruption: logged, counted, the rest of that
 * segment dropped.  A segment whose header never became durable is removed.
 *
 * Threading: exactly one appender thread, one syncer thread and one owner
 * thread; an internal mutex guards what they share.  spool_open() and
 * spool_free() run on the owner thread while the others are stopped.
 */
#ifndef SLUICE_AGENT_SPOOL_H
#define SLUICE_AGENT_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/spool/spool_entry.h"
#include "agent/spool/spool_table.h"
#include "lib/buf.h"

struct spool;

struct spool_opts {
	uint64_t segment_bytes; /* roll to a new segment past this size */
};

struct spool_stats {
	uint64_t bytes; /* on disk, every segment */
	uint64_t segments;
	uint64_t entries_pending; /* durable, not yet acknowledged */
	uint64_t appended;        /* entries written by this process */
	uint64_t syncs;
	uint64_t torn_bytes;      /* cut from a torn tail at recovery */
	uint64_t corrupt_entries; /* skipped because of corruption */
	uint64_t write_errors;
};

/* Where an entry's batch bytes are, for re-reading them when sending. */
struct spool_loc {
	uint64_t seg; /* first id of the segment */
	uint64_t off; /* file offset of the batch bytes */
	uint32_t len;
};

/* The owner's read position: the next entry to read. */
struct spool_cursor {
	uint64_t seg;
	uint64_t off;
	uint64_t id;
};

/* Open (creating dir) and recover.  *fresh is true when the spool had never
 * been written (no segment existed).  0 or a negative errno. */
int spool_open(const char *dir, const struct spool_opts *o, struct spool **out, bool *fresh);
/* Persists the acknowledged watermark; the appender and syncer must be
 * stopped.  NULL is a no-op. */
void spool_free(struct spool *sp);
const char *spool_dir(const struct spool *sp);

/* Recovered state (owner thread, before the appender starts). */
const struct spool_table *spool_table(const struct spool *sp);

/* Appender thread.  Writes one entry; type BATCH needs topic, partition and
 * batch, POSITIONS/ROUTES take their encoded items in items/nitems.  Rolls
 * the segment first when it is full.  On a write error the segment is cut
 * back to where the entry began, so a retry appends cleanly.  *id receives
 * the entry id.  0 or a negative errno. */
int spool_append(struct spool *sp, uint8_t type, const char *topic, int32_t partition,
		 const void *items, size_t items_len, uint32_t nitems, const void *batch,
		 size_t batch_len, uint64_t *id);

/* Syncer thread: make every written entry durable (fdatasync, plus a
 * directory fsync after a segment was created) and persist the acknowledged
 * watermark when it moved and a second has passed (or force).  Returns the
 * count of entries newly durable, or a negative errno (nothing changed). */
int spool_sync(struct spool *sp, bool force_ack);
/* Entries with id below this are durable. */
uint64_t spool_durable_id(struct spool *sp);
/* Entries written but not yet durable (the syncer loops until false). */
bool spool_dirty(struct spool *sp);

/* Owner thread: the first entry not acknowledged. */
void spool_cursor_start(struct spool *sp, struct spool_cursor *c);
/* Read the next durable entry into scratch and decode it into *e (pointers
 * borrow scratch) with *loc locating its batch.  head_only: a large BATCH
 * entry is read only up to its RecordBatch header (e->batch points at the
 * header; fetch the bytes with spool_read_batch), so delivery reads each
 * batch once.  1 = an entry, 0 = nothing durable yet, -ERR_CORRUPT = a bad
 * entry was skipped together with the rest of its segment (the cursor moved
 * on; call again), other negative errno. */
int spool_read(struct spool *sp, struct spool_cursor *c, struct buf *scratch, struct spool_entry *e,
	       struct spool_loc *loc, bool head_only);
/* Append the batch bytes at loc to out.  0 or a negative errno. */
int spool_read_batch(struct spool *sp, const struct spool_loc *loc, struct buf *out);
/* Everything below id is delivered: deletes segments that became
 * unnecessary and marks the watermark for persisting. */
void spool_ack(struct spool *sp, uint64_t id);

void spool_get_stats(struct spool *sp, struct spool_stats *st);
uint64_t spool_bytes(struct spool *sp);

#endif
