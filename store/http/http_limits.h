/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Connection limits of the HTTP API against slow and abusive clients
 * (docs/OPERATIONS.md, "Limits"), around libmicrohttpd:
 *
 *   header deadline   http.header_timeout: a request's headers must be
 *                     complete that long after the connection opened (for
 *                     later requests on a keep-alive connection: after the
 *                     previous response, plus http.idle_timeout); one
 *                     header line every few seconds no longer holds a
 *                     connection past it (slowloris);
 *   per-address cap   http.max_connections_per_ip;
 *   full table        at http.max_connections a new connection evicts the
 *                     connection that has waited longest for its headers
 *                     (slowloris clients and idle keep-alives first), so
 *                     /health and ingest stay reachable; only when every
 *                     connection is busy with a request is it refused.
 *
 * libmicrohttpd owns the sockets; each tracked connection keeps a dup() of
 * its socket, so a reaper thread can shutdown() it without racing the
 * library's close() of the original descriptor (the dup keeps the number
 * ours until the library reports the connection closed).
 *
 * Threading: every function is thread-safe (one mutex); the reaper is one
 * thread of its own.
 */
#ifndef SLUICE_STORE_HTTP_LIMITS_H
#define SLUICE_STORE_HTTP_LIMITS_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "store/store_config.h"

struct http_limits;

/* NULL on failure (logged). */
struct http_limits *http_limits_new(const struct store_config *conf);
/* Stop the reaper; call after the daemon stopped (every connection closed). */
void http_limits_free(struct http_limits *hl);

/* MHD_OPTION_ACCEPT_POLICY (cls: hl). */
enum MHD_Result http_limits_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen);
/* From MHD_OPTION_NOTIFY_CONNECTION: STARTED tracks, CLOSED forgets. */
void http_limits_notify(struct http_limits *hl, struct MHD_Connection *conn, void **socket_ctx,
			enum MHD_ConnectionNotificationCode code);
/* The access handler's first call: headers are in.  Its completion:
 * the connection waits for its next request's headers again. */
void http_limits_headers_done(struct http_limits *hl, struct MHD_Connection *conn);
void http_limits_request_done(struct http_limits *hl, struct MHD_Connection *conn);
/* RFC 9112 6.1/6.3 on a request's headers (cl, te: the first Content-Length
 * and Transfer-Encoding, NULL when absent): -1 when its body length is
 * ambiguous (Content-Length values that differ, Content-Length with
 * Transfer-Encoding, a Transfer-Encoding other than one "chunked"), which
 * a proxy in front could read differently (request smuggling); else 0. */
int http_limits_framing(struct MHD_Connection *conn, const char *cl, const char *te);
/* The quota principal of a request: "token#N" for token identity N >= 0,
 * else the client's IP address. */
void http_limits_principal(struct MHD_Connection *conn, int identity, char *out, size_t cap);
/* Count a request refused for ambiguous framing (RFC 9112 6.3). */
void http_limits_bad_framing(struct http_limits *hl);

/* The sluice_http_* families of these limits. */
void http_limits_render(struct buf *out, struct http_limits *hl);

#endif
