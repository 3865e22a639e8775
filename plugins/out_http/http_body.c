/* SPDX-License-Identifier: Apache-2.0 */
/* Request bodies of the http output; see http_body.h. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lib/batch.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "lib/jdoc.h"
#include "lib/json.h"
#include "lib/recjson.h"
#include "plugins/out_http/http_body.h"

#define MAX_DECOMPRESSED ((size_t)256 << 20)

void http_body_init(struct http_body *b, enum http_format fmt, const char *topic, const char *index,
		    const char *id_prefix, size_t max_bytes)
{
	memset(b, 0, sizeof(*b));
	b->fmt = fmt;
	b->topic = topic;
	b->index = index && *index ? index : topic;
	b->id_prefix = id_prefix ? id_prefix : "sluice";
	buf_init(&b->out, max_bytes);
	buf_init(&b->labels, 4096);
	buf_init(&b->scratch, 4096);
	recjson_cache_init(&b->jc);
	/* the bulk action line's constant head, escaped once */
	buf_init(&b->es_head, 0);
	buf_init(&b->es_id, 0);
	/* "<prefix>- : the id's JSON string opened, its numbers follow */
	if (buf_append_str(&b->es_head, "{\"create\":{\"_index\":") < 0 ||
	    json_cstr(&b->es_head, b->index) < 0 || buf_append_str(&b->es_head, ",\"_id\":") < 0 ||
	    json_cstr(&b->es_id, b->id_prefix) < 0 || b->es_id.len < 2)
		b->es_head.len = 0; /* out of memory: add_es answers -ENOMEM */
	else
		b->es_id.data[b->es_id.len - 1] = '-'; /* the closing quote becomes the dash */
}

void http_body_release(struct http_body *b)
{
	buf_release(&b->out);
	buf_release(&b->labels);
	buf_release(&b->scratch);
	recjson_cache_release(&b->jc);
	buf_release(&b->es_head);
	buf_release(&b->es_id);
}

const char *http_format_content_type(enum http_format fmt)
{
	switch (fmt) {
	case HTTP_FMT_NDJSON:
		return "application/x-ndjson";
	case HTTP_FMT_ES_BULK:
		return "application/x-ndjson";
	default:
		return "application/json";
	}
}

/* The value of header name in r, or NULL (len in *len). */
static const uint8_t *header_value(const struct record *r, const char *name, int32_t *len)
{
	struct record_header_iter it;
	struct record_header h;
	size_t nl = strlen(name);

	record_header_iter_init(&it, r);
	while (record_header_iter_next(&it, &h) == 1) {
		if ((size_t)h.key_len == nl && !memcmp(h.key, name, nl) && h.value_len >= 0) {
			*len = h.value_len;
			return h.value;
		}
	}
	return NULL;
}

/* A record consumed by the kafka input names its origin: the document id
 * is then topic/partition/offset, the same whichever agent (or restart)
 * delivers it, so a record read twice after a consumer crash or a
 * rebalance is one document.  0 when id was filled. */
static int kafka_id(const struct record *r, char *id, size_t idlen)
{
	int32_t tl, pl, ol;
	const uint8_t *t = header_value(r, "kafka.topic", &tl);
	const uint8_t *p = header_value(r, "kafka.partition", &pl);
	const uint8_t *o = header_value(r, "kafka.offset", &ol);
	int n;

	if (!t || !p || !o)
		return -1;
	n = snprintf(id, idlen, "%.*s/%.*s/%.*s", (int)tl, (const char *)t, (int)pl,
		     (const char *)p, (int)ol, (const char *)o);
	return n > 0 && (size_t)n < idlen ? 0 : -1;
}

/* The end of a bulk document from its key and headers:
 * ,"key":..,"sluice":{"topic":..,<headers>}}\n. */
static int es_tail(struct http_body *b, const struct record *r, struct buf *o)
{
	struct record_header_iter it;
	struct record_header h;
	int rc = 0;

	if (r->key_len >= 0) {
		rc = buf_append_str(o, ",\"key\":");
		rc = rc ? rc : json_str(o, r->key, (size_t)r->key_len);
	}
	/* headers as fields, under "sluice" so they cannot clash with the
	 * document's own */
	rc = rc ? rc : buf_append_str(o, ",\"sluice\":{\"topic\":");
	rc = rc ? rc : json_cstr(o, b->topic);
	record_header_iter_init(&it, r);
	while (!rc && (rc = record_header_iter_next(&it, &h)) == 1) {
		rc = buf_append_u8(o, ',');
		rc = rc ? rc : json_str(o, h.key, h.key_len > 0 ? (size_t)h.key_len : 0);
		rc = rc ? rc : buf_append_u8(o, ':');
		rc = rc ? rc
			: json_str(o, h.value ? (const void *)h.value : "",
				   h.value_len > 0 ? (size_t)h.value_len : 0);
	}
	return rc < 0 ? rc : buf_append_str(o, "}}\n");
}

