/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP API server: libmicrohttpd set-up, the access handler that routes
 * and authenticates every request and collects request bodies within their
 * bounds, JSON and error responses, /health, /metrics and the request
 * metrics.  The endpoints themselves live in http_ingest.c, http_admin.c and
 * http_replay.c.
 *
 * Threading model: by default (http.threads = 0) every connection gets its
 * own thread, so an ingest request can simply block until its batches are
 * durable (engine_wait_visible) and a replay stream can block while following
 * the log, without holding up anyone else.  With http.threads = N a pool of
 * N threads serves all connections; blocking then delays the other
 * connections of that thread, which suits small deployments only.
 *
 * Request bodies are bounded by http.max_body_bytes and never buffered past
 * it.  A request refused from its headers (unknown path, bad token, declared
 * Content-Length over the limit, memory budget exhausted) is answered at once
 * when the client waits for "100 Continue" (libcurl does for bodies over
 * 1 MiB) or the body is over 4 x the limit; otherwise its body is read and
 * dropped first, because closing a connection with unread bytes resets it
 * and the client could lose the answer.  A chunked body that grows past the
 * limit is dropped as it arrives and answered 413 at its end.  All buffered
 * bodies together are capped by a global budget (16 x max_body_bytes, at
 * least 1 GiB): past it new bodies get 503 busy with Retry-After, so a flood
 * of uploads cannot exhaust memory.
 *
 * Connection limits libmicrohttpd lacks (a deadline for headers, a
 * per-address cap, eviction at a full table) and the RFC 9112 framing checks
 * are in http_limits.c; quotas in store/quota/quota.c.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/err.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "store/http/http_api.h"
#include "store/http/http_conn.h"
#include "store/http/http_param.h"
#include "store/http/http_priv.h"
#include "store/engine/diskspace.h"

const double http_lat_bounds_s[HTTP_LAT_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
						    0.05,   0.1,   0.25,   0.5,   1,    5};

static const unsigned status_slots[HTTP_STATUS_SLOTS - 1] = {200, 201, 204, 400, 401, 403, 404, 405,
							     409, 413, 416, 429, 500, 503, 504};

#define MAX_METRICS_BYTES (64u << 20)
#define MAX_ERROR_BYTES (64u << 10)

static unsigned status_slot(unsigned status)
{
	for (unsigned i = 0; i < HTTP_STATUS_SLOTS - 1 && status_slots[i]; i++) {
		if (status_slots[i] == status)
			return i;
	}
	return HTTP_STATUS_SLOTS - 1;
}

/* ---------------------------------------------------------------- responses */

static void free_buf_data(void *p)
{
	mem_free(p);
}

enum MHD_Result http_api_reply_response(struct http_api_req *req, unsigned status,
					struct MHD_Response *resp)
{
	enum MHD_Result r;

	if (!resp)
		return MHD_NO;
	if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
	if (status == MHD_HTTP_TOO_MANY_REQUESTS) {
		char ra[16];

		snprintf(ra, sizeof(ra), "%u", req->retry_after_s ? req->retry_after_s : 1);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	}
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer realm=\"sluice\"");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED) {
		char allow[64];

		http_route_allow_header(req->route.allowed, allow, sizeof(allow));
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	}
	req->status = status;
	r = MHD_queue_response(req->conn, status, resp);
	MHD_destroy_response(resp);
	return r;
}

enum MHD_Result http_api_reply(struct http_api_req *req, unsigned status, const char *ctype,
			       struct buf *body)
{
	struct MHD_Response *resp;
	size_t len = body->len;
	void *data = body->data;

	resp = MHD_create_response_from_buffer_with_free_callback(len, data ? data : (void *)"",
								  data ? free_buf_data : NULL);
	if (!resp)
		return MHD_NO;
	/* the response owns the bytes now */
	body->data = NULL;
	body->len = body->cap = 0;
	if (ctype)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	return http_api_reply_response(req, status, resp);
}

enum MHD_Result http_api_reply_json(struct http_api_req *req, unsigned status, struct buf *body)
{
	if (buf_append_u8(body, '\n') < 0)
		return MHD_NO;
	return http_api_reply(req, status, "application/json", body);
}

