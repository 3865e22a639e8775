/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CRI log line format and kubelet's container log names
 * (plugins/in_tail/tail_cri.c): what containerd and CRI-O write, and what
 * must be refused.
 */
#include <string.h>

#include "lib/err.h"
#include "plugins/in_tail/tail_cri.h"
#include "tests/unit/unit.h"

static int parse(const char *s, struct tail_cri_line *c)
{
	return tail_cri_parse((const uint8_t *)s, strlen(s), c);
}

static void test_cri_lines(void)
{
	struct tail_cri_line c;

	CU_ASSERT_EQUAL(parse("2026-12-02T03:30:00.123456789Z stdout F hello world", &c), 0);
	CU_ASSERT_EQUAL(c.ts, 1796182200123);
	CU_ASSERT_EQUAL(c.stream, CRI_STDOUT);
	CU_ASSERT_FALSE(c.partial);
	CU_ASSERT(c.log_len == 11 && memcmp(c.log, "hello world", 11) == 0);
	CU_ASSERT_EQUAL(parse("2026-12-02T04:30:00.5+01:00 stderr P  two  spaces ", &c), 0);
	CU_ASSERT_EQUAL(c.ts, 1796182200500);
	CU_ASSERT_EQUAL(c.stream, CRI_STDERR);
	CU_ASSERT_TRUE(c.partial);
	CU_ASSERT(c.log_len == 13 && memcmp(c.log, " two  spaces ", 13) == 0);
	/* an empty log, with and without the space; flags after the tag */
	CU_ASSERT(parse("2026-12-02T03:30:00Z stdout F", &c) == 0 && c.log_len == 0);
	CU_ASSERT(parse("2026-12-02T03:30:00Z stdout F ", &c) == 0 && c.log_len == 0);
	CU_ASSERT(parse("2026-12-02T03:30:00Z stdout P:x:y log", &c) == 0 && c.partial &&
		  c.log_len == 3);
	/* not CRI */
	CU_ASSERT_EQUAL(parse("plain log line", &c), -ERR_CORRUPT);
	CU_ASSERT_EQUAL(parse("2026-12-02T03:30:00Z stdin F x", &c), -ERR_CORRUPT);
	CU_ASSERT_EQUAL(parse("2026-12-02T03:30:00Z stdout X x", &c), -ERR_CORRUPT);
	CU_ASSERT_EQUAL(parse("2026-12-02T03:30:00Z stdout Fx", &c), -ERR_CORRUPT);
	CU_ASSERT_EQUAL(parse("2026-13-02T03:30:00Z stdout F x", &c), -ERR_CORRUPT);
	CU_ASSERT_EQUAL(parse("2026-12-02T03:30:00Z stdout", &c), -ERR_CORRUPT);
	CU_ASSERT_EQUAL(parse("", &c), -ERR_CORRUPT);
	CU_ASSERT_EQUAL(parse(" stdout F x", &c), -ERR_CORRUPT);
}

static int dparse(const char *line, struct buf *b, struct tail_cri_line *c)
{
	return tail_docker_parse((const uint8_t *)line, strlen(line), b, c);
}

#define LOG_IS(c, lit)                                                 \
	do {                                                           \
		CU_ASSERT_EQUAL((c).log_len, sizeof(lit) - 1);         \
		CU_ASSERT(memcmp((c).log, lit, sizeof(lit) - 1) == 0); \
	} while (0)

