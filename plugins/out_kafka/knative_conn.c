/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Broker connections of the native kafka producer (knative.h): one
 * non-blocking TCP connection per broker (and bootstrap address), requests
 * written from one output buffer, answers read into one input buffer and
 * framed by their int32 size.  Kafka answers a connection's requests in the
 * order they were sent, so pending requests are a FIFO and an answer whose
 * correlation id is not the head's is a broken peer: the connection is
 * dropped, and so is one whose peer closes, errs or sends a frame larger
 * than RESP_MAX.  A dropped connection is unlinked at once and freed at the
 * end of the loop iteration (its callbacks may be on the stack).
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "plugins/out_kafka/knative.h"

#define RESP_MAX ((size_t)64 << 20)
#define OUT_MAX ((size_t)1 << 30)
#define READ_CHUNK ((size_t)64 << 10)

int kn_split_hostport(const char *s, char *host, size_t cap, int32_t *port)
{
	const char *colon = strrchr(s, ':');
	int64_t p;
	size_t n;

	if (!colon || colon == s || cfg_parse_int(colon + 1, &p) < 0 || p < 1 || p > 65535)
		return -ERR_INVALID;
	n = (size_t)(colon - s);
	if (*s == '[' && n >= 2 && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n >= cap)
		return -ERR_INVALID;
	memcpy(host, s, n);
	host[n] = '\0';
	*port = (int32_t)p;
	return 0;
}

static void on_io(struct evloop_io *io, uint32_t revents);

static int conn_open(struct kn_conn *c)
{
	struct addrinfo hints, *ai = NULL, *a;
	char port[16];
	int rc, fd = -1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%d", c->port);
	rc = getaddrinfo(c->host, port, &hints, &ai);
	if (rc != 0)
		return -EHOSTUNREACH;
	rc = -ECONNREFUSED;
	for (a = ai; a; a = a->ai_next) {
		int one = 1;

		fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0 || errno == EINPROGRESS) {
			rc = 0;
			break;
		}
		rc = -errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (rc < 0)
		return rc;
	c->fd = fd;
	c->connecting = true;
	rc = evloop_io_start(c->kn->loop, &c->io, fd, EVLOOP_READ | EVLOOP_WRITE, on_io, c);
	if (rc < 0) {
		close(fd);
		c->fd = -1;
	}
	return rc;
}

/* Dead connections, freed here: their callbacks may have been on the stack. */
static void conn_reap(struct evloop_defer *d)
{
	struct knative *kn = d->data;

	if (!kn) {
		mem_free(d); /* the producer is gone (knative_free) */
		return;
	}
	while (kn->dead) {
		struct kn_conn *c = kn->dead;

		kn->dead = c->next;
		kn_conn_free(c);
	}
}

void kn_conn_free(struct kn_conn *c)
{
	if (!c)
		return;
	if (c->io.active)
		evloop_io_stop(&c->io);
	kn_tls_free(c);
	kn_scram_free(c->scram);
	if (c->fd >= 0)
		close(c->fd);
	while (c->head) {
		struct kn_req *r = c->head;

		c->head = r->next;
		mem_free(r);
	}
	buf_release(&c->out);
	buf_release(&c->in);
	mem_free(c);
}

static void unlink_conn(struct kn_conn *c)
{
	struct kn_conn **pp = &c->kn->conns;

	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	c->next = NULL;
}

void kn_conn_fail(struct kn_conn *c, const char *why)
{
	struct knative *kn = c->kn;
	struct kn_req *list = c->head;

	if (c->dead)
		return;
	c->dead = true;
	c->head = c->tail = NULL;
	unlink_conn(c);
	if (c->io.active)
		evloop_io_stop(&c->io);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	kn->st.conn_errors++;
	/* an idle connection closed by the broker (connections.max.idle.ms) is
	 * routine: a new one is made when needed */
	log_write(list ? LOG_LVL_WARN : LOG_LVL_INFO, "kafka output %s: broker %s:%d (node %d): %s",
		  kn->id, c->host, c->port, c->node, why);
	while (list) {
		struct kn_req *r = list;

		list = r->next;
		knative_answer(kn, c, r, NULL, 0, why);
		mem_free(r);
	}
	c->next = kn->dead;
	kn->dead = c;
	evloop_defer(kn->loop, kn->reap, conn_reap, kn);
}

struct kn_conn *kn_conn_get(struct knative *kn, int32_t node, const char *host, int32_t port)
{
	struct kn_conn *c;
	struct kn_req *r;
	int rc;

	for (c = kn->conns; c; c = c->next)
		if (node >= 0 ? c->node == node : (c->port == port && !strcmp(c->host, host)))
			return c;
	c = mem_calloc(1, sizeof(*c));
	r = mem_calloc(1, sizeof(*r));
	if (!c || !r) {
		mem_free(c);
		mem_free(r);
		return NULL;
	}
	c->kn = kn;
	c->node = node;
	c->fd = -1;
	c->port = port;
	snprintf(c->host, sizeof(c->host), "%s", host);
	buf_init(&c->out, OUT_MAX);
	buf_init(&c->in, RESP_MAX + 4);
	c->started_ms = evloop_now(kn->loop);
	rc = conn_open(c);
	if (rc < 0) {
		log_warn("kafka output %s: cannot connect to %s:%d: %s", kn->id, host, port,
			 err_str(rc));
		kn->st.conn_errors++;
		mem_free(r);
		kn_conn_free(c);
		return NULL;
	}
	c->next = kn->conns;
	kn->conns = c;
	if (kn->sasl_user && kn_sasl_begin(c) < 0) {
		mem_free(r);
		kn_conn_fail(c, "out of memory");
		return NULL;
	}
	/* first on every connection: the broker must speak Produce v7 */
	r->corr = ++kn->corr;
	r->api = KP_API_VERSIONS;
	if (kp_api_versions_req(&c->out, r->corr) < 0) {
		mem_free(r);
		kn_conn_fail(c, "out of memory");
		return NULL;
	}
	kn_conn_queue(c, r);
	return c;
}

