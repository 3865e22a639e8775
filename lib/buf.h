/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bounded byte buffers for building output, and a cursor for parsing input.
 *
 * struct buf is embedded by value (buf_init/buf_release).  Every buffer has a
 * hard max: growing past it fails with -ERR_TOO_LARGE instead of allocating,
 * so a hostile length field can never turn into a huge allocation.
 *
 * struct cursor reads big-endian integers from a borrowed byte range with a
 * sticky error: after the first short read every later read returns 0 and
 * cursor_ok() is false, so parsers check once at the end of a structure.
 *
 * Neither is thread-safe; each belongs to one thread at a time.
 */
#ifndef SLUICE_BUF_H
#define SLUICE_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/check.h"

struct buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t max;
};

/* max is the hard bound on len; 0 means SIZE_MAX/2. */
void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b);
/* Keep the memory, drop the contents. */
static inline void buf_reset(struct buf *b)
{
	b->len = 0;
}

/* buf_reserve() when the room is not there yet (grows the allocation). */
SLUICE_MUST_CHECK int buf_reserve_grow(struct buf *b, size_t extra);

/* Make room for extra more bytes.  0, -ERR_TOO_LARGE or -ENOMEM.  Inline:
 * the formatters call it per field, and nearly always the room is there. */
SLUICE_MUST_CHECK static inline int buf_reserve(struct buf *b, size_t extra)
{
	if (b->data && extra <= b->cap - b->len && extra <= b->max - b->len)
		return 0;
	return buf_reserve_grow(b, extra);
}

SLUICE_MUST_CHECK static inline int buf_append(struct buf *b, const void *p, size_t n)
{
	int rc;

	if (n == 0)
		return 0;
	rc = buf_reserve(b, n);
	if (rc < 0)
		return rc;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

SLUICE_MUST_CHECK int buf_append_str(struct buf *b, const char *s);

SLUICE_MUST_CHECK static inline int buf_append_u8(struct buf *b, uint8_t v)
{
	int rc = buf_reserve(b, 1);

	if (rc < 0)
		return rc;
	b->data[b->len++] = v;
	return 0;
}
SLUICE_MUST_CHECK int buf_append_be16(struct buf *b, uint16_t v);
SLUICE_MUST_CHECK int buf_append_be32(struct buf *b, uint32_t v);
SLUICE_MUST_CHECK int buf_append_be64(struct buf *b, uint64_t v);
/* Append n zero bytes, returning their offset through *off (for back-patching). */
SLUICE_MUST_CHECK int buf_append_zero(struct buf *b, size_t n, size_t *off);
/* printf into the buffer (bounded by max).  Returns 0 or a negative code. */
SLUICE_MUST_CHECK int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
SLUICE_MUST_CHECK int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Drop the first n bytes (n <= len). */
void buf_consume(struct buf *b, size_t n);
/* NUL-terminate without counting the NUL in len. */
SLUICE_MUST_CHECK int buf_cstr(struct buf *b);

/* Big-endian stores into raw memory. */
static inline void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}
static inline void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}
static inline void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}
static inline uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

struct cursor {
	const uint8_t *p;
	const uint8_t *end;
	bool err;
};

static inline void cursor_init(struct cursor *c, const void *p, size_t n)
{
	c->p = p;
	/* an empty range may come as (NULL, 0): NULL + 0 is undefined in C */
	c->end = n ? (const uint8_t *)p + n : (const uint8_t *)p;
	c->err = false;
}
static inline size_t cursor_left(const struct cursor *c)
{
	return (size_t)(c->end - c->p);
}
static inline bool cursor_ok(const struct cursor *c)
{
	return !c->err;
}

/* Borrow n bytes; NULL (and the sticky error) when fewer are left. */
const uint8_t *cursor_take(struct cursor *c, size_t n);
uint8_t cursor_u8(struct cursor *c);
uint16_t cursor_be16(struct cursor *c);
uint32_t cursor_be32(struct cursor *c);
uint64_t cursor_be64(struct cursor *c);
/* Kafka varints (zigzag) and unsigned varints; range-checked. */
int32_t cursor_varint(struct cursor *c);
int64_t cursor_varlong(struct cursor *c);
uint32_t cursor_uvarint(struct cursor *c);

#endif
