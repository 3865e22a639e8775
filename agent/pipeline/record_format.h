/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Decoding spooled batches back into text for outputs that write records
 * rather than batches (file, stdout): `raw` is each record's value and a
 * newline, `ndjson` one JSON object per record in the store's replay format
 * (lib/recjson.h).  Pure apart from the caller's codec context; one context
 * per thread.
 */
#ifndef SLUICE_AGENT_RECORD_FORMAT_H
#define SLUICE_AGENT_RECORD_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/codec.h"

enum record_format {
	RECORD_FORMAT_RAW = 0,
	RECORD_FORMAT_NDJSON = 1,
};

/* Append every record of the batch p[0..n) to out.  Returns the record
 * count or a negative code (-ERR_CORRUPT, -ERR_TOO_LARGE, -ENOMEM); out is
 * restored on failure. */
int record_format_batch(struct codec_ctx *cc, enum record_format fmt, const char *topic,
			int32_t partition, const void *p, size_t n, struct buf *out);

#endif
