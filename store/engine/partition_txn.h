/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The transaction view of one partition (KIP-98), as a Kafka partition
 * leader keeps it: the ongoing transactions (per producer id, the offset of
 * its first batch in the open transaction), from which the last stable offset
 * follows, and the aborted-transactions index (producer id, first offset,
 * offset of the ABORT marker) that read_committed fetches return.
 *
 * Nothing here is written to disk of its own: the log is the truth.  A
 * partition that ever held a transactional batch carries a marker file
 * (PTXN_MARKER in its directory); opening such a partition rebuilds this
 * state by a scan of every batch header from log_start (and of the key of
 * each control record), so it survives kill -9 exactly as far as the log
 * does.  Partitions without the marker pay nothing.
 *
 * Not thread-safe: the owning partition's mutex protects it.
 */
#ifndef SLUICE_STORE_PARTITION_TXN_H
#define SLUICE_STORE_PARTITION_TXN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/batch.h"
#include "store/engine/engine_types.h"

#define PTXN_MARKER "transactional"

/* Control record types (the key's second int16). */
#define PTXN_CONTROL_ABORT 0
#define PTXN_CONTROL_COMMIT 1

struct ptxn_open {
	int64_t pid;
	int64_t first_offset;
};

struct ptxn {
	struct ptxn_open *open; /* few at once: a plain array */
	size_t nopen, capopen;
	struct engine_aborted_txn *ab; /* in marker order (last_offset ascending) */
	size_t nab, capab;
	bool marked; /* the marker file exists */
};

void ptxn_init(struct ptxn *t);
void ptxn_release(struct ptxn *t);
void ptxn_clear(struct ptxn *t);

/* The control type of a control batch's records section (rec[0..n), the
 * bytes after the 61-byte header, uncompressed): PTXN_CONTROL_ABORT or
 * _COMMIT, -ERR_CORRUPT when it does not parse. */
int ptxn_control_type(const uint8_t *rec, size_t n);

/* Account for a batch now in the log at bi->base_offset: a transactional
 * data batch opens its producer's transaction (when not open yet); a control
 * batch of type ctl closes it (an ABORT adds it to the aborted index).  Other
 * batches are ignored.  0 or -ENOMEM. */
int ptxn_note(struct ptxn *t, const struct batch_info *bi, int ctl);

/* The last stable offset: the first offset of the earliest open transaction,
 * capped by hw (the high watermark); hw when none is open. */
int64_t ptxn_lso(const struct ptxn *t, int64_t hw);

/* Aborted transactions overlapping [from, to): last_offset >= from and
 * first_offset < to.  Up to max into out; returns how many there are in all. */
size_t ptxn_aborted(const struct ptxn *t, int64_t from, int64_t to, struct engine_aborted_txn *out,
		    size_t max);

/* Forget aborted entries wholly below log_start (retention). */
void ptxn_trim(struct ptxn *t, int64_t log_start);

/* Rebuild from the log: when dir holds the marker file, scan the headers
 * of segs[0..n) (oldest first) and the key of every control record.  0,
 * or a negative code (a header that cannot be read: the partition cannot
 * answer read_committed correctly, so opening it fails). */
struct segment;
int ptxn_rebuild(struct ptxn *t, const char *dir, struct segment *const *segs, size_t n);

/* Create the marker file (and sync the directory) once, before the first
 * transactional batch is appended.  0 or a negative code. */
int ptxn_mark(struct ptxn *t, const char *dir);

/* Truncation (recovery of a torn tail): every record at or past end is gone;
 * entries referring to them are dropped or cut. */
void ptxn_truncate(struct ptxn *t, int64_t end);

#endif
