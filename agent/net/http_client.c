/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's HTTP/1.1 client (see http_client.h): URL, requests, the
 * connection pool and the wire, for http:// URLs.  https:// requests are
 * handed to http_client_tls.c (libcurl).
 *
 * A request owns at most one connection at a time; a connection carries one
 * request at a time (no pipelining).  A connection is kept for the next
 * request only when the answer said keep-alive, was read to its end with
 * nothing after it, and the whole request had been written.  Idle
 * connections are watched for reads: the server closing one (or sending
 * anything unasked) closes it here too, and they are closed after
 * IDLE_MAX_MS, before the store's own 120 s idle limit would.
 *
 * A failure that must be reported from inside http_request() (no memory for
 * a socket, no address) is reported from the request's timer fired at 0 ms,
 * so callbacks never run inside the call that started them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/net/http_client_int.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"

#define DNS_TTL_MS 60000
#define IDLE_MAX_MS 60000
#define READ_CHUNK 16384
#define HEAD_MAX 16384
#define MAX_BODY_DEFAULT (1u << 20)

struct http_client_conn {
	struct http_client_conn *next;
	struct http_client *c;
	struct evloop_io io;
	struct evloop_timer timer; /* connect timeout, then idle time */
	int fd;
	bool connecting;
	bool idle;
	size_t addr; /* index of the address being tried */
	struct http_client_req *req;
};

/* A resolution in flight, shared with its thread. */
struct resolve {
	pthread_mutex_t mu;
	int refs;
	bool abandoned;
	bool done;
	char *host;
	char port[8];
	int rc;
	char why[96];
	struct http_addrs out;
	struct evloop_async *notify;
};

/* ------------------------------------------------------------ URL */

static int parse_url(struct http_client *c, const char *url)
{
	const char *p, *auth_end, *host, *host_end, *port = NULL;
	size_t hl, pl;
	long pn = 0;

	if (strncmp(url, "http://", 7) == 0) {
		p = url + 7;
	} else if (strncmp(url, "https://", 8) == 0) {
		p = url + 8;
		c->tls = true;
	} else {
		return -EINVAL;
	}
	auth_end = p + strcspn(p, "/?#");
	if (memchr(p, '@', (size_t)(auth_end - p)))
		return -EINVAL; /* credentials in the URL: use token_file */
	if (*p == '[') {
		host = p + 1;
		host_end = memchr(host, ']', (size_t)(auth_end - host));
		if (!host_end)
			return -EINVAL;
		if (host_end + 1 < auth_end) {
			if (host_end[1] != ':')
				return -EINVAL;
			port = host_end + 2;
		}
	} else {
		host = p;
		host_end = memchr(p, ':', (size_t)(auth_end - p));
		if (host_end)
			port = host_end + 1;
		else
			host_end = auth_end;
	}
	hl = (size_t)(host_end - host);
	if (hl == 0 || hl > 255)
		return -EINVAL;
	if (port) {
		if (port == auth_end)
			return -EINVAL;
		for (const char *q = port; q < auth_end; q++) {
			if (*q < '0' || *q > '9' || pn > 65535)
				return -EINVAL;
			pn = pn * 10 + (*q - '0');
		}
		if (pn < 1 || pn > 65535)
			return -EINVAL;
	} else {
		pn = c->tls ? 443 : 80;
	}
	if (strpbrk(auth_end, "?# "))
		return -EINVAL; /* paths carry their own queries */
	snprintf(c->port, sizeof(c->port), "%ld", pn);
	c->host = mem_strndup(host, hl);
	c->hosthdr = mem_strndup(p, (size_t)(auth_end - p));
	pl = strlen(auth_end);
	while (pl && auth_end[pl - 1] == '/')
		pl--;
	c->prefix = mem_strndup(auth_end, pl);
	pl = strlen(url);
	while (pl && url[pl - 1] == '/')
		pl--;
	c->base = mem_strndup(url, pl);
	if (!c->host || !c->hosthdr || !c->prefix || !c->base)
		return -ENOMEM;
	return 0;
}

/* ------------------------------------------------------------ names */

