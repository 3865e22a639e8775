/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Building a block skip index image (blockindex.h): records are fed batch
 * by batch; a block ends after BIDX_BLOCK_BYTES of record values.  Its
 * distinct sampled grams go into an open-addressing set first so the bloom
 * filter can be sized to BIDX_BITS_PER_GRAM bits per distinct gram.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/crc32c.h"
#include "lib/err.h"
#include "lib/mem.h"
#include "store/engine/blockindex.h"

struct bidx_entry {
	int64_t first_offset, next_offset, pos, min_ts, max_ts;
	uint32_t records, data_rel, bloom_bits, nhist, crc, nmatch, count_id;
	uint16_t nsrc, flags;
};

struct bidx_builder {
	/* the open block */
	uint64_t *set; /* gram hashes; 0 = empty slot */
	size_t set_cap, set_n;
	bool set_full; /* BIDX_MAX_GRAMS reached: bloom all ones */
	int64_t *minutes;
	size_t nmin, min_cap;
	int64_t *mminutes; /* minutes of the records the counter matched */
	size_t nmmin, mmin_cap;
	bool (*count)(void *arg, const uint8_t *v, size_t n);
	void *count_arg;
	uint32_t count_id;
	uint8_t src[BIDX_MAX_SOURCES * (2 + BIDX_SOURCE_MAX)];
	size_t src_len;
	uint16_t nsrc;
	bool src_overflow;
	bool open;
	size_t block_bytes;
	struct bidx_entry cur;
	uint64_t value_bytes;
	/* finished blocks */
	struct bidx_entry *ents;
	size_t nents, ents_cap;
	struct buf data;
};

struct bidx_builder *bidx_builder_new(void)
{
	struct bidx_builder *b = mem_calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	buf_init(&b->data, (size_t)1 << 31);
	b->block_bytes = BIDX_BLOCK_BYTES;
	return b;
}

void bidx_builder_set_counter(struct bidx_builder *b,
			      bool (*count)(void *arg, const uint8_t *v, size_t n), void *arg,
			      uint32_t id)
{
	b->count = count;
	b->count_arg = arg;
	b->count_id = count ? id : 0;
}

void bidx_builder_set_block_bytes(struct bidx_builder *b, size_t n)
{
	b->block_bytes = n ? n : 1;
}

void bidx_builder_free(struct bidx_builder *b)
{
	if (!b)
		return;
	mem_free(b->set);
	mem_free(b->minutes);
	mem_free(b->mminutes);
	mem_free(b->ents);
	buf_release(&b->data);
	mem_free(b);
}

static int set_grow(struct bidx_builder *b)
{
	size_t ncap = b->set_cap ? b->set_cap * 2 : 4096;
	uint64_t *ns = mem_calloc(ncap, sizeof(*ns));

	if (!ns)
		return -ENOMEM;
	for (size_t i = 0; i < b->set_cap; i++) {
		uint64_t h = b->set[i];
		size_t j;

		if (!h)
			continue;
		for (j = h & (ncap - 1); ns[j]; j = (j + 1) & (ncap - 1))
			;
		ns[j] = h;
	}
	mem_free(b->set);
	b->set = ns;
	b->set_cap = ncap;
	return 0;
}

static int set_add(struct bidx_builder *b, uint64_t h)
{
	size_t j;

	if (b->set_full)
		return 0;
	if (!h)
		h = 1;
	if ((b->set_n + 1) * 2 > b->set_cap) {
		if (b->set_n >= BIDX_MAX_GRAMS) {
			b->set_full = true;
			return 0;
		}
		if (set_grow(b) < 0)
			return -ENOMEM;
	}
	for (j = h & (b->set_cap - 1); b->set[j]; j = (j + 1) & (b->set_cap - 1))
		if (b->set[j] == h)
			return 0;
	b->set[j] = h;
	b->set_n++;
	return 0;
}

static int add_value(struct bidx_builder *b, const uint8_t *p, int32_t n)
{
	uint8_t w[BIDX_GRAM * 2];
	size_t run = 0;

	for (int32_t i = 0; i < n; i++) {
		uint8_t c = p[i];

		if (!bidx_word_byte(c)) {
			run = 0;
			continue;
		}
		/* w holds the last BIDX_GRAM bytes twice over, so a window is
		 * always contiguous at w + (run % BIDX_GRAM) */
		w[run % BIDX_GRAM] = w[run % BIDX_GRAM + BIDX_GRAM] = bidx_lower(c);
		run++;
		if (run >= BIDX_GRAM) {
			uint64_t h = bidx_gram_hash(w + run % BIDX_GRAM);

			if (bidx_gram_selected(h) && set_add(b, h) < 0)
				return -ENOMEM;
		}
	}
	b->value_bytes += (uint64_t)n;
	return 0;
}

