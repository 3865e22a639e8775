/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One log segment: <base:020>.log (batches exactly as appended), a sparse
 * offset index <base:020>.index and a time index <base:020>.timeindex
 * (docs/FORMATS.md has the bytes).  Private to the log engine.
 *
 * The active (last) segment keeps both indexes in memory, in file format, and
 * appends every new entry to its file without fsync: index files are hints,
 * checked when used and rebuilt from the batch headers on recovery when they
 * do not match the log.  A sealed segment is immutable; its indexes are
 * mapped read-only on first use.
 *
 * Lifetime: reference-counted.  The partition holds one reference for as long
 * as the segment is in its list; each struct engine_slice handed to a reader
 * holds another, so the .log descriptor stays valid after retention or topic
 * deletion unlinks the files.  segment_unref() of the last reference closes
 * and frees everything.
 *
 * Threading: the owning partition's lock protects every mutable field.
 * segment_read_header() and the fields a reader captured under the lock
 * (fd, base) may be used without it while a reference is held.
 */
#ifndef SLUICE_STORE_SEGMENT_H
#define SLUICE_STORE_SEGMENT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/batch.h"

struct bidx;

#define SEG_INDEX_ENTRY 8      /* relative offset u32 | position u32 */
#define SEG_TIMEINDEX_ENTRY 12 /* max timestamp i64 | relative offset u32 */
/* Positions and relative offsets are 32-bit in the index files. */
#define SEG_MAX_BYTES ((int64_t)INT32_MAX)
#define SEG_MAX_OFFSETS ((int64_t)INT32_MAX)

struct seg_index {
	uint8_t *mem;       /* active: entries in file format */
	size_t cap;         /* bytes allocated at mem */
	const uint8_t *map; /* sealed: read-only mapping, or NULL */
	size_t map_len;
	size_t n;      /* entries */
	size_t file_n; /* active: entries already in the file */
	int fd;        /* open while active or not yet fsynced */
	bool broken;   /* a file write failed: rewrite at seal */
	bool mapped;   /* sealed: mapping attempted */
};

struct segment {
	atomic_int refs;
	char *path; /* "<dir>/<base:020>", no extension */
	int64_t base;
	int64_t next_offset; /* offset after the last batch; base when empty */
	int64_t size;        /* bytes of whole batches */
	int64_t first_ts;    /* baseTimestamp of the first batch; -1 when empty */
	int64_t max_ts;      /* largest maxTimestamp; -1 when empty */
	int64_t created_ms;  /* wall time of creation or of this process's open */
	int64_t bytes_since_index;
	int fd; /* .log, read-write */
	struct seg_index idx;
	struct seg_index tidx;
	bool sealed;
	bool synced;       /* sealed and its three files fsynced */
	bool dir_synced;   /* its directory entries are durable */
	struct bidx *bidx; /* block skip index (sealed; bidx_worker.c), or NULL */
	bool bidx_done;    /* the worker attached it or gave up */
	/* active segment: index parts of its complete blocks so far, in offset
	 * order and contiguous from base (bidx_worker.c); dropped once bidx is
	 * attached */
	struct bidx **live;
	size_t nlive, live_cap;
	int64_t live_pos;  /* .log bytes the parts cover */
	int64_t live_next; /* offset after the last part; base when none */
};

/* What recovery found in a segment. */
struct seg_recovery {
	int64_t cut_pos; /* where the log was truncated; -1: nothing cut */
	int64_t cut_bytes;
	int64_t cut_offset;      /* first offset that is no longer in the log */
	const char *why;         /* static text: why the batch at cut_pos failed */
	int64_t validated_bytes; /* checked batch by batch (CRC) */
	bool rescanned;          /* trusted prefix did not match: validated all */
};

/* "<dir>/<base:020>.<ext>" into out.  0 or -ENAMETOOLONG. */
int segment_path(char *out, size_t cap, const char *dir, int64_t base, const char *ext);

/* Create the three files of a new, empty active segment (truncating
 * leftovers of a crash).  The directory is not fsynced: dir_synced false. */
int segment_create(const char *dir, int64_t base, int64_t now_ms, struct segment **out);
/* Open an existing segment's .log.  Indexes are loaded by
 * segment_load_sealed() or segment_recover(). */
int segment_open(const char *dir, int64_t base, int64_t now_ms, struct segment **out);

/* A sealed segment below the recovery point: trust its batches, sanity-check
 * the last index entries (rebuilding the indexes from the batch headers when
 * they are missing or inconsistent).  next_base is the next segment's base,
 * which is where this one's offsets end.  0 or a negative code (I/O). */
int segment_load_sealed(struct segment *s, int64_t next_base, int64_t interval,
			struct seg_recovery *r);

/* The segment holding the recovery point, or one after it: batches below
 * trusted_pos are trusted (indexes loaded and checked), batches from there on
 * are validated one by one (header, contiguous offsets, CRC-32C) and the log
 * is truncated at the first one that fails.  Leaves the segment active
 * (indexes in memory, files consistent).  max_ts_hint: the segment's max
 * timestamp at trusted_pos as last checkpointed (-1 unknown).  0 or a
 * negative code (I/O). */
int segment_recover(struct segment *s, int64_t trusted_pos, int64_t max_ts_hint, int64_t interval,
		    struct seg_recovery *r);

/* Append one batch (already carrying its base offset) at the end with one
 * pwrite, then update the indexes.  On a failed or short write the file is
 * truncated back and -ERR_STORAGE returned; *torn is set when even that
 * failed (the tail may hold a partial batch: the partition must repair). */
int segment_append(struct segment *s, const uint8_t *batch, size_t len, const struct batch_info *bi,
		   int64_t interval, bool *torn);

/* Make the segment immutable: final time-index entry, index files rewritten
 * when a write to them had failed, in-memory arrays dropped.  Its files still
 * need an fsync (segment.synced) before offsets in it count as durable. */
void segment_seal(struct segment *s);

/* Largest index entry at or below offset: its offset, position and entry
 * number (-1 when the implicit entry (base, 0) was used). */
void segment_lookup(struct segment *s, int64_t offset, int64_t *ent_off, int64_t *ent_pos,
		    long *ent_no);
/* Copy up to max index entries starting at entry number from. */
size_t segment_index_copy(struct segment *s, long from, int64_t *offs, int64_t *poss, size_t max);
/* The offset to start a scan for the first batch with maxTimestamp >= ts:
 * every batch before it is older. */
int64_t segment_time_lookup(struct segment *s, int64_t ts);

/* Read and parse the header of the batch at pos of fd.  0, -ERR_CORRUPT,
 * -ERR_TRUNCATED (end of file) or -errno. */
int segment_read_header(int fd, int64_t pos, struct batch_info *bi);

/* Unlink the segment's files (descriptors stay valid). */
void segment_remove_files(struct segment *s);

static inline void segment_ref(struct segment *s)
{
	atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
}
void segment_unref(struct segment *s);

#endif
