/* SPDX-License-Identifier: Apache-2.0 */
/* Kafka's topic-name rule (lib/topic_name.h), which the agent's config, the
 * CLI and every store protocol apply. */
#include <string.h>

#include "lib/topic_name.h"
#include "tests/unit/unit.h"

static void test_topic_names(void)
{
	char long_ok[250], too_long[251];

	memset(long_ok, 'a', 249);
	long_ok[249] = '\0';
	memset(too_long, 'a', 250);
	too_long[250] = '\0';
	CU_ASSERT(topic_name_valid("orders"));
	CU_ASSERT(topic_name_valid("a.b_c-D9"));
	CU_ASSERT(topic_name_valid(long_ok));
	CU_ASSERT(topic_name_valid("..."));
	CU_ASSERT_FALSE(topic_name_valid(too_long));
	CU_ASSERT_FALSE(topic_name_valid(""));
	CU_ASSERT_FALSE(topic_name_valid("."));
	CU_ASSERT_FALSE(topic_name_valid(".."));
	CU_ASSERT_FALSE(topic_name_valid("a/b"));
	CU_ASSERT_FALSE(topic_name_valid("a b"));
	CU_ASSERT_FALSE(topic_name_valid("ü"));
	CU_ASSERT_FALSE(topic_name_valid(NULL));
}

static void test_topic_reasons(void)
{
	CU_ASSERT_PTR_NULL(topic_name_check("orders"));
	CU_ASSERT_STRING_EQUAL(topic_name_check(""),
			       "a topic is 1 to 249 characters, not '.' or '..'");
	CU_ASSERT_STRING_EQUAL(topic_name_check(".."),
			       "a topic is 1 to 249 characters, not '.' or '..'");
	CU_ASSERT_STRING_EQUAL(topic_name_check("a/b"),
			       "a topic may hold only letters, digits, '.', '_' and '-'");
	/* by length, as in a URL path: the bytes after n do not count */
	CU_ASSERT_PTR_NULL(topic_name_check_len("orders/0", 6));
	CU_ASSERT_PTR_NOT_NULL(topic_name_check_len("../x", 2));
	CU_ASSERT_PTR_NOT_NULL(topic_name_check_len("a\0b", 3));
	CU_ASSERT_PTR_NOT_NULL(topic_name_check_len("x", 0));
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_topic_names),
		UNIT_TEST(test_topic_reasons),
		UNIT_END,
	};

	return unit_run("topic_name", tests);
}
