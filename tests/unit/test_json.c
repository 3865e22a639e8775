/* SPDX-License-Identifier: Apache-2.0 */
/* JSON string escaping, UTF-8 validation, base64. */
#include <string.h>

#include "lib/json.h"
#include "tests/unit/unit.h"

static void expect_str(const void *in, size_t n, const char *want)
{
	struct buf b;

	buf_init(&b, 0);
	CU_ASSERT_EQUAL(json_str(&b, in, n), 0);
	buf_cstr(&b);
	if (strcmp((char *)b.data, want) != 0) {
		fprintf(stderr, "got %s want %s\n", (char *)b.data, want);
		CU_FAIL("json_str");
	}
	buf_release(&b);
}

static void test_escaping(void)
{
	expect_str("plain", 5, "\"plain\"");
	expect_str("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
	expect_str("tab\tnl\ncr\r", 10, "\"tab\\tnl\\ncr\\r\"");
	expect_str("\x01\x1f", 2, "\"\\u0001\\u001f\"");
	expect_str("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	expect_str("bad\xff!", 5, "\"bad\xef\xbf\xbd!\"");
	expect_str("\xc3", 1, "\"\xef\xbf\xbd\"");
	expect_str("nul\0x", 5, "\"nul\\u0000x\"");
}

static void test_utf8(void)
{
	CU_ASSERT(utf8_valid("hello", 5));
	CU_ASSERT(utf8_valid("\xc3\xa9", 2));
	CU_ASSERT(!utf8_valid("\xc0\xaf", 2));          /* overlong */
	CU_ASSERT(!utf8_valid("\xed\xa0\x80", 3));      /* surrogate */
	CU_ASSERT(!utf8_valid("\xf4\x90\x80\x80", 4));  /* > U+10FFFF */
	CU_ASSERT(!utf8_valid("\xe2\x82", 2));          /* truncated */
	CU_ASSERT(utf8_valid("", 0));
}

static void test_base64(void)
{
	static const struct { const char *in, *out; } v[] = {
		{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
		{"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct buf e, d;

		buf_init(&e, 0);
		buf_init(&d, 0);
		CU_ASSERT_EQUAL(base64_encode(&e, v[i].in, strlen(v[i].in)), 0);
		CU_ASSERT_EQUAL(e.len, strlen(v[i].out));
		CU_ASSERT(e.len == 0 || memcmp(e.data, v[i].out, e.len) == 0);
		CU_ASSERT_EQUAL(base64_decode(&d, v[i].out, strlen(v[i].out)), 0);
		CU_ASSERT_EQUAL(d.len, strlen(v[i].in));
		CU_ASSERT(d.len == 0 || memcmp(d.data, v[i].in, d.len) == 0);
		buf_release(&e);
		buf_release(&d);
	}
	{
		struct buf d;

		buf_init(&d, 0);
		CU_ASSERT(base64_decode(&d, "Zm9", 3) < 0);
		CU_ASSERT(base64_decode(&d, "Zm!v", 4) < 0);
		buf_release(&d);
	}
}

static void test_keys(void)
{
	struct buf b;
	bool first = true;

	buf_init(&b, 0);
	buf_append_u8(&b, '{');
	json_key(&b, &first, "a");
	json_i64(&b, -5);
	json_key(&b, &first, "b");
	json_cstr(&b, "x");
	buf_append_u8(&b, '}');
	buf_cstr(&b);
	CU_ASSERT_STRING_EQUAL((char *)b.data, "{\"a\":-5,\"b\":\"x\"}");
	buf_release(&b);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_escaping),
		UNIT_TEST(test_utf8),
		UNIT_TEST(test_base64),
		UNIT_TEST(test_keys),
		UNIT_END,
	};

	return unit_run("json", tests);
}