static int addrs_from(struct http_addrs *out, struct addrinfo *ai)
{
	out->n = 0;
	for (; ai && out->n < HTTP_ADDRS_MAX; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(out->a[0]))
			continue;
		memcpy(&out->a[out->n], ai->ai_addr, ai->ai_addrlen);
		out->len[out->n] = ai->ai_addrlen;
		out->n++;
	}
	return out->n ? 0 : -ENOENT;
}

static int lookup(const char *host, const char *port, int flags, struct http_addrs *out, char *why,
		  size_t whylen)
{
	struct addrinfo hints, *ai = NULL;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	/* AI_ADDRCONFIG skips families the host has no address of, but it
	 * ignores loopback: not for a literal such as [::1]. */
	hints.ai_flags = flags | AI_NUMERICSERV | (flags & AI_NUMERICHOST ? 0 : AI_ADDRCONFIG);
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc != 0) {
		snprintf(why, whylen, "cannot resolve %s: %s", host, gai_strerror(rc));
		return -EHOSTUNREACH;
	}
	rc = addrs_from(out, ai);
	freeaddrinfo(ai);
	if (rc < 0)
		snprintf(why, whylen, "%s has no usable address", host);
	return rc < 0 ? -EHOSTUNREACH : 0;
}

static void resolve_unref(struct resolve *rs)
{
	bool last;

	pthread_mutex_lock(&rs->mu);
	last = --rs->refs == 0;
	pthread_mutex_unlock(&rs->mu);
	if (last) {
		pthread_mutex_destroy(&rs->mu);
		mem_free(rs->host);
		mem_free(rs);
	}
}

static void *resolve_thread(void *arg)
{
	struct resolve *rs = arg;
	struct http_addrs out;
	char why[96] = "";
	int rc = lookup(rs->host, rs->port, 0, &out, why, sizeof(why));

	pthread_mutex_lock(&rs->mu);
	if (!rs->abandoned) {
		rs->rc = rc;
		rs->out = out;
		memcpy(rs->why, why, sizeof(why));
		rs->done = true;
		/* Under the lock: the client cannot stop the async meanwhile. */
		evloop_async_send(rs->notify);
	}
	pthread_mutex_unlock(&rs->mu);
	resolve_unref(rs);
	return NULL;
}

static void fail_waiting(struct http_client *c, int rc, const char *why);
static void dispatch(struct http_client_req *r);

static void on_resolved(struct evloop_async *a)
{
	struct http_client *c = a->data;
	struct resolve *rs = c->rs;
	int rc;
	char why[96];

	if (!rs)
		return;
	pthread_mutex_lock(&rs->mu);
	if (!rs->done) {
		pthread_mutex_unlock(&rs->mu);
		return;
	}
	rc = rs->rc;
	memcpy(why, rs->why, sizeof(why));
	if (rc == 0) {
		c->addrs = rs->out;
		c->addrs_at = evloop_now(c->loop);
		c->have_addrs = true;
	}
	pthread_mutex_unlock(&rs->mu);
	c->rs = NULL;
	resolve_unref(rs);
	if (rc < 0) {
		fail_waiting(c, rc, why);
		return;
	}
	for (struct http_client_req *r = c->reqs; r; r = r->next) {
		if (r->waiting_addr) {
			r->waiting_addr = false;
			dispatch(r);
		}
	}
}

/* Start a resolution unless one runs.  0 or a negative code. */
static int resolve_start(struct http_client *c)
{
	struct resolve *rs;
	pthread_attr_t attr;
	pthread_t t;
	int rc;

	if (c->rs)
		return 0;
	rs = mem_calloc(1, sizeof(*rs));
	if (!rs)
		return -ENOMEM;
	rs->host = mem_strdup(c->host);
	if (!rs->host) {
		mem_free(rs);
		return -ENOMEM;
	}
	memcpy(rs->port, c->port, sizeof(rs->port));
	pthread_mutex_init(&rs->mu, NULL);
	rs->refs = 2;
	rs->notify = &c->async;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	rc = pthread_create(&t, &attr, resolve_thread, rs);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		rs->refs = 1;
		resolve_unref(rs);
		return -rc;
	}
	c->rs = rs;
	return 0;
}

