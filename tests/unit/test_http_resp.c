/* SPDX-License-Identifier: Apache-2.0 */
/* HTTP response parser: framing by Content-Length, chunks and close, interim
 * answers, keep-alive rules, Retry-After, bounds, and every answer fed whole
 * and one byte at a time. */
#include <string.h>

#include "agent/net/http_resp.h"
#include "lib/err.h"
#include "tests/unit/unit.h"

struct want {
	const char *in;
	bool head; /* answer to HEAD */
	int status;
	bool keep_alive;
	const char *body;
	size_t rest;    /* bytes left unconsumed after the answer */
	bool needs_eof; /* complete only at close */
};

static const struct want cases[] = {
	{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false, 200, true, "hello", 0, false},
	{"HTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n", false, 201, true, "", 0, false},
	{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1", false, 200, true, "ok", 8,
	 false},
	{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n"
	 "0\r\nX-Trailer: 1\r\n\r\n",
	 false, 200, true, "hello world", 0, false},
	{"HTTP/1.1 200 OK\nTransfer-Encoding: gzip, chunked\n\nA\n0123456789\n0\n\n", false, 200,
	 true, "0123456789", 0, false},
	{"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx", false, 200,
	 true, "x", 0, false},
	{"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", false,
	 204, true, "", 0, false},
	{"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nab", false, 200, false, "ab", 0, false},
	{"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nab", false, 200,
	 true, "ab", 0, false},
	{"HTTP/1.1 503 Busy\r\nConnection: x, close\r\nContent-Length: 3\r\n\r\nbad", false, 503,
	 false, "bad", 0, false},
	{"HTTP/1.1 200 OK\r\n\r\nuntil the end", false, 200, false, "until the end", 0, true},
	{"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nraw", false, 200, false, "raw", 0,
	 true},
	{"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", true, 200, true, "", 0, false},
	{"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", false, 304, true, "", 0, false},
	{"HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\nabc", false, 200, true, "abc", 0, false},
	{"HTTP/1.1 200 OK\r\nX-Long:\r\n  folded\r\nContent-Length: 1\r\n\r\nz", false, 200, true,
	 "z", 0, false},
	{"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nq\r\n0\r\n\r\n",
	 false, 200, false, "q", 0, false},
	{"HTTP/1.1 200\r\nContent-Length: 1\r\n\r\n!", false, 200, true, "!", 0, false},
};

static void run_case(const struct want *w, size_t step)
{
	struct http_resp r;
	size_t n = strlen(w->in), off = 0;
	long used = 0;

	http_resp_init(&r, 1 << 20, w->head);
	while (off < n && !http_resp_done(&r)) {
		size_t k = step && n - off > step ? step : n - off;

		used = http_resp_feed(&r, (const uint8_t *)w->in + off, k);
		CU_ASSERT_FATAL(used >= 0);
		off += (size_t)used;
		if ((size_t)used < k)
			break;
	}
	if (w->needs_eof) {
		CU_ASSERT_FALSE(http_resp_done(&r));
		CU_ASSERT_EQUAL(http_resp_eof(&r), 0);
	}
	CU_ASSERT_TRUE(http_resp_done(&r));
	CU_ASSERT_EQUAL(r.status, w->status);
	CU_ASSERT_EQUAL(r.keep_alive, w->keep_alive);
	CU_ASSERT_EQUAL(r.body.len, strlen(w->body));
	CU_ASSERT(r.body.len == 0 || memcmp(r.body.data, w->body, r.body.len) == 0);
	CU_ASSERT_EQUAL(n - off, w->rest);
	http_resp_release(&r);
}

static void test_answers_whole_and_bytewise(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run_case(&cases[i], 0);
		run_case(&cases[i], 1);
		run_case(&cases[i], 7);
	}
}

static int feed_all(const char *in, size_t max_body, bool *done)
{
	struct http_resp r;
	long rc;

	http_resp_init(&r, max_body, false);
	rc = http_resp_feed(&r, (const uint8_t *)in, strlen(in));
	*done = http_resp_done(&r);
	http_resp_release(&r);
	return rc < 0 ? (int)rc : 0;
}

