/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Block skip index: literal extraction from PCRE2 patterns, the index image
 * (build, parse, CRC damage detected), and the one property that matters:
 * over randomized needles and regexes (case-sensitive and caseless, with and
 * without a required literal) a block holding a matching record is never
 * ruled out.  Also measures how many blocks an absent needle still touches
 * (false positives) and the index size per MiB of values.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <string.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "store/engine/blockindex.h"
#include "tests/unit/unit.h"

#define NREC 6000
#define PER_BATCH 40
#define BLOCK 16384

static uint64_t rng = 88172645463325252ULL;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static const char *const words[] = {"GET",    "POST",    "error", "Warn",   "request", "handled",
				    "orders", "billing", "auth",  "Kelvin", "user",    "timeout"};

static void make_line(char *out, size_t cap, int i)
{
	snprintf(out, cap, "%s %s id=%016llx user=%d seq=%d %s_%x", words[rnd() % 12],
		 words[rnd() % 12], (unsigned long long)rnd(), (int)(rnd() % 100000), i,
		 words[rnd() % 12], (unsigned)(rnd() & 0xfffff));
}

struct corpus {
	char **lines;
	size_t n;
	struct buf image;
	struct bidx x;
	size_t *blk_first; /* first line of each block */
};

/* The counted pattern of these tests: the value holds "error". */
static bool has_error(void *arg, const uint8_t *v, size_t n)
{
	(void)arg;
	return memmem(v, n, "error", 5) != NULL;
}

static void corpus_build(struct corpus *c)
{
	struct bidx_builder *b = bidx_builder_new();
	struct codec_ctx *cc = NULL;
	int64_t pos = 0;

	memset(c, 0, sizeof(*c));
	c->lines = mem_calloc(NREC, sizeof(char *));
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	bidx_builder_set_block_bytes(b, BLOCK);
	bidx_builder_set_counter(b, has_error, NULL, 77);
	for (int i = 0; i < NREC; i++) {
		char line[256];

		make_line(line, sizeof(line), i);
		c->lines[i] = mem_strdup(line);
	}
	c->n = NREC;
	for (int i = 0; i < NREC; i += PER_BATCH) {
		struct batch_builder bb;
		struct batch_params bp;
		struct batch_iter it;
		struct buf out;
		char host[16];
		struct record_header h = {(const uint8_t *)"host", 4, (const uint8_t *)host, 0};

		snprintf(host, sizeof(host), "web-%d", (i / 1000) % 3);
		h.value_len = (int32_t)strlen(host);
		batch_builder_init(&bb, 1 << 22);
		buf_init(&out, 0);
		for (int j = i; j < i + PER_BATCH; j++)
			CU_ASSERT_EQUAL_FATAL(
				batch_builder_add(&bb, 1700000000000LL + j * 1000LL, "k", 1,
						  c->lines[j], (int32_t)strlen(c->lines[j]), &h, 1),
				0);
		batch_params_init(&bp);
		bp.base_offset = i;
		CU_ASSERT_EQUAL_FATAL(batch_builder_finish(&bb, cc, &bp, &out), 0);
		CU_ASSERT_EQUAL_FATAL(batch_iter_init(&it, out.data, out.len, NULL, 1 << 24, true),
				      0);
		CU_ASSERT_EQUAL(bidx_builder_add_batch(b, &it.info, pos, &it), 0);
		if (bidx_builder_block_full(b))
			CU_ASSERT_EQUAL(bidx_builder_end_block(b), 0);
		pos += (int64_t)out.len;
		batch_iter_release(&it);
		buf_release(&out);
		batch_builder_release(&bb);
	}
	buf_init(&c->image, 0);
	CU_ASSERT_EQUAL_FATAL(bidx_builder_finish(b, 0, pos, NREC, &c->image), 0);
	CU_ASSERT_EQUAL_FATAL(bidx_parse(c->image.data, c->image.len, &c->x), 0);
	bidx_builder_free(b);
}

static void corpus_free(struct corpus *c)
{
	for (size_t i = 0; i < c->n; i++)
		mem_free(c->lines[i]);
	mem_free(c->lines);
	buf_release(&c->image);
}

