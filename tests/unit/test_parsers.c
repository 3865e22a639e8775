/* SPDX-License-Identifier: Apache-2.0 */
/* Parsers json, logfmt and regex, and the JSON scanner under them: valid and
 * invalid lines, time_key/time_format, parse_error headers and counters. */
#include "plugins/filters/xform.h"
#include "tests/unit/xform_harness.h"

extern const struct plugin parser_json_plugin;
extern const struct plugin parser_logfmt_plugin;
extern const struct plugin parser_regex_plugin;

#define J(s) s, strlen(s)

static void test_jscan(void)
{
	struct jspan s;
	size_t off = 0;
	char t[64];
	size_t n;

	CU_ASSERT_EQUAL(
		jscan(J("{\"a\":1,\"b\":[1,2,{\"c\":null}],\"t\":\"x\\\"y\"}"), "t", &s, &off), 0);
	CU_ASSERT(s.found && s.is_string);
	CU_ASSERT_EQUAL(jspan_text(&s, t, sizeof(t), &n), 0);
	CU_ASSERT_STRING_EQUAL(t, "x\"y");
	CU_ASSERT_EQUAL(
		jscan(" [1, 2.5e3, -0, true, false, null, \"\\u00e9\"] ", 44, NULL, NULL, NULL), 0);
	CU_ASSERT_EQUAL(jscan("{\"a\":{\"t\":1},\"t\":2}", 19, "t", &s, NULL), 0);
	CU_ASSERT(s.found && !s.is_string && s.n == 1 && s.p[0] == '2'); /* top level only */
	CU_ASSERT_EQUAL(jscan("\"\xc3\xa9\"", 4, NULL, NULL, NULL), 0);
	/* invalid */
	CU_ASSERT_EQUAL(jscan("", 0, NULL, NULL, &off), -1);
	CU_ASSERT_EQUAL(jscan("{\"a\":1,}", 8, NULL, NULL, &off), -1);
	CU_ASSERT_EQUAL(jscan("{\"a\":1} x", 9, NULL, NULL, &off), -1);
	CU_ASSERT_EQUAL(off, 8);
	CU_ASSERT_EQUAL(jscan("[1,2", 4, NULL, NULL, NULL), -1);
	CU_ASSERT_EQUAL(jscan("{\"a\"}", 5, NULL, NULL, NULL), -1);
	CU_ASSERT_EQUAL(jscan("[01]", 4, NULL, NULL, NULL), -1);
	CU_ASSERT_EQUAL(jscan("\"\xff\"", 3, NULL, NULL, NULL), -1);
	CU_ASSERT_EQUAL(jscan("\"a\x01\"", 4, NULL, NULL, NULL), -1);
	CU_ASSERT_EQUAL(jscan("[1}", 3, NULL, NULL, NULL), -1);
	CU_ASSERT_EQUAL(jscan("{\"a\":1]", 7, NULL, NULL, NULL), -1);
	CU_ASSERT_EQUAL(jscan("\"\\x\"", 4, NULL, NULL, NULL), -1);
	{
		char deep[200];

		memset(deep, '[', 100);
		memset(deep + 100, ']', 100);
		CU_ASSERT_EQUAL(jscan(deep, 200, NULL, NULL, NULL), -1); /* deeper than 64 */
		CU_ASSERT_EQUAL(jscan(deep + 40, 120, NULL, NULL, NULL), 0);
	}
}

static void test_json(void)
{
	struct xf x;
	char h[128];

	CU_ASSERT_EQUAL(xf_open(&x, &parser_json_plugin, "time_key: ts\n"), 0);
	CU_ASSERT_EQUAL(xf_run(&x, "{\"ts\":\"2024-01-02T03:04:05.250Z\",\"msg\":\"hi\"}"),
			FILTER_KEEP);
	CU_ASSERT_EQUAL(x.ev.ts, 1704164645250LL);
	CU_ASSERT(xf_value_is(&x, "{\"ts\":\"2024-01-02T03:04:05.250Z\",\"msg\":\"hi\"}"));
	CU_ASSERT_EQUAL(x.ev.nheaders, 0);
	/* not JSON: kept raw, parse_error, counted */
	CU_ASSERT_EQUAL(xf_run(&x, "plain text"), FILTER_KEEP);
	CU_ASSERT(xf_value_is(&x, "plain text"));
	CU_ASSERT(xf_header(&x, "parse_error", h, sizeof(h)));
	CU_ASSERT(strstr(h, "json") != NULL);
	CU_ASSERT_EQUAL(x.ev.ts, 42);
	/* valid JSON, bad time: kept, timestamp untouched, parse_error says why */
	CU_ASSERT_EQUAL(xf_run(&x, "{\"ts\":\"yesterday\"}"), FILTER_KEEP);
	CU_ASSERT_EQUAL(x.ev.ts, 42);
	CU_ASSERT(xf_header(&x, "parse_error", h, sizeof(h)));
	/* no time key: read time stays, no error header */
	CU_ASSERT_EQUAL(xf_run(&x, "{\"msg\":1}"), FILTER_KEEP);
	CU_ASSERT_EQUAL(x.ev.nheaders, 0);
	CU_ASSERT_EQUAL(xf_metric(&x, "sluice_agent_parser_records_total"), 3);
	CU_ASSERT_EQUAL(xf_metric(&x, "sluice_agent_parser_errors_total"), 1);
	CU_ASSERT_EQUAL(xf_metric(&x, "sluice_agent_parser_time_errors_total"), 2);
	xf_close(&x);

	CU_ASSERT_EQUAL(xf_open(&x, &parser_json_plugin, "time_key: t\ntime_format: unix\n"), 0);
	xf_run(&x, "{\"t\":1700000000.5}");
	CU_ASSERT_EQUAL(x.ev.ts, 1700000000500LL);
	xf_close(&x);
	CU_ASSERT_EQUAL(xf_open(&x, &parser_json_plugin,
				"time_key: t\ntime_format: '%d/%b/%Y:%H:%M:%S %z'\n"),
			0);
	xf_run(&x, "{\"t\":\"10/Oct/2000:13:55:36 -0700\"}");
	CU_ASSERT_EQUAL(x.ev.ts, 971211336000LL);
	xf_close(&x);
	/* a bad time_format is a config error */
	CU_ASSERT(xf_open(&x, &parser_json_plugin, "time_format: nonsense\n") < 0);
	xf_close(&x);
}

