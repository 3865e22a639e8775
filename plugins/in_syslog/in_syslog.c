/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Input `syslog`: RFC 5424 and RFC 3164 messages over UDP (one datagram, one
 * message) or TCP (RFC 6587 octet counting or newline framing, detected per
 * frame).  Each message is one record: value = MSG, headers = facility,
 * severity, hostname, app_name, procid, msgid, structured_data, timestamp =
 * the message's own (receive time when it has none).  A message that does
 * not parse, or a frame that is malformed or too long, is kept as a raw
 * record with a `syslog_error` header and counted — never dropped.
 *
 * Back-pressure: while the input is paused (spool full, memory cap) TCP
 * connections are not read, so the kernel's buffers fill and senders block;
 * a UDP socket is not read either and the kernel drops what does not fit
 * its receive buffer: those drops are counted exactly (SO_RXQ_OVFL).
 *
 * TLS (RFC 5425): `listen: tls://HOST:PORT` with a `tls` section (cert, key,
 * ca, client_auth) wraps each TCP connection in TLS (syslog_tls.h); the
 * frames inside are the same.  A refused handshake (plain text on the TLS
 * port, no or an untrusted client certificate, TLS < 1.2) closes the
 * connection and is counted.
 *
 * The network is not a source that can be read again, so the one source of
 * the input ("host:tcp://ADDR") takes ordinals that only grow: the wall clock
 * in nanoseconds at start (or past the recorded ordinal), then one per
 * message.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/plugin.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "plugins/in_syslog/syslog_parse.h"
#include "plugins/in_syslog/syslog_tls.h"

#define READS_PER_WAKE 16

struct in_syslog_conf {
	char *listen;
	uint64_t max_message_bytes;
	int64_t max_connections;
	uint64_t udp_buffer;
	struct syslog_tls_conf tls;
};

struct in_syslog_conn {
	struct in_syslog *t;
	struct in_syslog_conn *next;
	int fd;
	struct evloop_io io;
	bool io_on;
	uint32_t events;            /* what io waits for (TLS may want a write) */
	struct syslog_tls_conn *tc; /* NULL: plain TCP */
	char *buf;
	size_t len;
	size_t skip; /* bytes of an over-long octet-counted frame to discard */
	char peer[64];
};

struct in_syslog {
	const struct in_syslog_conf *conf;
	struct input *in;
	struct evloop *loop;
	const char *id;
	bool udp;
	bool tls_on;
	struct syslog_tls *tls;
	int fd;
	struct evloop_io io;
	bool io_on;
	bool paused;
	struct in_syslog_conn *conns;
	size_t nconns;
	struct source *src;
	uint64_t ordinal;
	char *dgram;
	size_t cap; /* max_message_bytes + room for framing */
	struct log_ratelimit rl;
	struct {
		uint64_t messages;
		uint64_t malformed;
		uint64_t too_long;
		uint64_t udp_dropped;
		uint64_t connections;
		uint64_t refused;
		uint64_t tls_handshakes;
		uint64_t tls_refused;
	} st;
};

/* "tcp://HOST:PORT", "tls://HOST:PORT" or "udp://HOST:PORT" (HOST may be
 * [v6]). */
static int parse_listen(const char *v, bool *udp, bool *tls, char *host, size_t hcap, char *port,
			size_t pcap)
{
	const char *h, *colon;
	size_t hl;

	*tls = strncmp(v, "tls://", 6) == 0;
	if (strncmp(v, "tcp://", 6) == 0 || *tls)
		*udp = false;
	else if (strncmp(v, "udp://", 6) == 0)
		*udp = true;
	else
		return -1;
	h = v + 6;
	colon = strrchr(h, ':');
	if (!colon || colon == h || !colon[1] || strlen(colon + 1) >= pcap)
		return -1;
	hl = (size_t)(colon - h);
	if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	if (hl == 0 || hl >= hcap)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	snprintf(port, pcap, "%s", colon + 1);
	for (const char *p = port; *p; p++)
		if (*p < '0' || *p > '9')
			return -1;
	return 0;
}

