/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Record to JSON line.  The text-or-base64 choice is made per field so that
 * ordinary log lines stay greppable in the output and binary payloads
 * survive the round trip exactly.
 */
#include <stdio.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/err.h"
#include "lib/json.h"
#include "lib/recjson.h"

#define TS_MIN (-62135596800000LL) /* 0001-01-01T00:00:00Z */
#define TS_MAX (253402300799999LL) /* 9999-12-31T23:59:59.999Z */

/* "name":"text" or "name":"base64","name_base64":true or "name":null */
static int bytes_field(struct buf *out, bool *first, const char *name, const uint8_t *p,
		       int32_t len)
{
	char flag[32];
	int rc = json_key(out, first, name);

	if (rc < 0)
		return rc;
	if (len < 0)
		return buf_append_str(out, "null");
	if (utf8_valid(p, (size_t)len))
		return json_str(out, p, (size_t)len);
	rc = buf_append_u8(out, '"');
	if (rc == 0)
		rc = base64_encode(out, p, (size_t)len);
	if (rc == 0)
		rc = buf_append_u8(out, '"');
	snprintf(flag, sizeof(flag), "%s_base64", name);
	if (rc == 0)
		rc = json_key(out, first, flag);
	if (rc == 0)
		rc = buf_append_str(out, "true");
	return rc;
}

static int headers_field(struct buf *out, bool *first, const struct record *r)
{
	struct record_header_iter hi;
	struct record_header h;
	bool first_h = true;
	int rc = json_key(out, first, "headers");

	if (rc == 0)
		rc = buf_append_u8(out, '[');
	record_header_iter_init(&hi, r);
	while (rc == 0) {
		bool f = true;

		rc = record_header_iter_next(&hi, &h);
		if (rc <= 0)
			break;
		rc = first_h ? 0 : buf_append_u8(out, ',');
		first_h = false;
		if (rc == 0)
			rc = buf_append_u8(out, '{');
		if (rc == 0)
			rc = json_key(out, &f, "key");
		if (rc == 0)
			rc = json_str(out, h.key, h.key_len > 0 ? (size_t)h.key_len : 0);
		if (rc == 0)
			rc = bytes_field(out, &f, "value", h.value, h.value_len);
		if (rc == 0)
			rc = buf_append_u8(out, '}');
	}
	if (rc == 0)
		rc = buf_append_u8(out, ']');
	return rc;
}

/* Largest key + headers kept in a cache (bigger ones are formatted each time). */
#define CACHE_SRC_MAX (64u << 10)

void recjson_cache_init(struct recjson_cache *c)
{
	buf_init(&c->src, CACHE_SRC_MAX + 16);
	buf_init(&c->frag, 8 * CACHE_SRC_MAX + 256);
	c->valid = false;
}

void recjson_cache_release(struct recjson_cache *c)
{
	buf_release(&c->src);
	buf_release(&c->frag);
	c->valid = false;
}

bool recjson_cache_hit(const struct recjson_cache *c, const struct record *r)
{
	size_t kl = r->key_len > 0 ? (size_t)r->key_len : 0;
	const uint8_t *p = c->src.data;
	int32_t v;

	if (!c->valid || c->src.len != 8 + kl + r->headers_len)
		return false;
	memcpy(&v, p, 4);
	if (v != r->key_len || (kl && memcmp(p + 4, r->key, kl) != 0))
		return false;
	memcpy(&v, p + 4 + kl, 4);
	return v == r->header_count &&
	       (r->headers_len == 0 || memcmp(p + 8 + kl, r->headers, r->headers_len) == 0);
}

void recjson_cache_store(struct recjson_cache *c, const struct record *r, const void *frag,
			 size_t fn)
{
	size_t kl = r->key_len > 0 ? (size_t)r->key_len : 0;
	uint8_t n[4];

	c->valid = false;
	if (kl + r->headers_len > CACHE_SRC_MAX)
		return;
	buf_reset(&c->src);
	buf_reset(&c->frag);
	memcpy(n, &r->key_len, 4);
	if (buf_append(&c->src, n, 4) < 0 || buf_append(&c->src, r->key, kl) < 0)
		return;
	memcpy(n, &r->header_count, 4);
	if (buf_append(&c->src, n, 4) < 0 || buf_append(&c->src, r->headers, r->headers_len) < 0 ||
	    buf_append(&c->frag, frag, fn) < 0)
		return;
	c->valid = true;
}

static int key_headers(struct buf *out, bool *first, const struct record *r,
		       struct recjson_cache *c)
{
	size_t from = out->len;
	int rc;

	if (c && recjson_cache_hit(c, r)) {
		*first = false;
		return buf_append(out, c->frag.data, c->frag.len);
	}
	rc = bytes_field(out, first, "key", r->key, r->key_len);
	if (rc == 0)
		rc = headers_field(out, first, r);
	if (rc == 0 && c)
		recjson_cache_store(c, r, out->data + from, out->len - from);
	return rc;
}

int recjson_format(struct buf *out, const char *topic, int32_t partition, const struct record *r)
{
	return recjson_format_cached(out, topic, partition, r, NULL);
}

int recjson_format_cached(struct buf *out, const char *topic, int32_t partition,
			  const struct record *r, struct recjson_cache *c)
{
	size_t mark = out->len;
	char ts[40];
	bool first = true;
	int rc = buf_append_u8(out, '{');

	if (rc == 0 && topic) {
		rc = json_key(out, &first, "topic");
		if (rc == 0)
			rc = json_cstr(out, topic);
	}
	if (rc == 0)
		rc = json_key(out, &first, "partition");
	if (rc == 0)
		rc = json_i64(out, partition);
	if (rc == 0)
		rc = json_key(out, &first, "offset");
	if (rc == 0)
		rc = json_i64(out, r->offset);
	if (rc == 0)
		rc = json_key(out, &first, "timestamp");
	if (rc == 0)
		rc = json_i64(out, r->timestamp);
	if (rc == 0)
		rc = json_key(out, &first, "time");
	if (rc == 0) {
		/* timestamps come from producers: keep them in years 0001..9999 so
		 * the calendar arithmetic cannot overflow */
		int64_t t = r->timestamp < TS_MIN   ? TS_MIN
			    : r->timestamp > TS_MAX ? TS_MAX
						    : r->timestamp;
		size_t n = clock_fmt_rfc3339(t, ts, sizeof(ts));

		rc = json_str(out, ts, n);
	}
	if (rc == 0)
		rc = key_headers(out, &first, r, c);
	if (rc == 0)
		rc = bytes_field(out, &first, "value", r->value, r->value_len);
	if (rc == 0)
		rc = buf_append_str(out, "}\n");
	if (rc < 0)
		out->len = mark;
	return rc;
}
