/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Event loop implementation.  One epoll set holds the user fds plus two
 * internal ones: an eventfd for async wake-ups and a signalfd.  Their
 * evloop_io watchers live inside struct evloop, so dispatch is uniform.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/err.h"
#include "lib/evloop.h"
#include "lib/log.h"
#include "lib/mem.h"

#define MAX_EVENTS 256

struct evloop {
	int epfd;
	uint64_t now;
	atomic_bool stop;

	struct epoll_event events[MAX_EVENTS];
	int nev;
	int cur;
	size_t nio; /* active io watchers, the loop's own included */

	struct evloop_timer **heap;
	size_t nheap;
	size_t capheap;

	struct evloop_defer *defer_head;
	struct evloop_defer *defer_tail;

	struct evloop_io async_io;
	struct evloop_async *asyncs;

	struct evloop_io signal_io;
	struct evloop_signal *signals;
	sigset_t sigmask;
};

static void async_ready(struct evloop_io *io, uint32_t revents);

struct evloop *evloop_new(void)
{
	struct evloop *l = mem_calloc(1, sizeof(*l));
	int efd;

	if (!l)
		return NULL;
	l->epfd = -1;
	l->async_io.fd = -1;
	l->signal_io.fd = -1;
	sigemptyset(&l->sigmask);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		goto fail;
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (efd < 0)
		goto fail;
	if (evloop_io_start(l, &l->async_io, efd, EVLOOP_READ, async_ready, l) < 0) {
		close(efd);
		goto fail;
	}
	l->now = clock_mono_ms();
	return l;
fail:
	evloop_free(l);
	return NULL;
}

size_t evloop_live_watchers(const struct evloop *l)
{
	size_t n = l->nio + l->nheap;

	/* the loop's own eventfd and signalfd watchers are not the caller's */
	n -= l->async_io.active + l->signal_io.active;
	for (const struct evloop_defer *d = l->defer_head; d; d = d->next)
		n++;
	for (const struct evloop_async *a = l->asyncs; a; a = a->next)
		n++;
	for (const struct evloop_signal *s = l->signals; s; s = s->next)
		n++;
	return n;
}

void evloop_free(struct evloop *l)
{
	size_t live;

	if (!l)
		return;
	/* A watcher still started when its loop goes is a lifetime bug of its
	 * owner (it would be used after this free); say so, and stop a debug
	 * build there. */
	live = evloop_live_watchers(l);
	if (live) {
		log_error("evloop: freed with %zu live watchers (%zu io, %zu timers)", live,
			  l->nio - l->async_io.active - l->signal_io.active, l->nheap);
#ifdef SLUICE_DEBUG
		abort();
#endif
	}
	if (l->async_io.fd >= 0)
		close(l->async_io.fd);
	if (l->signal_io.fd >= 0)
		close(l->signal_io.fd);
	if (l->epfd >= 0)
		close(l->epfd);
	mem_free(l->heap);
	mem_free(l);
}

uint64_t evloop_now(const struct evloop *l)
{
	return l->now;
}

/* ---------------------------------------------------------------- io */

int evloop_io_start(struct evloop *l, struct evloop_io *io, int fd, uint32_t events,
		    void (*cb)(struct evloop_io *, uint32_t), void *data)
{
	struct epoll_event ev;

	/* starting a live watcher again would orphan its first registration */
	SLUICE_ASSERT(!io->active);
	memset(&ev, 0, sizeof(ev));
	io->fd = fd;
	io->events = events;
	io->cb = cb;
	io->data = data;
	io->loop = l;
	ev.events = events;
	ev.data.ptr = io;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
		return -errno;
	if (!io->active)
		l->nio++;
	io->active = true;
	return 0;
}

int evloop_io_modify(struct evloop_io *io, uint32_t events)
{
	struct epoll_event ev;

	if (!io->active)
		return -EINVAL;
	if (io->events == events)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = io;
	if (epoll_ctl(io->loop->epfd, EPOLL_CTL_MOD, io->fd, &ev) != 0)
		return -errno;
	io->events = events;
	return 0;
}

