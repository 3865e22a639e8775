/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Finding files: glob scans (at start, every refresh_interval and shortly
 * after directory events), rotation detection, and recovery of the files the
 * spools say were being read when the agent stopped.
 *
 * Start-up rules (issue 7): a file found by the first scan of a process is
 * read from its end unless read_from_head, except when it replaces a file
 * the agent was reading at that path (rotated while the agent was down):
 * then it is read from its beginning, as is every file that appears later.
 * A file the spools know resumes at its committed position even when it has
 * since been renamed out of the globs; it is found again by device, inode
 * and fingerprint, first at its last known path, then among the entries of
 * that directory.
 */
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/crc32c.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/mem.h"
#include "plugins/in_tail/tail.h"

static bool excluded(const struct in_tail *t, const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	for (size_t i = 0; i < t->conf->exclude.n; i++) {
		const char *pat = t->conf->exclude.v[i];

		if (strchr(pat, '/') ? fnmatch(pat, path, FNM_PATHNAME) == 0
				     : fnmatch(pat, base, 0) == 0)
			return true;
	}
	return false;
}

/* Does the file open at fd start with the bytes fingerprinted as fp? */
static bool fp_matches(int fd, uint64_t size, uint32_t fp, uint32_t fp_len)
{
	uint8_t b[TAIL_FP_MAX];

	if (fp_len == 0)
		return true;
	if (size < fp_len || fs_pread_full(fd, b, fp_len, 0) != (ssize_t)fp_len)
		return false;
	return crc32c(0, b, fp_len) == fp;
}

/* Is the file open at fd (stat st) the one known by these? A recycled inode
 * has another birth time, whatever its first bytes (an empty file has none
 * to tell). */
bool tail_same_file(int fd, const struct stat *st, uint64_t dev, uint64_t ino, uint64_t btime,
		    uint32_t fp, uint32_t fp_len)
{
	uint64_t b;

	if ((uint64_t)st->st_dev != dev || (uint64_t)st->st_ino != ino)
		return false;
	if (btime) {
		b = tail_btime(fd);
		if (b && b != btime)
			return false;
	}
	return fp_matches(fd, (uint64_t)st->st_size, fp, fp_len);
}

static bool known_name(const struct in_tail *t, const char *path)
{
	size_t n = strlen(path);
	uint64_t h = hmap_hash(HMAP_SEED, path, n);

	for (struct hmap_node *e = hmap_first(&t->known_names, h); e; e = hmap_next(e, h))
		if (strcmp(hmap_entry(e, struct tail_known, node)->name, path) == 0)
			return true;
	return false;
}

static void watch_parent(struct in_tail *t, const char *path)
{
	char dir[PATH_MAX];
	size_t n = strlen(path);

	if (n >= sizeof(dir))
		return;
	memcpy(dir, path, n + 1);
	tail_watch_dir(t, dirname(dir));
}

/* Directory part of a glob without wildcards (watched even when empty, so a
 * first file appearing there is seen at once). */
static void watch_pattern_dir(struct in_tail *t, const char *pat)
{
	char dir[PATH_MAX];
	size_t n = strlen(pat);
	char *d;

	if (n >= sizeof(dir))
		return;
	memcpy(dir, pat, n + 1);
	d = dirname(dir);
	if (!strpbrk(d, "*?[{"))
		tail_watch_dir(t, d);
}

static struct tail_tomb *tomb_match(struct in_tail *t, int fd, const struct stat *st)
{
	for (struct tail_tomb *tb = t->tombs; tb; tb = tb->next)
		if (tail_same_file(fd, st, tb->dev, tb->ino, tb->btime, tb->fp, tb->fp_len))
			return tb;
	return NULL;
}

struct gen_ref;
static void adopt_in_dir(struct in_tail *t, const struct gen_ref *r, const char *live);

/* The file generations are looked for after: those born after it, rotated
 * from its name, are read whole under that name. */
struct gen_ref {
	const char *name;
	uint64_t ino;
	uint64_t btime;
	struct timespec mtime;
};

/* ------------------------------------------------------------ rotated names */

