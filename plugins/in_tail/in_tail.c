/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Input `tail`: follows log files matched by globs, through rotation by
 * rename and by copytruncate, exactly once.  This file holds the plugin
 * table and options, the life of a tailed file (add, truncate, release),
 * inotify dispatch and the timers.
 *
 * One inotify descriptor in the agent's epoll loop watches every file
 * (IN_MODIFY, IN_CLOSE_WRITE, IN_MOVE_SELF, IN_ATTRIB, IN_DELETE_SELF) and
 * the directories holding them (creations and renames trigger a debounced
 * re-scan).  When a watch cannot be added (the watch limit, a file system
 * without inotify) the file is polled with fstat on one shared timer, so
 * idle files cost no wake-ups of their own.  Files with data wait in a ready
 * list that a zero-delay timer drains a bounded number of chunks at a time,
 * keeping the loop responsive for the outputs.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/err.h"
#include "lib/mem.h"
#include "lib/regex.h"
#include "plugins/in_tail/tail.h"

#define PUMP_CHUNKS 8
#define RESCAN_DELAY_MS 50
#define FILE_EVENTS (IN_MODIFY | IN_CLOSE_WRITE | IN_MOVE_SELF | IN_ATTRIB | IN_DELETE_SELF)
#define DIR_EVENTS (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ONLYDIR)

static const char *const long_line_modes[] = {"split", "truncate", "skip", NULL};
static const char *const formats[] = {"none", "cri", "docker", NULL};

static int check_glob(const char *v, char *why, size_t whylen)
{
	if (*v != '/') {
		snprintf(why, whylen, "'%s': paths must be absolute", v);
		return -1;
	}
	return 0;
}

/* clang-format off */
static const struct cfg_option multiline_opts[] = {
	{.name = "start", .type = CFG_STRING,
	 .offset = offsetof(struct in_tail_conf, multiline.start) -
		   offsetof(struct in_tail_conf, multiline),
	 .check = regex_check,
	 .help = "PCRE2 regex matching the first line of an event; other lines join the event"},
	{.name = "flush_ms", .type = CFG_INT,
	 .offset = offsetof(struct in_tail_conf, multiline.flush_ms) -
		   offsetof(struct in_tail_conf, multiline),
	 .def = "1000", .min = 0, .max = 3600000,
	 .help = "an event ends after this long without a new line"},
	CFG_OPT_END,
};
/* clang-format on */

