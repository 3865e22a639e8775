/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Spool segment files: recovery, append, group-committed sync, in-order
 * reads, acknowledgement and deletion.  See spool.h for the contract and
 * spool_entry.h for the bytes.
 *
 * The segment list is an array ordered by first id; the last element is the
 * active segment.  The appender is the only writer of file contents, so it
 * writes outside the lock and publishes sizes and ids under it; the syncer
 * snapshots "what is written" under the lock, syncs outside it and publishes
 * "what is durable"; the owner reads only below the durable mark.
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "agent/spool/spool.h"
#include "lib/clock.h"
#include "lib/crc32c.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/mem.h"

#define ACK_SLOT 32
#define ACK_PERSIST_MS 1000
#define SEG_NAME_LEN 24 /* 20 digits + ".seg" */
_Static_assert(ACK_SLOT == 8 + 8 + 4 + 12,
	       "ack slot: sequence u64 | watermark u64 | crc u32 | 12 zeros");
_Static_assert(SEG_NAME_LEN == 20 + sizeof(".seg") - 1, "segment file name");

struct seg {
	uint64_t first_id;
	uint64_t end_id; /* one past the last entry in the segment */
	uint64_t size;   /* bytes written */
	uint64_t synced; /* bytes known durable */
	int fd;
};

struct spool {
	char *dir;
	struct spool_opts o;
	pthread_mutex_t lock;
	struct seg *segs;
	size_t nsegs;
	size_t capsegs;
	bool dir_dirty;
	uint64_t next_id;    /* appender: id of the next entry */
	uint64_t written_id; /* entries below are written */
	uint64_t durable_id; /* entries below are durable */
	uint64_t acked;      /* entries below are delivered */
	uint64_t acked_persisted;
	uint64_t ack_seq;
	uint64_t ack_time_ms;
	int ack_fd;
	struct spool_table table; /* appender-owned after open */
	struct buf wbuf;          /* appender scratch */
	struct spool_cursor start;
	struct spool_stats st;
};

static void seg_path(const struct spool *sp, uint64_t first_id, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%020" PRIu64 ".seg", sp->dir, first_id);
}

static struct seg *seg_find(struct spool *sp, uint64_t first_id)
{
	for (size_t i = 0; i < sp->nsegs; i++)
		if (sp->segs[i].first_id == first_id)
			return &sp->segs[i];
	return NULL;
}