static struct tail_name *name_find(struct in_tail *t, const char *name, size_t n, uint64_t h)
{
	for (struct hmap_node *e = hmap_first(&t->rot_names, h); e; e = hmap_next(e, h)) {
		struct tail_name *r = hmap_entry(e, struct tail_name, node);

		if (strncmp(r->name, name, n) == 0 && r->name[n] == '\0')
			return r;
	}
	return NULL;
}

static bool ts_after(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec > b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec);
}

/* f, at its name, rotated or appeared after a rotation there: the newest
 * file the name is known to have had. */
void tail_name_note(struct in_tail *t, const struct tail_file *f)
{
	size_t n = strlen(f->name);
	uint64_t h = hmap_hash(HMAP_SEED, f->name, n);
	struct tail_name *r = name_find(t, f->name, n, h);
	struct timespec mt = f->mtime;
	struct stat st;

	if (f->fd >= 0 && fstat(f->fd, &st) == 0)
		mt = st.st_mtim;
	if (!r) {
		r = mem_calloc(1, sizeof(*r) + n + 1);
		if (!r)
			return;
		memcpy(r->name, f->name, n + 1);
		if (hmap_insert(&t->rot_names, &r->node, h) < 0) {
			mem_free(r);
			return;
		}
	} else if (r->btime && f->btime ? f->btime <= r->btime : !ts_after(&mt, &r->mtime)) {
		return;
	}
	r->ino = f->ino;
	r->btime = f->btime;
	r->mtime = mt;
	r->misses = 0;
}

static struct hmap_node *first_dead(struct in_tail *t)
{
	struct hmap_iter it;
	struct hmap_node *e;

	hmap_iter_init(&t->rot_names, &it);
	while ((e = hmap_iter_next(&t->rot_names, &it)) != NULL)
		if (hmap_entry(e, struct tail_name, node)->misses >= 3)
			return e;
	return NULL;
}

/* A name nothing was found at three scans in a row is let go (a pod gone). */
static void gc_names(struct in_tail *t)
{
	struct hmap_iter it;
	struct hmap_node *e;
	struct stat st;

	hmap_iter_init(&t->rot_names, &it);
	while ((e = hmap_iter_next(&t->rot_names, &it)) != NULL) {
		struct tail_name *r = hmap_entry(e, struct tail_name, node);

		r->misses = stat(r->name, &st) == 0 ? 0 : r->misses + 1;
	}
	while ((e = first_dead(t)) != NULL) {
		hmap_remove(&t->rot_names, e);
		mem_free(hmap_entry(e, struct tail_name, node));
	}
}

void tail_names_release(struct in_tail *t)
{
	struct hmap_iter it;
	struct hmap_node *e;

	for (;;) {
		hmap_iter_init(&t->rot_names, &it);
		e = hmap_iter_next(&t->rot_names, &it);
		if (!e)
			break;
		hmap_remove(&t->rot_names, e);
		mem_free(hmap_entry(e, struct tail_name, node));
	}
	hmap_release(&t->rot_names);
}

/* f just appeared at a name whose file rotated before it.  The files
 * rotated from that name in between were looked for when that one rotated,
 * but one still at the name then and renamed before any scan saw it there
 * (several rotations between two scans) is found only now, beside f.  So
 * is one rotated while the agent was down after a file it was reading had
 * rotated from the name already (that file's generations are looked for
 * beside the name it has now, which is not the name's). */
static void adopt_before(struct in_tail *t, struct tail_file *f)
{
	size_t n = strlen(f->name);
	struct tail_name *r = name_find(t, f->name, n, hmap_hash(HMAP_SEED, f->name, n));
	struct gen_ref ref;

	if (!r)
		return;
	ref = (struct gen_ref){
		.name = f->name, .ino = r->ino, .btime = r->btime, .mtime = r->mtime};
	adopt_in_dir(t, &ref, f->path);
	tail_name_note(t, f);
}