static int add_es(struct http_body *b, const struct record *r, uint64_t entry_id, int32_t idx)
{
	struct buf *o = &b->out;
	char id[320];
	/* a source's records share key and headers: the same tail, and the
	 * same answer to "has it a kafka.* origin" (which then it has not) */
	bool same = recjson_cache_hit(&b->jc, r);
	size_t from;
	int rc;

	if (b->es_head.len == 0)
		return -ENOMEM; /* http_body_init could not build it */
	rc = buf_append(o, b->es_head.data, b->es_head.len);
	if (rc == 0 && !same && kafka_id(r, id, sizeof(id)) == 0) {
		rc = json_cstr(o, id);
	} else if (rc == 0) {
		/* "<prefix>-<entry>-<index>": the prefix escaped once, in es_id */
		rc = buf_append(o, b->es_id.data, b->es_id.len);
		rc = rc ? rc : json_i64(o, (int64_t)entry_id);
		rc = rc ? rc : buf_append_u8(o, '-');
		rc = rc ? rc : json_i64(o, idx);
		rc = rc ? rc : buf_append_u8(o, '"');
	}
	rc = rc ? rc : buf_append_str(o, "}}\n{\"@timestamp\":");
	rc = rc ? rc : recjson_time(&b->jc, o, r->timestamp);
	rc = rc ? rc : buf_append_str(o, ",\"message\":");
	rc = rc ? rc
		: json_str(o, r->value ? (const void *)r->value : "",
			   r->value_len > 0 ? (size_t)r->value_len : 0);
	if (rc < 0)
		return rc;
	if (same)
		return buf_append(o, b->jc.frag.data, b->jc.frag.len);
	from = o->len;
	rc = es_tail(b, r, o);
	/* only records without a kafka.* origin share their tail */
	if (rc == 0 && kafka_id(r, id, sizeof(id)) != 0)
		recjson_cache_store(&b->jc, r, o->data + from, o->len - from);
	return rc;
}

static int loki_labels(struct http_body *b, const struct record *r, struct buf *l)
{
	static const char *const names[] = {"host", "input", "path"};
	bool first = false;
	int rc;

	buf_reset(l);
	rc = buf_append_str(l, "{\"topic\":");
	rc = rc ? rc : json_cstr(l, b->topic);
	for (size_t i = 0; !rc && i < sizeof(names) / sizeof(names[0]); i++) {
		int32_t len;
		const uint8_t *v = header_value(r, names[i], &len);

		if (!v)
			continue;
		rc = json_key(l, &first, names[i]);
		rc = rc ? rc : json_str(l, v, (size_t)len);
	}
	return rc ? rc : buf_append_u8(l, '}');
}

static int add_loki(struct http_body *b, const struct record *r)
{
	struct buf *o = &b->out;
	struct buf *l = &b->scratch;
	int rc = 0;
	/* the labels come from the key-and-headers bytes: a record with the
	 * same ones as the last has the same labels */
	bool same = b->open && recjson_cache_hit(&b->jc, r);

	if (!same) {
		rc = loki_labels(b, r, l);
		if (rc < 0)
			goto out;
		recjson_cache_store(&b->jc, r, "", 0);
	}
	if (!same &&
	    (!b->open || l->len != b->labels.len || memcmp(l->data, b->labels.data, l->len))) {
		if (b->open)
			rc = buf_append_str(o, "]},");
		else
			rc = buf_append_str(o, "{\"streams\":[");
		rc = rc ? rc : buf_append_str(o, "{\"stream\":");
		rc = rc ? rc : buf_append(o, l->data, l->len);
		rc = rc ? rc : buf_append_str(o, ",\"values\":[");
		if (rc < 0)
			goto out;
		buf_reset(&b->labels);
		rc = buf_append(&b->labels, l->data, l->len);
		if (rc < 0)
			goto out;
		b->open = 1;
	} else {
		rc = buf_append_u8(o, ',');
	}
	/* ["<ns since the epoch>", */
	rc = rc ? rc : buf_append(o, "[\"", 2);
	rc = rc ? rc : json_i64(o, r->timestamp);
	rc = rc ? rc : buf_append(o, "000000\",", 8);
	rc = rc ? rc
		: json_str(o, r->value ? (const void *)r->value : "",
			   r->value_len > 0 ? (size_t)r->value_len : 0);
	rc = rc ? rc : buf_append_u8(o, ']');
out:
	return rc;
}

