/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Kafka protocol server: listener, connections, framing, the ordered
 * per-connection response queue, back-pressure and zero-copy sending.
 *
 * Framing.  A connection reads into a small fixed buffer and cuts frames out
 * of it (int32 size, then the request); a frame larger than that buffer is
 * read straight into its own buffer, which grows only as bytes actually
 * arrive, so a size field claiming 100 MiB costs nothing until the bytes
 * come.  A size below the smallest header or above kafka.max_request_bytes,
 * an unknown API, an unsupported version or a body that does not decode
 * closes that connection (with a log line); other connections never notice.
 *
 * Ordering.  Requests are queued per connection in arrival order and
 * answered in that order: a handler may finish out of order (a Fetch parked
 * on min_bytes behind a Metadata), but a response is written only after
 * every earlier one.  acks=0 Produce requests keep their place silently.
 *
 * Back-pressure.  A connection stops reading (EPOLLIN off) while it has
 * kafka.max_inflight requests queued or kafka.max_output_bytes of finished
 * responses unsent, and resumes when the queue drains; frames already
 * buffered wait in the buffer meanwhile.
 *
 * Sending.  Memory pieces of consecutive finished responses go out in one
 * sendmsg; file pieces (Fetch record data) with sendfile() straight from the
 * log slice, which stays referenced until its last byte is sent.
 *
 * Teardown is deferred: finishing a request or killing a connection marks
 * the connection dirty and arms a zero-delay timer whose callback sends and
 * frees, so no callback ever frees a connection under another callback's
 * feet (a wake-up iterating parked requests, a group timer).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "store/groups/groups.h"
#include "store/kafka/kafka_api.h"
#include "store/kafka/kafka_meta.h"
#include "store/kafka/kafka_req.h"
#include "store/kafka/kafka_server.h"

#define CONN_IN_CAP (16u * 1024)
#define FRAME_MIN 8              /* api_key, api_version, correlation_id */
#define READS_PER_EVENT 8
#define IOV_MAX_GATHER 64
#define FRAME_GROW_STEP (1u << 20)

struct kafka_conn {
	struct kafka_server *ks;
	struct kafka_conn *next;     /* all connections */
	struct kafka_conn *prev;
	struct kafka_conn *dirty_next;
	bool dirty;
	bool dead;                   /* closing: no more I/O, freed by the flush timer */
	bool paused;                 /* reads off for back-pressure */
	int fd;
	struct evloop_io io;
	char peer[64];
	uint8_t *in;                 /* CONN_IN_CAP bytes */
	size_t in_len;
	struct buf frame;            /* a frame larger than the input buffer */
	size_t frame_size;           /* its size field; 0 = none in progress */
	struct kafka_req *head;
	struct kafka_req *tail;
	size_t nreq;
	size_t out_pending;          /* finished, unsent response bytes */
};

struct kafka_server {
	struct kafka_ctx ctx;
	struct kafka_stats stats;
	struct evloop *loop;
	struct prom_registry *metrics;
	bool metrics_added;
	bool group_metrics_added;
	int lfd;
	struct evloop_io lio;
	struct evloop_timer accept_retry;
	struct evloop_async wake;
	bool wake_started;
	struct evloop_timer flush_timer;
	struct kafka_conn *conns;
	struct kafka_conn *dirty;
	size_t nconns;
	size_t max_request;
	size_t max_output;
	size_t max_inflight;
	size_t max_conns;
	char adv_host[256];
	struct log_ratelimit rl_accept;
	struct log_ratelimit rl_frame;
};

static void conn_io(struct evloop_io *io, uint32_t revents);
static void conn_parse(struct kafka_conn *c);
static void on_flush_timer(struct evloop_timer *t);

/* ---------------------------------------------------------------- addresses */

