/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON writing helpers, UTF-8 validation and base64.  The string escaper
 * copies runs of plain bytes with one append so long log lines cost one
 * memcpy, not one call per byte.
 */
#include <inttypes.h>
#include <string.h>

#include "lib/err.h"
#include "lib/json.h"

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when invalid. */
static size_t utf8_seq(const uint8_t *p, size_t n)
{
	uint8_t c = p[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		if (n >= 2 && (p[1] & 0xc0) == 0x80)
			return 2;
		return 0;
	}
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && p[1] < 0xa0)
			return 0; /* overlong */
		if (c == 0xed && p[1] >= 0xa0)
			return 0; /* surrogates */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
		    (p[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && p[1] < 0x90)
			return 0;
		if (c == 0xf4 && p[1] >= 0x90)
			return 0;
		return 4;
	}
	return 0;
}

/* Eight bytes at p as one word (unaligned, host order: only byte membership
 * is tested, so the order does not matter). */
static inline uint64_t word_at(const uint8_t *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/* Non-zero when a byte of w is >= 0x80, < 0x20, '"' or '\\': the bytes a
 * JSON string cannot carry as they are.  Byte-wise tests on the whole word
 * (a byte is zero iff (x - 1) & ~x has its high bit set); a false "plain"
 * is impossible, a false alarm only sends the word to the byte loop. */
static inline uint64_t word_special(uint64_t w)
{
	uint64_t q = w ^ (ONES * '"');
	uint64_t bs = w ^ (ONES * '\\');
	uint64_t lt = (w - ONES * 0x20) & ~w;

	return (lt | ((q - ONES) & ~q) | ((bs - ONES) & ~bs) | w) & HIGHS;
}

bool utf8_valid(const void *s, size_t n)
{
	const uint8_t *p = s;
	size_t i = 0;

	while (i < n) {
		size_t k;

		if (i + 8 <= n && (word_at(p + i) & HIGHS) == 0) {
			i += 8;
			continue;
		}
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		k = utf8_seq(p + i, n - i);
		if (k == 0)
			return false;
		i += k;
	}
	return true;
}

/* The escape of byte c (< 0x20, '"' or '\\') into esc; its length. */
static size_t escape_byte(uint8_t c, char esc[6])
{
	static const char hex[] = "0123456789abcdef";
	size_t elen = 0;

	esc[elen++] = '\\';
	switch (c) {
	case '"':
		esc[elen++] = '"';
		break;
	case '\\':
		esc[elen++] = '\\';
		break;
	case '\n':
		esc[elen++] = 'n';
		break;
	case '\r':
		esc[elen++] = 'r';
		break;
	case '\t':
		esc[elen++] = 't';
		break;
	case '\b':
		esc[elen++] = 'b';
		break;
	case '\f':
		esc[elen++] = 'f';
		break;
	default:
		esc[elen++] = 'u';
		esc[elen++] = '0';
		esc[elen++] = '0';
		esc[elen++] = hex[c >> 4];
		esc[elen++] = hex[c & 15];
	}
	return elen;
}

/* What each byte needs in a JSON string: 0 as it is, 1 an escape, 2 a UTF-8
 * check (a lead or stray byte >= 0x80). */
#define J16(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
static const uint8_t jclass[256] = {
	J16(1), J16(1), /* 0x00-0x1f */
	0,      0,      1,      0,      0,      0,      0,      0,      0,      0,
	0,      0,      0,      0,      0,      0, /* '"' */
	J16(0), J16(0), 0,      0,      0,      0,      0,      0,      0,      0,
	0,      0,      0,      0,      1,      0,      0,      0, /* '\\' */
	J16(0), J16(0), J16(2), J16(2), J16(2), J16(2), J16(2), J16(2), J16(2), J16(2),
};
#undef J16

/* With room for the worst case reserved (6 bytes per input byte), written
 * straight into the buffer: plain words are copied 8 bytes at a time, the
 * rest escaped in place. */
static void str_direct(struct buf *b, const uint8_t *p, size_t n)
{
	uint8_t *o = b->data + b->len;
	size_t i = 0;

	*o++ = '"';
	while (i < n) {
		uint8_t c;
		size_t k;

		if (i + 8 <= n) {
			uint64_t w = word_at(p + i);

			if (word_special(w) == 0) {
				memcpy(o, &w, 8);
				o += 8;
				i += 8;
				continue;
			}
		}
		c = p[i];
		if (jclass[c] == 0) {
			*o++ = c;
			i++;
			continue;
		}
		if (jclass[c] == 2) {
			k = utf8_seq(p + i, n - i);
			if (k) {
				memcpy(o, p + i, k);
				o += k;
				i += k;
			} else {
				memcpy(o, "\xef\xbf\xbd", 3); /* U+FFFD */
				o += 3;
				i++;
			}
			continue;
		}
		o += escape_byte(c, (char *)o);
		i++;
	}
	*o++ = '"';
	b->len = (size_t)(o - b->data);
}

/* A string too large for the worst-case reservation: plain runs appended
 * with one call each, escapes one by one. */
static int str_runs(struct buf *b, const uint8_t *p, size_t n)
{
	size_t i = 0, run = 0;
	int rc = buf_append_u8(b, '"');

	while (rc == 0 && i < n) {
		uint8_t c = p[i];
		char esc[6];
		size_t k;

		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			i++;
			run++;
			continue;
		}
		if (c >= 0x80) {
			k = utf8_seq(p + i, n - i);
			if (k) {
				i += k;
				run += k;
				continue;
			}
		}
		rc = buf_append(b, p + i - run, run);
		run = 0;
		if (rc < 0)
			break;
		if (c >= 0x80) {
			rc = buf_append(b, "\xef\xbf\xbd", 3); /* U+FFFD */
			i++;
			continue;
		}
		k = escape_byte(c, esc);
		rc = buf_append(b, esc, k);
		i++;
	}
	if (rc == 0)
		rc = buf_append(b, p + i - run, run);
	if (rc == 0)
		rc = buf_append_u8(b, '"');
	return rc;
}