static enum MHD_Result reply_error_v(struct http_api_req *req, unsigned status, const char *code,
				     const char *extra, const char *fmt, va_list ap)
{
	char msg[1024];
	struct buf b;
	enum MHD_Result r;
	int rc;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (status == MHD_HTTP_FORBIDDEN && strcmp(code, "producer_id_not_owned") != 0)
		auth_count(req->api->auth, AUTH_HTTP, AUTH_DENIED); /* every 403 is the ACL's */
	buf_init(&b, MAX_ERROR_BYTES);
	rc = buf_append_str(&b, "{\"error\":");
	if (rc == 0)
		rc = json_cstr(&b, code);
	if (rc == 0)
		rc = buf_append_str(&b, ",\"message\":");
	if (rc == 0)
		rc = json_cstr(&b, msg);
	if (rc == 0 && extra && *extra)
		rc = buf_printf(&b, ",%s", extra);
	if (rc == 0)
		rc = buf_append_u8(&b, '}');
	if (rc < 0) {
		buf_release(&b);
		return MHD_NO;
	}
	if (status >= 500)
		log_warn("http: %s -> %u %s: %s", http_route_name(req->route.id), status, code,
			 msg);
	else
		log_debug("http: %s -> %u %s: %s", http_route_name(req->route.id), status, code,
			  msg);
	r = http_api_reply_json(req, status, &b);
	buf_release(&b);
	return r;
}

enum MHD_Result http_api_reply_error(struct http_api_req *req, unsigned status, const char *code,
				     const char *fmt, ...)
{
	enum MHD_Result r;
	va_list ap;

	va_start(ap, fmt);
	r = reply_error_v(req, status, code, NULL, fmt, ap);
	va_end(ap);
	return r;
}

enum MHD_Result http_api_reply_error_x(struct http_api_req *req, unsigned status, const char *code,
				       const char *extra, const char *fmt, ...)
{
	enum MHD_Result r;
	va_list ap;

	va_start(ap, fmt);
	r = reply_error_v(req, status, code, extra, fmt, ap);
	va_end(ap);
	return r;
}

void http_api_map_error(int rc, unsigned *status, const char **code, const char **msg)
{
	static const struct {
		int rc;
		unsigned status;
		const char *code;
		const char *msg;
	} map[] = {
		{-ERR_NOT_FOUND, MHD_HTTP_NOT_FOUND, "unknown_topic", "no such topic or partition"},
		{-ERR_INVALID, MHD_HTTP_BAD_REQUEST, "invalid", "invalid name or value"},
		{-ERR_EXISTS, MHD_HTTP_CONFLICT, "topic_exists", "topic already exists"},
		{-ERR_CORRUPT, MHD_HTTP_BAD_REQUEST, "corrupt_batch", "malformed record batch"},
		{-ERR_TRUNCATED, MHD_HTTP_BAD_REQUEST, "corrupt_batch", "truncated record batch"},
		{-ERR_UNSUPPORTED, MHD_HTTP_BAD_REQUEST, "corrupt_batch",
		 "unsupported record batch (magic < 2 or unknown codec)"},
		{-ERR_TOO_LARGE, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
		 "batch larger than the topic's max_batch_bytes"},
		{-ERR_OUT_OF_RANGE, MHD_HTTP_RANGE_NOT_SATISFIABLE, "offset_out_of_range",
		 "offset outside the log"},
		{-ERR_OUT_OF_ORDER, MHD_HTTP_CONFLICT, "out_of_order_sequence",
		 "producer sequence gap"},
		{-ERR_FENCED, MHD_HTTP_CONFLICT, "producer_fenced",
		 "a newer epoch of this producer id exists"},
		{-ERR_DUPLICATE, MHD_HTTP_CONFLICT, "duplicate", "batch already in the log"},
		{-ERR_TXN_STATE, MHD_HTTP_CONFLICT, "invalid_txn_state",
		 "transactional batch outside an open transaction of its producer"},
		{-ERR_STORAGE, MHD_HTTP_SERVICE_UNAVAILABLE, "storage_full",
		 "the store cannot write to disk"},
		{-ENOSPC, MHD_HTTP_SERVICE_UNAVAILABLE, "storage_full", "the store's disk is full"},
		{-EDQUOT, MHD_HTTP_SERVICE_UNAVAILABLE, "storage_full", "disk quota exceeded"},
		{-EIO, MHD_HTTP_SERVICE_UNAVAILABLE, "storage_full", "disk I/O error"},
		{-ETIMEDOUT, MHD_HTTP_SERVICE_UNAVAILABLE, "timeout", "not durable in time; retry"},
		{-ECANCELED, MHD_HTTP_SERVICE_UNAVAILABLE, "shutting_down",
		 "the store is shutting down"},
		{-ENOMEM, MHD_HTTP_SERVICE_UNAVAILABLE, "busy", "out of memory"},
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (map[i].rc == rc) {
			*status = map[i].status;
			*code = map[i].code;
			*msg = map[i].msg;
			return;
		}
	}
	*status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	*code = "internal";
	*msg = err_str(rc);
}