static int add_record(struct http_body *b, const struct record *r, uint64_t entry_id, int32_t idx)
{
	int rc;

	switch (b->fmt) {
	case HTTP_FMT_NDJSON:
		return recjson_format_cached(&b->out, b->topic, b->partition, r, &b->jc);
	case HTTP_FMT_JSON_ARRAY:
		rc = buf_append_u8(&b->out, b->open ? ',' : '[');
		if (rc < 0)
			return rc;
		b->open = 1;
		rc = recjson_format_cached(&b->out, b->topic, b->partition, r, &b->jc);
		if (rc == 0)
			b->out.len--; /* its '\n' */
		return rc;
	case HTTP_FMT_ES_BULK:
		return add_es(b, r, entry_id, idx);
	case HTTP_FMT_LOKI:
		return add_loki(b, r);
	}
	return -ERR_INVALID;
}

int http_body_add_batch(struct http_body *b, struct codec_ctx *cc, uint64_t entry_id, const void *p,
			size_t n)
{
	struct batch_iter it;
	struct record r;
	int32_t idx = 0;
	int rc;

	rc = batch_iter_init(&it, p, n, cc, MAX_DECOMPRESSED, false);
	while (rc == 0 && (rc = batch_iter_next(&it, &r)) == 1) {
		rc = add_record(b, &r, entry_id, idx++);
		if (rc > 0)
			rc = 0;
	}
	batch_iter_release(&it);
	if (rc < 0)
		return rc;
	b->records += (size_t)idx;
	return idx;
}

int http_body_finish(struct http_body *b)
{
	switch (b->fmt) {
	case HTTP_FMT_JSON_ARRAY:
		return buf_append_str(&b->out, b->open ? "]" : "[]");
	case HTTP_FMT_LOKI:
		return buf_append_str(&b->out, b->open ? "]}]}" : "{\"streams\":[]}");
	default:
		return 0;
	}
}

/* ------------------------------------------------------------ _bulk answers */

enum bulk_verdict http_bulk_verdict(const void *body, size_t len, size_t *bad, char *why,
				    size_t whylen)
{
	struct jdoc *d = NULL;
	const struct jnode *root, *items;
	enum bulk_verdict v = BULK_OK;
	bool errors = true;

	*bad = 0;
	if (why && whylen)
		why[0] = '\0';
	if (jdoc_parse(body, len, &d, NULL) < 0) {
		snprintf(why, whylen, "the answer is not JSON");
		return BULK_INVALID;
	}
	root = jdoc_root(d);
	if (!root || root->type != JOBJ) {
		snprintf(why, whylen, "the answer is not a JSON object");
		v = BULK_INVALID;
		goto out;
	}
	if (jnode_bool(jnode_get(root, "errors"), &errors) == 0 && !errors)
		goto out; /* the fast path Elasticsearch offers */
	items = jnode_get(root, "items");
	if (!items || items->type != JARR) {
		snprintf(why, whylen, "no \"items\" in the _bulk answer");
		v = BULK_INVALID;
		goto out;
	}
	for (size_t i = 0; i < items->n; i++) {
		const struct jnode *it = &items->kids[i], *op, *err;
		int64_t status = 0;

		if (it->type != JOBJ || it->n < 1 || it->kids[0].type != JOBJ) {
			snprintf(why, whylen, "item %zu is not an action result", i);
			v = BULK_INVALID;
			goto out;
		}
		op = &it->kids[0];
		if (jnode_i64(jnode_get(op, "status"), &status) < 0) {
			snprintf(why, whylen, "item %zu has no status", i);
			v = BULK_INVALID;
			goto out;
		}
		if ((status >= 200 && status < 300) || status == 409)
			continue;
		if (status == 429 || status >= 500) {
			if (v == BULK_OK) {
				v = BULK_RETRY;
				*bad = i;
				snprintf(why, whylen, "document %zu: status %" PRId64, i, status);
			}
			continue;
		}
		*bad = i;
		err = jnode_get(op, "error");
		{
			const char *type = jnode_str(jnode_get(err, "type"));
			const char *reason = jnode_str(jnode_get(err, "reason"));

			snprintf(why, whylen, "document %zu: status %" PRId64 " %.64s: %.200s", i,
				 status, type ? type : "", reason ? reason : "");
		}
		v = BULK_REFUSED;
		goto out;
	}
out:
	jdoc_free(d);
	return v;
}
