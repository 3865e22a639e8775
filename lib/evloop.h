/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A single-threaded epoll event loop: fd readiness, timers (min-heap),
 * deferred calls, signals (signalfd) and thread-safe wake-ups (eventfd).
 *
 * Watchers are structs embedded in their owner (a connection embeds its
 * evloop_io); the loop borrows them while active and never allocates per
 * event.  Stopping a watcher from inside any callback is safe, including one
 * whose event is still pending in the current batch.
 *
 * Threading: everything runs on the loop's thread except evloop_async_send()
 * and evloop_stop(), which any thread may call.  evloop_signal_start() blocks
 * the signal in the calling thread; call it before starting other threads so
 * they inherit the mask and the signal is only delivered through the loop.
 */
#ifndef SLUICE_EVLOOP_H
#define SLUICE_EVLOOP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>

#include "lib/check.h"

struct evloop;

#define EVLOOP_READ EPOLLIN
#define EVLOOP_WRITE EPOLLOUT

struct evloop_io {
	int fd;
	uint32_t events;
	void (*cb)(struct evloop_io *io, uint32_t revents);
	void *data;
	struct evloop *loop;
	bool active;
};

struct evloop_timer {
	uint64_t due_ms;
	uint64_t repeat_ms;
	size_t heap_idx;
	void (*cb)(struct evloop_timer *t);
	void *data;
	struct evloop *loop;
	bool active;
};

struct evloop_defer {
	struct evloop_defer *next;
	void (*cb)(struct evloop_defer *d);
	void *data;
	bool queued;
};

struct evloop_async {
	struct evloop_async *next;
	void (*cb)(struct evloop_async *a);
	void *data;
	struct evloop *loop;
	atomic_bool pending;
};

struct evloop_signal {
	struct evloop_signal *next;
	int signo;
	void (*cb)(struct evloop_signal *s);
	void *data;
	struct evloop *loop;
};

struct evloop *evloop_new(void);
/* Frees the loop; watchers must have been stopped: one still started is
 * logged as an error (and aborts a -DSLUICE_DEBUG build). */
void evloop_free(struct evloop *l);
/* Watchers started and not stopped (io, timers, queued defers, asyncs,
 * signals), not counting the loop's own. */
size_t evloop_live_watchers(const struct evloop *l);
/* Run until evloop_stop().  0 or a negative errno from epoll. */
SLUICE_MUST_CHECK int evloop_run(struct evloop *l);
/* Run one iteration, waiting at most timeout_ms (-1 = until an event). */
SLUICE_MUST_CHECK int evloop_run_once(struct evloop *l, int timeout_ms);
/* Thread-safe: makes evloop_run() return after the current iteration. */
void evloop_stop(struct evloop *l);
/* Cached monotonic ms at the start of the iteration. */
uint64_t evloop_now(const struct evloop *l);

SLUICE_MUST_CHECK int evloop_io_start(struct evloop *l, struct evloop_io *io, int fd,
				      uint32_t events, void (*cb)(struct evloop_io *, uint32_t),
				      void *data);
SLUICE_MUST_CHECK int evloop_io_modify(struct evloop_io *io, uint32_t events);
void evloop_io_stop(struct evloop_io *io);

/* Fire after after_ms, then every repeat_ms if non-zero.  Restarting an
 * active timer reschedules it. */
void evloop_timer_start(struct evloop *l, struct evloop_timer *t, uint64_t after_ms,
			uint64_t repeat_ms, void (*cb)(struct evloop_timer *), void *data);
void evloop_timer_stop(struct evloop_timer *t);

/* Run cb once at the end of the current iteration (no-op if already queued). */
void evloop_defer(struct evloop *l, struct evloop_defer *d, void (*cb)(struct evloop_defer *),
		  void *data);

/* Always 0: it only links a into the loop (no fd or allocation of its own). */
int evloop_async_start(struct evloop *l, struct evloop_async *a, void (*cb)(struct evloop_async *),
		       void *data);
/* Thread-safe; coalesces: several sends before the callback runs give one call. */
void evloop_async_send(struct evloop_async *a);
void evloop_async_stop(struct evloop_async *a);

SLUICE_MUST_CHECK int evloop_signal_start(struct evloop *l, struct evloop_signal *s, int signo,
					  void (*cb)(struct evloop_signal *), void *data);
void evloop_signal_stop(struct evloop_signal *s);

#endif
