/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading one tailed file: large preads into the input's shared buffer,
 * memchr line splitting, multi-line events, over-long lines, fingerprints
 * and the position meta.
 *
 * Nothing is kept per file between reads except a pending multi-line event
 * (and the kept head of a line being truncated): an incomplete last line
 * stays in the file and is read again with the next chunk, so 10,000 idle
 * files cost no buffers.  A position (ordinal) only ever moves to the end of
 * something fully handed on, so after a crash the file is read again from
 * the start of the first line that was not.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/crc32c.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/mem.h"
#include "plugins/in_tail/tail.h"
#include "plugins/in_tail/tail_cri.h"

#define HDR(k, v)                                                                               \
	((struct record_header){(const uint8_t *)(k), (int32_t)strlen(k), (const uint8_t *)(v), \
				(int32_t)strlen(v)})

/* format: cri: the stream, and what kubelet's file name says. */
static size_t cri_headers(const struct in_tail *t, const struct tail_file *f, int stream,
			  struct record_header *h)
{
	size_t n = 0;

	if (t->conf->format == FORMAT_NONE)
		return 0;
	h[n++] = HDR("stream", stream == CRI_STDERR ? "stderr" : "stdout");
	if (f->k8s) {
		h[n++] = HDR("namespace", f->k8s->ns);
		h[n++] = HDR("pod", f->k8s->pod);
		h[n++] = HDR("container", f->k8s->container);
		h[n++] = HDR("container_id", f->k8s->id);
	}
	return n;
}

static void emit(struct in_tail *t, struct tail_file *f, const void *v, size_t n, uint64_t ordinal)
{
	struct record_header h[5];
	struct event ev;

	memset(&ev, 0, sizeof(ev));
	ev.ts = t->conf->format != FORMAT_NONE ? f->line_ts : t->now_wall;
	ev.value = v;
	ev.value_len = n;
	ev.ordinal = ordinal;
	ev.nheaders = cri_headers(t, f, f->line_stream, h);
	ev.headers = ev.nheaders ? h : NULL;
	input_emit(t->in, f->src, &ev);
}

/* A multi-line event: stamped with the read of its first line. */
static void emit_event(struct in_tail *t, struct tail_file *f, const void *v, size_t n)
{
	struct record_header h[5];
	struct event ev;

	memset(&ev, 0, sizeof(ev));
	ev.ts = f->ev_ts;
	ev.read_ms = f->ev_read_ms;
	ev.value = v;
	ev.value_len = n;
	ev.ordinal = f->event_end;
	ev.nheaders = cri_headers(t, f, f->ev_stream, h);
	ev.headers = ev.nheaders ? h : NULL;
	input_emit(t->in, f->src, &ev);
}

/* flush_ms means "no more lines came for this long": while the file still
 * has bytes not read yet (the input is paused by a full spool, or reading
 * is behind on a loaded machine) the next line may continue the event, so
 * it waits another flush_ms instead of going out split.  An unfinished last
 * line already read does not hold it. */
static void on_mflush(struct evloop_timer *tm)
{
	struct tail_file *f = tm->data;
	struct in_tail *t = f->t;
	struct stat st;

	if (t->paused || (fstat(f->fd, &st) == 0 && (uint64_t)st.st_size > f->read_end)) {
		evloop_timer_start(t->loop, &f->mflush, (uint64_t)t->conf->multiline.flush_ms, 0,
				   on_mflush, f);
		return;
	}
	t->now_wall = clock_wall_ms();
	tail_file_flush_event(t, f);
}

void tail_file_flush_event(struct in_tail *t, struct tail_file *f)
{
	if (f->mflush.active)
		evloop_timer_stop(&f->mflush);
	if (!f->event_open)
		return;
	f->event_open = false;
	if (f->ev_borrowed) {
		f->ev_borrowed = false;
		emit_event(t, f, f->ev_ptr, f->ev_len);
	} else {
		emit_event(t, f, f->event.data, f->event.len);
	}
	t->st.multiline_events++;
	/* Idle files hold no buffers. */
	if (f->event.cap > 65536)
		buf_release(&f->event);
	else
		buf_reset(&f->event);
}

/* Copy a borrowed event into its own buffer (the read buffer is about to be
 * reused).  False when it cannot be held: it was handed on instead. */