/* Split "host:port" or "[v6]:port".  0 or -ERR_INVALID. */
static int split_hostport(const char *s, char *host, size_t hcap, char *port, size_t pcap)
{
	const char *colon, *h = s;
	size_t hl;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			return -ERR_INVALID;
		h = s + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -ERR_INVALID;
		hl = (size_t)(colon - s);
	}
	if (hl >= hcap || strlen(colon + 1) >= pcap || colon[1] == '\0')
		return -ERR_INVALID;
	memcpy(host, h, hl);
	host[hl] = '\0';
	snprintf(port, pcap, "%s", colon + 1);
	return 0;
}

static int parse_port(const char *p, int32_t *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(p, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0 || v > 65535)
		return -ERR_INVALID;
	*out = (int32_t)v;
	return 0;
}

static int listen_on(struct kafka_server *ks, const char *addr, int32_t *bound_port)
{
	char host[256], port[16];
	struct addrinfo hints, *res = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd = -1, one = 1, rc;

	rc = split_hostport(addr, host, sizeof(host), port, sizeof(port));
	if (rc < 0) {
		log_error("kafka.listen: '%s' is not HOST:PORT", addr);
		return rc;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (rc != 0) {
		log_error("kafka.listen: cannot resolve '%s': %s", addr, gai_strerror(rc));
		return -ERR_INVALID;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 1024) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
		rc = -errno;
		goto out;
	}
	if (ss.ss_family == AF_INET6)
		*bound_port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	else
		*bound_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	ks->lfd = fd;
	fd = -1;
	rc = 0;
out:
	if (rc < 0)
		log_error("kafka: cannot listen on %s: %s", addr, err_str(rc));
	if (fd >= 0)
		close(fd);
	freeaddrinfo(res);
	return rc;
}

/* Node 0's address in Metadata: kafka.advertised, else the listen address
 * with the port actually bound and, for a wildcard host, the hostname. */
static int set_advertised(struct kafka_server *ks, const struct store_config *conf,
			  int32_t bound_port)
{
	char port[16];
	int rc;

	if (conf->kafka.advertised && conf->kafka.advertised[0]) {
		rc = split_hostport(conf->kafka.advertised, ks->adv_host, sizeof(ks->adv_host), port,
				    sizeof(port));
		if (rc == 0)
			rc = parse_port(port, &ks->ctx.adv_port);
		if (rc < 0)
			log_error("kafka.advertised: '%s' is not HOST:PORT", conf->kafka.advertised);
		return rc;
	}
	rc = split_hostport(conf->kafka.listen, ks->adv_host, sizeof(ks->adv_host), port,
			    sizeof(port));
	if (rc < 0)
		return rc;
	if (ks->adv_host[0] == '\0' || strcmp(ks->adv_host, "0.0.0.0") == 0 ||
	    strcmp(ks->adv_host, "::") == 0) {
		if (gethostname(ks->adv_host, sizeof(ks->adv_host)) != 0)
			snprintf(ks->adv_host, sizeof(ks->adv_host), "localhost");
		ks->adv_host[sizeof(ks->adv_host) - 1] = '\0';
	}
	ks->ctx.adv_port = bound_port;
	return 0;
}

/* ---------------------------------------------------------------- lifecycle of connections */

static void mark_dirty(struct kafka_conn *c)
{
	struct kafka_server *ks = c->ks;

	if (!c->dirty) {
		c->dirty = true;
		c->dirty_next = ks->dirty;
		ks->dirty = c;
	}
	if (!ks->flush_timer.active)
		evloop_timer_start(ks->loop, &ks->flush_timer, 0, 0, on_flush_timer, ks);
}

static void conn_kill(struct kafka_conn *c)
{
	if (c->dead)
		return;
	c->dead = true;
	evloop_io_stop(&c->io);
	mark_dirty(c);
}

static void conn_free(struct kafka_conn *c)
{
	struct kafka_server *ks = c->ks;
	struct kafka_req *r = c->head;

	while (r) {
		struct kafka_req *next = r->next;

		kafka_req_free(r);
		r = next;
	}
	evloop_io_stop(&c->io);
	if (c->fd >= 0)
		close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		ks->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	ks->nconns--;
	atomic_fetch_sub_explicit(&ks->stats.connections_open, 1, memory_order_relaxed);
	buf_release(&c->frame);
	mem_free(c->in);
	mem_free(c);
}