/* clang-format off */
static const struct cfg_option in_tail_opts[] = {
	{.name = "paths", .type = CFG_LIST, .offset = offsetof(struct in_tail_conf, paths),
	 .flags = CFG_REQUIRED, .check = check_glob, .help = "absolute globs of files to follow"},
	{.name = "exclude", .type = CFG_LIST, .offset = offsetof(struct in_tail_conf, exclude),
	 .help = "globs to leave out (matched against the file name, or the path when they "
		 "hold a '/')"},
	{.name = "refresh_interval", .type = CFG_DURATION,
	 .offset = offsetof(struct in_tail_conf, refresh_interval), .def = "10s", .min = 100,
	 .max = 86400000, .help = "re-scan the globs this often (and on directory events)"},
	{.name = "read_from_head", .type = CFG_BOOL,
	 .offset = offsetof(struct in_tail_conf, read_from_head), .def = "false",
	 .help = "files found at start-up are read from their beginning (else from their end); "
		 "files that appear later always are"},
	{.name = "ignore_older", .type = CFG_DURATION,
	 .offset = offsetof(struct in_tail_conf, ignore_older), .def = "0", .min = 0,
	 .max = 1LL << 50, .help = "skip files not modified within this long (0: off)"},
	{.name = "multiline", .type = CFG_SECTION, .offset = offsetof(struct in_tail_conf, multiline),
	 .sub = multiline_opts},
	{.name = "max_line_bytes", .type = CFG_SIZE,
	 .offset = offsetof(struct in_tail_conf, max_line_bytes), .def = "1MiB", .min = 256,
	 .max = 64 << 20, .help = "longest line or multi-line event"},
	{.name = "long_lines", .type = CFG_ENUM, .offset = offsetof(struct in_tail_conf, long_lines),
	 .def = "split", .choices = long_line_modes,
	 .help = "longer lines are split into pieces, truncated, or skipped (all counted)"},
	{.name = "read_chunk", .type = CFG_SIZE, .offset = offsetof(struct in_tail_conf, read_chunk),
	 .def = "1MiB", .min = 4096, .max = 64 << 20, .help = "bytes per read"},
	{.name = "rotate_wait", .type = CFG_DURATION,
	 .offset = offsetof(struct in_tail_conf, rotate_wait), .def = "5s", .min = 0,
	 .max = 86400000,
	 .help = "keep reading a rotated or deleted file until it stayed unchanged this long"},
	{.name = "poll_interval", .type = CFG_DURATION,
	 .offset = offsetof(struct in_tail_conf, poll_interval), .def = "1s", .min = 10,
	 .max = 3600000, .help = "stat-polling period for files inotify cannot watch"},
	{.name = "inotify", .type = CFG_BOOL, .offset = offsetof(struct in_tail_conf, inotify),
	 .def = "true", .help = "false: poll every file (network file systems)"},
	{.name = "close_inactive", .type = CFG_DURATION,
	 .offset = offsetof(struct in_tail_conf, close_inactive), .def = "5m", .min = 0,
	 .max = 1LL << 40,
	 .help = "a file read to its end gives its descriptor back after this long without "
		 "new data (reopened when it changes; 0: only when descriptors run short)"},
	{.name = "format", .type = CFG_ENUM, .offset = offsetof(struct in_tail_conf, format),
	 .def = "none", .choices = formats,
	 .help = "cri: Kubernetes container logs (<time> <stream> <P|F> <log>); docker: Docker's "
		 "json-file lines ({\"log\":..,\"stream\":..,\"time\":..}); pieces joined, time "
		 "and stream from the line, pod/namespace/container from kubelet's file name"},
	CFG_OPT_END,
};
/* clang-format on */

/* ------------------------------------------------------------ ready list */

static void on_pump(struct evloop_timer *tm);

static void pump_soon(struct in_tail *t)
{
	if (t->rhead && !t->paused && !t->pump_timer.active)
		evloop_timer_start(t->loop, &t->pump_timer, 0, 0, on_pump, t);
}

void tail_mark_ready(struct in_tail *t, struct tail_file *f)
{
	if (f->ready)
		return;
	f->ready = true;
	f->rnext = NULL;
	if (t->rtail)
		t->rtail->rnext = f;
	else
		t->rhead = f;
	t->rtail = f;
	pump_soon(t);
}

static struct tail_file *ready_pop(struct in_tail *t)
{
	struct tail_file *f = t->rhead;

	if (f) {
		t->rhead = f->rnext;
		if (!t->rhead)
			t->rtail = NULL;
		f->rnext = NULL;
		f->ready = false;
	}
	return f;
}

static void ready_remove(struct in_tail *t, struct tail_file *f)
{
	struct tail_file **pp = &t->rhead, *prev = NULL;

	if (!f->ready)
		return;
	while (*pp && *pp != f) {
		prev = *pp;
		pp = &(*pp)->rnext;
	}
	if (*pp) {
		*pp = f->rnext;
		if (t->rtail == f)
			t->rtail = prev;
	}
	f->ready = false;
	f->rnext = NULL;
}

static void on_pump(struct evloop_timer *tm)
{
	struct in_tail *t = tm->data;

	for (int i = 0; i < PUMP_CHUNKS && !t->paused; i++) {
		struct tail_file *f = ready_pop(t);
		bool more;

		if (!f)
			break;
		/* Closed while idle: opened again, or it waits for a descriptor
		 * (or it was gone: finished and freed). */
		if (f->fd < 0 && tail_file_reopen(t, f) != 0)
			continue;
		tail_file_read(t, f, &more);
		if (more)
			tail_mark_ready(t, f);
	}
	pump_soon(t);
}

/* ------------------------------------------------------------ files */

static uint64_t ino_hash(uint64_t dev, uint64_t ino)
{
	return hmap_hash_u64(hmap_hash_u64(HMAP_SEED, dev), ino);
}