static bool event_own(struct in_tail *t, struct tail_file *f)
{
	if (!f->event_open || !f->ev_borrowed)
		return true;
	buf_reset(&f->event);
	if (buf_append(&f->event, f->ev_ptr, f->ev_len) < 0) {
		tail_file_flush_event(t, f);
		return false;
	}
	f->ev_borrowed = false;
	return true;
}

/* One physical line [p, p+n) that ends at file offset end. */
static void on_line(struct in_tail *t, struct tail_file *f, const uint8_t *p, size_t n,
		    uint64_t end)
{
	bool start;

	if (!t->multiline) {
		if (n == 0)
			input_source_advance(t->in, f->src, end);
		else
			emit(t, f, p, n, end);
		return;
	}
	start = tail_start_match(&t->start, p, n);
	if (f->event_open && !start) {
		size_t have = f->ev_borrowed ? f->ev_len : f->event.len;

		if (have + 1 + n <= t->conf->max_line_bytes) {
			f->event_end = end;
			/* Lines next to each other in the buffer already read as
			 * the joined event: just widen it. */
			if (f->ev_borrowed && p == f->ev_ptr + f->ev_len + 1) {
				f->ev_len += 1 + n;
				return;
			}
			if (event_own(t, f) && buf_reserve(&f->event, 1 + n) == 0) {
				/* reserved: neither append can fail */
				SLUICE_IGNORE(buf_append_u8(&f->event, '\n'));
				SLUICE_IGNORE(buf_append(&f->event, p, n));
				return;
			}
			/* no memory to join: the event goes out as it is */
		} else {
			t->st.long_split++; /* the event is full: what follows starts another */
		}
	}
	tail_file_flush_event(t, f);
	if (n == 0 && !start) {
		input_source_advance(t->in, f->src, end);
		return;
	}
	f->ev_ptr = p;
	f->ev_len = n;
	f->ev_borrowed = true;
	f->event_end = end;
	f->ev_ts = t->conf->format != FORMAT_NONE ? f->line_ts : t->now_wall;
	f->ev_stream = f->line_stream;
	f->ev_read_ms = evloop_now(t->loop);
	f->event_open = true;
}

/* A complete line longer than max_line_bytes. */
static void long_line(struct in_tail *t, struct tail_file *f, const uint8_t *p, size_t n,
		      uint64_t end)
{
	size_t max = t->conf->max_line_bytes;
	uint64_t start = end - n - 1;

	switch (t->conf->long_lines) {
	case LONG_SPLIT:
		t->st.long_split++;
		for (size_t o = 0; o < n; o += max) {
			size_t k = n - o < max ? n - o : max;

			on_line(t, f, p + o, k, o + k == n ? end : start + o + k);
		}
		break;
	case LONG_TRUNCATE:
		t->st.long_truncated++;
		on_line(t, f, p, max, end);
		break;
	default:
		t->st.long_skipped++;
		input_source_advance(t->in, f->src, end);
		break;
	}
}

/* format: cri and docker.  Pieces (P; docker: a log without its newline)
 * wait in f->part for their F; a position never
 * passes a waiting piece.  A line of the other stream arriving between the
 * pieces of one sends the pieces on first, as a record of their own: one
 * position per file cannot keep both streams exactly once otherwise, and a
 * split line is better than a repeated or lost one (counted). */

/* The pieces of stream s go out as one line ending at ord (the start of
 * what comes after them); it may start a multi-line event that borrows it,
 * so that is copied before the buffer is reused. */
static void cri_part_out(struct in_tail *t, struct tail_file *f, int s, uint64_t ord)
{
	f->line_stream = s;
	on_line(t, f, f->part[s].data, f->part[s].len, ord);
	event_own(t, f);
	buf_reset(&f->part[s]);
	f->part_open[s] = false;
}

