/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A tiny HTTP/1.1 responder on the agent's event loop, for GET /metrics and
 * GET /health on agent.http.listen.  One request per connection (the answer
 * carries Connection: close), request heads bounded to 8 KiB, at most 64
 * connections, each closed after 10 s without completing.  The agent needs
 * no more, and one epoll loop keeps idle RSS low.
 *
 * Loop thread only.
 */
#ifndef SLUICE_AGENT_HTTPD_H
#define SLUICE_AGENT_HTTPD_H

#include "lib/buf.h"
#include "lib/evloop.h"

struct httpd;

/* Fill body (and *ctype, a string literal) and return the status code. */
typedef int (*httpd_handler)(void *arg, const char *method, const char *path, struct buf *body,
			     const char **ctype);

/* listen is HOST:PORT ([v6]:PORT allowed).  0 or a negative errno. */
int httpd_new(struct evloop *loop, const char *listen, httpd_handler h, void *arg,
	      struct httpd **out);
void httpd_free(struct httpd *h);
/* The bound port (useful with port 0). */
int httpd_port(const struct httpd *h);

#endif
