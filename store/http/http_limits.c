/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP API's connection table for the limits libmicrohttpd lacks: a
 * deadline for headers, a per-address cap with metrics, and eviction of the
 * longest-waiting connection when the table is full (see http_limits.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/prom.h"
#include "store/http/http_conn.h"
#include "store/http/http_limits.h"

struct hconn {
	struct hconn *next;
	struct hconn *prev;
	int fd; /* our dup of the socket; -1: none */
	struct sockaddr_storage addr;
	uint64_t deadline_ms;      /* for the headers; 0: a request is being served */
	uint64_t pending_until_ms; /* accepted, not yet reported STARTED; 0: started */
	bool shut;
};

struct http_limits {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	pthread_t reaper;
	bool reaper_started;
	bool stop;
	struct hconn *conns;
	size_t count;
	size_t max;
	size_t per_ip;
	uint64_t header_ms;
	uint64_t idle_ms;
	uint64_t tick_ms;
	atomic_uint_fast64_t header_timeouts;
	atomic_uint_fast64_t refused_ip;
	atomic_uint_fast64_t refused_full;
	atomic_uint_fast64_t evicted;
	atomic_uint_fast64_t bad_framing;
	struct log_ratelimit rl;
};

static bool same_host(const struct sockaddr_storage *a, const struct sockaddr *b);

/* Host and port: the one connection. */
static bool same_peer(const struct sockaddr_storage *a, const struct sockaddr *b)
{
	if (a->ss_family == AF_INET && b->sa_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_port ==
			       ((const struct sockaddr_in *)b)->sin_port &&
		       same_host(a, b);
	if (a->ss_family == AF_INET6 && b->sa_family == AF_INET6)
		return ((const struct sockaddr_in6 *)a)->sin6_port ==
			       ((const struct sockaddr_in6 *)b)->sin6_port &&
		       same_host(a, b);
	return false;
}

static void link_conn(struct http_limits *hl, struct hconn *c)
{
	c->prev = NULL;
	c->next = hl->conns;
	if (hl->conns)
		hl->conns->prev = c;
	hl->conns = c;
	hl->count++;
}

static void unlink_conn(struct http_limits *hl, struct hconn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		hl->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	hl->count--;
}

static bool same_host(const struct sockaddr_storage *a, const struct sockaddr *b)
{
	if (a->ss_family != b->sa_family)
		return false;
	if (b->sa_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)a)->sin_addr,
			      &((const struct sockaddr_in *)b)->sin_addr,
			      sizeof(struct in_addr)) == 0;
	if (b->sa_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
			      &((const struct sockaddr_in6 *)b)->sin6_addr,
			      sizeof(struct in6_addr)) == 0;
	return false;
}

/* Under mu. */
static void shut(struct hconn *c)
{
	if (c->shut || c->fd < 0)
		return;
	c->shut = true;
	shutdown(c->fd, SHUT_RDWR);
}

static void *reaper_main(void *arg)
{
	struct http_limits *hl = arg;

	pthread_mutex_lock(&hl->mu);
	while (!hl->stop) {
		struct timespec ts;
		uint64_t now = clock_mono_ms();

		struct hconn *next;

		for (struct hconn *c = hl->conns; c; c = next) {
			next = c->next;
			if (c->pending_until_ms && now >= c->pending_until_ms) {
				/* accepted but never started (the library refused it) */
				unlink_conn(hl, c);
				mem_free(c);
				continue;
			}
			if (c->deadline_ms && now >= c->deadline_ms && !c->shut && c->fd >= 0) {
				shut(c);
				atomic_fetch_add(&hl->header_timeouts, 1);
			}
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += (long)(hl->tick_ms % 1000) * 1000000L;
		ts.tv_sec += (time_t)(hl->tick_ms / 1000) + ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&hl->cond, &hl->mu, &ts);
	}
	pthread_mutex_unlock(&hl->mu);
	return NULL;
}

struct http_limits *http_limits_new(const struct store_config *conf)
{
	struct http_limits *hl = mem_calloc(1, sizeof(*hl));
	pthread_condattr_t ca;

	if (!hl)
		return NULL;
	pthread_mutex_init(&hl->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&hl->cond, &ca);
	pthread_condattr_destroy(&ca);
	hl->max = (size_t)conf->http.max_connections;
	hl->per_ip = (size_t)conf->http.max_connections_per_ip;
	hl->header_ms = (uint64_t)conf->http.header_timeout_ms;
	hl->idle_ms = (uint64_t)conf->http.idle_timeout_ms;
	hl->tick_ms = hl->header_ms / 4;
	if (hl->tick_ms < 25)
		hl->tick_ms = 25;
	if (hl->tick_ms > 1000)
		hl->tick_ms = 1000;
	if (pthread_create(&hl->reaper, NULL, reaper_main, hl) != 0) {
		log_error("http: cannot start the connection reaper thread");
		http_limits_free(hl);
		return NULL;
	}
	hl->reaper_started = true;
	return hl;
}

