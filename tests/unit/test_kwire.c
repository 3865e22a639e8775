/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kafka wire primitives: classic and compact (flexible) strings, bytes and
 * arrays, tagged-field sections, sticky errors and hostile lengths, checked
 * byte for byte against the encodings the protocol guide defines.
 */
#include <string.h>

#include "lib/arena.h"
#include "store/kafka/kwire.h"
#include "tests/unit/unit.h"

static void test_ints_roundtrip(void)
{
	struct buf b;
	struct kwire_enc e;
	struct kwire_dec d;
	struct arena a;
	static const uint8_t want[] = {0xff, 0x80, 0x01, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02,
				       0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x01, 0xac, 0x02};

	buf_init(&b, 0);
	arena_init(&a, 0);
	kwire_enc_init(&e, &b, false);
	kwire_put_i8(&e, -1);
	kwire_put_i16(&e, (int16_t)0x8001);
	kwire_put_i32(&e, (int32_t)0xdeadbeef);
	kwire_put_i64(&e, 0x0102030405060708LL);
	kwire_put_bool(&e, true);
	kwire_put_uvarint(&e, 300); /* 0xac 0x02 */
	CU_ASSERT_EQUAL(e.err, 0);
	CU_ASSERT_EQUAL(b.len, sizeof(want));
	CU_ASSERT(memcmp(b.data, want, sizeof(want)) == 0);
	kwire_dec_init(&d, b.data, b.len, false, &a);
	CU_ASSERT_EQUAL(kwire_get_i8(&d), -1);
	CU_ASSERT_EQUAL(kwire_get_i16(&d), (int16_t)0x8001);
	CU_ASSERT_EQUAL(kwire_get_i32(&d), (int32_t)0xdeadbeef);
	CU_ASSERT_EQUAL(kwire_get_i64(&d), 0x0102030405060708LL);
	CU_ASSERT_TRUE(kwire_get_bool(&d));
	CU_ASSERT_EQUAL(kwire_get_uvarint(&d), 300);
	CU_ASSERT_TRUE(kwire_dec_ok(&d));
	CU_ASSERT_EQUAL(kwire_dec_left(&d), 0);
	/* reading past the end is sticky */
	CU_ASSERT_EQUAL(kwire_get_i32(&d), 0);
	CU_ASSERT_FALSE(kwire_dec_ok(&d));
	CU_ASSERT_EQUAL(kwire_get_i8(&d), 0);
	arena_release(&a);
	buf_release(&b);
}

static void test_classic_strings(void)
{
	/* "abc", null string, bytes {1,2}, null bytes, array of 2, null array */
	static const uint8_t want[] = {0, 3, 'a', 'b',  'c',  0xff, 0xff, 0,    0,
				       0, 2, 1,   2,    0xff, 0xff, 0xff, 0xff, 0,
				       0, 0, 2,   0xff, 0xff, 0xff, 0xff};
	static const uint8_t two[] = {1, 2};
	struct buf b;
	struct kwire_enc e;
	struct kwire_dec d;
	struct arena a;
	const uint8_t *p;

	buf_init(&b, 0);
	arena_init(&a, 0);
	kwire_enc_init(&e, &b, false);
	kwire_put_str(&e, "abc");
	kwire_put_str(&e, NULL);
	kwire_put_bytes(&e, two, 2);
	kwire_put_bytes(&e, NULL, -1);
	kwire_put_array(&e, 2);
	kwire_put_array(&e, -1);
	CU_ASSERT_EQUAL(b.len, sizeof(want));
	CU_ASSERT(memcmp(b.data, want, sizeof(want)) == 0);
	kwire_dec_init(&d, b.data, b.len, false, &a);
	CU_ASSERT_STRING_EQUAL(kwire_get_str(&d), "abc");
	CU_ASSERT_PTR_NULL(kwire_get_nstr(&d));
	CU_ASSERT_EQUAL(kwire_get_bytes(&d, &p), 2);
	CU_ASSERT(p && p[0] == 1 && p[1] == 2);
	CU_ASSERT_EQUAL(kwire_get_bytes(&d, &p), -1);
	CU_ASSERT_PTR_NULL(p);
	/* 2 elements of >= 1 byte need 2 bytes left: 4 are */
	CU_ASSERT_EQUAL(kwire_get_array(&d, 1), 2);
	CU_ASSERT_EQUAL(kwire_get_array(&d, 1), -1);
	CU_ASSERT_TRUE(kwire_dec_ok(&d));
	arena_release(&a);
	buf_release(&b);
}