static void peer_name(int fd, char *out, size_t cap)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

			inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
			port = ntohs(a->sin6_port);
		} else if (ss.ss_family == AF_INET) {
			struct sockaddr_in *a = (struct sockaddr_in *)&ss;

			inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
			port = ntohs(a->sin_port);
		}
	}
	snprintf(out, cap, "%s:%d", host, port);
}

static void accept_resume(struct evloop_timer *t)
{
	struct kafka_server *ks = t->data;

	if (!ks->lio.active &&
	    evloop_io_start(ks->loop, &ks->lio, ks->lfd, EVLOOP_READ, ks->lio.cb, ks) < 0)
		evloop_timer_start(ks->loop, &ks->accept_retry, 100, 0, accept_resume, ks);
}

static void on_accept(struct evloop_io *io, uint32_t revents)
{
	struct kafka_server *ks = io->data;

	(void)revents;
	for (int i = 0; i < 64; i++) {
		struct kafka_conn *c;
		int one = 1;
		int fd = accept4(ks->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
			    errno == ECONNABORTED)
				return;
			/* EMFILE and friends: the pending connection stays in the
			 * backlog and would wake us in a busy loop; pause accepting. */
			log_write_rl(&ks->rl_accept, 5000, LOG_LVL_WARN, "kafka: accept: %s",
				     err_str(-errno));
			evloop_io_stop(&ks->lio);
			evloop_timer_start(ks->loop, &ks->accept_retry, 100, 0, accept_resume, ks);
			return;
		}
		if (ks->nconns >= ks->max_conns) {
			atomic_fetch_add_explicit(&ks->stats.connections_rejected, 1,
						  memory_order_relaxed);
			log_write_rl(&ks->rl_accept, 5000, LOG_LVL_WARN,
				     "kafka: kafka.max_connections (%zu) reached, refusing",
				     ks->max_conns);
			close(fd);
			continue;
		}
		c = mem_calloc(1, sizeof(*c));
		if (c)
			c->in = mem_alloc(CONN_IN_CAP);
		if (!c || !c->in) {
			if (c)
				mem_free(c);
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->ks = ks;
		c->fd = fd;
		buf_init(&c->frame, ks->max_request);
		peer_name(fd, c->peer, sizeof(c->peer));
		if (evloop_io_start(ks->loop, &c->io, fd, EVLOOP_READ, conn_io, c) < 0) {
			close(fd);
			buf_release(&c->frame);
			mem_free(c->in);
			mem_free(c);
			continue;
		}
		c->next = ks->conns;
		if (ks->conns)
			ks->conns->prev = c;
		ks->conns = c;
		ks->nconns++;
		atomic_fetch_add_explicit(&ks->stats.connections_accepted, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&ks->stats.connections_open, 1, memory_order_relaxed);
		log_debug("kafka: connection from %s", c->peer);
	}
}

/* ---------------------------------------------------------------- requests */

static bool over_limits(const struct kafka_conn *c)
{
	const struct kafka_server *ks = c->ks;

	return c->nreq >= ks->max_inflight || c->out_pending >= ks->max_output;
}

static void update_events(struct kafka_conn *c)
{
	uint32_t ev = 0;

	if (c->dead)
		return;
	if (!c->paused)
		ev |= EVLOOP_READ;
	if (c->head && c->head->done && !c->head->no_response)
		ev |= EVLOOP_WRITE;
	if (evloop_io_modify(&c->io, ev) < 0)
		conn_kill(c);  /* it could no longer be served */
}

