/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Committed offsets: an in-memory hash table in front of an append-only,
 * CRC-framed journal, synced by a group-commit flusher thread.
 *
 * Journal (docs/FORMATS.md):
 *   header  "SLCO" u32 version (1)
 *   record  u32 len (of what follows) | u32 crc32c (of body) | body
 *   body    u8 type (1 commit, 2 tombstone) | i64 commit_ms |
 *           u16 group_len group | u16 topic_len topic | i32 partition |
 *           commit only: i64 offset | i32 leader_epoch | i32 meta_len (-1 null) meta
 * Integers are big-endian.  Replay stops at the first record that is short
 * or fails its CRC and truncates the file there: only a torn tail from a
 * crash can look like that, since the file is only ever appended to.
 *
 * Sync protocol: the loop thread writes records at `written` (pwrite) and
 * queues the commit with need = written; the flusher waits for
 * written > synced, fdatasyncs, publishes synced and wakes the loop, which
 * applies and completes every queued commit with need <= synced.  Records
 * are applied only after their sync, so readers never see a commit that a
 * crash could take back.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/crc32c.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/hmap.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "store/groups/offsets.h"

#define MAGIC "SLCO"
#define VERSION 1
#define HEADER_SIZE 8
_Static_assert(sizeof(MAGIC) - 1 == 4 && HEADER_SIZE == 4 + 4,
	       "journal header: magic | version u32");
#define REC_COMMIT 1
#define REC_TOMBSTONE 2
#define REC_MAX (64u * 1024)
#define JOURNAL_MAX (1u << 30)
#define COMPACT_MIN (1u << 20)

struct oentry {
	struct hmap_node node; /* in offsets.table */
	char *group;
	char *topic;
	int32_t partition;
	int64_t offset;
	int32_t leader_epoch;
	char *metadata;
	int64_t commit_ms;
};

struct offsets_pending {
	struct offsets_pending *next;
	struct offsets_commit *c; /* NULL once cancelled */
	uint64_t need;            /* durable once synced >= need */
	int rc;
	struct buf bytes; /* the records, applied after the sync */
};

struct offsets {
	struct evloop *loop;
	char *dir;
	char path[4096];
	int fd;

	/* table: written by the loop thread, read by others, under lock */
	pthread_mutex_t lock;
	struct hmap table; /* struct oentry by group, topic, partition */
	size_t live_bytes; /* journal size of the live entries */

	/* flusher */
	pthread_t thread;
	bool thread_started;
	pthread_cond_t cond;
	bool stop;
	bool syncing;
	uint64_t written;    /* journal bytes written (loop) */
	uint64_t synced;     /* journal bytes durable (flusher) */
	int sync_error;      /* last fdatasync failure, for the next completion */
	uint64_t error_upto; /* ... covering records below this */
	struct evloop_async wake;
	bool wake_started;
	struct offsets_pending *head;
	struct offsets_pending *tail;

	/* replay scratch: decoded strings of one record */
	char *s_group;
	char *s_topic;
	char *s_meta;

	atomic_uint_fast64_t n_commits;
	atomic_uint_fast64_t n_syncs;
	atomic_uint_fast64_t n_sync_errors;
	atomic_uint_fast64_t n_compactions;
};

/* ---------------------------------------------------------------- table */

static uint64_t key_hash(const char *group, const char *topic, int32_t partition)
{
	uint8_t sep = 0xff, pb[4];
	uint64_t h = hmap_hash(HMAP_SEED, group, strlen(group));

	for (int i = 0; i < 4; i++)
		pb[i] = (uint8_t)((uint32_t)partition >> (8 * i));
	h = hmap_hash(h, &sep, 1);
	h = hmap_hash(h, topic, strlen(topic));
	return hmap_hash(h, pb, sizeof(pb));
}

static struct oentry *find(const struct offsets *o, const char *group, const char *topic,
			   int32_t partition, uint64_t h)
{
	for (struct hmap_node *n = hmap_first(&o->table, h); n; n = hmap_next(n, h)) {
		struct oentry *e = hmap_entry(n, struct oentry, node);

		if (e->partition == partition && strcmp(e->group, group) == 0 &&
		    strcmp(e->topic, topic) == 0)
			return e;
	}
	return NULL;
}

static size_t entry_bytes(const struct oentry *e)
{
	return 8 + 1 + 8 + 2 + strlen(e->group) + 2 + strlen(e->topic) + 4 + 8 + 4 + 4 +
	       (e->metadata ? strlen(e->metadata) : 0);
}