static int check_listen(const char *v, char *why, size_t whylen)
{
	char host[256], port[16];
	bool udp, tls;
	int64_t pn;

	if (parse_listen(v, &udp, &tls, host, sizeof(host), port, sizeof(port)) < 0 ||
	    cfg_parse_int(port, &pn) < 0 || pn < 0 || pn > 65535) {
		snprintf(why, whylen,
			 "'%s': expected tcp://HOST:PORT, tls://HOST:PORT or udp://HOST:PORT", v);
		return -1;
	}
	return 0;
}

static const char *const client_auths[] = {"none", "request", "require", NULL};

/* clang-format off */
static const struct cfg_option tls_opts[] = {
	{.name = "cert", .type = CFG_STRING, .offset = offsetof(struct syslog_tls_conf, cert),
	 .help = "PEM certificate chain of the listener (leaf first)"},
	{.name = "key", .type = CFG_STRING, .offset = offsetof(struct syslog_tls_conf, key),
	 .help = "PEM private key"},
	{.name = "ca", .type = CFG_STRING, .offset = offsetof(struct syslog_tls_conf, ca),
	 .help = "PEM CA certificates that sign client certificates (mTLS)"},
	{.name = "client_auth", .type = CFG_ENUM,
	 .offset = offsetof(struct syslog_tls_conf, client_auth), .def = "none",
	 .choices = client_auths,
	 .help = "none, request (verified when sent) or require a client certificate"},
	CFG_OPT_END,
};

static const struct cfg_option in_syslog_opts[] = {
	{.name = "listen", .type = CFG_STRING, .offset = offsetof(struct in_syslog_conf, listen),
	 .flags = CFG_REQUIRED, .check = check_listen,
	 .help = "tcp://HOST:PORT, tls://HOST:PORT (RFC 5425) or udp://HOST:PORT ([::1]:514)"},
	{.name = "max_message_bytes", .type = CFG_SIZE,
	 .offset = offsetof(struct in_syslog_conf, max_message_bytes), .def = "64KiB", .min = 480,
	 .max = 16 << 20, .help = "longest message; longer ones are cut, kept raw and counted"},
	{.name = "max_connections", .type = CFG_INT,
	 .offset = offsetof(struct in_syslog_conf, max_connections), .def = "256", .min = 1,
	 .max = 65536, .help = "TCP connections at once; more are refused (counted)"},
	{.name = "udp_buffer", .type = CFG_SIZE, .offset = offsetof(struct in_syslog_conf, udp_buffer),
	 .def = "4MiB", .min = 65536, .max = 1 << 30,
	 .help = "UDP receive buffer asked of the kernel (it holds datagrams while paused)"},
	{.name = "tls", .type = CFG_SECTION, .offset = offsetof(struct in_syslog_conf, tls),
	 .sub = tls_opts, .help = "TLS of a tls:// listener: cert, key, ca, client_auth"},
	CFG_OPT_END,
};
/* clang-format on */

/* ------------------------------------------------------------ messages */

