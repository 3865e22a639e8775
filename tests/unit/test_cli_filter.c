/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CLI record filters: PCRE2 grep (caseless, UTF-8, binary values), key and
 * header matches, and their combination, on records decoded from real
 * batches.
 */
#include <string.h>

#include "cli/cli_filter.h"
#include "lib/err.h"
#include "tests/unit/unit.h"

struct one {
	struct buf batch;
	struct batch_iter it;
	struct record r;
};

static void make(struct one *o, const char *key, const void *val, int32_t vlen,
		 const struct record_header *h, size_t nh)
{
	struct batch_builder bb;
	struct batch_params bp;

	batch_builder_init(&bb, 1 << 20);
	buf_init(&o->batch, 0);
	CU_ASSERT_EQUAL_FATAL(
		batch_builder_add(&bb, 1, key, key ? (int32_t)strlen(key) : -1, val, vlen, h, nh),
		0);
	batch_params_init(&bp);
	CU_ASSERT_EQUAL_FATAL(batch_builder_finish(&bb, NULL, &bp, &o->batch), 0);
	batch_builder_release(&bb);
	CU_ASSERT_EQUAL_FATAL(
		batch_iter_init(&o->it, o->batch.data, o->batch.len, NULL, 1 << 20, true), 0);
	CU_ASSERT_EQUAL_FATAL(batch_iter_next(&o->it, &o->r), 1);
}

static void drop(struct one *o)
{
	batch_iter_release(&o->it);
	buf_release(&o->batch);
}

static void test_grep(void)
{
	struct cli_filter f;
	struct one a, b, bin, nul;
	char err[256];
	static const uint8_t binv[] = {0xff, 'o', 'r', 'd', 'e', 'r', ' ', '8', 0xfe};

	make(&a, "k", "GET /api/v1/orders order=81723 200", 34, NULL, 0);
	make(&b, "k", "caf\xc3\xa9 ORDER 81723", 17, NULL, 0);
	make(&bin, "k", binv, sizeof(binv), NULL, 0);
	make(&nul, "k", NULL, -1, NULL, 0);
	cli_filter_init(&f);
	CU_ASSERT(!cli_filter_active(&f));
	CU_ASSERT(cli_filter_match(&f, &nul.r));
	CU_ASSERT_EQUAL(cli_filter_grep(&f, "order[ =]81723", false, err, sizeof(err)), 0);
	CU_ASSERT(cli_filter_active(&f));
	CU_ASSERT(cli_filter_match(&f, &a.r));
	CU_ASSERT(!cli_filter_match(&f, &b.r));
	CU_ASSERT(!cli_filter_match(&f, &nul.r));
	CU_ASSERT_EQUAL(cli_filter_grep(&f, "order[ =]81723", true, err, sizeof(err)), 0);
	CU_ASSERT(cli_filter_match(&f, &b.r));
	/* UTF-8 aware: one character, and invalid bytes do not break matching */
	CU_ASSERT_EQUAL(cli_filter_grep(&f, "^caf. ", false, err, sizeof(err)), 0);
	CU_ASSERT(cli_filter_match(&f, &b.r));
	CU_ASSERT_EQUAL(cli_filter_grep(&f, "order \\d", false, err, sizeof(err)), 0);
	CU_ASSERT(cli_filter_match(&f, &bin.r));
	CU_ASSERT_EQUAL(cli_filter_grep(&f, "a(b", false, err, sizeof(err)), -ERR_INVALID);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "missing closing parenthesis"));
	cli_filter_release(&f);
	drop(&a);
	drop(&b);
	drop(&bin);
	drop(&nul);
}

static void test_key_and_headers(void)
{
	struct record_header h[2] = {
		{(const uint8_t *)"host", 4, (const uint8_t *)"web-01", 6},
		{(const uint8_t *)"empty", 5, (const uint8_t *)"", 0},
	};
	struct cli_filter f;
	struct one a, nokey;

	make(&a, "web-01:/var/log/x", "v", 1, h, 2);
	make(&nokey, NULL, "v", 1, NULL, 0);
	cli_filter_init(&f);
	CU_ASSERT_EQUAL(cli_filter_key(&f, "web-01:/var/log/x"), 0);
	CU_ASSERT(cli_filter_match(&f, &a.r));
	CU_ASSERT(!cli_filter_match(&f, &nokey.r));
	CU_ASSERT_EQUAL(cli_filter_key(&f, "web-01:/var/log"), 0);
	CU_ASSERT(!cli_filter_match(&f, &a.r));
	cli_filter_release(&f);

	cli_filter_init(&f);
	CU_ASSERT_EQUAL(cli_filter_header(&f, "host=web-01"), 0);
	CU_ASSERT(cli_filter_match(&f, &a.r));
	CU_ASSERT_EQUAL(cli_filter_header(&f, "empty="), 0);
	CU_ASSERT(cli_filter_match(&f, &a.r));
	CU_ASSERT_EQUAL(cli_filter_header(&f, "empty"), 0);
	CU_ASSERT(cli_filter_match(&f, &a.r));
	CU_ASSERT(!cli_filter_match(&f, &nokey.r));
	CU_ASSERT_EQUAL(cli_filter_header(&f, "host=web-02"), 0);
	CU_ASSERT(!cli_filter_match(&f, &a.r));
	CU_ASSERT_EQUAL(cli_filter_header(&f, "=x"), -ERR_INVALID);
	CU_ASSERT_EQUAL(cli_filter_header(&f, ""), -ERR_INVALID);
	cli_filter_release(&f);

	cli_filter_init(&f);
	for (int i = 0; i < CLI_FILTER_MAX_HEADERS; i++)
		CU_ASSERT_EQUAL(cli_filter_header(&f, "k"), 0);
	CU_ASSERT_EQUAL(cli_filter_header(&f, "k"), -ERR_TOO_LARGE);
	cli_filter_release(&f);
	drop(&a);
	drop(&nokey);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_grep),
		UNIT_TEST(test_key_and_headers),
		UNIT_END,
	};

	return unit_run("cli_filter", tests);
}
