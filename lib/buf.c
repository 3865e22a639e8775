/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bounded buffers and the parsing cursor.  Growth doubles capacity (never past
 * max) so appends are amortized O(1); the max check comes before any
 * allocation.
 */
#include <stdio.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/mem.h"
#include "lib/varint.h"

void buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max ? max : SIZE_MAX / 2;
}

void buf_release(struct buf *b)
{
	mem_free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

int buf_reserve_grow(struct buf *b, size_t extra)
{
	size_t need, cap;
	uint8_t *p;

	SLUICE_ASSERT(b->len <= b->cap && (b->data || b->cap == 0));
	if (extra > b->max || b->len > b->max - extra)
		return -ERR_TOO_LARGE;
	need = b->len + extra;
	/* Always leave data non-NULL after success, so data + len is valid. */
	if (need <= b->cap && b->data)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 4 ? need : cap * 2;
	if (cap > b->max)
		cap = b->max;
	p = mem_realloc(b->data, cap);
	if (!p)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	SLUICE_ASSERT(b->cap - b->len >= extra);
	return 0;
}

int buf_append_str(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int buf_append_be16(struct buf *b, uint16_t v)
{
	uint8_t t[2];

	put_be16(t, v);
	return buf_append(b, t, sizeof(t));
}

int buf_append_be32(struct buf *b, uint32_t v)
{
	uint8_t t[4];

	put_be32(t, v);
	return buf_append(b, t, sizeof(t));
}

int buf_append_be64(struct buf *b, uint64_t v)
{
	uint8_t t[8];

	put_be64(t, v);
	return buf_append(b, t, sizeof(t));
}

int buf_append_zero(struct buf *b, size_t n, size_t *off)
{
	int rc = buf_reserve(b, n);

	if (rc < 0)
		return rc;
	if (off)
		*off = b->len;
	memset(b->data + b->len, 0, n);
	b->len += n;
	return 0;
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n, rc;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return -EINVAL;
	rc = buf_reserve(b, (size_t)n + 1);
	if (rc < 0)
		return rc;
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

void buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

int buf_cstr(struct buf *b)
{
	int rc = buf_reserve(b, 1);

	if (rc < 0)
		return rc;
	b->data[b->len] = '\0';
	return 0;
}

const uint8_t *cursor_take(struct cursor *c, size_t n)
{
	const uint8_t *p;

	SLUICE_ASSERT(c->p <= c->end);
	if (c->err || cursor_left(c) < n) {
		c->err = true;
		return NULL;
	}
	p = c->p;
	if (n)
		c->p += n; /* p may be NULL for an empty range */
	return p;
}

uint8_t cursor_u8(struct cursor *c)
{
	const uint8_t *p = cursor_take(c, 1);

	return p ? p[0] : 0;
}

uint16_t cursor_be16(struct cursor *c)
{
	const uint8_t *p = cursor_take(c, 2);

	return p ? get_be16(p) : 0;
}

uint32_t cursor_be32(struct cursor *c)
{
	const uint8_t *p = cursor_take(c, 4);

	return p ? get_be32(p) : 0;
}

uint64_t cursor_be64(struct cursor *c)
{
	const uint8_t *p = cursor_take(c, 8);

	return p ? get_be64(p) : 0;
}

int32_t cursor_varint(struct cursor *c)
{
	int32_t v = 0;
	int n;

	if (c->err)
		return 0;
	n = varint_get_i32(c->p, cursor_left(c), &v);
	if (n < 0) {
		c->err = true;
		return 0;
	}
	c->p += n;
	return v;
}

int64_t cursor_varlong(struct cursor *c)
{
	int64_t v = 0;
	int n;

	if (c->err)
		return 0;
	n = varint_get_i64(c->p, cursor_left(c), &v);
	if (n < 0) {
		c->err = true;
		return 0;
	}
	c->p += n;
	return v;
}

uint32_t cursor_uvarint(struct cursor *c)
{
	uint64_t v = 0;
	int n;

	if (c->err)
		return 0;
	n = varint_get_u64(c->p, cursor_left(c), &v);
	if (n < 0 || n > 5 || v > UINT32_MAX) {
		c->err = true;
		return 0;
	}
	c->p += n;
	return (uint32_t)v;
}