static void bad_frame(struct kafka_conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void bad_frame(struct kafka_conn *c, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	atomic_fetch_add_explicit(&c->ks->stats.bad_frames, 1, memory_order_relaxed);
	log_write_rl(&c->ks->rl_frame, 1000, LOG_LVL_WARN, "kafka: %s: %s; closing the connection",
		     c->peer, msg);
	conn_kill(c);
}

static void enqueue(struct kafka_conn *c, struct kafka_req *r)
{
	r->conn = c;
	if (c->tail)
		c->tail->next = r;
	else
		c->head = r;
	c->tail = r;
	c->nreq++;
}

/* Serve one frame; takes ownership of it. */
static void dispatch(struct kafka_conn *c, uint8_t *frame, size_t len)
{
	struct kafka_server *ks = c->ks;
	struct kafka_req *r = kafka_req_new(&ks->ctx, frame, len);
	int rc;

	if (!r) {
		bad_frame(c, "out of memory for a %zu-byte request", len);
		return;
	}
	rc = kafka_api_parse_header(frame, len, &r->arena, &r->hdr);
	if (rc == -ERR_UNSUPPORTED && r->hdr.api_key == KAFKA_API_VERSIONS) {
		/* KIP-511: answer in v0 so the client learns our range */
		struct kwire_enc *e;

		enqueue(c, r);
		r->hdr.flex = false;
		e = kafka_req_begin(r);
		kafka_meta_apiversions_encode(e, 0, KERR_UNSUPPORTED_VERSION);
		kafka_req_note(r, KERR_UNSUPPORTED_VERSION);
		kafka_req_finish(r);
		return;
	}
	if (rc < 0) {
		if (rc == -ERR_UNSUPPORTED)
			bad_frame(c, "unsupported API %s (key %d) v%d", kafka_api_name(r->hdr.api_key),
				  r->hdr.api_key, r->hdr.api_version);
		else
			bad_frame(c, "malformed request header");
		kafka_req_free(r);
		return;
	}
	r->peer = c->peer;
	r->api = kafka_api_find(r->hdr.api_key);
	r->body = kafka_api_decode_body(&r->hdr, frame, len, &r->arena);
	if (!r->body) {
		bad_frame(c, "malformed %s v%d request (%zu bytes, correlation id %" PRId32 ")",
			  r->api->name, r->hdr.api_version, len, r->hdr.correlation_id);
		kafka_req_free(r);
		return;
	}
	log_debug("kafka: %s: %s v%d correlation %" PRId32 " client %s", c->peer, r->api->name,
		  r->hdr.api_version, r->hdr.correlation_id,
		  r->hdr.client_id ? r->hdr.client_id : "-");
	enqueue(c, r);
	r->api->handle(r);
}

static void pause_if_needed(struct kafka_conn *c)
{
	if (!c->paused && over_limits(c)) {
		c->paused = true;
		atomic_fetch_add_explicit(&c->ks->stats.paused_reads, 1, memory_order_relaxed);
		update_events(c);
	}
}

/* Cut complete frames out of the input buffer. */
static void conn_parse(struct kafka_conn *c)
{
	struct kafka_server *ks = c->ks;
	size_t off = 0;

	while (!c->dead && !c->paused && c->in_len - off >= 4) {
		uint32_t size = get_be32(c->in + off);
		size_t avail = c->in_len - off - 4;
		uint8_t *frame;

		if (size < FRAME_MIN || size > ks->max_request) {
			bad_frame(c, "frame size %" PRIu32 " outside %d..%zu (kafka.max_request_bytes)",
				  size, FRAME_MIN, ks->max_request);
			return;
		}
		if (avail < size) {
			if ((size_t)size + 4 > CONN_IN_CAP) {
				/* too big for the buffer: continue it in its own */
				c->frame_size = size;
				buf_reset(&c->frame);
				if (buf_append(&c->frame, c->in + off + 4, avail) < 0) {
					bad_frame(c, "out of memory for a %" PRIu32 "-byte frame", size);
					return;
				}
				off = c->in_len;
			}
			break;
		}
		frame = mem_alloc(size);
		if (!frame) {
			bad_frame(c, "out of memory for a %" PRIu32 "-byte frame", size);
			return;
		}
		memcpy(frame, c->in + off + 4, size);
		off += 4 + (size_t)size;
		dispatch(c, frame, size);
		pause_if_needed(c);
	}
	if (c->dead)
		return;
	if (off > 0) {
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
	}
}

static void conn_read(struct kafka_conn *c)
{
	struct kafka_server *ks = c->ks;

	for (int i = 0; i < READS_PER_EVENT && !c->dead && !c->paused; i++) {
		size_t want;
		ssize_t n;

		if (c->frame_size) {
			size_t left = c->frame_size - c->frame.len;

			want = left < FRAME_GROW_STEP ? left : FRAME_GROW_STEP;
			if (buf_reserve(&c->frame, want) < 0) {
				bad_frame(c, "out of memory for a %zu-byte frame", c->frame_size);
				return;
			}
			n = recv(c->fd, c->frame.data + c->frame.len, want, 0);
		} else {
			want = CONN_IN_CAP - c->in_len;
			n = recv(c->fd, c->in + c->in_len, want, 0);
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				log_debug("kafka: %s: recv: %s", c->peer, err_str(-errno));
				conn_kill(c);
			}
			return;
		}
		if (n == 0) {
			if (c->in_len || c->frame_size)
				log_debug("kafka: %s closed mid-frame", c->peer);
			conn_kill(c);
			return;
		}
		atomic_fetch_add_explicit(&ks->stats.bytes_in, (uint64_t)n, memory_order_relaxed);
		if (c->frame_size) {
			c->frame.len += (size_t)n;
			if (c->frame.len == c->frame_size) {
				uint8_t *frame = c->frame.data;
				size_t len = c->frame.len;

				/* hand the memory over to the request */
				buf_init(&c->frame, ks->max_request);
				c->frame_size = 0;
				dispatch(c, frame, len);
				pause_if_needed(c);
			}
		} else {
			c->in_len += (size_t)n;
			conn_parse(c);
		}
		if ((size_t)n < want)
			return;
	}
}