int tail_consider(struct in_tail *t, const char *path, bool initial, bool queued)
{
	struct tail_file *f;
	struct tail_tomb *tb;
	struct stat st;
	uint64_t off = 0;
	int fd;

	if (excluded(t, path) || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	f = tail_find(t, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
	if (f) {
		f->seen = true;
		/* Closed while idle: opened again (and checked) if it moved on. */
		if (f->fd < 0 && !f->ready && tail_closed_changed(f, &st))
			tail_mark_ready(t, f);
		return 0;
	}
	if (t->conf->ignore_older &&
	    clock_wall_ms() - (int64_t)st.st_mtime * 1000 > t->conf->ignore_older) {
		t->st.ignored_older++;
		return 0;
	}
	/* Paths already wait for descriptors: this one waits behind them (a
	 * scan that began with some waiting adds none: they are queued, and
	 * new ones are found by the scan that follows the queue's end). */
	if (!queued && t->pend_frozen)
		return 0;
	if (!queued && t->npend)
		return tail_pend_push(t, path, initial) < 0 ? 0 : -EMFILE;
	fd = tail_open(t, path);
	if (fd == -EMFILE) {
		SLUICE_IGNORE(tail_pend_push(t, path, initial));
		return -EMFILE;
	}
	if (fd < 0) {
		t->st.open_errors++;
		log_write_rl(&t->rl, 60000, LOG_LVL_WARN, "tail %s: cannot open %s: %s", t->id,
			     path, err_str(fd));
		return 0;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    tail_find(t, (uint64_t)st.st_dev, (uint64_t)st.st_ino)) {
		close(fd);
		return 0;
	}
	tb = tomb_match(t, fd, &st);
	if (tb) {
		tb->seen = true;
		close(fd);
		return 0;
	}
	if (initial && !t->reload && !t->conf->read_from_head && !known_name(t, path))
		off = tail_start_offset(fd, (uint64_t)st.st_size);
	f = tail_file_add(t, path, path, fd, &st, off, NULL);
	if (!f)
		return 0;
	f->seen = true;
	adopt_before(t, f);
	return 1;
}

/* Rotated names: the name a file had plus a suffix of digits and
 * separators (app.log.1, app.log-20261202, 0.log.20261202-101500); a
 * compressed one (.gz) is not read. */
static bool generation_of(const char *entry, const char *base, size_t blen)
{
	const char *sfx = entry + blen;

	if (strncmp(entry, base, blen) != 0 || !*sfx || !strchr(".-_", *sfx))
		return false;
	return sfx[strspn(sfx, "0123456789.-_")] == '\0';
}

/* Born after the file rotated from the same name: by birth time where the
 * file system keeps one, else by the last write. */
static bool born_after(int fd, const struct stat *st, uint64_t ref_btime,
		       const struct timespec *ref_mtime)
{
	uint64_t b = ref_btime ? tail_btime(fd) : 0;

	if (b)
		return b > ref_btime;
	return st->st_mtim.tv_sec > ref_mtime->tv_sec ||
	       (st->st_mtim.tv_sec == ref_mtime->tv_sec &&
		st->st_mtim.tv_nsec >= ref_mtime->tv_nsec);
}

static void adopt(struct in_tail *t, const struct gen_ref *r, const char *path)
{
	struct tail_file *g;
	struct stat st;
	int fd;

	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
	    tail_find(t, (uint64_t)st.st_dev, (uint64_t)st.st_ino))
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return;
	if (fstat(fd, &st) != 0 || !born_after(fd, &st, r->btime, &r->mtime) ||
	    tomb_match(t, fd, &st) || tail_find(t, (uint64_t)st.st_dev, (uint64_t)st.st_ino)) {
		close(fd);
		return;
	}
	g = tail_file_add(t, path, r->name, fd, &st, 0, NULL);
	if (!g)
		return;
	g->rotated = true;
	t->st.generations++;
	tail_name_note(t, g);
	log_info("tail %s: %s, rotated from %s before it was seen, is read whole", t->id, path,
		 r->name);
}

/* The generations of r in the directory of path live (its name there plus
 * a rotation suffix). */
static void adopt_in_dir(struct in_tail *t, const struct gen_ref *r, const char *live)
{
	char dir[PATH_MAX], full[PATH_MAX];
	const char *base = strrchr(live, '/');
	size_t blen, dlen;
	struct dirent *de;
	DIR *d;

	if (!base)
		return;
	base++;
	blen = strlen(base);
	dlen = (size_t)(base - live);
	if (dlen >= sizeof(dir) || blen == 0)
		return;
	memcpy(dir, live, dlen);
	dir[dlen] = '\0';
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		if (!generation_of(de->d_name, base, blen) || (uint64_t)de->d_ino == r->ino ||
		    (size_t)snprintf(full, sizeof(full), "%s%s", dir, de->d_name) >= sizeof(full))
			continue;
		adopt(t, r, full);
	}
	closedir(d);
}

