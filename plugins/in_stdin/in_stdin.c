/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Input `stdin`: lines from standard input, for pipelines (`app | sluice-agent`)
 * and tests.  At end of input the last unterminated line is emitted and the
 * input says it is done: when it is the only input the agent then drains
 * (closes batches, delivers the spool) and exits 0, like on SIGTERM.
 *
 * A stream cannot be read again, so its ordinal only has to grow: it starts
 * at the wall clock in nanoseconds (or past the recorded one, if larger) and
 * counts lines from there, so a restart never reuses an ordinal that an
 * output's spool already recorded.
 *
 * A pipe or a terminal is watched by the loop; a regular file (`< file`),
 * which epoll refuses, is read a bounded chunk per loop iteration.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "agent/plugin.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"

static const char *const long_line_modes[] = {"split", "truncate", NULL};

struct in_stdin_conf {
	uint64_t max_line_bytes;
	int long_lines; /* 0 split, 1 truncate */
	uint64_t read_chunk;
};

struct in_stdin {
	const struct in_stdin_conf *conf;
	struct input *in;
	struct evloop *loop;
	const char *id;
	int fd;
	struct source *src;
	struct evloop_io io;
	struct evloop_timer pump; /* regular files: one chunk per iteration */
	bool io_on;
	bool use_timer;
	bool paused;
	bool eof;
	bool discarding; /* truncate mode: rest of a long line */
	uint64_t ordinal;
	uint8_t *buf;
	size_t len, cap;
	uint64_t lines, long_lines, read_bytes;
};

/* clang-format off */
static const struct cfg_option in_stdin_opts[] = {
	{.name = "max_line_bytes", .type = CFG_SIZE,
	 .offset = offsetof(struct in_stdin_conf, max_line_bytes), .def = "1MiB", .min = 256,
	 .max = 64 << 20, .help = "longest line"},
	{.name = "long_lines", .type = CFG_ENUM, .offset = offsetof(struct in_stdin_conf, long_lines),
	 .def = "split", .choices = long_line_modes,
	 .help = "longer lines are split into pieces or truncated (counted)"},
	{.name = "read_chunk", .type = CFG_SIZE, .offset = offsetof(struct in_stdin_conf, read_chunk),
	 .def = "256KiB", .min = 4096, .max = 64 << 20, .help = "bytes per read"},
	CFG_OPT_END,
};
/* clang-format on */

static void emit(struct in_stdin *t, const uint8_t *p, size_t n)
{
	struct event ev;

	if (n > 0 && p[n - 1] == '\r')
		n--;
	if (n == 0)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.ts = clock_wall_ms();
	ev.value = p;
	ev.value_len = n;
	ev.ordinal = ++t->ordinal;
	t->lines++;
	input_emit(t->in, t->src, &ev);
}

/* Emit every complete line in the buffer; keep the rest at its front. */
static void drain_lines(struct in_stdin *t, bool final)
{
	size_t start = 0;

	for (;;) {
		uint8_t *nl = memchr(t->buf + start, '\n', t->len - start);
		size_t n;

		if (!nl)
			break;
		n = (size_t)(nl - (t->buf + start));
		if (t->discarding)
			t->discarding = false;
		else
			emit(t, t->buf + start, n);
		start += n + 1;
	}
	if (t->len - start >= t->conf->max_line_bytes || (final && t->len > start)) {
		if (!final) {
			t->long_lines++;
			if (!t->discarding)
				emit(t, t->buf + start, t->len - start);
			t->discarding = t->conf->long_lines == 1;
		} else if (!t->discarding) {
			emit(t, t->buf + start, t->len - start);
		}
		start = t->len;
	}
	memmove(t->buf, t->buf + start, t->len - start);
	t->len -= start;
}

static void finish(struct in_stdin *t)
{
	t->eof = true;
	drain_lines(t, true);
	if (t->io_on) {
		evloop_io_stop(&t->io);
		t->io_on = false;
	}
	log_info("stdin %s: end of input after %" PRIu64 " lines", t->id, t->lines);
	input_done(t->in);
}

/* One read.  1 when more may follow at once, 0 when it would block or ended. */
static int read_once(struct in_stdin *t)
{
	size_t room = t->cap - t->len;
	ssize_t n;

	if (room > t->conf->read_chunk)
		room = t->conf->read_chunk;
	n = read(t->fd, t->buf + t->len, room);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		log_error("stdin %s: read: %s", t->id, err_str(-errno));
		finish(t);
		return 0;
	}
	if (n == 0) {
		finish(t);
		return 0;
	}
	t->read_bytes += (uint64_t)n;
	t->len += (size_t)n;
	drain_lines(t, false);
	return 1;
}

