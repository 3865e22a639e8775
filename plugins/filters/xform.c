/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared helpers of the parsers and filters (see xform.h).  The JSON scanner
 * is iterative over an explicit bounded stack, reads only inside [p, p+n)
 * and allocates nothing, so it is safe on hostile lines and cheap on the hot
 * path of `parser: json`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/clock.h"
#include "lib/json.h"
#include "plugins/filters/xform.h"

/* ------------------------------------------------------------ jscan */

struct jsc {
	const char *p, *s, *end;
};

/* JSON whitespace: space, tab, newline, carriage return. */
static const uint8_t wsp[256] = {[' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1};

static inline __attribute__((always_inline)) void ws(struct jsc *j)
{
	while (j->p < j->end && wsp[(unsigned char)*j->p])
		j->p++;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Bytes a string may hold as they are: printable ASCII but '"' and '\\'. */
static const uint8_t plain[256] = {
	[0x20 ... 0x21] = 1, /* '"' is 0x22 */
	[0x23 ... 0x5b] = 1, /* '\\' is 0x5c */
	[0x5d ... 0x7f] = 1,
};

/* A string at j->p (the opening quote).  UTF-8 is checked per run of
 * non-ASCII bytes. */
static inline __attribute__((always_inline)) int str(struct jsc *j)
{
	j->p++;
	for (;;) {
		const char *q = j->p;
		unsigned char c;

		/* Fast path: plain ASCII, one table look-up per byte, unrolled. */
		while (j->end - q >= 4 && plain[(unsigned char)q[0]] &&
		       plain[(unsigned char)q[1]] && plain[(unsigned char)q[2]] &&
		       plain[(unsigned char)q[3]])
			q += 4;
		while (q < j->end && plain[(unsigned char)*q])
			q++;
		j->p = q;
		if (j->p >= j->end)
			return -1;
		c = (unsigned char)*j->p;
		if (c == '"') {
			j->p++;
			return 0;
		}
		if (c < 0x20)
			return -1;
		if (c == '\\') {
			if (j->p + 1 >= j->end)
				return -1;
			switch (j->p[1]) {
			case '"':
			case '\\':
			case '/':
			case 'b':
			case 'f':
			case 'n':
			case 'r':
			case 't':
				j->p += 2;
				break;
			case 'u':
				if (j->end - j->p < 6 || hexval(j->p[2]) < 0 ||
				    hexval(j->p[3]) < 0 || hexval(j->p[4]) < 0 ||
				    hexval(j->p[5]) < 0)
					return -1;
				j->p += 6;
				break;
			default:
				return -1;
			}
			continue;
		}
		/* non-ASCII: validate this run */
		q = j->p;
		while (q < j->end && (unsigned char)*q >= 0x80)
			q++;
		if (!utf8_valid(j->p, (size_t)(q - j->p)))
			return -1;
		j->p = q;
	}
}

static int num(struct jsc *j)
{
	const char *b;

	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p >= j->end)
		return -1;
	if (*j->p == '0') {
		j->p++;
	} else if (*j->p >= '1' && *j->p <= '9') {
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	} else {
		return -1;
	}
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		b = j->p;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
		if (j->p == b)
			return -1;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		b = j->p;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
		if (j->p == b)
			return -1;
	}
	return 0;
}

static int lit(struct jsc *j, const char *w, size_t n)
{
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
		return -1;
	j->p += n;
	return 0;
}

/* One scalar at j->p; containers are handled by the caller's stack. */
static int scalar(struct jsc *j)
{
	switch (*j->p) {
	case '"':
		return str(j);
	case 't':
		return lit(j, "true", 4);
	case 'f':
		return lit(j, "false", 5);
	case 'n':
		return lit(j, "null", 4);
	default:
		return num(j);
	}
}

int jscan(const char *p, size_t n, const char *key, struct jspan *at, size_t *err_off)
{
	struct jsc j = {p, p, p + n};
	char stack[JSCAN_MAX_DEPTH]; /* '{' or '[' */
	int depth = 0, rc = -1;
	size_t klen = key ? strlen(key) : 0;
	bool want = false; /* the next value is key's */

	if (at)
		memset(at, 0, sizeof(*at));
	ws(&j);
	if (j.p >= j.end)
		goto out;
	for (;;) {
		const char *vstart;

		/* a value */
		ws(&j);
		if (j.p >= j.end)
			goto out;
		vstart = j.p;
		if (*j.p == '{' || *j.p == '[') {
			if (depth == JSCAN_MAX_DEPTH)
				goto out;
			stack[depth++] = *j.p;
			j.p++;
			ws(&j);
			if (j.p < j.end && (*j.p == '}' || *j.p == ']')) {
				if ((*j.p == '}') != (stack[depth - 1] == '{'))
					goto out;
				j.p++;
				depth--;
				if (want && at && !at->found) {
					at->p = vstart;
					at->n = (size_t)(j.p - vstart);
					at->found = true;
				}
				want = false;
				goto after_value;
			}
			if (stack[depth - 1] == '{')
				goto member;
			if (want)
				want = false; /* containers as time values are not used */
			continue;
		}
		if (scalar(&j) < 0)
			goto out;
		if (want && at && !at->found) {
			at->p = vstart;
			at->n = (size_t)(j.p - vstart);
			at->found = true;
			at->is_string = *vstart == '"';
		}
		want = false;
after_value:
		for (;;) {
			ws(&j);
			if (depth == 0) {
				rc = j.p == j.end ? 0 : -1;
				goto out;
			}
			if (j.p >= j.end)
				goto out;
			if (*j.p == ',') {
				j.p++;
				if (stack[depth - 1] == '{')
					goto member;
				break; /* next array item */
			}
			if ((*j.p == '}' && stack[depth - 1] == '{') ||
			    (*j.p == ']' && stack[depth - 1] == '[')) {
				j.p++;
				depth--;
				continue;
			}
			goto out;
		}
		continue;
member:
		ws(&j);
		if (j.p >= j.end || *j.p != '"')
			goto out;
		{
			const char *ks = j.p + 1;

			if (str(&j) < 0)
				goto out;
			want = depth == 1 && key && (size_t)(j.p - 1 - ks) == klen &&
			       memcmp(ks, key, klen) == 0;
		}
		ws(&j);
		if (j.p >= j.end || *j.p != ':')
			goto out;
		j.p++;
	}
out:
	if (rc < 0 && err_off)
		*err_off = (size_t)(j.p - p);
	return rc;
}

static int put_utf8(char *out, size_t cap, size_t *o, uint32_t cp)
{
	char b[4];
	size_t k;

	if (cp < 0x80) {
		b[0] = (char)cp;
		k = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		k = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		k = 3;
	} else {
		b[0] = (char)(0xf0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		k = 4;
	}
	if (*o + k >= cap)
		return -1;
	memcpy(out + *o, b, k);
	*o += k;
	return 0;
}

int jspan_text(const struct jspan *s, char *out, size_t cap, size_t *len)
{
	size_t o = 0;

	if (cap == 0)
		return -1;
	if (!s->is_string) {
		if (s->n >= cap)
			return -1;
		memcpy(out, s->p, s->n);
		out[s->n] = '\0';
		*len = s->n;
		return 0;
	}
	if (s->n >= 2 && !memchr(s->p + 1, '\\', s->n - 2)) {
		/* no escapes: the bytes between the quotes */
		if (s->n - 2 >= cap)
			return -1;
		memcpy(out, s->p + 1, s->n - 2);
		out[s->n - 2] = '\0';
		*len = s->n - 2;
		return 0;
	}
	for (size_t i = 1; i + 1 < s->n; i++) {
		char c = s->p[i];

		if (c != '\\') {
			if (o + 1 >= cap)
				return -1;
			out[o++] = c;
			continue;
		}
		c = s->p[++i];
		switch (c) {
		case 'b':
			c = '\b';
			break;
		case 'f':
			c = '\f';
			break;
		case 'n':
			c = '\n';
			break;
		case 'r':
			c = '\r';
			break;
		case 't':
			c = '\t';
			break;
		case 'u': {
			uint32_t cp = 0;

			if (i + 4 >= s->n)
				return -1;
			for (int k = 1; k <= 4; k++)
				cp = cp << 4 | (uint32_t)hexval(s->p[i + (size_t)k]);
			i += 4;
			if (put_utf8(out, cap, &o, cp) < 0)
				return -1;
			continue;
		}
		default:
			break;
		}
		if (o + 1 >= cap)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	*len = o;
	return 0;
}

int xform_json_str(struct buf *b, const char *s, size_t n)
{
	return json_str(b, s, n);
}

/* ------------------------------------------------------------ headers */

int xhdrs_add(struct xhdrs *x, struct event *ev, const char *key, const void *val, size_t len)
{
	if (ev->headers != x->h) {
		size_t n = ev->nheaders < EVENT_MAX_HEADERS ? ev->nheaders : EVENT_MAX_HEADERS;

		if (n)
			memcpy(x->h, ev->headers, n * sizeof(x->h[0]));
		x->n = n;
	} else {
		x->n = ev->nheaders;
	}
	ev->headers = x->h;
	ev->nheaders = x->n;
	if (x->n >= EVENT_MAX_HEADERS)
		return -1;
	x->h[x->n].key = (const uint8_t *)key;
	x->h[x->n].key_len = (int32_t)strlen(key);
	x->h[x->n].value = val;
	x->h[x->n].value_len = (int32_t)len;
	x->n++;
	ev->nheaders = x->n;
	return 0;
}

const struct record_header *event_header(const struct event *ev, const char *key)
{
	size_t kl = strlen(key);

	for (size_t i = 0; i < ev->nheaders; i++)
		if ((size_t)ev->headers[i].key_len == kl &&
		    memcmp(ev->headers[i].key, key, kl) == 0)
			return &ev->headers[i];
	return NULL;
}

/* ------------------------------------------------------------ time */

static int unix_scaled(const char *v, size_t n, int64_t per_sec, int64_t *ms)
{
	char b[40], *end;
	double d;

	if (n == 0 || n >= sizeof(b))
		return -1;
	memcpy(b, v, n);
	b[n] = '\0';
	errno = 0;
	d = strtod(b, &end);
	if (errno != 0 || end != b + n || !(d >= 0))
		return -1;
	d = d * 1000.0 / (double)per_sec;
	if (d > 9e18)
		return -1;
	*ms = (int64_t)d;
	return 0;
}

int xform_parse_time(const char *fmt, const char *v, size_t n, int64_t *ms)
{
	char b[128];
	struct tm tm;
	const char *end;
	long off;

	if (!fmt || !*fmt || strcmp(fmt, "rfc3339") == 0) {
		if (n >= sizeof(b))
			return -1;
		memcpy(b, v, n);
		b[n] = '\0';
		return clock_parse_rfc3339(b, ms) < 0 ? -1 : 0;
	}
	if (strcmp(fmt, "unix") == 0)
		return unix_scaled(v, n, 1, ms);
	if (strcmp(fmt, "unix_ms") == 0)
		return unix_scaled(v, n, 1000, ms);
	if (strcmp(fmt, "unix_us") == 0)
		return unix_scaled(v, n, 1000000, ms);
	if (strcmp(fmt, "unix_ns") == 0)
		return unix_scaled(v, n, 1000000000, ms);
	if (n >= sizeof(b))
		return -1;
	memcpy(b, v, n);
	b[n] = '\0';
	memset(&tm, 0, sizeof(tm));
	end = strptime(b, fmt, &tm);
	if (!end || *end != '\0')
		return -1;
	off = tm.tm_gmtoff; /* %z; timegm() resets it */
	*ms = ((int64_t)timegm(&tm) - off) * 1000;
	return 0;
}

int xform_check_time_format(const char *v, char *why, size_t whylen)
{
	if (strcmp(v, "rfc3339") == 0 || strcmp(v, "unix") == 0 || strcmp(v, "unix_ms") == 0 ||
	    strcmp(v, "unix_us") == 0 || strcmp(v, "unix_ns") == 0 || strchr(v, '%'))
		return 0;
	snprintf(why, whylen,
		 "'%s': expected rfc3339, unix, unix_ms, unix_us, unix_ns or a "
		 "strptime pattern with %%",
		 v);
	return -1;
}

/* ------------------------------------------------------------ regex */

pcre2_code *xform_regex(const char *pattern)
{
	int ec;
	PCRE2_SIZE eo;
	pcre2_code *re =
		pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0, &ec, &eo, NULL);

	if (re)
		pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* interpreted when JIT is missing */
	return re;
}

/* ------------------------------------------------------------ subjects */

bool xform_subject(const struct event *ev, const char *field, char *buf, size_t cap, const char **p,
		   size_t *n)
{
	const struct record_header *h;
	struct jspan s;

	if (!field || !*field) {
		*p = ev->value;
		*n = ev->value_len;
		return true;
	}
	if (ev->value_len > 0 && *(const char *)ev->value == '{' &&
	    jscan(ev->value, ev->value_len, field, &s, NULL) == 0 && s.found) {
		if (jspan_text(&s, buf, cap, n) == 0) {
			*p = buf;
			return true;
		}
	}
	h = event_header(ev, field);
	if (h && h->value_len >= 0) {
		*p = (const char *)h->value;
		*n = (size_t)h->value_len;
		return true;
	}
	return false;
}
