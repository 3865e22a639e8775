/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kafka's murmur2.  Arithmetic is done on uint32_t so overflow is defined;
 * the result is reinterpreted as Java's signed int.
 */
#include "lib/murmur2.h"

int32_t murmur2(const void *key, size_t len)
{
	const uint8_t *d = key;
	const uint32_t m = 0x5bd1e995;
	uint32_t h = 0x9747b28cu ^ (uint32_t)len;
	size_t i, n4 = len / 4;

	for (i = 0; i < n4; i++) {
		const uint8_t *q = d + 4 * i;
		uint32_t k = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 |
			     (uint32_t)q[3] << 24;

		k *= m;
		k ^= k >> 24;
		k *= m;
		h *= m;
		h ^= k;
	}
	switch (len & 3) {
	case 3:
		h ^= (uint32_t)d[(len & ~(size_t)3) + 2] << 16;
		/* fall through */
	case 2:
		h ^= (uint32_t)d[(len & ~(size_t)3) + 1] << 8;
		/* fall through */
	case 1:
		h ^= d[len & ~(size_t)3];
		h *= m;
	}
	h ^= h >> 13;
	h *= m;
	h ^= h >> 15;
	return (int32_t)h;
}

int32_t murmur2_partition(const void *key, size_t len, int32_t partitions)
{
	return (int32_t)(((uint32_t)murmur2(key, len) & 0x7fffffff) % (uint32_t)partitions);
}
