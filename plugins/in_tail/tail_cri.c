/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CRI log line format, Docker's json-file lines and the kubelet's
 * container log names (see tail_cri.h).
 */
#include <string.h>

#include "lib/clock.h"
#include "lib/err.h"
#include "plugins/in_tail/tail_cri.h"

int tail_cri_parse(const uint8_t *p, size_t n, struct tail_cri_line *out)
{
	const uint8_t *end = p + n, *sp;
	char ts[48];
	size_t tl;

	sp = memchr(p, ' ', n);
	if (!sp)
		return -ERR_CORRUPT;
	tl = (size_t)(sp - p);
	if (tl == 0 || tl >= sizeof(ts))
		return -ERR_CORRUPT;
	memcpy(ts, p, tl);
	ts[tl] = '\0';
	if (clock_parse_rfc3339(ts, &out->ts) < 0)
		return -ERR_CORRUPT;
	p = sp + 1;
	if ((size_t)(end - p) >= 7 && memcmp(p, "stdout ", 7) == 0)
		out->stream = CRI_STDOUT;
	else if ((size_t)(end - p) >= 7 && memcmp(p, "stderr ", 7) == 0)
		out->stream = CRI_STDERR;
	else
		return -ERR_CORRUPT;
	p += 7;
	/* The tag is P or F, possibly with more flags after a ':' (CRI leaves
	 * room for them); an empty log after it may have no space. */
	if (p == end || (*p != 'P' && *p != 'F'))
		return -ERR_CORRUPT;
	out->partial = *p == 'P';
	p++;
	while (p < end && *p == ':') {
		p++;
		while (p < end && *p != ' ' && *p != ':')
			p++;
	}
	if (p < end && *p++ != ' ')
		return -ERR_CORRUPT;
	out->log = p;
	out->log_len = (size_t)(end - p);
	return 0;
}

/* ---------------------------------------------------------------- json-file */

struct jscan {
	const uint8_t *p, *end;
};

static void ws(struct jscan *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n'))
		j->p++;
}

static int hex4(const uint8_t *p, uint32_t *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		uint8_t c = p[i];
		uint32_t d;

		if (c >= '0' && c <= '9')
			d = (uint32_t)(c - '0');
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (uint32_t)((c | 0x20) - 'a' + 10);
		else
			return -1;
		*v = *v << 4 | d;
	}
	return 0;
}

