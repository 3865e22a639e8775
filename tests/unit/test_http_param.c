/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP parameter parsers: strict integers, times (RFC 3339 and epoch ms),
 * booleans, formats, offsets and the bearer token extraction.
 */
#include <string.h>

#include "lib/err.h"
#include "store/http/http_param.h"
#include "tests/unit/unit.h"

static void test_i64(void)
{
	int64_t v = 77;

	CU_ASSERT_EQUAL(http_param_i64("0", 0, 10, &v), 0);
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_EQUAL(http_param_i64("9223372036854775807", 0, INT64_MAX, &v), 0);
	CU_ASSERT_EQUAL(v, INT64_MAX);
	CU_ASSERT_EQUAL(http_param_i64("-5", -10, 10, &v), 0);
	CU_ASSERT_EQUAL(v, -5);
	v = 77;
	CU_ASSERT_EQUAL(http_param_i64("9223372036854775808", 0, INT64_MAX, &v), -ERR_INVALID);
	CU_ASSERT_EQUAL(http_param_i64("99999999999999999999", 0, INT64_MAX, &v), -ERR_INVALID);
	CU_ASSERT_EQUAL(http_param_i64("", 0, 10, &v), -ERR_INVALID);
	CU_ASSERT_EQUAL(http_param_i64("-", 0, 10, &v), -ERR_INVALID);
	CU_ASSERT_EQUAL(http_param_i64(" 1", 0, 10, &v), -ERR_INVALID);
	CU_ASSERT_EQUAL(http_param_i64("1 ", 0, 10, &v), -ERR_INVALID);
	CU_ASSERT_EQUAL(http_param_i64("+1", 0, 10, &v), -ERR_INVALID);
	CU_ASSERT_EQUAL(http_param_i64("0x1", 0, 10, &v), -ERR_INVALID);
	CU_ASSERT_EQUAL(http_param_i64("11", 0, 10, &v), -ERR_INVALID);
	CU_ASSERT_EQUAL(http_param_i64("-1", 0, 10, &v), -ERR_INVALID);
	CU_ASSERT_EQUAL(v, 77);
}

static void test_time(void)
{
	int64_t ms = 0;

	CU_ASSERT_EQUAL(http_param_time("2026-11-24T10:02:00Z", &ms), 0);
	CU_ASSERT_EQUAL(ms, 1795514520000LL);
	CU_ASSERT_EQUAL(http_param_time("2026-11-24T11:02:00.250+01:00", &ms), 0);
	CU_ASSERT_EQUAL(ms, 1795514520250LL);
	CU_ASSERT_EQUAL(http_param_time("1700000000000", &ms), 0);
	CU_ASSERT_EQUAL(ms, 1700000000000LL);
	CU_ASSERT_EQUAL(http_param_time("-15m", &ms), -ERR_INVALID);
	CU_ASSERT_EQUAL(http_param_time("2026-13-01T00:00:00Z", &ms), -ERR_INVALID);
	CU_ASSERT_EQUAL(http_param_time("yesterday", &ms), -ERR_INVALID);
}

static void test_small_enums(void)
{
	enum http_format f = HTTP_FORMAT_RAW;
	bool b = false;
	int64_t off = 0;

	CU_ASSERT_EQUAL(http_param_format("ndjson", &f), 0);
	CU_ASSERT_EQUAL(f, HTTP_FORMAT_NDJSON);
	CU_ASSERT_EQUAL(http_param_format("raw", &f), 0);
	CU_ASSERT_EQUAL(f, HTTP_FORMAT_RAW);
	CU_ASSERT_EQUAL(http_param_format("RAW", &f), -ERR_INVALID);
	CU_ASSERT_EQUAL(http_param_bool("true", &b), 0);
	CU_ASSERT(b);
	CU_ASSERT_EQUAL(http_param_bool("0", &b), 0);
	CU_ASSERT(!b);
	CU_ASSERT_EQUAL(http_param_bool("maybe", &b), -ERR_INVALID);
	CU_ASSERT_EQUAL(http_param_offset("earliest", &off), 0);
	CU_ASSERT_EQUAL(off, HTTP_PARAM_EARLIEST);
	CU_ASSERT_EQUAL(http_param_offset("latest", &off), 0);
	CU_ASSERT_EQUAL(off, HTTP_PARAM_LATEST);
	CU_ASSERT_EQUAL(http_param_offset("42", &off), 0);
	CU_ASSERT_EQUAL(off, 42);
	CU_ASSERT_EQUAL(http_param_offset("-1", &off), -ERR_INVALID);
}

static void test_bearer(void)
{
	const char *t;
	size_t n;

	CU_ASSERT_EQUAL(http_param_bearer("Bearer abc.DEF-123", &t, &n), 0);
	CU_ASSERT_EQUAL(n, 11);
	CU_ASSERT(memcmp(t, "abc.DEF-123", n) == 0);
	CU_ASSERT_EQUAL(http_param_bearer("  bearer \t tok  ", &t, &n), 0);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT(memcmp(t, "tok", 3) == 0);
	CU_ASSERT_EQUAL(http_param_bearer("Bearer", &t, &n), -ERR_INVALID);
	CU_ASSERT_EQUAL(http_param_bearer("Bearer   ", &t, &n), -ERR_INVALID);
	CU_ASSERT_EQUAL(http_param_bearer("Basic dXNlcjpwYXNz", &t, &n), -ERR_INVALID);
	CU_ASSERT_EQUAL(http_param_bearer("Bearertok", &t, &n), -ERR_INVALID);
	CU_ASSERT_EQUAL(http_param_bearer("Bearer a b", &t, &n), -ERR_INVALID);
	CU_ASSERT_EQUAL(http_param_bearer("Bearer \x01", &t, &n), -ERR_INVALID);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_i64),
		UNIT_TEST(test_time),
		UNIT_TEST(test_small_enums),
		UNIT_TEST(test_bearer),
		UNIT_END,
	};

	return unit_run("http_param", tests);
}
