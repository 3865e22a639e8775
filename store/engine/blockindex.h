/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Block skip index: <base:020>.bidx beside a sealed segment (docs/FORMATS.md
 * has the bytes).  The segment's batches are grouped into blocks of about
 * BIDX_BLOCK_BYTES of record values; for each block the index keeps its
 * offset and time ranges, its record count per minute, the sources present
 * (record keys, header values host/path/unit) and a gram filter: a bloom
 * filter over the content-sampled 8-byte grams of the record values.
 *
 * The gram filter answers "can this block contain literal L?" for any L of
 * at least 8 word characters, wherever L sits inside a record's tokens:
 * a window of 8 word bytes (ASCII letters lowercased, digits, '_') is
 * indexed when its hash is 0 modulo BIDX_SAMPLE, a choice that depends only
 * on the window's content, so every selected window of L is a selected
 * window of any record containing L.  A block is skipped only when one of
 * those grams is absent: never a false negative, the false positive rate
 * is measured in tests/unit/test_blockindex.c.
 *
 * Queries (struct bidx_query) are an AND of factors, each an OR of
 * literals, extracted conservatively from a PCRE2 pattern by bidx_regex.c.
 *
 * Thread-safety: a struct bidx is immutable once opened and may be read by
 * any number of threads; a builder belongs to one thread.
 */
#ifndef SLUICE_STORE_BLOCKINDEX_H
#define SLUICE_STORE_BLOCKINDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/batch.h"
#include "lib/buf.h"

#define BIDX_MAGIC 0x534c4258u /* "SLBX" */
#define BIDX_VERSION 2
#define BIDX_HEADER 48
#define BIDX_ENTRY 72
#define BIDX_GRAM 8
#define BIDX_SAMPLE 2
#define BIDX_HASHES 2
#define BIDX_BITS_PER_GRAM 4
#define BIDX_BLOCK_BYTES (1u << 20) /* record value bytes per block */
#define BIDX_MAX_SOURCES 64
#define BIDX_SOURCE_MAX 255
#define BIDX_MAX_GRAMS (1u << 22) /* distinct grams per block */

enum bidx_src {
	BIDX_SRC_KEY = 0,
	BIDX_SRC_HOST = 1,
	BIDX_SRC_PATH = 2,
	BIDX_SRC_UNIT = 3,
};

/* One block as read from the file (pointers into the mapping). */
struct bidx_block {
	int64_t first_offset;
	int64_t next_offset; /* exclusive */
	int64_t pos;         /* byte position of its first batch in the .log */
	int64_t min_ts;      /* -1: no timed record */
	int64_t max_ts;
	uint32_t records;
	uint32_t bloom_bits;
	const uint8_t *bloom;
	bool src_overflow; /* more sources than were kept: unknown */
	uint16_t nsrc;
	const uint8_t *src; /* nsrc x (kind u8, len u8, bytes) */
	uint32_t nhist;
	const uint8_t *hist;  /* nhist x (minute i64 BE, count u32 BE) */
	uint32_t nmatch;      /* the same per minute, of records matching the */
	const uint8_t *match; /* counted pattern (log.block_index_count) */
	uint32_t count_id;    /* crc32c of that pattern; 0: none */
};

struct bidx {
	uint8_t *data; /* the whole file */
	size_t len;
	int64_t base;
	int64_t log_bytes;
	int64_t next_offset;
	uint32_t nblocks;
};

/* Check an index image p[0..n): header and table CRCs, every block's data
 * CRC and bounds.  On success *out borrows p (out->data = p).  0 or
 * -ERR_CORRUPT / -ERR_TRUNCATED / -ERR_UNSUPPORTED. */
int bidx_parse(const uint8_t *p, size_t n, struct bidx *out);
/* Read and check path; it must describe the segment (base, log_bytes).
 * 0, -ENOENT, -ERR_CORRUPT (also: describes another segment state),
 * -ERR_UNSUPPORTED (another format version or counted pattern: rebuild). */
