/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Varint codec.  A 64-bit value needs at most 10 groups of 7 bits; the 10th
 * byte may only carry the single remaining bit, anything else is corrupt.
 */
#include "lib/err.h"
#include "lib/varint.h"

int varint_get_u64(const uint8_t *p, size_t n, uint64_t *v)
{
	uint64_t r = 0;
	size_t i;

	for (i = 0; i < n && i < VARINT_MAX_BYTES; i++) {
		uint8_t b = p[i];

		if (i == 9 && b > 1)
			return -ERR_CORRUPT;
		r |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			*v = r;
			return (int)i + 1;
		}
	}
	return i == VARINT_MAX_BYTES ? -ERR_CORRUPT : -ERR_TRUNCATED;
}

int varint_get_i64(const uint8_t *p, size_t n, int64_t *v)
{
	uint64_t u;
	int rc = varint_get_u64(p, n, &u);

	if (rc < 0)
		return rc;
	*v = zigzag_dec(u);
	return rc;
}

int varint_get_i32(const uint8_t *p, size_t n, int32_t *v)
{
	uint64_t u;
	int rc = varint_get_u64(p, n, &u);

	if (rc < 0)
		return rc;
	if (rc > 5 || u > UINT32_MAX)
		return -ERR_CORRUPT;
	*v = (int32_t)zigzag_dec(u);
	return rc;
}