struct tail_file *tail_find(struct in_tail *t, uint64_t dev, uint64_t ino)
{
	uint64_t h = ino_hash(dev, ino);

	for (struct hmap_node *n = hmap_first(&t->files_by_ino, h); n; n = hmap_next(n, h)) {
		struct tail_file *f = hmap_entry(n, struct tail_file, by_ino);

		if (f->dev == dev && f->ino == ino)
			return f;
	}
	return NULL;
}

static struct tail_file *find_wd(struct in_tail *t, int wd)
{
	uint64_t h = hmap_hash_u64(HMAP_SEED, (uint64_t)wd);

	for (struct hmap_node *n = hmap_first(&t->files_by_wd, h); n; n = hmap_next(n, h)) {
		struct tail_file *f = hmap_entry(n, struct tail_file, by_wd);

		if (f->wd == wd)
			return f;
	}
	return NULL;
}

static void watch_file(struct in_tail *t, struct tail_file *f)
{
	char proc[64];

	f->wd = -1;
	if (t->ifd < 0)
		goto polled;
	/* Through /proc/self/fd so the watch is on the inode we opened, even
	 * if the path was renamed in between. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", f->fd);
	f->wd = inotify_add_watch(t->ifd, proc, FILE_EVENTS);
	if (f->wd < 0)
		f->wd = inotify_add_watch(t->ifd, f->path, FILE_EVENTS);
	if (f->wd >= 0) {
		hmap_insert(&t->files_by_wd, &f->by_wd, hmap_hash_u64(HMAP_SEED, (uint64_t)f->wd));
		return;
	}
	if (errno == ENOSPC)
		tail_watch_limit(t);
	else
		log_write_rl(&t->rl, 60000, LOG_LVL_WARN,
			     "tail %s: cannot watch %s (%s); polling it every %" PRId64 " ms",
			     t->id, f->path, err_str(-errno), t->conf->poll_interval);
polled:
	t->npolled++;
}

/* Out of inotify watches (fs.inotify.max_user_watches, shared by every
 * process of the user): what cannot be watched is polled.  Said once, not
 * once a file: with 50,000 files that would be 50,000 lines. */
void tail_watch_limit(struct in_tail *t)
{
	t->st.watch_limited++;
	if (t->watch_limit_said)
		return;
	t->watch_limit_said = true;
	log_warn("tail %s: out of inotify watches (fs.inotify.max_user_watches); files past the "
		 "limit are polled every %" PRId64 " ms, and new files in unwatched directories "
		 "are found by the scan every %" PRId64 " ms (refresh_interval)",
		 t->id, t->conf->poll_interval, t->conf->refresh_interval);
}

static void unwatch_file(struct in_tail *t, struct tail_file *f)
{
	if (f->wd >= 0) {
		hmap_remove(&t->files_by_wd, &f->by_wd);
		inotify_rm_watch(t->ifd, f->wd);
		f->wd = -1;
	} else {
		t->npolled--;
	}
}

static char *new_ident(struct in_tail *t, uint64_t dev, uint64_t ino)
{
	char id[96];

	snprintf(id, sizeof(id), "%" PRIx64 ":%" PRIx64 ":%" PRIx64, dev, ino, t->next_unique++);
	return mem_strdup(id);
}

static int open_source(struct in_tail *t, struct tail_file *f, const char *ident)
{
	struct source_desc d;
	struct buf meta;
	int rc;

	buf_init(&meta, 1 << 17);
	rc = tail_meta_encode(f, &meta);
	if (rc < 0)
		goto out;
	memset(&d, 0, sizeof(d));
	d.ident = ident;
	d.name = f->name;
	d.ordinal = f->off;
	d.meta = meta.data;
	d.meta_len = meta.len;
	f->src = input_source_open(t->in, &d);
	rc = f->src ? 0 : -ENOMEM;
out:
	buf_release(&meta);
	return rc;
}

struct tail_file *tail_file_add(struct in_tail *t, const char *path, const char *name, int fd,
				const struct stat *st, uint64_t off, const char *ident)
{
	struct tail_file *f = mem_calloc(1, sizeof(*f));
	char *own = NULL, real[PATH_MAX];

	if (!f)
		goto fail;
	/* Kept where the file really is (a symlink followed), so a restart
	 * finds it there after the link is re-pointed. */
	if (tail_fd_path(fd, real, sizeof(real)) == 0)
		path = real;
	f->t = t;
	f->fd = fd;
	f->dev = (uint64_t)st->st_dev;
	f->ino = (uint64_t)st->st_ino;
	f->size = (uint64_t)st->st_size;
	f->btime = tail_btime(fd);
	f->off = off;
	f->wd = -1;
	f->changed_ms = evloop_now(t->loop);
	buf_init(&f->event, t->conf->max_line_bytes);
	buf_init(&f->part[0], t->conf->max_line_bytes);
	buf_init(&f->part[1], t->conf->max_line_bytes);
	if (t->conf->format != FORMAT_NONE) {
		f->k8s = mem_calloc(1, sizeof(*f->k8s));
		if (f->k8s && tail_k8s_name(name, f->k8s) < 0) {
			mem_free(f->k8s);
			f->k8s = NULL;
		}
	}
	f->name = mem_strdup(name);
	f->path = mem_strdup(path);
	if (!ident)
		ident = own = new_ident(t, f->dev, f->ino);
	if (!f->name || !f->path || !ident)
		goto fail;
	tail_fingerprint(fd, f->size, &f->fp, &f->fp_len);
	if (open_source(t, f, ident) < 0)
		goto fail;
	mem_free(own);
	hmap_insert(&t->files_by_ino, &f->by_ino, ino_hash(f->dev, f->ino));
	f->next = t->files;
	t->files = f;
	t->nfiles++;
	t->nopen++;
	tail_lru_touch(t, f);
	watch_file(t, f);
	log_debug("tail %s: following %s from byte %" PRIu64, t->id, path, off);
	tail_mark_ready(t, f);
	return f;
fail:
	log_error("tail %s: cannot follow %s: out of memory", t->id, path);
	mem_free(own);
	if (f) {
		buf_release(&f->event);
		buf_release(&f->part[0]);
		buf_release(&f->part[1]);
		mem_free(f->k8s);
		mem_free(f->name);
		mem_free(f->path);
		mem_free(f);
	}
	close(fd);
	return NULL;
}

static void tomb_add(struct in_tail *t, struct tail_file *f)
{
	struct tail_tomb *tb = mem_calloc(1, sizeof(*tb));

	if (!tb)
		return;
	tb->ident = mem_strdup(source_ident(f->src));
	tb->path = mem_strdup(f->path);
	if (!tb->ident || !tb->path) {
		mem_free(tb->ident);
		mem_free(tb->path);
		mem_free(tb);
		return;
	}
	tb->dev = f->dev;
	tb->ino = f->ino;
	tb->fp = f->fp;
	tb->fp_len = f->fp_len;
	tb->btime = f->btime;
	tb->next = t->tombs;
	t->tombs = tb;
}

void tail_file_release(struct in_tail *t, struct tail_file *f, bool finish)
{
	struct tail_file **pp = &t->files;

	ready_remove(t, f);
	if (f->mflush.active)
		evloop_timer_stop(&f->mflush);
	if (finish && f->src) {
		tail_file_final(t, f);
		tail_file_flush_event(t, f);
		tomb_add(t, f);
		input_source_finish(t->in, f->src);
		log_info("tail %s: done with %s (%" PRIu64 " bytes)", t->id, f->path, f->off);
	}
	f->src = NULL;
	unwatch_file(t, f);
	hmap_remove(&t->files_by_ino, &f->by_ino);
	while (*pp && *pp != f)
		pp = &(*pp)->next;
	if (*pp)
		*pp = f->next;
	t->nfiles--;
	tail_wait_remove(t, f);
	if (f->fd >= 0) {
		tail_lru_remove(t, f);
		t->nopen--;
		close(f->fd);
	}
	buf_release(&f->event);
	buf_release(&f->part[0]);
	buf_release(&f->part[1]);
	mem_free(f->k8s);
	mem_free(f->name);
	mem_free(f->path);
	mem_free(f->was);
	mem_free(f);
}

void tail_truncated(struct in_tail *t, struct tail_file *f, uint64_t size)
{
	char *ident;
	const char *old;

	uint64_t lost = f->size > f->off ? f->size - f->off : 0;

	/* What was written past our position before the truncation is gone;
	 * the size we last saw bounds it from below (copytruncate's own race). */
	t->st.truncations++;
	t->st.truncated_lost += lost;
	log_warn("tail %s: %s was truncated (%" PRIu64 " -> %" PRIu64 " bytes); reading it again "
		 "from the start; %" PRIu64 " bytes written before the truncation were not read "
		 "(at least)",
		 t->id, f->path, f->size > f->off ? f->size : f->off, size, lost);
	if (t->conf->format != FORMAT_NONE)
		tail_cri_final(t, f, f->off);
	tail_file_flush_event(t, f);
	f->discarding = false;
	/* The old contents are finished; the new ones are a new source with the
	 * same key, so they stay in the same partition. */
	old = source_ident(f->src);
	ident = mem_strdup(old);
	input_source_finish(t->in, f->src);
	f->src = NULL;
	if (ident)
		input_forget(t->in, ident);
	mem_free(ident);
	f->off = 0;
	f->size = size;
	f->fp_len = 0;
	tail_fingerprint(f->fd, size, &f->fp, &f->fp_len);
	ident = new_ident(t, f->dev, f->ino);
	if (!ident || open_source(t, f, ident) < 0) {
		log_error("tail %s: cannot follow %s after truncation: out of memory", t->id,
			  f->path);
		mem_free(ident);
		tail_file_release(t, f, false);
		return;
	}
	mem_free(ident);
	tail_mark_ready(t, f);
}

/* ------------------------------------------------------------ inotify */

static void set_rotated_by_event(struct in_tail *t, struct tail_file *f)
{
	if (!f->rotated) {
		f->rotated = true;
		f->moved = true; /* the next scan looks where it went */
		if (!f->was)
			f->was = mem_strdup(f->path);
		/* rotate_wait runs from the rotation too: an idle file renamed
		 * still gets the writer's last lines before it reopens. */
		f->changed_ms = evloop_now(t->loop);
		t->st.rotations++;
		tail_file_update_meta(t, f);
		tail_name_note(t, f);
	}
	tail_mark_ready(t, f);
	tail_rescan_soon(t);
}

static void on_inotify(struct evloop_io *io, uint32_t revents)
{
	struct in_tail *t = io->data;
	uint8_t b[65536] __attribute__((aligned(__alignof__(struct inotify_event))));

	(void)revents;
	for (;;) {
		ssize_t n = read(t->ifd, b, sizeof(b));

		if (n <= 0)
			break;
		for (ssize_t off = 0; off + (ssize_t)sizeof(struct inotify_event) <= n;) {
			const struct inotify_event *ev = (const struct inotify_event *)(b + off);
			struct tail_file *f;

			off += (ssize_t)sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				for (f = t->files; f; f = f->next)
					tail_mark_ready(t, f);
				tail_rescan_soon(t);
				continue;
			}
			f = find_wd(t, ev->wd);
			if (!f) {
				if (ev->mask &
				    (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE))
					tail_rescan_soon(t);
				continue;
			}
			if (ev->mask & (IN_MODIFY | IN_CLOSE_WRITE))
				tail_mark_ready(t, f);
			if (ev->mask & IN_MOVE_SELF)
				set_rotated_by_event(t, f);
			if (ev->mask & IN_ATTRIB) {
				struct stat st;

				if (f->fd < 0)
					tail_mark_ready(t, f); /* reopened: deleted? */
				else if (fstat(f->fd, &st) == 0 && st.st_nlink == 0)
					set_rotated_by_event(t, f);
			}
			if (ev->mask & IN_IGNORED) {
				hmap_remove(&t->files_by_wd, &f->by_wd);
				f->wd = -1;
				t->npolled++;
				if (f->fd < 0)
					tail_mark_ready(t, f);
			}
		}
	}
}

