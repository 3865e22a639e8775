/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON writing helpers, UTF-8 validation and base64.  The string escaper
 * moves through plain bytes 16 at a time (SSE2, or two words elsewhere)
 * straight into reserved room, so a log line costs about one load and one
 * store per 16 bytes plus a table lookup per byte that needs an escape.
 */
#include <inttypes.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

#if !defined(__SSE2__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define JSON_WORDS 1 /* plain16() by two words */
#endif

#if defined(JSON_WORDS)
/* Non-zero when a byte of w is >= 0x80, < 0x20, '"' or '\\': the bytes a
 * JSON string cannot carry as they are.  Byte-wise tests on the whole word
 * (a byte is zero iff (x - 1) & ~x has its high bit set); a false "plain"
 * is impossible, and the lowest flagged byte is always a true one (a
 * borrow only reaches the bytes above a true one). */
static inline uint64_t word_special(uint64_t w)
{
	uint64_t q = w ^ (ONES * '"');
	uint64_t bs = w ^ (ONES * '\\');
	uint64_t lt = (w - ONES * 0x20) & ~w;

	return (lt | ((q - ONES) & ~q) | ((bs - ONES) & ~bs) | w) & HIGHS;
}
#endif

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

/* The second byte of a two-byte escape of c (< 0x80), 'u' for \u00XX, 0
 * for a byte that needs none. */
static const char esc_char[128] = {
	['\0'] = 'u', [0x01] = 'u', [0x02] = 'u', [0x03] = 'u',  [0x04] = 'u', [0x05] = 'u',
	[0x06] = 'u', [0x07] = 'u', ['\b'] = 'b', ['\t'] = 't',  ['\n'] = 'n', [0x0b] = 'u',
	['\f'] = 'f', ['\r'] = 'r', [0x0e] = 'u', [0x0f] = 'u',  [0x10] = 'u', [0x11] = 'u',
	[0x12] = 'u', [0x13] = 'u', [0x14] = 'u', [0x15] = 'u',  [0x16] = 'u', [0x17] = 'u',
	[0x18] = 'u', [0x19] = 'u', [0x1a] = 'u', [0x1b] = 'u',  [0x1c] = 'u', [0x1d] = 'u',
	[0x1e] = 'u', [0x1f] = 'u', ['"'] = '"',  ['\\'] = '\\',
};

/* The escape of c (< 0x20, '"' or '\\') at o; past its end. */
static inline uint8_t *escape_at(uint8_t *o, uint8_t c)
{
	static const char hex[] = "0123456789abcdef";
	char e = esc_char[c];

	o[0] = '\\';
	o[1] = (uint8_t)e;
	if (e != 'u')
		return o + 2;
	o[2] = '0';
	o[3] = '0';
	o[4] = (uint8_t)hex[c >> 4];
	o[5] = (uint8_t)hex[c & 15];
	return o + 6;
}

/* How many of the 16 bytes at p need nothing (the index of the first that is
 * < 0x20, '"', '\\' or >= 0x80; 16 when none is). */
static inline size_t plain16(const uint8_t *p)
{
#if defined(__SSE2__)
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
	/* signed: the bytes >= 0x80 are negative, so one compare takes both
	 * the control bytes and the high ones */
	__m128i m = _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
				 _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
					      _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));

	return (size_t)__builtin_ctz((unsigned)_mm_movemask_epi8(m) | 0x10000u);
#elif defined(JSON_WORDS)
	/* little-endian: the lowest flagged byte is the first in memory */
	uint64_t s = word_special(word_at(p));

	if (s)
		return (size_t)__builtin_ctzll(s) / 8;
	s = word_special(word_at(p + 8));
	return s ? 8 + (size_t)__builtin_ctzll(s) / 8 : 16;
#else
	size_t i = 0;

	while (i < 16 && p[i] >= 0x20 && p[i] < 0x80 && p[i] != '"' && p[i] != '\\')
		i++;
	return i;
#endif
}