/* f was rotated away from path was: the files rotated from the same name
 * after it, before any scan saw them (rotations faster than the scans, or
 * while the agent was down), are read too.  They keep f's name, so its key
 * and partition. */
static void adopt_generations(struct in_tail *t, struct tail_file *f, const char *was)
{
	struct gen_ref r = {.name = f->name, .ino = f->ino, .btime = f->btime};
	struct stat st;

	if (fstat(f->fd, &st) != 0)
		return;
	r.mtime = st.st_mtim;
	adopt_in_dir(t, &r, was);
}

/* Rotated files not looked at since: learn where each went (for a restart
 * before it is done) and read the generations that came after it. */
static void settle_moved(struct in_tail *t)
{
	struct tail_file *next;

	for (struct tail_file *f = t->files; f; f = next) {
		char now[PATH_MAX];

		next = f->next;
		/* Closed while idle: where it went is known once it is open (a
		 * file gone is finished and freed; one waiting is settled later). */
		if (!f->moved || (f->fd < 0 && tail_file_reopen(t, f) != 0))
			continue;
		f->moved = false;
		if (tail_fd_path(f->fd, now, sizeof(now)) == 0 && strcmp(now, f->path) != 0) {
			char *p = mem_strdup(now);

			if (p) {
				mem_free(f->path);
				f->path = p;
			}
		}
		if (f->was)
			adopt_generations(t, f, f->was);
		mem_free(f->was);
		f->was = NULL;
		tail_file_update_meta(t, f);
		tail_mark_ready(t, f);
	}
}

/* A tracked file whose path no longer names it was rotated away. */
static void check_paths(struct in_tail *t)
{
	for (struct tail_file *f = t->files; f; f = f->next) {
		struct stat st;

		if (f->rotated)
			continue;
		if (stat(f->name, &st) == 0 && (uint64_t)st.st_dev == f->dev &&
		    (uint64_t)st.st_ino == f->ino)
			continue;
		f->rotated = true;
		f->moved = true;
		if (!f->was)
			f->was = mem_strdup(f->path);
		f->changed_ms = evloop_now(t->loop); /* see set_rotated_by_event() */
		t->st.rotations++;
		tail_name_note(t, f);
	}
	settle_moved(t);
}

static int find_in_dir(const char *dir, const struct tail_meta *m, struct stat *st, char *found,
		       size_t cap);

/* A finished file renamed again (app.log.1 -> app.log.2) is still finished:
 * follow it in its directory rather than forget it, or it would be read
 * again as a generation nobody saw. */
static bool tomb_follow(struct tail_tomb *tb)
{
	struct tail_meta m = {.dev = tb->dev,
			      .ino = tb->ino,
			      .fp = tb->fp,
			      .fp_len = tb->fp_len,
			      .btime = tb->btime};
	char dir[PATH_MAX], found[PATH_MAX];
	struct stat st;
	size_t n = strlen(tb->path);
	char *p;
	int fd;

	if (n >= sizeof(dir))
		return false;
	memcpy(dir, tb->path, n + 1);
	fd = find_in_dir(dirname(dir), &m, &st, found, sizeof(found));
	if (fd < 0)
		return false;
	close(fd);
	p = mem_strdup(found);
	if (p) {
		mem_free(tb->path);
		tb->path = p;
	}
	return true;
}