static int seg_push(struct spool *sp, const struct seg *s)
{
	if (sp->nsegs == sp->capsegs) {
		size_t cap = sp->capsegs ? sp->capsegs * 2 : 8;
		struct seg *v = mem_realloc(sp->segs, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		sp->segs = v;
		sp->capsegs = cap;
	}
	sp->segs[sp->nsegs++] = *s;
	return 0;
}

static int pwritev_full(int fd, struct iovec *iov, int n, off_t off)
{
	while (n > 0) {
		ssize_t w = pwritev(fd, iov, n, off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		off += w;
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/* ------------------------------------------------------------ ack file */

static void ack_load(struct spool *sp)
{
	uint8_t b[2 * ACK_SLOT];
	ssize_t n = fs_pread_full(sp->ack_fd, b, sizeof(b), 0);

	for (int i = 0; n == (ssize_t)sizeof(b) && i < 2; i++) {
		const uint8_t *s = b + i * ACK_SLOT;
		uint64_t seq = get_be64(s);

		if (get_be32(s + 16) != crc32c(0, s, 16) || seq < sp->ack_seq)
			continue;
		sp->ack_seq = seq;
		sp->acked = get_be64(s + 8);
	}
	sp->acked_persisted = sp->acked;
}

static int ack_store(struct spool *sp, uint64_t acked)
{
	uint8_t s[ACK_SLOT];
	uint64_t seq = sp->ack_seq + 1;
	int rc;

	memset(s, 0, sizeof(s));
	put_be64(s, seq);
	put_be64(s + 8, acked);
	put_be32(s + 16, crc32c(0, s, 16));
	/* Two slots written alternately: a torn write leaves the other intact. */
	rc = fs_pwrite_full(sp->ack_fd, s, sizeof(s), (off_t)((seq % 2) * ACK_SLOT));
	if (rc == 0 && fdatasync(sp->ack_fd) != 0)
		rc = -errno;
	if (rc == 0)
		sp->ack_seq = seq;
	return rc;
}

/* ------------------------------------------------------------ segments */

/* Create segment first_id holding its header and the table's SNAPSHOT. */
static int seg_create(struct spool *sp, uint64_t first_id)
{
	char path[4096];
	struct buf *b = &sp->wbuf;
	struct seg s = {.first_id = first_id, .end_id = first_id + 1, .fd = -1};
	size_t start;
	int rc;

	seg_path(sp, first_id, path, sizeof(path));
	buf_reset(b);
	rc = spool_seg_header_encode(b, first_id);
	if (rc == 0)
		rc = spool_frame_begin(b, SPOOL_SNAPSHOT, first_id, clock_wall_ms(), &start);
	if (rc == 0)
		rc = spool_table_encode(&sp->table, b);
	if (rc == 0)
		rc = spool_frame_finish(b, start, NULL, 0);
	if (rc < 0)
		return rc;
	s.fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (s.fd < 0)
		return -errno;
	rc = fs_pwrite_full(s.fd, b->data, b->len, 0);
	if (rc < 0)
		goto fail;
	s.size = b->len;
	pthread_mutex_lock(&sp->lock);
	rc = seg_push(sp, &s);
	if (rc == 0) {
		sp->dir_dirty = true;
		sp->written_id = first_id + 1;
		sp->st.segments = sp->nsegs;
		sp->st.bytes += s.size;
	}
	pthread_mutex_unlock(&sp->lock);
	if (rc < 0)
		goto fail;
	sp->next_id = first_id + 1;
	return 0;
fail:
	close(s.fd);
	unlink(path);
	return rc;
}

int spool_append(struct spool *sp, uint8_t type, const char *topic, int32_t partition,
		 const void *items, size_t items_len, uint32_t nitems, const void *batch,
		 size_t batch_len, uint64_t *id)
{
	struct buf *b = &sp->wbuf;
	struct spool_entry e;
	struct iovec iov[2];
	struct seg *act;
	uint64_t off;
	size_t start;
	bool roll;
	int fd, rc;

	pthread_mutex_lock(&sp->lock);
	act = &sp->segs[sp->nsegs - 1];
	roll = act->size >= sp->o.segment_bytes && act->end_id > act->first_id + 1;
	pthread_mutex_unlock(&sp->lock);
	if (roll) {
		rc = seg_create(sp, sp->next_id);
		if (rc < 0)
			goto out;
	}
	memset(&e, 0, sizeof(e));
	e.type = type;
	e.id = sp->next_id;
	buf_reset(b);
	rc = spool_frame_begin(b, type, e.id, clock_wall_ms(), &start);
	if (rc < 0)
		goto out;
	if (type == SPOOL_BATCH) {
		rc = spool_batch_head_encode(b, topic, strlen(topic), partition, nitems);
		e.topic = topic;
		e.topic_len = strlen(topic);
		e.partition = partition;
	} else {
		rc = buf_append_be32(b, nitems);
	}
	if (rc == 0)
		rc = buf_append(b, items, items_len);
	if (rc == 0 && type == SPOOL_BATCH)
		rc = buf_append_be32(b, (uint32_t)batch_len);
	if (rc == 0)
		rc = spool_frame_finish(b, start, batch, batch_len);
	if (rc < 0)
		goto out;
	if (type == SPOOL_ROUTES) {
		e.nroutes = nitems;
		e.routes = items;
		e.routes_len = items_len;
	} else {
		e.npos = nitems;
		e.pos = items;
		e.pos_len = items_len;
	}
	e.batch = batch;
	e.batch_len = batch_len;

	pthread_mutex_lock(&sp->lock);
	act = &sp->segs[sp->nsegs - 1];
	fd = act->fd;
	off = act->size;
	pthread_mutex_unlock(&sp->lock);
	iov[0].iov_base = b->data;
	iov[0].iov_len = b->len;
	iov[1].iov_base = (void *)batch;
	iov[1].iov_len = batch_len;
	rc = pwritev_full(fd, iov, batch_len ? 2 : 1, (off_t)off);
	if (rc < 0) {
		/* Leave no partial frame behind: the next append starts clean. */
		if (ftruncate(fd, (off_t)off) != 0)
			log_error("spool %s: cannot cut back a failed write: %s", sp->dir,
				  err_str(-errno));
		pthread_mutex_lock(&sp->lock);
		sp->st.write_errors++;
		pthread_mutex_unlock(&sp->lock);
		goto out;
	}
	rc = spool_table_apply(&sp->table, &e);
	if (rc < 0)
		log_error("spool %s: position table: %s", sp->dir, err_str(rc));
	rc = 0;
	pthread_mutex_lock(&sp->lock);
	act = &sp->segs[sp->nsegs - 1];
	act->size += b->len + batch_len;
	act->end_id = e.id + 1;
	sp->written_id = e.id + 1;
	sp->st.bytes += b->len + batch_len;
	sp->st.appended++;
	pthread_mutex_unlock(&sp->lock);
	sp->next_id = e.id + 1;
	*id = e.id;
out:
	return rc;
}

/* ------------------------------------------------------------ sync */

bool spool_dirty(struct spool *sp)
{
	bool d;

	pthread_mutex_lock(&sp->lock);
	d = sp->written_id != sp->durable_id || sp->dir_dirty;
	pthread_mutex_unlock(&sp->lock);
	return d;
}

uint64_t spool_durable_id(struct spool *sp)
{
	uint64_t v;

	pthread_mutex_lock(&sp->lock);
	v = sp->durable_id;
	pthread_mutex_unlock(&sp->lock);
	return v;
}

int spool_sync(struct spool *sp, bool force_ack)
{
	struct {
		uint64_t first_id;
		uint64_t size;
		int fd;
	} todo[16];
	size_t n = 0;
	uint64_t target, before, ack = 0, now = clock_mono_ms();
	bool dir, do_ack = false, more = false;
	int rc = 0;

	pthread_mutex_lock(&sp->lock);
	target = sp->written_id;
	before = sp->durable_id;
	for (size_t i = 0; i < sp->nsegs; i++) {
		struct seg *s = &sp->segs[i];

		if (s->synced == s->size)
			continue;
		if (n == sizeof(todo) / sizeof(todo[0])) {
			more = true; /* the rest next round; durable cannot move yet */
			break;
		}
		todo[n].first_id = s->first_id;
		todo[n].size = s->size;
		todo[n].fd = s->fd;
		n++;
	}
	dir = sp->dir_dirty;
	sp->dir_dirty = false;
	if (sp->acked != sp->acked_persisted &&
	    (force_ack || now >= sp->ack_time_ms + ACK_PERSIST_MS)) {
		do_ack = true;
		ack = sp->acked;
	}
	pthread_mutex_unlock(&sp->lock);

	for (size_t i = 0; i < n && rc == 0; i++)
		if (fdatasync(todo[i].fd) != 0)
			rc = -errno;
	if (rc == 0 && dir)
		rc = fs_fsync_dir(sp->dir);
	pthread_mutex_lock(&sp->lock);
	if (rc == 0) {
		for (size_t i = 0; i < n; i++) {
			struct seg *s = seg_find(sp, todo[i].first_id);

			if (s && s->synced < todo[i].size)
				s->synced = todo[i].size;
		}
		if (!more && target > sp->durable_id)
			sp->durable_id = target;
		sp->st.syncs++;
	} else {
		sp->dir_dirty |= dir;
		sp->st.write_errors++;
	}
	pthread_mutex_unlock(&sp->lock);
	if (rc < 0) {
		log_error("spool %s: fdatasync: %s", sp->dir, err_str(rc));
		return rc;
	}
	if (do_ack) {
		int arc = ack_store(sp, ack);

		pthread_mutex_lock(&sp->lock);
		if (arc == 0)
			sp->acked_persisted = ack;
		sp->ack_time_ms = now;
		pthread_mutex_unlock(&sp->lock);
		if (arc < 0)
			log_error("spool %s: cannot persist the acknowledged mark: %s", sp->dir,
				  err_str(arc));
	}
	return (int)(more ? 0 : (target > before ? target - before : 0));
}

/* ------------------------------------------------------------ reading */

void spool_cursor_start(struct spool *sp, struct spool_cursor *c)
{
	*c = sp->start;
}

#define READ_HEAD 16384

int spool_read(struct spool *sp, struct spool_cursor *c, struct buf *scratch, struct spool_entry *e,
	       struct spool_loc *loc, bool head_only)
{
	uint8_t fh[SPOOL_FRAME_SIZE];
	uint32_t len, crc;
	uint64_t limit;
	ssize_t got;
	int fd, rc;

	pthread_mutex_lock(&sp->lock);
	for (;;) {
		struct seg *s = seg_find(sp, c->seg);

		if (c->id >= sp->durable_id) {
			pthread_mutex_unlock(&sp->lock);
			return 0;
		}
		if (!s) {
			/* Deleted under us (all acknowledged): go to the next one. */
			size_t i = 0;

			while (i < sp->nsegs && sp->segs[i].first_id <= c->seg)
				i++;
			if (i == sp->nsegs) {
				pthread_mutex_unlock(&sp->lock);
				return 0;
			}
			c->seg = sp->segs[i].first_id;
			c->off = SPOOL_SEG_HEADER_SIZE;
			continue;
		}
		if (c->off >= s->size) {
			size_t i = (size_t)(s - sp->segs) + 1;

			if (i == sp->nsegs) {
				pthread_mutex_unlock(&sp->lock);
				return 0;
			}
			c->seg = sp->segs[i].first_id;
			c->off = SPOOL_SEG_HEADER_SIZE;
			continue;
		}
		fd = s->fd;
		limit = s->size;
		break;
	}
	pthread_mutex_unlock(&sp->lock);

	got = fs_pread_full(fd, fh, sizeof(fh), (off_t)c->off);
	if (got < 0)
		return (int)got;
	rc = got == (ssize_t)sizeof(fh) ? spool_frame_decode(fh, sizeof(fh), &len, &crc)
					: -ERR_CORRUPT;
	if (rc < 0 || c->off + SPOOL_FRAME_SIZE + len > limit) {
		rc = -ERR_CORRUPT;
		goto corrupt;
	}
	buf_reset(scratch);
	if (head_only && len > READ_HEAD) {
		rc = buf_reserve(scratch, READ_HEAD);
		if (rc < 0)
			return rc;
		got = fs_pread_full(fd, scratch->data, READ_HEAD,
				    (off_t)(c->off + SPOOL_FRAME_SIZE));
		if (got < 0)
			return (int)got;
		rc = got == READ_HEAD ? spool_entry_decode_head(scratch->data, READ_HEAD, len, e)
				      : -ERR_CORRUPT;
		if (rc == 0 && e->id >= c->id)
			goto found;
		if (rc != -ERR_TRUNCATED) {
			rc = -ERR_CORRUPT;
			goto corrupt;
		}
	}
	rc = buf_reserve(scratch, len);
	if (rc < 0)
		return rc;
	got = fs_pread_full(fd, scratch->data, len, (off_t)(c->off + SPOOL_FRAME_SIZE));
	if (got < 0)
		return (int)got;
	scratch->len = (size_t)got;
	if ((uint32_t)got != len || crc32c(0, scratch->data, len) != crc ||
	    spool_entry_decode(scratch->data, len, e) < 0 || e->id < c->id) {
		rc = -ERR_CORRUPT;
		goto corrupt;
	}
found:
	loc->seg = c->seg;
	loc->off = c->off + SPOOL_FRAME_SIZE + e->batch_off;
	loc->len = (uint32_t)e->batch_len;
	c->off += SPOOL_FRAME_SIZE + len;
	c->id = e->id + 1;
	return 1;
corrupt:
	log_error("spool %s: corrupt entry in segment %020" PRIu64 " at byte %" PRIu64
		  "; skipping the rest of the segment",
		  sp->dir, c->seg, c->off);
	pthread_mutex_lock(&sp->lock);
	sp->st.corrupt_entries++;
	pthread_mutex_unlock(&sp->lock);
	c->off = limit;
	return -ERR_CORRUPT;
}

int spool_read_batch(struct spool *sp, const struct spool_loc *loc, struct buf *out)
{
	struct seg *s;
	ssize_t got;
	int fd = -1, rc;

	pthread_mutex_lock(&sp->lock);
	s = seg_find(sp, loc->seg);
	if (s && loc->off + loc->len <= s->size)
		fd = s->fd;
	pthread_mutex_unlock(&sp->lock);
	if (fd < 0)
		return -ERR_NOT_FOUND;
	rc = buf_reserve(out, loc->len);
	if (rc < 0)
		return rc;
	got = fs_pread_full(fd, out->data + out->len, loc->len, (off_t)loc->off);
	if (got < 0)
		return (int)got;
	if ((uint32_t)got != loc->len)
		return -ERR_TRUNCATED;
	out->len += loc->len;
	return 0;
}

void spool_ack(struct spool *sp, uint64_t id)
{
	struct {
		uint64_t first_id;
		int fd;
	} gone[16];
	size_t n;

	do {
		n = 0;
		pthread_mutex_lock(&sp->lock);
		if (id > sp->acked)
			sp->acked = id;
		/* A segment may go when everything in it is delivered and the
		 * next segment's SNAPSHOT (its first entry) is durable: the
		 * table survives. */
		while (sp->nsegs > 1 && n < sizeof(gone) / sizeof(gone[0])) {
			struct seg *s = &sp->segs[0];

			if (s->end_id > sp->acked || sp->segs[1].first_id >= sp->durable_id ||
			    s->synced != s->size)
				break;
			gone[n].first_id = s->first_id;
			gone[n].fd = s->fd;
			n++;
			sp->st.bytes -= s->size;
			memmove(&sp->segs[0], &sp->segs[1], (sp->nsegs - 1) * sizeof(*s));
			sp->nsegs--;
		}
		sp->st.segments = sp->nsegs;
		pthread_mutex_unlock(&sp->lock);
		for (size_t i = 0; i < n; i++) {
			char path[4096];

			seg_path(sp, gone[i].first_id, path, sizeof(path));
			close(gone[i].fd);
			if (unlink(path) != 0)
				log_warn("spool %s: cannot delete %s: %s", sp->dir, path,
					 err_str(-errno));
		}
	} while (n == sizeof(gone) / sizeof(gone[0]));
}

void spool_get_stats(struct spool *sp, struct spool_stats *st)
{
	pthread_mutex_lock(&sp->lock);
	*st = sp->st;
	st->entries_pending = sp->durable_id > sp->acked ? sp->durable_id - sp->acked : 0;
	pthread_mutex_unlock(&sp->lock);
}

uint64_t spool_bytes(struct spool *sp)
{
	uint64_t v;

	pthread_mutex_lock(&sp->lock);
	v = sp->st.bytes;
	pthread_mutex_unlock(&sp->lock);
	return v;
}

const char *spool_dir(const struct spool *sp)
{
	return sp->dir;
}

const struct spool_table *spool_table(const struct spool *sp)
{
	return &sp->table;
}

/* ------------------------------------------------------------ recovery */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The ids of the segment files in dir, sorted. */
static int list_segments(const char *dir, uint64_t **ids, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	uint64_t *v = NULL;
	size_t cnt = 0, cap = 0;
	int rc = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		const char *nm = de->d_name;
		uint64_t id = 0;
		size_t i;

		if (strlen(nm) != SEG_NAME_LEN || strcmp(nm + 20, ".seg") != 0)
			continue;
		for (i = 0; i < 20 && nm[i] >= '0' && nm[i] <= '9'; i++)
			id = id * 10 + (uint64_t)(nm[i] - '0');
		if (i != 20)
			continue;
		if (cnt == cap) {
			uint64_t *nv;

			cap = cap ? cap * 2 : 16;
			nv = mem_realloc(v, cap * sizeof(*v));
			if (!nv) {
				rc = -ENOMEM;
				break;
			}
			v = nv;
		}
		v[cnt++] = id;
	}
	closedir(d);
	if (rc < 0) {
		mem_free(v);
		return rc;
	}
	if (cnt > 1)
		qsort(v, cnt, sizeof(*v), cmp_u64);
	*ids = v;
	*n = cnt;
	return 0;
}

/* Scan one segment: apply its entries, find where valid data ends. */
static int seg_recover(struct spool *sp, struct seg *s, bool last, struct buf *scan,
		       bool *have_start)
{
	struct stat stt;
	uint64_t off = SPOOL_SEG_HEADER_SIZE, expect = s->first_id, size;
	const char *why = NULL;
	ssize_t got;
	int rc;

	if (fstat(s->fd, &stt) != 0)
		return -errno;
	size = (uint64_t)stt.st_size;
	while (off < size) {
		uint8_t fh[SPOOL_FRAME_SIZE];
		struct spool_entry e;
		uint32_t len, crc;

		got = fs_pread_full(s->fd, fh, sizeof(fh), (off_t)off);
		if (got < 0)
			return (int)got;
		if (got != (ssize_t)sizeof(fh) ||
		    spool_frame_decode(fh, sizeof(fh), &len, &crc) < 0 ||
		    off + SPOOL_FRAME_SIZE + len > size) {
			why = "bad or incomplete frame";
			break;
		}
		buf_reset(scan);
		rc = buf_reserve(scan, len);
		if (rc < 0)
			return rc;
		got = fs_pread_full(s->fd, scan->data, len, (off_t)(off + SPOOL_FRAME_SIZE));
		if (got < 0)
			return (int)got;
		if ((uint32_t)got != len || crc32c(0, scan->data, len) != crc) {
			why = "checksum mismatch";
			break;
		}
		if (spool_entry_decode(scan->data, len, &e) < 0 || e.id != expect) {
			why = "malformed entry";
			break;
		}
		if (expect == s->first_id && e.type != SPOOL_SNAPSHOT)
			log_warn("spool %s: segment %020" PRIu64 " does not open with a snapshot",
				 sp->dir, s->first_id);
		rc = spool_table_apply(&sp->table, &e);
		if (rc < 0)
			return rc;
		if (!*have_start && e.id >= sp->acked) {
			sp->start.seg = s->first_id;
			sp->start.off = off;
			sp->start.id = e.id;
			*have_start = true;
		}
		expect = e.id + 1;
		off += SPOOL_FRAME_SIZE + len;
	}
	if (off < size) {
		if (last) {
			log_warn("spool %s: torn tail in segment %020" PRIu64 " at byte %" PRIu64
				 " (%s): cutting %" PRIu64 " bytes",
				 sp->dir, s->first_id, off, why, size - off);
			sp->st.torn_bytes += size - off;
		} else {
			log_error("spool %s: corruption in segment %020" PRIu64 " at byte %" PRIu64
				  " (%s): %" PRIu64 " bytes after it are lost",
				  sp->dir, s->first_id, off, why, size - off);
			sp->st.corrupt_entries++;
		}
		if (ftruncate(s->fd, (off_t)off) != 0)
			return -errno;
	}
	s->size = off;
	s->synced = off;
	s->end_id = expect;
	if (fdatasync(s->fd) != 0)
		return -errno;
	return 0;
}

static int recover(struct spool *sp, bool *fresh)
{
	uint64_t *ids = NULL;
	size_t n = 0;
	struct buf scan;
	bool have_start = false;
	int rc;

	buf_init(&scan, SPOOL_MAX_ENTRY);
	rc = list_segments(sp->dir, &ids, &n);
	if (rc < 0)
		goto out;
	*fresh = n == 0;
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		uint8_t hdr[SPOOL_SEG_HEADER_SIZE];
		struct seg s = {.first_id = ids[i], .fd = -1};
		uint64_t hid = 0;
		ssize_t got;
		bool last = i + 1 == n;

		seg_path(sp, ids[i], path, sizeof(path));
		s.fd = open(path, O_RDWR | O_CLOEXEC);
		if (s.fd < 0) {
			rc = -errno;
			goto out;
		}
		got = fs_pread_full(s.fd, hdr, sizeof(hdr), 0);
		if (got < 0 || spool_seg_header_decode(hdr, (size_t)got, &hid) < 0 ||
		    hid != ids[i]) {
			close(s.fd);
			if (last) {
				/* Created but never made durable: nothing in it was. */
				log_warn("spool %s: removing segment %s with an incomplete header",
					 sp->dir, path);
				unlink(path);
			} else {
				char bad[4112];

				log_error("spool %s: segment %s has a bad header; moved aside",
					  sp->dir, path);
				snprintf(bad, sizeof(bad), "%s.corrupt", path);
				rename(path, bad);
				sp->st.corrupt_entries++;
			}
			continue;
		}
		rc = seg_recover(sp, &s, last, &scan, &have_start);
		if (rc < 0) {
			close(s.fd);
			goto out;
		}
		if (ids[i] > sp->next_id)
			sp->next_id = ids[i];
		if (s.end_id == s.first_id) {
			/* Not even its snapshot survived: nothing in it was durable
			 * (an older segment would have lost entries, logged above). */
			close(s.fd);
			unlink(path);
			continue;
		}
		rc = seg_push(sp, &s);
		if (rc < 0) {
			close(s.fd);
			goto out;
		}
		sp->st.bytes += s.size;
		if (s.end_id > sp->next_id)
			sp->next_id = s.end_id;
	}
	if (sp->acked > sp->next_id)
		sp->acked = sp->next_id; /* an ack file from another life */
	sp->written_id = sp->durable_id = sp->next_id;
	if (sp->nsegs == 0) {
		rc = seg_create(sp, sp->next_id);
		if (rc < 0)
			goto out;
		sp->durable_id = sp->written_id; /* only a snapshot: nothing to deliver */
	}
	if (!have_start) {
		struct seg *l = &sp->segs[sp->nsegs - 1];

		sp->start.seg = l->first_id;
		sp->start.off = l->size;
		sp->start.id = sp->next_id;
	}
	sp->st.segments = sp->nsegs;
out:
	buf_release(&scan);
	mem_free(ids);
	return rc;
}

int spool_open(const char *dir, const struct spool_opts *o, struct spool **out, bool *fresh)
{
	struct spool *sp;
	char path[4096];
	int rc;

	*out = NULL;
	sp = mem_calloc(1, sizeof(*sp));
	if (!sp)
		return -ENOMEM;
	pthread_mutex_init(&sp->lock, NULL);
	spool_table_init(&sp->table);
	buf_init(&sp->wbuf, SPOOL_MAX_ENTRY);
	sp->ack_fd = -1;
	sp->o = *o;
	if (sp->o.segment_bytes < 4096)
		sp->o.segment_bytes = 4096;
	sp->dir = mem_strdup(dir);
	if (!sp->dir) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = fs_mkdirs(dir, 0750);
	if (rc < 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/ack", dir);
	sp->ack_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (sp->ack_fd < 0) {
		rc = -errno;
		goto fail;
	}
	ack_load(sp);
	rc = recover(sp, fresh);
	if (rc < 0)
		goto fail;
	sp->ack_time_ms = clock_mono_ms();
	spool_ack(sp, sp->acked);
	*out = sp;
	return 0;
fail:
	log_error("spool %s: cannot open: %s", dir, err_str(rc));
	spool_free(sp);
	return rc;
}

void spool_free(struct spool *sp)
{
	if (!sp)
		return;
	if (sp->ack_fd >= 0) {
		if (sp->acked != sp->acked_persisted && ack_store(sp, sp->acked) < 0)
			log_warn("spool %s: cannot persist the acknowledged mark", sp->dir);
		close(sp->ack_fd);
	}
	for (size_t i = 0; i < sp->nsegs; i++)
		close(sp->segs[i].fd);
	mem_free(sp->segs);
	spool_table_release(&sp->table);
	buf_release(&sp->wbuf);
	pthread_mutex_destroy(&sp->lock);
	mem_free(sp->dir);
	mem_free(sp);
}
