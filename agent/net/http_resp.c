/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP/1.1 response parser (see http_resp.h).  Head lines are gathered in a
 * fixed buffer and handled one at a time; body bytes go straight to the
 * bounded body buffer.  Lines end at LF with an optional CR before it, which
 * is what RFC 9112 §2.2 lets a recipient accept.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "agent/net/http_resp.h"
#include "lib/err.h"

enum {
	S_STATUS,
	S_HEADER,
	S_BODY_LEN,
	S_BODY_CLOSE,
	S_CHUNK_SIZE,
	S_CHUNK_DATA,
	S_CHUNK_END,
	S_TRAILER,
	S_DONE,
	S_FAILED,
};

void http_resp_init(struct http_resp *r, size_t max_body, bool head_request)
{
	/* Not the line buffer: 8 KiB of zeros per request for nothing. */
	memset(r, 0, offsetof(struct http_resp, line));
	r->why[0] = '\0';
	r->retry_after_ms = -1;
	r->content_length = -1;
	r->no_body = head_request;
	buf_init(&r->body, max_body);
	r->state = S_STATUS;
}

void http_resp_release(struct http_resp *r)
{
	buf_release(&r->body);
}

bool http_resp_done(const struct http_resp *r)
{
	return r->state == S_DONE;
}

bool http_resp_started(const struct http_resp *r)
{
	return r->seen;
}

const char *http_resp_why(const struct http_resp *r)
{
	return r->why[0] ? r->why : "malformed HTTP response";
}

static int fail(struct http_resp *r, int rc, const char *why)
{
	r->state = S_FAILED;
	snprintf(r->why, sizeof(r->why), "%s", why);
	return rc;
}

/* ------------------------------------------------------------ Retry-After */

static const char *const months[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
				       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static bool digits(const char *p, size_t n, int *v)
{
	int x = 0;

	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		x = x * 10 + (p[i] - '0');
	}
	*v = x;
	return true;
}

int64_t http_retry_after_parse(const char *v, size_t len, int64_t now_unix)
{
	struct tm tm;
	int day, year, hh, mm, ss, mon = -1;
	int64_t secs = 0;
	time_t t;

	while (len && (*v == ' ' || *v == '\t')) {
		v++;
		len--;
	}
	while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	if (len == 0)
		return -1;
	if (v[0] >= '0' && v[0] <= '9') {
		for (size_t i = 0; i < len; i++) {
			if (v[i] < '0' || v[i] > '9')
				return -1;
			if (secs > 86400LL * 365)
				return -1; /* a year is not a retry delay */
			secs = secs * 10 + (v[i] - '0');
		}
		return secs * 1000;
	}
	/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" (29 bytes). */
	if (len != 29 || v[3] != ',' || v[4] != ' ' || v[7] != ' ' || v[11] != ' ' ||
	    v[16] != ' ' || v[19] != ':' || v[22] != ':' || v[25] != ' ' ||
	    memcmp(v + 26, "GMT", 3) != 0)
		return -1;
	for (int i = 0; i < 12; i++)
		if (memcmp(v + 8, months[i], 3) == 0)
			mon = i;
	if (mon < 0 || !digits(v + 5, 2, &day) || !digits(v + 12, 4, &year) ||
	    !digits(v + 17, 2, &hh) || !digits(v + 20, 2, &mm) || !digits(v + 23, 2, &ss) ||
	    day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 || year < 1970)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = mon;
	tm.tm_mday = day;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	tm.tm_sec = ss;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	return (int64_t)t > now_unix ? ((int64_t)t - now_unix) * 1000 : 0;
}

/* ------------------------------------------------------------ head */

static bool token_in(const char *v, size_t n, const char *tok)
{
	size_t tl = strlen(tok);

	while (n) {
		size_t i = 0, e;

		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		v += i;
		n -= i;
		e = 0;
		while (e < n && v[e] != ',')
			e++;
		i = e;
		while (i && (v[i - 1] == ' ' || v[i - 1] == '\t'))
			i--;
		if (i == tl && strncasecmp(v, tok, tl) == 0)
			return true;
		v += e;
		n -= e;
	}
	return false;
}

/* The last transfer coding of a Transfer-Encoding value is chunked. */
static bool last_is_chunked(const char *v, size_t n)
{
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	return n >= 7 && strncasecmp(v + n - 7, "chunked", 7) == 0 &&
	       (n == 7 || v[n - 8] == ' ' || v[n - 8] == ',' || v[n - 8] == '\t');
}

