/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kafka varints: unsigned LEB128 ("unsigned varint", used by flexible protocol
 * versions) and zigzag-encoded signed varint/varlong (used inside record
 * batches).  Decoders are bounds-checked and reject over-long encodings and
 * values outside the target type.  All functions are pure and thread-safe.
 */
#ifndef SLUICE_VARINT_H
#define SLUICE_VARINT_H

#include <stddef.h>
#include <stdint.h>

#include "lib/check.h"

#define VARINT_MAX_BYTES 10

static inline uint64_t zigzag_enc(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}
static inline int64_t zigzag_dec(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* Encoders write at most VARINT_MAX_BYTES and return the count written.
 * Inline: record building calls them several times per record. */
static inline size_t varint_put_u64(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

static inline size_t varint_put_i64(uint8_t *p, int64_t v) /* zigzag */
{
	return varint_put_u64(p, zigzag_enc(v));
}

static inline size_t varint_len_u64(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static inline size_t varint_len_i64(int64_t v)
{
	return varint_len_u64(zigzag_enc(v));
}

/* Decoders return the bytes consumed, -ERR_TRUNCATED when n is too short or
 * -ERR_CORRUPT for an over-long encoding or an out-of-range value. */
SLUICE_MUST_CHECK int varint_get_u64(const uint8_t *p, size_t n, uint64_t *v);
SLUICE_MUST_CHECK int varint_get_i64(const uint8_t *p, size_t n, int64_t *v);
SLUICE_MUST_CHECK int varint_get_i32(const uint8_t *p, size_t n, int32_t *v);

#endif
