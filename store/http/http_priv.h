/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals shared by the files of the HTTP API (http_api.c: server,
 * dispatch, auth, responses, request metrics; http_ingest.c; http_admin.c;
 * http_replay.c; http_metrics.c).  Not a public header: nothing outside
 * store/http_*.c includes it.
 *
 * Threading: libmicrohttpd runs every connection on its own thread (or on a
 * pool, http.threads > 0).  A struct http_api_req belongs to its connection's
 * thread; struct http_api is shared and holds only immutable configuration
 * and atomics.
 */
#ifndef SLUICE_STORE_HTTP_PRIV_H
#define SLUICE_STORE_HTTP_PRIV_H

#include <microhttpd.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/prom.h"
#include "store/http/http_limits.h"
#include "store/http/http_route.h"
#include "store/auth/auth.h"
#include "store/http/http_tls.h"
#include "store/http/http_tokens.h"
#include "store/engine/engine.h"
#include "store/quota/quota.h"
#include "store/store_config.h"

/* Statuses the request counter keeps apart; others count as "other". */
#define HTTP_STATUS_SLOTS 16
/* Request latency histogram bounds, seconds. */
#define HTTP_LAT_BUCKETS 12
extern const double http_lat_bounds_s[HTTP_LAT_BUCKETS];

/* How long an ingest request waits for its batches to become durable before
 * answering 503 (the client retries; idempotence makes that safe). */
#define HTTP_ACK_TIMEOUT_MS 30000
/* Longest single block inside the engine, so shutdown is never held up. */
#define HTTP_WAIT_SLICE_MS 200

struct http_api {
	struct MHD_Daemon *mhd;
	struct engine *log;
	struct prom_registry *metrics;
	const struct store_config *conf;
	struct http_tokens *tokens;      /* NULL: auth off */
	struct auth *auth;               /* ACL, producer ids, auth metrics (store/auth) */
	struct http_tls *tls;            /* http.tls; NULL: plaintext */
	_Atomic(struct groups *) groups; /* NULL: no group coordinator */
	atomic_bool stopping;
	atomic_llong body_budget; /* request-body bytes that may still be buffered */
	atomic_uint keyless_rr;   /* round robin for keyless, non-idempotent batches */

	atomic_uint_fast64_t requests[HTTP_ROUTE_COUNT][HTTP_STATUS_SLOTS];
	atomic_uint_fast64_t lat_hist[HTTP_ROUTE_COUNT][HTTP_LAT_BUCKETS + 1];
	atomic_uint_fast64_t lat_sum_us[HTTP_ROUTE_COUNT];
	atomic_uint_fast64_t connections;
	atomic_uint_fast64_t connections_total;
	atomic_uint_fast64_t ingest_bytes;
	atomic_uint_fast64_t ingest_batches;
	atomic_uint_fast64_t ingest_records;
	atomic_uint_fast64_t ingest_duplicates;
	atomic_uint_fast64_t replay_bytes;
	atomic_uint_fast64_t replay_records;
	atomic_uint_fast64_t auth_failures;
	struct http_limits *limits;    /* header deadline, per-address cap, eviction */
	_Atomic(struct quota *) quota; /* NULL: no quotas */
};

struct http_api_req {
	struct http_api *api;
	struct MHD_Connection *conn;
	struct http_route route;
	uint64_t start_ns;
	unsigned status; /* what was answered, for metrics */
	int identity;    /* token identity, -1 when auth is off */
	/* "User:NAME", "Token:LINE" or "User:ANONYMOUS" (set when the request
	 * starts; a TLS layer may set a verified client certificate's
	 * "User:<subject>" before authentication, a bearer token replaces it).
	 * Must outlive the request. */
	const char *principal;
	const char *tls_principal; /* verified client certificate subject ("User:CN=...",
	                                  * http_tls_peer()); NULL: anonymous */
	bool has_body;             /* the route reads a request body */
	bool body_due;             /* the client sends one (length or chunked) */
	bool expect_continue;      /* it waits for "100 Continue" first */
	int64_t body_declared;     /* Content-Length, -1 when absent */
	int64_t budget_held;       /* bytes taken from api->body_budget */
	unsigned pending_status;   /* refused: answer this once the body is drained */
	const char *pending_code;
	char pending_msg[256];
	unsigned retry_after_s; /* 429: the Retry-After header */
	char quota_key[64];     /* quotas: "token#N" or the client address */
	struct buf body;
};

/* ---------------------------------------------------------------- responses
 * Each queues exactly one response on req->conn and records its status.
 * They take ownership of nothing but what they say; they return the
 * MHD_Result for the access handler to return. */

/* body's bytes are handed to libmicrohttpd (no copy); body is left empty. */
enum MHD_Result http_api_reply(struct http_api_req *req, unsigned status, const char *ctype,
			       struct buf *body);
/* A JSON body (any struct buf holding a complete JSON value). */
enum MHD_Result http_api_reply_json(struct http_api_req *req, unsigned status, struct buf *body);
/* {"error":code,"message":...} with the headers the status needs
 * (Retry-After on 503, WWW-Authenticate on 401). */
enum MHD_Result http_api_reply_error(struct http_api_req *req, unsigned status, const char *code,
				     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Like http_api_reply_error, with extra JSON members (",\"k\":v..." text
 * without the leading comma, or NULL) appended inside the object. */
enum MHD_Result http_api_reply_error_x(struct http_api_req *req, unsigned status, const char *code,
				       const char *extra, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* A log engine error's HTTP status, stable code and default message. */
void http_api_map_error(int rc, unsigned *status, const char **code, const char **msg);
/* Map a log engine error to its HTTP status and stable code and reply. */
enum MHD_Result http_api_reply_log_error(struct http_api_req *req, int rc, const char *what);
/* Queue a streaming response built elsewhere (replay). */
enum MHD_Result http_api_reply_response(struct http_api_req *req, unsigned status,
					struct MHD_Response *resp);

/* A query argument or NULL. */
const char *http_api_arg(struct http_api_req *req, const char *name);

/* Does the caller hold perm on topic (NULL: on any topic)?  Always true
 * when auth is off. */
bool http_api_allowed(struct http_api_req *req, unsigned perm, const char *topic);

/* Wait until offset is visible in topic/partition, in short slices so that
 * shutdown is noticed.  0, -ETIMEDOUT, -ECANCELED (shutting down) or the
 * engine's error. */
int http_api_wait_visible(struct http_api *api, const char *topic, int32_t partition,
			  int64_t offset, int timeout_ms);

/* ---------------------------------------------------------------- handlers */

enum MHD_Result http_ingest_batches(struct http_api_req *req);
enum MHD_Result http_ingest_producers(struct http_api_req *req);
enum MHD_Result http_admin_topics(struct http_api_req *req);
enum MHD_Result http_admin_topic(struct http_api_req *req);
enum MHD_Result http_admin_groups(struct http_api_req *req);
enum MHD_Result http_replay_records(struct http_api_req *req);
enum MHD_Result http_stats_topic(struct http_api_req *req);

/* Prometheus families of the log engine and of every partition. */
void http_metrics_render(struct buf *out, void *arg);
/* Drop from rendered metrics every series whose topic (or group) label the
 * caller has no grant on (http_api_allowed); a no-op when auth is off. */
void http_metrics_filter(struct http_api_req *req, struct buf *text);

#endif
