/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Kafka request writer of the API unit tests: requests written field by
 * field from Kafka's message schemas into W, independently of store/kwire
 * (so the tests do not check the codec against itself), a whole frame's
 * decode, and the truncation check every request goes through (every
 * proper prefix fails; a trailing byte is ignored, as Kafka ignores it, and
 * counted).  One copy for test_kafka_api, _groups, _records and _txn_api.
 * Not thread-safe (one W per test binary).
 */
#ifndef SLUICE_TESTS_UNIT_KREQ_H
#define SLUICE_TESTS_UNIT_KREQ_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "store/kafka/kafka_api.h"
#include "tests/unit/unit.h"

static struct buf W;

static inline void w_reset(void)
{
	buf_release(&W);
	buf_init(&W, 0);
}
static inline void w8(int v)
{
	buf_append_u8(&W, (uint8_t)v);
}
static inline void w16(int v)
{
	buf_append_be16(&W, (uint16_t)v);
}
static inline void w32(int64_t v)
{
	buf_append_be32(&W, (uint32_t)v);
}
static inline void w64(int64_t v)
{
	buf_append_be64(&W, (uint64_t)v);
}
static inline void wstr(const char *s)
{
	if (!s) {
		w16(-1);
		return;
	}
	w16((int)strlen(s));
	buf_append(&W, s, strlen(s));
}
/* compact string: uvarint len+1 (all our test strings are < 127 bytes) */
static inline void wcstr(const char *s)
{
	w8(s ? (int)strlen(s) + 1 : 0);
	if (s)
		buf_append(&W, s, strlen(s));
}
static inline void wbytes(const void *p, int32_t n)
{
	w32(n);
	if (n > 0)
		buf_append(&W, p, (size_t)n);
}

/* A request frame (without the size field): header v1 (or v2 when flex). */
static inline void w_header(int key, int ver, int32_t corr, const char *client, bool flex)
{
	w_reset();
	w16(key);
	w16(ver);
	w32(corr);
	wstr(client);
	if (flex)
		w8(0);
}

/* Parse W as a whole frame and decode its body. */
static inline void *decode_frame(struct arena *a, struct kafka_hdr *h)
{
	if (kafka_api_parse_header(W.data, W.len, a, h) != 0)
		return NULL;
	return kafka_api_decode_body(h, W.data, W.len, a);
}

/* Every proper prefix of W must fail to decode (truncation anywhere). */
static inline void check_truncations(void)
{
	struct arena a;
	struct kafka_hdr h;
	size_t n = W.len;

	for (size_t cut = 0; cut < n; cut++) {
		arena_init(&a, 0);
		if (kafka_api_parse_header(W.data, cut, &a, &h) == 0)
			CU_ASSERT_PTR_NULL(kafka_api_decode_body(&h, W.data, cut, &a));
		arena_release(&a);
	}
	/* a trailing byte is ignored, as Kafka ignores it, and counted */
	CU_ASSERT_EQUAL(buf_append_u8(&W, 0), 0);
	arena_init(&a, 0);
	if (kafka_api_parse_header(W.data, W.len, &a, &h) == 0) {
		CU_ASSERT_PTR_NOT_NULL(kafka_api_decode_body(&h, W.data, W.len, &a));
		CU_ASSERT_EQUAL(h.trailing, 1);
	}
	arena_release(&a);
	W.len--;
}

#endif