static void resolve_abandon(struct http_client *c)
{
	struct resolve *rs = c->rs;

	if (!rs)
		return;
	pthread_mutex_lock(&rs->mu);
	rs->abandoned = true;
	pthread_mutex_unlock(&rs->mu);
	c->rs = NULL;
	resolve_unref(rs);
}

/* ------------------------------------------------------------ requests */

void http_client_req_finish(struct http_client_req *r, int rc, const char *why)
{
	if (r->finished)
		return;
	r->finished = true;
	r->result = rc;
	if (rc < 0 && why != r->why)
		snprintf(r->why, sizeof(r->why), "%s", why && *why ? why : err_str(rc));
	if (r->timer.active)
		evloop_timer_stop(&r->timer);
	r->waiting_addr = false;
	r->conn = NULL;
	r->done(r, r->arg);
}

static void on_req_timer(struct evloop_timer *t)
{
	struct http_client_req *r = t->data;
	struct http_client_conn *cn = r->conn;

	if (r->pending_rc < 0) {
		http_client_req_finish(r, r->pending_rc, r->why);
		return;
	}
	if (cn) {
		cn->req = NULL;
		http_conn_close(cn);
		r->conn = NULL;
	}
	snprintf(r->why, sizeof(r->why), "no answer within %" PRId64 " ms", r->c->o.timeout_ms);
	http_client_req_finish(r, -ETIMEDOUT, r->why);
}

/* Report a failure from a later loop iteration. */
static void fail_later(struct http_client_req *r, int rc, const char *why)
{
	r->pending_rc = rc;
	if (why != r->why)
		snprintf(r->why, sizeof(r->why), "%s", why && *why ? why : err_str(rc));
	evloop_timer_start(r->c->loop, &r->timer, 0, 0, on_req_timer, r);
}

static void fail_waiting(struct http_client *c, int rc, const char *why)
{
	for (struct http_client_req *r = c->reqs; r; r = r->next) {
		if (r->waiting_addr) {
			r->waiting_addr = false;
			fail_later(r, rc, why);
		}
	}
}

static int build_head(struct http_client_req *r, const char *method, const char *path,
		      const char *headers, bool has_body, size_t len)
{
	struct http_client *c = r->c;
	int rc;

	buf_init(&r->head, HEAD_MAX);
	rc = buf_printf(&r->head,
			"%s %s%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nAccept: */*\r\n", method,
			c->prefix, path, c->hosthdr, c->o.user_agent);
	if (rc == 0 && headers)
		rc = buf_append_str(&r->head, headers);
	if (rc == 0 && has_body)
		rc = buf_printf(&r->head, "Content-Length: %zu\r\n", len);
	if (rc == 0)
		rc = buf_append_str(&r->head, "\r\n");
	return rc;
}

struct http_client_req *http_request(struct http_client *c, const char *method, const char *path,
				     const char *headers, const void *body, size_t len,
				     http_done_fn done, void *arg)
{
	struct http_client_req *r = mem_calloc(1, sizeof(*r));
	bool has_body = body || (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0);

	if (!r)
		return NULL;
	r->c = c;
	r->done = done;
	r->arg = arg;
	r->body = body;
	r->len = body ? len : 0;
	http_resp_init(&r->resp, c->o.max_body, strcmp(method, "HEAD") == 0);
	r->next = c->reqs;
	c->reqs = r;
	if (c->tls) {
		if (http_tls_start(r, method, path, headers) < 0) {
			http_client_req_free(r);
			return NULL;
		}
		return r;
	}
	if (build_head(r, method, path, headers, has_body, r->len) < 0) {
		http_client_req_free(r);
		return NULL;
	}
	evloop_timer_start(c->loop, &r->timer, (uint64_t)c->o.timeout_ms, 0, on_req_timer, r);
	dispatch(r);
	return r;
}

/* ------------------------------------------------------------ connections */

/* Stop watching and close the socket; the connection struct stays. */
static void conn_drop_socket(struct http_client_conn *cn)
{
	if (cn->io.active)
		evloop_io_stop(&cn->io);
	if (cn->timer.active)
		evloop_timer_stop(&cn->timer);
	if (cn->fd >= 0)
		close(cn->fd);
	cn->fd = -1;
}