static void add_source(struct bidx_builder *b, enum bidx_src kind, const uint8_t *p, int32_t n)
{
	const uint8_t *s = b->src;

	if (n < 0 || b->src_overflow)
		return;
	for (uint16_t i = 0; i < b->nsrc; i++) {
		if (s[0] == kind && s[1] == n && memcmp(s + 2, p, (size_t)n) == 0)
			return;
		s += 2 + s[1];
	}
	if (n > BIDX_SOURCE_MAX || b->nsrc == BIDX_MAX_SOURCES) {
		b->src_overflow = true;
		return;
	}
	b->src[b->src_len] = (uint8_t)kind;
	b->src[b->src_len + 1] = (uint8_t)n;
	if (n)
		memcpy(b->src + b->src_len + 2, p, (size_t)n);
	b->src_len += 2 + (size_t)n;
	b->nsrc++;
}

static void add_headers(struct bidx_builder *b, const struct record *r)
{
	static const struct {
		const char *name;
		enum bidx_src kind;
	} known[] = {
		{"host", BIDX_SRC_HOST},
		{"path", BIDX_SRC_PATH},
		{"unit", BIDX_SRC_UNIT},
	};
	struct record_header_iter it;
	struct record_header h;

	record_header_iter_init(&it, r);
	while (record_header_iter_next(&it, &h) == 1) {
		for (size_t i = 0; i < 3; i++) {
			if ((size_t)h.key_len == strlen(known[i].name) &&
			    memcmp(h.key, known[i].name, (size_t)h.key_len) == 0)
				add_source(b, known[i].kind, h.value, h.value_len);
		}
	}
}

static int push_minute(int64_t **v, size_t *n, size_t *cap, int64_t ts)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 1024;
		int64_t *nm = mem_realloc(*v, ncap * sizeof(*nm));

		if (!nm)
			return -ENOMEM;
		*v = nm;
		*cap = ncap;
	}
	(*v)[(*n)++] = ts / 60000;
	return 0;
}

static int add_minute(struct bidx_builder *b, const struct record *r)
{
	int rc = push_minute(&b->minutes, &b->nmin, &b->min_cap, r->timestamp);

	if (rc == 0 && b->count && r->value_len >= 0 &&
	    b->count(b->count_arg, r->value_len ? r->value : (const uint8_t *)"",
		     (size_t)r->value_len))
		rc = push_minute(&b->mminutes, &b->nmmin, &b->mmin_cap, r->timestamp);
	return rc;
}

int bidx_builder_add_batch(struct bidx_builder *b, const struct batch_info *bi, int64_t pos,
			   struct batch_iter *it)
{
	struct record r;
	int rc;

	if (!b->open) {
		memset(&b->cur, 0, sizeof(b->cur));
		b->cur.first_offset = bi->base_offset;
		b->cur.pos = pos;
		b->cur.min_ts = b->cur.max_ts = -1;
		b->open = true;
	}
	b->cur.next_offset = batch_last_offset(bi) + 1;
	if (bi->attributes & BATCH_ATTR_CONTROL)
		return 0; /* transaction markers are not records to readers */
	while ((rc = batch_iter_next(it, &r)) == 1) {
		b->cur.records++;
		if (r.timestamp >= 0) {
			if (b->cur.min_ts < 0 || r.timestamp < b->cur.min_ts)
				b->cur.min_ts = r.timestamp;
			if (r.timestamp > b->cur.max_ts)
				b->cur.max_ts = r.timestamp;
			if (add_minute(b, &r) < 0)
				return -ENOMEM;
		}
		if (r.value_len > 0 && add_value(b, r.value, r.value_len) < 0)
			return -ENOMEM;
		add_source(b, BIDX_SRC_KEY, r.key, r.key_len);
		if (r.header_count > 0)
			add_headers(b, &r);
	}
	return rc;
}