int json_str(struct buf *b, const void *s, size_t n)
{
	if (n <= (SIZE_MAX - 2) / 6 && buf_reserve(b, 6 * n + 2) == 0) {
		str_direct(b, s, n);
		return 0;
	}
	return str_runs(b, s, n);
}

int json_cstr(struct buf *b, const char *s)
{
	return json_str(b, s, strlen(s));
}

int json_key(struct buf *b, bool *first, const char *key)
{
	int rc = 0;

	if (!*first)
		rc = buf_append_u8(b, ',');
	*first = false;
	if (rc == 0)
		rc = json_cstr(b, key);
	if (rc == 0)
		rc = buf_append_u8(b, ':');
	return rc;
}

int json_i64(struct buf *b, int64_t v)
{
	char t[24];
	size_t i = sizeof(t);
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	do {
		t[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		t[--i] = '-';
	return buf_append(b, t + i, sizeof(t) - i);
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_encode(struct buf *b, const void *s, size_t n)
{
	const uint8_t *p = s;
	size_t i, olen = (n + 2) / 3 * 4;
	char *o;
	int rc = buf_reserve(b, olen);

	if (rc < 0)
		return rc;
	o = (char *)b->data + b->len;
	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		*o++ = b64[v >> 18];
		*o++ = b64[(v >> 12) & 63];
		*o++ = b64[(v >> 6) & 63];
		*o++ = b64[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);

		*o++ = b64[v >> 18];
		*o++ = b64[(v >> 12) & 63];
		*o++ = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	b->len += olen;
	return 0;
}

static int b64_val(char c)
{
	const char *q;

	if (c == '\0')
		return -1;
	q = strchr(b64, c);
	return q ? (int)(q - b64) : -1;
}

int base64_decode(struct buf *b, const char *s, size_t n)
{
	uint32_t acc = 0;
	int bits = 0, rc;
	size_t i, pad = 0;

	while (n && s[n - 1] == '=' && pad < 2) {
		n--;
		pad++;
	}
	if ((n + pad) % 4 != 0)
		return -ERR_INVALID;
	rc = buf_reserve(b, n / 4 * 3 + 3);
	if (rc < 0)
		return rc;
	for (i = 0; i < n; i++) {
		int v = b64_val(s[i]);

		if (v < 0)
			return -ERR_INVALID;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			b->data[b->len++] = (uint8_t)(acc >> bits);
		}
	}
	return 0;
}