static void message(struct in_syslog *t, const char *p, size_t n, const char *frame_error)
{
	struct record_header h[8];
	char fac[8], sev[8];
	struct syslog_msg m;
	const char *why = NULL;
	struct event ev;
	size_t nh = 0;
	int64_t now = clock_wall_ms();
	int rc;

#define HDR(k, v, l)                                \
	do {                                        \
		h[nh].key = (const uint8_t *)(k);   \
		h[nh].key_len = (int32_t)strlen(k); \
		h[nh].value = (const uint8_t *)(v); \
		h[nh].value_len = (int32_t)(l);     \
		nh++;                               \
	} while (0)

	while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
		n--;
	if (n == 0 && !frame_error)
		return;
	rc = syslog_parse(p, n, now, &m, &why);
	memset(&ev, 0, sizeof(ev));
	ev.ts = now;
	if (rc == 0 && !frame_error) {
		snprintf(fac, sizeof(fac), "%d", m.facility);
		snprintf(sev, sizeof(sev), "%d", m.severity);
		HDR("facility", fac, strlen(fac));
		HDR("severity", sev, strlen(sev));
		if (m.hostname.n)
			HDR("hostname", m.hostname.p, m.hostname.n);
		if (m.app.n)
			HDR("app_name", m.app.p, m.app.n);
		if (m.procid.n)
			HDR("procid", m.procid.p, m.procid.n);
		if (m.msgid.n)
			HDR("msgid", m.msgid.p, m.msgid.n);
		if (m.sd.n)
			HDR("structured_data", m.sd.p, m.sd.n);
		if (m.ts_ms)
			ev.ts = m.ts_ms;
		ev.value = m.msg.p;
		ev.value_len = m.msg.n;
	} else {
		const char *e = frame_error ? frame_error : why;

		t->st.malformed++;
		HDR("syslog_error", e, strlen(e));
		ev.value = p;
		ev.value_len = n;
		log_write_rl(&t->rl, 10000, LOG_LVL_WARN,
			     "syslog %s: malformed message (%s); kept as raw text", t->id, e);
	}
#undef HDR
	ev.headers = h;
	ev.nheaders = nh;
	ev.ordinal = ++t->ordinal;
	t->st.messages++;
	input_emit(t->in, t->src, &ev);
}

/* ------------------------------------------------------------ UDP */

static void on_udp(struct evloop_io *io, uint32_t revents)
{
	struct in_syslog *t = io->data;

	(void)revents;
	for (int i = 0; i < 64 && !t->paused; i++) {
		char cbuf[CMSG_SPACE(sizeof(uint32_t))];
		struct iovec iov = {t->dgram, t->cap};
		struct msghdr mh;
		struct cmsghdr *c;
		ssize_t n;

		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		n = recvmsg(t->fd, &mh, MSG_DONTWAIT);
		if (n < 0)
			break;
		for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
				uint32_t d;

				memcpy(&d, CMSG_DATA(c), sizeof(d));
				if (d > t->st.udp_dropped) {
					log_write_rl(&t->rl, 10000, LOG_LVL_WARN,
						     "syslog %s: the kernel dropped %" PRIu64
						     " datagrams (input paused or too slow)",
						     t->id, (uint64_t)d - t->st.udp_dropped);
					t->st.udp_dropped = d;
				}
			}
		}
		if ((size_t)n > t->conf->max_message_bytes || (mh.msg_flags & MSG_TRUNC)) {
			t->st.too_long++;
			message(t, t->dgram,
				(size_t)n > t->conf->max_message_bytes ? t->conf->max_message_bytes
								       : (size_t)n,
				"message too long (cut)");
		} else {
			message(t, t->dgram, (size_t)n, NULL);
		}
	}
}

/* ------------------------------------------------------------ TCP */

static void conn_free(struct in_syslog *t, struct in_syslog_conn *c)
{
	struct in_syslog_conn **pp = &t->conns;

	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	t->nconns--;
	if (c->io_on)
		evloop_io_stop(&c->io);
	syslog_tls_conn_free(c->tc);
	close(c->fd);
	mem_free(c->buf);
	mem_free(c);
}

/* Frames in c->buf; at_eof: what is left is the last message. */
static void conn_frames(struct in_syslog *t, struct in_syslog_conn *c, bool at_eof)
{
	size_t off = 0;

	while (off < c->len) {
		struct syslog_frame f;

		if (c->skip) {
			size_t k = c->len - off < c->skip ? c->len - off : c->skip;

			off += k;
			c->skip -= k;
			continue;
		}
		syslog_frame_next(c->buf + off, c->len - off, t->conf->max_message_bytes, &f);
		if (f.kind == SYSLOG_FRAME_NONE)
			break;
		if (f.kind == SYSLOG_FRAME_TOO_LONG) {
			t->st.too_long++;
			message(t, f.msg, f.msg_len, "message too long (cut)");
			c->skip = f.skip;
		} else {
			message(t, f.msg, f.msg_len,
				f.malformed ? "bad octet-counting frame" : NULL);
		}
		off += f.consumed;
	}
	if (at_eof && off < c->len && !c->skip) {
		message(t, c->buf + off, c->len - off, NULL);
		off = c->len;
	}
	memmove(c->buf, c->buf + off, c->len - off);
	c->len -= off;
}