static void gc_tombs(struct in_tail *t)
{
	struct tail_tomb **pp = &t->tombs;

	while (*pp) {
		struct tail_tomb *tb = *pp;
		struct stat st;

		if (tb->seen ||
		    (stat(tb->path, &st) == 0 && (uint64_t)st.st_dev == tb->dev &&
		     (uint64_t)st.st_ino == tb->ino) ||
		    tomb_follow(tb)) {
			pp = &tb->next;
			continue;
		}
		/* Gone for good: the spools can forget it. */
		input_forget(t->in, tb->ident);
		*pp = tb->next;
		mem_free(tb->ident);
		mem_free(tb->path);
		mem_free(tb);
	}
}

void tail_scan(struct in_tail *t)
{
	t->st.scans++;
	t->pend_frozen = t->npend > 0;
	for (struct tail_file *f = t->files; f; f = f->next)
		f->seen = false;
	for (struct tail_tomb *tb = t->tombs; tb; tb = tb->next)
		tb->seen = false;
	for (size_t i = 0; i < t->conf->paths.n; i++) {
		const char *pat = t->conf->paths.v[i];
		glob_t g;
		int rc;

		watch_pattern_dir(t, pat);
		memset(&g, 0, sizeof(g));
		rc = glob(pat, GLOB_NOSORT | GLOB_BRACE, NULL, &g);
		if (rc == 0) {
			for (size_t k = 0; k < g.gl_pathc; k++) {
				tail_consider(t, g.gl_pathv[k], !t->first_scan_done, false);
				watch_parent(t, g.gl_pathv[k]);
			}
		}
		globfree(&g);
	}
	check_paths(t);
	gc_tombs(t);
	gc_names(t);
	t->scan_deferred = t->npend + t->nwait;
	if (t->scan_deferred && !t->st.deferred)
		log_warn("tail %s: %" PRIu64
			 " matching files not open: the agent is near its limit "
			 "of open files (ulimit -n, LimitNOFILE=); they are opened as files read "
			 "to their end are closed",
			 t->id, t->scan_deferred);
	else if (!t->scan_deferred && t->st.deferred)
		log_info("tail %s: every matching file is open again", t->id);
	t->st.deferred = t->scan_deferred;
}

void tail_check_rotated(struct in_tail *t)
{
	check_paths(t);
}

int tail_find_renamed(const struct tail_file *f, struct stat *st, char *found, size_t cap)
{
	struct tail_meta m = {
		.dev = f->dev, .ino = f->ino, .fp = f->fp, .fp_len = f->fp_len, .btime = f->btime};
	char dir[PATH_MAX];
	size_t n = strlen(f->path);

	if (n >= sizeof(dir))
		return -1;
	memcpy(dir, f->path, n + 1);
	return find_in_dir(dirname(dir), &m, st, found, cap);
}

/* ------------------------------------------------------------ recovery */

/* Open path if it is the file described by m. */
static int open_if_same(const char *path, const struct tail_meta *m, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return -1;
	if (fstat(fd, st) == 0 && S_ISREG(st->st_mode) &&
	    tail_same_file(fd, st, m->dev, m->ino, m->btime, m->fp, m->fp_len))
		return fd;
	close(fd);
	return -1;
}

/* Look for the file among the entries of dir (renamed while we were down). */
static int find_in_dir(const char *dir, const struct tail_meta *m, struct stat *st, char *found,
		       size_t cap)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int fd = -1;

	if (!d)
		return -1;
	while (fd < 0 && (de = readdir(d)) != NULL) {
		struct stat s2;

		if (de->d_ino != (ino_t)m->ino)
			continue;
		if (fstatat(dirfd(d), de->d_name, &s2, 0) != 0 || (uint64_t)s2.st_dev != m->dev)
			continue;
		snprintf(found, cap, "%s/%s", dir, de->d_name);
		fd = open_if_same(found, m, st);
	}
	closedir(d);
	return fd;
}