enum MHD_Result http_api_reply_log_error(struct http_api_req *req, int rc, const char *what)
{
	const char *code, *msg;
	unsigned status;

	http_api_map_error(rc, &status, &code, &msg);
	return http_api_reply_error(req, status, code, "%s: %s", what, msg);
}

const char *http_api_arg(struct http_api_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

bool http_api_allowed(struct http_api_req *req, unsigned perm, const char *topic)
{
	struct http_api *api = req->api;

	/* a token's inline grants, or the ACL's grants of its principal */
	if (api->tokens && http_tokens_allows(api->tokens, req->identity, perm, topic))
		return true;
	if (auth_acl_enabled(api->auth))
		return auth_may(api->auth, req->principal, ACL_TOPIC, topic, perm) ||
		       (!topic && !perm && /* "any grant": cluster admin counts */
			auth_may(api->auth, req->principal, ACL_CLUSTER, NULL, ACL_ADMIN));
	return !api->tokens;
}

int http_api_wait_visible(struct http_api *api, const char *topic, int32_t partition,
			  int64_t offset, int timeout_ms)
{
	uint64_t deadline = clock_mono_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);

	for (;;) {
		uint64_t now = clock_mono_ms();
		int slice, rc;

		if (atomic_load(&api->stopping))
			return -ECANCELED;
		slice = now >= deadline ? 0 : (int)(deadline - now);
		if (slice > HTTP_WAIT_SLICE_MS)
			slice = HTTP_WAIT_SLICE_MS;
		rc = engine_wait_visible(api->log, topic, partition, offset, slice);
		if (rc != -ETIMEDOUT || now >= deadline)
			return rc;
	}
}

/* ---------------------------------------------------------------- health, metrics */

static enum MHD_Result handle_health(struct http_api_req *req)
{
	struct engine_stats st;
	struct buf b;
	enum MHD_Result r;
	int rc;

	buf_init(&b, MAX_ERROR_BYTES);
	if (atomic_load(&req->api->stopping))
		return http_api_reply_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "shutting_down",
					    "the store is shutting down");
	engine_get_stats(req->api->log, &st);
	if (!st.writable)
		return http_api_reply_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "storage_full",
					    "log engine not writable: %s",
					    st.last_error[0] ? st.last_error : "unknown error");
	if (diskspace_low(engine_diskspace(req->api->log)))
		return http_api_reply_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "storage_full",
					    "free disk space is under log.min_free_bytes; "
					    "writes are refused, reads are served");
	rc = buf_append_str(&b, "{\"status\":\"ok\"}");
	r = rc == 0 ? http_api_reply_json(req, MHD_HTTP_OK, &b) : MHD_NO;
	buf_release(&b);
	return r;
}

static enum MHD_Result handle_metrics(struct http_api_req *req)
{
	struct buf b;
	enum MHD_Result r;