void evloop_io_stop(struct evloop_io *io)
{
	struct evloop *l = io->loop;

	if (!io->active)
		return;
	io->active = false;
	l->nio--;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, NULL);
	/* Forget events for this watcher still pending in the current batch. */
	for (int i = l->cur + 1; i < l->nev; i++)
		if (l->events[i].data.ptr == io)
			l->events[i].data.ptr = NULL;
}

/* ---------------------------------------------------------------- timers */

static bool heap_less(const struct evloop_timer *a, const struct evloop_timer *b)
{
	return a->due_ms < b->due_ms;
}

static void heap_set(struct evloop *l, size_t i, struct evloop_timer *t)
{
	l->heap[i] = t;
	t->heap_idx = i;
}

static void heap_up(struct evloop *l, size_t i)
{
	struct evloop_timer *t = l->heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!heap_less(t, l->heap[parent]))
			break;
		heap_set(l, i, l->heap[parent]);
		i = parent;
	}
	heap_set(l, i, t);
}

static void heap_down(struct evloop *l, size_t i)
{
	struct evloop_timer *t = l->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= l->nheap)
			break;
		if (c + 1 < l->nheap && heap_less(l->heap[c + 1], l->heap[c]))
			c++;
		if (!heap_less(l->heap[c], t))
			break;
		heap_set(l, i, l->heap[c]);
		i = c;
	}
	heap_set(l, i, t);
}

void evloop_timer_stop(struct evloop_timer *t)
{
	struct evloop *l = t->loop;
	size_t i;

	if (!t->active)
		return;
	t->active = false;
	i = t->heap_idx;
	SLUICE_ASSERT(i < l->nheap && l->heap[i] == t);
	l->nheap--;
	if (i == l->nheap)
		return;
	heap_set(l, i, l->heap[l->nheap]);
	heap_down(l, i);
	heap_up(l, i);
}

static void heap_insert(struct evloop *l, struct evloop_timer *t)
{
	if (l->nheap == l->capheap) {
		size_t cap = l->capheap ? 2 * l->capheap : 64;
		struct evloop_timer **h = mem_realloc(l->heap, cap * sizeof(*h));

		if (!h)
			abort(); /* a lost timer would hang the daemon silently */
		l->heap = h;
		l->capheap = cap;
	}
	t->active = true;
	heap_set(l, l->nheap++, t);
	heap_up(l, t->heap_idx);
	SLUICE_ASSERT(l->heap[t->heap_idx] == t && !heap_less(t, l->heap[0]));
}

void evloop_timer_start(struct evloop *l, struct evloop_timer *t, uint64_t after_ms,
			uint64_t repeat_ms, void (*cb)(struct evloop_timer *), void *data)
{
	if (t->active)
		evloop_timer_stop(t);
	t->loop = l;
	t->cb = cb;
	t->data = data;
	t->repeat_ms = repeat_ms;
	t->due_ms = clock_mono_ms() + after_ms;
	heap_insert(l, t);
}

static void timers_run(struct evloop *l)
{
	while (l->nheap > 0 && l->heap[0]->due_ms <= l->now) {
		struct evloop_timer *t = l->heap[0];

		evloop_timer_stop(t);
		if (t->repeat_ms) {
			uint64_t next = t->due_ms + t->repeat_ms;

			if (next <= l->now)
				next = l->now + t->repeat_ms; /* do not replay missed ticks */
			t->due_ms = next;
			heap_insert(l, t);
		}
		t->cb(t);
	}
}

/* ---------------------------------------------------------------- defer */

void evloop_defer(struct evloop *l, struct evloop_defer *d, void (*cb)(struct evloop_defer *),
		  void *data)
{
	if (d->queued)
		return;
	d->cb = cb;
	d->data = data;
	d->next = NULL;
	d->queued = true;
	if (l->defer_tail)
		l->defer_tail->next = d;
	else
		l->defer_head = d;
	l->defer_tail = d;
}

static void defers_run(struct evloop *l)
{
	/* Only what was queued before this pass; new ones run next iteration. */
	struct evloop_defer *d = l->defer_head;

	l->defer_head = NULL;
	l->defer_tail = NULL;
	while (d) {
		struct evloop_defer *next = d->next;

		d->queued = false;
		d->cb(d);
		d = next;
	}
}

/* ---------------------------------------------------------------- async */