/* ---------------------------------------------------------------- sending */

static void pop_head(struct kafka_conn *c)
{
	struct kafka_req *r = c->head;

	c->head = r->next;
	if (!c->head)
		c->tail = NULL;
	c->nreq--;
	c->out_pending -= r->out_total;
	kafka_req_free(r);
}

/* Account n sent bytes against the queue head onwards. */
static void advance(struct kafka_conn *c, size_t n)
{
	while (n > 0 && c->head) {
		struct kafka_req *r = c->head;
		struct kafka_piece *p = &r->pieces[r->piece_idx];
		size_t take = p->len - r->piece_off;

		if (take > n)
			take = n;
		r->piece_off += take;
		n -= take;
		if (r->piece_off == p->len) {
			if (p->file)
				engine_slice_release(&p->slice);
			p->file = false;  /* released */
			r->piece_idx++;
			r->piece_off = 0;
			if (r->piece_idx == r->npieces)
				pop_head(c);
		}
	}
}

/* Send what can be sent.  0 when the queue head is not ready or the socket
 * is full, < 0 when the connection failed. */
static int send_some(struct kafka_conn *c)
{
	struct kafka_server *ks = c->ks;

	for (;;) {
		struct iovec iov[IOV_MAX_GATHER];
		struct kafka_req *r;
		struct kafka_piece *p;
		int niov = 0;
		bool more = false;
		ssize_t n;

		while (c->head && c->head->done && c->head->no_response)
			pop_head(c);
		r = c->head;
		if (!r || !r->done)
			return 0;
		p = &r->pieces[r->piece_idx];
		if (p->file) {
			off_t pos = p->slice.pos + (off_t)r->piece_off;

			n = sendfile(c->fd, p->slice.fd, &pos, p->len - r->piece_off);
			if (n == 0) {
				/* the file is shorter than the slice said */
				log_error("kafka: %s: log slice ended early; closing", c->peer);
				return -EIO;
			}
		} else {
			/* gather memory pieces of this and the following finished responses */
			struct kafka_req *q = r;
			size_t idx = r->piece_idx, off = r->piece_off;
			struct msghdr mh;

			while (q && niov < IOV_MAX_GATHER) {
				if (!q->done || q->no_response)
					break;
				if (idx == q->npieces) {
					q = q->next;
					idx = 0;
					off = 0;
					continue;
				}
				if (q->pieces[idx].file) {
					more = true;
					break;
				}
				iov[niov].iov_base = q->out.data + q->pieces[idx].off + off;
				iov[niov].iov_len = q->pieces[idx].len - off;
				niov++;
				idx++;
				off = 0;
			}
			memset(&mh, 0, sizeof(mh));
			mh.msg_iov = iov;
			mh.msg_iovlen = (size_t)niov;
			n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			log_debug("kafka: %s: send: %s", c->peer, err_str(-errno));
			return -errno;
		}
		atomic_fetch_add_explicit(&ks->stats.bytes_out, (uint64_t)n, memory_order_relaxed);
		advance(c, (size_t)n);
	}
}