void http_limits_free(struct http_limits *hl)
{
	if (!hl)
		return;
	if (hl->reaper_started) {
		pthread_mutex_lock(&hl->mu);
		hl->stop = true;
		pthread_cond_signal(&hl->cond);
		pthread_mutex_unlock(&hl->mu);
		pthread_join(hl->reaper, NULL);
	}
	while (hl->conns) {
		struct hconn *c = hl->conns;

		hl->conns = c->next;
		if (c->fd >= 0)
			close(c->fd);
		mem_free(c);
	}
	pthread_cond_destroy(&hl->cond);
	pthread_mutex_destroy(&hl->mu);
	mem_free(hl);
}

/* Under mu: the connection waiting longest for headers, not yet shut. */
static struct hconn *eviction_victim(struct http_limits *hl)
{
	struct hconn *v = NULL;

	for (struct hconn *c = hl->conns; c; c = c->next) {
		if (!c->deadline_ms || c->shut || c->fd < 0)
			continue;
		if (!v || c->deadline_ms < v->deadline_ms)
			v = c;
	}
	return v;
}

enum MHD_Result http_limits_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	struct http_limits *hl = cls;
	enum MHD_Result r = MHD_YES;
	size_t same = 0, live = 0;
	struct hconn *nc = mem_calloc(1, sizeof(*nc));

	/* The connection is tracked from here, not from its STARTED notice,
	 * which may come later on its own thread: the counts stay exact. */
	if (!nc || addrlen > sizeof(nc->addr)) {
		mem_free(nc);
		return MHD_NO;
	}
	nc->fd = -1;
	memcpy(&nc->addr, addr, addrlen);
	pthread_mutex_lock(&hl->mu);
	for (struct hconn *c = hl->conns; c; c = c->next) {
		if (c->shut)
			continue; /* on its way out */
		live++;
		if (hl->per_ip && same_host(&c->addr, addr))
			same++;
	}
	if (hl->per_ip && same >= hl->per_ip) {
		atomic_fetch_add(&hl->refused_ip, 1);
		log_write_rl(&hl->rl, 5000, LOG_LVL_WARN,
			     "http: a client address has http.max_connections_per_ip (%zu) "
			     "connections; refusing",
			     hl->per_ip);
		r = MHD_NO;
	} else if (live >= hl->max) {
		struct hconn *v = eviction_victim(hl);

		if (v) {
			shut(v);
			atomic_fetch_add(&hl->evicted, 1);
		} else {
			atomic_fetch_add(&hl->refused_full, 1);
			log_write_rl(&hl->rl, 5000, LOG_LVL_WARN,
				     "http: http.max_connections (%zu) busy; refusing", hl->max);
			r = MHD_NO;
		}
	}
	if (r == MHD_YES) {
		uint64_t now = clock_mono_ms();

		nc->deadline_ms = now + hl->header_ms;
		nc->pending_until_ms = now + 10000;
		link_conn(hl, nc);
		nc = NULL;
	}
	pthread_mutex_unlock(&hl->mu);
	mem_free(nc);
	return r;
}

static void track(struct http_limits *hl, struct MHD_Connection *conn, void **socket_ctx)
{
	const union MHD_ConnectionInfo *fdi, *ai;
	struct hconn *c = NULL;
	int fd = -1;

	fdi = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (fdi)
		fd = fcntl(fdi->connect_fd, F_DUPFD_CLOEXEC, 0);
	ai = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	pthread_mutex_lock(&hl->mu);
	for (struct hconn *p = hl->conns; p && ai && ai->client_addr; p = p->next) {
		if (p->pending_until_ms && same_peer(&p->addr, ai->client_addr)) {
			c = p;
			break;
		}
	}
	if (!c) {
		/* not seen at accept (a connection added another way): track it now */
		c = mem_calloc(1, sizeof(*c));
		if (c) {
			c->deadline_ms = clock_mono_ms() + hl->header_ms;
			link_conn(hl, c);
		}
	}
	if (c) {
		c->pending_until_ms = 0;
		c->fd = fd;
		fd = -1;
		if (c->shut && c->fd >= 0)
			shutdown(c->fd, SHUT_RDWR); /* evicted before it started */
	}
	pthread_mutex_unlock(&hl->mu);
	if (fd >= 0)
		close(fd);
	*socket_ctx = c;
}