static void test_compact_forms(void)
{
	/* compact string "abc" = len+1 (4); null = 0; bytes {9} = 2,9;
	 * array of 1 = 2; empty tags = 0 */
	static const uint8_t want[] = {4, 'a', 'b', 'c', 0, 2, 9, 2, 0, 0};
	static const uint8_t nine = 9;
	struct buf b;
	struct kwire_enc e;
	struct kwire_dec d;
	struct arena a;
	const uint8_t *p;

	buf_init(&b, 0);
	arena_init(&a, 0);
	kwire_enc_init(&e, &b, true);
	kwire_put_str(&e, "abc");
	kwire_put_str(&e, NULL);
	kwire_put_bytes(&e, &nine, 1);
	kwire_put_array(&e, 1);
	kwire_put_array(&e, -1);
	kwire_put_tags(&e);
	CU_ASSERT_EQUAL(b.len, sizeof(want));
	CU_ASSERT(memcmp(b.data, want, sizeof(want)) == 0);
	kwire_dec_init(&d, b.data, b.len, true, &a);
	CU_ASSERT_STRING_EQUAL(kwire_get_str(&d), "abc");
	CU_ASSERT_PTR_NULL(kwire_get_nstr(&d));
	CU_ASSERT_TRUE(kwire_dec_ok(&d));
	CU_ASSERT_EQUAL(kwire_get_bytes(&d, &p), 1);
	CU_ASSERT_EQUAL(p[0], 9);
	CU_ASSERT_EQUAL(kwire_get_array(&d, 1), 1);
	CU_ASSERT_EQUAL(kwire_get_array(&d, 1), -1);
	kwire_get_tags(&d);
	CU_ASSERT_TRUE(kwire_dec_ok(&d));
	CU_ASSERT_EQUAL(kwire_dec_left(&d), 0);
	arena_release(&a);
	buf_release(&b);
}

static void test_tagged_fields_skipped(void)
{
	/* two tags: tag 0 with 3 bytes, tag 5 with 1 byte; then int8 7 */
	static const uint8_t in[] = {2, 0, 3, 0xaa, 0xbb, 0xcc, 5, 1, 0xdd, 7};
	struct kwire_dec d;
	struct arena a;

	arena_init(&a, 0);
	kwire_dec_init(&d, in, sizeof(in), true, &a);
	kwire_get_tags(&d);
	CU_ASSERT_EQUAL(kwire_get_i8(&d), 7);
	CU_ASSERT_TRUE(kwire_dec_ok(&d));
	/* a tag claiming more bytes than exist */
	{
		static const uint8_t bad[] = {1, 0, 50, 1, 2};

		kwire_dec_init(&d, bad, sizeof(bad), true, &a);
		kwire_get_tags(&d);
		CU_ASSERT_FALSE(kwire_dec_ok(&d));
	}
	/* non-flexible decoders have no tag section */
	kwire_dec_init(&d, in, sizeof(in), false, &a);
	kwire_get_tags(&d);
	CU_ASSERT_EQUAL(kwire_dec_left(&d), sizeof(in));
	arena_release(&a);
}

static void test_hostile_lengths(void)
{
	struct kwire_dec d;
	struct arena a;
	const uint8_t *p;
	static const uint8_t big_array[] = {0x7f, 0xff, 0xff, 0xff, 0, 0, 0};
	static const uint8_t neg_string[] = {0xff, 0xfe, 'x'};
	static const uint8_t short_string[] = {0, 10, 'x'};
	static const uint8_t neg_bytes[] = {0xff, 0xff, 0xff, 0xfe};
	static const uint8_t huge_uvarint[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};

	arena_init(&a, 4096);
	kwire_dec_init(&d, big_array, sizeof(big_array), false, &a);
	CU_ASSERT_EQUAL(kwire_get_array(&d, 1), 0);
	CU_ASSERT_FALSE(kwire_dec_ok(&d));
	kwire_dec_init(&d, neg_string, sizeof(neg_string), false, &a);
	CU_ASSERT_PTR_NULL(kwire_get_nstr(&d));
	CU_ASSERT_FALSE(kwire_dec_ok(&d));
	kwire_dec_init(&d, short_string, sizeof(short_string), false, &a);
	CU_ASSERT_PTR_NULL(kwire_get_str(&d));
	CU_ASSERT_FALSE(kwire_dec_ok(&d));
	kwire_dec_init(&d, neg_bytes, sizeof(neg_bytes), false, &a);
	CU_ASSERT_EQUAL(kwire_get_bytes(&d, &p), -1);
	CU_ASSERT_FALSE(kwire_dec_ok(&d));
	kwire_dec_init(&d, huge_uvarint, sizeof(huge_uvarint), true, &a);
	(void)kwire_get_array(&d, 1);
	CU_ASSERT_FALSE(kwire_dec_ok(&d));
	/* the arena bound turns a big allocation into a decode error */
	kwire_dec_init(&d, short_string, sizeof(short_string), false, &a);
	CU_ASSERT_PTR_NULL(kwire_alloc(&d, 1000000, 64));
	CU_ASSERT_FALSE(kwire_dec_ok(&d));
	arena_release(&a);
}