	buf_init(&b, MAX_METRICS_BYTES);
	prom_registry_render(req->api->metrics, &b);
	http_metrics_filter(req, &b);
	r = http_api_reply(req, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", &b);
	buf_release(&b);
	return r;
}

static void render_self(struct buf *out, void *arg)
{
	struct http_api *api = arg;
	char lb[256];

	prom_family(out, "sluice_http_requests_total", "counter",
		    "HTTP API requests by endpoint and status code");
	for (unsigned r = 0; r < HTTP_ROUTE_COUNT; r++) {
		for (unsigned s = 0; s < HTTP_STATUS_SLOTS; s++) {
			uint64_t v = atomic_load(&api->requests[r][s]);
			char code[16];

			if (!v)
				continue;
			if (s < HTTP_STATUS_SLOTS - 1 && status_slots[s])
				snprintf(code, sizeof(code), "%u", status_slots[s]);
			else
				snprintf(code, sizeof(code), "other");
			prom_u64(out, "sluice_http_requests_total",
				 prom_labels(lb, sizeof(lb), "endpoint", http_route_name(r), "code",
					     code, NULL),
				 v);
		}
	}
	prom_family(out, "sluice_http_request_duration_seconds", "histogram",
		    "HTTP API request latency (streams: until the response ends)");
	for (unsigned r = 0; r < HTTP_ROUTE_COUNT; r++) {
		uint64_t cum = 0;
		char name[48], le[32];

		for (unsigned i = 0; i <= HTTP_LAT_BUCKETS; i++)
			cum += atomic_load(&api->lat_hist[r][i]);
		if (!cum)
			continue;
		cum = 0;
		snprintf(name, sizeof(name), "%s", http_route_name(r));
		for (unsigned i = 0; i <= HTTP_LAT_BUCKETS; i++) {
			cum += atomic_load(&api->lat_hist[r][i]);
			if (i < HTTP_LAT_BUCKETS)
				snprintf(le, sizeof(le), "%g", http_lat_bounds_s[i]);
			else
				snprintf(le, sizeof(le), "+Inf");
			prom_u64(out, "sluice_http_request_duration_seconds_bucket",
				 prom_labels(lb, sizeof(lb), "endpoint", name, "le", le, NULL),
				 cum);
		}
		prom_f64(out, "sluice_http_request_duration_seconds_sum",
			 prom_labels(lb, sizeof(lb), "endpoint", name, NULL),
			 (double)atomic_load(&api->lat_sum_us[r]) / 1e6);
		prom_u64(out, "sluice_http_request_duration_seconds_count",
			 prom_labels(lb, sizeof(lb), "endpoint", name, NULL), cum);
	}
	prom_family(out, "sluice_http_connections", "gauge", "open HTTP connections");
	prom_u64(out, "sluice_http_connections", NULL, atomic_load(&api->connections));
	prom_family(out, "sluice_http_connections_total", "counter", "accepted HTTP connections");
	prom_u64(out, "sluice_http_connections_total", NULL, atomic_load(&api->connections_total));
	prom_family(out, "sluice_http_ingest_bytes_total", "counter",
		    "record batch bytes accepted over HTTP (as stored, compressed)");
	prom_u64(out, "sluice_http_ingest_bytes_total", NULL, atomic_load(&api->ingest_bytes));
	prom_family(out, "sluice_http_ingest_batches_total", "counter",
		    "record batches acknowledged over HTTP, duplicates included");
	prom_u64(out, "sluice_http_ingest_batches_total", NULL, atomic_load(&api->ingest_batches));
	prom_family(out, "sluice_http_ingest_records_total", "counter",
		    "records in batches appended over HTTP");
	prom_u64(out, "sluice_http_ingest_records_total", NULL, atomic_load(&api->ingest_records));
	prom_family(out, "sluice_http_ingest_duplicate_batches_total", "counter",
		    "retried batches recognised as already in the log");
	prom_u64(out, "sluice_http_ingest_duplicate_batches_total", NULL,
		 atomic_load(&api->ingest_duplicates));
	prom_family(out, "sluice_http_replay_bytes_total", "counter",
		    "response bytes of record replays");
	prom_u64(out, "sluice_http_replay_bytes_total", NULL, atomic_load(&api->replay_bytes));
	prom_family(out, "sluice_http_replay_records_total", "counter",
		    "records sent by replays (ndjson: exact; raw: records of sent batches)");
	prom_u64(out, "sluice_http_replay_records_total", NULL, atomic_load(&api->replay_records));
	prom_family(out, "sluice_http_auth_failures_total", "counter",
		    "requests refused with 401 or 403");
	prom_u64(out, "sluice_http_auth_failures_total", NULL, atomic_load(&api->auth_failures));
	http_limits_render(out, api->limits);
}

/* ---------------------------------------------------------------- dispatch */

static bool route_has_body(const struct http_route *r)
{
	return (r->id == HTTP_ROUTE_BATCHES && r->method == HTTP_POST) ||
	       (r->id == HTTP_ROUTE_TOPICS && r->method == HTTP_POST) ||
	       (r->id == HTTP_ROUTE_TOPIC && r->method == HTTP_PUT);
}

/* Refuse a request at its first call.  Without a body, or when the client
 * waits for "100 Continue" before sending it, or when the body is too big to
 * be worth reading, the answer goes out at once (libmicrohttpd then closes
 * the connection if a body was due).  Otherwise the body, which the client
 * is already sending, is read and dropped first: closing on unread bytes
 * would reset the connection and the client could lose the answer. */
static enum MHD_Result refuse(struct http_api_req *req, unsigned status, const char *code,
			      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static enum MHD_Result refuse(struct http_api_req *req, unsigned status, const char *code,
			      const char *fmt, ...)
{
	enum MHD_Result r;
	va_list ap;

	va_start(ap, fmt);
	if (!req->body_due || req->expect_continue ||
	    req->body_declared > (int64_t)req->api->conf->http.max_body_bytes * 4) {
		r = reply_error_v(req, status, code, NULL, fmt, ap);
	} else {
		req->pending_status = status;
		req->pending_code = code;
		vsnprintf(req->pending_msg, sizeof(req->pending_msg), fmt, ap);
		r = MHD_YES;
	}
	va_end(ap);
	return r;
}

/* Quotas: the principal is the token, else the client address; a principal
 * over its produce (ingest) or fetch (replay) rate is answered 429 with
 * Retry-After until it is back under it. */
static bool http_quota_refused(struct http_api_req *req, enum MHD_Result *res)
{
	struct quota *q = atomic_load(&req->api->quota);
	enum quota_dir dir = req->route.id == HTTP_ROUTE_RECORDS ? QUOTA_FETCH : QUOTA_PRODUCE;
	int32_t ms;

	http_limits_principal(req->conn, req->identity, req->quota_key, sizeof(req->quota_key));
	if (!q || (req->route.id != HTTP_ROUTE_RECORDS && req->route.id != HTTP_ROUTE_BATCHES))
		return false;
	ms = quota_delay(q, req->quota_key, dir);
	if (ms <= 0)
		return false;
	quota_rejected(q, req->quota_key, dir);
	req->retry_after_s = (unsigned)(ms + 999) / 1000;
	*res = refuse(req, MHD_HTTP_TOO_MANY_REQUESTS, "throttled",
		      "%s is over its %s quota; retry in %d ms", req->quota_key,
		      dir == QUOTA_FETCH ? "fetch" : "produce", ms);
	return true;
}

/* Authenticate; MHD_YES with identity set, or the refusal. */
static enum MHD_Result authenticate(struct http_api_req *req, bool *ok)
{
	struct http_api *api = req->api;
	const char *hdr, *tok;
	size_t len;

	*ok = true;
	req->identity = -1;
	/* req->principal stays what the transport set (a client certificate's
	 * subject) or User:ANONYMOUS; a valid bearer token replaces it */
	if (!api->tokens || req->route.id == HTTP_ROUTE_HEALTH)
		return MHD_YES;
	hdr = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
					  MHD_HTTP_HEADER_AUTHORIZATION);
	if (hdr && http_param_bearer(hdr, &tok, &len) == 0)
		req->identity = http_tokens_find(api->tokens, tok, len);
	if (req->identity >= 0) {
		req->principal = http_tokens_principal(api->tokens, req->identity);
		return MHD_YES;
	}
	*ok = false;
	atomic_fetch_add(&api->auth_failures, 1);
	auth_count(api->auth, AUTH_HTTP, hdr ? AUTH_BAD_CREDENTIALS : AUTH_MISSING_TOKEN);
	return refuse(req, MHD_HTTP_UNAUTHORIZED, "unauthorized",
		      hdr ? "unknown or malformed bearer token"
			  : "an 'Authorization: Bearer <token>' header is required");
}

/* What the headers say about a body. */
static int body_headers(struct http_api_req *req)
{
	const char *cl = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *te = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_TRANSFER_ENCODING);
	const char *ex =
		MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);

	req->body_declared = -1;
	if (http_limits_framing(req->conn, cl, te) < 0) {
		http_limits_bad_framing(req->api->limits);
		return -ERR_UNSUPPORTED;
	}
	if (cl && http_param_i64(cl, 0, INT64_MAX, &req->body_declared) < 0)
		return -ERR_INVALID;
	req->body_due = req->body_declared > 0 || (te && strcasestr(te, "chunked"));
	req->expect_continue = ex && strcasecmp(ex, "100-continue") == 0;
	return 0;
}