static int put_utf8(struct buf *b, uint32_t cp)
{
	uint8_t u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (uint8_t)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (uint8_t)(0xC0 | cp >> 6);
		u[1] = (uint8_t)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (uint8_t)(0xE0 | cp >> 12);
		u[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
		u[2] = (uint8_t)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (uint8_t)(0xF0 | cp >> 18);
		u[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
		u[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
		u[3] = (uint8_t)(0x80 | (cp & 0x3F));
		n = 4;
	}
	return buf_append(b, u, n);
}

/* A \uXXXX escape at j->p (after the backslash and 'u'), with a following
 * low surrogate when it is a high one.  A lone surrogate becomes U+FFFD, as
 * Go's encoder (which wrote the file) never emits one. */
static int uescape(struct jscan *j, struct buf *out)
{
	uint32_t cp, lo;

	if (j->end - j->p < 4 || hex4(j->p, &cp) < 0)
		return -ERR_CORRUPT;
	j->p += 4;
	if (cp >= 0xD800 && cp < 0xDC00 && j->end - j->p >= 6 && j->p[0] == '\\' &&
	    j->p[1] == 'u' && hex4(j->p + 2, &lo) == 0 && lo >= 0xDC00 && lo < 0xE000) {
		j->p += 6;
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
	} else if (cp >= 0xD800 && cp < 0xE000) {
		cp = 0xFFFD;
	}
	return put_utf8(out, cp);
}

/* A JSON string at j->p (its opening quote), decoded into out when out is
 * not NULL.  0, -ERR_CORRUPT, -ENOMEM. */
static int jstring(struct jscan *j, struct buf *out)
{
	static const char esc_in[] = "\"\\/bfnrt", esc_out[] = "\"\\/\b\f\n\r\t";

	if (j->p == j->end || *j->p != '"')
		return -ERR_CORRUPT;
	j->p++;
	while (j->p < j->end) {
		const uint8_t *q = j->p;
		const char *e;
		int rc;

		while (q < j->end && *q != '"' && *q != '\\' && *q >= 0x20)
			q++;
		if (out && q > j->p && buf_append(out, j->p, (size_t)(q - j->p)) < 0)
			return -ENOMEM;
		j->p = q;
		if (q == j->end || *q < 0x20)
			return -ERR_CORRUPT;
		j->p++;
		if (*q == '"')
			return 0;
		if (j->p == j->end)
			return -ERR_CORRUPT;
		if (*j->p == 'u') {
			uint32_t cp;

			j->p++;
			if (out) {
				rc = uescape(j, out);
				if (rc < 0)
					return rc;
			} else if (j->end - j->p < 4 || hex4(j->p, &cp) < 0) {
				return -ERR_CORRUPT;
			} else {
				j->p += 4;
			}
			continue;
		}
		e = memchr(esc_in, *j->p, sizeof(esc_in) - 1);
		if (!e)
			return -ERR_CORRUPT;
		if (out && buf_append(out, &esc_out[e - esc_in], 1) < 0)
			return -ENOMEM;
		j->p++;
	}
	return -ERR_CORRUPT;
}

/* Skip a value that is not a string ("attrs" objects, numbers): brackets
 * balanced, strings inside skipped whole, bounded by the line. */
static int jskip(struct jscan *j)
{
	int depth = 0;

	while (j->p < j->end) {
		uint8_t c = *j->p;

		if (c == '"') {
			if (jstring(j, NULL) < 0)
				return -ERR_CORRUPT;
			if (depth == 0)
				return 0;
			continue;
		}
		if (depth == 0 && (c == ',' || c == '}'))
			return 0;
		if (c == '{' || c == '[')
			depth++;
		else if (c == '}' || c == ']') {
			if (--depth < 0)
				return -ERR_CORRUPT;
		}
		j->p++;
	}
	return -ERR_CORRUPT;
}

enum { KEY_OTHER, KEY_LOG, KEY_STREAM, KEY_TIME };

/* A string without escapes at j->p, borrowed: 0 with *s, *n; 1 when it has
 * escapes (skipped whole); -ERR_CORRUPT. */
static int raw_string(struct jscan *j, const uint8_t **s, size_t *n)
{
	const uint8_t *q;

	if (j->p == j->end || *j->p != '"')
		return -ERR_CORRUPT;
	for (q = j->p + 1; q < j->end && *q != '"' && *q != '\\' && *q >= 0x20; q++)
		;
	if (q < j->end && *q == '"') {
		*s = j->p + 1;
		*n = (size_t)(q - j->p - 1);
		j->p = q + 1;
		return 0;
	}
	return jstring(j, NULL) < 0 ? -ERR_CORRUPT : 1;
}

static bool is(const uint8_t *s, size_t n, const char *lit)
{
	return n == strlen(lit) && memcmp(s, lit, n) == 0;
}

static int member_key(struct jscan *j)
{
	const uint8_t *s;
	size_t n;
	int rc = raw_string(j, &s, &n);

	if (rc != 0)
		return rc < 0 ? rc : KEY_OTHER; /* "log" is never written escaped */
	if (is(s, n, "log"))
		return KEY_LOG;
	if (is(s, n, "stream"))
		return KEY_STREAM;
	if (is(s, n, "time"))
		return KEY_TIME;
	return KEY_OTHER;
}

/* The value of "stream" or "time" into out (Docker never escapes them). */
static int short_value(struct jscan *j, int key, struct tail_cri_line *out)
{
	const uint8_t *s;
	size_t n;
	char ts[48];

	if (raw_string(j, &s, &n) != 0)
		return -ERR_CORRUPT;
	if (key == KEY_STREAM) {
		if (is(s, n, "stdout"))
			out->stream = CRI_STDOUT;
		else if (is(s, n, "stderr"))
			out->stream = CRI_STDERR;
		else
			return -ERR_CORRUPT;
		return 0;
	}
	if (n == 0 || n >= sizeof(ts))
		return -ERR_CORRUPT;
	memcpy(ts, s, n);
	ts[n] = '\0';
	return clock_parse_rfc3339(ts, &out->ts) < 0 ? -ERR_CORRUPT : 0;
}

/* One member "key": value into out and scratch; the key's KEY_ bit. */
static int member(struct jscan *j, struct buf *scratch, struct tail_cri_line *out)
{
	int key, rc;

	ws(j);
	key = member_key(j);
	ws(j);
	if (key < 0 || j->p == j->end || *j->p++ != ':')
		return -ERR_CORRUPT;
	ws(j);
	if (key == KEY_LOG) {
		/* a repeated "log" must not add to the first */
		buf_reset(scratch);
		rc = jstring(j, scratch);
	} else {
		rc = key == KEY_OTHER ? jskip(j) : short_value(j, key, out);
	}
	if (rc < 0)
		return rc;
	ws(j);
	return key == KEY_OTHER ? 0 : (int)(1u << key);
}

int tail_docker_parse(const uint8_t *p, size_t n, struct buf *scratch, struct tail_cri_line *out)
{
	struct jscan j = {p, p + n};
	unsigned seen = 0;
	int rc;

	buf_reset(scratch);
	ws(&j);
	if (j.p == j.end || *j.p++ != '{')
		return -ERR_CORRUPT;
	for (;;) {
		rc = member(&j, scratch, out);
		if (rc < 0)
			return rc;
		seen |= (unsigned)rc;
		if (j.p < j.end && *j.p == ',') {
			j.p++;
			continue;
		}
		if (j.p == j.end || *j.p++ != '}')
			return -ERR_CORRUPT;
		break;
	}
	ws(&j);
	if (j.p != j.end || seen != (1u << KEY_LOG | 1u << KEY_STREAM | 1u << KEY_TIME))
		return -ERR_CORRUPT;
	out->partial = scratch->len == 0 || scratch->data[scratch->len - 1] != '\n';
	if (!out->partial)
		scratch->len--;
	out->log = scratch->data;
	out->log_len = scratch->len;
	return 0;
}

/* ---------------------------------------------------------------- names */

static int copy_part(char *dst, size_t cap, const char *s, size_t n)
{
	if (n == 0 || n >= cap)
		return -ERR_INVALID;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

int tail_k8s_name(const char *path, struct tail_k8s *k)
{
	const char *base = strrchr(path, '/'), *u1, *u2, *dash, *dot;
	size_t n;

	base = base ? base + 1 : path;
	n = strlen(base);
	if (n < 5 || memcmp(base + n - 4, ".log", 4) != 0)
		return -ERR_INVALID;
	dot = base + n - 4;
	u1 = memchr(base, '_', (size_t)(dot - base));
	if (!u1)
		return -ERR_INVALID;
	u2 = memchr(u1 + 1, '_', (size_t)(dot - u1 - 1));
	if (!u2)
		return -ERR_INVALID;
	/* The id is the last '-' part (container names may hold '-'). */
	for (dash = dot - 1; dash > u2 && *dash != '-'; dash--)
		;
	if (dash <= u2 + 1)
		return -ERR_INVALID;
	if (copy_part(k->pod, sizeof(k->pod), base, (size_t)(u1 - base)) < 0 ||
	    copy_part(k->ns, sizeof(k->ns), u1 + 1, (size_t)(u2 - u1 - 1)) < 0 ||
	    copy_part(k->container, sizeof(k->container), u2 + 1, (size_t)(dash - u2 - 1)) < 0 ||
	    copy_part(k->id, sizeof(k->id), dash + 1, (size_t)(dot - dash - 1)) < 0)
		return -ERR_INVALID;
	return 0;
}