static void async_ready(struct evloop_io *io, uint32_t revents)
{
	struct evloop *l = io->data;
	uint64_t v;

	(void)revents;
	while (read(io->fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
		;
	for (struct evloop_async *a = l->asyncs; a;) {
		struct evloop_async *next = a->next;

		if (atomic_exchange(&a->pending, false))
			a->cb(a);
		a = next;
	}
}

int evloop_async_start(struct evloop *l, struct evloop_async *a, void (*cb)(struct evloop_async *),
		       void *data)
{
	a->cb = cb;
	a->data = data;
	a->loop = l;
	atomic_store(&a->pending, false);
	a->next = l->asyncs;
	l->asyncs = a;
	return 0;
}

void evloop_async_send(struct evloop_async *a)
{
	uint64_t one = 1;

	if (atomic_exchange(&a->pending, true))
		return;
	if (write(a->loop->async_io.fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is saturated, a wake-up is already due. */
	}
}

void evloop_async_stop(struct evloop_async *a)
{
	struct evloop_async **pp = &a->loop->asyncs;

	while (*pp && *pp != a)
		pp = &(*pp)->next;
	if (*pp)
		*pp = a->next;
}

void evloop_stop(struct evloop *l)
{
	uint64_t one = 1;

	atomic_store(&l->stop, true);
	if (write(l->async_io.fd, &one, sizeof(one)) < 0) {
		/* saturated counter: already awake */
	}
}

/* ---------------------------------------------------------------- signals */

static void signal_ready(struct evloop_io *io, uint32_t revents)
{
	struct evloop *l = io->data;
	struct signalfd_siginfo si;

	(void)revents;
	while (read(io->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		for (struct evloop_signal *s = l->signals; s;) {
			struct evloop_signal *next = s->next;

			if (s->signo == (int)si.ssi_signo)
				s->cb(s);
			s = next;
		}
	}
}

int evloop_signal_start(struct evloop *l, struct evloop_signal *s, int signo,
			void (*cb)(struct evloop_signal *), void *data)
{
	sigset_t one;
	int fd;

	s->signo = signo;
	s->cb = cb;
	s->data = data;
	s->loop = l;
	sigaddset(&l->sigmask, signo);
	sigemptyset(&one);
	sigaddset(&one, signo);
	if (pthread_sigmask(SIG_BLOCK, &one, NULL) != 0)
		return -EINVAL;
	fd = signalfd(l->signal_io.fd, &l->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (l->signal_io.fd < 0) {
		int rc = evloop_io_start(l, &l->signal_io, fd, EVLOOP_READ, signal_ready, l);

		if (rc < 0) {
			close(fd);
			return rc;
		}
	}
	s->next = l->signals;
	l->signals = s;
	return 0;
}

void evloop_signal_stop(struct evloop_signal *s)
{
	struct evloop_signal **pp = &s->loop->signals;

	while (*pp && *pp != s)
		pp = &(*pp)->next;
	if (*pp)
		*pp = s->next;
}

/* ---------------------------------------------------------------- run */

int evloop_run_once(struct evloop *l, int timeout_ms)
{
	int n;

	if (l->defer_head)
		timeout_ms = 0;
	if (l->nheap > 0) {
		uint64_t now = clock_mono_ms(), due = l->heap[0]->due_ms;
		int t = due <= now ? 0 : (due - now > 60000 ? 60000 : (int)(due - now));

		if (timeout_ms < 0 || t < timeout_ms)
			timeout_ms = t;
	}
	n = epoll_wait(l->epfd, l->events, MAX_EVENTS, timeout_ms);
	if (n < 0) {
		if (errno == EINTR)
			n = 0;
		else
			return -errno;
	}
	l->now = clock_mono_ms();
	l->nev = n;
	for (l->cur = 0; l->cur < l->nev; l->cur++) {
		struct evloop_io *io = l->events[l->cur].data.ptr;

		if (io && io->active)
			io->cb(io, l->events[l->cur].events);
	}
	l->nev = 0;
	l->cur = 0;
	l->now = clock_mono_ms();
	timers_run(l);
	defers_run(l);
	return 0;
}

int evloop_run(struct evloop *l)
{
	int rc = 0;

	atomic_store(&l->stop, false);
	while (!atomic_load(&l->stop)) {
		rc = evloop_run_once(l, -1);
		if (rc < 0)
			break;
	}
	return rc;
}
