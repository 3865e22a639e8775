/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Outputs' delivered marks file (agent/spool/marks.c):
 * round trip, the higher mark wins, malformed and torn lines skipped and
 * counted, limits of the numbers and the topic.
 */
#include <string.h>

#include "agent/spool/marks.h"
#include "tests/unit/unit.h"

static const char *fmt(const struct marks *m, struct buf *b)
{
	buf_reset(b);
	CU_ASSERT_EQUAL(marks_format(m, b), 0);
	buf_append_u8(b, '\0');
	return (const char *)b->data;
}

static void test_round_trip(void)
{
	struct marks m = {0}, m2 = {0};
	struct buf b;
	const char *text = "0 12 app\n3 99 k-web\n0 7 a topic with spaces\n";
	struct mark *k;

	buf_init(&b, 1 << 20);
	CU_ASSERT_EQUAL(marks_parse(&m, text, strlen(text)), 0);
	CU_ASSERT_EQUAL(m.n, 3);
	CU_ASSERT_STRING_EQUAL(fmt(&m, &b), text);
	k = marks_find(&m, "k-web", 3, false);
	CU_ASSERT_PTR_NOT_NULL_FATAL(k);
	CU_ASSERT_EQUAL(k->last, 99);
	CU_ASSERT_PTR_NULL(marks_find(&m, "k-web", 0, false));
	/* the higher of two marks wins, in either order */
	CU_ASSERT_EQUAL(marks_parse(&m2, "1 5 t\n1 9 t\n1 3 t\n", 18), 0);
	CU_ASSERT_EQUAL(m2.n, 1);
	CU_ASSERT_EQUAL(m2.v[0].last, 9);
	/* created on demand, at 0 */
	k = marks_find(&m2, "new", 0, true);
	CU_ASSERT_PTR_NOT_NULL_FATAL(k);
	CU_ASSERT_EQUAL(k->last, 0);
	CU_ASSERT_EQUAL(m2.n, 2);
	marks_release(&m);
	marks_release(&m2);
	CU_ASSERT_EQUAL(m.n, 0);
	buf_release(&b);
}

static void test_malformed(void)
{
	static const struct {
		const char *text;
		size_t bad, n;
	} cases[] = {
		{"", 0, 0},
		{"0 1 a", 1, 0}, /* torn: no newline */
		{"0 1 a\n0 2 b", 1, 1},
		{"-1 2 b\n", 1, 0},         /* negative partition */
		{"2147483648 1 b\n", 1, 0}, /* past int32 */
		{"2147483647 1 b\n", 0, 1},
		{"0 18446744073709551615 t\n", 0, 1},
		{"0 18446744073709551616 t\n", 1, 0}, /* past uint64 */
		{"0 1 \n", 1, 0},                     /* no topic */
		{"0 1\n", 1, 0},
		{"x 1 a\n", 1, 0},
		{"0  1 a\n", 1, 0}, /* two spaces */
		{"\n\n", 2, 0},
	};
	char big[700];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct marks m = {0};

		CU_ASSERT_EQUAL(marks_parse(&m, cases[i].text, strlen(cases[i].text)),
				cases[i].bad);
		CU_ASSERT_EQUAL(m.n, cases[i].n);
		marks_release(&m);
	}
	/* a NUL in the topic, a topic longer than the limit */
	{
		struct marks m = {0};

		CU_ASSERT_EQUAL(marks_parse(&m, "0 1 a\0b\n", 8), 1);
		memcpy(big, "0 1 ", 4);
		memset(big + 4, 't', MARK_TOPIC_MAX + 1);
		big[4 + MARK_TOPIC_MAX + 1] = '\n';
		CU_ASSERT_EQUAL(marks_parse(&m, big, 4 + MARK_TOPIC_MAX + 2), 1);
		big[4 + MARK_TOPIC_MAX] = '\n';
		CU_ASSERT_EQUAL(marks_parse(&m, big, 4 + MARK_TOPIC_MAX + 1), 0);
		CU_ASSERT_EQUAL(m.n, 1);
		marks_release(&m);
	}
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_round_trip),
		UNIT_TEST(test_malformed),
		UNIT_END,
	};

	return unit_run("marks", tests);
}