void http_conn_close(struct http_client_conn *cn)
{
	struct http_client *c = cn->c;
	struct http_client_conn **pp = &c->conns;

	while (*pp && *pp != cn)
		pp = &(*pp)->next;
	if (*pp)
		*pp = cn->next;
	conn_drop_socket(cn);
	if (cn->req)
		cn->req->conn = NULL;
	mem_free(cn);
}

static void on_conn_io(struct evloop_io *io, uint32_t revents);
static void on_conn_timer(struct evloop_timer *t);
static void conn_send(struct http_client_conn *cn);

static void close_idle(struct http_client *c)
{
	struct http_client_conn *cn = c->conns, *next;

	for (; cn; cn = next) {
		next = cn->next;
		if (cn->idle)
			http_conn_close(cn);
	}
}

/* The request failed on its connection.  A reused connection that died
 * before any answer byte was closed by the server while idle: try again,
 * once, on a new connection. */
static void conn_failed(struct http_client_conn *cn, int rc, const char *why)
{
	struct http_client_req *r = cn->req;
	struct http_client *c = cn->c;

	cn->req = NULL;
	http_conn_close(cn);
	if (!r)
		return;
	r->conn = NULL;
	if (r->reused && !r->retried && !http_resp_started(&r->resp)) {
		bool head = r->resp.no_body;

		r->retried = true;
		r->reused = false;
		r->sent = 0;
		http_resp_release(&r->resp);
		http_resp_init(&r->resp, c->o.max_body, head);
		c->st.stale_retries++;
		close_idle(c); /* they are likely as stale */
		dispatch(r);
		return;
	}
	http_client_req_finish(r, rc, why);
}

/* Change what the connection waits for; a failure fails the connection
 * (which may free cn) and is returned. */
static int conn_events(struct http_client_conn *cn, uint32_t events)
{
	int rc = evloop_io_modify(&cn->io, events);

	if (rc < 0)
		conn_failed(cn, rc, "cannot change the connection's epoll events");
	return rc;
}

static void conn_attach(struct http_client_conn *cn, struct http_client_req *r)
{
	cn->req = r;
	cn->idle = false;
	r->conn = cn;
	if (cn->timer.active)
		evloop_timer_stop(&cn->timer);
}

/* Try addresses from cn->addr on.  Returns 0 (connecting or connected) or
 * a negative code when none is left (why says the last failure). */
/* Best effort: a kernel without one of these still works, just slower to
 * notice a dead peer. */
static void set_keepalive(int fd)
{
	int one = 1, idle = KEEPALIVE_IDLE_S, intvl = KEEPALIVE_INTVL_S, cnt = KEEPALIVE_CNT;
	unsigned ut = TCP_USER_TIMEOUT_MS;

	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ut, sizeof(ut));
}

