/* SPDX-License-Identifier: Apache-2.0 */
/* The config check for regular expressions (lib/regex.h). */
#include <string.h>

#include "lib/regex.h"
#include "tests/unit/unit.h"

static void test_check(void)
{
	char why[256] = "";

	CU_ASSERT_EQUAL(regex_check("^\\d{4}-\\d{2}", why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(regex_check("(?<name>[a-z]+)", why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(regex_check("a(b", why, sizeof(why)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "bad regular expression at offset 3: "));
	CU_ASSERT_EQUAL(regex_check("[z-a]", why, sizeof(why)), -1);
	CU_ASSERT_EQUAL(strncmp(why, "bad regular expression at offset ", 33), 0);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_check),
		UNIT_END,
	};

	return unit_run("regex", tests);
}
