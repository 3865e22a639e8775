/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Agent ingest over HTTP: POST /v1/topics/{t}/batches and POST /v1/producers.
 *
 * A body is one or more RecordBatch v2 back to back.  Every batch is split
 * and validated (CRC, lengths, producer fields; no decompression) before
 * anything is appended, so a corrupt body changes nothing.  Then each batch
 * is appended to its partition and the answer waits until every appended
 * batch is durable (visible), as the delivery contract requires.
 *
 * Partition of a batch: ?partition=N when given (what the agent sends: it
 * assigns producer sequences per partition, so it must choose).  Otherwise
 * murmur2 of the batch's first record key, the Kafka default partitioner;
 * decoding that key costs a bounded partial decompression (the first 64 KiB
 * of the records section).  A null key maps to partition 0 for idempotent
 * batches (their sequence must land where the producer counts it) and round
 * robin for the others.
 *
 * Retries (the duplicate rule, docs/HTTP_API.md): an idempotent batch that
 * the engine recognises as an exact retry is not written again; it is
 * answered like a new one, 200 with its original offsets and
 * "duplicate": true, once those offsets are durable.  An engine-level
 * -ERR_DUPLICATE (a retry older than the engine's per-producer window) is
 * 409 "duplicate": the data is in the log, but its offsets are not known.
 */
#include <inttypes.h>
#include <string.h>

#include "lib/batch.h"
#include "lib/err.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/murmur2.h"
#include "store/http/http_param.h"
#include "store/http/http_priv.h"

#define KEY_PREFIX_BYTES (64u << 10)
#define KEY_FULL_BYTES (16u << 20)

struct ingest_batch {
	size_t off; /* in the body */
	struct batch_info bi;
	int32_t partition;
	bool appended;
	bool foreign; /* its producer id is another principal's */
	struct engine_append_result res;
};

/* Key of the first record from its encoding: length, attributes,
 * timestampDelta, offsetDelta, keyLength, key.  -ERR_TRUNCATED when recs is
 * a prefix too short to hold the key. */
static int parse_first_key(const uint8_t *recs, size_t n, const uint8_t **key, int32_t *klen)
{
	struct cursor c;
	int32_t len;

	cursor_init(&c, recs, n);
	(void)cursor_varint(&c);
	(void)cursor_u8(&c);
	(void)cursor_varlong(&c);
	(void)cursor_varint(&c);
	len = cursor_varint(&c);
	if (!cursor_ok(&c))
		return -ERR_TRUNCATED;
	if (len < -1)
		return -ERR_CORRUPT;
	*klen = len;
	*key = NULL;
	if (len > 0) {
		*key = cursor_take(&c, (size_t)len);
		if (!*key)
			return -ERR_TRUNCATED;
	}
	return 0;
}

static int first_key(struct codec_ctx **cc, const uint8_t *b, const struct batch_info *bi,
		     struct buf *scratch, const uint8_t **key, int32_t *klen)
{
	const uint8_t *recs = b + BATCH_HEADER_SIZE;
	size_t n = bi->size - BATCH_HEADER_SIZE;
	int rc;

	if (bi->count <= 0) {
		*klen = -1;
		return 0;
	}
	if (batch_codec(bi) == CODEC_NONE)
		return parse_first_key(recs, n, key, klen);
	if (!*cc) {
		*cc = codec_ctx_new();
		if (!*cc)
			return -ENOMEM;
	}
	/* a prefix usually holds the key; a huge key gets a second, larger try */
	for (size_t bound = KEY_PREFIX_BYTES; bound <= KEY_FULL_BYTES; bound *= 16) {
		buf_release(scratch);
		buf_init(scratch, bound);
		rc = codec_decompress(*cc, batch_codec(bi), recs, n, scratch);
		if (rc < 0 && rc != -ERR_TOO_LARGE)
			return -ERR_CORRUPT;
		rc = parse_first_key(scratch->data, scratch->len, key, klen);
		if (rc != -ERR_TRUNCATED)
			return rc;
	}
	return -ERR_CORRUPT;
}

static int choose_partition(struct http_api *api, struct codec_ctx **cc, const uint8_t *b,
			    const struct batch_info *bi, int32_t nparts, struct buf *scratch,
			    int32_t *out)
{
	const uint8_t *key;
	int32_t klen;
	int rc = first_key(cc, b, bi, scratch, &key, &klen);

	if (rc < 0)
		return rc;
	if (klen >= 0)
		*out = murmur2_partition(key ? key : (const uint8_t *)"", (size_t)klen, nparts);
	else if (bi->producer_id >= 0)
		*out = 0;
	else
		*out = (int32_t)(atomic_fetch_add(&api->keyless_rr, 1) % (unsigned)nparts);
	return 0;
}

/* Split and validate the whole body.  0 with *out (n batches), or a
 * response was queued and -1 returned. */
static int split_body(struct http_api_req *req, struct ingest_batch **out, size_t *nout,
		      enum MHD_Result *res)
{
	uint8_t *p = req->body.data;
	size_t len = req->body.len, off = 0, n = 0, cap;
	struct ingest_batch *v;

	cap = len / BATCH_HEADER_SIZE + 1;
	v = mem_calloc(cap, sizeof(*v));
	if (!v) {
		*res = http_api_reply_log_error(req, -ENOMEM, "ingest");
		return -1;
	}
	while (off < len) {
		struct batch_info bi;
		int rc = batch_next(p + off, len - off, &bi);

		if (rc == 0)
			rc = engine_batch_check(req->api->log, p + off, bi.size, &bi);
		if (rc == -ENOMEM || rc == -ERR_TOO_LARGE) {
			*res = http_api_reply_log_error(req, rc, "ingest");
			mem_free(v);
			return -1;
		}
		if (rc < 0) {
			char extra[64];

			snprintf(extra, sizeof(extra), "\"batch\":%zu", n);
			*res = http_api_reply_error_x(
				req, MHD_HTTP_BAD_REQUEST, "corrupt_batch", extra,
				"batch %zu at byte %zu: %s", n, off,
				rc == -ERR_TRUNCATED ? "body ends inside the batch" : err_str(rc));
			mem_free(v);
			return -1;
		}
		/* Refused at append time unless the store has it already (a
		 * retry from before the principal changed): see append_all(). */
		v[n].foreign = bi.producer_id >= 0 &&
			       auth_producer_check(req->api->auth, AUTH_HTTP, bi.producer_id,
						   req->principal) < 0;
		v[n].off = off;
		v[n].bi = bi;
		n++;
		off += bi.size;
	}
	*out = v;
	*nout = n;
	return 0;
}

static int batch_json(struct buf *b, const struct ingest_batch *ib, bool first)
{
	const struct engine_append_result *r = &ib->res;

	return buf_printf(b,
			  "%s{\"partition\":%" PRId32 ",\"base_offset\":%" PRId64
			  ",\"last_offset\":%" PRId64 ",\"count\":%" PRId64 ",\"duplicate\":%s}",
			  first ? "" : ",", ib->partition, r->base_offset, r->last_offset,
			  r->last_offset - r->base_offset + 1, r->duplicate ? "true" : "false");
}

/* Wait until the appended batches of v[0..n) are acknowledged (durable per
 * the fsync policy), in order; counts them in the ingest metrics.  Returns
 * how many were; the first wait failure goes to *rc unless it holds one. */
static size_t wait_acked(struct http_api *api, const char *topic, struct ingest_batch *v, size_t n,
			 int *rc)
{
	size_t acked = 0;

	for (size_t i = 0; i < n && v[i].appended; i++) {
		int wrc = http_api_wait_visible(api, topic, v[i].partition, v[i].res.last_offset,
						HTTP_ACK_TIMEOUT_MS);

		if (wrc < 0) {
			if (*rc == 0)
				*rc = wrc;
			break;
		}
		acked++;
		atomic_fetch_add(&api->ingest_batches, 1);
		if (v[i].res.duplicate) {
			atomic_fetch_add(&api->ingest_duplicates, 1);
		} else {
			atomic_fetch_add(&api->ingest_bytes, v[i].bi.size);
			atomic_fetch_add(
				&api->ingest_records,
				(uint64_t)(v[i].res.last_offset - v[i].res.base_offset + 1));
		}
	}
	return acked;
}

/* Append in body order; stop at the first refusal.  What was appended
 * before it is still waited for and reported, so a client that retries the
 * whole body gets those batches back as duplicates.  A batch with another
 * principal's producer id is answered as a duplicate when it is an exact
 * retry of one the store has, else refused (*foreign) and nothing of it
 * written: a forger cannot append under the id or pre-empt its sequence,
 * and an agent whose credential was rotated gets what it had delivered
 * back as delivered, then a refusal that makes it take a new id. */
static int append_all(struct http_api *api, const char *topic, uint8_t *body,
		      struct ingest_batch *v, size_t n, bool *foreign)
{
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		if (v[i].foreign) {
			rc = engine_find_duplicate(api->log, topic, v[i].partition, body + v[i].off,
						   v[i].bi.size, &v[i].res);
			if (rc == 1) {
				v[i].appended = true;
				rc = 0;
				continue;
			}
			*foreign = rc == 0;
			return rc == 0 ? -ERR_AUTH : rc;
		}
		rc = engine_append(api->log, topic, v[i].partition, body + v[i].off, v[i].bi.size,
				   &v[i].res);
		if (rc == 0)
			v[i].appended = true;
	}
	return rc;
}