static void on_rescan(struct evloop_timer *tm)
{
	tail_scan(tm->data);
}

void tail_rescan_soon(struct in_tail *t)
{
	if (!t->rescan_soon.active)
		evloop_timer_start(t->loop, &t->rescan_soon, RESCAN_DELAY_MS, 0, on_rescan, t);
}

void tail_watch_dir(struct in_tail *t, const char *dir)
{
	struct tail_dir *v;
	int wd;

	if (t->ifd < 0)
		return;
	for (size_t i = 0; i < t->ndirs; i++)
		if (strcmp(t->dirs[i].path, dir) == 0)
			return;
	wd = inotify_add_watch(t->ifd, dir, DIR_EVENTS);
	if (wd < 0) {
		if (errno == ENOSPC)
			tail_watch_limit(t);
		return; /* the refresh timer still finds new files */
	}
	v = mem_realloc(t->dirs, (t->ndirs + 1) * sizeof(*v));
	if (!v)
		return;
	t->dirs = v;
	t->dirs[t->ndirs].wd = wd;
	t->dirs[t->ndirs].path = mem_strdup(dir);
	if (t->dirs[t->ndirs].path)
		t->ndirs++;
}

/* ------------------------------------------------------------ timers */

static void on_poll(struct evloop_timer *tm)
{
	struct in_tail *t = tm->data;
	uint64_t now = evloop_now(t->loop);
	struct tail_file *f = t->files, *next;

	for (; f; f = next) {
		struct stat st;

		next = f->next;
		if (f->wd < 0 && f->fd < 0) {
			/* Closed while idle and not watched: its path says. */
			if (!f->ready && (stat(f->path, &st) != 0 || tail_closed_changed(f, &st)))
				tail_mark_ready(t, f);
		} else if (f->wd < 0 && fstat(f->fd, &st) == 0) {
			if ((uint64_t)st.st_size != f->size || (uint64_t)st.st_size < f->off) {
				/* A smaller size is a truncation: the read says how
				 * much of the size seen before it was lost. */
				if ((uint64_t)st.st_size > f->size) {
					f->size = (uint64_t)st.st_size;
					f->changed_ms = now;
				}
				tail_mark_ready(t, f);
			} else if (st.st_nlink == 0 && !f->rotated) {
				set_rotated_by_event(t, f);
			}
		}
		if (!f->rotated)
			continue;
		if (!f->eof) {
			tail_mark_ready(t, f);
			continue;
		}
		/* Rotated and read to its end: let go once nothing was written
		 * for rotate_wait and everything read is durable everywhere. */
		if (now - f->changed_ms >= (uint64_t)t->conf->rotate_wait && !f->event_open &&
		    !f->ready && source_committed(f->src) >= source_ordinal(f->src) &&
		    fstat(f->fd, &st) == 0 && (uint64_t)st.st_size <= f->off)
			tail_file_release(t, f, true);
		else if (now - f->changed_ms >= (uint64_t)t->conf->rotate_wait)
			tail_mark_ready(t, f); /* re-check its size, flush its tail */
	}
	tail_idle_tick(t, now);
}

