/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: record-batch validation and iteration (with
 * decompression) over arbitrary bytes, as the store and the CLI see them from
 * the network.  The input is split into batches with batch_next() the way a
 * produce request body is.  batch_verify() runs both ways the store runs it
 * (a bounded head of the records, and whole) on a copy with its CRC made
 * valid, so its record checks are reached.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct codec_ctx *cc;
	static struct buf head, whole;
	size_t off = 0;

	if (!cc) {
		cc = codec_ctx_new();
		buf_init(&head, 4096);
		buf_init(&whole, 1 << 20);
	}
	while (off < size) {
		struct batch_info bi;
		struct batch_iter it;
		struct record r;
		int rc = batch_next(data + off, size - off, &bi);

		if (rc < 0)
			break;
		(void)batch_validate(data + off, bi.size, &bi);
		{
			uint8_t *copy = malloc(bi.size);
			int64_t max;

			if (copy) {
				memcpy(copy, data + off, bi.size);
				batch_update_crc(copy, bi.size);
				if (batch_verify(copy, bi.size, cc, &head, true, &bi, &max) > 1)
					abort();
				(void)batch_verify(copy, bi.size, cc, &whole, false, &bi, &max);
				free(copy);
			}
		}
		/* iterate even without a valid CRC so the record parser is reached */
		if (batch_iter_init(&it, data + off, bi.size, cc, 1 << 20, false) == 0) {
			while (batch_iter_next(&it, &r) == 1) {
				struct record_header_iter hi;
				struct record_header h;
				volatile uint8_t sink = 0;

				if (r.key_len > 0)
					sink ^= r.key[r.key_len - 1];
				if (r.value_len > 0)
					sink ^= r.value[r.value_len - 1];
				record_header_iter_init(&hi, &r);
				while (record_header_iter_next(&hi, &h) == 1)
					if (h.value_len > 0)
						sink ^= h.value[h.value_len - 1];
				(void)sink;
			}
		}
		batch_iter_release(&it);
		off += bi.size;
	}
	return 0;
}
