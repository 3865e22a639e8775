/* SPDX-License-Identifier: Apache-2.0 */
/* CRC-32C: RFC 3720 vectors on both implementations, chaining, alignment. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/crc32c.h"
#include "tests/unit/unit.h"

typedef uint32_t (*crc_fn)(uint32_t, const void *, size_t);

static void check_vectors(crc_fn f)
{
	uint8_t buf[48];

	CU_ASSERT_EQUAL(f(0, "123456789", 9), 0xe3069283u);
	CU_ASSERT_EQUAL(f(0, "", 0), 0u);
	memset(buf, 0, 32);
	CU_ASSERT_EQUAL(f(0, buf, 32), 0x8a9136aau);
	memset(buf, 0xff, 32);
	CU_ASSERT_EQUAL(f(0, buf, 32), 0x62a8ab43u);
	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	CU_ASSERT_EQUAL(f(0, buf, 32), 0x46dd794eu);
	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)(31 - i);
	CU_ASSERT_EQUAL(f(0, buf, 32), 0x113fdb5cu);
	/* iSCSI read command PDU (RFC 3720 B.4) */
	{
		static const uint8_t pdu[48] = {
			0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
			0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
			0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
			0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};

		CU_ASSERT_EQUAL(f(0, pdu, sizeof(pdu)), 0xd9963a56u);
	}
}

static void test_sw_vectors(void)
{
	check_vectors(crc32c_sw);
}

static void test_hw_vectors(void)
{
	if (!crc32c_hw_available()) {
		fprintf(stderr, "no SSE4.2 on this CPU: hardware path not exercised\n");
		return;
	}
	check_vectors(crc32c_hw);
}

static void test_dispatch_vectors(void)
{
	check_vectors(crc32c);
}

static void test_chaining_and_alignment(void)
{
	uint8_t *data = malloc(4096 + 16);

	CU_ASSERT_FATAL(data != NULL);
	srand(7);
	for (int i = 0; i < 4096 + 16; i++)
		data[i] = (uint8_t)rand();
	for (size_t off = 0; off < 9; off++) {
		for (size_t len = 0; len < 300; len += 7) {
			uint32_t whole = crc32c_sw(0, data + off, len);
			size_t cut = len / 3;

			CU_ASSERT_EQUAL(crc32c(0, data + off, len), whole);
			CU_ASSERT_EQUAL(
				crc32c(crc32c(0, data + off, cut), data + off + cut, len - cut),
				whole);
			if (crc32c_hw_available())
				CU_ASSERT_EQUAL(crc32c_hw(0, data + off, len), whole);
		}
	}
	CU_ASSERT_EQUAL(crc32c(0, data, 4096), crc32c_sw(0, data, 4096));
	free(data);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_sw_vectors),
		UNIT_TEST(test_hw_vectors),
		UNIT_TEST(test_dispatch_vectors),
		UNIT_TEST(test_chaining_and_alignment),
		UNIT_END,
	};

	return unit_run("crc32c", tests);
}
