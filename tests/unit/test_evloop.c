/* SPDX-License-Identifier: Apache-2.0 */
/* Event loop: io readiness, timer order and repeat, defer, cross-thread
 * async, signals, and stopping watchers from inside callbacks. */
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/evloop.h"
#include "tests/unit/unit.h"

static int order[16];
static int norder;

static void timer_cb(struct evloop_timer *t)
{
	order[norder++] = (int)(intptr_t)t->data;
	if (norder == 3)
		evloop_stop(t->loop);
}

static void test_timers_fire_in_order(void)
{
	struct evloop *l = evloop_new();
	struct evloop_timer a = {0}, b = {0}, c = {0}, d = {0};

	norder = 0;
	evloop_timer_start(l, &a, 30, 0, timer_cb, (void *)(intptr_t)3);
	evloop_timer_start(l, &b, 10, 0, timer_cb, (void *)(intptr_t)1);
	evloop_timer_start(l, &c, 20, 0, timer_cb, (void *)(intptr_t)2);
	evloop_timer_start(l, &d, 15, 0, timer_cb, (void *)(intptr_t)9);
	evloop_timer_stop(&d); /* stopped timers never fire */
	CU_ASSERT_EQUAL(evloop_run(l), 0);
	CU_ASSERT_EQUAL(norder, 3);
	CU_ASSERT(order[0] == 1 && order[1] == 2 && order[2] == 3);
	evloop_free(l);
}

static int ticks;

static void tick_cb(struct evloop_timer *t)
{
	if (++ticks == 5) {
		evloop_timer_stop(t);
		evloop_stop(t->loop);
	}
}

static void test_repeating_timer(void)
{
	struct evloop *l = evloop_new();
	struct evloop_timer t = {0};
	uint64_t start = clock_mono_ms();

	ticks = 0;
	evloop_timer_start(l, &t, 5, 5, tick_cb, NULL);
	evloop_run(l);
	CU_ASSERT_EQUAL(ticks, 5);
	CU_ASSERT(clock_mono_ms() - start >= 20);
	evloop_free(l);
}

struct pipe_ctx {
	struct evloop_io io[2];
	int fds[2][2];
	int reads;
};

static void read_cb(struct evloop_io *io, uint32_t revents)
{
	struct pipe_ctx *pc = io->data;
	char c;

	CU_ASSERT(revents & EVLOOP_READ);
	CU_ASSERT_EQUAL(read(io->fd, &c, 1), 1);
	pc->reads++;
	/* stop both watchers: the other one's pending event must not fire */
	evloop_io_stop(&pc->io[0]);
	evloop_io_stop(&pc->io[1]);
	evloop_stop(io->loop);
}

static void test_io_stop_inside_callback(void)
{
	struct evloop *l = evloop_new();
	struct pipe_ctx pc;

	memset(&pc, 0, sizeof(pc));
	for (int i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL_FATAL(pipe(pc.fds[i]), 0);
		CU_ASSERT_EQUAL(
			evloop_io_start(l, &pc.io[i], pc.fds[i][0], EVLOOP_READ, read_cb, &pc), 0);
		CU_ASSERT_EQUAL(write(pc.fds[i][1], "x", 1), 1);
	}
	evloop_run(l);
	CU_ASSERT_EQUAL(pc.reads, 1);
	for (int i = 0; i < 2; i++) {
		close(pc.fds[i][0]);
		close(pc.fds[i][1]);
	}
	evloop_free(l);
}

static int deferred;

static void defer_cb(struct evloop_defer *d)
{
	deferred++;
	evloop_stop(d->data);
}

static void test_defer_runs_once(void)
{
	struct evloop *l = evloop_new();
	struct evloop_defer d = {0};

	deferred = 0;
	evloop_defer(l, &d, defer_cb, l);
	evloop_defer(l, &d, defer_cb, l); /* already queued: no-op */
	evloop_run(l);
	CU_ASSERT_EQUAL(deferred, 1);
	evloop_free(l);
}

static atomic_int async_calls;

static void async_cb(struct evloop_async *a)
{
	if (atomic_fetch_add(&async_calls, 1) + 1 >= 1 && *(atomic_bool *)a->data)
		evloop_stop(a->loop);
}

static struct evloop_async the_async;
static atomic_bool sender_done;

static void *sender(void *arg)
{
	(void)arg;
	for (int i = 0; i < 1000; i++)
		evloop_async_send(&the_async);
	atomic_store(&sender_done, true);
	evloop_async_send(&the_async);
	return NULL;
}

