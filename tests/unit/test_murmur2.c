/* SPDX-License-Identifier: Apache-2.0 */
/* murmur2 against the vectors of Kafka's UtilsTest.testMurmur2. */
#include <string.h>

#include "lib/murmur2.h"
#include "tests/unit/unit.h"

static void test_kafka_vectors(void)
{
	static const struct {
		const char *key;
		int32_t hash;
	} v[] = {
		{"21", -973932308},
		{"foobar", -790332482},
		{"a-little-bit-long-string", -985981536},
		{"a-little-bit-longer-string", -1486304829},
		{"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
		{"abc", 479470107},
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		CU_ASSERT_EQUAL(murmur2(v[i].key, strlen(v[i].key)), v[i].hash);
}

static void test_partition(void)
{
	/* toPositive(h) % n, computed from the vectors above */
	CU_ASSERT_EQUAL(murmur2_partition("21", 2, 6), (int32_t)((-973932308 & 0x7fffffff) % 6));
	CU_ASSERT_EQUAL(murmur2_partition("abc", 3, 7), 479470107 % 7);
	CU_ASSERT_EQUAL(murmur2_partition("foobar", 6, 1), 0);
	for (int n = 1; n < 20; n++) {
		int32_t p = murmur2_partition("web-01:/var/log/nginx/access.log", 32, n);

		CU_ASSERT(p >= 0 && p < n);
	}
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_kafka_vectors),
		UNIT_TEST(test_partition),
		UNIT_END,
	};

	return unit_run("murmur2", tests);
}
