/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Block skip index: the file format (build and parse), the gram filter and
 * query evaluation.  See blockindex.h for what the index promises and
 * docs/FORMATS.md for the bytes.  The builder keeps one block in memory:
 * its distinct grams in an open-addressing set, its sources and one minute
 * number per timed record (sorted into the histogram when the block ends).
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "lib/crc32c.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/mem.h"
#include "store/engine/blockindex.h"

#define HIST_ENTRY 12

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

uint64_t bidx_gram_hash(const uint8_t *w)
{
	uint64_t v = 0;

	for (int i = 0; i < BIDX_GRAM; i++)
		v = v << 8 | w[i];
	return mix64(v ^ 0x9e3779b97f4a7c15ULL);
}

static uint32_t bloom_pos(uint64_t h, uint32_t i, uint32_t bits)
{
	uint64_t h2 = mix64(h) | 1;
	uint64_t x = h + (uint64_t)i * h2;

	return (uint32_t)(((x >> 32) * (uint64_t)bits) >> 32);
}

static bool bloom_has(const uint8_t *bloom, uint32_t bits, uint64_t h)
{
	for (uint32_t i = 0; i < BIDX_HASHES; i++) {
		uint32_t p = bloom_pos(h, i, bits);

		if (!(bloom[p >> 3] & (1u << (p & 7))))
			return false;
	}
	return true;
}

void bidx_bloom_add(uint8_t *bloom, uint32_t bits, uint64_t h)
{
	for (uint32_t i = 0; i < BIDX_HASHES; i++) {
		uint32_t p = bloom_pos(h, i, bits);

		bloom[p >> 3] |= (uint8_t)(1u << (p & 7));
	}
}

/* ---------------------------------------------------------------- parsing */

static int64_t get_i64(const uint8_t *p)
{
	return (int64_t)get_be64(p);
}

/* Length of block i's data, after checking it lies within the file. */
static int block_span(const uint8_t *p, size_t n, const uint8_t *e, size_t *off, size_t *len)
{
	uint32_t bits = get_be32(e + 48), nhist = get_be32(e + 56), nmatch = get_be32(e + 64);
	uint16_t nsrc = get_be16(e + 52);
	size_t o = get_be32(e + 44), at;

	if (bits == 0 || bits % 64 != 0 || o > n || (size_t)bits / 8 > n - o)
		return -ERR_CORRUPT;
	at = o + bits / 8;
	for (uint16_t i = 0; i < nsrc; i++) {
		if (n - at < 2 || p[at] > BIDX_SRC_UNIT || (size_t)p[at + 1] > n - at - 2)
			return -ERR_CORRUPT;
		at += 2 + (size_t)p[at + 1];
	}
	if ((size_t)nhist > (n - at) / HIST_ENTRY)
		return -ERR_CORRUPT;
	at += (size_t)nhist * HIST_ENTRY;
	if ((size_t)nmatch > (n - at) / HIST_ENTRY)
		return -ERR_CORRUPT;
	at += (size_t)nmatch * HIST_ENTRY;
	*off = o;
	*len = at - o;
	return 0;
}

int bidx_parse(const uint8_t *p, size_t n, struct bidx *out)
{
	uint32_t nb;
	size_t table;
	int64_t prev_next;

	memset(out, 0, sizeof(*out));
	if (n < BIDX_HEADER)
		return -ERR_TRUNCATED;
	if (get_be32(p) != BIDX_MAGIC || crc32c(0, p, 44) != get_be32(p + 44))
		return -ERR_CORRUPT;
	if (get_be16(p + 4) != BIDX_VERSION || p[6] != BIDX_GRAM || p[7] != BIDX_SAMPLE ||
	    p[8] != BIDX_HASHES)
		return -ERR_UNSUPPORTED;
	nb = get_be32(p + 12);
	if ((size_t)nb > (n - BIDX_HEADER) / BIDX_ENTRY)
		return -ERR_CORRUPT;
	table = (size_t)nb * BIDX_ENTRY;
	if (crc32c(0, p + BIDX_HEADER, table) != get_be32(p + 40))
		return -ERR_CORRUPT;
	prev_next = get_i64(p + 16);
	for (uint32_t i = 0; i < nb; i++) {
		const uint8_t *e = p + BIDX_HEADER + (size_t)i * BIDX_ENTRY;
		size_t off, len;

		if (get_i64(e) < prev_next || get_i64(e + 8) <= get_i64(e))
			return -ERR_CORRUPT;
		prev_next = get_i64(e + 8);
		if (block_span(p, n, e, &off, &len) < 0 || off < BIDX_HEADER + table)
			return -ERR_CORRUPT;
		if (crc32c(0, p + off, len) != get_be32(e + 60))
			return -ERR_CORRUPT;
	}
	if (prev_next > get_i64(p + 32))
		return -ERR_CORRUPT;
	out->data = (uint8_t *)p;
	out->len = n;
	out->nblocks = nb;
	out->base = get_i64(p + 16);
	out->log_bytes = get_i64(p + 24);
	out->next_offset = get_i64(p + 32);
	return 0;
}

