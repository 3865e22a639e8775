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

/* ,"name":"text" or ,"name":"base64","name_base64":true or ,"name":null;
 * key is ,"name": and flag ,"name_base64":true (literals: no key is escaped
 * per record). */
static int bytes_field(struct buf *out, const char *key, const char *flag, const uint8_t *p,
		       int32_t len)
{
	int rc = buf_append_str(out, key);

	if (rc < 0)
		return rc;
	if (len < 0)
		return buf_append_str(out, "null");
	rc = json_text(out, p, (size_t)len);
	if (rc <= 0)
		return rc; /* appended, or a failure */
	rc = buf_append_u8(out, '"');
	if (rc == 0)
		rc = base64_encode(out, p, (size_t)len);
	if (rc == 0)
		rc = buf_append_u8(out, '"');
	if (rc == 0)
		rc = buf_append_str(out, flag);
	return rc;
}

static int headers_field(struct buf *out, const struct record *r)
{
	struct record_header_iter hi;
	struct record_header h;
	bool first_h = true;
	int rc = buf_append_str(out, ",\"headers\":[");

	record_header_iter_init(&hi, r);
	while (rc == 0) {
		rc = record_header_iter_next(&hi, &h);
		if (rc <= 0)
			break;
		rc = buf_append_str(out, first_h ? "{\"key\":" : ",{\"key\":");
		first_h = false;
		if (rc == 0)
			rc = json_str(out, h.key, h.key_len > 0 ? (size_t)h.key_len : 0);
		if (rc == 0)
			rc = bytes_field(out, ",\"value\":", ",\"value_base64\":true", h.value,
					 h.value_len);
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
	buf_init(&c->head, 1024);
	buf_init(&c->head_topic, 1024);
	c->head_partition = 0;
	c->valid = false;
	c->ts_sec = 0;
	c->ts_len = 0;
}

void recjson_cache_release(struct recjson_cache *c)
{
	buf_release(&c->src);
	buf_release(&c->frag);
	buf_release(&c->head);
	buf_release(&c->head_topic);
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

static int key_headers(struct buf *out, const struct record *r, struct recjson_cache *c)
{
	size_t from = out->len;
	int rc;

	if (c && recjson_cache_hit(c, r))
		return buf_append(out, c->frag.data, c->frag.len);
	rc = bytes_field(out, ",\"key\":", ",\"key_base64\":true", r->key, r->key_len);
	if (rc == 0)
		rc = headers_field(out, r);
	if (rc == 0 && c)
		recjson_cache_store(c, r, out->data + from, out->len - from);
	return rc;
}

/* {"topic":<topic>,"partition":<partition>,"offset": (no "topic" when NULL),
 * the same for every line of a loop: kept in c for the next. */
static int line_head(struct buf *out, const char *topic, int32_t partition, struct recjson_cache *c)
{
	size_t from = out->len, tl = topic ? strlen(topic) + 1 : 0;
	int rc;

	if (c && c->head.len && c->head_partition == partition && c->head_topic.len == tl &&
	    (!topic || memcmp(c->head_topic.data, topic, tl) == 0))
		return buf_append(out, c->head.data, c->head.len);
	rc = buf_append_u8(out, '{');
	if (rc == 0 && topic) {
		rc = buf_append_str(out, "\"topic\":");
		rc = rc ? rc : json_cstr(out, topic);
		rc = rc ? rc : buf_append_u8(out, ',');
	}
	rc = rc ? rc : buf_append_str(out, "\"partition\":");
	rc = rc ? rc : json_i64(out, partition);
	rc = rc ? rc : buf_append_str(out, ",\"offset\":");
	if (rc == 0 && c) {
		buf_reset(&c->head);
		buf_reset(&c->head_topic);
		c->head_partition = partition;
		/* the topic with its NUL: a NULL topic is the empty record */
		if (buf_append(&c->head_topic, topic, tl) < 0 ||
		    buf_append(&c->head, out->data + from, out->len - from) < 0)
			c->head.len = 0;
	}
	return rc;
}

int recjson_time(struct recjson_cache *c, struct buf *out, int64_t ms)
{
	char ts[40], *t;
	size_t n;

	if (ms < 0 || !c) {
		n = clock_fmt_rfc3339(ms, ts, sizeof(ts));
		return json_str(out, ts, n);
	}
	if (!c->ts_len || ms / 1000 != c->ts_sec) {
		n = clock_fmt_rfc3339(ms / 1000 * 1000, ts, sizeof(ts));
		if (n < 5 || n - 5 >= sizeof(c->ts_pfx))
			return json_str(out, ts, n);
		c->ts_sec = ms / 1000;
		c->ts_len = n - 5; /* without ".mmmZ" */
		memcpy(c->ts_pfx, ts, c->ts_len);
	}
	if (buf_reserve(out, c->ts_len + 7) < 0)
		return -ERR_TOO_LARGE;
	t = (char *)out->data + out->len;
	*t++ = '"';
	memcpy(t, c->ts_pfx, c->ts_len);
	t += c->ts_len;
	*t++ = '.';
	*t++ = (char)('0' + ms % 1000 / 100);
	*t++ = (char)('0' + ms % 100 / 10);
	*t++ = (char)('0' + ms % 10);
	*t++ = 'Z';
	*t++ = '"';
	out->len = (size_t)(t - (char *)out->data);
	return 0;
}

int recjson_format(struct buf *out, const char *topic, int32_t partition, const struct record *r)
{
	return recjson_format_cached(out, topic, partition, r, NULL);
}

int recjson_format_cached(struct buf *out, const char *topic, int32_t partition,
			  const struct record *r, struct recjson_cache *c)
{
	size_t mark = out->len;
	/* timestamps come from producers: keep them in years 0001..9999 so
	 * the calendar arithmetic cannot overflow */
	int64_t t = r->timestamp < TS_MIN ? TS_MIN : r->timestamp > TS_MAX ? TS_MAX : r->timestamp;
	int rc = line_head(out, topic, partition, c);

	if (rc == 0)
		rc = json_i64(out, r->offset);
	if (rc == 0)
		rc = buf_append(out, ",\"timestamp\":", 13);
	if (rc == 0)
		rc = json_i64(out, r->timestamp);
	if (rc == 0)
		rc = buf_append(out, ",\"time\":", 8);
	if (rc == 0)
		rc = recjson_time(c, out, t);
	if (rc == 0)
		rc = key_headers(out, r, c);
	if (rc == 0)
		rc = bytes_field(out, ",\"value\":", ",\"value_base64\":true", r->value,
				 r->value_len);
	if (rc == 0)
		rc = buf_append(out, "}\n", 2);
	if (rc < 0)
		out->len = mark;
	return rc;
}
