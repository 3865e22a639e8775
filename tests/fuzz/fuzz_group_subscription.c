/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the consumer-protocol subscription reader the group
 * coordinator uses for OffsetDelete (groups_subscription_has), over a
 * member's JoinGroup metadata as a hostile client may send it.  It must
 * never read past the bytes; the first topic of a non-empty list (a
 * length-prefixed name after the 6-byte header) must be found, and
 * unreadable metadata must answer "subscribed".  Seeds: real
 * ConsumerProtocolSubscription v0-v3 metadata.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/groups/groups.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size copy, so ASan sees any read past the end */
	uint8_t *p = malloc(size ? size : 1);
	char topic[300];

	if (!p || size > INT32_MAX) {
		free(p);
		return 0;
	}
	memcpy(p, data, size);
	(void)groups_subscription_has(p, (int32_t)size, "t");
	if (size >= 8) {
		int32_t count = (int32_t)((uint32_t)p[2] << 24 | (uint32_t)p[3] << 16 |
					  (uint32_t)p[4] << 8 | p[5]);
		size_t n = (size_t)p[6] << 8 | p[7];

		if (count >= 1 && n < sizeof(topic) && 8 + n <= size) {
			memcpy(topic, p + 8, n);
			topic[n] = '\0';
			if (!memchr(topic, '\0', n) &&
			    !groups_subscription_has(p, (int32_t)size, topic))
				__builtin_trap(); /* the first topic, or unreadable */
		}
	}
	free(p);
	return 0;
}