/* Bytes into c->buf: > 0, 0 at the end of the stream, -EAGAIN (c->events
 * set to what to wait for) or -EIO (close without the partial frame). */
static ssize_t conn_read(struct in_syslog *t, struct in_syslog_conn *c)
{
	uint32_t ev = EVLOOP_READ;
	char why[160];
	bool was;
	int want;
	ssize_t n;

	if (!c->tc) {
		n = read(c->fd, c->buf + c->len, t->cap - c->len);
		return n >= 0 ? n : errno == EAGAIN || errno == EINTR ? -EAGAIN : 0;
	}
	was = syslog_tls_established(c->tc);
	n = syslog_tls_read(c->tc, c->buf + c->len, t->cap - c->len, &want, why, sizeof(why));
	if (!was && syslog_tls_established(c->tc))
		t->st.tls_handshakes++;
	if (n == -ECONNREFUSED) {
		t->st.tls_refused++;
		log_write_rl(&t->rl, 10000, LOG_LVL_WARN,
			     "syslog %s: TLS handshake with %s refused: %s", t->id, c->peer, why);
		return -EIO;
	}
	if (n == -EIO) {
		log_write_rl(&t->rl, 10000, LOG_LVL_WARN, "syslog %s: TLS from %s broke: %s", t->id,
			     c->peer, why);
		return 0; /* what came before the break is kept */
	}
	if (n == -EAGAIN && want == SYSLOG_TLS_WANT_WRITE)
		ev = EVLOOP_WRITE;
	if (n != -EAGAIN || ev != c->events) {
		if (c->io_on && ev != c->events && evloop_io_modify(&c->io, ev) == 0)
			c->events = ev;
	}
	return n;
}

static void on_conn(struct evloop_io *io, uint32_t revents)
{
	struct in_syslog_conn *c = io->data;
	struct in_syslog *t = c->t;

	(void)revents;
	/* TLS may hold a decrypted record the socket will not wake us for */
	for (int i = 0; (i < READS_PER_WAKE || (c->tc && syslog_tls_pending(c->tc))) && !t->paused;
	     i++) {
		ssize_t n = conn_read(t, c);

		if (n == -EAGAIN)
			return;
		if (n <= 0) {
			if (n == 0)
				conn_frames(t, c, true);
			log_debug("syslog %s: %s closed", t->id, c->peer);
			conn_free(t, c);
			return;
		}
		c->len += (size_t)n;
		conn_frames(t, c, false);
	}
}

static void on_accept(struct evloop_io *io, uint32_t revents)
{
	struct in_syslog *t = io->data;

	(void)revents;
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(t->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct in_syslog_conn *c;
		char host[48], port[8];

		if (fd < 0)
			return;
		if (t->nconns >= (size_t)t->conf->max_connections) {
			t->st.refused++;
			log_write_rl(&t->rl, 10000, LOG_LVL_WARN,
				     "syslog %s: max_connections (%" PRId64 ") reached; refusing",
				     t->id, t->conf->max_connections);
			close(fd);
			continue;
		}
		c = mem_calloc(1, sizeof(*c));
		if (c)
			c->buf = mem_alloc(t->cap);
		if (!c || !c->buf) {
			mem_free(c);
			close(fd);
			continue;
		}
		c->t = t;
		c->fd = fd;
		c->events = EVLOOP_READ;
		if (t->tls) {
			c->tc = syslog_tls_accept(t->tls, fd);
			if (!c->tc) {
				mem_free(c->buf);
				mem_free(c);
				close(fd);
				continue;
			}
		}
		if (getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), port, sizeof(port),
				NI_NUMERICHOST | NI_NUMERICSERV) == 0)
			snprintf(c->peer, sizeof(c->peer), "%s:%s", host, port);
		c->next = t->conns;
		t->conns = c;
		t->nconns++;
		t->st.connections++;
		if (!t->paused &&
		    evloop_io_start(t->loop, &c->io, fd, EVLOOP_READ, on_conn, c) == 0)
			c->io_on = true;
	}
}