/* First call of a request: headers are in, the body (if any) is not. */
static enum MHD_Result request_begin(struct http_api_req *req, const char *url, const char *method)
{
	struct http_api *api = req->api;
	enum MHD_Result res;
	int64_t n;
	bool ok;
	int rc;

	rc = body_headers(req);
	if (rc < 0)
		return http_api_reply_error(req, MHD_HTTP_BAD_REQUEST, "bad_request", "%s",
					    rc == -ERR_UNSUPPORTED ? "conflicting framing headers"
								   : "bad Content-Length");
	rc = http_route_match(method, url, &req->route);
	if (rc == -ERR_NOT_FOUND)
		return refuse(req, MHD_HTTP_NOT_FOUND, "not_found", "no such endpoint");
	if (rc == -ERR_UNSUPPORTED)
		return refuse(req, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
			      "%s is not allowed here", method);
	if (rc == -ERR_INVALID)
		return refuse(req, MHD_HTTP_BAD_REQUEST,
			      req->route.topic[0] || req->route.id != HTTP_ROUTE_RECORDS
				      ? "invalid_topic"
				      : "bad_request",
			      "invalid topic name or partition in the path");
	if (api->tls && req->route.id != HTTP_ROUTE_HEALTH) {
		const char *why;

		if (http_tls_peer(api->tls, req->conn, &req->tls_principal, &why) < 0)
			return refuse(req, MHD_HTTP_FORBIDDEN, "client_certificate",
				      "client certificate refused: %s", why);
		/* a verified certificate is the principal; a bearer token replaces it */
		if (req->tls_principal)
			req->principal = req->tls_principal;
	}
	res = authenticate(req, &ok);
	if (!ok)
		return res;
	if (http_quota_refused(req, &res))
		return res;
	req->has_body = route_has_body(&req->route);
	if (!req->has_body)
		return MHD_YES;
	buf_init(&req->body, api->conf->http.max_body_bytes);
	n = req->body_declared;
	if (n > (int64_t)api->conf->http.max_body_bytes)
		return refuse(req, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
			      "body of %" PRId64 " bytes is over http.max_body_bytes (%" PRIu64 ")",
			      n, api->conf->http.max_body_bytes);
	if (n > 0) {
		if (atomic_fetch_sub(&api->body_budget, n) < n) {
			atomic_fetch_add(&api->body_budget, n);
			return refuse(req, MHD_HTTP_SERVICE_UNAVAILABLE, "busy",
				      "too many request bodies in flight");
		}
		req->budget_held = n;
		/* one allocation of the right size instead of doublings */
		if (buf_reserve(&req->body, (size_t)n) < 0)
			return refuse(req, MHD_HTTP_SERVICE_UNAVAILABLE, "busy", "out of memory");
	}
	return MHD_YES;
}

