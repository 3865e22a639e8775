/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Request bodies of the `http` output and the reading of the answers that
 * carry per-document results (Elasticsearch _bulk).  Pure: no I/O, no
 * globals; unit-tested (tests/unit/test_out_http.c) and fuzzed
 * (tests/fuzz/fuzz_http_response.c).
 *
 * Formats (one request body from the records of one or more batches):
 *   ndjson              one JSON object per record and line, the store's
 *                       replay format (lib/recjson.h)
 *   json_array          the same objects in one JSON array
 *   elasticsearch_bulk  `create` action + document per record; the document
 *                       id is "<id_prefix>-<entry id>-<record index>", stable
 *                       across retries and restarts, so a resent batch is
 *                       answered 409 per document instead of indexed twice
 *   loki_push           Loki's push API: streams labelled by topic, host,
 *                       input and path, values [ns timestamp, line]
 */
#ifndef SLUICE_PLUGINS_HTTP_BODY_H
#define SLUICE_PLUGINS_HTTP_BODY_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/recjson.h"
#include "lib/codec.h"

enum http_format {
	HTTP_FMT_NDJSON = 0,
	HTTP_FMT_JSON_ARRAY = 1,
	HTTP_FMT_ES_BULK = 2,
	HTTP_FMT_LOKI = 3,
};

struct http_body {
	enum http_format fmt;
	const char *topic;
	int32_t partition;     /* for ndjson/json_array; 0 unless set */
	const char *index;     /* ES index; NULL = topic */
	const char *id_prefix; /* ES document ids */
	struct buf out;
	size_t records;
	/* loki: the open stream's labels, to group consecutive records */
	struct buf labels;
	struct buf scratch;      /* loki: the current record's labels */
	int open;                /* an element (array item, loki stream) is open */
	struct recjson_cache jc; /* a source's key and headers, formatted; times */
	struct buf es_head;      /* {"create":{"_index":"<index>","_id": */
	struct buf es_id;        /* "<id prefix>- (escaped, unclosed) */
};

void http_body_init(struct http_body *b, enum http_format fmt, const char *topic, const char *index,
		    const char *id_prefix, size_t max_bytes);
void http_body_release(struct http_body *b);
/* Append every record of the batch p[0..n) (spool entry entry_id).  Returns
 * its record count or a negative code (-ERR_CORRUPT, -ERR_TOO_LARGE,
 * -ENOMEM). */
int http_body_add_batch(struct http_body *b, struct codec_ctx *cc, uint64_t entry_id, const void *p,
			size_t n);
/* Close the body (array brackets, loki envelope).  0 or negative. */
int http_body_finish(struct http_body *b);
const char *http_format_content_type(enum http_format fmt);

/* An Elasticsearch _bulk answer: verdict for the documents in order. */
enum bulk_verdict {
	BULK_OK = 0,      /* every item 2xx or 409 (already indexed) */
	BULK_RETRY = 1,   /* some item 429 or 5xx, none refused */
	BULK_REFUSED = 2, /* item *bad refused for good (4xx) */
	BULK_INVALID = 3, /* not a _bulk answer */
};
enum bulk_verdict http_bulk_verdict(const void *body, size_t len, size_t *bad, char *why,
				    size_t whylen);

#endif
