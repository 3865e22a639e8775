/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the block skip index reader (a .bidx file is read back
 * from disk, where anything may have happened to it) and the literal
 * extraction of grep patterns (which arrive from HTTP clients).
 *
 * The first byte picks the mode.  Even: the rest is an index image, parsed
 * as is; and (mode & 2) with its CRCs recomputed first, so the structure
 * checks behind the CRCs get exercised too.  Whatever parses must be
 * readable block by block without leaving the buffer: bidx_get, bidx_find
 * and bidx_block_may_match with a query.  Odd: the rest is a PCRE2 pattern
 * (NUL-terminated copy) given to bidx_query_from_regex, whose query is then
 * evaluated against an all-ones and an all-zeros bloom.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/crc32c.h"
#include "lib/mem.h"
#include "store/engine/blockindex.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void reseal(uint8_t *p, size_t n)
{
	uint32_t nb;

	if (n < BIDX_HEADER)
		return;
	nb = get_be32(p + 12);
	if ((size_t)nb > (n - BIDX_HEADER) / BIDX_ENTRY)
		nb = (uint32_t)((n - BIDX_HEADER) / BIDX_ENTRY);
	for (uint32_t i = 0; i < nb; i++) {
		uint8_t *e = p + BIDX_HEADER + (size_t)i * BIDX_ENTRY;
		size_t o = get_be32(e + 44), bits = get_be32(e + 48), at;
		uint16_t nsrc = get_be16(e + 52);
		uint32_t nhist = get_be32(e + 56), nmatch = get_be32(e + 64);

		if (o > n || bits / 8 > n - o)
			continue;
		at = o + bits / 8;
		for (uint16_t k = 0; k < nsrc && n - at >= 2 && p[at + 1] <= n - at - 2; k++)
			at += 2 + (size_t)p[at + 1];
		if ((size_t)nhist <= (n - at) / 12)
			at += (size_t)nhist * 12;
		if ((size_t)nmatch <= (n - at) / 12)
			at += (size_t)nmatch * 12;
		put_be32(e + 60, crc32c(0, p + o, at - o));
	}
	put_be32(p + 40, crc32c(0, p + BIDX_HEADER,
				(size_t)get_be32(p + 12) * BIDX_ENTRY > n - BIDX_HEADER
					? 0
					: (size_t)get_be32(p + 12) * BIDX_ENTRY));
	put_be32(p + 44, crc32c(0, p, 44));
}

static void read_index(const uint8_t *data, size_t size, bool fix)
{
	uint8_t *copy = malloc(size ? size : 1);
	struct bidx_query q;
	struct bidx x;
	static const char *const lit[] = {"deadbeef0123456789abcdef"};
	size_t len[] = {24};

	if (!copy)
		return;
	memcpy(copy, data, size);
	if (fix)
		reseal(copy, size);
	bidx_query_init(&q);
	(void)bidx_query_add_factor(&q, lit, len, 1, true);
	q.source = mem_strdup("web-*");
	if (bidx_parse(copy, size, &x) == 0) {
		for (uint32_t i = 0; i < x.nblocks; i++) {
			struct bidx_block b;

			bidx_get(&x, i, &b);
			(void)bidx_block_may_match(&b, &q);
			for (uint32_t k = 0; k < b.nhist; k++)
				(void)get_be64(b.hist + (size_t)k * 12);
			for (uint32_t k = 0; k < b.nmatch; k++)
				(void)get_be32(b.match + (size_t)k * 12 + 8);
			if (bidx_find(&x, b.first_offset) != i)
				__builtin_trap(); /* blocks are ordered and disjoint */
		}
		(void)bidx_find(&x, x.base - 1);
		(void)bidx_find(&x, x.next_offset);
	}
	bidx_query_release(&q);
	free(copy);
}

static void extract(const uint8_t *data, size_t size)
{
	char *re = malloc(size + 1);
	uint8_t ones[8], zeros[8];
	struct bidx_block b;
	struct bidx_query q;

	if (!re)
		return;
	memcpy(re, data, size);
	re[size] = '\0';
	bidx_query_init(&q);
	if (bidx_query_from_regex(&q, re, size & 1) == 0) {
		memset(&b, 0, sizeof(b));
		memset(ones, 0xff, sizeof(ones));
		memset(zeros, 0, sizeof(zeros));
		b.bloom_bits = 64;
		b.bloom = ones;
		if (!bidx_block_may_match(&b, &q))
			__builtin_trap(); /* a full filter rules nothing out */
		b.bloom = zeros;
		if (bidx_block_may_match(&b, &q) && q.nfactors)
			__builtin_trap(); /* an empty one rules out any factor */
	}
	bidx_query_release(&q);
	free(re);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		extract(data + 1, size - 1);
	else
		read_index(data + 1, size - 1, (data[0] & 2) != 0);
	return 0;
}
