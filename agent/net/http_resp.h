/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Incremental parser of one HTTP/1.1 response (RFC 9112), for the agent's
 * own HTTP client (agent/net/http_client.h).  Bytes are fed as they arrive, in
 * pieces of any size; the parser keeps only the current head line (bounded)
 * and the body (bounded by max_body), so a hostile peer cannot make it
 * allocate more than those bounds.
 *
 * Understood: the status line (HTTP/1.0 and 1.1), interim 1xx answers
 * (skipped), Content-Length, Transfer-Encoding: chunked (with extensions and
 * trailers), a body delimited by the connection's close, Connection:
 * close/keep-alive, and Retry-After as seconds or an HTTP date.  Bodies of
 * 204 and 304 answers and of answers to HEAD are empty.
 *
 * Not thread-safe; one parser per response.
 */
#ifndef SLUICE_AGENT_HTTP_RESP_H
#define SLUICE_AGENT_HTTP_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

/* Longest head line and whole head (status line and headers) accepted. */
#define HTTP_RESP_LINE_MAX 8192
#define HTTP_RESP_HEAD_MAX 65536

struct http_resp {
	int status;             /* final status once the head is parsed, else 0 */
	bool keep_alive;        /* the connection may carry another request */
	int64_t retry_after_ms; /* -1 when absent or unparsable */
	struct buf body;        /* the decoded body (chunks joined) */

	/* parser state */
	int state;
	bool no_body; /* answer to HEAD */
	bool chunked;
	bool until_close;
	bool http10;
	bool seen;              /* a byte arrived */
	int64_t content_length; /* -1 unknown */
	uint64_t left;          /* body or chunk bytes still to come */
	size_t head_bytes;
	size_t line_len;
	char line[HTTP_RESP_LINE_MAX];
	char why[96];
};

/* max_body bounds the body kept (a longer one is an error); head_request:
 * the request was HEAD, so the answer has no body whatever it says. */
void http_resp_init(struct http_resp *r, size_t max_body, bool head_request);
void http_resp_release(struct http_resp *r);

/* Feed n bytes.  Returns how many were consumed (fewer than n only once the
 * response is complete: the rest belongs to whatever follows), or
 * -ERR_CORRUPT (malformed, see http_resp_why()) or -ERR_TOO_LARGE (a bound
 * was passed).  After an error the parser stays failed. */
long http_resp_feed(struct http_resp *r, const uint8_t *p, size_t n);
/* The peer closed the connection.  0 when that completes the response (a
 * body delimited by close), -ERR_TRUNCATED when the response was cut short
 * (or never began). */
int http_resp_eof(struct http_resp *r);
bool http_resp_done(const struct http_resp *r);
/* Whether any byte of a response has been seen (a kept-alive connection
 * that fails before its first byte may be retried on a fresh one). */
bool http_resp_started(const struct http_resp *r);
/* What went wrong, after a failed feed. */
const char *http_resp_why(const struct http_resp *r);

/* Parse a Retry-After value (delay-seconds or IMF-fixdate) relative to
 * now_unix (seconds).  Milliseconds >= 0, or -1 when unparsable. */
int64_t http_retry_after_parse(const char *v, size_t len, int64_t now_unix);

#endif
