/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of the HTTP client shared by its two files:
 *   http_client.c      URL, requests, plain-HTTP connections
 *   http_client_tls.c  https:// requests through libcurl
 * Loop thread only.
 */
#ifndef SLUICE_AGENT_HTTP_CLIENT_INT_H
#define SLUICE_AGENT_HTTP_CLIENT_INT_H

#include <sys/socket.h>

#include "agent/net/http_client.h"
#include "agent/net/http_resp.h"

#define HTTP_ADDRS_MAX 8

struct http_addrs {
	struct sockaddr_storage a[HTTP_ADDRS_MAX];
	socklen_t len[HTTP_ADDRS_MAX];
	size_t n;
};

struct http_client_conn;
struct resolve;
struct curl_loop;

struct http_client_req {
	struct http_client_req *next; /* the client's live requests */
	struct http_client *c;
	struct http_client_conn *conn; /* while on a connection */
	struct buf head;               /* request line and headers */
	const uint8_t *body;           /* borrowed */
	size_t len;
	size_t sent; /* bytes of head, then body, written */
	struct http_resp resp;
	struct evloop_timer timer; /* the request's timeout, or a failure to report */
	http_done_fn done;
	void *arg;
	int result;
	int pending_rc; /* failure reported from the timer */
	char why[192];
	bool waiting_addr;
	bool reused;
	bool retried;
	bool finished;
	void *easy; /* https: the curl easy handle */
	void *hdrs; /* https: its header list */
};

struct http_client {
	struct evloop *loop;
	struct http_client_opts o;
	bool tls;
	bool numeric; /* the host is an address: no resolution */
	char *host;
	char *hosthdr; /* Host: value, as in the URL */
	char port[8];
	char *prefix; /* path in the URL, without trailing '/' */
	char *base;   /* the URL without trailing '/' (https) */
	struct http_addrs addrs;
	uint64_t addrs_at;
	bool have_addrs;
	struct resolve *rs;
	struct evloop_async async;
	bool async_on;
	struct http_client_conn *conns;
	struct http_client_req *reqs;
	struct http_client_stats st;
	struct curl_loop *cl; /* https */
};

void http_conn_close(struct http_client_conn *cn);
/* End a request: its callback runs now. */
void http_client_req_finish(struct http_client_req *r, int rc, const char *why);

/* https (http_client_tls.c) */
int http_tls_init(struct http_client *c);
void http_tls_release(struct http_client *c);
int http_tls_start(struct http_client_req *r, const char *method, const char *path,
		   const char *headers);
void http_tls_req_release(struct http_client_req *r);

/* A connection the network dropped silently (a NAT or firewall forgot it,
 * the peer's host vanished: no RST ever comes) is found within a bound:
 * idle, TCP keep-alive probes after KEEPALIVE_IDLE_S, every
 * KEEPALIVE_INTVL_S, KEEPALIVE_CNT unanswered ones close it (35 s); with a
 * request written, TCP_USER_TIMEOUT_MS of unacknowledged data does (the
 * request's own timeout may be longer).  Either way the request fails and
 * is retried on a new connection.  (https: libcurl takes the
 * first two.) */
#define KEEPALIVE_IDLE_S 20
#define KEEPALIVE_INTVL_S 5
#define KEEPALIVE_CNT 3
#define TCP_USER_TIMEOUT_MS 30000

#endif
