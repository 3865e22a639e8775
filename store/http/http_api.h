/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/http/: the store's HTTP API (ingest, replay, admin, metrics).
 *
 * The HTTP API of sluice-store on libmicrohttpd: agent ingest
 * (POST /v1/topics/{t}/batches), producer ids, topic admin, replay
 * (GET .../records), /metrics and /health.  libmicrohttpd runs its own
 * threads; the log engine is thread-safe.
 */
#ifndef SLUICE_STORE_HTTP_API_H
#define SLUICE_STORE_HTTP_API_H

#include "lib/prom.h"
#include "store/engine/engine.h"
#include "store/store_config.h"

struct http_api;

struct auth;

/* Listen on conf->http.listen.  Borrows log, metrics, conf and auth (NULL: no
 * ACL; store/auth/auth.h).  GET /metrics renders the whole registry (every
 * module's metrics, per-topic series filtered by the caller's grants).
 * 0 or a negative errno. */
int http_api_new(struct engine *log, struct prom_registry *metrics, const struct store_config *conf,
		 struct auth *auth, struct http_api **out);
void http_api_free(struct http_api *api);

struct tls_server;
/* The listener's TLS material (http.tls), NULL when plaintext. */
struct tls_server *http_api_tls(struct http_api *api);
/* SIGHUP: new certificate, key and client CAs for new connections; open
 * connections keep theirs.  0 or -ERR_CONFIG (the running ones are kept). */
int http_api_reload_tls(struct http_api *api, const struct tls_section *conf);

struct groups;
/* The consumer-group coordinator (store/groups/groups.h) whose lag GET /v1/groups
 * reports; NULL (the default) answers 501.  Borrowed: it must outlive the
 * API, so free the API first.  Safe to call while serving. */
void http_api_set_groups(struct http_api *api, struct groups *g);
/* Byte-rate quotas (store/quota/quota.h) for ingest and replay; NULL (the
 * default): none.  Borrowed like the groups. */
struct quota;
void http_api_set_quota(struct http_api *api, struct quota *q);

#endif
