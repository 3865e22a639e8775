/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The URL table of the store's HTTP API: maps a method and a request path to
 * one route and its path parameters (topic, partition).  Pure and
 * thread-safe; the path is untrusted (tests/fuzz/fuzz_http_route.c).
 *
 *   GET    /health                                 HTTP_ROUTE_HEALTH
 *   GET    /metrics                                HTTP_ROUTE_METRICS
 *   GET    /v1/topics          POST (create)       HTTP_ROUTE_TOPICS
 *   GET|PUT|DELETE /v1/topics/{t}                  HTTP_ROUTE_TOPIC
 *   POST   /v1/topics/{t}/batches                  HTTP_ROUTE_BATCHES
 *   GET    /v1/topics/{t}/partitions/{p}/records   HTTP_ROUTE_RECORDS
 *   GET    /v1/topics/{t}/stats                    HTTP_ROUTE_STATS
 *   POST   /v1/producers                           HTTP_ROUTE_PRODUCERS
 *   GET    /v1/groups                              HTTP_ROUTE_GROUPS
 *
 * HEAD is accepted wherever GET is (libmicrohttpd drops the body).
 */
#ifndef SLUICE_STORE_HTTP_ROUTE_H
#define SLUICE_STORE_HTTP_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "store/engine/engine.h"

enum http_route_id {
	HTTP_ROUTE_NONE,
	HTTP_ROUTE_HEALTH,
	HTTP_ROUTE_METRICS,
	HTTP_ROUTE_TOPICS,
	HTTP_ROUTE_TOPIC,
	HTTP_ROUTE_BATCHES,
	HTTP_ROUTE_RECORDS,
	HTTP_ROUTE_PRODUCERS,
	HTTP_ROUTE_GROUPS,
	HTTP_ROUTE_STATS,
	HTTP_ROUTE_COUNT
};

enum http_method {
	HTTP_GET = 1 << 0,
	HTTP_HEAD = 1 << 1,
	HTTP_POST = 1 << 2,
	HTTP_PUT = 1 << 3,
	HTTP_DELETE = 1 << 4,
	HTTP_OTHER = 1 << 5,
};

struct http_route {
	enum http_route_id id;
	enum http_method method;
	unsigned allowed;               /* methods the path accepts (for 405 Allow) */
	char topic[TOPIC_NAME_MAX + 1]; /* "" when the route has none */
	int32_t partition;              /* -1 when the route has none */
};

/* Match.  0 with *r filled; -ERR_NOT_FOUND (no such path: 404);
 * -ERR_UNSUPPORTED (path known, method not: 405, r->allowed set);
 * -ERR_INVALID (topic or partition segment malformed: 400; r->id set). */
int http_route_match(const char *method, const char *path, struct http_route *r);

/* Stable metric label of a route ("batches", "records", ...; "other"). */
const char *http_route_name(enum http_route_id id);

/* "GET, HEAD" etc. for an Allow header, into dst. */
void http_route_allow_header(unsigned allowed, char *dst, size_t cap);

/* Kafka's topic name rule [a-zA-Z0-9._-]{1,249}, not "." or "..". */
int http_route_topic_valid(const char *s, size_t n);
/* Decode %XX escapes of a path or query argument in place (the new length
 * returned), except %00: a NUL would cut the C string ("/v1/topics/a%00b"
 * would name topic "a"), so it stays "%00" and fails whatever rule the
 * part must follow (a topic name: 400). */
size_t http_route_unescape(char *s);

#endif
