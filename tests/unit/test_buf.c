/* SPDX-License-Identifier: Apache-2.0 */
/* Bounded buffers and the counting allocator. */
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/mem.h"
#include "tests/unit/unit.h"

static void test_append_and_bound(void)
{
	struct buf b;

	buf_init(&b, 10);
	CU_ASSERT_EQUAL(buf_append(&b, "hello", 5), 0);
	CU_ASSERT_EQUAL(buf_append(&b, "world", 5), 0);
	CU_ASSERT_EQUAL(b.len, 10u);
	CU_ASSERT_EQUAL(buf_append_u8(&b, '!'), -ERR_TOO_LARGE);
	CU_ASSERT_EQUAL(b.len, 10u);
	CU_ASSERT(memcmp(b.data, "helloworld", 10) == 0);
	CU_ASSERT(b.cap <= 10);
	/* a hostile length never allocates */
	CU_ASSERT_EQUAL(buf_reserve(&b, SIZE_MAX), -ERR_TOO_LARGE);
	buf_consume(&b, 5);
	CU_ASSERT_EQUAL(b.len, 5u);
	CU_ASSERT(memcmp(b.data, "world", 5) == 0);
	buf_release(&b);
	CU_ASSERT_PTR_NULL(b.data);
}

static void test_integers_and_printf(void)
{
	struct buf b;
	struct cursor c;
	size_t at;

	buf_init(&b, 0);
	CU_ASSERT_EQUAL(buf_append_be16(&b, 0x0102), 0);
	CU_ASSERT_EQUAL(buf_append_be32(&b, 0x03040506), 0);
	CU_ASSERT_EQUAL(buf_append_be64(&b, 0x0708090a0b0c0d0eULL), 0);
	CU_ASSERT_EQUAL(buf_append_zero(&b, 4, &at), 0);
	CU_ASSERT_EQUAL(at, 14u);
	put_be32(b.data + at, 0xdeadbeef);
	CU_ASSERT_EQUAL(buf_printf(&b, "%s-%d", "x", 42), 0);
	CU_ASSERT_EQUAL(b.len, 22u);
	cursor_init(&c, b.data, b.len);
	CU_ASSERT_EQUAL(cursor_be16(&c), 0x0102);
	CU_ASSERT_EQUAL(cursor_be32(&c), 0x03040506u);
	CU_ASSERT_EQUAL(cursor_be64(&c), 0x0708090a0b0c0d0eULL);
	CU_ASSERT_EQUAL(cursor_be32(&c), 0xdeadbeefu);
	CU_ASSERT(memcmp(cursor_take(&c, 4), "x-42", 4) == 0);
	CU_ASSERT_EQUAL(cursor_left(&c), 0u);
	CU_ASSERT(cursor_ok(&c));
	CU_ASSERT_PTR_NULL(cursor_take(&c, 1));
	CU_ASSERT(!cursor_ok(&c));
	CU_ASSERT_EQUAL(buf_cstr(&b), 0);
	CU_ASSERT_EQUAL(b.data[b.len], 0);
	buf_release(&b);
}

static void test_printf_bound(void)
{
	struct buf b;

	buf_init(&b, 8);
	CU_ASSERT_EQUAL(buf_printf(&b, "%s", "0123456789"), -ERR_TOO_LARGE);
	CU_ASSERT_EQUAL(b.len, 0u);
	CU_ASSERT_EQUAL(buf_printf(&b, "%d", 123), 0);
	CU_ASSERT_EQUAL(b.len, 3u);
	buf_release(&b);
}

static void test_mem_counting(void)
{
	size_t before = mem_used();
	char *p = mem_alloc(1000);
	char *s;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT(mem_used() >= before + 1000);
	p = mem_realloc(p, 5000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT(mem_used() >= before + 5000);
	s = mem_strndup("abcdef", 3);
	CU_ASSERT_STRING_EQUAL(s, "abc");
	mem_free(s);
	mem_free(p);
	mem_free(NULL);
	CU_ASSERT_EQUAL(mem_used(), before);
}

static void test_mem_fail_injection(void)
{
	struct buf b;
	void *a, *c;

	mem_fail_after(2);
	a = mem_alloc(10);
	c = mem_alloc(10);
	CU_ASSERT_PTR_NOT_NULL(a);
	CU_ASSERT_PTR_NULL(c);
	mem_free(a);
	a = mem_alloc(10);
	CU_ASSERT_PTR_NOT_NULL(a); /* fails once only */
	mem_free(a);
	/* error paths see -ENOMEM, not a crash */
	buf_init(&b, 0);
	mem_fail_after(1);
	CU_ASSERT_EQUAL(buf_append(&b, "x", 1), -ENOMEM);
	CU_ASSERT_EQUAL(b.len, 0u);
	CU_ASSERT_EQUAL(buf_append(&b, "x", 1), 0);
	buf_release(&b);
	mem_fail_after(0);
}

/* batch_iter_init hands an empty decompression result (data NULL, len 0)
 * to cursor_init; under UBSan NULL + 0 used to abort (found by fuzz_recjson) */
static void test_cursor_empty_null(void)
{
	struct cursor c;

	cursor_init(&c, NULL, 0);
	CU_ASSERT_EQUAL(cursor_left(&c), 0u);
	CU_ASSERT(cursor_ok(&c));
	CU_ASSERT_PTR_NULL(cursor_take(&c, 0));
	CU_ASSERT(cursor_ok(&c));
	CU_ASSERT_EQUAL(cursor_u8(&c), 0);
	CU_ASSERT(!cursor_ok(&c));
	CU_ASSERT_PTR_NULL(cursor_take(&c, 1));
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_append_and_bound),
		UNIT_TEST(test_integers_and_printf),
		UNIT_TEST(test_printf_bound),
		UNIT_TEST(test_cursor_empty_null),
		UNIT_TEST(test_mem_counting),
		UNIT_TEST(test_mem_fail_injection),
		UNIT_END,
	};

	return unit_run("buf", tests);
}
