/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON parser: values of every type, escapes and surrogate pairs, integer
 * exactness, rejection of every malformed form RFC 8259 rules out, and the
 * nesting bound.
 */
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/jdoc.h"
#include "tests/unit/unit.h"

static struct jdoc *ok(const char *s)
{
	struct jdoc *d = NULL;

	CU_ASSERT_EQUAL(jdoc_parse(s, strlen(s), &d, NULL), 0);
	return d;
}

static void test_values(void)
{
	struct jdoc *d = ok(" {\"a\": 1, \"b\": [true, false, null, -2.5e3, \"x\"],"
			    " \"c\": {\"d\": \"\"}, \"big\": 9223372036854775807,"
			    " \"neg\": -9223372036854775808, \"over\": 9223372036854775808} ");
	const struct jnode *r, *b;
	int64_t v;
	bool t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	r = jdoc_root(d);
	CU_ASSERT_EQUAL(r->type, JOBJ);
	CU_ASSERT_EQUAL(r->n, 6);
	CU_ASSERT_EQUAL(jnode_i64(jnode_get(r, "a"), &v), 0);
	CU_ASSERT_EQUAL(v, 1);
	b = jnode_get(r, "b");
	CU_ASSERT_EQUAL_FATAL(b->type, JARR);
	CU_ASSERT_EQUAL_FATAL(b->n, 5);
	CU_ASSERT_EQUAL(jnode_bool(&b->kids[0], &t), 0);
	CU_ASSERT(t);
	CU_ASSERT_EQUAL(jnode_bool(&b->kids[1], &t), 0);
	CU_ASSERT(!t);
	CU_ASSERT_EQUAL(b->kids[2].type, JNULL);
	CU_ASSERT_EQUAL(b->kids[3].type, JNUM);
	CU_ASSERT(!b->kids[3].is_int);
	CU_ASSERT_DOUBLE_EQUAL(b->kids[3].num, -2500.0, 1e-9);
	CU_ASSERT_EQUAL(jnode_i64(&b->kids[3], &v), -ERR_INVALID);
	CU_ASSERT_STRING_EQUAL(jnode_str(&b->kids[4]), "x");
	CU_ASSERT_STRING_EQUAL(jnode_str(jnode_get(jnode_get(r, "c"), "d")), "");
	CU_ASSERT_EQUAL(jnode_i64(jnode_get(r, "big"), &v), 0);
	CU_ASSERT_EQUAL(v, INT64_MAX);
	CU_ASSERT_EQUAL(jnode_i64(jnode_get(r, "neg"), &v), 0);
	CU_ASSERT_EQUAL(v, INT64_MIN);
	CU_ASSERT_EQUAL(jnode_i64(jnode_get(r, "over"), &v), -ERR_INVALID);
	CU_ASSERT_PTR_NULL(jnode_get(r, "missing"));
	CU_ASSERT_PTR_NULL(jnode_get(&b->kids[0], "a"));
	CU_ASSERT_PTR_NULL(jnode_str(jnode_get(r, "a")));
	jdoc_free(d);
	jdoc_free(NULL);
}

static void test_strings(void)
{
	struct jdoc *d = ok("[\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\", \"\\u00e9\\u20ac\\ud83d\\ude00\","
			    " \"\xc3\xa9\", \"nul\\u0000x\"]");
	const struct jnode *r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	r = jdoc_root(d);
	CU_ASSERT_STRING_EQUAL(r->kids[0].s, "a\"b\\c/d\b\f\n\r\t");
	CU_ASSERT_STRING_EQUAL(r->kids[1].s, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	CU_ASSERT_STRING_EQUAL(r->kids[2].s, "\xc3\xa9");
	CU_ASSERT_EQUAL(r->kids[3].len, 5);
	CU_ASSERT(memcmp(r->kids[3].s, "nul\0x", 5) == 0);
	jdoc_free(d);
}

static void test_rejects(void)
{
	static const char *const bad[] = {
		"",
		" ",
		"{",
		"}",
		"[1,]",
		"[,1]",
		"{\"a\":1,}",
		"{\"a\" 1}",
		"{a:1}",
		"[1 2]",
		"01",
		"1.",
		".5",
		"-",
		"1e",
		"+1",
		"tru",
		"nulll",
		"\"abc",
		"\"\\x\"",
		"\"\\u12\"",
		"\"\\ud800\"",
		"\"\\udc00\"",
		"\"\\ud800\\u0041\"",
		"\"\x01\"",
		"\"\xff\"",
		"\"\xc0\xaf\"",
		"\"\xed\xa0\x80\"",
		"[1]x",
		"{\"a\":1}}",
		"NaN",
		"[Infinity]",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct jdoc *d = (struct jdoc *)1;
		size_t off = 9999;

		CU_ASSERT_EQUAL(jdoc_parse(bad[i], strlen(bad[i]), &d, &off), -ERR_INVALID);
		CU_ASSERT_PTR_NULL(d);
		CU_ASSERT(off <= strlen(bad[i]));
	}
}

static void test_depth_bound(void)
{
	char deep[JDOC_MAX_DEPTH + 2], ok_deep[2 * JDOC_MAX_DEPTH + 1];
	struct jdoc *d = NULL;

	memset(deep, '[', sizeof(deep));
	CU_ASSERT_EQUAL(jdoc_parse(deep, sizeof(deep), &d, NULL), -ERR_TOO_LARGE);
	memset(ok_deep, '[', JDOC_MAX_DEPTH);
	memset(ok_deep + JDOC_MAX_DEPTH, ']', JDOC_MAX_DEPTH);
	CU_ASSERT_EQUAL(jdoc_parse(ok_deep, 2 * JDOC_MAX_DEPTH, &d, NULL), 0);
	jdoc_free(d);
}

static void test_write_roundtrip(void)
{
	const char *in =
		" { \"a\" : [1, -2.5, true, false, null, \"x\\\"y\\u00e9\"], \"b\": {} , \"c\":[]}";
	struct jdoc *d = ok(in), *d2 = NULL;
	struct buf b;

	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	buf_init(&b, 0);
	CU_ASSERT_EQUAL(jnode_write(&b, jdoc_root(d)), 0);
	CU_ASSERT_EQUAL(buf_cstr(&b), 0);
	CU_ASSERT_STRING_EQUAL(
		(char *)b.data,
		"{\"a\":[1,-2.5,true,false,null,\"x\\\"y\xc3\xa9\"],\"b\":{},\"c\":[]}");
	CU_ASSERT_EQUAL(jdoc_parse(b.data, b.len, &d2, NULL), 0);
	jdoc_free(d2);
	jdoc_free(d);
	buf_release(&b);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_values),          UNIT_TEST(test_strings),
		UNIT_TEST(test_rejects),         UNIT_TEST(test_depth_bound),
		UNIT_TEST(test_write_roundtrip), UNIT_END,
	};

	return unit_run("jdoc", tests);
}
