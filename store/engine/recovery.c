/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Partition recovery (see recovery.h for the rules): list the directory,
 * open the segments in offset order, trust / check / validate each according
 * to the recovery point, truncate a torn or corrupt tail, make what was
 * recovered durable, and rebuild the idempotent-producer state.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "store/engine/recovery.h"

/* Bound on a snapshot file read into memory. */
#define SNAPSHOT_MAX_BYTES (256u << 20)

struct recovery_offsets {
	int64_t *v;
	size_t n, cap;
};

static int recovery_offsets_push(struct recovery_offsets *o, int64_t v)
{
	if (o->n == o->cap) {
		size_t ncap = o->cap ? o->cap * 2 : 16;
		int64_t *n = mem_realloc(o->v, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		o->v = n;
		o->cap = ncap;
	}
	o->v[o->n++] = v;
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* "<20 digits>.<ext>": the base offset, or -1. */
static int64_t parse_name(const char *name, const char **ext)
{
	int64_t v = 0;

	for (int i = 0; i < 20; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -1;
		if (v > (INT64_MAX - (name[i] - '0')) / 10)
			return -1;
		v = v * 10 + (name[i] - '0');
	}
	if (name[20] != '.')
		return -1;
	*ext = name + 21;
	return v;
}

static void unlink_in(const char *dir, const char *name)
{
	char p[4096];
	int n = snprintf(p, sizeof(p), "%s/%s", dir, name);

	if (n > 0 && (size_t)n < sizeof(p))
		unlink(p);
}

static void remove_segment_files(const char *dir, int64_t base)
{
	static const char *const exts[] = {"log", "index", "timeindex", "bidx"};
	char p[4096];

	for (size_t i = 0; i < 4; i++)
		if (segment_path(p, sizeof(p), dir, base, exts[i]) == 0)
			unlink(p);
}

/* List segment bases and snapshot offsets; remove temp files and index
 * files whose log is gone. */
static int list_dir(const char *dir, struct recovery_offsets *logs, struct recovery_offsets *snaps)
{
	struct recovery_offsets orphans = {0};
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d)) != NULL) {
		const char *ext = NULL;
		size_t len = strlen(e->d_name);
		int64_t v;

		if (len > 4 && strcmp(e->d_name + len - 4, ".tmp") == 0) {
			unlink_in(dir, e->d_name);
			continue;
		}
		v = parse_name(e->d_name, &ext);
		if (v < 0)
			continue;
		if (strcmp(ext, "log") == 0)
			rc = recovery_offsets_push(logs, v);
		else if (strcmp(ext, "snapshot") == 0)
			rc = recovery_offsets_push(snaps, v);
		else if (strcmp(ext, "index") == 0 || strcmp(ext, "timeindex") == 0 ||
			 strcmp(ext, "bidx") == 0)
			rc = recovery_offsets_push(&orphans, v);
		if (rc < 0)
			break;
	}
	closedir(d);
	if (rc == 0) {
		/* (NULL, 0) is undefined for qsort and bsearch */
		if (logs->n)
			qsort(logs->v, logs->n, sizeof(int64_t), cmp_i64);
		if (snaps->n)
			qsort(snaps->v, snaps->n, sizeof(int64_t), cmp_i64);
		for (size_t i = 0; i < orphans.n; i++) {
			if (!logs->n ||
			    !bsearch(&orphans.v[i], logs->v, logs->n, sizeof(int64_t), cmp_i64))
				remove_segment_files(dir, orphans.v[i]);
		}
	}
	mem_free(orphans.v);
	return rc;
}