enum MHD_Result http_ingest_batches(struct http_api_req *req)
{
	struct http_api *api = req->api;
	const char *topic = req->route.topic, *ps = http_api_arg(req, "partition");
	struct ingest_batch *v = NULL;
	struct codec_ctx *cc = NULL;
	struct buf scratch, out;
	enum MHD_Result res = MHD_NO;
	size_t n = 0, acked = 0;
	int64_t fixed = -1;
	int32_t nparts;
	bool foreign = false;
	int rc = 0;

	buf_init(&scratch, KEY_PREFIX_BYTES);
	buf_init(&out, 0);
	if (!http_api_allowed(req, HTTP_PERM_PRODUCE, topic)) {
		res = http_api_reply_error(req, MHD_HTTP_FORBIDDEN, "forbidden",
					   "the token may not produce to topic '%s'", topic);
		goto out;
	}
	if (ps && http_param_i64(ps, 0, INT32_MAX, &fixed) < 0) {
		res = http_api_reply_error(req, MHD_HTTP_BAD_REQUEST, "bad_request",
					   "partition must be a non-negative integer");
		goto out;
	}
	if (req->body.len == 0) {
		res = http_api_reply_error(req, MHD_HTTP_BAD_REQUEST, "bad_request",
					   "empty body: expected one or more record batches");
		goto out;
	}
	if (split_body(req, &v, &n, &res) < 0)
		goto out;
	nparts = engine_topic_ensure(api->log, topic);
	if (nparts < 0) {
		res = http_api_reply_log_error(req, nparts, topic);
		goto out;
	}
	if (fixed >= nparts) {
		res = http_api_reply_error(req, MHD_HTTP_NOT_FOUND, "unknown_partition",
					   "topic '%s' has %d partitions", topic, (int)nparts);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		uint8_t *b = req->body.data + v[i].off;

		if (fixed >= 0) {
			v[i].partition = (int32_t)fixed;
		} else {
			rc = choose_partition(api, &cc, b, &v[i].bi, nparts, &scratch,
					      &v[i].partition);
			if (rc < 0) {
				char extra[64];

				snprintf(extra, sizeof(extra), "\"batch\":%zu", i);
				res = http_api_reply_error_x(
					req, MHD_HTTP_BAD_REQUEST, "corrupt_batch", extra,
					"batch %zu: cannot decode its first record "
					"key: %s",
					i, err_str(rc));
				goto out;
			}
		}
	}
	rc = append_all(api, topic, req->body.data, v, n, &foreign);
	acked = wait_acked(api, topic, v, n, &rc);
	if (buf_append_str(&out, rc == 0 ? "{\"topic\":" : "\"topic\":") < 0 ||
	    json_cstr(&out, topic) < 0 || buf_append_str(&out, ",\"batches\":[") < 0)
		goto out;
	for (size_t i = 0; i < acked; i++) {
		if (batch_json(&out, &v[i], i == 0) < 0)
			goto out;
	}
	if (buf_append_u8(&out, ']') < 0)
		goto out;
	if (rc == 0) {
		if (buf_append_u8(&out, '}') < 0)
			goto out;
		res = http_api_reply_json(req, MHD_HTTP_OK, &out);
	} else {
		const char *code, *msg;
		unsigned status;

		if (buf_printf(&out, ",\"failed_batch\":%zu", acked) < 0 || buf_cstr(&out) < 0)
			goto out;
		http_api_map_error(rc, &status, &code, &msg);
		if (foreign) {
			status = MHD_HTTP_FORBIDDEN;
			code = "producer_id_not_owned";
			msg = "its producer id was issued to another principal";
		}
		res = http_api_reply_error_x(req, status, code, (const char *)out.data,
					     "batch %zu of %zu: %s", acked, n, msg);
	}
out:
	codec_ctx_free(cc);
	buf_release(&scratch);
	buf_release(&out);
	mem_free(v);
	return res;
}

enum MHD_Result http_ingest_producers(struct http_api_req *req)
{
	struct buf b;
	enum MHD_Result res;
	int64_t id;
	int rc;

	if (!http_api_allowed(req, HTTP_PERM_PRODUCE, NULL))
		return http_api_reply_error(req, MHD_HTTP_FORBIDDEN, "forbidden",
					    "the token may not produce");
	rc = auth_producer_id_new(req->api->auth, req->api->log, req->principal, &id);
	if (rc < 0)
		return http_api_reply_log_error(req, rc, "producer id");
	buf_init(&b, 256);
	rc = buf_printf(&b, "{\"producer_id\":%" PRId64 ",\"producer_epoch\":0}", id);
	res = rc == 0 ? http_api_reply_json(req, MHD_HTTP_OK, &b) : MHD_NO;
	buf_release(&b);
	return res;
}