static void test_patch_and_bounds(void)
{
	struct buf b;
	struct kwire_enc e;

	buf_init(&b, 8);
	kwire_enc_init(&e, &b, false);
	kwire_put_i32(&e, 0);
	kwire_put_i32(&e, 5);
	kwire_patch_i32(&e, 0, 0x01020304);
	CU_ASSERT_EQUAL(b.data[0], 1);
	CU_ASSERT_EQUAL(b.data[3], 4);
	kwire_put_i8(&e, 1); /* past max: the error sticks */
	CU_ASSERT_NOT_EQUAL(e.err, 0);
	kwire_put_i8(&e, 1);
	CU_ASSERT_EQUAL(b.len, 8);
	buf_release(&b);
}

static void test_arena(void)
{
	struct arena a;
	char *s;
	void *big;

	arena_init(&a, 1 << 20);
	s = arena_strndup(&a, "hello world", 5);
	CU_ASSERT_STRING_EQUAL(s, "hello");
	for (int i = 0; i < 1000; i++) {
		uint64_t *p = arena_alloc(&a, 24);

		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		CU_ASSERT_EQUAL((uintptr_t)p % 8, 0);
		CU_ASSERT_EQUAL(p[0] | p[1] | p[2], 0);
	}
	big = arena_alloc(&a, 300000);
	CU_ASSERT_PTR_NOT_NULL(big);
	CU_ASSERT_PTR_NULL(arena_alloc(&a, 2 << 20));
	CU_ASSERT_PTR_NULL(arena_calloc(&a, SIZE_MAX / 2, 4));
	CU_ASSERT_STRING_EQUAL(s, "hello");
	arena_release(&a);
	CU_ASSERT_PTR_NOT_NULL(arena_alloc(&a, 16));
	arena_release(&a);
}

/* Issue 16: a string with NUL bytes neither cuts nor aliases another. */
static void test_nul_in_strings(void)
{
	static const uint8_t meta[] = {0, 12,  'H', 'e', 'l', 'l', 'o',
				       0, 'w', 'o', 'r', 'l', 'd', '!'};
	static const uint8_t victim[] = {0, 8, 'v', 'i', 'c', 't', 'i', 'm', 0, 'x'};
	static const uint8_t compact[] = {4, 0, 'a', 0};
	struct kwire_enc e;
	struct kwire_dec d;
	struct arena a;
	struct buf b;
	char *s;

	arena_init(&a, 0);
	buf_init(&b, 0);
	kwire_dec_init(&d, meta, sizeof(meta), false, &a);
	s = kwire_get_nstr(&d);
	CU_ASSERT_TRUE_FATAL(kwire_dec_ok(&d) && s != NULL);
	CU_ASSERT_STRING_EQUAL(s, "Hello\xc0\x80world!");
	CU_ASSERT_EQUAL(kwire_str_wire_len(s), 12);
	kwire_enc_init(&e, &b, false);
	kwire_put_str(&e, s);
	CU_ASSERT_EQUAL(e.err, 0);
	CU_ASSERT_EQUAL(b.len, sizeof(meta));
	CU_ASSERT(memcmp(b.data, meta, sizeof(meta)) == 0);
	kwire_dec_init(&d, victim, sizeof(victim), false, &a);
	s = kwire_get_str(&d);
	CU_ASSERT_TRUE_FATAL(kwire_dec_ok(&d) && s != NULL);
	CU_ASSERT(strcmp(s, "victim") != 0);
	CU_ASSERT_EQUAL(strlen(s), 9);
	/* compact form, NUL first and last */
	kwire_dec_init(&d, compact, sizeof(compact), true, &a);
	s = kwire_get_str(&d);
	CU_ASSERT_TRUE_FATAL(kwire_dec_ok(&d) && s != NULL);
	CU_ASSERT_EQUAL(strlen(s), 5);
	buf_reset(&b);
	kwire_enc_init(&e, &b, true);
	kwire_put_str(&e, s);
	CU_ASSERT_EQUAL(b.len, sizeof(compact));
	CU_ASSERT(memcmp(b.data, compact, sizeof(compact)) == 0);
	arena_release(&a);
	buf_release(&b);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_ints_roundtrip),
		UNIT_TEST(test_classic_strings),
		UNIT_TEST(test_compact_forms),
		UNIT_TEST(test_tagged_fields_skipped),
		UNIT_TEST(test_hostile_lengths),
		UNIT_TEST(test_patch_and_bounds),
		UNIT_TEST(test_arena),
		UNIT_TEST(test_nul_in_strings),
		UNIT_END,
	};

	return unit_run("kwire", tests);
}