static void conn_write(struct kn_conn *c)
{
	size_t end = c->gated ? c->gate : c->out.len;

	while (c->out_off < end) {
		long n = kn_io_send(c, c->out.data + c->out_off, end - c->out_off);

		if (n == -EINTR)
			continue;
		if (n == -EAGAIN || n == -EWOULDBLOCK) {
			if (!(c->io.events & EVLOOP_WRITE) &&
			    evloop_io_modify(&c->io, EVLOOP_READ | EVLOOP_WRITE) < 0)
				kn_conn_fail(c, "epoll");
			return;
		}
		if (n <= 0) {
			char why[128];

			snprintf(why, sizeof(why), "send: %s", err_str(n < 0 ? (int)n : -EPIPE));
			kn_conn_fail(c, why);
			return;
		}
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out.len) {
		c->out.len = 0;
		c->out_off = 0;
		c->gate = 0;
	}
	if ((c->io.events & EVLOOP_WRITE) && evloop_io_modify(&c->io, EVLOOP_READ) < 0)
		kn_conn_fail(c, "epoll");
}

void kn_conn_queue(struct kn_conn *c, struct kn_req *r)
{
	r->next = NULL;
	r->sent_ms = evloop_now(c->kn->loop);
	if (c->tail)
		c->tail->next = r;
	else
		c->head = r;
	c->tail = r;
	c->kn->st.requests++;
	/* written when the socket says so: a failure must not answer the
	 * request inside the flush() that queued it */
	if (!(c->io.events & EVLOOP_WRITE) &&
	    evloop_io_modify(&c->io, EVLOOP_READ | EVLOOP_WRITE) < 0)
		log_warn("kafka output %s: epoll: cannot watch %s:%d for writing", c->kn->id,
			 c->host, c->port); /* the tick's timeout drops it */
}

/* Hand every complete frame in c->in to its request. */
static void conn_frames(struct kn_conn *c)
{
	size_t off = 0;

	while (!c->dead && c->in.len - off >= 4) {
		size_t sz = get_be32(c->in.data + off);
		struct kn_req *r = c->head;
		int32_t corr;

		if (sz > RESP_MAX) {
			kn_conn_fail(c, "answer larger than 64 MiB");
			return;
		}
		if (c->in.len - off - 4 < sz)
			break;
		if (!r || kp_resp_corr(c->in.data + off + 4, sz, &corr) < 0 || corr != r->corr) {
			kn_conn_fail(c, "answer out of order");
			return;
		}
		c->head = r->next;
		if (!c->head)
			c->tail = NULL;
		knative_answer(c->kn, c, r, c->in.data + off + 4, sz, NULL);
		mem_free(r);
		off += 4 + sz;
	}
	if (!c->dead && off)
		buf_consume(&c->in, off);
}

static void conn_read(struct kn_conn *c)
{
	for (;;) {
		long n;

		if (buf_reserve(&c->in, READ_CHUNK) < 0) {
			kn_conn_fail(c, "out of memory");
			return;
		}
		n = kn_io_recv(c, c->in.data + c->in.len, c->in.cap - c->in.len);
		if (n == -EINTR)
			continue;
		if (n == -EAGAIN || n == -EWOULDBLOCK)
			break;
		if (n <= 0) {
			char why[128];

			snprintf(why, sizeof(why), "%s",
				 n == 0 ? "connection closed by the broker" : err_str((int)n));
			kn_conn_fail(c, why);
			return;
		}
		c->in.len += (size_t)n;
		if ((size_t)n < READ_CHUNK && !c->ssl)
			break; /* TLS: read until it says so, records stay buffered in it */
	}
	conn_frames(c);
}

static void on_io(struct evloop_io *io, uint32_t revents)
{
	struct kn_conn *c = io->data;

	if (c->connecting && (revents & (EVLOOP_WRITE | EPOLLERR | EPOLLHUP))) {
		int e = 0;
		socklen_t l = sizeof(e);

		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &l) < 0)
			e = errno;
		if (e) {
			char why[128];

			snprintf(why, sizeof(why), "connect: %s", err_str(-e));
			kn_conn_fail(c, why);
			return;
		}
		c->connecting = false;
		if (c->kn->ssl_ctx) {
			char why[320];

			if (kn_tls_start(c, why, sizeof(why)) < 0) {
				kn_conn_fail(c, why);
				return;
			}
		}
	}
	if (c->connecting)
		return;
	if (c->handshaking) {
		char why[320];
		int rc = kn_tls_step(c, why, sizeof(why));

		if (rc < 0) {
			kn_conn_fail(c, why);
			return;
		}
		if (rc == 0)
			return;
	}
	if (revents & (EVLOOP_READ | EPOLLERR | EPOLLHUP)) {
		conn_read(c);
		if (c->dead)
			return;
	}
	conn_write(c);
}