static void on_scan(struct evloop_timer *tm)
{
	tail_scan(tm->data);
}

/* ------------------------------------------------------------ plugin */

static void in_tail_exit(void *ctx)
{
	struct in_tail *t = ctx;

	if (!t)
		return;
	/* Emptied first: taking 50,000 files out of them one by one is a walk
	 * each. */
	for (struct tail_file *f = t->files; f; f = f->next)
		f->ready = f->waiting = false;
	t->rhead = t->rtail = t->whead = t->wtail = NULL;
	t->nwait = 0;
	while (t->files)
		tail_file_release(t, t->files, false);
	while (t->tombs) {
		struct tail_tomb *tb = t->tombs;

		t->tombs = tb->next;
		mem_free(tb->ident);
		mem_free(tb->path);
		mem_free(tb);
	}
	if (t->pump_timer.active)
		evloop_timer_stop(&t->pump_timer);
	if (t->scan_timer.active)
		evloop_timer_stop(&t->scan_timer);
	if (t->rescan_soon.active)
		evloop_timer_stop(&t->rescan_soon);
	if (t->poll_timer.active)
		evloop_timer_stop(&t->poll_timer);
	if (t->ifd >= 0) {
		evloop_io_stop(&t->iio);
		close(t->ifd);
	}
	tail_idle_release(t);
	for (size_t i = 0; i < t->ndirs; i++)
		mem_free(t->dirs[i].path);
	mem_free(t->dirs);
	while (t->known_list) {
		struct tail_known *k = t->known_list;

		t->known_list = k->next;
		mem_free(k);
	}
	hmap_release(&t->known_names);
	tail_names_release(t);
	hmap_release(&t->files_by_ino);
	hmap_release(&t->files_by_wd);
	tail_start_release(&t->start);
	mem_free(t->rbuf);
	buf_release(&t->docker);
	mem_free(t);
}