static int content_length(struct http_resp *r, const char *v, size_t n)
{
	/* A list of identical values ("5, 5") is one value (RFC 9110 §8.6). */
	while (n) {
		int64_t x = 0;
		size_t i = 0;

		while (i < n && (v[i] == ' ' || v[i] == '\t'))
			i++;
		if (i == n || v[i] < '0' || v[i] > '9')
			return fail(r, -ERR_CORRUPT, "bad Content-Length");
		while (i < n && v[i] >= '0' && v[i] <= '9') {
			if (x > INT64_MAX / 10 - 9)
				return fail(r, -ERR_TOO_LARGE, "Content-Length too large");
			x = x * 10 + (v[i++] - '0');
		}
		while (i < n && (v[i] == ' ' || v[i] == '\t'))
			i++;
		if (i < n && v[i] != ',')
			return fail(r, -ERR_CORRUPT, "bad Content-Length");
		if (r->content_length >= 0 && r->content_length != x)
			return fail(r, -ERR_CORRUPT, "conflicting Content-Length values");
		r->content_length = x;
		if (i < n)
			i++;
		v += i;
		n -= i;
	}
	return 0;
}

static int status_line(struct http_resp *r, const char *l, size_t n)
{
	int code;

	if (n < 12 || memcmp(l, "HTTP/1.", 7) != 0 || (l[7] != '0' && l[7] != '1') || l[8] != ' ' ||
	    !digits(l + 9, 3, &code) || (n > 12 && l[12] != ' '))
		return fail(r, -ERR_CORRUPT, "bad status line");
	if (code < 100 || code > 599)
		return fail(r, -ERR_CORRUPT, "bad status code");
	if (code == 101)
		return fail(r, -ERR_CORRUPT, "unexpected 101 Switching Protocols");
	r->status = code;
	r->http10 = l[7] == '0';
	r->keep_alive = !r->http10;
	r->chunked = false;
	r->content_length = -1;
	r->state = S_HEADER;
	return 0;
}

static int header_line(struct http_resp *r, const char *l, size_t n)
{
	const char *colon = memchr(l, ':', n), *v;
	size_t nl, vn;

	if (l[0] == ' ' || l[0] == '\t')
		return 0; /* obs-fold of a header we do not read: ignore it */
	if (!colon || colon == l)
		return fail(r, -ERR_CORRUPT, "bad header line");
	nl = (size_t)(colon - l);
	for (size_t i = 0; i < nl; i++)
		if (l[i] <= ' ' || l[i] >= 127)
			return fail(r, -ERR_CORRUPT, "bad header name");
	v = colon + 1;
	vn = n - nl - 1;
	while (vn && (*v == ' ' || *v == '\t')) {
		v++;
		vn--;
	}
	while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
		vn--;
#define IS(name) (nl == sizeof(name) - 1 && strncasecmp(l, name, nl) == 0)
	if (IS("content-length"))
		return content_length(r, v, vn);
	if (IS("transfer-encoding")) {
		if (last_is_chunked(v, vn))
			r->chunked = true;
		else
			r->until_close = true;
	} else if (IS("connection")) {
		if (token_in(v, vn, "close"))
			r->keep_alive = false;
		else if (token_in(v, vn, "keep-alive"))
			r->keep_alive = true;
	} else if (IS("retry-after")) {
		r->retry_after_ms = http_retry_after_parse(v, vn, (int64_t)time(NULL));
	}
#undef IS
	return 0;
}

static int head_end(struct http_resp *r)
{
	if (r->status < 200) {
		/* Interim answer (100 Continue, 103): the real one follows. */
		int64_t ra = r->retry_after_ms;

		r->state = S_STATUS;
		r->status = 0;
		r->until_close = false;
		r->retry_after_ms = ra;
		return 0;
	}
	if (r->no_body || r->status == 204 || r->status == 304) {
		r->state = S_DONE;
		return 0;
	}
	if (r->chunked) {
		if (r->content_length >= 0 || r->until_close)
			r->keep_alive = false; /* framing said twice: do not reuse */
		r->until_close = false;
		r->state = S_CHUNK_SIZE;
		return 0;
	}
	if (r->until_close || r->content_length < 0) {
		r->until_close = true;
		r->keep_alive = false;
		r->state = S_BODY_CLOSE;
		return 0;
	}
	if ((uint64_t)r->content_length > r->body.max)
		return fail(r, -ERR_TOO_LARGE, "answer body too large");
	r->left = (uint64_t)r->content_length;
	r->state = r->left ? S_BODY_LEN : S_DONE;
	return 0;
}

