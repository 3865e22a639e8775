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
			return 0;  /* overlong */
		if (c == 0xed && p[1] >= 0xa0)
			return 0;  /* surrogates */
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

bool utf8_valid(const void *s, size_t n)
{
	const uint8_t *p = s;
	size_t i = 0;

	while (i < n) {
		size_t k;

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

int json_str(struct buf *b, const void *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = s;
	size_t i = 0, run = 0;
	int rc;

	rc = buf_append_u8(b, '"');
	while (rc == 0 && i < n) {
		uint8_t c = p[i];
		char esc[7];
		size_t k = 1, elen = 0;

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
			rc = buf_append(b, "\xef\xbf\xbd", 3);  /* U+FFFD */
			i++;
			continue;
		}
		esc[elen++] = '\\';
		switch (c) {
		case '"': esc[elen++] = '"'; break;
		case '\\': esc[elen++] = '\\'; break;
		case '\n': esc[elen++] = 'n'; break;
		case '\r': esc[elen++] = 'r'; break;
		case '\t': esc[elen++] = 't'; break;
		case '\b': esc[elen++] = 'b'; break;
		case '\f': esc[elen++] = 'f'; break;
		default:
			esc[elen++] = 'u';
			esc[elen++] = '0';
			esc[elen++] = '0';
			esc[elen++] = hex[c >> 4];
			esc[elen++] = hex[c & 15];
		}
		rc = buf_append(b, esc, elen);
		i++;
	}
	if (rc == 0)
		rc = buf_append(b, p + i - run, run);
	if (rc == 0)
		rc = buf_append_u8(b, '"');
	return rc;
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
	return buf_printf(b, "%" PRId64, v);
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