static int in_tail_init(const struct plugin_args *a, void **ctx, struct cfg_error *err)
{
	struct in_tail *t = mem_calloc(1, sizeof(*t));
	const struct in_tail_conf *c = a->conf;

	(void)err;
	*ctx = t;
	if (!t)
		return -ENOMEM;
	t->conf = c;
	t->in = a->input;
	t->loop = a->loop;
	t->id = a->id;
	t->reload = a->reload;
	t->ifd = -1;
	buf_init(&t->docker, c->max_line_bytes + 4);
	hmap_init(&t->files_by_ino);
	hmap_init(&t->files_by_wd);
	hmap_init(&t->known_names);
	hmap_init(&t->rot_names);
	if (c->multiline.start && *c->multiline.start) {
		int rc = tail_start_init(&t->start, c->multiline.start);

		if (rc < 0)
			return rc; /* a bad pattern was reported by the option check */
		t->multiline = true;
	}
	return 0;
}

static int in_tail_start(void *ctx)
{
	struct in_tail *t = ctx;
	int rc;

	/* One spare byte lets final_line() append a newline. */
	t->rbuf_size = t->conf->read_chunk > t->conf->max_line_bytes ? t->conf->read_chunk
								     : t->conf->max_line_bytes;
	t->rbuf = mem_alloc(t->rbuf_size + 1);
	if (!t->rbuf)
		return -ENOMEM;
	t->next_unique = (uint64_t)clock_wall_ns();
	if (t->conf->inotify) {
		t->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (t->ifd < 0)
			log_warn("tail %s: no inotify (%s); polling", t->id, err_str(-errno));
		else if (evloop_io_start(t->loop, &t->iio, t->ifd, EVLOOP_READ, on_inotify, t) <
			 0) {
			close(t->ifd);
			t->ifd = -1;
		}
	}
	rc = tail_recover(t);
	if (rc < 0)
		return rc;
	tail_scan(t);
	t->first_scan_done = true;
	t->started = true;
	evloop_timer_start(t->loop, &t->scan_timer, (uint64_t)t->conf->refresh_interval,
			   (uint64_t)t->conf->refresh_interval, on_scan, t);
	evloop_timer_start(t->loop, &t->poll_timer, (uint64_t)t->conf->poll_interval,
			   (uint64_t)t->conf->poll_interval, on_poll, t);
	return 0;
}