static int conn_connect(struct http_client_conn *cn, char *why, size_t whylen)
{
	struct http_client *c = cn->c;
	int rc = -ECONNREFUSED;

	for (; cn->addr < c->addrs.n; cn->addr++) {
		const struct sockaddr *sa = (const struct sockaddr *)&c->addrs.a[cn->addr];
		int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		int one = 1;

		if (fd < 0) {
			rc = -errno;
			snprintf(why, whylen, "socket: %s", err_str(-errno));
			return rc;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		set_keepalive(fd);
		if (connect(fd, sa, c->addrs.len[cn->addr]) == 0 || errno == EINPROGRESS) {
			cn->fd = fd;
			cn->connecting = true;
			if (evloop_io_start(c->loop, &cn->io, fd, EVLOOP_WRITE, on_conn_io, cn) <
			    0) {
				cn->fd = -1;
				close(fd);
				snprintf(why, whylen, "cannot watch the socket");
				return -ENOMEM;
			}
			evloop_timer_start(c->loop, &cn->timer, (uint64_t)c->o.connect_timeout_ms,
					   0, on_conn_timer, cn);
			c->st.connects++;
			return 0;
		}
		rc = -errno;
		snprintf(why, whylen, "connect to %s port %s: %s", c->host, c->port,
			 err_str(-errno));
		close(fd);
	}
	return rc;
}

static void conn_next_addr(struct http_client_conn *cn, const char *why0)
{
	char why[160];
	int rc;

	snprintf(why, sizeof(why), "%s", why0);
	conn_drop_socket(cn);
	cn->addr++;
	rc = cn->addr < cn->c->addrs.n ? conn_connect(cn, why, sizeof(why)) : -ECONNREFUSED;
	if (rc < 0) {
		/* No address answered: the names may have moved. */
		cn->c->have_addrs = cn->c->numeric;
		conn_failed(cn, rc, why);
	}
}

static void conn_open(struct http_client_req *r)
{
	struct http_client *c = r->c;
	struct http_client_conn *cn = mem_calloc(1, sizeof(*cn));
	char why[160] = "";
	int rc;

	if (!cn) {
		fail_later(r, -ENOMEM, NULL);
		return;
	}
	cn->c = c;
	cn->fd = -1;
	cn->next = c->conns;
	c->conns = cn;
	conn_attach(cn, r);
	rc = conn_connect(cn, why, sizeof(why));
	if (rc < 0) {
		cn->req = NULL;
		r->conn = NULL;
		http_conn_close(cn);
		c->have_addrs = c->numeric;
		fail_later(r, rc, why);
	}
}

static void dispatch(struct http_client_req *r)
{
	struct http_client *c = r->c;

	if (!r->retried) {
		for (struct http_client_conn *cn = c->conns; cn; cn = cn->next) {
			if (cn->idle) {
				conn_attach(cn, r);
				r->reused = true;
				c->st.reuses++;
				/* Written when the loop says it can be: nothing of
				 * the request runs inside http_request(). */
				/* on failure conn_failed() retried r elsewhere */
				SLUICE_IGNORE(conn_events(cn, EVLOOP_READ | EVLOOP_WRITE));
				return;
			}
		}
	}
	if (c->have_addrs && !c->numeric && evloop_now(c->loop) - c->addrs_at > DNS_TTL_MS)
		c->have_addrs = false;
	if (!c->have_addrs) {
		int rc = resolve_start(c);

		if (rc < 0)
			fail_later(r, rc, "cannot start the name resolver");
		else
			r->waiting_addr = true;
		return;
	}
	conn_open(r);
}

static void conn_idle(struct http_client_conn *cn)
{
	cn->req = NULL;
	cn->idle = true;
	if (conn_events(cn, EVLOOP_READ) < 0)
		return;
	evloop_timer_start(cn->c->loop, &cn->timer, IDLE_MAX_MS, 0, on_conn_timer, cn);
}

/* The answer is complete.  extra: bytes followed it. */
static void conn_complete(struct http_client_conn *cn, bool extra)
{
	struct http_client_req *r = cn->req;
	size_t total = r->head.len + r->len;

	if (r->resp.keep_alive && !extra && r->sent == total)
		conn_idle(cn);
	else
		http_conn_close(cn);
	r->conn = NULL;
	http_client_req_finish(r, 0, NULL);
}

static void conn_read(struct http_client_conn *cn)
{
	uint8_t chunk[READ_CHUNK];

	for (;;) {
		struct http_client_req *r = cn->req;
		ssize_t n = read(cn->fd, chunk, sizeof(chunk));
		long used;

		if (n < 0) {
			int e = errno;
			char why[160];

			if (e == EAGAIN || e == EINTR)
				return;
			snprintf(why, sizeof(why), "read: %s", err_str(-e));
			conn_failed(cn, -e, why);
			return;
		}
		if (n == 0) {
			if (http_resp_eof(&r->resp) == 0) {
				r->resp.keep_alive = false;
				conn_complete(cn, false);
			} else {
				conn_failed(cn, -ECONNRESET, http_resp_why(&r->resp));
			}
			return;
		}
		used = http_resp_feed(&r->resp, chunk, (size_t)n);
		if (used < 0) {
			/* Not worth a retry: this server answers, wrongly. */
			r->retried = true;
			conn_failed(cn, (int)used, http_resp_why(&r->resp));
			return;
		}
		if (http_resp_done(&r->resp)) {
			conn_complete(cn, used < n);
			return;
		}
	}
}

static void conn_send(struct http_client_conn *cn)
{
	struct http_client_req *r = cn->req;
	size_t total = r->head.len + r->len;

	while (r->sent < total) {
		struct iovec iov[2];
		struct msghdr msg;
		ssize_t w;

		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = iov;
		if (r->sent < r->head.len) {
			iov[0].iov_base = r->head.data + r->sent;
			iov[0].iov_len = r->head.len - r->sent;
			iov[1].iov_base = (void *)r->body;
			iov[1].iov_len = r->len;
			msg.msg_iovlen = r->len ? 2 : 1;
		} else {
			iov[0].iov_base = (void *)(r->body + (r->sent - r->head.len));
			iov[0].iov_len = total - r->sent;
			msg.msg_iovlen = 1;
		}
		/* sendmsg for MSG_NOSIGNAL: a closed peer is an error, not SIGPIPE. */
		w = sendmsg(cn->fd, &msg, MSG_NOSIGNAL);
		if (w < 0) {
			int e = errno;
			char why[160];

			if (e == EAGAIN || e == EINTR)
				return; /* EPOLLOUT brings us back */
			if (e == EPIPE || e == ECONNRESET) {
				/* The server may have answered (and closed) before
				 * taking the whole body: read what it said.  The
				 * unsent rest keeps the connection from reuse. */
				if (conn_events(cn, EVLOOP_READ) < 0)
					return;
				conn_read(cn); /* may free cn */
				return;
			}
			snprintf(why, sizeof(why), "write: %s", err_str(-e));
			conn_failed(cn, -e, why);
			return;
		}
		r->sent += (size_t)w;
	}
	SLUICE_IGNORE(conn_events(cn, EVLOOP_READ)); /* a failure closed cn: nothing left to do */
}

static void on_conn_timer(struct evloop_timer *t)
{
	struct http_client_conn *cn = t->data;
	char why[160];

	if (cn->idle) {
		http_conn_close(cn);
		return;
	}
	snprintf(why, sizeof(why), "connect to %s port %s: no answer within %" PRId64 " ms",
		 cn->c->host, cn->c->port, cn->c->o.connect_timeout_ms);
	conn_next_addr(cn, why);
}

static void on_conn_io(struct evloop_io *io, uint32_t revents)
{
	struct http_client_conn *cn = io->data;
	struct http_client_req *r = cn->req;

	if (cn->idle) {
		/* Closed by the server, or bytes nobody asked for. */
		http_conn_close(cn);
		return;
	}
	if (cn->connecting) {
		int err = 0;
		socklen_t el = sizeof(err);
		char why[160];

		if (getsockopt(cn->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
			err = errno;
		if (err == 0 && (revents & (EPOLLERR | EPOLLHUP)))
			err = ECONNREFUSED;
		if (err != 0) {
			snprintf(why, sizeof(why), "connect to %s port %s: %s", cn->c->host,
				 cn->c->port, err_str(-err));
			conn_next_addr(cn, why);
			return;
		}
		cn->connecting = false;
		evloop_timer_stop(&cn->timer);
		if (conn_events(cn, EVLOOP_READ | EVLOOP_WRITE) < 0)
			return;
		conn_send(cn);
		return;
	}
	if (!r)
		return;
	if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		conn_read(cn);
		return; /* cn may be gone */
	}
	if (revents & EPOLLOUT)
		conn_send(cn);
}

/* ------------------------------------------------------------ client */

int http_client_new(struct evloop *loop, const char *base_url, const struct http_client_opts *o,
		    struct http_client **out)
{
	struct http_client *c = mem_calloc(1, sizeof(*c));
	unsigned char tmp[sizeof(struct in6_addr)];
	char why[96];
	int rc;

	*out = NULL;
	if (!c)
		return -ENOMEM;
	c->loop = loop;
	c->o = *o;
	if (c->o.max_body == 0)
		c->o.max_body = MAX_BODY_DEFAULT;
	if (!c->o.user_agent)
		c->o.user_agent = "sluice-agent";
	if (c->o.timeout_ms <= 0)
		c->o.timeout_ms = 60000;
	if (c->o.connect_timeout_ms <= 0)
		c->o.connect_timeout_ms = 5000;
	rc = parse_url(c, base_url);
	if (rc < 0)
		goto fail;
	if (c->tls) {
		rc = http_tls_init(c);
		if (rc < 0)
			goto fail;
		*out = c;
		return 0;
	}
	rc = evloop_async_start(loop, &c->async, on_resolved, c);
	if (rc < 0)
		goto fail;
	c->async_on = true;
	if (inet_pton(AF_INET, c->host, tmp) == 1 || inet_pton(AF_INET6, c->host, tmp) == 1) {
		rc = lookup(c->host, c->port, AI_NUMERICHOST, &c->addrs, why, sizeof(why));
		if (rc < 0)
			goto fail;
		c->numeric = true;
		c->have_addrs = true;
	}
	*out = c;
	return 0;
fail:
	http_client_free(c);
	return rc;
}

void http_client_free(struct http_client *c)
{
	if (!c)
		return;
	while (c->reqs)
		http_client_req_free(c->reqs);
	while (c->conns)
		http_conn_close(c->conns);
	resolve_abandon(c);
	if (c->async_on)
		evloop_async_stop(&c->async);
	http_tls_release(c);
	mem_free(c->host);
	mem_free(c->hosthdr);
	mem_free(c->prefix);
	mem_free(c->base);
	mem_free(c);
}

void http_client_req_free(struct http_client_req *r)
{
	struct http_client *c;
	struct http_client_req **pp;

	if (!r)
		return;
	c = r->c;
	for (pp = &c->reqs; *pp && *pp != r; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = r->next;
	if (r->conn) {
		/* Abandoned mid-request: the connection's state is unknown. */
		r->conn->req = NULL;
		http_conn_close(r->conn);
	}
	if (r->timer.active)
		evloop_timer_stop(&r->timer);
	http_tls_req_release(r);
	buf_release(&r->head);
	http_resp_release(&r->resp);
	mem_free(r);
}

int http_client_req_result(const struct http_client_req *r)
{
	return r->result;
}

const char *http_client_req_error(const struct http_client_req *r)
{
	return r->result < 0 ? r->why : "";
}

int http_client_req_status(const struct http_client_req *r)
{
	return r->result == 0 ? r->resp.status : 0;
}

const struct buf *http_client_req_body(const struct http_client_req *r)
{
	return &r->resp.body;
}

int64_t http_client_req_retry_after_ms(const struct http_client_req *r)
{
	return r->resp.retry_after_ms;
}

void http_client_stats(const struct http_client *c, struct http_client_stats *st)
{
	*st = c->st;
}

/* ------------------------------------------------------------ blocking */

static void on_fetch_done(struct http_client_req *r, void *arg)
{
	(void)r;
	*(bool *)arg = true;
}

int http_fetch(const char *base_url, const struct http_client_opts *o, const char *method,
	       const char *path, const char *headers, const void *body, size_t len,
	       int64_t timeout_ms, int *status, struct buf *resp, char *why, size_t whylen)
{
	struct evloop *loop = evloop_new();
	struct http_client *c = NULL;
	struct http_client_opts oo = *o;
	struct http_client_req *r = NULL;
	bool done = false;
	int rc;

	*status = 0;
	if (!loop)
		return -ENOMEM;
	oo.timeout_ms = timeout_ms;
	if (oo.connect_timeout_ms > timeout_ms)
		oo.connect_timeout_ms = timeout_ms;
	rc = http_client_new(loop, base_url, &oo, &c);
	if (rc < 0) {
		if (why)
			snprintf(why, whylen, "%s: %s", base_url, err_str(rc));
		goto out;
	}
	r = http_request(c, method, path, headers, body, len, on_fetch_done, &done);
	if (!r) {
		rc = -ENOMEM;
		if (why)
			snprintf(why, whylen, "%s", err_str(rc));
		goto out;
	}
	/* The request's own timeout ends it; the loop only has to turn. */
	while (!done) {
		rc = evloop_run_once(loop, 1000);
		if (rc < 0)
			goto out;
	}
	rc = http_client_req_result(r);
	if (rc < 0 && why)
		snprintf(why, whylen, "%s", http_client_req_error(r));
	if (rc == 0) {
		*status = http_client_req_status(r);
		if (resp)
			rc = buf_append(resp, http_client_req_body(r)->data,
					http_client_req_body(r)->len);
	}
out:
	http_client_req_free(r);
	http_client_free(c);
	evloop_free(loop);
	return rc;
}
