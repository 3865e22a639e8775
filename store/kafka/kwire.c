/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kafka wire primitives over struct cursor (decoding) and struct buf
 * (encoding).  Classic strings carry an int16 length (-1 = null), classic
 * bytes and arrays an int32; compact forms an unsigned varint of length + 1.
 */
#include <string.h>

#include "lib/err.h"
#include "lib/varint.h"
#include "store/kafka/kwire.h"

void kwire_dec_init(struct kwire_dec *d, const void *p, size_t n, bool flex, struct arena *arena)
{
	cursor_init(&d->c, p, n);
	d->arena = arena;
	d->flex = flex;
}

int8_t kwire_get_i8(struct kwire_dec *d)
{
	return (int8_t)cursor_u8(&d->c);
}

int16_t kwire_get_i16(struct kwire_dec *d)
{
	return (int16_t)cursor_be16(&d->c);
}

int32_t kwire_get_i32(struct kwire_dec *d)
{
	return (int32_t)cursor_be32(&d->c);
}

int64_t kwire_get_i64(struct kwire_dec *d)
{
	return (int64_t)cursor_be64(&d->c);
}

bool kwire_get_bool(struct kwire_dec *d)
{
	return cursor_u8(&d->c) != 0;
}

uint32_t kwire_get_uvarint(struct kwire_dec *d)
{
	return cursor_uvarint(&d->c);
}

/* Length of a string/bytes/array field: -1 for null, -2 on error. */
static int64_t get_len(struct kwire_dec *d, bool wide)
{
	int64_t n;

	if (d->flex) {
		uint32_t v = cursor_uvarint(&d->c);

		if (!cursor_ok(&d->c))
			return -2;
		return (int64_t)v - 1;
	}
	n = wide ? (int32_t)cursor_be32(&d->c) : (int16_t)cursor_be16(&d->c);
	if (!cursor_ok(&d->c) || n < -1) {
		d->c.err = true;
		return -2;
	}
	return n;
}

/* Copy n wire bytes into the arena as a C string, each NUL byte held as
 * KWIRE_NUL0 KWIRE_NUL1 so that it cuts nothing (see kwire.h). */
static char *copy_str(struct kwire_dec *d, const uint8_t *p, size_t n)
{
	const uint8_t *z = memchr(p, 0, n);
	size_t nul = 0;
	char *s, *o;

	if (!z)
		return arena_strndup(d->arena, p, n);
	for (size_t i = (size_t)(z - p); i < n; i++)
		nul += p[i] == 0;
	s = arena_alloc(d->arena, n + nul + 1);
	if (!s)
		return NULL;
	o = s;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == 0) {
			*o++ = (char)KWIRE_NUL0;
			*o++ = (char)KWIRE_NUL1;
		} else {
			*o++ = (char)p[i];
		}
	}
	*o = '\0';
	return s;
}

char *kwire_get_nstr(struct kwire_dec *d)
{
	int64_t n = get_len(d, false);
	const uint8_t *p;
	char *s;

	if (n < 0)
		return NULL;
	p = cursor_take(&d->c, (size_t)n);
	if (!p)
		return NULL;
	s = copy_str(d, p, (size_t)n);
	if (!s)
		d->c.err = true;
	return s;
}

char *kwire_get_str(struct kwire_dec *d)
{
	char *s = kwire_get_nstr(d);

	if (!s)
		d->c.err = true;
	return s;
}

int32_t kwire_get_bytes(struct kwire_dec *d, const uint8_t **p)
{
	int64_t n = get_len(d, true);

	*p = NULL;
	if (n == -1)
		return -1;
	if (n < 0 || n > INT32_MAX) {
		d->c.err = true;
		return -1;
	}
	*p = cursor_take(&d->c, (size_t)n);
	if (!*p)
		return -1;
	return (int32_t)n;
}

int32_t kwire_get_array(struct kwire_dec *d, size_t min_elem)
{
	int64_t n = get_len(d, true);

	if (n == -1)
		return -1;
	if (n < 0 || n > INT32_MAX) {
		d->c.err = true;
		return 0;
	}
	if (min_elem == 0)
		min_elem = 1;
	if ((uint64_t)n > cursor_left(&d->c) / min_elem) {
		d->c.err = true;
		return 0;
	}
	return (int32_t)n;
}

void kwire_get_tags(struct kwire_dec *d)
{
	uint32_t n;

	if (!d->flex)
		return;
	n = cursor_uvarint(&d->c);
	for (uint32_t i = 0; i < n && cursor_ok(&d->c); i++) {
		uint32_t size;

		(void)cursor_uvarint(&d->c); /* tag: none of ours are read */
		size = cursor_uvarint(&d->c);
		(void)cursor_take(&d->c, size);
	}
}

