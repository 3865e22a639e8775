/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CLI time arguments: RFC 3339, relative to now, "now", and refusals.
 */
#include "cli/cli_time.h"
#include "lib/err.h"
#include "tests/unit/unit.h"

static const int64_t NOW = 1795514520000LL; /* 2026-11-24T10:02:00Z */

static void test_absolute(void)
{
	int64_t t = 0;

	CU_ASSERT_EQUAL(cli_time_parse("2026-11-24T10:02:00Z", NOW, &t), 0);
	CU_ASSERT_EQUAL(t, NOW);
	CU_ASSERT_EQUAL(cli_time_parse("2026-11-24 11:02:00.5+01:00", NOW, &t), 0);
	CU_ASSERT_EQUAL(t, NOW + 500);
	CU_ASSERT_EQUAL(cli_time_parse("now", NOW, &t), 0);
	CU_ASSERT_EQUAL(t, NOW);
}

static void test_relative(void)
{
	int64_t t = 0;

	CU_ASSERT_EQUAL(cli_time_parse("-15m", NOW, &t), 0);
	CU_ASSERT_EQUAL(t, NOW - 15 * 60000);
	CU_ASSERT_EQUAL(cli_time_parse("-2h", NOW, &t), 0);
	CU_ASSERT_EQUAL(t, NOW - 2 * 3600000);
	CU_ASSERT_EQUAL(cli_time_parse("-1h30m", NOW, &t), 0);
	CU_ASSERT_EQUAL(t, NOW - 5400000);
	CU_ASSERT_EQUAL(cli_time_parse("-1d", NOW, &t), 0);
	CU_ASSERT_EQUAL(t, NOW - 86400000);
	CU_ASSERT_EQUAL(cli_time_parse("+5m", NOW, &t), 0);
	CU_ASSERT_EQUAL(t, NOW + 300000);
	CU_ASSERT_EQUAL(cli_time_parse("-250ms", NOW, &t), 0);
	CU_ASSERT_EQUAL(t, NOW - 250);
}

static void test_refused(void)
{
	static const char *const bad[] = {"",
					  "10:02",
					  "-15",
					  "-15x",
					  "-m",
					  "15m",
					  "-",
					  "yesterday",
					  "2026-11-24",
					  "-99999999999999999d",
					  "1795514520000"};
	int64_t t = 42;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(cli_time_parse(bad[i], NOW, &t), -ERR_INVALID);
	CU_ASSERT_EQUAL(t, 42);
	CU_ASSERT_EQUAL(cli_time_parse("+9000000000000d", INT64_MAX - 10, &t), -ERR_INVALID);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_absolute),
		UNIT_TEST(test_relative),
		UNIT_TEST(test_refused),
		UNIT_END,
	};

	return unit_run("cli_time", tests);
}