static int segs_push(struct partition *p, struct segment *s)
{
	if (p->nsegs == p->segs_cap) {
		size_t ncap = p->segs_cap ? p->segs_cap * 2 : 8;
		struct segment **n = mem_realloc(p->segs, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		p->segs = n;
		p->segs_cap = ncap;
	}
	p->segs[p->nsegs++] = s;
	return 0;
}

/* A sealed segment recovered from page-cache contents: make its three files
 * durable before its offsets count as such. */
static int sync_sealed(struct segment *s)
{
	int rc = 0;

	if (fdatasync(s->fd) != 0)
		rc = -errno;
	if (s->idx.fd >= 0) {
		if (rc == 0 && fdatasync(s->idx.fd) != 0)
			rc = -errno;
		close(s->idx.fd);
		s->idx.fd = -1;
	}
	if (s->tidx.fd >= 0) {
		if (rc == 0 && fdatasync(s->tidx.fd) != 0)
			rc = -errno;
		close(s->tidx.fd);
		s->tidx.fd = -1;
	}
	s->synced = rc == 0;
	return rc;
}

static void report_cut(const struct partition *p, const struct segment *s,
		       const struct seg_recovery *r)
{
	log_warn("log %s-%d: recovery truncated %lld bytes at %020lld.log position %lld "
		 "(offsets from %lld dropped): %s",
		 p->topic, p->index, (long long)r->cut_bytes, (long long)s->base,
		 (long long)r->cut_pos, (long long)r->cut_offset, r->why);
}

/* Rebuild the producer state: newest usable snapshot, then batch headers. */
static int load_producers(struct partition *p, const struct recovery_offsets *snaps,
			  struct recovery *rep)
{
	int64_t from = -1, now = clock_wall_ms();
	struct buf b;
	int rc = 0;

	producer_state_clear(&p->producers);
	buf_init(&b, SNAPSHOT_MAX_BYTES);
	for (size_t i = snaps->n; i-- > 0;) {
		char path[4096];
		int64_t off;

		if (segment_path(path, sizeof(path), p->dir, snaps->v[i], "snapshot") < 0)
			continue;
		if (snaps->v[i] > p->end || from >= 0) {
			/* past the recovered end (describes lost batches) or superseded */
			if (snaps->v[i] > p->end)
				unlink(path);
			continue;
		}
		buf_reset(&b);
		if (fs_read_file(path, &b) < 0 ||
		    producer_state_load(&p->producers, b.data, b.len, &off) < 0 ||
		    off != snaps->v[i]) {
			log_warn("log %s-%d: ignoring unreadable producer snapshot %s", p->topic,
				 p->index, path);
			producer_state_clear(&p->producers);
			unlink(path);
			continue;
		}
		from = off;
	}
	buf_release(&b);
	rep->snapshot_offset = from;
	if (from < p->log_start)
		from = p->log_start;
	/* replay the headers of every batch from the snapshot on */
	for (size_t i = 0; i < p->nsegs && rc == 0; i++) {
		struct segment *s = p->segs[i];
		int64_t eo, pos;
		long eno;

		if (s->next_offset <= from || s->size == 0)
			continue;
		segment_lookup(s, from, &eo, &pos, &eno);
		if (eno >= 0) {
			struct batch_info bi;

			/* an index entry is a hint: it must name the batch it points at */
			if (segment_read_header(s->fd, pos, &bi) < 0 || bi.base_offset != eo)
				pos = 0;
		}
		while (pos < s->size) {
			struct batch_info bi;

			rc = segment_read_header(s->fd, pos, &bi);
			if (rc < 0) {
				log_warn("log %s-%d: producer state replay stopped at %020lld.log "
					 "position %lld: %s",
					 p->topic, p->index, (long long)s->base, (long long)pos,
					 err_str(rc));
				rc = 0;
				break;
			}
			if (bi.base_offset >= from) {
				rc = producer_state_update(&p->producers, &bi, bi.base_offset, now);
				if (rc < 0)
					break;
				rep->replayed_batches++;
			}
			pos += bi.size;
		}
	}
	return rc;
}

/* The state of one recovery_run(), shared by its steps. */
struct recovery_scan {
	struct partition *p;
	struct recovery *rep;
	struct recovery_offsets logs, snaps;
	size_t n; /* segments of logs still in play */
	size_t k; /* the segment holding the trusted point */
	struct partition_point trust;
	int64_t now;
	bool dir_changed;
};

/* Repair: nothing at or past the cut survives. */
static int apply_cut(struct recovery_scan *sc, const struct partition_point *cut)
{
	struct partition *p = sc->p;

	while (sc->n > 0 && sc->logs.v[sc->n - 1] > cut->seg_base) {
		remove_segment_files(p->dir, sc->logs.v[--sc->n]);
		sc->dir_changed = true;
	}
	if (sc->n > 0 && sc->logs.v[sc->n - 1] == cut->seg_base) {
		char path[4096];
		int fd, rc;

		rc = segment_path(path, sizeof(path), p->dir, cut->seg_base, "log");
		if (rc < 0)
			return rc;
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || ftruncate(fd, cut->pos) != 0) {
			rc = -errno;
			if (fd >= 0)
				close(fd);
			return rc;
		}
		close(fd);
	}
	return 0;
}