static void entry_free(struct oentry *e)
{
	mem_free(e->group);
	mem_free(e->topic);
	mem_free(e->metadata);
	mem_free(e);
}

/* Caller holds the lock. */
static int table_put(struct offsets *o, const char *group, const char *topic, int32_t partition,
		     int64_t offset, int32_t epoch, const char *meta, int64_t commit_ms)
{
	uint64_t h = key_hash(group, topic, partition);
	struct oentry *e;
	char *m = NULL;

	if (meta) {
		m = mem_strdup(meta);
		if (!m)
			return -ENOMEM;
	}
	e = find(o, group, topic, partition, h);
	if (!e) {
		e = mem_calloc(1, sizeof(*e));
		if (e) {
			e->group = mem_strdup(group);
			e->topic = mem_strdup(topic);
		}
		if (!e || !e->group || !e->topic || hmap_insert(&o->table, &e->node, h) < 0) {
			if (e)
				entry_free(e);
			mem_free(m);
			return -ENOMEM;
		}
		e->partition = partition;
	} else {
		o->live_bytes -= entry_bytes(e);
		mem_free(e->metadata);
	}
	e->offset = offset;
	e->leader_epoch = epoch;
	e->metadata = m;
	e->commit_ms = commit_ms;
	o->live_bytes += entry_bytes(e);
	return 0;
}

/* Caller holds the lock. */
static void table_del(struct offsets *o, const char *group, const char *topic, int32_t partition)
{
	struct oentry *e = find(o, group, topic, partition, key_hash(group, topic, partition));

	if (!e)
		return;
	hmap_remove(&o->table, &e->node);
	o->live_bytes -= entry_bytes(e);
	entry_free(e);
}

/* ---------------------------------------------------------------- records */

static int put_str16(struct buf *b, const char *s)
{
	size_t n = strlen(s);
	int rc;

	if (n > UINT16_MAX)
		return -ERR_TOO_LARGE;
	rc = buf_append_be16(b, (uint16_t)n);
	return rc < 0 ? rc : buf_append(b, s, n);
}

/* Append one framed record to b. */
static int encode_record(struct buf *b, int type, int64_t commit_ms, const char *group,
			 const char *topic, int32_t partition, int64_t offset, int32_t epoch,
			 const char *meta)
{
	size_t start = b->len, body;
	int rc;

	rc = buf_append_zero(b, 8, NULL);
	if (rc == 0)
		rc = buf_append_u8(b, (uint8_t)type);
	if (rc == 0)
		rc = buf_append_be64(b, (uint64_t)commit_ms);
	if (rc == 0)
		rc = put_str16(b, group);
	if (rc == 0)
		rc = put_str16(b, topic);
	if (rc == 0)
		rc = buf_append_be32(b, (uint32_t)partition);
	if (rc == 0 && type == REC_COMMIT) {
		rc = buf_append_be64(b, (uint64_t)offset);
		if (rc == 0)
			rc = buf_append_be32(b, (uint32_t)epoch);
		if (rc == 0)
			rc = buf_append_be32(b, meta ? (uint32_t)strlen(meta) : UINT32_MAX);
		if (rc == 0 && meta)
			rc = buf_append(b, meta, strlen(meta));
	}
	if (rc < 0) {
		b->len = start;
		return rc;
	}
	body = b->len - start - 8;
	if (body + 4 > REC_MAX) {
		b->len = start;
		return -ERR_TOO_LARGE;
	}
	put_be32(b->data + start, (uint32_t)(body + 4));
	put_be32(b->data + start + 4, crc32c(0, b->data + start + 8, body));
	return 0;
}

