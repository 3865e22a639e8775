/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/recmatch: the grep pattern and source glob of incident search, on
 * records decoded from real batches: key and host/path/unit header
 * sources, other headers ignored, null values and keys, binary values,
 * caseless and UTF-8 patterns, bad patterns with their offset.
 */
#include <string.h>

#include "lib/err.h"
#include "lib/recmatch.h"
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

static struct record_header hdr(const char *k, const char *v)
{
	struct record_header h = {(const uint8_t *)k, (int32_t)strlen(k), (const uint8_t *)v,
				  v ? (int32_t)strlen(v) : -1};

	return h;
}

static void test_grep(void)
{
	struct recmatch m;
	struct one a, nul, bin;
	char err[300];
	static const uint8_t raw[] = {0xff, 0x00, 'E', 'R', 'R', 0xc3};

	make(&a, NULL, "GET /x 500 Überlauf req=R-1",
	     (int32_t)strlen("GET /x 500 Überlauf req=R-1"), NULL, 0);
	make(&nul, NULL, NULL, -1, NULL, 0);
	make(&bin, NULL, raw, sizeof(raw), NULL, 0);
	recmatch_init(&m);
	CU_ASSERT(!recmatch_active(&m));
	CU_ASSERT(recmatch_record(&m, &a.r));
	CU_ASSERT(recmatch_record(&m, &nul.r));
	CU_ASSERT_EQUAL(recmatch_grep(&m, "req=R-\\d", false, err, sizeof(err)), 0);
	CU_ASSERT(recmatch_active(&m));
	CU_ASSERT(recmatch_value(&m, &a.r));
	CU_ASSERT(!recmatch_value(&m, &nul.r));
	CU_ASSERT_EQUAL(recmatch_grep(&m, "überlauf", true, err, sizeof(err)), 0);
	CU_ASSERT(recmatch_value(&m, &a.r));
	CU_ASSERT_EQUAL(recmatch_grep(&m, "überlauf", false, err, sizeof(err)), 0);
	CU_ASSERT(!recmatch_value(&m, &a.r));
	/* invalid UTF-8 in a value is searched, not an error */
	CU_ASSERT_EQUAL(recmatch_grep(&m, "ERR", false, err, sizeof(err)), 0);
	CU_ASSERT(recmatch_value(&m, &bin.r));
	CU_ASSERT(!recmatch_value(&m, &a.r));
	/* a bad pattern keeps the previous one and says where */
	CU_ASSERT_EQUAL(recmatch_grep(&m, "a(b", false, err, sizeof(err)), -ERR_INVALID);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "bad regular expression at offset 3"));
	CU_ASSERT(recmatch_value(&m, &bin.r));
	recmatch_release(&m);
	recmatch_release(&m); /* released twice: no-op */
	drop(&a);
	drop(&nul);
	drop(&bin);
}

static void test_source(void)
{
	struct recmatch m;
	struct one k, h, other, none;
	struct record_header hs[] = {hdr("level", "web-1"), hdr("path", "/var/log/web-1.log")};
	struct record_header ho[] = {hdr("level", "web-1"), hdr("hostx", "web-1"),
				     hdr("unit", NULL)};

	make(&k, "web-1:nginx", "v", 1, NULL, 0);
	make(&h, NULL, "v", 1, hs, 2);
	make(&other, "db-2", "v", 1, ho, 3);
	make(&none, NULL, "v", 1, NULL, 0);
	recmatch_init(&m);
	CU_ASSERT_EQUAL(recmatch_source(&m, "web-1*"), 0);
	CU_ASSERT(recmatch_record(&m, &k.r));
	CU_ASSERT(!recmatch_record(&m, &h.r)); /* the path is /var/log/... */
	CU_ASSERT(!recmatch_record(&m, &other.r));
	CU_ASSERT(!recmatch_record(&m, &none.r));
	CU_ASSERT(recmatch_source_of("/var/log/*.log", &h.r));
	CU_ASSERT(recmatch_source_of("*web-1*", &h.r));
	/* only host, path and unit headers are sources */
	CU_ASSERT(!recmatch_source_of("web-1", &other.r));
	CU_ASSERT(recmatch_source_of("db-?", &other.r));
	/* both conditions */
	CU_ASSERT_EQUAL(recmatch_grep(&m, "^v$", false, NULL, 0), 0);
	CU_ASSERT(recmatch_record(&m, &k.r));
	CU_ASSERT_EQUAL(recmatch_grep(&m, "^w$", false, NULL, 0), 0);
	CU_ASSERT(!recmatch_record(&m, &k.r));
	recmatch_release(&m);
	drop(&k);
	drop(&h);
	drop(&other);
	drop(&none);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_grep),
		UNIT_TEST(test_source),
		UNIT_END,
	};

	return unit_run("recmatch", tests);
}
