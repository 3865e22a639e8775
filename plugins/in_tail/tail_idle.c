/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Descriptors of the tail input (issue 19): a file read to its end and idle
 * for close_inactive gives its descriptor back, keeping everything else —
 * its source (so its position), identity (device, inode, birth time,
 * fingerprint) and its inotify watch, which needs no descriptor.  When it
 * changes (an inotify event, a scan or poll that sees its size or mtime
 * move) it is opened again by its path and checked to be the same file: a
 * rename is followed in its directory, a truncation is found by the read
 * (size below the position, other first bytes), and a file gone or replaced
 * (another birth time on the inode) is finished.
 *
 * When descriptors run short (EMFILE/ENFILE, or past the budget the input
 * leaves below RLIMIT_NOFILE) the least recently active idle file is closed
 * at once.  Files the scan cannot open wait in order in a queue, closed files
 * that changed in a wait list; each file read to its end while others wait
 * hands its descriptor to the first of them, so 50,000 files go through
 * 20,000 descriptors without waiting for the next scan.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/mem.h"
#include "plugins/in_tail/tail.h"

/* Descriptors a tail input leaves free for sockets, spool segments and the
 * other inputs: past the limit minus this, files are closed or wait (and
 * the output can still connect to ship what the open ones read). */
#define FD_HEADROOM_MIN 64
/* Open files looked at from the least recently active end for one to close
 * under pressure: while every file is being read there is none, and a scan
 * of 50,000 files must not walk 20,000 each time. */
#define ROOM_LOOK 64

static bool fd_over_budget(int fd)
{
	static rlim_t limit;
	rlim_t headroom;
	struct rlimit rl;

	if (limit == 0)
		limit = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
				? rl.rlim_cur
				: (rlim_t)1 << 20;
	headroom = limit / 16 > FD_HEADROOM_MIN ? limit / 16 : FD_HEADROOM_MIN;
	/* Descriptors are handed out lowest first: the number is the count. */
	return (rlim_t)fd + headroom >= limit;
}

bool tail_fd_short(int fd)
{
	return fd_over_budget(fd);
}

/* ------------------------------------------------------------ LRU */

void tail_lru_remove(struct in_tail *t, struct tail_file *f)
{
	if (f->lprev)
		f->lprev->lnext = f->lnext;
	else if (t->lhead == f)
		t->lhead = f->lnext;
	if (f->lnext)
		f->lnext->lprev = f->lprev;
	else if (t->ltail == f)
		t->ltail = f->lprev;
	f->lprev = f->lnext = NULL;
}

void tail_lru_touch(struct in_tail *t, struct tail_file *f)
{
	f->active_ms = evloop_now(t->loop);
	if (t->ltail == f)
		return;
	tail_lru_remove(t, f);
	f->lprev = t->ltail;
	if (t->ltail)
		t->ltail->lnext = f;
	else
		t->lhead = f;
	t->ltail = f;
}

/* ------------------------------------------------------------ closing */

/* Nothing of it is held but its position: no pending event or piece, not
 * queued to be read, not rotated (those are let go by rotate_wait).  An
 * unfinished last line is given up only under pressure: a file deleted
 * while closed could not hand it on. */
bool tail_closable(const struct in_tail *t, const struct tail_file *f, bool pressure)
{
	(void)t;
	return f->fd >= 0 && f->src && !f->ready && !f->rotated && !f->moved && !f->event_open &&
	       !f->discarding && !f->part_open[0] && !f->part_open[1] && !f->mflush.active &&
	       (pressure || f->off >= f->size);
}

/* False when it is not closed after all: it grew (it is read instead) or it
 * was deleted (rotate_wait lets it go). */
static bool file_close(struct in_tail *t, struct tail_file *f, bool pressure)
{
	struct stat st;

	if (fstat(f->fd, &st) != 0 || st.st_nlink == 0)
		return false;
	if ((uint64_t)st.st_size > f->size || (uint64_t)st.st_size < f->off) {
		tail_mark_ready(t, f);
		return false;
	}
	f->mtime = st.st_mtim;
	close(f->fd);
	f->fd = -1;
	tail_lru_remove(t, f);
	t->nopen--;
	if (pressure)
		t->st.closes_pressure++;
	else
		t->st.closes_inactive++;
	return true;
}

void tail_file_close(struct in_tail *t, struct tail_file *f, bool pressure)
{
	if (tail_closable(t, f, pressure))
		file_close(t, f, pressure);
}

static bool make_room(struct in_tail *t)
{
	struct tail_file *f = t->lhead;

	for (int i = 0; f && i < ROOM_LOOK; i++, f = f->lnext)
		if (tail_closable(t, f, true) && file_close(t, f, true))
			return true;
	return false;
}

int tail_open(struct in_tail *t, const char *path)
{
	for (int tries = 0; tries < 2; tries++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

		if (fd >= 0 && !fd_over_budget(fd))
			return fd;
		if (fd < 0 && errno != EMFILE && errno != ENFILE)
			return -errno;
		if (fd >= 0)
			close(fd);
		t->st.fd_pressure++;
		if (!make_room(t))
			break;
	}
	return -EMFILE;
}

bool tail_closed_changed(const struct tail_file *f, const struct stat *st)
{
	return (uint64_t)st->st_dev != f->dev || (uint64_t)st->st_ino != f->ino ||
	       (uint64_t)st->st_size != f->size || st->st_mtim.tv_sec != f->mtime.tv_sec ||
	       st->st_mtim.tv_nsec != f->mtime.tv_nsec;
}