int bidx_load(const char *path, int64_t base, int64_t log_bytes, uint32_t count_id,
	      struct bidx **out);
void bidx_free(struct bidx *x);
/* A copy owning its own bytes, or NULL. */
struct bidx *bidx_dup(const struct bidx *x);
void bidx_get(const struct bidx *x, uint32_t i, struct bidx_block *out);
/* The block holding offset, or nblocks when none does. */
uint32_t bidx_find(const struct bidx *x, int64_t offset);

/* ---------------------------------------------------------------- queries */

struct bidx_lit {
	size_t ngrams;
	uint64_t *grams; /* hashes of the selected windows */
};

struct bidx_factor {
	size_t nlits;
	struct bidx_lit *lits;
};

struct bidx_query {
	size_t nfactors;
	struct bidx_factor *factors;
	char *source; /* fnmatch glob over sources; NULL: any */
};

void bidx_query_init(struct bidx_query *q);
void bidx_query_release(struct bidx_query *q);
/* Add a factor: any of the n literals (bytes lits[i][0..lens[i])).  A
 * literal with no selected gram makes the factor useless: it is dropped.
 * icase: the pattern is caseless (k and s fold to non-ASCII characters in
 * PCRE2's UTF mode: windows with them are not used). */
int bidx_query_add_factor(struct bidx_query *q, const char *const *lits, const size_t *lens,
			  size_t n, bool icase);
/* Does the query use the index at all? */
bool bidx_query_useful(const struct bidx_query *q);
/* Can a record of block b match?  false only when it certainly cannot. */
bool bidx_block_may_match(const struct bidx_block *b, const struct bidx_query *q);

/* Literal extraction (bidx_regex.c): fill q with what any match of the
 * PCRE2 pattern must contain.  Conservative: anything not understood adds
 * nothing.  0 or -ENOMEM. */
int bidx_query_from_regex(struct bidx_query *q, const char *pattern, bool icase);

/* ---------------------------------------------------------------- building */

struct bidx_builder;

struct bidx_builder *bidx_builder_new(void);
void bidx_builder_free(struct bidx_builder *b);
/* Record value bytes per block (default BIDX_BLOCK_BYTES; tests use less). */
void bidx_builder_set_block_bytes(struct bidx_builder *b, size_t n);
/* Count, per minute, the records whose value count(arg, value, len) says
 * match; id (non-zero) names the pattern in the file.  NULL: no counting. */
void bidx_builder_set_counter(struct bidx_builder *b,
			      bool (*count)(void *arg, const uint8_t *v, size_t n), void *arg,
			      uint32_t id);
/* Feed the records of one batch at log position pos. */
int bidx_builder_add_batch(struct bidx_builder *b, const struct batch_info *bi, int64_t pos,
			   struct batch_iter *it);
/* Is the current block full (time to call bidx_builder_end_block)? */
bool bidx_builder_block_full(const struct bidx_builder *b);
int bidx_builder_end_block(struct bidx_builder *b);
/* Forget the open block (an active segment's incomplete last block). */
void bidx_builder_drop_open(struct bidx_builder *b);
/* The whole index image (closes the open block).  The builder is reset. */
int bidx_builder_finish(struct bidx_builder *b, int64_t base, int64_t log_bytes,
			int64_t next_offset, struct buf *out);

/* Hash of one window of BIDX_GRAM bytes (already lowercased) and whether
 * it is sampled (for tests and tools). */
uint64_t bidx_gram_hash(const uint8_t *w);
void bidx_bloom_add(uint8_t *bloom, uint32_t bits, uint64_t h);
static inline bool bidx_gram_selected(uint64_t h)
{
	return (h % BIDX_SAMPLE) == 0;
}
static inline bool bidx_word_byte(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}
static inline uint8_t bidx_lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

#endif