static void test_literals(void)
{
	/* literals of 32 word bytes: 25 windows, some sampled (checked below) */
#define L1 "deadbeef0123456789abcdef01234567"
#define L2 "cafebabe76543210fedcba9876543210"
	static const struct {
		const char *re;
		bool icase;
		size_t factors;
	} cases[] = {
		{L1, false, 1},
		{L1, true, 1},
		{"id=" L1 ".*" L2, false, 2},
		{"(" L1 "|" L2 ")", false, 1},
		{"(" L1 "|x)", false, 0}, /* one branch requires nothing */
		{"(" L1 ")?", false, 0},
		{"(" L1 ")*x", false, 0},
		{"(?:" L1 ")+", false, 1},
		{"[a-f]+\\d{3}", false, 0},
		{".*", false, 0},
		{"", false, 0},
		{"\\Q" L1 "\\E", false, 0}, /* not understood: nothing */
		{"(?=" L1 ")", false, 0},
		{"(?i)" L1, false, 1},
		{L1 "{2}" L2, false, 2},
		{"x{,3}" L1, false, 1},
		{L1 "|" L2 "|" L1, false, 1},
		{"(" L1, false, 0}, /* unbalanced */
		{L1 ")", false, 0},
		{"a[" L1, false, 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bidx_query q;

		bidx_query_init(&q);
		CU_ASSERT_EQUAL(bidx_query_from_regex(&q, L1, false), 0);
		CU_ASSERT_EQUAL(q.nfactors, 1); /* the premise */
		bidx_query_release(&q);
		bidx_query_init(&q);
		CU_ASSERT_EQUAL(bidx_query_from_regex(&q, cases[i].re, cases[i].icase), 0);
		if (q.nfactors != cases[i].factors)
			printf("\n  %s: %zu factors, want %zu\n", cases[i].re, q.nfactors,
			       cases[i].factors);
		CU_ASSERT_EQUAL(q.nfactors, cases[i].factors);
		bidx_query_release(&q);
	}
}

static void test_image_crc(void)
{
	struct corpus c;
	struct bidx x;

	corpus_build(&c);
	CU_ASSERT(c.x.nblocks > 10);
	for (size_t i = 0; i < c.image.len; i += c.image.len / 97 + 1) {
		c.image.data[i] ^= 0x20;
		CU_ASSERT_NOT_EQUAL(bidx_parse(c.image.data, c.image.len, &x), 0);
		c.image.data[i] ^= 0x20;
	}
	CU_ASSERT_NOT_EQUAL(bidx_parse(c.image.data, c.image.len - 1, &x), 0);
	CU_ASSERT_EQUAL(bidx_parse(c.image.data, c.image.len, &x), 0);
	printf("\n  %u blocks, index %zu bytes for %d KiB of values (%.2f%%)\n", x.nblocks,
	       c.image.len, NREC * 70 / 1024, 100.0 * (double)c.image.len / (NREC * 70.0));
	corpus_free(&c);
}

/* The regex run over every line of block b: does any match? */
static bool block_matches(struct corpus *c, uint32_t b, pcre2_code *re, pcre2_match_data *md)
{
	struct bidx_block blk;

	bidx_get(&c->x, b, &blk);
	for (int64_t o = blk.first_offset; o < blk.next_offset; o++) {
		const char *l = c->lines[o];

		if (pcre2_match(re, (PCRE2_SPTR)l, strlen(l), 0, 0, md, NULL) >= 0)
			return true;
	}
	return false;
}

static void make_query(struct corpus *c, char *re, size_t cap, bool *icase)
{
	char needle[64];
	const char *l = c->lines[rnd() % c->n];
	size_t len = strlen(l), nl = 3 + rnd() % 24, at;

	if (nl > len)
		nl = len;
	at = rnd() % (len - nl + 1);
	memcpy(needle, l + at, nl);
	needle[nl] = '\0';
	for (size_t i = 0; i < nl; i++) {
		if (strchr(".^$|()[]{}*+?\\", needle[i]))
			needle[i] = '_';
		if (rnd() % 4 == 0)
			needle[i] = (char)(rnd() % 2 ? needle[i] ^ 0x20 : needle[i]);
		if (!(needle[i] >= 0x20 && needle[i] < 0x7f) ||
		    strchr(".^$|()[]{}*+?\\", needle[i]))
			needle[i] = 'x';
	}
	if (rnd() % 5 == 0)
		snprintf(needle, sizeof(needle), "%016llx", (unsigned long long)rnd());
	*icase = rnd() % 2;
	switch (rnd() % 6) {
	case 0:
		snprintf(re, cap, "%s", needle);
		break;
	case 1:
		snprintf(re, cap, "(%s|zz%sq)", needle, needle);
		break;
	case 2:
		snprintf(re, cap, "user=\\d+ .*%s", needle);
		break;
	case 3:
		snprintf(re, cap, "%s?", needle);
		break;
	case 4:
		snprintf(re, cap, "[a-z]+%s", needle);
		break;
	default:
		snprintf(re, cap, "(?:%s)+", needle);
		break;
	}
}

static void test_never_false_negative(void)
{
	struct corpus c;
	size_t checked = 0, skipped = 0, useful = 0;

	corpus_build(&c);
	for (int t = 0; t < 400; t++) {
		char re_s[256];
		bool icase;
		struct bidx_query q;
		int ec;
		PCRE2_SIZE eo;
		pcre2_code *re;
		pcre2_match_data *md;

		make_query(&c, re_s, sizeof(re_s), &icase);
		re = pcre2_compile((PCRE2_SPTR)re_s, PCRE2_ZERO_TERMINATED,
				   PCRE2_UTF | PCRE2_MATCH_INVALID_UTF |
					   (icase ? PCRE2_CASELESS : 0),
				   &ec, &eo, NULL);
		if (!re)
			continue;
		md = pcre2_match_data_create_from_pattern(re, NULL);
		bidx_query_init(&q);
		CU_ASSERT_EQUAL(bidx_query_from_regex(&q, re_s, icase), 0);
		useful += bidx_query_useful(&q);
		for (uint32_t b = 0; b < c.x.nblocks; b++) {
			struct bidx_block blk;
			bool may;

			bidx_get(&c.x, b, &blk);
			may = bidx_block_may_match(&blk, &q);
			if (!may && block_matches(&c, b, re, md)) {
				printf("\n  false negative: %s (icase %d) block %u\n", re_s, icase,
				       b);
				CU_FAIL("a matching block was ruled out");
			}
			checked++;
			skipped += !may;
		}
		bidx_query_release(&q);
		pcre2_match_data_free(md);
		pcre2_code_free(re);
	}
	printf("\n  %zu block checks, %zu skipped, %zu of 400 queries used the index\n", checked,
	       skipped, useful);
	corpus_free(&c);
}

static void test_false_positives(void)
{
	struct corpus c;
	size_t touched = 0, total = 0;

	corpus_build(&c);
	for (int t = 0; t < 500; t++) {
		char needle[32];
		struct bidx_query q;

		snprintf(needle, sizeof(needle), "%016llx", (unsigned long long)rnd());
		bidx_query_init(&q);
		CU_ASSERT_EQUAL(bidx_query_from_regex(&q, needle, false), 0);
		for (uint32_t b = 0; b < c.x.nblocks; b++) {
			struct bidx_block blk;

			bidx_get(&c.x, b, &blk);
			touched += bidx_block_may_match(&blk, &q);
			total++;
		}
		bidx_query_release(&q);
	}
	printf("\n  absent 16-hex needles: %.2f%% of blocks still read\n",
	       100.0 * (double)touched / (double)total);
	CU_ASSERT(touched * 10 < total);
	corpus_free(&c);
}

static void test_source(void)
{
	struct corpus c;
	struct bidx_query q;
	size_t may = 0;

	corpus_build(&c);
	bidx_query_init(&q);
	q.source = mem_strdup("web-2");
	for (uint32_t b = 0; b < c.x.nblocks; b++) {
		struct bidx_block blk;

		bidx_get(&c.x, b, &blk);
		may += bidx_block_may_match(&blk, &q);
		CU_ASSERT(blk.nhist > 0);
	}
	/* lines 2000..2999 and 5000..5999 carry host web-2 */
	CU_ASSERT(may > 0 && may < c.x.nblocks);
	{
		uint64_t want = 0, got = 0, all = 0;

		for (size_t i = 0; i < c.n; i++)
			want += strstr(c.lines[i], "error") != NULL;
		for (uint32_t b = 0; b < c.x.nblocks; b++) {
			struct bidx_block blk;

			bidx_get(&c.x, b, &blk);
			CU_ASSERT_EQUAL(blk.count_id, 77);
			for (uint32_t k = 0; k < blk.nmatch; k++)
				got += get_be32(blk.match + (size_t)k * 12 + 8);
			for (uint32_t k = 0; k < blk.nhist; k++)
				all += get_be32(blk.hist + (size_t)k * 12 + 8);
		}
		CU_ASSERT(want > 0);
		CU_ASSERT_EQUAL(got, want); /* the counted pattern, per minute */
		CU_ASSERT_EQUAL(all, c.n);  /* every record, per minute */
	}
	bidx_query_release(&q);
	corpus_free(&c);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_literals),
		UNIT_TEST(test_image_crc),
		UNIT_TEST(test_never_false_negative),
		UNIT_TEST(test_false_positives),
		UNIT_TEST(test_source),
		UNIT_END,
	};

	return unit_run("blockindex", tests);
}