static void cri_line(struct in_tail *t, struct tail_file *f, const uint8_t *p, size_t n,
		     uint64_t start, uint64_t after)
{
	struct tail_cri_line c;
	bool docker = t->conf->format == FORMAT_DOCKER;
	int s;

	/* docker: c.log is in t->docker, reused by the next line */
	if ((docker ? tail_docker_parse(p, n, &t->docker, &c) : tail_cri_parse(p, n, &c)) < 0) {
		t->st.cri_invalid++;
		for (s = CRI_STDOUT; s <= CRI_STDERR; s++)
			if (f->part_open[s])
				cri_part_out(t, f, s, start);
		f->line_ts = t->now_wall;
		f->line_stream = CRI_STDOUT;
		on_line(t, f, p, n, after);
		return;
	}
	s = c.stream;
	if (f->part_open[!s]) {
		t->st.cri_interleaved++;
		cri_part_out(t, f, !s, start);
	}
	f->line_ts = c.ts;
	if (!c.partial && !f->part_open[s]) {
		f->line_stream = s;
		on_line(t, f, c.log, c.log_len, after);
		if (docker)
			event_own(t, f); /* a pending event must not borrow t->docker */
		return;
	}
	event_own(t, f); /* the pending event must not borrow what follows */
	if (f->part_open[s] && f->part[s].len + c.log_len > t->conf->max_line_bytes) {
		/* Longer than a line may be: what is held goes out as a piece. */
		t->st.long_split++;
		cri_part_out(t, f, s, start);
	}
	f->part_open[s] = true;
	if (buf_append(&f->part[s], c.log, c.log_len) < 0)
		t->st.long_skipped++; /* out of memory: the piece is lost, and counted */
	if (!c.partial) {
		t->st.cri_joined++;
		cri_part_out(t, f, s, after);
	}
}

void tail_cri_final(struct in_tail *t, struct tail_file *f, uint64_t end)
{
	for (int s = CRI_STDOUT; s <= CRI_STDERR; s++)
		if (f->part_open[s])
			cri_part_out(t, f, s, end);
}

/* The rest of a line too long to hold: split what is here, or remember its
 * head (truncate) and skip up to its newline. */
static size_t long_partial(struct in_tail *t, struct tail_file *f, const uint8_t *p, size_t left,
			   uint64_t base)
{
	size_t max = t->conf->max_line_bytes, used = 0;

	switch (t->conf->long_lines) {
	case LONG_SPLIT:
		t->st.long_split++;
		while (left - used >= max) {
			on_line(t, f, p + used, max, base + used + max);
			used += max;
		}
		return used;
	case LONG_TRUNCATE:
		tail_file_flush_event(t, f);
		/* Keep the head; it goes out when the newline is found, with
		 * the position after it, so a crash meanwhile repeats the
		 * whole decision instead of splitting the line. */
		buf_reset(&f->event);
		if (buf_append(&f->event, p, max) < 0)
			t->st.long_skipped++; /* no memory for the head: all of it is skipped */
		f->discarding = true;
		t->st.long_truncated++;
		return left;
	default:
		f->discarding = true;
		t->st.long_skipped++;
		return left;
	}
}

/* Past the newline that ends a discarded line. */
static void discard_done(struct in_tail *t, struct tail_file *f, uint64_t end)
{
	f->discarding = false;
	if (t->conf->long_lines == LONG_TRUNCATE && f->event.len) {
		struct buf head = f->event;

		/* on_line may start a multi-line event in f->event. */
		buf_init(&f->event, t->conf->max_line_bytes);
		on_line(t, f, head.data, head.len, end);
		event_own(t, f); /* it may borrow head */
		buf_release(&head);
	} else {
		input_source_advance(t->in, f->src, end);
	}
}

/* copytruncate shows as a size below our offset, or, when the writer has
 * already written past it again, as different first bytes.  Checked before
 * every read past the fingerprint, so new contents are never read as the
 * continuation of the old ones. */
static bool rewritten(struct in_tail *t, struct tail_file *f)
{
	uint32_t fp = 0, len = 0;
	struct stat st;

	if (fstat(f->fd, &st) != 0)
		return false;
	if ((uint64_t)st.st_size < f->off) {
		tail_truncated(t, f, (uint64_t)st.st_size);
		return true;
	}
	if (f->fp_len != 0 && f->off >= f->fp_len &&
	    tail_fingerprint(f->fd, f->fp_len, &fp, &len) == 0 &&
	    (len != f->fp_len || fp != f->fp)) {
		tail_truncated(t, f, (uint64_t)st.st_size);
		return true;
	}
	/* The same contents: what a truncation would lose from now on. */
	if ((uint64_t)st.st_size > f->size) {
		f->size = (uint64_t)st.st_size;
		f->changed_ms = evloop_now(t->loop);
	}
	return false;
}