/* A string of a record, copied NUL-terminated into out (cap bytes). */
static int get_str16(struct cursor *c, char *out, size_t cap)
{
	uint16_t n = cursor_be16(c);
	const uint8_t *p = cursor_take(c, n);

	if (!p || n >= cap || memchr(p, '\0', n))
		return -ERR_CORRUPT;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

/* Apply the records in p[0..n) to the table.  Returns the bytes of whole,
 * valid records consumed (the rest is a torn tail).  Caller holds the lock. */
static size_t apply_records(struct offsets *o, const uint8_t *p, size_t n)
{
	char *group = o->s_group, *topic = o->s_topic, *meta = o->s_meta;
	size_t off = 0;

	while (n - off >= 8) {
		uint32_t len = get_be32(p + off), crc = get_be32(p + off + 4);
		struct cursor c;
		int type;
		int64_t ts, offset = 0;
		int32_t partition, epoch = -1;
		uint32_t mlen = UINT32_MAX;
		bool has_meta = false;

		if (len < 4 || len > REC_MAX || len - 4 > n - off - 8 ||
		    crc32c(0, p + off + 8, len - 4) != crc)
			break;
		cursor_init(&c, p + off + 8, len - 4);
		type = cursor_u8(&c);
		ts = (int64_t)cursor_be64(&c);
		if (get_str16(&c, group, UINT16_MAX + 1) < 0 ||
		    get_str16(&c, topic, UINT16_MAX + 1) < 0)
			break;
		partition = (int32_t)cursor_be32(&c);
		if (type == REC_COMMIT) {
			offset = (int64_t)cursor_be64(&c);
			epoch = (int32_t)cursor_be32(&c);
			mlen = cursor_be32(&c);
			if (mlen != UINT32_MAX) {
				const uint8_t *m = cursor_take(&c, mlen);

				if (!m || mlen >= REC_MAX)
					break;
				memcpy(meta, m, mlen);
				meta[mlen] = '\0';
				has_meta = true;
			}
		} else if (type != REC_TOMBSTONE) {
			break;
		}
		if (!cursor_ok(&c) || cursor_left(&c) != 0)
			break;
		if (type == REC_COMMIT)
			table_put(o, group, topic, partition, offset, epoch, has_meta ? meta : NULL,
				  ts);
		else
			table_del(o, group, topic, partition);
		off += 8 + (len - 4);
	}
	return off;
}

/* ---------------------------------------------------------------- flusher */

static void *flusher_main(void *arg)
{
	struct offsets *o = arg;

	pthread_mutex_lock(&o->lock);
	for (;;) {
		uint64_t target;
		int rc = 0;

		while (!o->stop && o->written == o->synced)
			pthread_cond_wait(&o->cond, &o->lock);
		if (o->written == o->synced && o->stop)
			break;
		target = o->written;
		o->syncing = true;
		pthread_mutex_unlock(&o->lock);
		if (fdatasync(o->fd) != 0)
			rc = -errno;
		pthread_mutex_lock(&o->lock);
		o->syncing = false;
		atomic_fetch_add_explicit(&o->n_syncs, 1, memory_order_relaxed);
		if (rc < 0) {
			atomic_fetch_add_explicit(&o->n_sync_errors, 1, memory_order_relaxed);
			o->sync_error = rc;
			o->error_upto = target;
		}
		o->synced = target;
		if (o->wake_started)
			evloop_async_send(&o->wake);
		pthread_cond_broadcast(&o->cond);
	}
	pthread_mutex_unlock(&o->lock);
	return NULL;
}

static void pending_free(struct offsets_pending *p)
{
	buf_release(&p->bytes);
	mem_free(p);
}

/* Loop thread: apply and complete what the flusher made durable. */
static void on_synced(struct evloop_async *a)
{
	struct offsets *o = a->data;
	struct offsets_pending *done = NULL, **tailp = &done;

	pthread_mutex_lock(&o->lock);
	while (o->head && o->head->need <= o->synced) {
		struct offsets_pending *p = o->head;
		int rc = 0;

		o->head = p->next;
		if (!o->head)
			o->tail = NULL;
		if (o->sync_error && p->need <= o->error_upto)
			rc = o->sync_error;
		if (rc == 0)
			apply_records(o, p->bytes.data, p->bytes.len);
		p->next = NULL;
		p->rc = rc;
		*tailp = p;
		tailp = &p->next;
	}
	if (!o->head)
		o->sync_error = 0;
	pthread_mutex_unlock(&o->lock);
	while (done) {
		struct offsets_pending *p = done;
		int rc = p->rc;

		done = p->next;
		if (rc < 0)
			log_error("offsets: cannot sync %s: %s", o->path, err_str(rc));
		if (p->c) {
			p->c->pending = NULL;
			p->c->done(p->c, rc);
		}
		pending_free(p);
	}
}

/* ---------------------------------------------------------------- journal */

static int write_locked(struct offsets *o, const void *p, size_t n)
{
	int rc = fs_pwrite_full(o->fd, p, n, (off_t)o->written);

	if (rc < 0) {
		/* never leave a torn record in the middle of the journal */
		if (ftruncate(o->fd, (off_t)o->written) != 0)
			log_error("offsets: cannot truncate %s: %s", o->path, err_str(-errno));
		return rc;
	}
	o->written += n;
	pthread_cond_broadcast(&o->cond);
	return 0;
}

/* Rewrite the journal with only the live entries when it has grown past
 * four times their size, at a moment when no sync is in flight.  Caller
 * holds the lock. */
static void maybe_compact(struct offsets *o)
{
	struct hmap_iter it;
	struct hmap_node *n;
	struct buf b;
	int rc = 0, fd;

	if (o->written < COMPACT_MIN || o->written < 4 * (uint64_t)(o->live_bytes + HEADER_SIZE) ||
	    o->syncing || o->written != o->synced || o->head)
		return;
	buf_init(&b, JOURNAL_MAX);
	rc = buf_append(&b, MAGIC, 4);
	if (rc == 0)
		rc = buf_append_be32(&b, VERSION);
	hmap_iter_init(&o->table, &it);
	while (rc == 0 && (n = hmap_iter_next(&o->table, &it)) != NULL) {
		const struct oentry *e = hmap_entry(n, struct oentry, node);

		rc = encode_record(&b, REC_COMMIT, e->commit_ms, e->group, e->topic, e->partition,
				   e->offset, e->leader_epoch, e->metadata);
	}
	if (rc == 0)
		rc = fs_write_atomic(o->dir, OFFSETS_FILE, b.data, b.len);
	if (rc == 0) {
		fd = open(o->path, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			rc = -errno;
		} else {
			close(o->fd);
			o->fd = fd;
			o->written = b.len;
			o->synced = b.len;
			atomic_fetch_add_explicit(&o->n_compactions, 1, memory_order_relaxed);
		}
	}
	if (rc < 0)
		log_warn("offsets: cannot compact %s: %s", o->path, err_str(rc));
	buf_release(&b);
}

int offsets_commit(struct offsets *o, struct offsets_commit *c)
{
	struct offsets_pending *p = mem_calloc(1, sizeof(*p));
	int64_t now = clock_wall_ms();
	int rc = 0;

	if (!p)
		return -ENOMEM;
	buf_init(&p->bytes, JOURNAL_MAX);
	for (size_t i = 0; rc == 0 && i < c->n; i++) {
		const struct offsets_record *r = &c->records[i];

		rc = encode_record(&p->bytes, c->tombstones ? REC_TOMBSTONE : REC_COMMIT, now,
				   c->group, r->topic, r->partition, r->offset, r->leader_epoch,
				   r->metadata);
	}
	if (rc < 0) {
		pending_free(p);
		return rc;
	}
	pthread_mutex_lock(&o->lock);
	maybe_compact(o);
	rc = write_locked(o, p->bytes.data, p->bytes.len);
	if (rc == 0) {
		p->c = c;
		p->need = o->written;
		c->pending = p;
		if (o->tail)
			o->tail->next = p;
		else
			o->head = p;
		o->tail = p;
	}
	pthread_mutex_unlock(&o->lock);
	if (rc < 0) {
		log_error("offsets: cannot write %s: %s", o->path, err_str(rc));
		pending_free(p);
		return rc;
	}
	atomic_fetch_add_explicit(&o->n_commits, 1, memory_order_relaxed);
	return 0;
}

void offsets_cancel(struct offsets *o, struct offsets_commit *c)
{
	(void)o;
	if (c->pending) {
		c->pending->c = NULL;
		c->pending = NULL;
	}
}

bool offsets_get(struct offsets *o, const char *group, const char *topic, int32_t partition,
		 struct offsets_value *v)
{
	struct oentry *e;

	/* the loop thread is the only writer: no lock needed to read here */
	e = find(o, group, topic, partition, key_hash(group, topic, partition));
	if (!e)
		return false;
	v->offset = e->offset;
	v->leader_epoch = e->leader_epoch;
	v->metadata = e->metadata;
	v->commit_ms = e->commit_ms;
	return true;
}

void offsets_foreach(struct offsets *o, const char *group,
		     void (*fn)(void *arg, const char *group, const char *topic, int32_t partition,
				const struct offsets_value *v),
		     void *arg)
{
	struct hmap_iter it;
	struct hmap_node *n;

	hmap_iter_init(&o->table, &it);
	while ((n = hmap_iter_next(&o->table, &it)) != NULL) {
		const struct oentry *e = hmap_entry(n, struct oentry, node);
		struct offsets_value v = {e->offset, e->leader_epoch, e->metadata, e->commit_ms};

		if (!group || strcmp(group, e->group) == 0)
			fn(arg, e->group, e->topic, e->partition, &v);
	}
}

int64_t offsets_group_last_commit(struct offsets *o, const char *group)
{
	struct hmap_iter it;
	struct hmap_node *n;
	int64_t last = -1;

	hmap_iter_init(&o->table, &it);
	while ((n = hmap_iter_next(&o->table, &it)) != NULL) {
		const struct oentry *e = hmap_entry(n, struct oentry, node);

		if (strcmp(group, e->group) == 0 && e->commit_ms > last)
			last = e->commit_ms;
	}
	return last;
}

/* Drop every entry matching group or topic (one of them NULL). */
static size_t delete_matching(struct offsets *o, const char *group, const char *topic)
{
	struct hmap_iter it;
	struct hmap_node *node;
	struct buf b;
	size_t n = 0;
	int64_t now = clock_wall_ms();

	buf_init(&b, JOURNAL_MAX);
	pthread_mutex_lock(&o->lock);
	hmap_iter_init(&o->table, &it);
	while ((node = hmap_iter_next(&o->table, &it)) != NULL) {
		struct oentry *e = hmap_entry(node, struct oentry, node);

		if ((group && strcmp(e->group, group) != 0) ||
		    (topic && strcmp(e->topic, topic) != 0))
			continue;
		encode_record(&b, REC_TOMBSTONE, now, e->group, e->topic, e->partition, 0, 0, NULL);
		hmap_remove(&o->table, node);
		o->live_bytes -= entry_bytes(e);
		entry_free(e);
		n++;
	}
	if (b.len && write_locked(o, b.data, b.len) < 0)
		log_warn("offsets: cannot journal the deletion of %zu offsets; they return after a "
			 "restart until deleted again",
			 n);
	pthread_mutex_unlock(&o->lock);
	buf_release(&b);
	return n;
}

size_t offsets_delete_group(struct offsets *o, const char *group)
{
	return delete_matching(o, group, NULL);
}

size_t offsets_delete_topic(struct offsets *o, const char *topic)
{
	return delete_matching(o, NULL, topic);
}

int offsets_snapshot(struct offsets *o, struct offsets_snap_entry **out, size_t *n)
{
	struct offsets_snap_entry *v;
	struct hmap_iter it;
	struct hmap_node *node;
	size_t k = 0;
	int rc = 0;

	pthread_mutex_lock(&o->lock);
	v = mem_calloc(o->table.count ? o->table.count : 1, sizeof(*v));
	if (!v) {
		rc = -ENOMEM;
		goto out;
	}
	hmap_iter_init(&o->table, &it);
	while (rc == 0 && (node = hmap_iter_next(&o->table, &it)) != NULL) {
		const struct oentry *e = hmap_entry(node, struct oentry, node);

		v[k].group = mem_strdup(e->group);
		v[k].topic = mem_strdup(e->topic);
		v[k].partition = e->partition;
		v[k].offset = e->offset;
		v[k].commit_ms = e->commit_ms;
		k++;
		if (!v[k - 1].group || !v[k - 1].topic)
			rc = -ENOMEM;
	}
out:
	pthread_mutex_unlock(&o->lock);
	if (rc < 0) {
		offsets_snapshot_free(v, k);
		v = NULL;
		k = 0;
	}
	*out = v;
	*n = k;
	return rc;
}

void offsets_snapshot_free(struct offsets_snap_entry *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++) {
		mem_free(v[i].group);
		mem_free(v[i].topic);
	}
	mem_free(v);
}