static void in_tail_pause(void *ctx)
{
	struct in_tail *t = ctx;

	t->paused = true;
	if (t->pump_timer.active)
		evloop_timer_stop(&t->pump_timer);
}

static void in_tail_resume(void *ctx)
{
	struct in_tail *t = ctx;

	t->paused = false;
	pump_soon(t);
}

static size_t in_tail_metrics(void *ctx, struct plugin_metric *m, size_t max)
{
	struct in_tail *t = ctx;
	const struct plugin_metric v[] = {
		{"sluice_agent_tail_files", "gauge", "Files being tailed.", t->nfiles, NULL, NULL},
		{"sluice_agent_tail_polled_files", "gauge",
		 "Tailed files polled with stat (no inotify watch).", t->npolled, NULL, NULL},
		{"sluice_agent_tail_watch_limit_total", "counter",
		 "Files or directories left without an inotify watch: the watch limit was reached.",
		 t->st.watch_limited, NULL, NULL},
		{"sluice_agent_tail_cri_joined_total", "counter",
		 "format cri/docker: lines joined from partial pieces (CRI P, docker without newline).",
		 t->st.cri_joined, NULL, NULL},
		{"sluice_agent_tail_cri_interleaved_total", "counter",
		 "format cri: lines handed on in two records because the other stream wrote "
		 "between their pieces.",
		 t->st.cri_interleaved, NULL, NULL},
		{"sluice_agent_tail_cri_invalid_total", "counter",
		 "format cri/docker: lines not in the format, kept as they are.", t->st.cri_invalid,
		 NULL, NULL},
		{"sluice_agent_tail_read_bytes_total", "counter", "Bytes read from files.",
		 t->st.read_bytes, NULL, NULL},
		{"sluice_agent_tail_scans_total", "counter",
		 "Glob scans for new and rotated files (refresh_interval, and after directory and "
		 "rotation events).",
		 t->st.scans, NULL, NULL},
		{"sluice_agent_tail_rotations_total", "counter",
		 "Files rotated away (renamed or deleted) while tailed.", t->st.rotations, NULL,
		 NULL},
		{"sluice_agent_tail_truncations_total", "counter",
		 "Files found shorter than the read position (copytruncate); read again from 0.",
		 t->st.truncations, NULL, NULL},
		{"sluice_agent_tail_truncated_lost_bytes_total", "counter",
		 "Bytes written to a file before it was truncated and not read (at least: size "
		 "last seen minus the position reached).",
		 t->st.truncated_lost, NULL, NULL},
		{"sluice_agent_tail_generations_total", "counter",
		 "Rotated files found unseen next to a rotated file and read whole.",
		 t->st.generations, NULL, NULL},
		{"sluice_agent_tail_long_lines_total", "counter",
		 "Lines longer than max_line_bytes, by what was done.", t->st.long_split, "action",
		 "split"},
		{"sluice_agent_tail_long_lines_total", "counter", "", t->st.long_truncated,
		 "action", "truncate"},
		{"sluice_agent_tail_long_lines_total", "counter", "", t->st.long_skipped, "action",
		 "skip"},
		{"sluice_agent_tail_multiline_events_total", "counter",
		 "Multi-line events assembled.", t->st.multiline_events, NULL, NULL},
		{"sluice_agent_tail_lost_files_total", "counter",
		 "Files with undelivered data that were gone at start-up.", t->st.lost_sources,
		 NULL, NULL},
		{"sluice_agent_tail_ignored_older_total", "counter",
		 "Files skipped by ignore_older at a scan.", t->st.ignored_older, NULL, NULL},
		{"sluice_agent_tail_open_errors_total", "counter",
		 "Files that could not be opened.", t->st.open_errors, NULL, NULL},
		{"sluice_agent_tail_files_deferred", "gauge",
		 "Matching files waiting for a descriptor: the open-file limit is near.",
		 t->npend + t->nwait, NULL, NULL},
		{"sluice_agent_tail_open_files", "gauge",
		 "Tailed files holding a descriptor (the others are closed while idle).", t->nopen,
		 NULL, NULL},
		{"sluice_agent_tail_closes_total", "counter",
		 "Idle files read to their end whose descriptor was closed, by why.",
		 t->st.closes_inactive, "reason", "inactive"},
		{"sluice_agent_tail_closes_total", "counter", "", t->st.closes_pressure, "reason",
		 "fd_pressure"},
		{"sluice_agent_tail_reopens_total", "counter",
		 "Closed files opened again because they changed.", t->st.reopens, NULL, NULL},
		{"sluice_agent_tail_fd_pressure_total", "counter",
		 "Opens refused for want of descriptors (EMFILE, ENFILE or the input's budget).",
		 t->st.fd_pressure, NULL, NULL},
		{"sluice_agent_tail_closed_gone_total", "counter",
		 "Closed files found deleted or replaced when they were to be reopened; finished.",
		 t->st.closed_gone, NULL, NULL},
	};
	return plugin_metrics_copy(m, max, v, sizeof(v) / sizeof(v[0]));
}

const struct plugin in_tail_plugin = {
	.name = "tail",
	.kind = PLUGIN_INPUT,
	.description = "follow log files (globs, rotation by rename and copytruncate, multi-line)",
	.options = in_tail_opts,
	.conf_size = sizeof(struct in_tail_conf),
	.init = in_tail_init,
	.start = in_tail_start,
	.pause = in_tail_pause,
	.resume = in_tail_resume,
	.metrics = in_tail_metrics,
	.exit = in_tail_exit,
};