/* The segment holding the recovery point; if it is gone, the last one
 * below, validated from its start. */
static void find_trusted(struct recovery_scan *sc, const struct partition_point *rp)
{
	const int64_t *v = sc->logs.v;

	sc->trust = *rp;
	sc->k = 0;
	for (size_t i = 0; i < sc->n; i++) {
		if (v[i] <= rp->offset)
			sc->k = i;
		if (v[i] == rp->seg_base) {
			sc->k = i;
			break;
		}
	}
	if (sc->n == 0 || v[sc->k] != rp->seg_base)
		sc->trust.pos = 0;
	if (sc->n > 0 && rp->offset < v[0])
		sc->trust.pos = 0;
}

/* Segment i at or past the trusted one: validate its tail, cut what is torn
 * (and drop every later segment), make what is kept durable.  Returns 1 when
 * the segment does not follow its predecessor: it and every later one are
 * removed and the scan stops. */
static int recover_tail(struct recovery_scan *sc, size_t i, struct segment *s)
{
	struct partition *p = sc->p;
	struct seg_recovery r;
	int rc;

	if (p->nsegs > 0 && s->base != p->segs[p->nsegs - 1]->next_offset &&
	    p->segs[p->nsegs - 1]->size > 0) {
		log_warn("log %s-%d: segment %020lld.log does not follow offset %lld; "
			 "removing it and every later segment",
			 p->topic, p->index, (long long)s->base,
			 (long long)p->segs[p->nsegs - 1]->next_offset);
		for (size_t j = i; j < sc->n; j++)
			remove_segment_files(p->dir, sc->logs.v[j]);
		sc->dir_changed = true;
		return 1;
	}
	rc = segment_recover(s, i == sc->k ? sc->trust.pos : 0, i == sc->k ? sc->trust.max_ts : -1,
			     p->interval, &r);
	sc->rep->validated_bytes += r.validated_bytes;
	if (rc == 0 && r.rescanned)
		log_warn("log %s-%d: recovery point does not match segment %020lld.log; "
			 "validated it whole",
			 p->topic, p->index, (long long)s->base);
	if (rc == 0 && r.cut_pos >= 0) {
		report_cut(p, s, &r);
		sc->rep->truncated_bytes += r.cut_bytes;
		atomic_fetch_add(&p->counters->truncated_bytes, (uint64_t)r.cut_bytes);
		sc->dir_changed = true;
		for (size_t j = i + 1; j < sc->n; j++) {
			log_warn("log %s-%d: removing segment %020lld.log after the cut", p->topic,
				 p->index, (long long)sc->logs.v[j]);
			remove_segment_files(p->dir, sc->logs.v[j]);
		}
		sc->n = i + 1;
	}
	/* what recovery kept may only be in the page cache */
	if (rc == 0 && fdatasync(s->fd) != 0)
		rc = -errno;
	if (rc == 0 && i + 1 < sc->n) {
		segment_seal(s);
		rc = sync_sealed(s);
	}
	return rc;
}

/* Open every segment in play: below the trusted one they are sealed and
 * trusted (indexes rebuilt when inconsistent), from it on validated. */
