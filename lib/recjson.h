/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One Kafka record as one line of JSON (NDJSON), the format of the store's
 * replay endpoint (GET .../records?format=ndjson) and of `sluice consume
 * --format json`, so the two print byte-identical lines:
 *
 *   {"topic":"nginx","partition":0,"offset":42,"timestamp":1700000000000,
 *    "time":"2023-11-14T22:13:20.000Z","key":"web-01:/var/log/x.log",
 *    "headers":[{"key":"host","value":"web-01"}],"value":"GET / ..."}
 *
 * key, value and header values are JSON strings when they are valid UTF-8
 * and standard base64 otherwise, flagged by "key_base64":true,
 * "value_base64":true or a header's "value_base64":true; a null key or value
 * is JSON null.  Header keys are strings (invalid UTF-8 becomes U+FFFD).
 * "topic" is left out when topic is NULL.  Pure; thread-safe.
 */
#ifndef SLUICE_RECJSON_H
#define SLUICE_RECJSON_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/batch.h"
#include "lib/buf.h"
#include "lib/check.h"

/* Append the line (with its '\n') to out.  0, -ERR_TOO_LARGE (out's max;
 * out is then restored to its length before the call), -ENOMEM or
 * -ERR_CORRUPT (malformed headers; out restored too). */
SLUICE_MUST_CHECK int recjson_format(struct buf *out, const char *topic, int32_t partition,
				     const struct record *r);

/* The records of one source share their key and headers (a file's host and
 * path): the formatted ,"key":..,"headers":[..] of the last record is kept
 * and copied when the next one's are the same bytes, instead of validated,
 * escaped and formatted again.  One cache per formatting loop; not
 * thread-safe. */
struct recjson_cache {
	struct buf src;  /* key_len, key, header count, encoded headers */
	struct buf frag; /* their JSON */
	bool valid;
	/* {"topic":..,"partition":..,"offset": of the last topic and partition */
	struct buf head;       /* empty: none */
	struct buf head_topic; /* its topic with the NUL; empty for NULL */
	int32_t head_partition;
	/* the date and time of day of the last second formatted */
	int64_t ts_sec;
	char ts_pfx[32]; /* "YYYY-MM-DDThh:mm:ss" */
	size_t ts_len;   /* 0: none yet */
};

void recjson_cache_init(struct recjson_cache *c);
void recjson_cache_release(struct recjson_cache *c);
/* For other formatters of the same kind (the http output's bulk bodies): is
 * the cached fragment the one of r's key and headers?  And remember
 * frag[0..n) as r's (a key and headers past 64 KiB are not kept). */
bool recjson_cache_hit(const struct recjson_cache *c, const struct record *r);
void recjson_cache_store(struct recjson_cache *c, const struct record *r, const void *frag,
			 size_t n);
/* Append ms as a quoted RFC 3339 time ("2023-11-14T22:13:20.123Z"), the
 * date and time of day formatted once per second of c (NULL: each time).
 * 0 or a negative code. */
SLUICE_MUST_CHECK int recjson_time(struct recjson_cache *c, struct buf *out, int64_t ms);
/* recjson_format() with a cache (NULL: none); the same bytes out. */
SLUICE_MUST_CHECK int recjson_format_cached(struct buf *out, const char *topic, int32_t partition,
					    const struct record *r, struct recjson_cache *c);

#endif
