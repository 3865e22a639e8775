/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One log segment: the .log file of whole batches, its sparse offset index
 * and its time index; append, lookups, sealing, and the per-segment part of
 * recovery (sanity checks, header scans that rebuild indexes, batch-by-batch
 * validation of an unflushed tail and its truncation).
 *
 * Index rule, shared by append and the rebuilding scans so both produce the
 * same entries: the first batch of a segment has no entry (position 0 is
 * implicit); a batch starting after at least `interval` bytes since the last
 * indexed batch gets an offset-index entry, and a time-index entry when the
 * segment's max timestamp grew since the last one.  Sealing adds a last
 * time-index entry holding the segment's max timestamp.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/crc32c.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "store/engine/blockindex.h"
#include "store/engine/segment.h"

/* Recovery reads the tail through a buffer of this size. */
#define SCAN_BUF (1u << 20)

/* Index entries as docs/FORMATS.md lays them out (written byte by byte). */
_Static_assert(SEG_INDEX_ENTRY == sizeof(uint32_t) + sizeof(uint32_t),
	       ".index: relative offset u32 | position u32");
_Static_assert(SEG_TIMEINDEX_ENTRY == sizeof(int64_t) + sizeof(uint32_t),
	       ".timeindex: timestamp i64 | relative offset u32");

