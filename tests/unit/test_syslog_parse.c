/* SPDX-License-Identifier: Apache-2.0 */
/* Syslog message parsing (RFC 5424, RFC 3164) and TCP framing (RFC 6587). */
#include <string.h>

#include "plugins/in_syslog/syslog_parse.h"
#include "tests/unit/unit.h"

#define S(s) s, strlen(s)

static int eq(const struct syslog_str *s, const char *v)
{
	return s->n == strlen(v) && memcmp(s->p, v, s->n) == 0;
}

static void test_5424(void)
{
	struct syslog_msg m;
	const char *why;

	CU_ASSERT_EQUAL(
		syslog_parse(S("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog "
			       "- ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Appl\\]ication\"]"
			       " \xef\xbb\xbf"
			       "An application event\n"),
			     0, &m, &why),
		0);
	CU_ASSERT_EQUAL(m.version, 1);
	CU_ASSERT_EQUAL(m.facility, 20);
	CU_ASSERT_EQUAL(m.severity, 5);
	CU_ASSERT_EQUAL(m.ts_ms, 1065910455003LL);
	CU_ASSERT(eq(&m.hostname, "mymachine.example.com"));
	CU_ASSERT(eq(&m.app, "evntslog"));
	CU_ASSERT_EQUAL(m.procid.n, 0);
	CU_ASSERT(eq(&m.msgid, "ID47"));
	CU_ASSERT(eq(&m.sd, "[exampleSDID@32473 iut=\"3\" eventSource=\"Appl\\]ication\"]"));
	CU_ASSERT(eq(&m.msg, "An application event"));
	/* all NILVALUEs, no MSG */
	CU_ASSERT_EQUAL(syslog_parse(S("<34>1 - - - - - -"), 0, &m, &why), 0);
	CU_ASSERT_EQUAL(m.ts_ms, 0);
	CU_ASSERT_EQUAL(m.msg.n, 0);
	/* offsets and two SD elements */
	CU_ASSERT_EQUAL(
		syslog_parse(
			S("<13>1 2003-08-24T05:14:15.000003-07:00 h app 123 - [a x=\"1\"][b] hi"),
			0, &m, &why),
		0);
	CU_ASSERT_EQUAL(m.ts_ms, 1061727255000LL);
	CU_ASSERT(eq(&m.procid, "123"));
	CU_ASSERT(eq(&m.sd, "[a x=\"1\"][b]"));
	CU_ASSERT(eq(&m.msg, "hi"));
	/* malformed */
	CU_ASSERT(syslog_parse(S("<13>1 yesterday h a - - - m"), 0, &m, &why) < 0 && why);
	CU_ASSERT(syslog_parse(S("<13>1 - h a - - [unterminated m"), 0, &m, &why) < 0);
	CU_ASSERT(syslog_parse(S("<13>1 - h"), 0, &m, &why) < 0);
	CU_ASSERT(syslog_parse(S("<999>1 - - - - - -"), 0, &m, &why) < 0);
	CU_ASSERT(syslog_parse(S("no pri"), 0, &m, &why) < 0);
	CU_ASSERT(eq(&m.msg, "no pri")); /* the raw text is the message */
	CU_ASSERT(syslog_parse(S("<13"), 0, &m, &why) < 0);
	CU_ASSERT(syslog_parse(S(""), 0, &m, &why) < 0);
}

static void test_3164(void)
{
	struct syslog_msg m;
	const char *why;
	int64_t now = 1700000000000LL; /* 2023-11-14 */

	CU_ASSERT_EQUAL(syslog_parse(S("<34>Oct 11 22:14:15 mymachine su[123]: 'su root' failed"),
				     now, &m, &why),
			0);
	CU_ASSERT_EQUAL(m.version, 0);
	CU_ASSERT_EQUAL(m.facility, 4);
	CU_ASSERT_EQUAL(m.severity, 2);
	CU_ASSERT(m.ts_ms != 0);
	CU_ASSERT(eq(&m.hostname, "mymachine"));
	CU_ASSERT(eq(&m.app, "su"));
	CU_ASSERT(eq(&m.procid, "123"));
	CU_ASSERT(eq(&m.msg, "'su root' failed"));
	/* day padded with a space, no hostname (tag right after the time) */
	CU_ASSERT_EQUAL(syslog_parse(S("<13>Nov  5 01:02:03 cron: job done"), now, &m, &why), 0);
	CU_ASSERT_EQUAL(m.hostname.n, 0);
	CU_ASSERT(eq(&m.app, "cron"));
	CU_ASSERT(eq(&m.msg, "job done"));
	/* no timestamp at all: the whole rest is the message */
	CU_ASSERT_EQUAL(syslog_parse(S("<13>just text"), now, &m, &why), 0);
	CU_ASSERT_EQUAL(m.ts_ms, 0);
	CU_ASSERT(eq(&m.msg, "just text"));
}

static void test_framing(void)
{
	struct syslog_frame f;
	const char *two = "11 <13>1 - - -\n<13>hello\n";

	syslog_frame_next(S("11 <13>1 - - -"), 1024, &f);
	CU_ASSERT_EQUAL(f.kind, SYSLOG_FRAME_OK);
	CU_ASSERT_EQUAL(f.msg_len, 11);
	CU_ASSERT_EQUAL(f.consumed, 14);
	syslog_frame_next(two + 14, strlen(two) - 14, 1024, &f);
	CU_ASSERT_EQUAL(f.kind, SYSLOG_FRAME_OK); /* newline after octet frame: empty line */
	syslog_frame_next(S("<13>hello\n<14>x"), 1024, &f);
	CU_ASSERT_EQUAL(f.kind, SYSLOG_FRAME_OK);
	CU_ASSERT_EQUAL(f.msg_len, 9);
	CU_ASSERT_EQUAL(f.consumed, 10);
	/* incomplete */
	syslog_frame_next(S("20 <13>short"), 1024, &f);
	CU_ASSERT_EQUAL(f.kind, SYSLOG_FRAME_NONE);
	syslog_frame_next(S("123"), 1024, &f);
	CU_ASSERT_EQUAL(f.kind, SYSLOG_FRAME_NONE);
	syslog_frame_next(S("<13>no newline yet"), 1024, &f);
	CU_ASSERT_EQUAL(f.kind, SYSLOG_FRAME_NONE);
	/* a digit-led frame without a length: a malformed line */
	syslog_frame_next(S("12x bad\n"), 1024, &f);
	CU_ASSERT_EQUAL(f.kind, SYSLOG_FRAME_OK);
	CU_ASSERT_EQUAL(f.malformed, 1);
	CU_ASSERT_EQUAL(f.msg_len, 7);
	/* a 2 GB length is not an allocation: first max bytes, the rest skipped */
	syslog_frame_next(S("2000000000 <13>aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), 16, &f);
	CU_ASSERT_EQUAL(f.kind, SYSLOG_FRAME_TOO_LONG);
	CU_ASSERT_EQUAL(f.msg_len, 16);
	CU_ASSERT_EQUAL(f.skip, 2000000000 - 16);
	/* an over-long line */
	syslog_frame_next(S("<13>aaaaaaaaaaaaaaaaaaaaaaaaaaaa"), 16, &f);
	CU_ASSERT_EQUAL(f.kind, SYSLOG_FRAME_TOO_LONG);
	CU_ASSERT_EQUAL(f.consumed, 16);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_5424),
		UNIT_TEST(test_3164),
		UNIT_TEST(test_framing),
		UNIT_END,
	};

	return unit_run("syslog_parse", tests);
}