static void conn_flush(struct kafka_conn *c)
{
	if (send_some(c) < 0) {
		conn_kill(c);
		return;
	}
	if (c->paused && !over_limits(c)) {
		c->paused = false;
		conn_parse(c);  /* frames that arrived while paused */
		if (c->dead)
			return;
		if (!c->paused && send_some(c) < 0) {
			conn_kill(c);
			return;
		}
	}
	update_events(c);
}

static void on_flush_timer(struct evloop_timer *t)
{
	struct kafka_server *ks = t->data;

	while (ks->dirty) {
		struct kafka_conn *list = ks->dirty;

		ks->dirty = NULL;
		while (list) {
			struct kafka_conn *c = list;

			list = c->dirty_next;
			c->dirty = false;
			c->dirty_next = NULL;
			if (!c->dead)
				conn_flush(c);
			/* flush may have killed it: it is back on ks->dirty then */
			if (c->dead && !c->dirty)
				conn_free(c);
		}
	}
}

static void conn_io(struct evloop_io *io, uint32_t revents)
{
	struct kafka_conn *c = io->data;

	if (revents & (EPOLLERR | EPOLLHUP)) {
		/* read what is left; recv reports the error or EOF */
		conn_read(c);
		if (!c->dead && (revents & EPOLLERR))
			conn_kill(c);
		if (!c->dead && c->paused)
			conn_kill(c);
		return;
	}
	if (revents & EPOLLIN)
		conn_read(c);
	if (!c->dead && (revents & EPOLLOUT))
		conn_flush(c);
}

/* ---------------------------------------------------------------- hooks for requests */

static void on_req_done(struct kafka_req *r)
{
	struct kafka_conn *c = r->conn;
	struct kafka_server *ks = c->ks;
	uint64_t ns = clock_mono_ns() - r->start_ns;
	int idx = kafka_api_index(r->hdr.api_key);
	int code = r->err_code;

	if (idx >= 0 && idx < KAFKA_API_SLOTS) {
		if (code < 0 || code >= KAFKA_ERR_BUCKETS)
			code = KAFKA_ERR_BUCKETS - 1;
		atomic_fetch_add_explicit(&ks->stats.requests[idx][code], 1, memory_order_relaxed);
	}
	kafka_latency_add(&ks->stats.request_latency, ns);
	if (r->hdr.api_key == KAFKA_PRODUCE)
		kafka_latency_add(&ks->stats.produce_latency, ns);
	else if (r->hdr.api_key == KAFKA_FETCH)
		kafka_latency_add(&ks->stats.fetch_latency, ns);
	c->out_pending += r->out_total;
	if (!c->dead)
		mark_dirty(c);
}

static void on_req_fail(struct kafka_req *r)
{
	conn_kill(r->conn);
}

static void on_log_progress(void *arg)
{
	struct kafka_server *ks = arg;

	/* engine thread: only post a wake-up */
	evloop_async_send(&ks->wake);
}

static void on_topic_deleted(struct kafka_ctx *ctx, const char *topic)
{
	groups_topic_deleted(ctx->groups, topic);
}

static void on_wake(struct evloop_async *a)
{
	struct kafka_server *ks = a->data;

	kafka_ctx_wake(&ks->ctx);
}

/* ---------------------------------------------------------------- metrics */

