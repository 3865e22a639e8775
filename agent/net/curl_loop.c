/* SPDX-License-Identifier: Apache-2.0 */
/*
 * curl multi on evloop.  Each socket curl asks about gets a small watcher
 * (attached to the socket with curl_multi_assign); curl's single timeout is
 * one evloop timer.  A transfer's callback and argument live in a struct
 * reached through CURLOPT_PRIVATE.
 */
#include <errno.h>
#include <stdbool.h>

#include "agent/net/curl_loop.h"
#include "lib/log.h"
#include "lib/mem.h"

struct sock {
	struct evloop_io io;
	struct curl_loop *cl;
	curl_socket_t fd;
};

struct xfer {
	curl_loop_done done;
	void *arg;
};

struct curl_loop {
	struct evloop *loop;
	CURLM *multi;
	struct evloop_timer timer;
};

static void check_done(struct curl_loop *cl)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(cl->multi, &left)) != NULL) {
		CURL *easy = m->easy_handle;
		CURLcode res = m->data.result;
		struct xfer *x = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
		curl_multi_remove_handle(cl->multi, easy);
		curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
		if (x) {
			curl_loop_done done = x->done;
			void *arg = x->arg;

			mem_free(x);
			done(easy, res, arg);
		}
	}
}

static void on_sock(struct evloop_io *io, uint32_t revents)
{
	struct sock *s = io->data;
	struct curl_loop *cl = s->cl;
	int flags = 0, running;

	if (revents & EPOLLIN)
		flags |= CURL_CSELECT_IN;
	if (revents & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (revents & (EPOLLERR | EPOLLHUP))
		flags |= CURL_CSELECT_ERR;
	/* s may be freed inside (CURL_POLL_REMOVE): do not touch it after. */
	curl_multi_socket_action(cl->multi, s->fd, flags, &running);
	check_done(cl);
}

static int sock_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *sockp)
{
	struct curl_loop *cl = userp;
	struct sock *s = sockp;
	uint32_t ev = 0;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (s) {
			evloop_io_stop(&s->io);
			curl_multi_assign(cl->multi, fd, NULL);
			mem_free(s);
		}
		return 0;
	}
	if (what & CURL_POLL_IN)
		ev |= EVLOOP_READ;
	if (what & CURL_POLL_OUT)
		ev |= EVLOOP_WRITE;
	if (!s) {
		s = mem_calloc(1, sizeof(*s));
		if (!s)
			return -1;
		s->cl = cl;
		s->fd = fd;
		if (evloop_io_start(cl->loop, &s->io, fd, ev, on_sock, s) < 0) {
			mem_free(s);
			return -1;
		}
		curl_multi_assign(cl->multi, fd, s);
	} else if (evloop_io_modify(&s->io, ev) < 0) {
		/* The fd was closed and reused under the same number: re-add. */
		evloop_io_stop(&s->io);
		if (evloop_io_start(cl->loop, &s->io, fd, ev, on_sock, s) < 0)
			return -1;
	}
	return 0;
}

static void on_timer(struct evloop_timer *t)
{
	struct curl_loop *cl = t->data;
	int running;

	curl_multi_socket_action(cl->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(cl);
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct curl_loop *cl = userp;

	(void)multi;
	if (timeout_ms < 0) {
		if (cl->timer.active)
			evloop_timer_stop(&cl->timer);
		return 0;
	}
	evloop_timer_start(cl->loop, &cl->timer, (uint64_t)timeout_ms, 0, on_timer, cl);
	return 0;
}

int curl_loop_new(struct evloop *loop, struct curl_loop **out)
{
	static bool global_done;
	struct curl_loop *cl;

	*out = NULL;
	if (!global_done) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return -EIO;
		global_done = true;
	}
	cl = mem_calloc(1, sizeof(*cl));
	if (!cl)
		return -ENOMEM;
	cl->loop = loop;
	cl->multi = curl_multi_init();
	if (!cl->multi) {
		mem_free(cl);
		return -ENOMEM;
	}
	curl_multi_setopt(cl->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(cl->multi, CURLMOPT_SOCKETDATA, cl);
	curl_multi_setopt(cl->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(cl->multi, CURLMOPT_TIMERDATA, cl);
	*out = cl;
	return 0;
}

int curl_loop_add(struct curl_loop *cl, CURL *easy, curl_loop_done done, void *arg)
{
	struct xfer *x = mem_calloc(1, sizeof(*x));

	if (!x)
		return -ENOMEM;
	x->done = done;
	x->arg = arg;
	curl_easy_setopt(easy, CURLOPT_PRIVATE, x);
	if (curl_multi_add_handle(cl->multi, easy) != CURLM_OK) {
		curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
		mem_free(x);
		return -EIO;
	}
	return 0;
}

void curl_loop_remove(struct curl_loop *cl, CURL *easy)
{
	struct xfer *x = NULL;

	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
	curl_multi_remove_handle(cl->multi, easy);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
	mem_free(x);
}

void curl_loop_free(struct curl_loop *cl)
{
	if (!cl)
		return;
	if (cl->timer.active)
		evloop_timer_stop(&cl->timer);
	/* Handles still added belong to their owners, who removed them. */
	curl_multi_cleanup(cl->multi);
	mem_free(cl);
}