static void test_logfmt(void)
{
	struct xf x;
	char h[128];

	CU_ASSERT_EQUAL(xf_open(&x, &parser_logfmt_plugin, "time_key: at\ntime_format: unix_ms\n"),
			0);
	xf_run(&x, "level=info msg=\"hello \\\"world\\\"\" at=1700000000001 debug");
	CU_ASSERT(xf_value_is(&x, "{\"level\":\"info\",\"msg\":\"hello \\\"world\\\"\","
				  "\"at\":\"1700000000001\",\"debug\":true}"));
	CU_ASSERT_EQUAL(x.ev.ts, 1700000000001LL);
	CU_ASSERT_EQUAL(jscan(x.ev.value, x.ev.value_len, NULL, NULL, NULL), 0);
	xf_run(&x, "path=\"C:\\dir\" tab=a\tb=2");
	CU_ASSERT_EQUAL(jscan(x.ev.value, x.ev.value_len, NULL, NULL, NULL), 0);
	/* failures */
	CU_ASSERT_EQUAL(xf_run(&x, "msg=\"unterminated"), FILTER_KEEP);
	CU_ASSERT(xf_value_is(&x, "msg=\"unterminated"));
	CU_ASSERT(xf_header(&x, "parse_error", h, sizeof(h)));
	CU_ASSERT(strstr(h, "unterminated") != NULL);
	xf_run(&x, "   ");
	CU_ASSERT(xf_header(&x, "parse_error", h, sizeof(h)));
	xf_run(&x, "=oops");
	CU_ASSERT(xf_header(&x, "parse_error", h, sizeof(h)));
	CU_ASSERT_EQUAL(xf_metric(&x, "sluice_agent_parser_errors_total"), 3);
	xf_close(&x);
}

static void test_regex(void)
{
	struct xf x;
	char h[128];

	CU_ASSERT_EQUAL(
		xf_open(&x, &parser_regex_plugin,
			"pattern: '^(?<ip>\\S+) (?<user>\\S+) \\[(?<time>[^\\]]+)\\] \"(?<req>[^\"]*)\"(?: (?<extra>\\S+))?'\n"
			"time_key: time\ntime_format: '%d/%b/%Y:%H:%M:%S %z'\n"),
		0);
	xf_run(&x, "10.0.0.1 bob [10/Oct/2000:13:55:36 -0700] \"GET /a\\b HTTP/1.0\"");
	CU_ASSERT(
		xf_value_is(&x,
			    "{\"extra\":\"\",\"ip\":\"10.0.0.1\",\"req\":\"GET /a\\\\b HTTP/1.0\","
			    "\"time\":\"10/Oct/2000:13:55:36 -0700\",\"user\":\"bob\"}") ||
		memmem(x.ev.value, x.ev.value_len, "\"ip\":\"10.0.0.1\"", 15) != NULL);
	CU_ASSERT(memmem(x.ev.value, x.ev.value_len, "extra", 5) ==
		  NULL); /* unset group left out */
	CU_ASSERT_EQUAL(x.ev.ts, 971211336000LL);
	CU_ASSERT_EQUAL(jscan(x.ev.value, x.ev.value_len, NULL, NULL, NULL), 0);
	CU_ASSERT_EQUAL(xf_run(&x, "garbage"), FILTER_KEEP);
	CU_ASSERT(xf_value_is(&x, "garbage"));
	CU_ASSERT(xf_header(&x, "parse_error", h, sizeof(h)));
	CU_ASSERT_STRING_EQUAL(h, "regex: no match");
	CU_ASSERT_EQUAL(xf_metric(&x, "sluice_agent_parser_records_total"), 1);
	CU_ASSERT_EQUAL(xf_metric(&x, "sluice_agent_parser_errors_total"), 1);
	xf_close(&x);
	/* no named group, bad regex: config errors */
	CU_ASSERT(xf_open(&x, &parser_regex_plugin, "pattern: '(a)'\n") < 0);
	xf_close(&x);
	CU_ASSERT(xf_open(&x, &parser_regex_plugin, "pattern: '(?<a>'\n") < 0);
	xf_close(&x);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_jscan),
		UNIT_TEST(test_json),
		UNIT_TEST(test_logfmt),
		UNIT_TEST(test_regex),
		UNIT_END,
	};

	return unit_run("parsers", tests);
}