static int chunk_size_line(struct http_resp *r, const char *l, size_t n)
{
	uint64_t x = 0;
	size_t i = 0;

	while (i < n && isxdigit((unsigned char)l[i])) {
		int d = l[i] <= '9' ? l[i] - '0' : (l[i] | 0x20) - 'a' + 10;

		if (x > r->body.max || x > (UINT64_MAX - 15) / 16)
			return fail(r, -ERR_TOO_LARGE, "chunk too large");
		x = x * 16 + (uint64_t)d;
		i++;
	}
	if (i == 0 || (i < n && l[i] != ';' && l[i] != ' ' && l[i] != '\t'))
		return fail(r, -ERR_CORRUPT, "bad chunk size");
	if (x > r->body.max - r->body.len)
		return fail(r, -ERR_TOO_LARGE, "answer body too large");
	r->left = x;
	r->state = x ? S_CHUNK_DATA : S_TRAILER;
	return 0;
}

/* One complete line (without its LF and CR). */
static int line(struct http_resp *r, const char *l, size_t n)
{
	switch (r->state) {
	case S_STATUS:
		if (n == 0 && r->head_bytes <= 2)
			return 0; /* a stray CRLF before the status line */
		return status_line(r, l, n);
	case S_HEADER:
		return n == 0 ? head_end(r) : header_line(r, l, n);
	case S_CHUNK_SIZE:
		return chunk_size_line(r, l, n);
	case S_CHUNK_END:
		if (n != 0)
			return fail(r, -ERR_CORRUPT, "chunk not followed by CRLF");
		r->state = S_CHUNK_SIZE;
		return 0;
	case S_TRAILER:
		if (n == 0)
			r->state = S_DONE;
		return 0;
	default:
		return fail(r, -ERR_CORRUPT, "internal parser state");
	}
}

static bool line_state(int s)
{
	return s == S_STATUS || s == S_HEADER || s == S_CHUNK_SIZE || s == S_CHUNK_END ||
	       s == S_TRAILER;
}

long http_resp_feed(struct http_resp *r, const uint8_t *p, size_t n)
{
	size_t used = 0;
	int rc;

	if (r->state == S_FAILED)
		return -ERR_CORRUPT;
	if (n)
		r->seen = true;
	while (used < n && r->state != S_DONE) {
		const uint8_t *at = p + used;
		size_t avail = n - used;

		if (line_state(r->state)) {
			const uint8_t *lf = memchr(at, '\n', avail);
			size_t take = lf ? (size_t)(lf - at) + 1 : avail;
			size_t len;

			if (r->state == S_STATUS || r->state == S_HEADER || r->state == S_TRAILER) {
				r->head_bytes += take;
				if (r->head_bytes > HTTP_RESP_HEAD_MAX)
					return fail(r, -ERR_TOO_LARGE, "answer head too large");
			}
			if (r->line_len + take > sizeof(r->line))
				return fail(r, -ERR_TOO_LARGE, "answer line too long");
			memcpy(r->line + r->line_len, at, take);
			r->line_len += take;
			used += take;
			if (!lf)
				break;
			len = r->line_len - 1;
			if (len && r->line[len - 1] == '\r')
				len--;
			r->line_len = 0;
			rc = line(r, r->line, len);
			if (rc < 0)
				return rc;
			continue;
		}
		if (r->state == S_BODY_CLOSE) {
			rc = buf_append(&r->body, at, avail);
			if (rc < 0)
				return fail(r, rc, "answer body too large");
			used = n;
			break;
		}
		/* S_BODY_LEN or S_CHUNK_DATA */
		if (avail > r->left)
			avail = (size_t)r->left;
		rc = buf_append(&r->body, at, avail);
		if (rc < 0)
			return fail(r, rc, "answer body too large");
		used += avail;
		r->left -= avail;
		if (r->left == 0)
			r->state = r->state == S_BODY_LEN ? S_DONE : S_CHUNK_END;
	}
	return (long)used;
}

int http_resp_eof(struct http_resp *r)
{
	if (r->state == S_DONE)
		return 0;
	if (r->state == S_BODY_CLOSE) {
		r->state = S_DONE;
		return 0;
	}
	if (r->state != S_FAILED)
		fail(r, -ERR_TRUNCATED,
		     http_resp_started(r) ? "connection closed mid-answer"
					  : "connection closed before an answer");
	return -ERR_TRUNCATED;
}
