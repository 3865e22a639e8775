/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Batch to text.  The batch is decompressed into the iterator's bounded
 * scratch buffer (BATCH_MAX_SIZE), so a hostile ratio stops there.
 */
#include "agent/pipeline/record_format.h"
#include "lib/batch.h"
#include "lib/err.h"
#include "lib/recjson.h"

int record_format_batch(struct codec_ctx *cc, enum record_format fmt, const char *topic,
			int32_t partition, const void *p, size_t n, struct buf *out)
{
	struct batch_iter it;
	struct recjson_cache jc;
	struct record r;
	size_t start = out->len;
	int count = 0, rc;

	recjson_cache_init(&jc);
	rc = batch_iter_init(&it, p, n, cc, BATCH_MAX_SIZE, true);
	while (rc == 0) {
		rc = batch_iter_next(&it, &r);
		if (rc <= 0)
			break;
		if (fmt == RECORD_FORMAT_NDJSON) {
			rc = recjson_format_cached(out, topic, partition, &r, &jc);
		} else {
			rc = buf_append(out, r.value, r.value_len > 0 ? (size_t)r.value_len : 0);
			if (rc == 0)
				rc = buf_append_u8(out, '\n');
		}
		if (rc < 0)
			break;
		count++;
		rc = 0;
	}
	batch_iter_release(&it);
	recjson_cache_release(&jc);
	if (rc < 0) {
		out->len = start;
		return rc;
	}
	return count;
}