int segment_path(char *out, size_t cap, const char *dir, int64_t base, const char *ext)
{
	int n = snprintf(out, cap, "%s/%020lld%s%s", dir, (long long)base, ext ? "." : "",
			 ext ? ext : "");

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

static int ext_path(char *out, size_t cap, const struct segment *s, const char *ext)
{
	int n = snprintf(out, cap, "%s.%s", s->path, ext);

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

static void index_init(struct seg_index *x)
{
	memset(x, 0, sizeof(*x));
	x->fd = -1;
}

static void index_release(struct seg_index *x)
{
	mem_free(x->mem);
	if (x->map)
		munmap((void *)x->map, x->map_len);
	if (x->fd >= 0)
		close(x->fd);
	index_init(x);
}

static struct segment *seg_alloc(const char *dir, int64_t base, int64_t now_ms)
{
	struct segment *s = mem_calloc(1, sizeof(*s));
	char path[4096];

	if (!s)
		return NULL;
	if (segment_path(path, sizeof(path), dir, base, NULL) < 0) {
		mem_free(s);
		return NULL;
	}
	s->path = mem_strdup(path);
	if (!s->path) {
		mem_free(s);
		return NULL;
	}
	atomic_init(&s->refs, 1);
	s->base = base;
	s->next_offset = base;
	s->first_ts = -1;
	s->max_ts = -1;
	s->created_ms = now_ms;
	s->fd = -1;
	index_init(&s->idx);
	index_init(&s->tidx);
	return s;
}

void segment_unref(struct segment *s)
{
	if (!s || atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
		return;
	index_release(&s->idx);
	index_release(&s->tidx);
	bidx_free(s->bidx);
	for (size_t i = 0; i < s->nlive; i++)
		bidx_free(s->live[i]);
	mem_free(s->live);
	if (s->fd >= 0)
		close(s->fd);
	mem_free(s->path);
	mem_free(s);
}

static int open_ext(const struct segment *s, const char *ext, int flags)
{
	char p[4096];
	int fd;

	if (ext_path(p, sizeof(p), s, ext) < 0)
		return -ENAMETOOLONG;
	fd = open(p, flags | O_CLOEXEC, FS_FILE_MODE);
	return fd < 0 ? -errno : fd;
}

int segment_create(const char *dir, int64_t base, int64_t now_ms, struct segment **out)
{
	struct segment *s = seg_alloc(dir, base, now_ms);
	int rc = 0, fd;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	/* O_TRUNC: a file with this name can only be the leftover of a crash
	 * beyond the recovered end */
	fd = open_ext(s, "log", O_RDWR | O_CREAT | O_TRUNC);
	if (fd < 0) {
		rc = fd;
		goto out;
	}
	s->fd = fd;
	fd = open_ext(s, "index", O_RDWR | O_CREAT | O_TRUNC);
	if (fd < 0) {
		rc = fd;
		goto out;
	}
	s->idx.fd = fd;
	fd = open_ext(s, "timeindex", O_RDWR | O_CREAT | O_TRUNC);
	if (fd < 0) {
		rc = fd;
		goto out;
	}
	s->tidx.fd = fd;
	{
		char bp[4096];

		/* a block index of a crashed earlier segment with this base */
		if (ext_path(bp, sizeof(bp), s, "bidx") == 0)
			unlink(bp);
	}
out:
	if (rc < 0) {
		segment_remove_files(s);
		segment_unref(s);
		return rc;
	}
	*out = s;
	return 0;
}

int segment_open(const char *dir, int64_t base, int64_t now_ms, struct segment **out)
{
	struct segment *s = seg_alloc(dir, base, now_ms);
	struct stat st;
	int fd;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	fd = open_ext(s, "log", O_RDWR);
	if (fd < 0) {
		segment_unref(s);
		return fd;
	}
	s->fd = fd;
	if (fstat(fd, &st) != 0) {
		fd = -errno;
		segment_unref(s);
		return fd;
	}
	s->size = st.st_size;
	s->dir_synced = true;
	*out = s;
	return 0;
}

void segment_remove_files(struct segment *s)
{
	static const char *const exts[] = {"log", "index", "timeindex", "bidx"};
	char p[4096];

	for (size_t i = 0; i < 4; i++)
		if (ext_path(p, sizeof(p), s, exts[i]) == 0)
			unlink(p);
}

int segment_read_header(int fd, int64_t pos, struct batch_info *bi)
{
	uint8_t h[BATCH_HEADER_SIZE];
	ssize_t r = fs_pread_full(fd, h, sizeof(h), pos);

	if (r < 0)
		return (int)r;
	if (r < (ssize_t)sizeof(h))
		return -ERR_TRUNCATED;
	return batch_header_parse(h, sizeof(h), bi);
}

/* ---------------------------------------------------------------- indexes */

static const uint8_t *ents(const struct seg_index *x)
{
	return x->mem ? x->mem : x->map;
}

static int64_t idx_off(const struct segment *s, const uint8_t *e)
{
	return s->base + get_be32(e);
}

static int64_t idx_pos(const uint8_t *e)
{
	return get_be32(e + 4);
}

static int64_t tidx_ts(const uint8_t *e)
{
	return (int64_t)get_be64(e);
}

static int64_t tidx_off(const struct segment *s, const uint8_t *e)
{
	return s->base + get_be32(e + 8);
}

/* Add an entry in memory and, best effort, to the file. */
static int index_add(struct seg_index *x, const uint8_t *e, size_t esz)
{
	if ((x->n + 1) * esz > x->cap) {
		size_t ncap = x->cap ? x->cap * 2 : 64 * esz;
		uint8_t *n = mem_realloc(x->mem, ncap);

		if (!n)
			return -ENOMEM;
		x->mem = n;
		x->cap = ncap;
	}
	memcpy(x->mem + x->n * esz, e, esz);
	x->n++;
	if (x->fd >= 0 && !x->broken && x->file_n == x->n - 1) {
		if (fs_pwrite_full(x->fd, e, esz, (off_t)(x->file_n * esz)) == 0)
			x->file_n++;
		else
			x->broken = true;
	}
	return 0;
}

/* The index rule (see the top of the file) for a batch at pos. */
static void index_batch(struct segment *s, int64_t pos, const struct batch_info *bi,
			int64_t interval)
{
	if (bi->max_ts > s->max_ts)
		s->max_ts = bi->max_ts;
	if (pos > 0 && s->bytes_since_index >= interval) {
		const uint8_t *t = ents(&s->tidx);
		int64_t last_ts =
			s->tidx.n ? tidx_ts(t + (s->tidx.n - 1) * SEG_TIMEINDEX_ENTRY) : -1;
		uint8_t e[SEG_TIMEINDEX_ENTRY];

		put_be32(e, (uint32_t)(bi->base_offset - s->base));
		put_be32(e + 4, (uint32_t)pos);
		/* out of memory only costs a longer scan on reads */
		(void)index_add(&s->idx, e, SEG_INDEX_ENTRY);
		/* every batch up to this one has a max timestamp <= s->max_ts */
		if (s->max_ts > last_ts) {
			put_be64(e, (uint64_t)s->max_ts);
			put_be32(e + 8, (uint32_t)(bi->base_offset - s->base));
			(void)index_add(&s->tidx, e, SEG_TIMEINDEX_ENTRY);
		}
		s->bytes_since_index = 0;
	}
	s->bytes_since_index += bi->size;
	if (pos == 0)
		s->first_ts = bi->first_ts;
	s->next_offset = batch_last_offset(bi) + 1;
}

/* Write the in-memory entries to the file as its whole content. */
static int index_rewrite(struct seg_index *x, const struct segment *s, const char *ext, size_t esz,
			 bool sync)
{
	int fd = x->fd, rc = 0;

	if (fd < 0) {
		fd = open_ext(s, ext, O_RDWR | O_CREAT);
		if (fd < 0)
			return fd;
	}
	if (x->n)
		rc = fs_pwrite_full(fd, x->mem, x->n * esz, 0);
	if (rc == 0 && ftruncate(fd, (off_t)(x->n * esz)) != 0)
		rc = -errno;
	if (rc == 0 && sync && fdatasync(fd) != 0)
		rc = -errno;
	if (fd != x->fd)
		close(fd);
	x->broken = rc < 0;
	x->file_n = rc < 0 ? 0 : x->n;
	return rc;
}

static void index_clear(struct seg_index *x)
{
	x->n = 0;
}

void segment_seal(struct segment *s)
{
	if (s->sealed)
		return;
	if (s->size > 0) {
		const uint8_t *t = ents(&s->tidx);
		int64_t last_ts =
			s->tidx.n ? tidx_ts(t + (s->tidx.n - 1) * SEG_TIMEINDEX_ENTRY) : -1;

		/* the last entry carries the segment's max timestamp, so a sealed
		 * segment's max is one read away (retention, time lookups) */
		if (s->max_ts > last_ts || s->tidx.n == 0) {
			uint8_t e[SEG_TIMEINDEX_ENTRY];

			put_be64(e, (uint64_t)s->max_ts);
			put_be32(e + 8, (uint32_t)(s->next_offset - 1 - s->base));
			(void)index_add(&s->tidx, e, SEG_TIMEINDEX_ENTRY);
		}
	}
	if (s->idx.broken || s->idx.file_n != s->idx.n)
		(void)index_rewrite(&s->idx, s, "index", SEG_INDEX_ENTRY, false);
	if (s->tidx.broken || s->tidx.file_n != s->tidx.n)
		(void)index_rewrite(&s->tidx, s, "timeindex", SEG_TIMEINDEX_ENTRY, false);
	/* entries are read back through a mapping from now on */
	mem_free(s->idx.mem);
	mem_free(s->tidx.mem);
	s->idx.mem = NULL;
	s->tidx.mem = NULL;
	s->idx.cap = s->tidx.cap = 0;
	s->idx.n = s->tidx.n = 0;
	s->idx.mapped = s->tidx.mapped = false;
	s->sealed = true;
}

/* Map a sealed segment's index file on first use.  A failure leaves no
 * entries: lookups fall back to scanning from position 0. */
static void index_map(struct segment *s, struct seg_index *x, const char *ext, size_t esz)
{
	struct stat st;
	void *m;
	int fd;

	if (!s->sealed || x->mapped || x->mem)
		return;
	x->mapped = true;
	x->n = 0;
	fd = open_ext(s, ext, O_RDONLY);
	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && st.st_size >= (off_t)esz) {
		size_t len = (size_t)st.st_size / esz * esz;

		m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
		if (m != MAP_FAILED) {
			x->map = m;
			x->map_len = len;
			x->n = len / esz;
		}
	}
	close(fd);
}

void segment_lookup(struct segment *s, int64_t offset, int64_t *ent_off, int64_t *ent_pos,
		    long *ent_no)
{
	const uint8_t *e;
	size_t lo = 0, hi;

	index_map(s, &s->idx, "index", SEG_INDEX_ENTRY);
	e = ents(&s->idx);
	hi = s->idx.n;
	*ent_off = s->base;
	*ent_pos = 0;
	*ent_no = -1;
	/* the largest entry with offset <= target */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (idx_off(s, e + mid * SEG_INDEX_ENTRY) <= offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0) {
		*ent_off = idx_off(s, e + (lo - 1) * SEG_INDEX_ENTRY);
		*ent_pos = idx_pos(e + (lo - 1) * SEG_INDEX_ENTRY);
		*ent_no = (long)lo - 1;
	}
}

size_t segment_index_copy(struct segment *s, long from, int64_t *offs, int64_t *poss, size_t max)
{
	const uint8_t *e = ents(&s->idx);
	size_t n = 0;

	if (from < 0)
		from = 0;
	for (size_t i = (size_t)from; i < s->idx.n && n < max; i++, n++) {
		offs[n] = idx_off(s, e + i * SEG_INDEX_ENTRY);
		poss[n] = idx_pos(e + i * SEG_INDEX_ENTRY);
	}
	return n;
}

int64_t segment_time_lookup(struct segment *s, int64_t ts)
{
	const uint8_t *e;
	size_t lo = 0, hi;

	index_map(s, &s->tidx, "timeindex", SEG_TIMEINDEX_ENTRY);
	e = ents(&s->tidx);
	hi = s->tidx.n;
	/* the last entry older than ts: every batch up to its offset is older */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (tidx_ts(e + mid * SEG_TIMEINDEX_ENTRY) < ts)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 ? tidx_off(s, e + (lo - 1) * SEG_TIMEINDEX_ENTRY) : s->base;
}

/* ---------------------------------------------------------------- append */

int segment_append(struct segment *s, const uint8_t *batch, size_t len, const struct batch_info *bi,
		   int64_t interval, bool *torn)
{
	ssize_t w;
	int err;

	*torn = false;
	w = pwrite(s->fd, batch, len, s->size);
	if (w == (ssize_t)len) {
		int64_t pos = s->size;

		index_batch(s, pos, bi, interval);
		s->size += (int64_t)len;
		return 0;
	}
	err = w < 0 ? errno : ENOSPC;
	/* no partial batch may stay behind the acknowledged ones */
	if (ftruncate(s->fd, s->size) != 0)
		*torn = true;
	errno = err;
	return -ERR_STORAGE;
}

/* ---------------------------------------------------------------- recovery */

/* Buffered sequential reader over the .log for the validating scan. */
struct scanbuf {
	int fd;
	uint8_t *data;
	int64_t pos; /* file position of data[0] */
	size_t len;
};

/* Make [pos, pos + n) available; returns a pointer or NULL (short file or
 * I/O error, *err set). */
static const uint8_t *scan_get(struct scanbuf *b, int64_t pos, size_t n, int *err)
{
	ssize_t r;

	if (pos >= b->pos && pos + (int64_t)n <= b->pos + (int64_t)b->len)
		return b->data + (pos - b->pos);
	r = fs_pread_full(b->fd, b->data, SCAN_BUF, pos);
	if (r < 0) {
		*err = (int)r;
		return NULL;
	}
	b->pos = pos;
	b->len = (size_t)r;
	if ((size_t)r < n)
		return NULL;
	return b->data;
}

/* Validate the batch at pos; 0 and *bi, or a reason in *why (and -errno in
 * *err for an I/O error). */
static int validate_batch(struct scanbuf *b, int64_t pos, int64_t file_size, int64_t expected,
			  struct batch_info *bi, const char **why, int *err)
{
	const uint8_t *p;
	uint32_t crc = 0;
	int64_t at;

	if (file_size - pos < BATCH_HEADER_SIZE) {
		*why = "incomplete batch header";
		return -1;
	}
	p = scan_get(b, pos, BATCH_HEADER_SIZE, err);
	if (!p) {
		*why = "short read";
		return -1;
	}
	if (batch_header_parse(p, BATCH_HEADER_SIZE, bi) < 0) {
		*why = "invalid batch header";
		return -1;
	}
	if ((int64_t)bi->size > file_size - pos) {
		*why = "incomplete batch";
		return -1;
	}
	if (bi->base_offset != expected) {
		*why = "offset does not follow the previous batch";
		return -1;
	}
	if (bi->count <= 0 || bi->last_offset_delta != bi->count - 1 ||
	    (bi->producer_id >= 0 && (bi->producer_epoch < 0 || bi->base_sequence < 0)) ||
	    batch_codec(bi) > CODEC_ZSTD || bi->size == BATCH_HEADER_SIZE) {
		*why = "invalid batch header";
		return -1;
	}
	/* CRC-32C of bytes 21..end, read in buffer-sized pieces */
	for (at = pos + BATCH_OFF_ATTRIBUTES; at < pos + (int64_t)bi->size;) {
		size_t n = (size_t)(pos + (int64_t)bi->size - at);

		if (n > SCAN_BUF / 2)
			n = SCAN_BUF / 2;
		p = scan_get(b, at, n, err);
		if (!p) {
			*why = "short read";
			return -1;
		}
		crc = crc32c(crc, p, n);
		at += (int64_t)n;
	}
	if (crc != bi->crc) {
		*why = "CRC mismatch";
		return -1;
	}
	return 0;
}

/* Read an index file into memory (bounded by what the log could hold). */
static int index_load(struct segment *s, struct seg_index *x, const char *ext, size_t esz)
{
	struct stat st;
	size_t want, max;
	ssize_t r;
	int fd = open_ext(s, ext, O_RDWR | O_CREAT);

	if (fd < 0)
		return fd;
	x->fd = fd;
	x->n = 0;
	if (fstat(fd, &st) != 0)
		return -errno;
	/* at most one entry per header-sized batch: more is garbage */
	max = ((size_t)s->size / BATCH_HEADER_SIZE + 2) * esz;
	want = (size_t)st.st_size / esz * esz;
	if (want > max)
		want = 0;
	if (want > x->cap) {
		uint8_t *n = mem_realloc(x->mem, want);

		if (!n)
			return -ENOMEM;
		x->mem = n;
		x->cap = want;
	}
	r = want ? fs_pread_full(fd, x->mem, want, 0) : 0;
	if (r < 0)
		return (int)r;
	x->n = (size_t)r / esz;
	x->file_n = x->n;
	x->broken = (size_t)st.st_size != x->n * esz;
	return 0;
}

/* Keep the prefix of the loaded indexes that lies below pos; false when
 * that prefix contradicts itself (then the caller keeps nothing). */
static bool index_trim(struct segment *s, int64_t pos)
{
	const uint8_t *e = s->idx.mem;
	int64_t prev_off = s->base, prev_pos = 0, prev_ts = INT64_MIN;
	size_t keep = 0, tkeep = 0;

	for (size_t i = 0; i < s->idx.n; i++) {
		int64_t o = idx_off(s, e + i * SEG_INDEX_ENTRY),
			p = idx_pos(e + i * SEG_INDEX_ENTRY);

		if (p >= pos)
			break;
		if (o <= prev_off || p <= prev_pos)
			return false;
		prev_off = o;
		prev_pos = p;
		keep++;
	}
	/* time entries are written at index points: keep those up to the last
	 * kept one */
	e = s->tidx.mem;
	for (size_t i = 0; keep > 0 && i < s->tidx.n; i++) {
		int64_t o = tidx_off(s, e + i * SEG_TIMEINDEX_ENTRY);
		int64_t t = tidx_ts(e + i * SEG_TIMEINDEX_ENTRY);

		if (o > prev_off)
			break;
		if (t <= prev_ts || (i > 0 && o <= tidx_off(s, e + (i - 1) * SEG_TIMEINDEX_ENTRY)))
			return false;
		prev_ts = t;
		tkeep++;
	}
	s->idx.n = keep;
	s->tidx.n = tkeep;
	return true;
}

/* Walk batch headers from pos (the batch at pos starts a fresh index
 * interval when it is indexed) to the end position `to`, indexing as append
 * does.  Stops early at a header that does not parse or does not follow;
 * returns the position reached and the next offset through *next. */
static int64_t header_scan(struct segment *s, int64_t pos, int64_t to, int64_t next,
			   int64_t interval, int *err)
{
	while (pos < to) {
		struct batch_info bi;
		int rc = segment_read_header(s->fd, pos, &bi);

		if (rc < 0) {
			if (rc != -ERR_CORRUPT && rc != -ERR_TRUNCATED && rc != -ERR_UNSUPPORTED)
				*err = rc;
			break;
		}
		if ((int64_t)bi.size > to - pos || bi.base_offset < next ||
		    batch_last_offset(&bi) - s->base > SEG_MAX_OFFSETS || bi.last_offset_delta < 0)
			break;
		s->size = pos;
		index_batch(s, pos, &bi, interval);
		pos += bi.size;
		next = batch_last_offset(&bi) + 1;
	}
	s->size = pos;
	return pos;
}

static void rebuild_reset(struct segment *s)
{
	index_clear(&s->idx);
	index_clear(&s->tidx);
	s->max_ts = -1;
	s->first_ts = -1;
	s->bytes_since_index = 0;
	s->next_offset = s->base;
	s->size = 0;
}

/* Re-establish the scan state at the last kept index entry (or 0). */
static int64_t resume_point(struct segment *s, int64_t *next)
{
	const uint8_t *t = s->tidx.mem;

	s->max_ts = s->tidx.n ? tidx_ts(t + (s->tidx.n - 1) * SEG_TIMEINDEX_ENTRY) : -1;
	s->bytes_since_index = 0;
	if (s->idx.n == 0) {
		*next = s->base;
		return 0;
	}
	*next = idx_off(s, s->idx.mem + (s->idx.n - 1) * SEG_INDEX_ENTRY);
	return idx_pos(s->idx.mem + (s->idx.n - 1) * SEG_INDEX_ENTRY);
}

int segment_recover(struct segment *s, int64_t trusted_pos, int64_t max_ts_hint, int64_t interval,
		    struct seg_recovery *r)
{
	struct scanbuf sb = {.fd = s->fd, .data = NULL, .pos = 0, .len = 0};
	struct stat st;
	int64_t file_size, pos, next;
	int err = 0, rc = 0;

	memset(r, 0, sizeof(*r));
	r->cut_pos = -1;
	if (fstat(s->fd, &st) != 0)
		return -errno;
	file_size = st.st_size;
	s->size = file_size;
	if (trusted_pos > file_size || trusted_pos < 0)
		trusted_pos = 0;
	rc = index_load(s, &s->idx, "index", SEG_INDEX_ENTRY);
	if (rc == 0)
		rc = index_load(s, &s->tidx, "timeindex", SEG_TIMEINDEX_ENTRY);
	if (rc < 0)
		return rc;
	s->sealed = false;

	/* the trusted prefix: index entries checked, headers from the last one */
	if (!index_trim(s, trusted_pos)) {
		index_clear(&s->idx);
		index_clear(&s->tidx);
	}
	if (s->idx.n > 0) {
		struct batch_info bi;
		const uint8_t *last = s->idx.mem + (s->idx.n - 1) * SEG_INDEX_ENTRY;

		if (segment_read_header(s->fd, idx_pos(last), &bi) < 0 ||
		    bi.base_offset != idx_off(s, last)) {
			index_clear(&s->idx);
			index_clear(&s->tidx);
		}
	}
	pos = resume_point(s, &next);
	if (pos > 0) {
		/* first_ts comes from the first batch, before the resume point */
		struct batch_info bi;

		if (segment_read_header(s->fd, 0, &bi) == 0)
			s->first_ts = bi.first_ts;
	}
	pos = header_scan(s, pos, trusted_pos, next, interval, &err);
	if (err < 0)
		return err;
	if (pos != trusted_pos) {
		/* the checkpoint does not match this file: trust nothing */
		r->rescanned = true;
		rebuild_reset(s);
		trusted_pos = 0;
		pos = 0;
	}
	if (max_ts_hint > s->max_ts && trusted_pos > 0)
		s->max_ts = max_ts_hint; /* exact as checkpointed; the time index may lag */

	/* the tail: every batch validated */
	next = s->next_offset;
	if (pos < file_size) {
		sb.data = mem_alloc(SCAN_BUF);
		if (!sb.data)
			return -ENOMEM;
	}
	while (pos < file_size) {
		struct batch_info bi;
		const char *why = NULL;

		if (validate_batch(&sb, pos, file_size, next, &bi, &why, &err) < 0 ||
		    batch_last_offset(&bi) - s->base > SEG_MAX_OFFSETS) {
			if (err < 0) {
				rc = err;
				goto out;
			}
			r->why = why ? why : "offset beyond the segment's range";
			break;
		}
		s->size = pos;
		index_batch(s, pos, &bi, interval);
		r->validated_bytes += bi.size;
		pos += bi.size;
		next = batch_last_offset(&bi) + 1;
	}
	s->size = pos;
	s->next_offset = next;
	if (pos < file_size) {
		r->cut_pos = pos;
		r->cut_bytes = file_size - pos;
		r->cut_offset = next;
		if (ftruncate(s->fd, pos) != 0) {
			rc = -errno;
			goto out;
		}
	}
	/* the index files now say exactly what memory says */
	rc = index_rewrite(&s->idx, s, "index", SEG_INDEX_ENTRY, false);
	if (rc == 0)
		rc = index_rewrite(&s->tidx, s, "timeindex", SEG_TIMEINDEX_ENTRY, false);
out:
	mem_free(sb.data);
	return rc;
}

int segment_load_sealed(struct segment *s, int64_t next_base, int64_t interval,
			struct seg_recovery *r)
{
	struct stat st;
	struct batch_info bi;
	uint8_t e[SEG_TIMEINDEX_ENTRY];
	bool ok = true;
	int rc, err = 0;
	int64_t n;

	memset(r, 0, sizeof(*r));
	r->cut_pos = -1;
	s->sealed = true;
	s->synced = true;
	s->next_offset = next_base;
	if (s->size == 0) {
		s->next_offset = s->base;
		return 0;
	}
	if (segment_read_header(s->fd, 0, &bi) == 0)
		s->first_ts = bi.first_ts;
	/* offset index: whole entries, last one inside the log, at a batch */
	{
		char p[4096];

		ok = ext_path(p, sizeof(p), s, "index") == 0 && stat(p, &st) == 0 &&
		     st.st_size % SEG_INDEX_ENTRY == 0 &&
		     (size_t)st.st_size <=
			     ((size_t)s->size / BATCH_HEADER_SIZE + 1) * SEG_INDEX_ENTRY;
		n = ok ? st.st_size / SEG_INDEX_ENTRY : 0;
		if (ok && n > 0) {
			int fd = open_ext(s, "index", O_RDONLY);

			ok = fd >= 0 && fs_pread_full(fd, e, SEG_INDEX_ENTRY,
						      (n - 1) * SEG_INDEX_ENTRY) == SEG_INDEX_ENTRY;
			if (fd >= 0)
				close(fd);
			ok = ok && idx_pos(e) < s->size && idx_off(s, e) < next_base &&
			     segment_read_header(s->fd, idx_pos(e), &bi) == 0 &&
			     bi.base_offset == idx_off(s, e);
		}
		/* time index: whole entries, at least the seal entry */
		ok = ok && ext_path(p, sizeof(p), s, "timeindex") == 0 && stat(p, &st) == 0 &&
		     st.st_size % SEG_TIMEINDEX_ENTRY == 0 && st.st_size > 0;
		n = ok ? st.st_size / SEG_TIMEINDEX_ENTRY : 0;
		if (ok) {
			int fd = open_ext(s, "timeindex", O_RDONLY);

			ok = fd >= 0 &&
			     fs_pread_full(fd, e, SEG_TIMEINDEX_ENTRY,
					   (n - 1) * SEG_TIMEINDEX_ENTRY) == SEG_TIMEINDEX_ENTRY;
			if (fd >= 0)
				close(fd);
			ok = ok && tidx_off(s, e) < next_base && tidx_off(s, e) >= s->base;
			if (ok)
				s->max_ts = tidx_ts(e);
		}
	}
	if (ok)
		return 0;
	/* rebuild both indexes from the batch headers, then seal again */
	r->rescanned = true;
	s->sealed = false;
	rebuild_reset(s);
	n = s->size;
	{
		struct stat lst;

		if (fstat(s->fd, &lst) != 0)
			return -errno;
		n = lst.st_size;
	}
	if (header_scan(s, 0, n, s->base, interval, &err) != n || err < 0) {
		/* trusted data that does not parse: leave it for the caller */
		if (err < 0)
			return err;
		r->why = "batch headers do not parse below the recovery point";
	}
	s->next_offset = next_base > s->next_offset ? next_base : s->next_offset;
	s->idx.broken = s->tidx.broken = true;
	segment_seal(s);
	rc = 0;
	{
		int fd = open_ext(s, "index", O_RDWR);

		if (fd >= 0) {
			if (fdatasync(fd) != 0)
				rc = -errno;
			close(fd);
		}
		fd = open_ext(s, "timeindex", O_RDWR);
		if (fd >= 0) {
			if (fdatasync(fd) != 0)
				rc = -errno;
			close(fd);
		}
	}
	return rc;
}
