/* SPDX-License-Identifier: Apache-2.0 */
/* Clocks, RFC 3339 and durations. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/clock.h"
#include "tests/unit/unit.h"

static void test_rfc3339_parse(void)
{
	int64_t ms;

	CU_ASSERT_EQUAL(clock_parse_rfc3339("1970-01-01T00:00:00Z", &ms), 0);
	CU_ASSERT_EQUAL(ms, 0);
	CU_ASSERT_EQUAL(clock_parse_rfc3339("2026-11-24T10:02:00Z", &ms), 0);
	CU_ASSERT_EQUAL(ms, 1795514520000LL);
	CU_ASSERT_EQUAL(clock_parse_rfc3339("2026-11-24T10:02:00.5Z", &ms), 0);
	CU_ASSERT_EQUAL(ms, 1795514520500LL);
	CU_ASSERT_EQUAL(clock_parse_rfc3339("2026-11-24T11:02:00.123456+01:00", &ms), 0);
	CU_ASSERT_EQUAL(ms, 1795514520123LL);
	CU_ASSERT_EQUAL(clock_parse_rfc3339("2026-11-24 05:02:00-05:00", &ms), 0);
	CU_ASSERT_EQUAL(ms, 1795514520000LL);
	CU_ASSERT_EQUAL(clock_parse_rfc3339("2024-02-29T00:00:00Z", &ms), 0);
	CU_ASSERT_EQUAL(clock_parse_rfc3339("1969-12-31T23:59:59Z", &ms), 0);
	CU_ASSERT_EQUAL(ms, -1000);
	CU_ASSERT(clock_parse_rfc3339("2023-02-29T00:00:00Z", &ms) < 0);
	CU_ASSERT(clock_parse_rfc3339("2026-13-01T00:00:00Z", &ms) < 0);
	CU_ASSERT(clock_parse_rfc3339("2026-11-24T10:02:00", &ms) < 0); /* zone required */
	CU_ASSERT(clock_parse_rfc3339("2026-11-24T25:00:00Z", &ms) < 0);
	CU_ASSERT(clock_parse_rfc3339("2026-11-24T10:02:00Zjunk", &ms) < 0);
	CU_ASSERT(clock_parse_rfc3339("yesterday", &ms) < 0);
	CU_ASSERT(clock_parse_rfc3339("", &ms) < 0);
}

static void test_rfc3339_format_roundtrip(void)
{
	static const int64_t vals[] = {0, 1795514520123LL, 951782400000LL, -1000, 4102444799999LL};
	char s[40];

	CU_ASSERT_EQUAL(clock_fmt_rfc3339(1795514520123LL, s, sizeof(s)), 24u);
	CU_ASSERT_STRING_EQUAL(s, "2026-11-24T10:02:00.123Z");
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		int64_t back;

		clock_fmt_rfc3339(vals[i], s, sizeof(s));
		CU_ASSERT_EQUAL(clock_parse_rfc3339(s, &back), 0);
		CU_ASSERT_EQUAL(back, vals[i]);
	}
}

/* Against the C library's calendar over random instants 1970..9999 and the
 * truncating cases of a short buffer. */
static void test_rfc3339_format_vs_gmtime(void)
{
	uint64_t seed = 7;
	char s[40], want[40];

	for (int i = 0; i < 20000; i++) {
		int64_t ms;
		time_t t;
		struct tm tm;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		ms = (int64_t)((seed >> 11) % 253402300799999ULL);
		t = (time_t)(ms / 1000);
		gmtime_r(&t, &tm);
		strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(want + strlen(want), sizeof(want) - strlen(want), ".%03dZ",
			 (int)(ms % 1000));
		CU_ASSERT_EQUAL(clock_fmt_rfc3339(ms, s, sizeof(s)), strlen(want));
		CU_ASSERT_STRING_EQUAL(s, want);
	}
	CU_ASSERT_EQUAL(clock_fmt_rfc3339(0, s, 5), 4u);
	CU_ASSERT_STRING_EQUAL(s, "1970");
	CU_ASSERT_EQUAL(clock_fmt_rfc3339(0, s, 0), 0u);
}

static void test_durations(void)
{
	int64_t ms;

	CU_ASSERT_EQUAL(clock_parse_duration("250ms", &ms), 0);
	CU_ASSERT_EQUAL(ms, 250);
	CU_ASSERT_EQUAL(clock_parse_duration("10s", &ms), 0);
	CU_ASSERT_EQUAL(ms, 10000);
	CU_ASSERT_EQUAL(clock_parse_duration("1h30m", &ms), 0);
	CU_ASSERT_EQUAL(ms, 5400000);
	CU_ASSERT_EQUAL(clock_parse_duration("7d", &ms), 0);
	CU_ASSERT_EQUAL(ms, 604800000);
	CU_ASSERT_EQUAL(clock_parse_duration("0", &ms), 0);
	CU_ASSERT_EQUAL(ms, 0);
	CU_ASSERT(clock_parse_duration("10", &ms) < 0);
	CU_ASSERT(clock_parse_duration("5x", &ms) < 0);
	CU_ASSERT(clock_parse_duration("", &ms) < 0);
	CU_ASSERT(clock_parse_duration("-5s", &ms) < 0);
	CU_ASSERT(clock_parse_duration("99999999999999999999d", &ms) < 0);
}

static void test_clocks_move(void)
{
	uint64_t a = clock_mono_ns(), b;
	int64_t w = clock_wall_ms();

	b = clock_mono_ns();
	CU_ASSERT(b >= a);
	CU_ASSERT(w > 1700000000000LL);
	CU_ASSERT(clock_mono_ms() >= a / 1000000);
}

static int64_t ts_ns(struct timespec ts)
{
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void test_deadline(void)
{
	static const int64_t ms[] = {0, 1, 999, 1000, 1500, 86400000};

	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		struct timespec now, d;

		clock_gettime(CLOCK_MONOTONIC, &now);
		d = clock_deadline(CLOCK_MONOTONIC, ms[i]);
		CU_ASSERT(d.tv_nsec >= 0 && d.tv_nsec < 1000000000L);
		CU_ASSERT(ts_ns(d) - ts_ns(now) >= ms[i] * 1000000);
		CU_ASSERT(ts_ns(d) - ts_ns(now) < ms[i] * 1000000 + 1000000000LL);
	}
	/* a negative timeout is "now", not the past */
	{
		struct timespec now, d;

		clock_gettime(CLOCK_REALTIME, &now);
		d = clock_deadline(CLOCK_REALTIME, -5000);
		CU_ASSERT(ts_ns(d) >= ts_ns(now));
	}
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_rfc3339_parse),
		UNIT_TEST(test_rfc3339_format_roundtrip),
		UNIT_TEST(test_rfc3339_format_vs_gmtime),
		UNIT_TEST(test_durations),
		UNIT_TEST(test_clocks_move),
		UNIT_TEST(test_deadline),
		UNIT_END,
	};

	return unit_run("clock", tests);
}