/* More body bytes: keep them within the bounds, or drop them once refused. */
static void request_body(struct http_api_req *req, const char *data, size_t n)
{
	struct http_api *api = req->api;

	if (req->pending_status || !req->has_body)
		return;
	if (req->body.len + n > api->conf->http.max_body_bytes) {
		buf_release(&req->body);
		buf_init(&req->body, api->conf->http.max_body_bytes);
		req->pending_status = MHD_HTTP_CONTENT_TOO_LARGE;
		req->pending_code = "too_large";
		snprintf(req->pending_msg, sizeof(req->pending_msg),
			 "body is over http.max_body_bytes (%" PRIu64 ")",
			 api->conf->http.max_body_bytes);
		return;
	}
	if ((int64_t)(req->body.len + n) > req->budget_held) {
		int64_t more = (int64_t)(req->body.len + n) - req->budget_held;

		if (atomic_fetch_sub(&api->body_budget, more) < more) {
			atomic_fetch_add(&api->body_budget, more);
			buf_release(&req->body);
			buf_init(&req->body, api->conf->http.max_body_bytes);
			req->pending_status = MHD_HTTP_SERVICE_UNAVAILABLE;
			req->pending_code = "busy";
			snprintf(req->pending_msg, sizeof(req->pending_msg),
				 "too many request bodies in flight");
			return;
		}
		req->budget_held += more;
	}
	if (buf_append(&req->body, data, n) < 0) {
		req->pending_status = MHD_HTTP_SERVICE_UNAVAILABLE;
		req->pending_code = "busy";
		snprintf(req->pending_msg, sizeof(req->pending_msg), "out of memory");
	}
}

static enum MHD_Result dispatch(struct http_api_req *req)
{
	const struct http_route *r = &req->route;

	if (req->pending_status)
		return http_api_reply_error(req, req->pending_status, req->pending_code, "%s",
					    req->pending_msg);
	switch (r->id) {
	case HTTP_ROUTE_HEALTH:
		return handle_health(req);
	case HTTP_ROUTE_METRICS:
		if (!http_api_allowed(req, 0, NULL))
			break;
		return handle_metrics(req);
	case HTTP_ROUTE_TOPICS:
		return http_admin_topics(req);
	case HTTP_ROUTE_TOPIC:
		return http_admin_topic(req);
	case HTTP_ROUTE_GROUPS:
		return http_admin_groups(req);
	case HTTP_ROUTE_BATCHES:
		quota_charge(atomic_load(&req->api->quota), req->quota_key, QUOTA_PRODUCE,
			     req->body.len);
		return http_ingest_batches(req);
	case HTTP_ROUTE_PRODUCERS:
		return http_ingest_producers(req);
	case HTTP_ROUTE_RECORDS:
		return http_replay_records(req);
	case HTTP_ROUTE_STATS:
		return http_stats_topic(req);
	default:
		break;
	}
	return http_api_reply_error(req, MHD_HTTP_FORBIDDEN, "forbidden",
				    "the token does not allow this");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct http_api *api = cls;
	struct http_api_req *req = *con_cls;