void tail_idle_tick(struct in_tail *t, uint64_t now)
{
	struct tail_file *f, *next;
	uint64_t after = (uint64_t)t->conf->close_inactive;

	if (after == 0)
		return;
	for (f = t->lhead; f && now - f->active_ms >= after; f = next) {
		next = f->lnext;
		tail_file_close(t, f, false);
	}
}

/* ------------------------------------------------------------ waiting */

static void wait_push(struct in_tail *t, struct tail_file *f)
{
	if (f->waiting)
		return;
	f->waiting = true;
	f->wnext = NULL;
	if (t->wtail)
		t->wtail->wnext = f;
	else
		t->whead = f;
	t->wtail = f;
	t->nwait++;
}

void tail_wait_remove(struct in_tail *t, struct tail_file *f)
{
	struct tail_file **pp = &t->whead, *prev = NULL;

	if (!f->waiting)
		return;
	while (*pp && *pp != f) {
		prev = *pp;
		pp = &(*pp)->wnext;
	}
	if (*pp) {
		*pp = f->wnext;
		if (t->wtail == f)
			t->wtail = prev;
		t->nwait--;
	}
	f->waiting = false;
	f->wnext = NULL;
}

int tail_pend_push(struct in_tail *t, const char *path, bool initial)
{
	char *p;

	if (t->pend_head + t->npend == t->pend_cap) {
		if (t->pend_head > 0) {
			memmove(t->pend, t->pend + t->pend_head, t->npend * sizeof(*t->pend));
			t->pend_head = 0;
		} else {
			size_t cap = t->pend_cap ? t->pend_cap * 2 : 256;
			struct tail_pend *v = mem_realloc(t->pend, cap * sizeof(*v));

			if (!v)
				return -ENOMEM; /* found again by a later scan */
			t->pend = v;
			t->pend_cap = cap;
		}
	}
	p = mem_strdup(path);
	if (!p)
		return -ENOMEM;
	t->pend[t->pend_head + t->npend].path = p;
	t->pend[t->pend_head + t->npend].initial = initial;
	t->npend++;
	return 0;
}

/* One descriptor came free: the first closed file waiting, else the first
 * path the scan could not open. */
static void serve_one(struct in_tail *t)
{
	while (t->whead) {
		struct tail_file *g = t->whead;
		int rc;

		tail_wait_remove(t, g);
		rc = tail_file_reopen(t, g);
		if (rc == 0)
			tail_mark_ready(t, g);
		if (rc != -ENOENT)
			goto out;
	}
	while (t->npend) {
		struct tail_pend p = t->pend[t->pend_head];
		int rc;

		t->pend_head++;
		t->npend--;
		if (!t->npend)
			t->pend_head = 0;
		rc = tail_consider(t, p.path, p.initial, true);
		mem_free(p.path);
		if (rc != 0)
			break;
	}
out:
	/* Scans that began with paths waiting queued no new ones: look now. */
	if (!t->npend && !t->whead && t->pend_frozen) {
		t->pend_frozen = false;
		tail_rescan_soon(t);
	}
}

void tail_file_park(struct in_tail *t, struct tail_file *f)
{
	struct stat st;

	if (f->fd < 0)
		return;
	/* Left in the ready list (finding it there costs a walk): popped, it
	 * is reopened if a descriptor can be had, else it waits. */
	if (fstat(f->fd, &st) == 0)
		f->mtime = st.st_mtim;
	close(f->fd);
	f->fd = -1;
	tail_lru_remove(t, f);
	t->nopen--;
	t->st.closes_pressure++;
	wait_push(t, f);
}

void tail_idle_drained(struct in_tail *t, struct tail_file *f)
{
	if (!t->whead && !t->npend)
		return;
	if (tail_closable(t, f, true) && file_close(t, f, true))
		serve_one(t);
}

void tail_idle_release(struct in_tail *t)
{
	for (size_t i = 0; i < t->npend; i++)
		mem_free(t->pend[t->pend_head + i].path);
	mem_free(t->pend);
	t->pend = NULL;
	t->npend = t->pend_head = t->pend_cap = 0;
}

/* ------------------------------------------------------------ reopening */

/* The same inode, and not recycled (another birth time).  Its first bytes
 * are checked by the read, where other ones mean copytruncate. */
static bool reopened_same(int fd, const struct stat *st, const struct tail_file *f)
{
	uint64_t b;

	if ((uint64_t)st->st_dev != f->dev || (uint64_t)st->st_ino != f->ino)
		return false;
	b = f->btime ? tail_btime(fd) : 0;
	return !b || b == f->btime;
}

int tail_file_reopen(struct in_tail *t, struct tail_file *f)
{
	char found[PATH_MAX];
	struct stat st;
	int fd;

	if (f->fd >= 0)
		return 0;
	fd = tail_open(t, f->path);
	if (fd == -EMFILE) {
		wait_push(t, f);
		return -EMFILE;
	}
	if (fd >= 0 && (fstat(fd, &st) != 0 || !reopened_same(fd, &st, f))) {
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		/* Renamed while closed (rotation): it is in its directory. */
		fd = tail_find_renamed(f, &st, found, sizeof(found));
		if (fd >= 0) {
			char *p = mem_strdup(found);

			if (p) {
				mem_free(f->path);
				f->path = p;
			}
			tail_rescan_soon(t); /* the scan sees it rotated */
		}
	}
	if (fd < 0) {
		t->st.closed_gone++;
		log_info("tail %s: %s, closed while idle, is gone; done with it at byte %" PRIu64,
			 t->id, f->path, f->off);
		tail_file_release(t, f, true);
		tail_rescan_soon(t); /* a new file may be at its path or on its inode */
		return -ENOENT;
	}
	tail_wait_remove(t, f);
	f->fd = fd;
	t->nopen++;
	t->st.reopens++;
	tail_lru_touch(t, f);
	return 0;
}