static void test_malformed_and_bounds(void)
{
	static const char *const bad[] = {
		"HTTP/2 200 OK\r\n\r\n",
		"HTTP/1.1 20 OK\r\n\r\n",
		"HTTP/1.1 999 What\r\n\r\n",
		"HTTP/1.1 200OK\r\n\r\n",
		"ICY 200 OK\r\n\r\n",
		"HTTP/1.1 101 Switching Protocols\r\n\r\n",
		"HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n",
		"HTTP/1.1 200 OK\r\n: empty name\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n",
	};
	bool done;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(feed_all(bad[i], 1 << 20, &done), -ERR_CORRUPT);
	/* Bodies past the bound, by length or by chunks, and huge lengths. */
	CU_ASSERT_EQUAL(feed_all("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", 10, &done),
			-ERR_TOO_LARGE);
	CU_ASSERT_EQUAL(feed_all("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
				 10, &done),
			-ERR_TOO_LARGE);
	CU_ASSERT_EQUAL(feed_all("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				 "8\r\n12345678\r\n8\r\n",
				 10, &done),
			-ERR_TOO_LARGE);
	CU_ASSERT_EQUAL(feed_all("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				 "fffffffffffffffffffff\r\n",
				 10, &done),
			-ERR_TOO_LARGE);
	CU_ASSERT_EQUAL(feed_all("HTTP/1.1 200 OK\r\n\r\n0123456789AB", 10, &done), -ERR_TOO_LARGE);
	/* Head bounds: one long line, and many lines. */
	{
		static char big[HTTP_RESP_HEAD_MAX + 4096];
		size_t n = 0;

		n += (size_t)snprintf(big, sizeof(big), "HTTP/1.1 200 OK\r\nX: ");
		memset(big + n, 'a', HTTP_RESP_LINE_MAX);
		big[n + HTTP_RESP_LINE_MAX] = '\0';
		CU_ASSERT_EQUAL(feed_all(big, 100, &done), -ERR_TOO_LARGE);
		n = (size_t)snprintf(big, sizeof(big), "HTTP/1.1 200 OK\r\n");
		while (n + 20 < sizeof(big))
			n += (size_t)snprintf(big + n, sizeof(big) - n, "X-Many: 0123456789\r\n");
		CU_ASSERT_EQUAL(feed_all(big, 100, &done), -ERR_TOO_LARGE);
	}
	/* A failed parser stays failed. */
	{
		struct http_resp r;

		http_resp_init(&r, 100, false);
		CU_ASSERT(http_resp_feed(&r, (const uint8_t *)"XTTP/1.1 200\r\n", 14) < 0);
		CU_ASSERT(http_resp_feed(&r, (const uint8_t *)"HTTP/1.1 200 OK\r\n", 17) < 0);
		CU_ASSERT_STRING_EQUAL(http_resp_why(&r), "bad status line");
		http_resp_release(&r);
	}
}

static void test_eof(void)
{
	struct http_resp r;
	const char *part = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel";

	http_resp_init(&r, 100, false);
	CU_ASSERT_FALSE(http_resp_started(&r));
	CU_ASSERT_EQUAL(http_resp_eof(&r), -ERR_TRUNCATED);
	CU_ASSERT_STRING_EQUAL(http_resp_why(&r), "connection closed before an answer");
	http_resp_release(&r);

	http_resp_init(&r, 100, false);
	CU_ASSERT_EQUAL(http_resp_feed(&r, (const uint8_t *)"H", 1), 1);
	CU_ASSERT_TRUE(http_resp_started(&r));
	http_resp_release(&r);

	http_resp_init(&r, 100, false);
	CU_ASSERT_EQUAL(http_resp_feed(&r, (const uint8_t *)part, strlen(part)),
			(long)strlen(part));
	CU_ASSERT_FALSE(http_resp_done(&r));
	CU_ASSERT_EQUAL(http_resp_eof(&r), -ERR_TRUNCATED);
	CU_ASSERT_STRING_EQUAL(http_resp_why(&r), "connection closed mid-answer");
	http_resp_release(&r);
}

static void test_retry_after(void)
{
	struct http_resp r;
	const char *a = "HTTP/1.1 503 Busy\r\nRetry-After: 7\r\nContent-Length: 0\r\n\r\n";
	/* 1994-11-06 08:49:37 UTC is 784111777. */
	const char *date = "Sun, 06 Nov 1994 08:49:37 GMT";

	http_resp_init(&r, 100, false);
	CU_ASSERT_EQUAL(http_resp_feed(&r, (const uint8_t *)a, strlen(a)), (long)strlen(a));
	CU_ASSERT_EQUAL(r.retry_after_ms, 7000);
	http_resp_release(&r);

	CU_ASSERT_EQUAL(http_retry_after_parse("120", 3, 0), 120000);
	CU_ASSERT_EQUAL(http_retry_after_parse(" 0 ", 3, 0), 0);
	CU_ASSERT_EQUAL(http_retry_after_parse(date, strlen(date), 784111770), 7000);
	CU_ASSERT_EQUAL(http_retry_after_parse(date, strlen(date), 784111999), 0);
	CU_ASSERT_EQUAL(http_retry_after_parse("Sun, 06 Xyz 1994 08:49:37 GMT", 29, 0), -1);
	CU_ASSERT_EQUAL(http_retry_after_parse("Sun, 06 Nov 1994 28:49:37 GMT", 29, 0), -1);
	CU_ASSERT_EQUAL(http_retry_after_parse("12s", 3, 0), -1);
	CU_ASSERT_EQUAL(http_retry_after_parse("99999999999999999999", 20, 0), -1);
	CU_ASSERT_EQUAL(http_retry_after_parse("", 0, 0), -1);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_answers_whole_and_bytewise),
		UNIT_TEST(test_malformed_and_bounds),
		UNIT_TEST(test_eof),
		UNIT_TEST(test_retry_after),
		UNIT_END,
	};
	return unit_run("http_resp", tests);
}
