/* SPDX-License-Identifier: Apache-2.0 */
/*
 * multiline.start shortcuts (plugins/in_tail/tail_start.c): which patterns
 * are decided by the first byte, and for every pattern, shortcut or not, the
 * decision equals pcre2_match() on lines of every first byte, empty lines
 * and lines of the corpus's kinds.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "plugins/in_tail/tail_start.h"
#include "tests/unit/unit.h"

static void test_one_char_forms(void)
{
	static const char *const yes[] = {"^[0-9{]", "^\\d",  "^\\S", "^[^\\s]", "^\\[", "^x",
					  "^[]a]",   "^[^]]", "^\\t", "^[\\]x]", "^#",   "^ "};
	static const char *const no[] = {
		"^\\d{4}", "[0-9]",  "^[0-9]+", "^\\d\\d",  "^(a)", "^a|b", "^[[:digit:]]",
		"^\\1",    "^\\b",   "^\\p{L}", "^\\Qa\\E", "^.",   "^",    "^$",
		"^[0-9",   "^\\x41", "(?i)^a",  "^a*",      ""};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		CU_ASSERT_TRUE(tail_start_one_char(yes[i]));
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		CU_ASSERT_FALSE(tail_start_one_char(no[i]));
}

static void test_same_as_pcre2(void)
{
	static const char *const patterns[] = {
		"^[0-9{]",  "^\\d",
		"^\\S",     "^[^\\s]",
		"^\\[",     "^x",
		"^[]a]",    "^[^]]",
		"^\\s",     "^\\d{4}-\\d{2}",
		"^\\[\\d+", "^(?:ERROR|WARN)",
		"[0-9]",    "^$",
		"^",        "^.?",
		"(?i)^x",   "^\\w+:",
	};
	static const char *const lines[] = {
		"2026-11-24 10:01:47 INFO x",
		"{\"ts\": 1}",
		"\tat com.example.Foo(Foo.java:1)",
		"    at x",
		"[2026-11-24] boot",
		"ERROR: it broke",
		"warn lower",
		"X marks",
		"x marks",
		"]bracket",
		"a",
		"",
		" ",
		"caused by: y",
		"2026",
		"WARN",
	};
	uint8_t one[3];

	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		struct tail_start s;
		pcre2_code *re;
		pcre2_match_data *md;
		int ec;
		PCRE2_SIZE eo;

		CU_ASSERT_EQUAL_FATAL(tail_start_init(&s, patterns[i]), 0);
		re = pcre2_compile((PCRE2_SPTR)patterns[i], PCRE2_ZERO_TERMINATED, 0, &ec, &eo,
				   NULL);
		md = pcre2_match_data_create_from_pattern(re, NULL);
		for (size_t k = 0; k < sizeof(lines) / sizeof(lines[0]); k++) {
			size_t n = strlen(lines[k]);

			CU_ASSERT_EQUAL(tail_start_match(&s, (const uint8_t *)lines[k], n),
					pcre2_match(re, (PCRE2_SPTR)lines[k], n, 0, 0, md, NULL) >=
						0);
		}
		for (int c = 0; c < 256; c++) {
			for (size_t len = 1; len <= 3; len++) {
				one[0] = (uint8_t)c;
				one[1] = (uint8_t)'7';
				one[2] = (uint8_t)(255 - c);
				CU_ASSERT_EQUAL(tail_start_match(&s, one, len),
						pcre2_match(re, one, len, 0, 0, md, NULL) >= 0);
			}
		}
		pcre2_match_data_free(md);
		pcre2_code_free(re);
		tail_start_release(&s);
	}
	/* the shortcut is taken where it applies */
	{
		struct tail_start s;

		CU_ASSERT_EQUAL(tail_start_init(&s, "^[0-9{]"), 0);
		CU_ASSERT_TRUE(s.table);
		tail_start_release(&s);
		CU_ASSERT_EQUAL(tail_start_init(&s, "^\\d{4}-"), 0);
		CU_ASSERT_FALSE(s.table);
		CU_ASSERT_TRUE(s.first_set);
		tail_start_release(&s);
		CU_ASSERT_EQUAL(tail_start_init(&s, "("), -ERR_CONFIG);
		tail_start_release(&s);
	}
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_one_char_forms),
		UNIT_TEST(test_same_as_pcre2),
		UNIT_END,
	};

	return unit_run("tail_start", tests);
}