static void test_docker_lines(void)
{
	struct tail_cri_line c;
	struct buf b;

	buf_init(&b, 1 << 16);
	/* a whole line: its newline is not part of the record */
	CU_ASSERT_EQUAL(dparse("{\"log\":\"GET / 200\\n\",\"stream\":\"stdout\","
			       "\"time\":\"2026-12-02T03:30:00.123456789Z\"}",
			       &b, &c),
			0);
	LOG_IS(c, "GET / 200");
	CU_ASSERT(!c.partial);
	CU_ASSERT_EQUAL(c.stream, CRI_STDOUT);
	CU_ASSERT_EQUAL(c.ts, 1796182200123LL);
	/* a 16 KiB piece has no newline: partial; members in any order; escapes */
	CU_ASSERT_EQUAL(
		dparse(" { \"stream\" : \"stderr\", \"time\":\"2026-12-02T03:30:00Z\", "
		       "\"log\":\"tab\\there \\\"q\\\" \\\\ \\/ \\u00fc \\ud83d\\ude00\" } ",
		       &b, &c),
		0);
	LOG_IS(c, "tab\there \"q\" \\ / \xc3\xbc \xf0\x9f\x98\x80");
	CU_ASSERT(c.partial);
	CU_ASSERT_EQUAL(c.stream, CRI_STDERR);
	/* attrs (docker --log-opt labels) and other members are skipped */
	CU_ASSERT_EQUAL(
		dparse("{\"log\":\"x\\n\",\"attrs\":{\"a\":\"}\\\"\",\"b\":[1,{}]},\"n\":1.5,"
		       "\"stream\":\"stdout\",\"time\":\"2026-12-02T03:30:00Z\"}",
		       &b, &c),
		0);
	LOG_IS(c, "x");
	/* an empty log without newline: an empty piece */
	CU_ASSERT_EQUAL(
		dparse("{\"log\":\"\",\"stream\":\"stdout\",\"time\":\"2026-12-02T03:30:00Z\"}", &b,
		       &c),
		0);
	CU_ASSERT(c.partial);
	CU_ASSERT_EQUAL(c.log_len, 0);
	/* a lone surrogate becomes U+FFFD */
	CU_ASSERT_EQUAL(dparse("{\"log\":\"\\ud800!\\n\",\"stream\":\"stdout\","
			       "\"time\":\"2026-12-02T03:30:00Z\"}",
			       &b, &c),
			0);
	LOG_IS(c, "\xef\xbf\xbd!");
	/* not json-file lines */
	CU_ASSERT_EQUAL(dparse("plain", &b, &c), -ERR_CORRUPT);
	CU_ASSERT_EQUAL(dparse("{\"log\":\"x\",\"stream\":\"stdout\"}", &b, &c), -ERR_CORRUPT);
	CU_ASSERT_EQUAL(
		dparse("{\"log\":\"x\",\"stream\":\"stdin\",\"time\":\"2026-12-02T03:30:00Z\"}", &b,
		       &c),
		-ERR_CORRUPT);
	CU_ASSERT_EQUAL(
		dparse("{\"log\":\"x\",\"stream\":\"stdout\",\"time\":\"yesterday\"}", &b, &c),
		-ERR_CORRUPT);
	CU_ASSERT_EQUAL(
		dparse("{\"log\":\"x\",\"stream\":\"stdout\",\"time\":\"2026-12-02T03:30:00Z\"}x",
		       &b, &c),
		-ERR_CORRUPT);
	CU_ASSERT_EQUAL(
		dparse("{\"log\":\"x\\q\",\"stream\":\"stdout\",\"time\":\"2026-12-02T03:30:00Z\"}",
		       &b, &c),
		-ERR_CORRUPT);
	CU_ASSERT_EQUAL(
		dparse("{\"log\":\"x\\u12\",\"stream\":\"stdout\",\"time\":\"2026-12-02T03:30:00Z\"}",
		       &b, &c),
		-ERR_CORRUPT);
	CU_ASSERT_EQUAL(
		dparse("{\"log\":\"a\tb\",\"stream\":\"stdout\",\"time\":\"2026-12-02T03:30:00Z\"}",
		       &b, &c),
		-ERR_CORRUPT); /* raw control character */
	CU_ASSERT_EQUAL(
		dparse("{\"log\":\"x\",\"stream\":\"stdout\",\"time\":\"2026-12-02T03:30:00Z\"", &b,
		       &c),
		-ERR_CORRUPT);
	CU_ASSERT_EQUAL(dparse("{\"attrs\":{\"a\":[}]}", &b, &c), -ERR_CORRUPT);
	CU_ASSERT_EQUAL(dparse("{}", &b, &c), -ERR_CORRUPT);
	CU_ASSERT_EQUAL(dparse("", &b, &c), -ERR_CORRUPT);
	buf_release(&b);
}

static void test_k8s_names(void)
{
	struct tail_k8s k;

	CU_ASSERT_EQUAL(tail_k8s_name("/var/log/containers/web-7d4b9c-x2x_prod_nginx-proxy-"
				      "0123456789abcdef.log",
				      &k),
			0);
	CU_ASSERT_STRING_EQUAL(k.pod, "web-7d4b9c-x2x");
	CU_ASSERT_STRING_EQUAL(k.ns, "prod");
	CU_ASSERT_STRING_EQUAL(k.container, "nginx-proxy");
	CU_ASSERT_STRING_EQUAL(k.id, "0123456789abcdef");
	CU_ASSERT_EQUAL(tail_k8s_name("/var/log/app.log", &k), -ERR_INVALID);
	CU_ASSERT_EQUAL(tail_k8s_name("/x/a_b_c.log", &k), -ERR_INVALID);   /* no id */
	CU_ASSERT_EQUAL(tail_k8s_name("/x/a_b_-id.log", &k), -ERR_INVALID); /* no container */
	CU_ASSERT_EQUAL(tail_k8s_name("/x/_b_c-id.log", &k), -ERR_INVALID); /* no pod */
	CU_ASSERT_EQUAL(tail_k8s_name("/x/a_b_c-id.txt", &k), -ERR_INVALID);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_cri_lines),
		UNIT_TEST(test_docker_lines),
		UNIT_TEST(test_k8s_names),
		UNIT_END,
	};

	return unit_run("tail_cri", tests);
}