void tail_file_read(struct in_tail *t, struct tail_file *f, bool *more)
{
	const uint8_t *p, *end, *nl;
	uint64_t base;
	ssize_t n;

	*more = false;
	if (!f->rotated && rewritten(t, f))
		return; /* it is queued again, from byte 0 */
	base = f->off;
	do {
		n = pread(f->fd, t->rbuf, t->rbuf_size, (off_t)base);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		log_write_rl(&t->rl, 10000, LOG_LVL_ERROR, "tail %s: read %s: %s", t->id, f->path,
			     err_str(-errno));
		return;
	}
	if (n == 0) {
		f->eof = true;
		tail_idle_drained(t, f);
		return;
	}
	tail_lru_touch(t, f);
	f->read_end = base + (uint64_t)n;
	if (base + (uint64_t)n > f->size) {
		f->size = base + (uint64_t)n;
		f->changed_ms = evloop_now(t->loop);
	}
	t->now_wall = clock_wall_ms();
	t->st.read_bytes += (uint64_t)n;
	p = t->rbuf;
	end = t->rbuf + n;
	if (f->discarding) {
		nl = memchr(p, '\n', (size_t)n);
		if (!nl) {
			f->off = base + (uint64_t)n;
			*more = (size_t)n == t->rbuf_size;
			event_own(t, f);
			return;
		}
		p = nl + 1;
		discard_done(t, f, base + (uint64_t)(p - t->rbuf));
	}
	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		size_t len = (size_t)(nl - p);
		uint64_t after = base + (uint64_t)(nl + 1 - t->rbuf);

		if (len > t->conf->max_line_bytes)
			long_line(t, f, p, len, after);
		else if (t->conf->format != FORMAT_NONE)
			cri_line(t, f, p, len, base + (uint64_t)(p - t->rbuf), after);
		else
			on_line(t, f, p, len, after);
		p = nl + 1;
	}
	if ((size_t)(end - p) >= t->conf->max_line_bytes)
		p += long_partial(t, f, p, (size_t)(end - p), base + (uint64_t)(p - t->rbuf));
	f->off = base + (uint64_t)(p - t->rbuf);
	*more = (size_t)n == t->rbuf_size;
	/* Only an unfinished line left: nothing more until the file grows. */
	f->eof = f->off == base && !*more;
	if (f->fp_len < TAIL_FP_MAX && base + (uint64_t)n > f->fp_len)
		tail_file_update_meta(t, f);
	event_own(t, f);
	if (f->event_open && t->conf->multiline.flush_ms >= 0)
		evloop_timer_start(t->loop, &f->mflush, (uint64_t)t->conf->multiline.flush_ms, 0,
				   on_mflush, f);
	if (!*more)
		tail_idle_drained(t, f); /* closed when others wait for a descriptor */
}

void tail_file_final(struct in_tail *t, struct tail_file *f)
{
	struct stat st;
	ssize_t n;

	if (f->discarding) {
		/* The newline never came: the kept head or nothing goes out. */
		if (fstat(f->fd, &st) == 0)
			discard_done(t, f,
				     (uint64_t)st.st_size > f->off ? (uint64_t)st.st_size : f->off);
	} else if (fstat(f->fd, &st) == 0 && (uint64_t)st.st_size > f->off) {
		n = pread(f->fd, t->rbuf, t->rbuf_size, (off_t)f->off);
		if (n > 0 && !memchr(t->rbuf, '\n', (size_t)n)) {
			t->now_wall = clock_wall_ms();
			if (t->conf->format != FORMAT_NONE && (size_t)n <= t->conf->max_line_bytes)
				cri_line(t, f, t->rbuf, (size_t)n, f->off, f->off + (uint64_t)n);
			else
				on_line(t, f, t->rbuf, (size_t)n, f->off + (uint64_t)n);
			f->off += (uint64_t)n;
		}
	}
	if (t->conf->format != FORMAT_NONE)
		tail_cri_final(t, f, f->off);
	tail_file_flush_event(t, f);
}

/* ------------------------------------------------------------ identity */

int tail_fingerprint(int fd, uint64_t size, uint32_t *fp, uint32_t *fp_len)
{
	uint8_t b[TAIL_FP_MAX];
	size_t want = size < TAIL_FP_MAX ? (size_t)size : TAIL_FP_MAX;
	ssize_t got = fs_pread_full(fd, b, want, 0);

	if (got < 0)
		return (int)got;
	*fp_len = (uint32_t)got;
	*fp = crc32c(0, b, (size_t)got);
	return 0;
}