/* ------------------------------------------------------------ plugin */

static int open_socket(struct in_syslog *t)
{
	char host[256], port[16];
	struct addrinfo hints, *ai = NULL;
	int one = 1, fd = -1, rc;

	if (parse_listen(t->conf->listen, &t->udp, &t->tls_on, host, sizeof(host), port,
			 sizeof(port)) < 0)
		return -ERR_CONFIG;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = t->udp ? SOCK_DGRAM : SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc != 0) {
		log_error("syslog %s: %s: %s", t->id, t->conf->listen, gai_strerror(rc));
		return -ERR_CONFIG;
	}
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (t->udp) {
		int sz = (int)t->conf->udp_buffer;

		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
		setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
	}
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || (!t->udp && listen(fd, 128) != 0)) {
		rc = -errno;
		log_error("syslog %s: cannot listen on %s: %s", t->id, t->conf->listen,
			  err_str(rc));
		goto out;
	}
	rc = evloop_io_start(t->loop, &t->io, fd, EVLOOP_READ, t->udp ? on_udp : on_accept, t);
	if (rc == 0) {
		t->fd = fd;
		t->io_on = true;
		fd = -1;
	}
out:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return rc;
}

static void in_syslog_exit(void *ctx)
{
	struct in_syslog *t = ctx;

	if (!t)
		return;
	while (t->conns)
		conn_free(t, t->conns);
	if (t->io_on)
		evloop_io_stop(&t->io);
	if (t->fd >= 0)
		close(t->fd);
	syslog_tls_free(t->tls);
	mem_free(t->dgram);
	mem_free(t);
}

/* tls:// needs cert and key, and client certificates a CA to check them. */
static int check_tls(struct in_syslog *t, struct cfg_error *err)
{
	const struct syslog_tls_conf *c = &t->conf->tls;
	bool tls = strncmp(t->conf->listen, "tls://", 6) == 0;

	if (tls && (!c->cert || !c->cert[0] || !c->key || !c->key[0])) {
		log_error("syslog %s: listen %s needs tls.cert and tls.key", t->id,
			  t->conf->listen);
		return -ERR_CONFIG;
	}
	if (tls && c->client_auth != SYSLOG_AUTH_NONE && (!c->ca || !c->ca[0])) {
		cfg_error_at(err, NULL, "syslog %s: tls.client_auth %s needs tls.ca", t->id,
			     client_auths[c->client_auth]);
		return -ERR_CONFIG;
	}
	if (!tls && c->cert)
		log_warn("syslog %s: tls is set but listen %s is not tls://; it is not used", t->id,
			 t->conf->listen);
	return 0;
}

static int in_syslog_init(const struct plugin_args *a, void **ctx, struct cfg_error *err)
{
	struct in_syslog *t = mem_calloc(1, sizeof(*t));

	*ctx = t;
	if (!t)
		return -ENOMEM;
	t->conf = a->conf;
	t->in = a->input;
	t->loop = a->loop;
	t->id = a->id;
	t->fd = -1;
	t->cap = t->conf->max_message_bytes + 16;
	return check_tls(t, err);
}

static int in_syslog_start(void *ctx)
{
	struct in_syslog *t = ctx;
	const struct source_resume *r = input_resume_find(t->in, "syslog");
	struct source_desc d;
	int rc;

	t->dgram = mem_alloc(t->cap);
	if (!t->dgram)
		return -ENOMEM;
	t->ordinal = (uint64_t)clock_wall_ns();
	if (r && r->ordinal >= t->ordinal)
		t->ordinal = r->ordinal + 1;
	memset(&d, 0, sizeof(d));
	d.ident = "syslog";
	d.name = t->conf->listen;
	d.ordinal = t->ordinal;
	t->src = input_source_open(t->in, &d);
	if (!t->src)
		return -ENOMEM;
	if (strncmp(t->conf->listen, "tls://", 6) == 0) {
		rc = syslog_tls_new(t->id, &t->conf->tls, &t->tls);
		if (rc < 0)
			return rc;
	}
	rc = open_socket(t);
	if (rc == 0)
		log_info("syslog %s: listening on %s", t->id, t->conf->listen);
	return rc;
}