static int open_segments(struct recovery_scan *sc)
{
	struct partition *p = sc->p;
	int rc = 0;

	for (size_t i = 0; i < sc->n; i++) {
		struct seg_recovery r;
		struct segment *s;

		rc = segment_open(p->dir, sc->logs.v[i], sc->now, &s);
		if (rc < 0) {
			log_error("log %s-%d: cannot open segment %020lld.log: %s", p->topic,
				  p->index, (long long)sc->logs.v[i], err_str(rc));
			return rc;
		}
		if (i < sc->k) {
			rc = segment_load_sealed(s, sc->logs.v[i + 1], p->interval, &r);
			if (r.why)
				log_error(
					"log %s-%d: segment %020lld.log below the recovery point: %s; "
					"it is served up to position %lld",
					p->topic, p->index, (long long)s->base, r.why,
					(long long)s->size);
			else if (r.rescanned)
				log_info("log %s-%d: rebuilt the indexes of segment %020lld",
					 p->topic, p->index, (long long)s->base);
		} else {
			rc = recover_tail(sc, i, s);
			if (rc == 1) {
				segment_unref(s);
				return 0;
			}
		}
		if (rc < 0) {
			log_error("log %s-%d: recovering segment %020lld.log: %s", p->topic,
				  p->index, (long long)s->base, err_str(rc));
			segment_unref(s);
			return rc;
		}
		rc = segs_push(p, s);
		if (rc < 0) {
			segment_unref(s);
			return rc;
		}
		sc->rep->segments++;
	}
	return rc;
}

/* The partition's offsets and sizes from its recovered segments. */
static void set_bounds(struct partition *p)
{
	struct segment *a = p->segs[p->nsegs - 1];

	p->end = a->next_offset;
	p->log_start = p->segs[0]->base;
	p->visible = p->end;
	p->vis_seg = a->base;
	p->vis_pos = a->size;
	p->durable = (struct partition_point){p->end, a->base, a->size, a->max_ts, true};
	p->bytes = 0;
	p->last_ts = -1;
	for (size_t i = 0; i < p->nsegs; i++) {
		p->bytes += p->segs[i]->size;
		if (p->segs[i]->max_ts > p->last_ts)
			p->last_ts = p->segs[i]->max_ts;
	}
}

int recovery_run(struct partition *p, const struct partition_point *rp,
		 const struct partition_point *cut, struct recovery *rep)
{
	struct recovery_scan sc = {.p = p, .rep = rep, .now = clock_wall_ms()};
	int rc;

	memset(rep, 0, sizeof(*rep));
	rep->snapshot_offset = -1;
	rc = list_dir(p->dir, &sc.logs, &sc.snaps);
	if (rc < 0)
		goto out;
	sc.n = sc.logs.n;
	if (cut && cut->valid) {
		rc = apply_cut(&sc, cut);
		if (rc < 0)
			goto out;
		rp = cut;
	}
	if (rp && rp->valid)
		find_trusted(&sc, rp);
	rc = open_segments(&sc);
	if (rc < 0)
		goto out;
	if (p->nsegs == 0 || p->segs[p->nsegs - 1]->sealed) {
		int64_t base = p->nsegs ? p->segs[p->nsegs - 1]->next_offset : 0;
		struct segment *s;

		rc = segment_create(p->dir, base, sc.now, &s);
		if (rc == 0)
			rc = segs_push(p, s);
		if (rc < 0)
			goto out;
		s->dir_synced = true; /* synced just below */
		sc.dir_changed = true;
	}
	if (sc.dir_changed) {
		rc = fs_fsync_dir(p->dir);
		if (rc < 0)
			goto out;
	}
	set_bounds(p);
	rc = load_producers(p, &sc.snaps, rep);
	if (rc == 0)
		partition_load_log_start(p);
	if (rc == 0)
		rc = ptxn_rebuild(&p->txn, p->dir, p->segs, p->nsegs);
out:
	mem_free(sc.logs.v);
	mem_free(sc.snaps.v);
	return rc;
}