int bidx_load(const char *path, int64_t base, int64_t log_bytes, uint32_t count_id,
	      struct bidx **out)
{
	struct bidx *x = mem_calloc(1, sizeof(*x));
	struct buf b;
	int rc;

	*out = NULL;
	if (!x)
		return -ENOMEM;
	buf_init(&b, (size_t)1 << 31);
	rc = fs_read_file(path, &b);
	if (rc < 0)
		goto out;
	rc = bidx_parse(b.data, b.len, x);
	if (rc == 0 && (x->base != base || x->log_bytes != log_bytes))
		rc = -ERR_CORRUPT;
	for (uint32_t i = 0; rc == 0 && i < x->nblocks; i++)
		if (get_be32(b.data + BIDX_HEADER + (size_t)i * BIDX_ENTRY + 68) != count_id)
			rc = -ERR_UNSUPPORTED; /* built for another counted pattern */
	if (rc < 0)
		goto out;
	x->data = b.data; /* ownership moves to x */
	b.data = NULL;
	*out = x;
out:
	buf_release(&b);
	if (rc < 0)
		mem_free(x);
	return rc;
}

void bidx_free(struct bidx *x)
{
	if (!x)
		return;
	mem_free(x->data);
	mem_free(x);
}

struct bidx *bidx_dup(const struct bidx *x)
{
	struct bidx *c = mem_alloc(sizeof(*c));

	if (!c)
		return NULL;
	*c = *x;
	c->data = mem_alloc(x->len ? x->len : 1);
	if (!c->data) {
		mem_free(c);
		return NULL;
	}
	memcpy(c->data, x->data, x->len);
	return c;
}

void bidx_get(const struct bidx *x, uint32_t i, struct bidx_block *b)
{
	const uint8_t *e = x->data + BIDX_HEADER + (size_t)i * BIDX_ENTRY;
	size_t at = get_be32(e + 44);

	b->first_offset = get_i64(e);
	b->next_offset = get_i64(e + 8);
	b->pos = get_i64(e + 16);
	b->min_ts = get_i64(e + 24);
	b->max_ts = get_i64(e + 32);
	b->records = get_be32(e + 40);
	b->bloom_bits = get_be32(e + 48);
	b->nsrc = get_be16(e + 52);
	b->src_overflow = (get_be16(e + 54) & 1) != 0;
	b->nhist = get_be32(e + 56);
	b->nmatch = get_be32(e + 64);
	b->count_id = get_be32(e + 68);
	b->bloom = x->data + at;
	at += b->bloom_bits / 8;
	b->src = x->data + at;
	for (uint16_t k = 0; k < b->nsrc; k++)
		at += 2 + (size_t)x->data[at + 1];
	b->hist = x->data + at;
	b->match = b->hist + (size_t)b->nhist * HIST_ENTRY;
}

uint32_t bidx_find(const struct bidx *x, int64_t offset)
{
	uint32_t lo = 0, hi = x->nblocks;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const uint8_t *e = x->data + BIDX_HEADER + (size_t)mid * BIDX_ENTRY;

		if (get_i64(e + 8) <= offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < x->nblocks && get_i64(x->data + BIDX_HEADER + (size_t)lo * BIDX_ENTRY) > offset)
		return x->nblocks;
	return lo;
}

/* ---------------------------------------------------------------- queries */