static void add_tomb(struct in_tail *t, const char *ident, const struct tail_meta *m)
{
	struct tail_tomb *tb = mem_calloc(1, sizeof(*tb));

	if (!tb)
		return;
	tb->ident = mem_strdup(ident);
	tb->path = mem_strndup(m->path, m->path_len);
	if (!tb->ident || !tb->path) {
		mem_free(tb->ident);
		mem_free(tb->path);
		mem_free(tb);
		return;
	}
	tb->dev = m->dev;
	tb->ino = m->ino;
	tb->fp = m->fp;
	tb->fp_len = m->fp_len;
	tb->btime = m->btime;
	tb->next = t->tombs;
	t->tombs = tb;
}

static void remember_name(struct in_tail *t, const char *name)
{
	size_t n = strlen(name);
	struct tail_known *k;

	if (known_name(t, name))
		return;
	k = mem_alloc(sizeof(*k) + n + 1);
	if (!k)
		return;
	memcpy(k->name, name, n + 1);
	if (hmap_insert(&t->known_names, &k->node, hmap_hash(HMAP_SEED, name, n)) < 0) {
		mem_free(k);
		return;
	}
	k->next = t->known_list;
	t->known_list = k;
}

int tail_recover(struct in_tail *t)
{
	const struct source_resume *r;
	const char *ident;

	for (size_t i = 0; (r = input_resume_at(t->in, i, &ident)) != NULL; i++) {
		char path[PATH_MAX], name[PATH_MAX], dir[PATH_MAX];
		struct tail_meta m;
		struct tail_file *f;
		struct stat st;
		int fd;

		if (tail_meta_decode(r->meta, r->meta_len, &m) < 0 || m.path_len >= sizeof(path) ||
		    m.name_len >= sizeof(name)) {
			log_warn("tail %s: unreadable position of source %s; forgetting it", t->id,
				 ident);
			input_forget(t->in, ident);
			continue;
		}
		memcpy(path, m.path, m.path_len);
		path[m.path_len] = '\0';
		memcpy(name, m.name, m.name_len);
		name[m.name_len] = '\0';
		remember_name(t, name);
		if (r->finished) {
			add_tomb(t, ident, &m);
			continue;
		}
		fd = open_if_same(path, &m, &st);
		if (fd < 0 && strcmp(path, name) != 0) {
			fd = open_if_same(name, &m, &st);
			if (fd >= 0)
				snprintf(path, sizeof(path), "%s", name);
		}
		if (fd < 0) {
			memcpy(dir, path, m.path_len + 1);
			fd = find_in_dir(dirname(dir), &m, &st, path, sizeof(path));
		}
		if (fd < 0 && realpath(name, dir) != NULL)
			/* Beside what its name's symlink points at now (a meta
			 * from before paths were kept resolved). */
			fd = find_in_dir(dirname(dir), &m, &st, path, sizeof(path));
		if (fd < 0) {
			t->st.lost_sources++;
			log_warn("tail %s: %s is gone; what it held past byte %" PRIu64
				 " was not shipped",
				 t->id, name, r->ordinal);
			input_forget(t->in, ident);
			continue;
		}
		if ((uint64_t)st.st_size < r->ordinal) {
			/* Truncated while we were away: its old contents are gone. */
			t->st.truncations++;
			close(fd);
			input_forget(t->in, ident);
			continue;
		}
		f = tail_file_add(t, path, name, fd, &st, r->ordinal, ident);
		if (!f)
			return -ENOMEM;
		log_info("tail %s: resuming %s at byte %" PRIu64, t->id, f->path, r->ordinal);
		/* More to resume than descriptors: it waits, closed, for one
		 * (opening the rest would fail and take them for gone). */
		if (tail_fd_short(f->fd))
			tail_file_park(t, f);
		/* Its name (through any symlink) names another file now. */
		if (stat(name, &st) != 0 || (uint64_t)st.st_dev != f->dev ||
		    (uint64_t)st.st_ino != f->ino) {
			f->rotated = true;
			f->moved = true;
			f->was = mem_strndup(m.path, m.path_len);
			tail_name_note(t, f);
		}
	}
	/* Once every recovered file is known (finished ones too), look for the
	 * generations rotated while the agent was down. */
	settle_moved(t);
	return 0;
}
