/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's HTTP client against a scripted server on 127.0.0.1 (a thread
 * that answers each connection as a test says): keep-alive reuse, a
 * connection the server dropped while idle retried once on a new one,
 * chunked answers, a 1 MiB body written intact, refused connections,
 * timeouts, a name resolved on the resolver thread, a malformed answer, a
 * request abandoned mid-flight, and the blocking http_fetch(). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/net/http_client.h"
#include "lib/err.h"
#include "lib/evloop.h"
#include "tests/unit/unit.h"

/* ------------------------------------------------------------ server */

typedef void (*conn_script)(int fd, int nconn);

struct server {
	int lfd;
	int port;
	conn_script script;
	int conns; /* connections accepted */
	int max_conns;
	pthread_t t;
	char last_head[4096];
	size_t last_body_len;
	uint32_t last_body_sum;
};

static struct server srv;

/* Read one request: head into last_head, body counted and summed.
 * 0, or -1 at EOF or error. */
static int read_request(int fd)
{
	char head[4096];
	size_t hl = 0;
	long clen = 0;
	char *p;

	while (hl < sizeof(head) - 1) {
		ssize_t n = read(fd, head + hl, 1);

		if (n <= 0)
			return -1;
		hl++;
		if (hl >= 4 && memcmp(head + hl - 4, "\r\n\r\n", 4) == 0)
			break;
	}
	head[hl] = '\0';
	memcpy(srv.last_head, head, hl + 1);
	p = strcasestr(head, "Content-Length: ");
	if (p)
		clen = strtol(p + 16, NULL, 10);
	srv.last_body_len = 0;
	srv.last_body_sum = 0;
	while (clen > 0) {
		unsigned char b[65536];
		ssize_t n = read(fd, b, clen < (long)sizeof(b) ? (size_t)clen : sizeof(b));

		if (n <= 0)
			return -1;
		for (ssize_t i = 0; i < n; i++)
			srv.last_body_sum = srv.last_body_sum * 31 + b[i];
		srv.last_body_len += (size_t)n;
		clen -= n;
	}
	return 0;
}

