/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Minimal HTTP responder.  A connection reads until the blank line ending
 * the request head, answers once and closes; anything malformed gets a 400.
 */
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/net/httpd.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"

#define HEAD_MAX 8192
#define MAX_CONNS 64
#define CONN_TIMEOUT_MS 10000

struct httpd_conn {
	struct httpd_conn *next;
	struct httpd *h;
	struct evloop_io io;
	struct evloop_timer timer;
	char head[HEAD_MAX];
	size_t hlen;
	struct buf out;
	size_t sent;
	bool writing;
};

struct httpd {
	struct evloop *loop;
	struct evloop_io lio;
	int port;
	httpd_handler handler;
	void *arg;
	struct httpd_conn *conns;
	size_t nconns;
};

static void conn_close(struct httpd_conn *c)
{
	struct httpd *h = c->h;
	struct httpd_conn **pp = &h->conns;

	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	h->nconns--;
	evloop_io_stop(&c->io);
	if (c->timer.active)
		evloop_timer_stop(&c->timer);
	close(c->io.fd);
	buf_release(&c->out);
	mem_free(c);
}

static const char *reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 503:
		return "Service Unavailable";
	default:
		return "Error";
	}
}

static void respond(struct httpd_conn *c)
{
	struct buf body;
	const char *ctype = "text/plain; charset=utf-8";
	char method[16] = "", path[1024];
	int status = 400, rc;
	char *sp1, *sp2, *eol;

	buf_init(&body, 64 << 20);
	c->head[c->hlen] = '\0';
	eol = strstr(c->head, "\r\n");
	sp1 = strchr(c->head, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (eol && sp1 && sp2 && sp2 < eol && (size_t)(sp1 - c->head) < sizeof(method) &&
	    (size_t)(sp2 - sp1 - 1) < sizeof(path)) {
		memcpy(method, c->head, (size_t)(sp1 - c->head));
		method[sp1 - c->head] = '\0';
		memcpy(path, sp1 + 1, (size_t)(sp2 - sp1 - 1));
		path[sp2 - sp1 - 1] = '\0';
		{
			char *q = strchr(path, '?');

			if (q)
				*q = '\0';
		}
		status = c->h->handler(c->h->arg, method, path, &body, &ctype);
	} else {
		SLUICE_IGNORE(buf_append_str(&body, "bad request\n")); /* empty body: still a 400 */
	}
	rc = buf_printf(&c->out,
			"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			"Connection: close\r\n%s\r\n",
			status, reason(status), ctype, body.len,
			status == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (rc == 0 && (strcmp(method, "HEAD") != 0 || status == 400))
		rc = buf_append(&c->out, body.data, body.len);
	buf_release(&body);
	if (rc == 0)
		rc = evloop_io_modify(&c->io, EVLOOP_WRITE);
	if (rc < 0) {
		conn_close(c); /* no room for the answer: the client sees the close */
		return;
	}
	c->writing = true;
}

static void on_conn(struct evloop_io *io, uint32_t revents)
{
	struct httpd_conn *c = io->data;

	if (revents & (EPOLLERR | EPOLLHUP) && !(revents & (EPOLLIN | EPOLLOUT))) {
		conn_close(c);
		return;
	}
	if (!c->writing) {
		ssize_t n = read(io->fd, c->head + c->hlen, HEAD_MAX - 1 - c->hlen);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			conn_close(c);
			return;
		}
		c->hlen += (size_t)n;
		c->head[c->hlen] = '\0';
		if (strstr(c->head, "\r\n\r\n") || strstr(c->head, "\n\n") ||
		    c->hlen >= HEAD_MAX - 1)
			respond(c);
		return;
	}
	while (c->sent < c->out.len) {
		ssize_t n = write(io->fd, c->out.data + c->sent, c->out.len - c->sent);

		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0)
			break;
		c->sent += (size_t)n;
	}
	conn_close(c);
}

static void on_timeout(struct evloop_timer *t)
{
	conn_close(t->data);
}

static void on_accept(struct evloop_io *io, uint32_t revents)
{
	struct httpd *h = io->data;

	(void)revents;
	for (;;) {
		int fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct httpd_conn *c;

		if (fd < 0)
			return;
		if (h->nconns >= MAX_CONNS) {
			close(fd);
			continue;
		}
		c = mem_calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->h = h;
		buf_init(&c->out, 80 << 20);
		if (evloop_io_start(h->loop, &c->io, fd, EVLOOP_READ, on_conn, c) < 0) {
			close(fd);
			mem_free(c);
			continue;
		}
		evloop_timer_start(h->loop, &c->timer, CONN_TIMEOUT_MS, 0, on_timeout, c);
		c->next = h->conns;
		h->conns = c;
		h->nconns++;
	}
}

int httpd_new(struct evloop *loop, const char *listen_addr, httpd_handler handler, void *arg,
	      struct httpd **out)
{
	struct addrinfo hints, *ai = NULL;
	char host[256];
	const char *colon = strrchr(listen_addr, ':');
	struct httpd *h;
	int fd = -1, one = 1, rc;
	size_t hl;

	*out = NULL;
	if (!colon || (size_t)(colon - listen_addr) >= sizeof(host))
		return -EINVAL;
	hl = (size_t)(colon - listen_addr);
	memcpy(host, listen_addr, hl);
	host[hl] = '\0';
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	rc = getaddrinfo(*host ? host : NULL, colon + 1, &hints, &ai);
	if (rc != 0)
		return -EADDRNOTAVAIL;
	h = mem_calloc(1, sizeof(*h));
	if (!h) {
		freeaddrinfo(ai);
		return -ENOMEM;
	}
	h->loop = loop;
	h->handler = handler;
	h->arg = arg;
	h->lio.fd = -1;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		goto fail;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 64) != 0) {
		rc = -errno;
		goto fail;
	}
	{
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);

		if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
			char port[16];

			if (getnameinfo((struct sockaddr *)&ss, sl, NULL, 0, port, sizeof(port),
					NI_NUMERICSERV) == 0)
				h->port = (int)strtol(port, NULL, 10);
		}
	}
	rc = evloop_io_start(loop, &h->lio, fd, EVLOOP_READ, on_accept, h);
	if (rc < 0)
		goto fail;
	freeaddrinfo(ai);
	*out = h;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	mem_free(h);
	return rc;
}

int httpd_port(const struct httpd *h)
{
	return h->port;
}

void httpd_free(struct httpd *h)
{
	if (!h)
		return;
	while (h->conns)
		conn_close(h->conns);
	if (h->lio.active) {
		evloop_io_stop(&h->lio);
		close(h->lio.fd);
	}
	mem_free(h);
}