static void render_latency(struct buf *out, const char *name, const char *help,
			   const struct kafka_latency *l)
{
	char n[96], le[48];
	uint64_t cum = 0;

	prom_family(out, name, "histogram", help);
	snprintf(n, sizeof(n), "%s_bucket", name);
	for (int i = 0; i <= KAFKA_LAT_BUCKETS; i++) {
		cum += atomic_load_explicit(&l->bucket[i], memory_order_relaxed);
		if (i < KAFKA_LAT_BUCKETS) {
			char v[32];

			snprintf(v, sizeof(v), "%g", kafka_lat_bounds_ms[i] / 1000.0);
			prom_labels(le, sizeof(le), "le", v, NULL);
		} else {
			prom_labels(le, sizeof(le), "le", "+Inf", NULL);
		}
		prom_u64(out, n, le, cum);
	}
	snprintf(n, sizeof(n), "%s_sum", name);
	prom_f64(out, n, NULL, (double)atomic_load_explicit(&l->sum_us, memory_order_relaxed) / 1e6);
	snprintf(n, sizeof(n), "%s_count", name);
	prom_u64(out, n, NULL, atomic_load_explicit(&l->count, memory_order_relaxed));
}

static void render_counter(struct buf *out, const char *name, const char *type, const char *help,
			   const atomic_uint_fast64_t *v)
{
	prom_family(out, name, type, help);
	prom_u64(out, name, NULL, atomic_load_explicit(v, memory_order_relaxed));
}

static void render_metrics(struct buf *out, void *arg)
{
	struct kafka_server *ks = arg;
	struct kafka_stats *s = &ks->stats;
	size_t napi;
	const struct kafka_api *t = kafka_api_table(&napi);

	prom_family(out, "sluice_kafka_requests_total", "counter",
		    "Kafka requests answered, by API and (first) error code.");
	for (size_t i = 0; i < napi && i < KAFKA_API_SLOTS; i++) {
		for (int e = 0; e < KAFKA_ERR_BUCKETS; e++) {
			uint64_t v = atomic_load_explicit(&s->requests[i][e], memory_order_relaxed);
			char code[16], l[128];

			if (!v && e != 0)
				continue;
			snprintf(code, sizeof(code), "%d", e == KAFKA_ERR_BUCKETS - 1 ? -1 : e);
			prom_labels(l, sizeof(l), "api", t[i].name, "error_code", code, NULL);
			prom_u64(out, "sluice_kafka_requests_total", l, v);
		}
	}
	render_counter(out, "sluice_kafka_connections", "gauge", "Open Kafka connections.",
		       &s->connections_open);
	render_counter(out, "sluice_kafka_connections_accepted_total", "counter",
		       "Kafka connections accepted.", &s->connections_accepted);
	render_counter(out, "sluice_kafka_connections_rejected_total", "counter",
		       "Kafka connections refused at kafka.max_connections.",
		       &s->connections_rejected);
	render_counter(out, "sluice_kafka_bad_frames_total", "counter",
		       "Connections closed for an oversized, malformed or unsupported request.",
		       &s->bad_frames);
	render_counter(out, "sluice_kafka_received_bytes_total", "counter",
		       "Bytes read from Kafka clients.", &s->bytes_in);
	render_counter(out, "sluice_kafka_sent_bytes_total", "counter",
		       "Bytes written to Kafka clients.", &s->bytes_out);
	render_counter(out, "sluice_kafka_produce_batches_total", "counter",
		       "Record batches appended through Produce.", &s->produce_batches);
	render_counter(out, "sluice_kafka_produce_bytes_total", "counter",
		       "Record batch bytes appended through Produce.", &s->produce_bytes);
	render_counter(out, "sluice_kafka_fetch_bytes_total", "counter",
		       "Record bytes served by Fetch.", &s->fetch_bytes);
	render_counter(out, "sluice_kafka_paused_reads_total", "counter",
		       "Times a connection's reads paused for back-pressure.", &s->paused_reads);
	render_latency(out, "sluice_kafka_produce_latency_seconds",
		       "Produce request latency (receipt to response ready).", &s->produce_latency);
	render_latency(out, "sluice_kafka_fetch_latency_seconds",
		       "Fetch request latency, long-poll wait included.", &s->fetch_latency);
	render_latency(out, "sluice_kafka_request_latency_seconds",
		       "Latency of every Kafka request.", &s->request_latency);
}