	(void)version;
	if (!req) {
		req = mem_calloc(1, sizeof(*req));
		if (!req)
			return MHD_NO;
		req->api = api;
		req->conn = conn;
		req->identity = -1;
		req->principal = ACL_ANONYMOUS;
		req->start_ns = clock_mono_ns();
		*con_cls = req;
		http_limits_headers_done(api->limits, conn);
		return request_begin(req, url, method);
	}
	if (*upload_size > 0) {
		request_body(req, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	return dispatch(req);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_api *api = cls;
	struct http_api_req *req = *con_cls;
	uint64_t us;
	unsigned b, route;

	http_limits_request_done(api->limits, conn);
	if (!req)
		return;
	route = (unsigned)req->route.id < HTTP_ROUTE_COUNT ? (unsigned)req->route.id : 0;
	us = (clock_mono_ns() - req->start_ns) / 1000;
	if (req->status) {
		atomic_fetch_add(&api->requests[route][status_slot(req->status)], 1);
		for (b = 0; b < HTTP_LAT_BUCKETS; b++) {
			if ((double)us / 1e6 <= http_lat_bounds_s[b])
				break;
		}
		atomic_fetch_add(&api->lat_hist[route][b], 1);
		atomic_fetch_add(&api->lat_sum_us[route], us);
	}
	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && req->status)
		log_debug("http: %s ended early (%d) after %" PRIu64 " us",
			  http_route_name(req->route.id), (int)toe, us);
	if (req->budget_held)
		atomic_fetch_add(&api->body_budget, req->budget_held);
	buf_release(&req->body);
	mem_free(req);
	*con_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
			  enum MHD_ConnectionNotificationCode code)
{
	struct http_api *api = cls;
	struct http_conn_ctx *x = *socket_ctx;

	/* one context, a slot per layer (store/http/http_conn.h) */
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		atomic_fetch_add(&api->connections, 1);
		atomic_fetch_add(&api->connections_total, 1);
		x = mem_calloc(1, sizeof(*x));
		*socket_ctx = x;
		if (!x)
			return;
		http_limits_notify(api->limits, conn, &x->limits, code);
		http_tls_conn_started(api->tls, &x->tls);
		return;
	}
	atomic_fetch_sub(&api->connections, 1);
	if (!x)
		return;
	http_limits_notify(api->limits, conn, &x->limits, code);
	http_tls_conn_closed(&x->tls);
	mem_free(x);
	*socket_ctx = NULL;
}

/* MHD's own unescaping turns %00 into a NUL that cuts the path short. */
static size_t on_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return http_route_unescape(s);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	/* a client can provoke these (failed TLS handshakes): one warning a
	 * second at most, the rest at debug level */
	static atomic_uint_fast64_t next_ms;
	uint64_t now = clock_mono_ns() / 1000000, due = atomic_load(&next_ms);
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	if (now >= due && atomic_compare_exchange_strong(&next_ms, &due, now + 1000))
		log_warn("http: %s", msg);
	else
		log_debug("http: %s", msg);
}

/* ---------------------------------------------------------------- listen */

/* "HOST:PORT", "[v6]:PORT" or ":PORT" into a bound, listening socket. */
static int listen_on(const char *spec, int *out)
{
	char host[256];
	const char *colon, *port;
	struct addrinfo hints, *ai = NULL;
	size_t hl;
	int fd = -1, rc, one = 1;

	colon = strrchr(spec, ':');
	if (!colon)
		return -ERR_CONFIG;
	port = colon + 1;
	hl = (size_t)(colon - spec);
	if (hl >= 2 && spec[0] == '[' && spec[hl - 1] == ']') {
		spec++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return -ERR_CONFIG;
	memcpy(host, spec, hl);
	host[hl] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(hl && strcmp(host, "*") != 0 ? host : NULL, port, &hints, &ai);
	if (rc != 0)
		return -ERR_CONFIG;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
		rc = -errno;
		goto out;
	}
	*out = fd;
	fd = -1;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return rc;
}

int http_api_new(struct engine *log, struct prom_registry *metrics, const struct store_config *conf,
		 struct auth *auth, struct http_api **out)
{
	struct http_api *api = mem_calloc(1, sizeof(*api));
	unsigned flags;
	uint64_t budget;
	int fd = -1, rc;