void offsets_get_stats(struct offsets *o, struct offsets_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->commits = atomic_load_explicit(&o->n_commits, memory_order_relaxed);
	out->syncs = atomic_load_explicit(&o->n_syncs, memory_order_relaxed);
	out->sync_errors = atomic_load_explicit(&o->n_sync_errors, memory_order_relaxed);
	out->compactions = atomic_load_explicit(&o->n_compactions, memory_order_relaxed);
	pthread_mutex_lock(&o->lock);
	out->entries = o->table.count;
	out->journal_bytes = o->written;
	pthread_mutex_unlock(&o->lock);
}

/* ---------------------------------------------------------------- open/close */

static int replay(struct offsets *o)
{
	struct buf b;
	size_t used;
	int rc;

	buf_init(&b, JOURNAL_MAX);
	rc = fs_read_file(o->path, &b);
	if (rc == -ENOENT || (rc == 0 && b.len == 0)) {
		uint8_t hdr[HEADER_SIZE];

		memcpy(hdr, MAGIC, 4);
		put_be32(hdr + 4, VERSION);
		rc = fs_write_atomic(o->dir, OFFSETS_FILE, hdr, sizeof(hdr));
		o->written = HEADER_SIZE;
		goto out;
	}
	if (rc < 0)
		goto out;
	if (b.len < HEADER_SIZE || memcmp(b.data, MAGIC, 4) != 0 ||
	    get_be32(b.data + 4) != VERSION) {
		log_error("offsets: %s is not a version %d offsets journal", o->path, VERSION);
		rc = -ERR_CORRUPT;
		goto out;
	}
	used = HEADER_SIZE + apply_records(o, b.data + HEADER_SIZE, b.len - HEADER_SIZE);
	if (used < b.len) {
		log_warn("offsets: %s: dropping a torn tail of %zu bytes at %zu", o->path,
			 b.len - used, used);
		if (truncate(o->path, (off_t)used) != 0) {
			rc = -errno;
			goto out;
		}
	}
	o->written = used;
	log_info("offsets: %zu committed offsets from %s", o->table.count, o->path);
out:
	o->synced = o->written;
	buf_release(&b);
	return rc;
}

