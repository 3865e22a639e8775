/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: outputs' delivered marks file, read back at
 * start-up.  Any bytes parse without crashing; what was accepted formats to
 * a file that parses to the same marks and formats to the same bytes.
 */
#include <stdint.h>
#include <string.h>

#include "agent/spool/marks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct marks a = {0}, b = {0};
	struct buf fa, fb;

	marks_parse(&a, (const char *)data, size);
	buf_init(&fa, 64 << 20);
	buf_init(&fb, 64 << 20);
	if (marks_format(&a, &fa) == 0) {
		if (marks_parse(&b, (const char *)fa.data, fa.len) != 0)
			__builtin_trap(); /* our own output is always well formed */
		if (b.n != a.n)
			__builtin_trap();
		for (size_t i = 0; i < a.n; i++) {
			struct mark *k = marks_find(&b, a.v[i].topic, a.v[i].partition, false);

			if (!k || k->last != a.v[i].last)
				__builtin_trap();
		}
		if (marks_format(&b, &fb) != 0 || fb.len != fa.len ||
		    (fa.len && memcmp(fa.data, fb.data, fa.len) != 0))
			__builtin_trap();
	}
	buf_release(&fa);
	buf_release(&fb);
	marks_release(&a);
	marks_release(&b);
	return 0;
}
