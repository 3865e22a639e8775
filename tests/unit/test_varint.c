/* SPDX-License-Identifier: Apache-2.0 */
/* Varint/zigzag: round trips at the edges, truncation, over-long encodings. */
#include <stdint.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/varint.h"
#include "tests/unit/unit.h"

static void test_zigzag(void)
{
	CU_ASSERT_EQUAL(zigzag_enc(0), 0u);
	CU_ASSERT_EQUAL(zigzag_enc(-1), 1u);
	CU_ASSERT_EQUAL(zigzag_enc(1), 2u);
	CU_ASSERT_EQUAL(zigzag_enc(-2), 3u);
	CU_ASSERT_EQUAL(zigzag_enc(INT64_MAX), UINT64_MAX - 1);
	CU_ASSERT_EQUAL(zigzag_enc(INT64_MIN), UINT64_MAX);
	CU_ASSERT_EQUAL(zigzag_dec(UINT64_MAX), INT64_MIN);
}

static void test_known_encodings(void)
{
	uint8_t b[VARINT_MAX_BYTES];

	/* Kafka: -1 (null length) is the single byte 0x01; 300 is ac 02 unsigned. */
	CU_ASSERT_EQUAL(varint_put_i64(b, -1), 1u);
	CU_ASSERT_EQUAL(b[0], 0x01);
	CU_ASSERT_EQUAL(varint_put_u64(b, 300), 2u);
	CU_ASSERT(b[0] == 0xac && b[1] == 0x02);
	CU_ASSERT_EQUAL(varint_put_i64(b, 63), 1u);
	CU_ASSERT_EQUAL(varint_put_i64(b, 64), 2u);
	CU_ASSERT_EQUAL(varint_put_u64(b, UINT64_MAX), 10u);
	CU_ASSERT_EQUAL(varint_len_u64(UINT64_MAX), 10u);
	CU_ASSERT_EQUAL(varint_len_i64(INT64_MIN), 10u);
}

static void test_roundtrip(void)
{
	static const int64_t vals[] = {0,         1,         -1,
				       63,        -64,       64,
				       127,       128,       300,
				       -300,      16383,     16384,
				       INT32_MAX, INT32_MIN, (int64_t)INT32_MAX + 1,
				       INT64_MAX, INT64_MIN, 1234567890123LL};

	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		uint8_t b[VARINT_MAX_BYTES];
		size_t n = varint_put_i64(b, vals[i]);
		int64_t v = 0;

		CU_ASSERT_EQUAL(n, varint_len_i64(vals[i]));
		CU_ASSERT_EQUAL(varint_get_i64(b, n, &v), (int)n);
		CU_ASSERT_EQUAL(v, vals[i]);
		if (vals[i] >= INT32_MIN && vals[i] <= INT32_MAX) {
			int32_t v32 = 0;

			CU_ASSERT_EQUAL(varint_get_i32(b, n, &v32), (int)n);
			CU_ASSERT_EQUAL(v32, (int32_t)vals[i]);
		} else {
			int32_t v32;

			CU_ASSERT_EQUAL(varint_get_i32(b, n, &v32), -ERR_CORRUPT);
		}
		/* every shorter prefix is truncated */
		for (size_t k = 0; k < n; k++)
			CU_ASSERT_EQUAL(varint_get_i64(b, k, &v), -ERR_TRUNCATED);
	}
}

static void test_overlong(void)
{
	uint8_t b[11];
	uint64_t v;

	memset(b, 0x80, sizeof(b));
	CU_ASSERT_EQUAL(varint_get_u64(b, sizeof(b), &v), -ERR_CORRUPT);
	/* 10th byte carrying more than one bit overflows 64 bits */
	memset(b, 0xff, 9);
	b[9] = 0x02;
	CU_ASSERT_EQUAL(varint_get_u64(b, 10, &v), -ERR_CORRUPT);
	b[9] = 0x01;
	CU_ASSERT_EQUAL(varint_get_u64(b, 10, &v), 10);
	CU_ASSERT_EQUAL(v, UINT64_MAX);
}

static void test_cursor(void)
{
	uint8_t b[32];
	struct cursor c;
	size_t n = 0;

	n += varint_put_i64(b + n, -5);
	n += varint_put_u64(b + n, 1000);
	b[n++] = 0x12;
	b[n++] = 0x34;
	cursor_init(&c, b, n);
	CU_ASSERT_EQUAL(cursor_varint(&c), -5);
	CU_ASSERT_EQUAL(cursor_uvarint(&c), 1000u);
	CU_ASSERT_EQUAL(cursor_be16(&c), 0x1234);
	CU_ASSERT(cursor_ok(&c));
	CU_ASSERT_EQUAL(cursor_u8(&c), 0);
	CU_ASSERT(!cursor_ok(&c));
	CU_ASSERT_EQUAL(cursor_be32(&c), 0u); /* sticky */
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_zigzag),    UNIT_TEST(test_known_encodings),
		UNIT_TEST(test_roundtrip), UNIT_TEST(test_overlong),
		UNIT_TEST(test_cursor),    UNIT_END,
	};

	return unit_run("varint", tests);
}