void http_limits_notify(struct http_limits *hl, struct MHD_Connection *conn, void **socket_ctx,
			enum MHD_ConnectionNotificationCode code)
{
	struct hconn *c;

	if (!hl)
		return;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		track(hl, conn, socket_ctx);
		return;
	}
	c = *socket_ctx;
	if (!c)
		return;
	pthread_mutex_lock(&hl->mu);
	unlink_conn(hl, c);
	pthread_mutex_unlock(&hl->mu);
	if (c->fd >= 0)
		close(c->fd);
	mem_free(c);
	*socket_ctx = NULL;
}

static struct hconn *conn_of(struct MHD_Connection *conn)
{
	struct http_conn_ctx *x = http_conn_ctx_of(conn);

	return x ? x->limits : NULL;
}

void http_limits_headers_done(struct http_limits *hl, struct MHD_Connection *conn)
{
	struct hconn *c = hl ? conn_of(conn) : NULL;

	if (!c)
		return;
	pthread_mutex_lock(&hl->mu);
	c->deadline_ms = 0;
	pthread_mutex_unlock(&hl->mu);
}

void http_limits_request_done(struct http_limits *hl, struct MHD_Connection *conn)
{
	struct hconn *c = hl ? conn_of(conn) : NULL;

	if (!c)
		return;
	pthread_mutex_lock(&hl->mu);
	c->deadline_ms = clock_mono_ms() + hl->idle_ms + hl->header_ms;
	pthread_mutex_unlock(&hl->mu);
}

struct framing {
	const char *cl;
	int ncl;
	int nte;
	bool cl_differ;
};

static enum MHD_Result framing_header(void *cls, enum MHD_ValueKind kind, const char *key,
				      const char *value)
{
	struct framing *f = cls;

	(void)kind;
	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
		if (f->ncl++ && strcmp(f->cl, value ? value : "") != 0)
			f->cl_differ = true;
		if (!f->cl)
			f->cl = value ? value : "";
	} else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
		f->nte++;
	}
	return MHD_YES;
}

int http_limits_framing(struct MHD_Connection *conn, const char *cl, const char *te)
{
	struct framing f = {NULL, 0, 0, false};
	size_t n;

	if (!cl && !te)
		return 0;
	MHD_get_connection_values(conn, MHD_HEADER_KIND, framing_header, &f);
	if (f.cl_differ || (te && (cl || f.nte > 1)))
		return -1;
	if (te) {
		while (*te == ' ' || *te == '\t')
			te++;
		n = strlen(te);
		while (n && (te[n - 1] == ' ' || te[n - 1] == '\t'))
			n--;
		if (n != 7 || strncasecmp(te, "chunked", 7) != 0)
			return -1;
	}
	return 0;
}

void http_limits_principal(struct MHD_Connection *conn, int identity, char *out, size_t cap)
{
	const union MHD_ConnectionInfo *ai;
	const struct sockaddr *sa;
	char host[INET6_ADDRSTRLEN] = "?";

	if (identity >= 0) {
		snprintf(out, cap, "token#%d", identity);
		return;
	}
	ai = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	sa = ai ? ai->client_addr : NULL;
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, host, sizeof(host));
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, host,
			  sizeof(host));
	snprintf(out, cap, "%s", host);
}

void http_limits_bad_framing(struct http_limits *hl)
{
	if (hl)
		atomic_fetch_add(&hl->bad_framing, 1);
}

void http_limits_render(struct buf *out, struct http_limits *hl)
{
	char lb[64];

	if (!hl)
		return;
	prom_family(out, "sluice_http_header_timeouts_total", "counter",
		    "connections closed without complete headers within http.header_timeout");
	prom_u64(out, "sluice_http_header_timeouts_total", NULL, atomic_load(&hl->header_timeouts));
	prom_family(out, "sluice_http_connections_refused_total", "counter",
		    "connections refused at accept, by reason");
	prom_u64(out, "sluice_http_connections_refused_total",
		 prom_labels(lb, sizeof(lb), "reason", "per_ip", NULL),
		 atomic_load(&hl->refused_ip));
	prom_u64(out, "sluice_http_connections_refused_total",
		 prom_labels(lb, sizeof(lb), "reason", "full", NULL),
		 atomic_load(&hl->refused_full));
	prom_family(out, "sluice_http_connections_evicted_total", "counter",
		    "connections waiting for headers closed to make room at http.max_connections");
	prom_u64(out, "sluice_http_connections_evicted_total", NULL, atomic_load(&hl->evicted));
	prom_family(out, "sluice_http_bad_framing_total", "counter",
		    "requests refused 400 for conflicting Content-Length / Transfer-Encoding");
	prom_u64(out, "sluice_http_bad_framing_total", NULL, atomic_load(&hl->bad_framing));
}