#if defined(__SSE2__)
/* A 16-byte block without high bytes, escaped whole at o: each flagged byte
 * is found by ctz of the block's mask and the plain bytes before it copied
 * from the block kept in registers and on the stack, without loading the
 * input again.  *done false (and nothing written) when the block has a byte
 * >= 0x80: UTF-8 is checked by the caller, sequence by sequence. */
static inline uint8_t *ascii_block16(uint8_t *o, const uint8_t *p, bool *done)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
	unsigned m = (unsigned)_mm_movemask_epi8(
		_mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
			     _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
					  _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')))));
	uint8_t blk[32];
	size_t j = 0;

	*done = _mm_movemask_epi8(v) == 0;
	if (!*done)
		return o;
	_mm_storeu_si128((__m128i *)(void *)o, v);
	if (m == 0)
		return o + 16;
	_mm_storeu_si128((__m128i *)(void *)blk, v);
	_mm_storeu_si128((__m128i *)(void *)(blk + 16), v);
	do {
		size_t k = (size_t)__builtin_ctz(m);

		memcpy(o, blk + j, 16); /* the plain bytes j..k, and slack */
		o = escape_at(o + (k - j), blk[k]);
		j = k + 1;
		m &= m - 1;
	} while (m);
	memcpy(o, blk + j, 16);
	return o + (16 - j);
}
#endif

/* Room str_direct() needs for n input bytes: the worst case (6 bytes per
 * byte), the quotes, and the slack of its 16-byte stores. */
#define DIRECT_ROOM(n) (6 * (n) + 2 + 16)

/* Written straight into the reserved room (DIRECT_ROOM): 16 bytes are
 * copied at a time and the pointer moves past the plain ones, so a run of
 * plain bytes costs one load, one store and one compare per 16; the byte
 * that stops it is escaped by table or checked as UTF-8.  strict: invalid
 * UTF-8 stops it (false, b unchanged); otherwise it becomes U+FFFD. */
static inline bool str_direct(struct buf *b, const uint8_t *p, size_t n, bool strict)
{
	uint8_t *o = b->data + b->len;
	size_t i = 0;

	*o++ = '"';
	while (i < n) {
		size_t left = n - i, k;
		uint8_t c;

		if (left >= 16) {
#if defined(__SSE2__)
			bool done;

			o = ascii_block16(o, p + i, &done);
			if (done) {
				i += 16;
				continue;
			}
#endif
			memcpy(o, p + i, 16);
			k = plain16(p + i);
		} else {
			uint8_t t[16];

			memset(t, 'a', sizeof(t));
			memcpy(t, p + i, left);
			memcpy(o, t, 16);
			k = plain16(t);
			k = k < left ? k : left;
		}
		o += k;
		i += k;
		if (k == 16 || i == n)
			continue;
		c = p[i];
		if (c < 0x80) {
			o = escape_at(o, c);
			i++;
			continue;
		}
		k = utf8_seq(p + i, n - i);
		if (k) {
			memcpy(o, p + i, k);
			o += k;
			i += k;
		} else if (strict) {
			return false;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3); /* U+FFFD */
			o += 3;
			i++;
		}
	}
	*o++ = '"';
	b->len = (size_t)(o - b->data);
	return true;
}

/* The escape of byte c (< 0x20, '"' or '\\') into esc; its length. */
static size_t escape_byte(uint8_t c, char esc[6])
{
	return (size_t)(escape_at((uint8_t *)esc, c) - (uint8_t *)esc);
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
	if (n <= (SIZE_MAX - 18) / 6 && buf_reserve(b, DIRECT_ROOM(n)) == 0) {
		str_direct(b, s, n, false);
		return 0;
	}
	return str_runs(b, s, n);
}

int json_text(struct buf *b, const void *s, size_t n)
{
	if (n <= (SIZE_MAX - 18) / 6 && buf_reserve(b, DIRECT_ROOM(n)) == 0)
		return str_direct(b, s, n, true) ? 0 : 1;
	if (!utf8_valid(s, n))
		return 1;
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