	*out = NULL;
	if (!api)
		return -ENOMEM;
	api->log = log;
	api->metrics = metrics;
	api->conf = conf;
	api->auth = auth;
	budget = conf->http.max_body_bytes * 16;
	atomic_store(&api->body_budget, (long long)(budget < (1ull << 30) ? 1ull << 30 : budget));
	if (conf->http.tokens_file && conf->http.tokens_file[0]) {
		char err[512];

		rc = http_tokens_load(conf->http.tokens_file, &api->tokens, err, sizeof(err));
		if (rc < 0) {
			log_error("http.tokens_file: %s", err);
			goto out;
		}
		log_info("http: bearer auth on, %zu tokens", http_tokens_count(api->tokens));
	}
	api->limits = http_limits_new(conf);
	if (!api->limits) {
		rc = -ENOMEM;
		goto out;
	}
	if (conf->http.tls.cert && conf->http.tls.cert[0]) {
		rc = http_tls_new(&conf->http.tls, metrics, &api->tls);
		if (rc < 0)
			goto out;
	}
	rc = listen_on(conf->http.listen, &fd);
	if (rc < 0) {
		log_error("http: cannot listen on %s: %s", conf->http.listen,
			  rc == -ERR_CONFIG ? "expected HOST:PORT" : err_str(rc));
		goto out;
	}
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC;
	if (conf->http.threads == 0)
		flags |= MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;
	else
		flags |= MHD_USE_EPOLL;
	if (api->tls)
		flags |= MHD_USE_TLS;
	{
		struct MHD_OptionItem ops[16] = {
			{MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log, api},
			{MHD_OPTION_LISTEN_SOCKET, fd, NULL},
			{MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, api},
			{MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, api},
			{MHD_OPTION_CONNECTION_TIMEOUT,
			 (intptr_t)((conf->http.idle_timeout_ms + 999) / 1000), NULL},
			{MHD_OPTION_CONNECTION_MEMORY_LIMIT, 256 * 1024, NULL},
			/* http_limits enforces max_connections (evicting the idle); this
			 * is the backstop while evicted ones close */
			{MHD_OPTION_CONNECTION_LIMIT, (intptr_t)conf->http.max_connections + 64,
			 NULL},
			{MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)on_unescape, NULL},
		};
		size_t nops = 8; /* the items above; the rest are appended */

		if (conf->http.threads > 0)
			ops[nops++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE,
							      conf->http.threads, NULL};
		if (api->tls)
			nops = http_tls_options(api->tls, ops, nops);
		ops[nops] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};

		api->mhd = MHD_start_daemon(flags, 0, http_limits_accept, api->limits, on_request,
					    api, MHD_OPTION_ARRAY, ops, MHD_OPTION_END);
	}
	if (!api->mhd) {
		log_error("http: libmicrohttpd failed to start on %s", conf->http.listen);
		rc = -EIO;
		goto out;
	}
	fd = -1; /* the daemon owns it */
	rc = prom_registry_add(metrics, render_self, api);
	if (rc == 0)
		rc = prom_registry_add(metrics, http_metrics_render, api);
	if (rc < 0)
		goto out;
	log_info("http: listening on %s%s (%s)", conf->http.listen, api->tls ? " with TLS" : "",
		 conf->http.threads ? "thread pool" : "thread per connection");
	*out = api;
out:
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		http_api_free(api);
	return rc;
}

void http_api_set_quota(struct http_api *api, struct quota *q)
{
	atomic_store(&api->quota, q);
}

struct tls_server *http_api_tls(struct http_api *api)
{
	return api ? http_tls_server(api->tls) : NULL;
}

int http_api_reload_tls(struct http_api *api, const struct tls_section *conf)
{
	return api && api->tls ? http_tls_reload(api->tls, conf) : 0;
}

void http_api_set_groups(struct http_api *api, struct groups *g)
{
	atomic_store(&api->groups, g);
}

void http_api_free(struct http_api *api)
{
	if (!api)
		return;
	atomic_store(&api->stopping, true);
	if (api->mhd)
		MHD_stop_daemon(api->mhd);
	if (api->metrics) {
		prom_registry_remove(api->metrics, render_self, api);
		prom_registry_remove(api->metrics, http_metrics_render, api);
	}
	http_tokens_free(api->tokens);
	http_limits_free(api->limits); /* after the daemon: no connection is left */
	http_tls_free(api->tls);
	mem_free(api);
}
