/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Topic administration over HTTP: GET/POST /v1/topics,
 * GET/PUT/DELETE /v1/topics/{t}, and GET /v1/groups (consumer-group lag from
 * the group coordinator's thread-safe snapshot).
 *
 * Topic JSON (list items and single topic alike):
 *   {"name":"nginx","partition_count":2,
 *    "config":{"retention_ms":604800000,"retention_bytes":-1,
 *              "segment_bytes":1073741824,"segment_ms":604800000,
 *              "max_batch_bytes":8388608,"timestamp_type":"CreateTime"},
 *    "bytes":1234,"records":10,
 *    "partitions":[{"partition":0,"log_start":0,"end":6,"high_watermark":6,
 *                   "bytes":700,"segments":1,"first_timestamp":...,
 *                   "last_timestamp":...}, ...]}
 *
 * Bodies of POST (create; "name" required) and PUT (create or alter) are
 * JSON objects with any of partitions, retention_ms, retention_bytes,
 * segment_bytes, segment_ms, max_batch_bytes (-1 = unlimited/forever for the
 * retention fields).  Unknown members are a 400, so a typo is not ignored.
 */
#include <inttypes.h>
#include <string.h>

#include "lib/err.h"
#include "lib/jdoc.h"
#include "lib/json.h"
#include "lib/mem.h"
#include "lib/topic_name.h"
#include "store/groups/groups.h"
#include "store/http/http_priv.h"

#define MAX_LIST_BYTES (64u << 20)

static int topic_json(struct engine *log, const char *name, struct buf *b)
{
	struct topic_config tc;
	int64_t bytes = 0, records = 0;
	int rc = engine_topic_config(log, name, &tc);

	if (rc < 0)
		return rc;
	rc = buf_append_str(b, "{\"name\":");
	if (rc == 0)
		rc = json_cstr(b, name);
	if (rc == 0)
		rc = buf_printf(
			b,
			",\"partition_count\":%" PRId32 ",\"config\":{\"retention_ms\":%" PRId64
			",\"retention_bytes\":%" PRId64 ",\"segment_bytes\":%" PRId64
			",\"segment_ms\":%" PRId64 ",\"max_batch_bytes\":%" PRId64
			",\"timestamp_type\":\"%s\"},\"partitions\":[",
			tc.partitions, tc.retention_ms, tc.retention_bytes, tc.segment_bytes,
			tc.segment_ms, tc.max_batch_bytes, engine_ts_type_name(tc.timestamp_type));
	for (int32_t p = 0; rc == 0 && p < tc.partitions; p++) {
		struct engine_partition_info pi;

		rc = engine_partition_info(log, name, p, &pi);
		if (rc < 0)
			break;
		bytes += pi.bytes;
		records += pi.end - pi.log_start;
		rc = buf_printf(b,
				"%s{\"partition\":%" PRId32 ",\"log_start\":%" PRId64
				",\"end\":%" PRId64 ",\"high_watermark\":%" PRId64
				",\"bytes\":%" PRId64 ",\"segments\":%" PRId32
				",\"first_timestamp\":%" PRId64 ",\"last_timestamp\":%" PRId64 "}",
				p ? "," : "", p, pi.log_start, pi.end, pi.visible, pi.bytes,
				pi.segments, pi.first_timestamp, pi.last_timestamp);
	}
	if (rc == 0)
		rc = buf_printf(b, "],\"bytes\":%" PRId64 ",\"records\":%" PRId64 "}", bytes,
				records);
	return rc;
}

static bool visible_to(struct http_api_req *req, const char *topic)
{
	return http_api_allowed(req, HTTP_PERM_CONSUME, topic) ||
	       http_api_allowed(req, HTTP_PERM_PRODUCE, topic);
}

static enum MHD_Result list_topics(struct http_api_req *req)
{
	struct engine *log = req->api->log;
	char **names = NULL;
	size_t n = 0, shown = 0;
	struct buf b;
	enum MHD_Result res;
	int rc;

	rc = engine_topic_list(log, &names, &n);
	if (rc < 0)
		return http_api_reply_log_error(req, rc, "topics");
	buf_init(&b, MAX_LIST_BYTES);
	rc = buf_append_str(&b, "{\"topics\":[");
	for (size_t i = 0; i < n && rc == 0; i++) {
		size_t mark = b.len;

		if (!visible_to(req, names[i]))
			continue;
		if (shown)
			rc = buf_append_u8(&b, ',');
		if (rc == 0)
			rc = topic_json(log, names[i], &b);
		if (rc == -ERR_NOT_FOUND) {
			/* deleted between the list and now */
			b.len = mark;
			rc = 0;
			continue;
		}
		shown++;
	}
	if (rc == 0)
		rc = buf_append_str(&b, "]}");
	engine_names_free(names, n);
	if (rc < 0) {
		buf_release(&b);
		return http_api_reply_log_error(req, rc, "topics");
	}
	res = http_api_reply_json(req, MHD_HTTP_OK, &b);
	buf_release(&b);
	return res;
}

static enum MHD_Result reply_topic(struct http_api_req *req, const char *name, unsigned status)
{
	struct buf b;
	enum MHD_Result res;
	int rc;

	buf_init(&b, MAX_LIST_BYTES);
	rc = topic_json(req->api->log, name, &b);
	if (rc < 0) {
		buf_release(&b);
		return http_api_reply_log_error(req, rc, name);
	}
	res = http_api_reply_json(req, status, &b);
	buf_release(&b);
	return res;
}

struct topic_body {
	const char *name;
	struct topic_config tc; /* 0 = not given */
	bool has[6];            /* partitions, retention_ms, retention_bytes, segment_bytes,
					segment_ms, max_batch_bytes */
};

static const char *const body_fields[6] = {"partitions",    "retention_ms", "retention_bytes",
					   "segment_bytes", "segment_ms",   "max_batch_bytes"};

/* Parse a topic body.  0, or a response was queued and -1 returned. */
static int parse_body(struct http_api_req *req, struct jdoc **doc, struct topic_body *tb,
		      bool want_name, enum MHD_Result *res)
{
	const struct jnode *root;
	size_t off = 0;
	int rc;

	memset(tb, 0, sizeof(*tb));
	*doc = NULL;
	if (req->body.len == 0) {
		if (!want_name)
			return 0;
		*res = http_api_reply_error(req, MHD_HTTP_BAD_REQUEST, "bad_request",
					    "expected a JSON object with \"name\"");
		return -1;
	}
	rc = jdoc_parse(req->body.data, req->body.len, doc, &off);
	if (rc < 0) {
		*res = http_api_reply_error(req, MHD_HTTP_BAD_REQUEST, "bad_request",
					    "body is not valid JSON (byte %zu)", off);
		return -1;
	}
	root = jdoc_root(*doc);
	if (root->type != JOBJ) {
		*res = http_api_reply_error(req, MHD_HTTP_BAD_REQUEST, "bad_request",
					    "body must be a JSON object");
		return -1;
	}
	for (size_t i = 0; i < root->n; i++) {
		const struct jnode *m = &root->kids[i];
		int64_t v, min;
		int f;

		if (strcmp(m->key, "name") == 0 && want_name && m->type == JSTR) {
			if (strlen(m->s) != m->len) {
				/* "\u0000" would cut the name short: another topic */
				*res = http_api_reply_error(req, MHD_HTTP_BAD_REQUEST,
							    "invalid_topic",
							    "topic names cannot hold NUL");
				return -1;
			}
			tb->name = m->s;
			continue;
		}
		for (f = 0; f < 6; f++) {
			if (strcmp(m->key, body_fields[f]) == 0)
				break;
		}
		if (f == 6) {
			*res = http_api_reply_error(req, MHD_HTTP_BAD_REQUEST, "bad_request",
						    "unknown or misplaced field \"%.64s\"", m->key);
			return -1;
		}
		/* retention fields take -1 (no limit); the others must be positive */
		min = (f == 1 || f == 2) ? -1 : 1;
		if (jnode_i64(m, &v) < 0 || v < min || v == 0 || (f == 0 && v > 100000)) {
			*res = http_api_reply_error(req, MHD_HTTP_BAD_REQUEST, "bad_request",
						    "\"%s\" must be an integer %s", body_fields[f],
						    min < 0 ? "> 0 or -1" : "> 0");
			return -1;
		}
		tb->has[f] = true;
		switch (f) {
		case 0:
			tb->tc.partitions = (int32_t)v;
			break;
		case 1:
			tb->tc.retention_ms = v;
			break;
		case 2:
			tb->tc.retention_bytes = v;
			break;
		case 3:
			tb->tc.segment_bytes = v;
			break;
		case 4:
			tb->tc.segment_ms = v;
			break;
		default:
			tb->tc.max_batch_bytes = v;
			break;
		}
	}
	if (want_name && !tb->name) {
		*res = http_api_reply_error(req, MHD_HTTP_BAD_REQUEST, "bad_request",
					    "\"name\" (a string) is required");
		return -1;
	}
	return 0;
}

static enum MHD_Result create_topic(struct http_api_req *req, const char *name,
				    const struct topic_config *tc)
{
	int rc;

	if (!topic_name_valid(name))
		return http_api_reply_error(req, MHD_HTTP_BAD_REQUEST, "invalid_topic",
					    "topic names are 1-249 of [a-zA-Z0-9._-]");
	rc = engine_topic_create(req->api->log, name, tc);
	if (rc < 0)
		return http_api_reply_log_error(req, rc, name);
	return reply_topic(req, name, MHD_HTTP_CREATED);
}

enum MHD_Result http_admin_topics(struct http_api_req *req)
{
	struct topic_body tb;
	struct jdoc *doc = NULL;
	enum MHD_Result res;

	if (req->route.method != HTTP_POST)
		return list_topics(req);
	if (parse_body(req, &doc, &tb, true, &res) < 0) {
		jdoc_free(doc);
		return res;
	}
	if (!http_api_allowed(req, HTTP_PERM_ADMIN, tb.name))
		res = http_api_reply_error(req, MHD_HTTP_FORBIDDEN, "forbidden",
					   "the token may not administer topic '%s'", tb.name);
	else
		res = create_topic(req, tb.name, &tb.tc);
	jdoc_free(doc);
	return res;
}

static enum MHD_Result put_topic(struct http_api_req *req)
{
	const char *name = req->route.topic;
	struct engine_topic_alter a;
	struct topic_config cur;
	struct topic_body tb;
	struct jdoc *doc = NULL;
	enum MHD_Result res;
	int rc;

	if (parse_body(req, &doc, &tb, false, &res) < 0)
		goto out;
	rc = engine_topic_config(req->api->log, name, &cur);
	if (rc == -ERR_NOT_FOUND) {
		res = create_topic(req, name, &tb.tc);
		goto out;
	}
	if (rc < 0) {
		res = http_api_reply_log_error(req, rc, name);
		goto out;
	}
	if (tb.has[4] && tb.tc.segment_ms != cur.segment_ms) {
		res = http_api_reply_error(req, MHD_HTTP_BAD_REQUEST, "bad_request",
					   "segment_ms cannot be changed on an existing topic");
		goto out;
	}
	if (tb.has[0] && tb.tc.partitions < cur.partitions) {
		res = http_api_reply_error(req, MHD_HTTP_BAD_REQUEST, "bad_request",
					   "partitions can only grow (topic has %" PRId32 ")",
					   cur.partitions);
		goto out;
	}
	memset(&a, 0, sizeof(a));
	a.partitions = tb.has[0] && tb.tc.partitions != cur.partitions ? tb.tc.partitions : 0;
	a.set_retention_ms = tb.has[1];
	a.retention_ms = tb.tc.retention_ms;
	a.set_retention_bytes = tb.has[2];
	a.retention_bytes = tb.tc.retention_bytes;
	a.set_segment_bytes = tb.has[3];
	a.segment_bytes = tb.tc.segment_bytes;
	a.set_max_batch_bytes = tb.has[5];
	a.max_batch_bytes = tb.tc.max_batch_bytes;
	rc = engine_topic_alter(req->api->log, name, &a);
	if (rc < 0) {
		res = http_api_reply_log_error(req, rc, name);
		goto out;
	}
	res = reply_topic(req, name, MHD_HTTP_OK);
out:
	jdoc_free(doc);
	return res;
}

enum MHD_Result http_admin_topic(struct http_api_req *req)
{
	const char *name = req->route.topic;
	struct buf b;
	enum MHD_Result res;
	int rc;

	if (req->route.method == HTTP_GET || req->route.method == HTTP_HEAD) {
		if (!visible_to(req, name))
			return http_api_reply_error(req, MHD_HTTP_FORBIDDEN, "forbidden",
						    "the token may not see topic '%s'", name);
		return reply_topic(req, name, MHD_HTTP_OK);
	}
	if (!http_api_allowed(req, HTTP_PERM_ADMIN, name))
		return http_api_reply_error(req, MHD_HTTP_FORBIDDEN, "forbidden",
					    "the token may not administer topic '%s'", name);
	if (req->route.method == HTTP_PUT)
		return put_topic(req);
	rc = engine_topic_delete(req->api->log, name);
	if (rc < 0)
		return http_api_reply_log_error(req, rc, name);
	buf_init(&b, 1024);
	rc = buf_append_str(&b, "{\"deleted\":");
	if (rc == 0)
		rc = json_cstr(&b, name);
	if (rc == 0)
		rc = buf_append_u8(&b, '}');
	res = rc == 0 ? http_api_reply_json(req, MHD_HTTP_OK, &b) : MHD_NO;
	buf_release(&b);
	return res;
}

/* {"groups":[{"group":..,"state":..,"members":..,"generation":..,
 *   "offsets":[{"topic":..,"partition":..,"committed":..,"end":..,"lag":..,
 *               "commit_time":..}]}]}, with the partitions of topics the
 * token may see. */
enum MHD_Result http_admin_groups(struct http_api_req *req)
{
	struct groups *g = atomic_load(&req->api->groups);
	struct groups_lag_group *v = NULL;
	struct buf b;
	enum MHD_Result res;
	size_t n = 0;
	int rc;

	if (!g)
		return http_api_reply_error(req, MHD_HTTP_NOT_IMPLEMENTED, "not_implemented",
					    "this store runs no consumer-group coordinator");
	rc = groups_lag_snapshot(g, &v, &n);
	if (rc < 0)
		return http_api_reply_log_error(req, rc, "groups");
	buf_init(&b, MAX_LIST_BYTES);
	rc = buf_append_str(&b, "{\"groups\":[");
	for (size_t i = 0, shown = 0; i < n && rc == 0; i++) {
		const struct groups_lag_group *grp = &v[i];
		bool first = true;

		/* with an ACL file: only groups the caller has a grant on */
		if (!auth_may(req->api->auth, req->principal, ACL_GROUP, grp->group, ACL_CONSUME))
			continue;
		rc = buf_append_str(&b, shown++ ? ",{\"group\":" : "{\"group\":");
		if (rc == 0)
			rc = json_cstr(&b, grp->group);
		if (rc == 0)
			rc = buf_append_str(&b, ",\"state\":");
		if (rc == 0)
			rc = json_cstr(&b, grp->state);
		if (rc == 0)
			rc = buf_printf(&b,
					",\"members\":%" PRId32 ",\"generation\":%" PRId32
					",\"offsets\":[",
					grp->members, grp->generation);
		for (size_t k = 0; k < grp->npartitions && rc == 0; k++) {
			const struct groups_lag_partition *p = &grp->partitions[k];

			if (!visible_to(req, p->topic))
				continue;
			rc = buf_append_str(&b, first ? "{\"topic\":" : ",{\"topic\":");
			first = false;
			if (rc == 0)
				rc = json_cstr(&b, p->topic);
			if (rc == 0)
				rc = buf_printf(&b,
						",\"partition\":%" PRId32 ",\"committed\":%" PRId64
						",\"end\":%" PRId64 ",\"lag\":%" PRId64
						",\"commit_time\":%" PRId64 "}",
						p->partition, p->committed, p->end, p->lag,
						p->commit_ms);
		}
		if (rc == 0)
			rc = buf_append_str(&b, "]}");
	}
	if (rc == 0)
		rc = buf_append_str(&b, "]}");
	groups_lag_free(v, n);
	if (rc < 0) {
		buf_release(&b);
		return http_api_reply_log_error(req, rc, "groups");
	}
	res = http_api_reply_json(req, MHD_HTTP_OK, &b);
	buf_release(&b);
	return res;
}