static void on_pump(struct evloop_timer *tm)
{
	struct in_stdin *t = tm->data;

	if (t->paused || t->eof)
		return;
	if (read_once(t) > 0 && !t->paused)
		evloop_timer_start(t->loop, &t->pump, 0, 0, on_pump, t);
}

static void on_readable(struct evloop_io *io, uint32_t revents)
{
	struct in_stdin *t = io->data;

	(void)revents;
	for (int i = 0; i < 8 && !t->paused && !t->eof; i++)
		if (read_once(t) == 0)
			break;
}

static void in_stdin_exit(void *ctx)
{
	struct in_stdin *t = ctx;

	if (!t)
		return;
	if (t->io_on)
		evloop_io_stop(&t->io);
	if (t->pump.active)
		evloop_timer_stop(&t->pump);
	mem_free(t->buf);
	mem_free(t);
}

static int in_stdin_init(const struct plugin_args *a, void **ctx, struct cfg_error *err)
{
	struct in_stdin *t = mem_calloc(1, sizeof(*t));

	(void)err;
	*ctx = t;
	if (!t)
		return -ENOMEM;
	t->conf = a->conf;
	t->in = a->input;
	t->loop = a->loop;
	t->id = a->id;
	t->fd = STDIN_FILENO;
	return 0;
}

static int watch(struct in_stdin *t)
{
	int rc;

	if (t->use_timer) {
		if (!t->pump.active)
			evloop_timer_start(t->loop, &t->pump, 0, 0, on_pump, t);
		return 0;
	}
	rc = evloop_io_start(t->loop, &t->io, t->fd, EVLOOP_READ, on_readable, t);
	if (rc == -EPERM) {
		/* A regular file or /dev/null: epoll cannot watch it. */
		t->use_timer = true;
		return watch(t);
	}
	if (rc == 0)
		t->io_on = true;
	return rc;
}

static int in_stdin_start(void *ctx)
{
	struct in_stdin *t = ctx;
	const struct source_resume *r = input_resume_find(t->in, "stdin");
	struct source_desc d;
	int fl;

	t->cap = t->conf->max_line_bytes + t->conf->read_chunk;
	t->buf = mem_alloc(t->cap);
	if (!t->buf)
		return -ENOMEM;
	t->ordinal = (uint64_t)clock_wall_ns();
	if (r && r->ordinal >= t->ordinal)
		t->ordinal = r->ordinal + 1;
	memset(&d, 0, sizeof(d));
	d.ident = "stdin";
	d.name = "stdin";
	d.ordinal = t->ordinal;
	t->src = input_source_open(t->in, &d);
	if (!t->src)
		return -ENOMEM;
	fl = fcntl(t->fd, F_GETFL);
	if (fl < 0) {
		log_warn("stdin %s: standard input is closed", t->id);
		finish(t);
		return 0;
	}
	if (fcntl(t->fd, F_SETFL, fl | O_NONBLOCK) != 0)
		log_warn("stdin %s: cannot make stdin non-blocking: %s", t->id, err_str(-errno));
	return watch(t);
}

static void in_stdin_pause(void *ctx)
{
	struct in_stdin *t = ctx;

	t->paused = true;
	if (t->io_on) {
		evloop_io_stop(&t->io);
		t->io_on = false;
	}
	if (t->pump.active)
		evloop_timer_stop(&t->pump);
}

static void in_stdin_resume(void *ctx)
{
	struct in_stdin *t = ctx;

	t->paused = false;
	if (!t->eof && t->buf)
		watch(t);
}

static size_t in_stdin_metrics(void *ctx, struct plugin_metric *m, size_t max)
{
	struct in_stdin *t = ctx;
	const struct plugin_metric v[] = {
		{"sluice_agent_stdin_read_bytes_total", "counter",
		 "Bytes read from standard input.", t->read_bytes, NULL, NULL},
		{"sluice_agent_stdin_long_lines_total", "counter",
		 "Lines longer than max_line_bytes (split or truncated).", t->long_lines, NULL,
		 NULL},
		{"sluice_agent_stdin_eof", "gauge", "1 once standard input ended.", t->eof, NULL,
		 NULL},
	};
	return plugin_metrics_copy(m, max, v, sizeof(v) / sizeof(v[0]));
}

const struct plugin in_stdin_plugin = {
	.name = "stdin",
	.kind = PLUGIN_INPUT,
	.description = "lines from standard input; at its end the agent drains and exits",
	.options = in_stdin_opts,
	.conf_size = sizeof(struct in_stdin_conf),
	.init = in_stdin_init,
	.start = in_stdin_start,
	.pause = in_stdin_pause,
	.resume = in_stdin_resume,
	.metrics = in_stdin_metrics,
	.exit = in_stdin_exit,
};