uint64_t tail_btime(int fd)
{
	struct statx sx;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_BTIME, &sx) != 0 || !(sx.stx_mask & STATX_BTIME))
		return 0;
	return (uint64_t)sx.stx_btime.tv_sec * 1000000000u + sx.stx_btime.tv_nsec;
}

int tail_fd_path(int fd, char *out, size_t cap)
{
	static const char deleted[] = " (deleted)";
	char proc[64];
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, out, cap - 1);
	if (n <= 0 || (size_t)n >= cap - 1 || out[0] != '/')
		return -1;
	out[n] = '\0';
	if ((size_t)n >= sizeof(deleted) - 1 &&
	    memcmp(out + n - (sizeof(deleted) - 1), deleted, sizeof(deleted) - 1) == 0)
		return -1;
	return 0;
}

int tail_meta_encode(const struct tail_file *f, struct buf *out)
{
	size_t pl = strlen(f->path), nl = strlen(f->name);
	int rc;

	if (pl > UINT16_MAX || nl > UINT16_MAX)
		return -ERR_TOO_LARGE;
	rc = buf_append_u8(out, TAIL_META_VERSION);
	if (rc == 0)
		rc = buf_append_be64(out, f->dev);
	if (rc == 0)
		rc = buf_append_be64(out, f->ino);
	if (rc == 0)
		rc = buf_append_be32(out, f->fp_len);
	if (rc == 0)
		rc = buf_append_be32(out, f->fp);
	if (rc == 0)
		rc = buf_append_be64(out, f->btime);
	if (rc == 0)
		rc = buf_append_be16(out, (uint16_t)pl);
	if (rc == 0)
		rc = buf_append(out, f->path, pl);
	if (rc == 0)
		rc = buf_append_be16(out, (uint16_t)nl);
	if (rc == 0)
		rc = buf_append(out, f->name, nl);
	return rc;
}

int tail_meta_decode(const uint8_t *p, size_t n, struct tail_meta *m)
{
	struct cursor c;
	uint16_t l;
	uint8_t v;

	cursor_init(&c, p, n);
	v = cursor_u8(&c);
	if (v != 1 && v != TAIL_META_VERSION)
		return -ERR_CORRUPT;
	m->dev = cursor_be64(&c);
	m->ino = cursor_be64(&c);
	m->fp_len = cursor_be32(&c);
	m->fp = cursor_be32(&c);
	m->btime = v >= 2 ? cursor_be64(&c) : 0;
	l = cursor_be16(&c);
	m->path = (const char *)cursor_take(&c, l);
	m->path_len = l;
	l = cursor_be16(&c);
	m->name = (const char *)cursor_take(&c, l);
	m->name_len = l;
	if (!cursor_ok(&c) || cursor_left(&c) != 0 || m->fp_len > TAIL_FP_MAX || m->path_len == 0 ||
	    m->name_len == 0)
		return -ERR_CORRUPT;
	return 0;
}

int tail_file_update_meta(struct in_tail *t, struct tail_file *f)
{
	struct buf b;
	int rc;

	if (f->fp_len < TAIL_FP_MAX) {
		struct stat st;

		if (fstat(f->fd, &st) == 0 && (uint64_t)st.st_size > f->fp_len)
			tail_fingerprint(f->fd, (uint64_t)st.st_size, &f->fp, &f->fp_len);
	}
	if (!f->src)
		return 0;
	buf_init(&b, 1 << 17);
	rc = tail_meta_encode(f, &b);
	if (rc == 0)
		rc = input_source_meta(t->in, f->src, b.data, b.len);
	buf_release(&b);
	return rc;
}

uint64_t tail_start_offset(int fd, uint64_t size)
{
	uint8_t b[65536];
	size_t want = size < sizeof(b) ? (size_t)size : sizeof(b);
	ssize_t got;
	const uint8_t *nl;

	if (size == 0)
		return 0;
	got = fs_pread_full(fd, b, want, (off_t)(size - want));
	if (got != (ssize_t)want)
		return size;
	nl = memrchr(b, '\n', want);
	if (nl)
		return size - want + (uint64_t)(nl + 1 - b);
	/* No newline in the last 64 KiB: the whole tail is one unfinished line
	 * (start with it when it is the whole file). */
	return want == size ? 0 : size;
}