static void say(int fd, const char *s)
{
	size_t n = strlen(s);

	while (n) {
		ssize_t w = write(fd, s, n);

		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void *server_main(void *arg)
{
	(void)arg;
	while (srv.conns < srv.max_conns) {
		int fd = accept(srv.lfd, NULL, NULL);

		if (fd < 0)
			break;
		srv.script(fd, srv.conns++);
		close(fd);
	}
	return NULL;
}

/* Listen on 127.0.0.1 (or ::1); false when the address family is missing. */
static bool server_start_on(conn_script script, int max_conns, bool v6)
{
	struct sockaddr_storage ss;
	socklen_t al = sizeof(ss);
	int one = 1;

	memset(&srv, 0, sizeof(srv));
	memset(&ss, 0, sizeof(ss));
	srv.script = script;
	srv.max_conns = max_conns;
	srv.lfd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
	setsockopt(srv.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		al = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		al = sizeof(*a);
	}
	if (srv.lfd < 0 || bind(srv.lfd, (struct sockaddr *)&ss, al) != 0) {
		if (srv.lfd >= 0)
			close(srv.lfd);
		return false;
	}
	CU_ASSERT_FATAL(listen(srv.lfd, 16) == 0);
	al = sizeof(ss);
	getsockname(srv.lfd, (struct sockaddr *)&ss, &al);
	srv.port = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
			    : ((struct sockaddr_in *)&ss)->sin_port);
	pthread_create(&srv.t, NULL, server_main, NULL);
	return true;
}

static void server_start(conn_script script, int max_conns)
{
	CU_ASSERT_FATAL(server_start_on(script, max_conns, false));
}

static void server_stop(void)
{
	shutdown(srv.lfd, SHUT_RDWR);
	pthread_join(srv.t, NULL);
	close(srv.lfd);
}

/* ------------------------------------------------------------ client side */

struct run {
	struct evloop *loop;
	struct http_client *c;
	int done;
};

static void on_done(struct http_client_req *r, void *arg)
{
	struct run *ru = arg;

	(void)r;
	ru->done++;
}

static void client_new(struct run *ru, const char *host, int64_t timeout_ms)
{
	struct http_client_opts o = {.timeout_ms = timeout_ms, .connect_timeout_ms = 1000};
	char url[128];

	memset(ru, 0, sizeof(*ru));
	ru->loop = evloop_new();
	snprintf(url, sizeof(url), "http://%s:%d/base/", host, srv.port);
	CU_ASSERT_FATAL(http_client_new(ru->loop, url, &o, &ru->c) == 0);
}

static void client_free(struct run *ru)
{
	http_client_free(ru->c);
	evloop_free(ru->loop);
}

/* Run one request to its end. */
static struct http_client_req *one(struct run *ru, const char *method, const char *path,
				   const void *body, size_t len)
{
	struct http_client_req *r;
	int want = ru->done + 1;

	r = http_request(ru->c, method, path, "Content-Type: text/plain\r\n", body, len, on_done,
			 ru);
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_EQUAL(ru->done, want - 1); /* never inside http_request() */
	for (int i = 0; i < 1000 && ru->done < want; i++)
		evloop_run_once(ru->loop, 50);
	CU_ASSERT_EQUAL(ru->done, want);
	return r;
}

static void keepalive_script(int fd, int nconn)
{
	(void)nconn;
	while (read_request(fd) == 0)
		say(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
}

static void test_keepalive_reuse(void)
{
	struct run ru;
	struct http_client_stats st;
	struct http_client_req *r;

	server_start(keepalive_script, 1);
	client_new(&ru, "127.0.0.1", 5000);
	for (int i = 0; i < 3; i++) {
		r = one(&ru, "POST", "/v1/x?partition=1", "abc", 3);
		CU_ASSERT_EQUAL(http_client_req_result(r), 0);
		CU_ASSERT_EQUAL(http_client_req_status(r), 200);
		CU_ASSERT_EQUAL(http_client_req_body(r)->len, 2);
		CU_ASSERT_EQUAL(srv.last_body_len, 3);
		http_client_req_free(r);
	}
	CU_ASSERT(strncmp(srv.last_head, "POST /base/v1/x?partition=1 HTTP/1.1\r\n", 38) == 0);
	CU_ASSERT(strstr(srv.last_head, "\r\nHost: 127.0.0.1:") != NULL);
	CU_ASSERT(strstr(srv.last_head, "\r\nContent-Type: text/plain\r\n") != NULL);
	CU_ASSERT(strstr(srv.last_head, "\r\nContent-Length: 3\r\n") != NULL);
	http_client_stats(ru.c, &st);
	CU_ASSERT_EQUAL(st.connects, 1);
	CU_ASSERT_EQUAL(st.reuses, 2);
	client_free(&ru);
	server_stop();
}

/* Connection 0 answers once and then drops the next request unanswered, as
 * a server closing an idle connection does; connection 1 answers. */
static void stale_script(int fd, int nconn)
{
	if (read_request(fd) < 0)
		return;
	if (nconn == 0) {
		say(fd, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
		read_request(fd);
		return;
	}
	say(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nnew\r\n0\r\n\r\n");
}

static void test_stale_connection_retried(void)
{
	struct run ru;
	struct http_client_stats st;
	struct http_client_req *r;

	server_start(stale_script, 2);
	client_new(&ru, "127.0.0.1", 5000);
	r = one(&ru, "PUT", "/a", "{}", 2);
	CU_ASSERT_EQUAL(http_client_req_status(r), 200);
	http_client_req_free(r);
	r = one(&ru, "PUT", "/a", "{}", 2);
	CU_ASSERT_EQUAL(http_client_req_result(r), 0);
	CU_ASSERT_EQUAL(http_client_req_status(r), 200);
	CU_ASSERT_EQUAL_FATAL(http_client_req_body(r)->len, 3);
	CU_ASSERT(memcmp(http_client_req_body(r)->data, "new", 3) == 0);
	http_client_req_free(r);
	http_client_stats(ru.c, &st);
	CU_ASSERT_EQUAL(st.stale_retries, 1);
	CU_ASSERT_EQUAL(st.connects, 2);
	client_free(&ru);
	server_stop();
}

static void big_script(int fd, int nconn)
{
	char ans[128];

	(void)nconn;
	if (read_request(fd) < 0)
		return;
	snprintf(ans, sizeof(ans),
		 "HTTP/1.1 413 Too Large\r\nRetry-After: 3\r\nConnection: close\r\n"
		 "Content-Length: 8\r\n\r\n%08zu",
		 srv.last_body_len);
	say(fd, ans);
}

static void test_big_body_and_close(void)
{
	static uint8_t body[1 << 20];
	struct run ru;
	struct http_client_req *r;
	uint32_t sum = 0;

	for (size_t i = 0; i < sizeof(body); i++) {
		body[i] = (uint8_t)(i * 7 + (i >> 9));
		sum = sum * 31 + body[i];
	}
	server_start(big_script, 1);
	client_new(&ru, "localhost", 5000); /* resolved on the resolver thread */
	r = one(&ru, "POST", "/big", body, sizeof(body));
	CU_ASSERT_EQUAL(http_client_req_result(r), 0);
	CU_ASSERT_EQUAL(http_client_req_status(r), 413);
	CU_ASSERT_EQUAL(http_client_req_retry_after_ms(r), 3000);
	CU_ASSERT_EQUAL(http_client_req_body(r)->len, 8);
	CU_ASSERT(memcmp(http_client_req_body(r)->data, "01048576", 8) == 0);
	CU_ASSERT_EQUAL(srv.last_body_sum, sum);
	http_client_req_free(r);
	client_free(&ru);
	server_stop();
}

static void silent_script(int fd, int nconn)
{
	char b[256];

	(void)nconn;
	/* Read and never answer until the client gives up. */
	while (read(fd, b, sizeof(b)) > 0)
		;
}

static void garbage_script(int fd, int nconn)
{
	(void)nconn;
	if (read_request(fd) == 0)
		say(fd, "SMTP 220 hello\r\n\r\n");
}

static void test_failures(void)
{
	struct run ru;
	struct http_client_req *r;

	/* Nobody listens: refused, with a message naming the address. */
	server_start(silent_script, 1);
	server_stop();
	client_new(&ru, "127.0.0.1", 5000);
	r = one(&ru, "GET", "/x", NULL, 0);
	CU_ASSERT_EQUAL(http_client_req_result(r), -ECONNREFUSED);
	CU_ASSERT(strstr(http_client_req_error(r), "127.0.0.1") != NULL);
	http_client_req_free(r);
	client_free(&ru);

	/* A server that never answers: the request's timeout. */
	server_start(silent_script, 1);
	client_new(&ru, "127.0.0.1", 300);
	r = one(&ru, "GET", "/x", NULL, 0);
	CU_ASSERT_EQUAL(http_client_req_result(r), -ETIMEDOUT);
	http_client_req_free(r);
	client_free(&ru);
	server_stop();

	/* Not HTTP. */
	server_start(garbage_script, 1);
	client_new(&ru, "127.0.0.1", 5000);
	r = one(&ru, "GET", "/x", NULL, 0);
	CU_ASSERT_EQUAL(http_client_req_result(r), -ERR_CORRUPT);
	CU_ASSERT_STRING_EQUAL(http_client_req_error(r), "bad status line");
	http_client_req_free(r);
	client_free(&ru);
	server_stop();

	/* A name that does not resolve. */
	server_start(silent_script, 1);
	client_new(&ru, "no-such-host.invalid", 5000);
	r = one(&ru, "GET", "/x", NULL, 0);
	CU_ASSERT_EQUAL(http_client_req_result(r), -EHOSTUNREACH);
	CU_ASSERT(strstr(http_client_req_error(r), "no-such-host.invalid") != NULL);

	http_client_req_free(r);
	client_free(&ru);
	server_stop();

	/* Abandoned while running: no callback, nothing leaks (ASan). */
	server_start(silent_script, 1);
	client_new(&ru, "127.0.0.1", 5000);
	r = http_request(ru.c, "GET", "/x", NULL, NULL, 0, on_done, &ru);
	for (int i = 0; i < 5; i++)
		evloop_run_once(ru.loop, 10);
	http_client_req_free(r);
	for (int i = 0; i < 5; i++)
		evloop_run_once(ru.loop, 10);
	CU_ASSERT_EQUAL(ru.done, 0);
	client_free(&ru);
	server_stop();
}

static void test_bad_urls(void)
{
	static const char *const bad[] = {
		"ftp://x",     "http://",       "http://:80",  "http://h:0",  "http://h:65536",
		"http://h:8x", "http://u:p@h/", "http://h/?q", "http://[::1", "http://[::1]x",
	};
	struct http_client_opts o = {0};
	struct evloop *l = evloop_new();
	struct http_client *c;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(http_client_new(l, bad[i], &o, &c), -EINVAL);

		CU_ASSERT_PTR_NULL(c);
	}
	CU_ASSERT_EQUAL(http_client_new(l, "http://[::1]:8470/p", &o, &c), 0);
	http_client_free(c);
	CU_ASSERT_EQUAL(http_client_new(l, "http://127.0.0.1", &o, &c), 0);
	http_client_free(c);
	evloop_free(l);
}

static void test_ipv6_literal(void)
{
	struct http_client_opts o = {.timeout_ms = 5000};
	char url[64];
	int status = 0;

	if (!server_start_on(keepalive_script, 1, true)) {
		fprintf(stderr, "(no IPv6 loopback here: skipped) ");
		return;
	}
	snprintf(url, sizeof(url), "http://[::1]:%d/", srv.port);
	CU_ASSERT_EQUAL(
		http_fetch(url, &o, "GET", "/x", NULL, NULL, 0, 2000, &status, NULL, NULL, 0), 0);
	CU_ASSERT_EQUAL(status, 200);
	CU_ASSERT(strstr(srv.last_head, "\r\nHost: [::1]:") != NULL);
	server_stop();
}

static void test_fetch(void)
{
	struct http_client_opts o = {.timeout_ms = 5000};
	struct buf b;
	char url[64], why[192];
	int status = 0;

	server_start(keepalive_script, 1);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", srv.port);
	buf_init(&b, 100);
	CU_ASSERT_EQUAL(http_fetch(url, &o, "GET", "/v1/topics/t", NULL, NULL, 0, 2000, &status, &b,
				   NULL, 0),
			0);
	CU_ASSERT_EQUAL(status, 200);
	CU_ASSERT_EQUAL(b.len, 2);
	CU_ASSERT(strncmp(srv.last_head, "GET /v1/topics/t HTTP/1.1\r\n", 27) == 0);
	CU_ASSERT(strstr(srv.last_head, "Content-Length") == NULL);
	buf_release(&b);
	server_stop();
	/* Nobody listens now: refused, and said so. */
	CU_ASSERT_EQUAL(http_fetch(url, &o, "GET", "/", NULL, NULL, 0, 2000, &status, NULL, why,
				   sizeof(why)),
			-ECONNREFUSED);
	CU_ASSERT(strstr(why, "Connection refused") != NULL);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_keepalive_reuse),
		UNIT_TEST(test_stale_connection_retried),
		UNIT_TEST(test_big_body_and_close),
		UNIT_TEST(test_failures),
		UNIT_TEST(test_bad_urls),
		UNIT_TEST(test_ipv6_literal),
		UNIT_TEST(test_fetch),
		UNIT_END,
	};
	return unit_run("http_client", tests);
}
