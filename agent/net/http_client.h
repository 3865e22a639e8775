/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent/net/: the agent's network clients and its metrics/health server.
 *
 * An HTTP/1.1 client on the agent's event loop, for outputs that talk to one
 * HTTP service (the store output).
 *
 * http:// URLs are served by the agent's own client: non-blocking connects
 * (every address the name resolves to, in turn), a pool of keep-alive
 * connections, the request head and the caller's body written with one
 * writev() and no copy, answers parsed by agent/net/http_resp.h.  Host names are
 * resolved on a short-lived thread (the loop never waits on DNS) and cached
 * for a minute.  A request that fails on a reused connection before any byte
 * of an answer (the server closed it while idle) is retried once on a new
 * connection, as browsers and libcurl do.
 *
 * https:// URLs go through libcurl (agent/net/curl_loop.h), loaded only then:
 * TLS is what libcurl is for, and its code and dependencies (8 MiB of
 * resident memory on Debian 12) are not worth mapping into an agent that
 * ships plain HTTP on a private network.
 *
 * Loop thread only.  Callbacks run from the loop, never from inside the call
 * that starts a request.
 */
#ifndef SLUICE_AGENT_HTTP_CLIENT_H
#define SLUICE_AGENT_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/evloop.h"

struct http_client_opts {
	int64_t timeout_ms; /* one request, from its start to the answer's end */
	int64_t connect_timeout_ms;
	size_t max_body;        /* largest answer body kept (0: 1 MiB) */
	const char *ca_file;    /* https: CA bundle (NULL: the system's) */
	bool tls_verify;        /* https: check certificate and host name */
	const char *cert;       /* https: client certificate (PEM) for mTLS, or NULL */
	const char *key;        /* https: its private key (PEM; NULL: in cert) */
	const char *user_agent; /* NULL: "sluice-agent" */
};

struct http_client;
struct http_client_req;

typedef void (*http_done_fn)(struct http_client_req *r, void *arg);

/* base_url: http://host[:port][/prefix] or https://...; request paths are
 * appended to it.  Borrows opts' strings for the client's life.
 * 0, -EINVAL (a URL it cannot use) or -ENOMEM. */
int http_client_new(struct evloop *loop, const char *base_url, const struct http_client_opts *o,
		    struct http_client **out);
/* Requests still running are abandoned without their callbacks (free them
 * first if their owners need to know). */
void http_client_free(struct http_client *c);

/* Start a request.  path is appended to the base URL (it starts with '/');
 * headers is NULL or "Name: value\r\n" lines; body (borrowed until the
 * callback runs or the request is freed) may be NULL for none.  done runs
 * once, on a later loop iteration, whether an answer came or not.
 * NULL when out of memory. */
struct http_client_req *http_request(struct http_client *c, const char *method, const char *path,
				     const char *headers, const void *body, size_t len,
				     http_done_fn done, void *arg);
/* Free a finished request, or abandon a running one (no callback). */
void http_client_req_free(struct http_client_req *r);

/* After the callback: 0 when an answer came (see the getters), or a negative
 * code (connection refused, timeout, malformed answer, ...) with a message
 * in http_client_req_error(). */
int http_client_req_result(const struct http_client_req *r);
const char *http_client_req_error(const struct http_client_req *r);
int http_client_req_status(const struct http_client_req *r);
/* The answer's body; the request owns it. */
const struct buf *http_client_req_body(const struct http_client_req *r);
/* Retry-After in milliseconds, -1 when the answer had none. */
int64_t http_client_req_retry_after_ms(const struct http_client_req *r);

/* Blocking, for start-up before the loop runs: one request on a private
 * loop, at most timeout_ms.  Answers as http_client_req_result(); *status and
 * body (appended to; may be NULL) are set when an answer came, why (may be
 * NULL) says what went wrong when none did. */
int http_fetch(const char *base_url, const struct http_client_opts *o, const char *method,
	       const char *path, const char *headers, const void *body, size_t len,
	       int64_t timeout_ms, int *status, struct buf *resp, char *why, size_t whylen);

/* Counters since the client was made (for metrics and tests). */
struct http_client_stats {
	uint64_t connects;      /* connections opened */
	uint64_t reuses;        /* requests sent on a kept-alive connection */
	uint64_t stale_retries; /* requests retried after a reused connection died */
};
void http_client_stats(const struct http_client *c, struct http_client_stats *st);

#endif