void *kwire_alloc(struct kwire_dec *d, int32_t n, size_t size)
{
	void *p;

	if (d->c.err)
		return NULL;
	p = arena_calloc(d->arena, n > 0 ? (size_t)n : 1, size);
	if (!p)
		d->c.err = true;
	return p;
}

/* ---------------------------------------------------------------- encoding */

void kwire_enc_init(struct kwire_enc *e, struct buf *b, bool flex)
{
	e->b = b;
	e->flex = flex;
	e->err = 0;
	e->records_fn = NULL;
	e->records_ctx = NULL;
}

void kwire_put_raw(struct kwire_enc *e, const void *p, size_t n)
{
	int rc;

	if (e->err)
		return;
	rc = buf_append(e->b, p, n);
	if (rc < 0)
		e->err = rc;
}

void kwire_put_i8(struct kwire_enc *e, int8_t v)
{
	uint8_t t = (uint8_t)v;

	kwire_put_raw(e, &t, 1);
}

void kwire_put_i16(struct kwire_enc *e, int16_t v)
{
	uint8_t t[2];

	put_be16(t, (uint16_t)v);
	kwire_put_raw(e, t, sizeof(t));
}

void kwire_put_i32(struct kwire_enc *e, int32_t v)
{
	uint8_t t[4];

	put_be32(t, (uint32_t)v);
	kwire_put_raw(e, t, sizeof(t));
}

void kwire_put_i64(struct kwire_enc *e, int64_t v)
{
	uint8_t t[8];

	put_be64(t, (uint64_t)v);
	kwire_put_raw(e, t, sizeof(t));
}

void kwire_put_bool(struct kwire_enc *e, bool v)
{
	kwire_put_i8(e, v ? 1 : 0);
}

void kwire_put_uvarint(struct kwire_enc *e, uint32_t v)
{
	uint8_t t[VARINT_MAX_BYTES];

	kwire_put_raw(e, t, varint_put_u64(t, v));
}

/* Length prefix: n < 0 is null. */
static void put_len(struct kwire_enc *e, int64_t n, bool wide)
{
	if (e->flex)
		kwire_put_uvarint(e, n < 0 ? 0 : (uint32_t)(n + 1));
	else if (wide)
		kwire_put_i32(e, n < 0 ? -1 : (int32_t)n);
	else
		kwire_put_i16(e, n < 0 ? -1 : (int16_t)n);
}

void kwire_put_strn(struct kwire_enc *e, const char *s, size_t n)
{
	if (n > INT16_MAX) {
		if (!e->err)
			e->err = -ERR_TOO_LARGE;
		return;
	}
	put_len(e, (int64_t)n, false);
	kwire_put_raw(e, s, n);
}

size_t kwire_str_wire_len(const char *s)
{
	size_t n = 0;

	for (const char *p = s; *p; p++, n++) {
		if ((uint8_t)p[0] == KWIRE_NUL0 && (uint8_t)p[1] == KWIRE_NUL1)
			p++;
	}
	return n;
}

void kwire_put_str(struct kwire_enc *e, const char *s)
{
	size_t n, len;

	if (!s) {
		put_len(e, -1, false);
		return;
	}
	len = strlen(s);
	if (!memchr(s, KWIRE_NUL0, len)) {
		kwire_put_strn(e, s, len);
		return;
	}
	/* give the NUL bytes back as the client sent them */
	n = kwire_str_wire_len(s);
	if (n > INT16_MAX) {
		if (!e->err)
			e->err = -ERR_TOO_LARGE;
		return;
	}
	put_len(e, (int64_t)n, false);
	for (const char *p = s; *p; p++) {
		uint8_t c = (uint8_t)*p;

		if (c == KWIRE_NUL0 && (uint8_t)p[1] == KWIRE_NUL1) {
			c = 0;
			p++;
		}
		kwire_put_raw(e, &c, 1);
	}
}

void kwire_put_bytes_len(struct kwire_enc *e, int32_t n)
{
	put_len(e, n, true);
}

void kwire_put_bytes(struct kwire_enc *e, const void *p, int32_t n)
{
	put_len(e, n, true);
	if (n > 0)
		kwire_put_raw(e, p, (size_t)n);
}

void kwire_put_array(struct kwire_enc *e, int32_t n)
{
	put_len(e, n, true);
}

void kwire_put_tags(struct kwire_enc *e)
{
	if (e->flex)
		kwire_put_uvarint(e, 0);
}

void kwire_patch_i32(struct kwire_enc *e, size_t off, int32_t v)
{
	if (e->err || off + 4 > e->b->len)
		return;
	put_be32(e->b->data + off, (uint32_t)v);
}