bool bidx_builder_block_full(const struct bidx_builder *b)
{
	return b->open && b->value_bytes >= b->block_bytes;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Sort v[0..n) and append it as (minute, count) entries; *entries. */
static int write_hist(struct bidx_builder *b, int64_t *v, size_t n, uint32_t *entries)
{
	uint8_t e[12];

	if (n)
		qsort(v, n, sizeof(int64_t), cmp_i64);
	for (size_t i = 0; i < n;) {
		size_t j = i;

		while (j < n && v[j] == v[i])
			j++;
		put_be64(e, (uint64_t)v[i]);
		put_be32(e + 8, (uint32_t)(j - i));
		if (buf_append(&b->data, e, sizeof(e)) < 0)
			return -ENOMEM;
		(*entries)++;
		i = j;
	}
	return 0;
}

int bidx_builder_end_block(struct bidx_builder *b)
{
	uint64_t bits64 = (uint64_t)b->set_n * BIDX_BITS_PER_GRAM;
	size_t at, bytes;
	int rc = -ENOMEM;

	if (!b->open)
		return 0;
	if (b->nents == b->ents_cap) {
		size_t ncap = b->ents_cap ? b->ents_cap * 2 : 64;
		struct bidx_entry *ne = mem_realloc(b->ents, ncap * sizeof(*ne));

		if (!ne)
			return -ENOMEM;
		b->ents = ne;
		b->ents_cap = ncap;
	}
	bits64 = (bits64 + 63) / 64 * 64;
	if (bits64 < 64 || b->set_full)
		bits64 = b->set_full ? (uint64_t)BIDX_MAX_GRAMS * BIDX_BITS_PER_GRAM : 64;
	b->cur.bloom_bits = (uint32_t)bits64;
	bytes = (size_t)(bits64 / 8);
	b->cur.data_rel = (uint32_t)b->data.len;
	if (buf_append_zero(&b->data, bytes, &at) < 0)
		goto out;
	if (b->set_full)
		memset(b->data.data + at, 0xff, bytes);
	for (size_t i = 0; i < b->set_cap && !b->set_full; i++)
		if (b->set[i])
			bidx_bloom_add(b->data.data + at, b->cur.bloom_bits, b->set[i]);
	if (buf_append(&b->data, b->src, b->src_len) < 0 ||
	    write_hist(b, b->minutes, b->nmin, &b->cur.nhist) < 0 ||
	    write_hist(b, b->mminutes, b->nmmin, &b->cur.nmatch) < 0)
		goto out;
	b->cur.count_id = b->count_id;
	b->cur.nsrc = b->nsrc;
	b->cur.flags = b->src_overflow ? 1 : 0;
	b->cur.crc = crc32c(0, b->data.data + b->cur.data_rel, b->data.len - b->cur.data_rel);
	b->ents[b->nents++] = b->cur;
	rc = 0;
out:
	if (b->set)
		memset(b->set, 0, b->set_cap * sizeof(*b->set));
	b->set_n = 0;
	b->set_full = false;
	b->nmin = 0;
	b->nmmin = 0;
	b->src_len = 0;
	b->nsrc = 0;
	b->src_overflow = false;
	b->value_bytes = 0;
	b->open = false;
	return rc;
}

void bidx_builder_drop_open(struct bidx_builder *b)
{
	if (b->set)
		memset(b->set, 0, b->set_cap * sizeof(*b->set));
	b->set_n = 0;
	b->set_full = false;
	b->nmin = 0;
	b->nmmin = 0;
	b->src_len = 0;
	b->nsrc = 0;
	b->src_overflow = false;
	b->value_bytes = 0;
	b->open = false;
}

static void put_entry(uint8_t *e, const struct bidx_entry *x, uint32_t data_base)
{
	memset(e, 0, BIDX_ENTRY);
	put_be64(e, (uint64_t)x->first_offset);
	put_be64(e + 8, (uint64_t)x->next_offset);
	put_be64(e + 16, (uint64_t)x->pos);
	put_be64(e + 24, (uint64_t)x->min_ts);
	put_be64(e + 32, (uint64_t)x->max_ts);
	put_be32(e + 40, x->records);
	put_be32(e + 44, data_base + x->data_rel);
	put_be32(e + 48, x->bloom_bits);
	put_be16(e + 52, x->nsrc);
	put_be16(e + 54, x->flags);
	put_be32(e + 56, x->nhist);
	put_be32(e + 60, x->crc);
	put_be32(e + 64, x->nmatch);
	put_be32(e + 68, x->count_id);
}

int bidx_builder_finish(struct bidx_builder *b, int64_t base, int64_t log_bytes,
			int64_t next_offset, struct buf *out)
{
	size_t table, at;
	uint8_t *h;
	int rc = bidx_builder_end_block(b);

	if (rc < 0)
		return rc;
	table = b->nents * BIDX_ENTRY;
	if (BIDX_HEADER + table + b->data.len > UINT32_MAX)
		return -ERR_TOO_LARGE;
	buf_reset(out);
	if (buf_append_zero(out, BIDX_HEADER + table, &at) < 0 ||
	    buf_append(out, b->data.data, b->data.len) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < b->nents; i++)
		put_entry(out->data + BIDX_HEADER + i * BIDX_ENTRY, &b->ents[i],
			  (uint32_t)(BIDX_HEADER + table));
	h = out->data;
	put_be32(h, BIDX_MAGIC);
	put_be16(h + 4, BIDX_VERSION);
	h[6] = BIDX_GRAM;
	h[7] = BIDX_SAMPLE;
	h[8] = BIDX_HASHES;
	put_be32(h + 12, (uint32_t)b->nents);
	put_be64(h + 16, (uint64_t)base);
	put_be64(h + 24, (uint64_t)log_bytes);
	put_be64(h + 32, (uint64_t)next_offset);
	put_be32(h + 40, crc32c(0, h + BIDX_HEADER, table));
	put_be32(h + 44, crc32c(0, h, 44));
	b->nents = 0;
	buf_reset(&b->data);
	return 0;
}