/* ---------------------------------------------------------------- server */

int kafka_server_new(struct evloop *loop, struct engine *log, struct prom_registry *metrics,
		     const struct store_config *conf, struct kafka_server **out)
{
	struct kafka_server *ks = mem_calloc(1, sizeof(*ks));
	int32_t bound_port = 0;
	int rc;

	*out = NULL;
	if (!ks)
		return -ENOMEM;
	ks->lfd = -1;
	ks->loop = loop;
	ks->metrics = metrics;
	ks->max_request = (size_t)conf->kafka.max_request_bytes;
	ks->max_output = (size_t)conf->kafka.max_output_bytes;
	ks->max_inflight = (size_t)conf->kafka.max_inflight;
	ks->max_conns = (size_t)conf->kafka.max_connections;
	ks->ctx.loop = loop;
	ks->ctx.log = log;
	ks->ctx.conf = conf;
	ks->ctx.stats = &ks->stats;
	ks->ctx.cluster_id = "sluice";
	ks->ctx.req_done = on_req_done;
	ks->ctx.req_fail = on_req_fail;
	rc = listen_on(ks, conf->kafka.listen, &bound_port);
	if (rc < 0)
		goto out;
	rc = set_advertised(ks, conf, bound_port);
	if (rc < 0)
		goto out;
	ks->ctx.adv_host = ks->adv_host;
	/* without the offsets journal the store still serves data; the group
	 * APIs answer COORDINATOR_NOT_AVAILABLE */
	if (groups_new(loop, log, conf, &ks->ctx.groups) < 0)
		log_error("kafka: consumer groups are unavailable (offsets journal in %s/meta)",
			  conf->store.data_dir);
	else
		ks->ctx.on_topic_deleted = on_topic_deleted;
	rc = evloop_async_start(loop, &ks->wake, on_wake, ks);
	if (rc < 0)
		goto out;
	ks->wake_started = true;
	rc = evloop_io_start(loop, &ks->lio, ks->lfd, EVLOOP_READ, on_accept, ks);
	if (rc < 0)
		goto out;
	if (metrics) {
		rc = prom_registry_add(metrics, render_metrics, ks);
		if (rc < 0)
			goto out;
		ks->metrics_added = true;
		if (ks->ctx.groups && groups_register_metrics(ks->ctx.groups, metrics) == 0)
			ks->group_metrics_added = true;
	}
	engine_set_listener(log, on_log_progress, ks);
	log_info("kafka: listening on %s (advertised %s:%d)", conf->kafka.listen, ks->adv_host,
		 ks->ctx.adv_port);
	*out = ks;
out:
	if (rc < 0)
		kafka_server_free(ks);
	return rc;
}

struct groups *kafka_server_groups(struct kafka_server *ks)
{
	return ks ? ks->ctx.groups : NULL;
}

void kafka_server_free(struct kafka_server *ks)
{
	if (!ks)
		return;
	if (ks->ctx.log)
		engine_set_listener(ks->ctx.log, NULL, NULL);
	if (ks->group_metrics_added)
		groups_unregister_metrics(ks->ctx.groups, ks->metrics);
	if (ks->metrics_added)
		prom_registry_remove(ks->metrics, render_metrics, ks);
	evloop_timer_stop(&ks->accept_retry);
	evloop_timer_stop(&ks->flush_timer);
	if (ks->lio.active)
		evloop_io_stop(&ks->lio);
	if (ks->lfd >= 0)
		close(ks->lfd);
	while (ks->conns)
		conn_free(ks->conns);
	/* after the connections: their parked group requests cancel into it */
	groups_free(ks->ctx.groups);
	if (ks->wake_started)
		evloop_async_stop(&ks->wake);
	mem_free(ks);
}
