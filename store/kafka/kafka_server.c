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
 * log slice, which stays referenced until its last byte is sent.  All socket
 * I/O goes through kafka_conn_io (plain or TLS, kafka.tls).
 *
 * Limits against clients that hold resources without using them (idle and
 * frame timeouts, the store-wide request-memory budget, quota mutes) live in
 * kafka_limits.c; this file calls its hooks where bytes move.
 *
 * Teardown is deferred: finishing a request or killing a connection marks
 * the connection dirty and arms a zero-delay timer whose callback sends and
 * frees, so no callback ever frees a connection under another callback's
 * feet (a wake-up iterating parked requests, a group timer).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "store/groups/groups.h"
#include "store/kafka/kafka_api.h"
#include "store/kafka/kafka_limits.h"
#include "store/kafka/kafka_listen.h"
#include "store/kafka/kafka_conn_io.h"
#include "store/kafka/kafka_meta.h"
#include "store/kafka/kafka_req.h"
#include "store/kafka/kafka_metrics.h"
#include "store/kafka/kafka_server.h"
#include "store/kafka/kafka_txn.h"
#include "store/tls/tls_server.h"

#define CONN_IN_CAP (16u * 1024)
#define FRAME_MIN 8 /* api_key, api_version, correlation_id */
#define READS_PER_EVENT 8
#define IOV_MAX_GATHER 64
#define FRAME_GROW_STEP (1u << 20)

struct kafka_conn {
	struct kafka_server *ks;
	struct kafka_conn *next; /* all connections */
	struct kafka_conn *prev;
	struct kafka_conn *dirty_next;
	bool dirty;
	bool dead;   /* closing: no more I/O, freed by the flush timer */
	bool paused; /* reads off for back-pressure */
	int fd;
	struct evloop_io io;
	struct kafka_conn_io tio; /* plain or TLS transport of fd */
	char peer[64];
	uint8_t *in; /* CONN_IN_CAP bytes */
	size_t in_len;
	struct buf frame;  /* a frame larger than the input buffer */
	size_t frame_size; /* its size field; 0 = none in progress */
	struct kafka_req *head;
	struct kafka_req *tail;
	size_t nreq;
	size_t out_pending; /* finished, unsent response bytes */
	struct kafka_limits_conn lim;
	struct kafka_sess sess; /* SASL state and principal (kafka_sasl.h) */
};

struct kafka_server {
	struct kafka_ctx ctx;
	struct kafka_stats stats;
	struct evloop *loop;
	struct prom_registry *metrics;
	bool metrics_added;
	bool group_metrics_added;
	bool txn_metrics_added;
	int lfd;
	struct evloop_io lio;
	struct evloop_timer accept_retry;
	struct evloop_async wake;
	bool wake_started;
	struct evloop_timer flush_timer;
	struct kafka_conn *conns;
	struct kafka_limits limits;
	struct kafka_conn *dirty;
	size_t nconns;
	size_t max_request;
	size_t max_output;
	size_t max_inflight;
	size_t max_conns;
	char adv_host[256];
	struct tls_server *tls; /* kafka.tls; NULL: plaintext */
	struct log_ratelimit rl_accept;
	struct log_ratelimit rl_frame;
};

static void conn_io(struct evloop_io *io, uint32_t revents);
static void conn_parse(struct kafka_conn *c);
static void on_flush_timer(struct evloop_timer *t);

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

	kafka_limits_conn_release(&c->lim);
	while (r) {
		struct kafka_req *next = r->next;

		kafka_req_free(r);
		r = next;
	}
	evloop_io_stop(&c->io);
	kafka_conn_io_release(&c->tio);
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
	kafka_sess_release(&c->sess);
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
		if (c && c->in)
			peer_name(fd, c->peer, sizeof(c->peer));
		if (!c || !c->in || kafka_conn_io_init(&c->tio, fd, ks->tls, c->peer) < 0) {
			if (c)
				mem_free(c->in);
			mem_free(c);
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->ks = ks;
		c->fd = fd;
		buf_init(&c->frame, ks->max_request);
		if (evloop_io_start(ks->loop, &c->io, fd, EVLOOP_READ, conn_io, c) < 0) {
			kafka_conn_io_release(&c->tio);
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
		kafka_limits_conn_init(&ks->limits, &c->lim);
		atomic_fetch_add_explicit(&ks->stats.connections_accepted, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&ks->stats.connections_open, 1, memory_order_relaxed);
		log_debug("kafka: connection from %s", c->peer);
	}
}