static void in_syslog_pause(void *ctx)
{
	struct in_syslog *t = ctx;

	t->paused = true;
	if (t->io_on && t->udp) {
		evloop_io_stop(&t->io);
		t->io_on = false;
	}
	for (struct in_syslog_conn *c = t->conns; c; c = c->next) {
		if (c->io_on) {
			evloop_io_stop(&c->io);
			c->io_on = false;
		}
	}
}

static void in_syslog_resume(void *ctx)
{
	struct in_syslog *t = ctx;

	t->paused = false;
	if (!t->io_on && t->fd >= 0 &&
	    evloop_io_start(t->loop, &t->io, t->fd, EVLOOP_READ, t->udp ? on_udp : on_accept, t) ==
		    0)
		t->io_on = true;
	for (struct in_syslog_conn *c = t->conns, *next; c; c = next) {
		next = c->next;
		if (!c->io_on &&
		    evloop_io_start(t->loop, &c->io, c->fd, c->events, on_conn, c) == 0)
			c->io_on = true;
		/* a record decrypted before the pause: the socket may stay quiet */
		if (c->io_on && c->tc && syslog_tls_pending(c->tc))
			on_conn(&c->io, EVLOOP_READ);
	}
}

static size_t in_syslog_metrics(void *ctx, struct plugin_metric *m, size_t max)
{
	struct in_syslog *t = ctx;
	const struct plugin_metric v[] = {
		{"sluice_agent_syslog_messages_total", "counter", "Syslog messages received.",
		 t->st.messages, NULL, NULL},
		{"sluice_agent_syslog_malformed_total", "counter",
		 "Messages or frames that did not parse (kept raw with a syslog_error header).",
		 t->st.malformed, NULL, NULL},
		{"sluice_agent_syslog_too_long_total", "counter",
		 "Messages longer than max_message_bytes (cut).", t->st.too_long, NULL, NULL},
		{"sluice_agent_syslog_udp_dropped_total", "counter",
		 "Datagrams the kernel dropped because the input did not read them in time.",
		 t->st.udp_dropped, NULL, NULL},
		{"sluice_agent_syslog_connections", "gauge", "Open TCP connections.", t->nconns,
		 NULL, NULL},
		{"sluice_agent_syslog_connections_total", "counter", "TCP connections accepted.",
		 t->st.connections, NULL, NULL},
		{"sluice_agent_syslog_refused_total", "counter",
		 "TCP connections refused at max_connections.", t->st.refused, NULL, NULL},
		{"sluice_agent_syslog_tls_handshakes_total", "counter",
		 "TLS handshakes completed (tls:// listeners).", t->st.tls_handshakes, NULL, NULL},
		{"sluice_agent_syslog_tls_refused_total", "counter",
		 "TLS connections refused at the handshake: not TLS, an old protocol, no or an "
		 "untrusted client certificate.",
		 t->st.tls_refused, NULL, NULL},
	};
	return plugin_metrics_copy(m, max, v, sizeof(v) / sizeof(v[0]));
}

const struct plugin in_syslog_plugin = {
	.name = "syslog",
	.kind = PLUGIN_INPUT,
	.description =
		"RFC 5424 / RFC 3164 syslog over UDP, TCP or TLS (RFC 5425; octet counting or lines)",
	.options = in_syslog_opts,
	.conf_size = sizeof(struct in_syslog_conf),
	.init = in_syslog_init,
	.start = in_syslog_start,
	.pause = in_syslog_pause,
	.resume = in_syslog_resume,
	.metrics = in_syslog_metrics,
	.exit = in_syslog_exit,
};