void bidx_query_init(struct bidx_query *q)
{
	memset(q, 0, sizeof(*q));
}

void bidx_query_release(struct bidx_query *q)
{
	for (size_t i = 0; i < q->nfactors; i++) {
		for (size_t j = 0; j < q->factors[i].nlits; j++)
			mem_free(q->factors[i].lits[j].grams);
		mem_free(q->factors[i].lits);
	}
	mem_free(q->factors);
	mem_free(q->source);
	memset(q, 0, sizeof(*q));
}

static bool fold_unsafe(uint8_t c)
{
	c = bidx_lower(c);
	return c == 'k' || c == 's';
}

/* The selected grams of one literal into l.  0 or -ENOMEM. */
static int lit_grams(struct bidx_lit *l, const char *s, size_t n, bool icase)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t run = 0;

	l->ngrams = 0;
	l->grams = NULL;
	if (n < BIDX_GRAM)
		return 0;
	l->grams = mem_alloc((n - BIDX_GRAM + 1) * sizeof(uint64_t));
	if (!l->grams)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		uint8_t w[BIDX_GRAM];
		bool skip = false;
		uint64_t h;

		run = bidx_word_byte(p[i]) ? run + 1 : 0;
		if (run < BIDX_GRAM)
			continue;
		for (int k = 0; k < BIDX_GRAM; k++) {
			w[k] = bidx_lower(p[i + 1 - BIDX_GRAM + (size_t)k]);
			if (icase && fold_unsafe(w[k]))
				skip = true;
		}
		if (skip)
			continue;
		h = bidx_gram_hash(w);
		if (bidx_gram_selected(h))
			l->grams[l->ngrams++] = h;
	}
	return 0;
}

int bidx_query_add_factor(struct bidx_query *q, const char *const *lits, const size_t *lens,
			  size_t n, bool icase)
{
	struct bidx_factor f = {0};
	struct bidx_factor *nf;
	int rc = 0;

	if (n == 0)
		return 0;
	f.lits = mem_calloc(n, sizeof(*f.lits));
	if (!f.lits)
		return -ENOMEM;
	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = lit_grams(&f.lits[i], lits[i], lens[i], icase);
		f.nlits = i + 1;
		if (rc == 0 && f.lits[i].ngrams == 0)
			rc = 1; /* this literal rules nothing out: nor does the factor */
	}
	if (rc != 0)
		goto drop;
	nf = mem_realloc(q->factors, (q->nfactors + 1) * sizeof(*nf));
	if (!nf) {
		rc = -ENOMEM;
		goto drop;
	}
	q->factors = nf;
	q->factors[q->nfactors++] = f;
	return 0;
drop:
	for (size_t i = 0; i < f.nlits; i++)
		mem_free(f.lits[i].grams);
	mem_free(f.lits);
	return rc < 0 ? rc : 0;
}

bool bidx_query_useful(const struct bidx_query *q)
{
	return q->nfactors > 0 || q->source != NULL;
}

static bool source_may_match(const struct bidx_block *b, const char *glob)
{
	const uint8_t *s = b->src;
	char v[BIDX_SOURCE_MAX + 1];

	if (b->src_overflow)
		return true;
	for (uint16_t i = 0; i < b->nsrc; i++) {
		size_t len = s[1];

		memcpy(v, s + 2, len);
		v[len] = '\0';
		/* a source with a NUL byte cannot be compared as a string: keep */
		if (memchr(s + 2, 0, len) || fnmatch(glob, v, 0) == 0)
			return true;
		s += 2 + len;
	}
	return false;
}

bool bidx_block_may_match(const struct bidx_block *b, const struct bidx_query *q)
{
	if (q->source && !source_may_match(b, q->source))
		return false;
	for (size_t i = 0; i < q->nfactors; i++) {
		const struct bidx_factor *f = &q->factors[i];
		bool any = false;

		for (size_t j = 0; j < f->nlits && !any; j++) {
			const struct bidx_lit *l = &f->lits[j];
			bool all = true;

			for (size_t k = 0; k < l->ngrams && all; k++)
				all = bloom_has(b->bloom, b->bloom_bits, l->grams[k]);
			any = all;
		}
		if (!any)
			return false;
	}
	return true;
}