/* ---------------------------------------------------------------- requests */

static bool over_limits(const struct kafka_conn *c)
{
	const struct kafka_server *ks = c->ks;

	return c->nreq >= ks->max_inflight || c->out_pending >= ks->max_output ||
	       kafka_limits_blocked(&c->lim);
}

static void update_events(struct kafka_conn *c)
{
	uint32_t ev = EPOLLRDHUP; /* a hang-up is seen even while reads are paused */

	if (c->dead)
		return;
	if (!c->paused)
		ev |= EVLOOP_READ;
	if ((c->head && c->head->done && !c->head->no_response) ||
	    (!c->paused && kafka_conn_io_want_write(&c->tio)))
		ev |= EVLOOP_WRITE;
	if (!c->paused && kafka_conn_io_pending(&c->tio))
		mark_dirty(c); /* TLS holds decrypted bytes epoll cannot see */
	if (evloop_io_modify(&c->io, ev) < 0)
		conn_kill(c); /* it could no longer be served */
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
	/* a verified client certificate is the principal unless SASL names one */
	if (!c->sess.principal[0] && kafka_conn_io_principal(&c->tio))
		kafka_sess_set_principal(&c->sess, kafka_conn_io_principal(&c->tio));
	rc = kafka_sasl_parse_header(&c->sess, r);
	/* quotas: the authenticated (or certificate) principal, else the
	 * client id, so that clients of an open listener are told apart */
	if (c->sess.principal[0] && strcmp(c->sess.principal, ACL_ANONYMOUS) != 0)
		r->principal = c->sess.principal;
	else
		r->principal = r->hdr.client_id ? r->hdr.client_id : "";
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
			bad_frame(c, "unsupported API %s (key %d) v%d",
				  kafka_api_name(r->hdr.api_key), r->hdr.api_key,
				  r->hdr.api_version);
		else
			bad_frame(c, "malformed request header");
		kafka_req_free(r);
		return;
	}
	r->peer = c->peer;
	kafka_limits_frame(&c->lim, false); /* a whole frame: the clock restarts */
	r->tls_principal = kafka_conn_io_principal(&c->tio);
	r->api = kafka_api_find(r->hdr.api_key);
	r->body = kafka_api_decode_body(&r->hdr, frame, len, &r->arena);
	if (!r->body) {
		bad_frame(c, "malformed %s v%d request (%zu bytes, correlation id %" PRId32 ")",
			  r->api->name, r->hdr.api_version, len, r->hdr.correlation_id);
		kafka_req_free(r);
		return;
	}
	/* The arena's bound kept the decode of hostile counts small; what the
	 * handler allocates next (its response structures: Metadata of every
	 * topic, Fetch of thousands of partitions) follows the answer, which the
	 * output buffer bounds: allow a few times that. */
	r->arena.max = r->arena.used + 4 * r->out.max;
	if (r->hdr.trailing) {
		atomic_fetch_add_explicit(&c->ks->stats.trailing_bytes, 1, memory_order_relaxed);
		log_debug("kafka: %s: %s v%d request with %zu bytes after its body, ignored as "
			  "Kafka does",
			  c->peer, r->api->name, r->hdr.api_version, r->hdr.trailing);
	}
	log_debug("kafka: %s: %s v%d correlation %" PRId32 " client %s", c->peer, r->api->name,
		  r->hdr.api_version, r->hdr.correlation_id,
		  r->hdr.client_id ? r->hdr.client_id : "-");
	enqueue(c, r);
	kafka_sasl_handle(r);
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
			bad_frame(c,
				  "frame size %" PRIu32
				  " outside %d..%zu (kafka.max_request_bytes)",
				  size, FRAME_MIN, ks->max_request);
			return;
		}
		if (avail < size) {
			if ((size_t)size + 4 > CONN_IN_CAP) {
				/* too big for the buffer: continue it in its own, once
				 * the request-memory budget has room for it */
				if (!kafka_limits_frame_begin(&c->lim, size)) {
					pause_if_needed(c);
					break;
				}
				c->frame_size = size;
				buf_reset(&c->frame);
				if (buf_append(&c->frame, c->in + off + 4, avail) < 0) {
					bad_frame(c, "out of memory for a %" PRIu32 "-byte frame",
						  size);
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
			n = kafka_conn_io_recv(&c->tio, c->frame.data + c->frame.len, want);
		} else {
			want = CONN_IN_CAP - c->in_len;
			n = kafka_conn_io_recv(&c->tio, c->in + c->in_len, want);
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
		kafka_limits_io(&c->lim);
		if (c->frame_size) {
			c->frame.len += (size_t)n;
			if (c->frame.len == c->frame_size) {
				uint8_t *frame = c->frame.data;
				size_t len = c->frame.len;

				/* hand the memory over to the request */
				buf_init(&c->frame, ks->max_request);
				c->frame_size = 0;
				kafka_limits_frame_done(&c->lim, len);
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
	if (r->frame_len + 4 > CONN_IN_CAP)
		kafka_limits_req_freed(&c->lim, r->frame_len);
	if (r->close_after)
		conn_kill(c);
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
			p->file = false; /* released */
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
			n = kafka_conn_io_sendfile(&c->tio, p->slice.fd,
						   p->slice.pos + (off_t)r->piece_off,
						   p->len - r->piece_off);
			if (n == 0) {
				/* the file is shorter than the slice said */
				log_error("kafka: %s: log slice ended early; closing", c->peer);
				return -EIO;
			}
		} else {
			/* gather memory pieces of this and the following finished responses */
			struct kafka_req *q = r;
			size_t idx = r->piece_idx, off = r->piece_off;

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
			n = kafka_conn_io_sendmsg(&c->tio, iov, niov, more);
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
		kafka_limits_io(&c->lim);
		advance(c, (size_t)n);
	}
}

static void conn_flush(struct kafka_conn *c)
{
	if (!c->paused && (kafka_conn_io_pending(&c->tio) || kafka_conn_io_want_write(&c->tio)))
		conn_read(c); /* TLS: buffered plaintext, or a read that needed to write */
	if (c->dead)
		return;
	if (send_some(c) < 0) {
		conn_kill(c);
		return;
	}
	if (c->paused && !over_limits(c)) {
		c->paused = false;
		conn_parse(c); /* frames that arrived while paused */
		if (c->dead)
			return;
		if (!c->paused && send_some(c) < 0) {
			conn_kill(c);
			return;
		}
		kafka_limits_frame(&c->lim, c->in_len || c->frame_size);
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

	if ((revents & EPOLLRDHUP) && !(c->io.events & EVLOOP_READ)) {
		/* gone while paused: free its parked requests now, not at max_wait */
		kafka_limits_hangup(&c->lim);
		conn_kill(c);
		return;
	}
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
	if (!c->dead)
		kafka_limits_frame(&c->lim, c->in_len || c->frame_size);
	if (!c->dead && (kafka_conn_io_want_write(&c->tio) || kafka_conn_io_pending(&c->tio)))
		update_events(c); /* TLS must write first, or holds bytes epoll cannot see */
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
	kafka_limits_io(&c->lim);
	kafka_limits_mute(&c->lim, r->throttle_ms);
	if (!c->dead)
		mark_dirty(c);
}

#define LIM_CONN(lc) ((struct kafka_conn *)((char *)(lc)-offsetof(struct kafka_conn, lim)))

static unsigned lim_state(struct kafka_limits_conn *lc)
{
	struct kafka_conn *c = LIM_CONN(lc);

	return (c->nreq && !c->out_pending ? KAFKA_LIMITS_BUSY : 0) |
	       (c->paused ? KAFKA_LIMITS_READS_OFF : 0);
}

static bool lim_close(struct kafka_limits_conn *lc, const char *why)
{
	struct kafka_conn *c = LIM_CONN(lc);

	if (c->dead)
		return false;
	log_write_rl(&c->ks->rl_frame, 1000, LOG_LVL_INFO, "kafka: %s: %s; closing", c->peer, why);
	conn_kill(c);
	return true;
}

static void lim_resume(struct kafka_limits_conn *lc)
{
	mark_dirty(LIM_CONN(lc)); /* the flush re-checks over_limits() */
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

static void render_metrics(struct buf *out, void *arg)
{
	struct kafka_server *ks = arg;

	kafka_metrics_render(out, &ks->stats);
	kafka_limits_render(out, &ks->limits);
}

/* ---------------------------------------------------------------- server */

int kafka_server_new(struct evloop *loop, struct engine *log, struct prom_registry *metrics,
		     const struct store_config *conf, struct auth *auth, struct kafka_server **out)
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
	ks->ctx.auth = auth;
	ks->ctx.stats = &ks->stats;
	ks->ctx.cluster_id = "sluice";
	ks->ctx.req_done = on_req_done;
	ks->ctx.req_fail = on_req_fail;
	ks->limits.state = lim_state;
	ks->limits.close = lim_close;
	ks->limits.resume = lim_resume;
	kafka_limits_init(&ks->limits, loop, conf);
	if (conf->kafka.tls.cert && conf->kafka.tls.cert[0]) {
		rc = tls_server_new("kafka", &conf->kafka.tls, metrics, &ks->tls);
		if (rc < 0)
			goto out;
	}
	rc = kafka_listen_open(conf->kafka.listen, &ks->lfd, &bound_port);
	if (rc < 0)
		goto out;
	rc = kafka_listen_advertised(conf, bound_port, ks->adv_host, sizeof(ks->adv_host),
				     &ks->ctx.adv_port);
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
	/* likewise: without its journal the transactional APIs answer
	 * COORDINATOR_NOT_AVAILABLE */
	(void)kafka_txn_open(&ks->ctx);
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
		if (ks->ctx.txn &&
		    prom_registry_add(metrics, kafka_txn_render_metrics, &ks->ctx) == 0)
			ks->txn_metrics_added = true;
	}
	engine_set_listener(log, on_log_progress, ks);
	log_info("kafka: listening on %s%s (advertised %s:%d)", conf->kafka.listen,
		 ks->tls ? " with TLS" : "", ks->adv_host, ks->ctx.adv_port);
	*out = ks;
out:
	if (rc < 0)
		kafka_server_free(ks);
	return rc;
}

void kafka_server_set_quota(struct kafka_server *ks, struct quota *q)
{
	ks->ctx.quota = q;
}

struct groups *kafka_server_groups(struct kafka_server *ks)
{
	return ks ? ks->ctx.groups : NULL;
}

struct tls_server *kafka_server_tls(struct kafka_server *ks)
{
	return ks ? ks->tls : NULL;
}

void kafka_server_free(struct kafka_server *ks)
{
	if (!ks)
		return;
	if (ks->ctx.log)
		engine_set_listener(ks->ctx.log, NULL, NULL);
	if (ks->group_metrics_added)
		groups_unregister_metrics(ks->ctx.groups, ks->metrics);
	if (ks->txn_metrics_added)
		prom_registry_remove(ks->metrics, kafka_txn_render_metrics, &ks->ctx);
	if (ks->metrics_added)
		prom_registry_remove(ks->metrics, render_metrics, ks);
	evloop_timer_stop(&ks->accept_retry);
	evloop_timer_stop(&ks->flush_timer);
	if (ks->lio.active)
		evloop_io_stop(&ks->lio);
	if (ks->lfd >= 0)
		close(ks->lfd);
	kafka_limits_release(&ks->limits); /* first: freeing connections wakes no one */
	while (ks->conns)
		conn_free(ks->conns);
	/* after the connections: their parked group requests cancel into it;
	 * the coordinator first (its offsets go to the groups) */
	kafka_txn_close(&ks->ctx);
	groups_free(ks->ctx.groups);
	tls_server_free(ks->tls);
	if (ks->wake_started)
		evloop_async_stop(&ks->wake);
	mem_free(ks);
}