int offsets_open(struct evloop *loop, const char *dir, struct offsets **out)
{
	struct offsets *o = mem_calloc(1, sizeof(*o));
	int rc;

	*out = NULL;
	if (!o)
		return -ENOMEM;
	o->loop = loop;
	o->fd = -1;
	hmap_init(&o->table);
	pthread_mutex_init(&o->lock, NULL);
	pthread_cond_init(&o->cond, NULL);
	o->dir = mem_strdup(dir);
	o->s_group = mem_alloc(UINT16_MAX + 1);
	o->s_topic = mem_alloc(UINT16_MAX + 1);
	o->s_meta = mem_alloc(REC_MAX);
	if (!o->dir || !o->s_group || !o->s_topic || !o->s_meta) {
		rc = -ENOMEM;
		goto out;
	}
	if ((size_t)snprintf(o->path, sizeof(o->path), "%s/%s", dir, OFFSETS_FILE) >=
	    sizeof(o->path)) {
		rc = -ENAMETOOLONG;
		goto out;
	}
	rc = fs_mkdirs(dir, FS_DIR_MODE);
	if (rc < 0)
		goto out;
	rc = replay(o);
	if (rc < 0)
		goto out;
	o->fd = open(o->path, O_RDWR | O_CLOEXEC);
	if (o->fd < 0) {
		rc = -errno;
		goto out;
	}
	rc = evloop_async_start(loop, &o->wake, on_synced, o);
	if (rc < 0)
		goto out;
	o->wake_started = true;
	rc = -pthread_create(&o->thread, NULL, flusher_main, o);
	if (rc < 0)
		goto out;
	o->thread_started = true;
	*out = o;
out:
	if (rc < 0) {
		log_error("offsets: cannot open %s/%s: %s", dir, OFFSETS_FILE, err_str(rc));
		offsets_close(o);
	}
	return rc;
}

void offsets_close(struct offsets *o)
{
	struct hmap_iter it;
	struct hmap_node *node;

	if (!o)
		return;
	if (o->thread_started) {
		pthread_mutex_lock(&o->lock);
		o->stop = true;
		pthread_cond_broadcast(&o->cond);
		pthread_mutex_unlock(&o->lock);
		pthread_join(o->thread, NULL);
	}
	if (o->wake_started)
		evloop_async_stop(&o->wake);
	while (o->head) {
		struct offsets_pending *p = o->head;

		o->head = p->next;
		if (p->c)
			p->c->pending = NULL;
		pending_free(p);
	}
	hmap_iter_init(&o->table, &it);
	while ((node = hmap_iter_next(&o->table, &it)) != NULL) {
		hmap_remove(&o->table, node);
		entry_free(hmap_entry(node, struct oentry, node));
	}
	hmap_release(&o->table);
	if (o->fd >= 0)
		close(o->fd);
	pthread_cond_destroy(&o->cond);
	pthread_mutex_destroy(&o->lock);
	mem_free(o->s_group);
	mem_free(o->s_topic);
	mem_free(o->s_meta);
	mem_free(o->dir);
	mem_free(o);
}