static void test_async_from_thread(void)
{
	struct evloop *l = evloop_new();
	pthread_t th;

	atomic_store(&async_calls, 0);
	atomic_store(&sender_done, false);
	evloop_async_start(l, &the_async, async_cb, &sender_done);
	pthread_create(&th, NULL, sender, NULL);
	evloop_run(l);
	pthread_join(th, NULL);
	CU_ASSERT(atomic_load(&async_calls) >= 1);
	CU_ASSERT(atomic_load(&async_calls) <= 1001); /* coalesced */
	evloop_async_stop(&the_async);
	evloop_free(l);
}

static int got_signal;

static void sig_cb(struct evloop_signal *s)
{
	got_signal = s->signo;
	evloop_stop(s->loop);
}

static void test_signal(void)
{
	struct evloop *l = evloop_new();
	struct evloop_signal s = {0};

	got_signal = 0;
	CU_ASSERT_EQUAL_FATAL(evloop_signal_start(l, &s, SIGUSR1, sig_cb, NULL), 0);
	kill(getpid(), SIGUSR1);
	evloop_run(l);
	CU_ASSERT_EQUAL(got_signal, SIGUSR1);
	evloop_signal_stop(&s);
	evloop_free(l);
}

static int many_fired;
static uint64_t many_last_due;
static bool many_in_order = true;

static void many_cb(struct evloop_timer *t)
{
	if (t->due_ms < many_last_due)
		many_in_order = false;
	many_last_due = t->due_ms;
	many_fired++;
	CU_ASSERT((intptr_t)t->data & 1); /* the even ones were stopped */
}

static void test_many_timers(void)
{
	static struct evloop_timer ts[1000];
	struct evloop *l = evloop_new();
	uint64_t deadline = clock_mono_ms() + 5000;

	memset(ts, 0, sizeof(ts));
	for (int i = 0; i < 1000; i++)
		evloop_timer_start(l, &ts[i], (uint64_t)((i * 7919) % 50), 0, many_cb,
				   (void *)(intptr_t)i);
	for (int i = 0; i < 1000; i += 2)
		evloop_timer_stop(&ts[i]);
	while (many_fired < 500 && clock_mono_ms() < deadline)
		evloop_run_once(l, 10);
	CU_ASSERT_EQUAL(many_fired, 500);
	CU_ASSERT(many_in_order);
	evloop_free(l);
}

static void noop_io(struct evloop_io *io, uint32_t revents)
{
	(void)io, (void)revents;
}

static void noop_timer(struct evloop_timer *t)
{
	(void)t;
}

static void noop_async(struct evloop_async *a)
{
	(void)a;
}

static void noop_defer(struct evloop_defer *d)
{
	(void)d;
}

/* evloop_free() reports watchers still started; the count sees every kind
 * and not the loop's own eventfd. */
static void test_live_watchers(void)
{
	struct evloop *l = evloop_new();
	struct evloop_io io = {0};
	struct evloop_timer t = {0};
	struct evloop_async a = {0};
	struct evloop_defer d = {0};
	int fds[2];

	CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
	CU_ASSERT_EQUAL(evloop_live_watchers(l), 0);
	CU_ASSERT_EQUAL(evloop_io_start(l, &io, fds[0], EVLOOP_READ, noop_io, NULL), 0);
	evloop_timer_start(l, &t, 60000, 0, noop_timer, NULL);
	evloop_async_start(l, &a, noop_async, NULL);
	evloop_defer(l, &d, noop_defer, NULL);
	CU_ASSERT_EQUAL(evloop_live_watchers(l), 4);
	evloop_io_stop(&io);
	evloop_io_stop(&io); /* a second stop is a no-op */
	CU_ASSERT_EQUAL(evloop_live_watchers(l), 3);
	evloop_timer_stop(&t);
	evloop_async_stop(&a);
	CU_ASSERT_EQUAL(evloop_live_watchers(l), 1);
	evloop_run_once(l, 0); /* runs the defer */
	CU_ASSERT_EQUAL(evloop_live_watchers(l), 0);
	evloop_free(l);
	close(fds[0]);
	close(fds[1]);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_timers_fire_in_order),
		UNIT_TEST(test_repeating_timer),
		UNIT_TEST(test_io_stop_inside_callback),
		UNIT_TEST(test_defer_runs_once),
		UNIT_TEST(test_async_from_thread),
		UNIT_TEST(test_signal),
		UNIT_TEST(test_many_timers),
		UNIT_TEST(test_live_watchers),
		UNIT_END,
	};

	return unit_run("evloop", tests);
}
