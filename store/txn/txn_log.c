/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The transaction journal: data_dir/meta/transactions, append-only, one
 * CRC-framed record per state change of a transactional.id, each holding
 * that id's whole state (docs/FORMATS.md, "transactions"):
 *
 *   frame    u32 payload length | u32 CRC-32C of the payload | payload
 *   payload  u8 version (1) | str tid | i64 pid | i16 epoch | i32 timeout_ms |
 *            u8 state | u32 n (str topic | i32 partition)* |
 *            u32 n (str group)* |
 *            u32 n (str group | str topic | i32 partition | i64 offset |
 *                   i32 leader epoch | nstr metadata)*
 *   str      u16 length | bytes;  nstr: i32 length (-1 null) | bytes
 *
 * All integers big-endian.  The record is small (what one transaction
 * touches), so a whole-state record per change keeps replay trivial: the
 * last record of an id wins.  Also the entry helpers of txn_int.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/crc32c.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "store/txn/txn_int.h"

#define RECORD_VERSION 1

/* ---------------------------------------------------------------- entries */

static void free_offset(struct txn_offset *o)
{
	mem_free(o->group);
	mem_free(o->topic);
	mem_free(o->metadata);
}

void txn_entry_reset(struct txn_entry *e)
{
	for (size_t i = 0; i < e->nparts; i++)
		mem_free(e->parts[i].topic);
	for (size_t i = 0; i < e->ngroups; i++)
		mem_free(e->groups[i]);
	for (size_t i = 0; i < e->noffs; i++)
		free_offset(&e->offs[i]);
	e->nparts = e->ngroups = e->noffs = 0;
}

void txn_entry_free(struct txn_entry *e)
{
	if (!e)
		return;
	txn_entry_reset(e);
	mem_free(e->parts);
	mem_free(e->groups);
	mem_free(e->offs);
	mem_free(e->tid);
	mem_free(e);
}

/* Room for one more element of an array of size sz. */
static int grow(void **v, size_t *cap, size_t n, size_t sz)
{
	size_t nc;
	void *p;

	if (n < *cap)
		return 0;
	nc = *cap ? *cap * 2 : 4;
	p = mem_realloc(*v, nc * sz);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = nc;
	return 0;
}

bool txn_entry_has_part(const struct txn_entry *e, const char *topic, int32_t partition)
{
	for (size_t i = 0; i < e->nparts; i++)
		if (e->parts[i].partition == partition && strcmp(e->parts[i].topic, topic) == 0)
			return true;
	return false;
}

bool txn_entry_has_group(const struct txn_entry *e, const char *group)
{
	for (size_t i = 0; i < e->ngroups; i++)
		if (strcmp(e->groups[i], group) == 0)
			return true;
	return false;
}

int txn_entry_add_part(struct txn_entry *e, const char *topic, int32_t partition)
{
	char *t;

	if (txn_entry_has_part(e, topic, partition))
		return 0;
	if (e->nparts >= TXN_MAX_PARTITIONS)
		return -ERR_TOO_LARGE;
	if (grow((void **)&e->parts, &e->capparts, e->nparts, sizeof(*e->parts)) < 0)
		return -ENOMEM;
	t = mem_strdup(topic);
	if (!t)
		return -ENOMEM;
	e->parts[e->nparts++] = (struct txn_part){t, partition, -1};
	return 1;
}

int txn_entry_add_group(struct txn_entry *e, const char *group)
{
	char *g;

	if (txn_entry_has_group(e, group))
		return 0;
	if (e->ngroups >= TXN_MAX_GROUPS)
		return -ERR_TOO_LARGE;
	if (grow((void **)&e->groups, &e->capgroups, e->ngroups, sizeof(*e->groups)) < 0)
		return -ENOMEM;
	g = mem_strdup(group);
	if (!g)
		return -ENOMEM;
	e->groups[e->ngroups++] = g;
	return 1;
}

int txn_entry_add_offset(struct txn_entry *e, const struct txn_offset *o)
{
	struct txn_offset n = {
		.partition = o->partition, .offset = o->offset, .leader_epoch = o->leader_epoch};
	size_t i;

	n.group = mem_strdup(o->group);
	n.topic = mem_strdup(o->topic);
	n.metadata = o->metadata ? mem_strdup(o->metadata) : NULL;
	if (!n.group || !n.topic || (o->metadata && !n.metadata))
		goto nomem;
	for (i = 0; i < e->noffs; i++) {
		struct txn_offset *x = &e->offs[i];

		if (x->partition == o->partition && strcmp(x->group, o->group) == 0 &&
		    strcmp(x->topic, o->topic) == 0) {
			free_offset(x);
			*x = n;
			return 0;
		}
	}
	if (e->noffs >= TXN_MAX_OFFSETS) {
		free_offset(&n);
		return -ERR_TOO_LARGE;
	}
	if (grow((void **)&e->offs, &e->capoffs, e->noffs, sizeof(*e->offs)) < 0)
		goto nomem;
	e->offs[e->noffs++] = n;
	return 0;
nomem:
	free_offset(&n);
	return -ENOMEM;
}

/* ---------------------------------------------------------------- records */

static int put_str(struct buf *b, const char *s)
{
	size_t n = strlen(s);

	int rc;

	if (n > UINT16_MAX)
		return -ERR_TOO_LARGE;
	rc = buf_append_be16(b, (uint16_t)n);
	return rc < 0 ? rc : buf_append(b, s, n);
}

int txn_log_encode(const struct txn_entry *e, struct buf *out)
{
	int rc = 0;

	rc = err_first(rc, buf_append_u8(out, RECORD_VERSION));
	rc = err_first(rc, put_str(out, e->tid));
	rc = err_first(rc, buf_append_be64(out, (uint64_t)e->pid));
	rc = err_first(rc, buf_append_be16(out, (uint16_t)e->epoch));
	rc = err_first(rc, buf_append_be32(out, (uint32_t)e->timeout_ms));
	rc = err_first(rc, buf_append_u8(out, (uint8_t)e->state));
	rc = err_first(rc, buf_append_be32(out, (uint32_t)e->nparts));
	for (size_t i = 0; i < e->nparts; i++) {
		rc = err_first(rc, put_str(out, e->parts[i].topic));
		rc = err_first(rc, buf_append_be32(out, (uint32_t)e->parts[i].partition));
	}
	rc = err_first(rc, buf_append_be32(out, (uint32_t)e->ngroups));
	for (size_t i = 0; i < e->ngroups; i++)
		rc = err_first(rc, put_str(out, e->groups[i]));
	rc = err_first(rc, buf_append_be32(out, (uint32_t)e->noffs));
	for (size_t i = 0; i < e->noffs; i++) {
		const struct txn_offset *o = &e->offs[i];

		rc = err_first(rc, put_str(out, o->group));
		rc = err_first(rc, put_str(out, o->topic));
		rc = err_first(rc, buf_append_be32(out, (uint32_t)o->partition));
		rc = err_first(rc, buf_append_be64(out, (uint64_t)o->offset));
		rc = err_first(rc, buf_append_be32(out, (uint32_t)o->leader_epoch));
		if (!o->metadata) {
			rc = err_first(rc, buf_append_be32(out, UINT32_MAX));
		} else {
			size_t n = strlen(o->metadata);

			rc = err_first(rc, buf_append_be32(out, (uint32_t)n));
			rc = err_first(rc, buf_append(out, o->metadata, n));
		}
	}
	return rc;
}

/* A NUL-terminated copy of n bytes from the cursor; NULL on error. */
static char *get_bytes(struct cursor *c, size_t n)
{
	const uint8_t *p = cursor_take(c, n);
	char *s;

	if (!p || memchr(p, 0, n))
		return NULL;
	s = mem_alloc(n + 1);
	if (!s)
		return NULL;
	memcpy(s, p, n);
	s[n] = 0;
	return s;
}

static char *get_str(struct cursor *c)
{
	return get_bytes(c, cursor_be16(c));
}

static int decode_offsets(struct cursor *c, struct txn_entry *e)
{
	uint32_t n = cursor_be32(c);

	if (n > TXN_MAX_OFFSETS)
		return -ERR_CORRUPT;
	for (uint32_t i = 0; i < n; i++) {
		struct txn_offset o = {0};
		uint32_t ml;
		int rc;

		o.group = get_str(c);
		o.topic = get_str(c);
		o.partition = (int32_t)cursor_be32(c);
		o.offset = (int64_t)cursor_be64(c);
		o.leader_epoch = (int32_t)cursor_be32(c);
		ml = cursor_be32(c);
		if (ml != UINT32_MAX)
			o.metadata = get_bytes(c, ml);
		rc = (!o.group || !o.topic || (ml != UINT32_MAX && !o.metadata) || !cursor_ok(c))
			     ? -ERR_CORRUPT
			     : txn_entry_add_offset(e, &o);
		free_offset(&o);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int decode_lists(struct cursor *c, struct txn_entry *e)
{
	uint32_t n = cursor_be32(c);

	if (n > TXN_MAX_PARTITIONS)
		return -ERR_CORRUPT;
	for (uint32_t i = 0; i < n; i++) {
		char *t = get_str(c);
		int32_t p = (int32_t)cursor_be32(c);
		int rc = t && cursor_ok(c) ? txn_entry_add_part(e, t, p) : -ERR_CORRUPT;

		mem_free(t);
		if (rc < 0)
			return rc;
	}
	n = cursor_be32(c);
	if (n > TXN_MAX_GROUPS)
		return -ERR_CORRUPT;
	for (uint32_t i = 0; i < n; i++) {
		char *g = get_str(c);
		int rc = g ? txn_entry_add_group(e, g) : -ERR_CORRUPT;

		mem_free(g);
		if (rc < 0)
			return rc;
	}
	return decode_offsets(c, e);
}

struct txn_entry *txn_log_decode(const uint8_t *p, size_t n)
{
	struct txn_entry *e = mem_calloc(1, sizeof(*e));
	struct cursor c;
	uint8_t st;

	if (!e)
		return NULL;
	cursor_init(&c, p, n);
	if (cursor_u8(&c) != RECORD_VERSION)
		goto bad;
	e->tid = get_str(&c);
	e->pid = (int64_t)cursor_be64(&c);
	e->epoch = (int16_t)cursor_be16(&c);
	e->timeout_ms = (int32_t)cursor_be32(&c);
	st = cursor_u8(&c);
	if (!e->tid || !cursor_ok(&c) || st >= TXN_STATE_COUNT || e->pid < 0 || e->epoch < 0)
		goto bad;
	e->state = (enum txn_state)st;
	if (decode_lists(&c, e) < 0 || !cursor_ok(&c) || cursor_left(&c) != 0)
		goto bad;
	return e;
bad:
	txn_entry_free(e);
	return NULL;
}

/* ---------------------------------------------------------------- file */

static int frame(const struct txn_entry *e, struct buf *b)
{
	size_t off;
	int rc = buf_append_zero(b, 8, &off);

	if (rc == 0)
		rc = txn_log_encode(e, b);
	if (rc < 0)
		return rc;
	put_be32(b->data + off, (uint32_t)(b->len - off - 8));
	put_be32(b->data + off + 4, crc32c(0, b->data + off + 8, b->len - off - 8));
	return 0;
}

/* Replay data[0..n); returns the length of the good prefix. */
static size_t replay(const uint8_t *data, size_t n, int (*fn)(void *, struct txn_entry *),
		     void *arg, uint64_t *records)
{
	size_t pos = 0;

	while (n - pos >= 8) {
		uint32_t len = get_be32(data + pos);
		struct txn_entry *e;

		if (len > TXN_RECORD_MAX || len > n - pos - 8 ||
		    crc32c(0, data + pos + 8, len) != get_be32(data + pos + 4))
			break;
		e = txn_log_decode(data + pos + 8, len);
		if (!e)
			break;
		if (!fn) {
			txn_entry_free(e);
		} else if (fn(arg, e) < 0) {
			break;
		}
		(*records)++;
		pos += 8 + (size_t)len;
	}
	return pos;
}

int txn_log_open(struct txn_log *l, const char *dir, int (*fn)(void *arg, struct txn_entry *e),
		 void *arg)
{
	char path[4096];
	struct buf b;
	size_t good;
	int rc;

	memset(l, 0, sizeof(*l));
	l->fd = -1;
	buf_init(&b, 1u << 30);
	l->dir = mem_strdup(dir);
	if (!l->dir) {
		rc = -ENOMEM;
		goto out;
	}
	if (snprintf(path, sizeof(path), "%s/%s", dir, TXN_FILE) >= (int)sizeof(path)) {
		rc = -ENAMETOOLONG;
		goto out;
	}
	l->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (l->fd < 0) {
		rc = -errno;
		goto out;
	}
	rc = fs_read_file(path, &b);
	if (rc < 0)
		goto out;
	good = replay(b.data, b.len, fn, arg, &l->records);
	if (good < b.len) {
		log_warn("transactions: %s: cut %zu bytes of a torn or corrupt tail", path,
			 b.len - good);
		if (ftruncate(l->fd, (off_t)good) < 0 || fdatasync(l->fd) < 0) {
			rc = -errno;
			goto out;
		}
	}
	l->bytes = good;
	rc = lseek(l->fd, (off_t)good, SEEK_SET) < 0 ? -errno : 0;
out:
	buf_release(&b);
	if (rc < 0)
		txn_log_close(l);
	return rc;
}

void txn_log_close(struct txn_log *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	mem_free(l->dir);
	l->dir = NULL;
}

int txn_log_write(struct txn_log *l, const struct txn_entry *e, bool sync)
{
	struct buf b;
	int rc;

	buf_init(&b, TXN_RECORD_MAX + 8);
	rc = frame(e, &b);
	if (rc == 0)
		rc = fs_write_full(l->fd, b.data, b.len);
	if (rc == 0 && sync && fdatasync(l->fd) < 0)
		rc = -errno;
	if (rc == 0) {
		l->bytes += b.len;
		l->records++;
	} else if (ftruncate(l->fd, (off_t)l->bytes) < 0 ||
		   lseek(l->fd, (off_t)l->bytes, SEEK_SET) < 0) {
		log_error("transactions: cannot cut a failed write: %s", err_str(-errno));
	}
	buf_release(&b);
	return rc;
}

int txn_log_rewrite(struct txn_log *l, struct txn_entry *const *v, size_t n)
{
	char path[4096];
	struct buf b;
	int rc = 0, fd;

	buf_init(&b, 1u << 30);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = frame(v[i], &b);
	if (rc == 0)
		rc = fs_write_atomic(l->dir, TXN_FILE, b.data, b.len);
	if (rc < 0)
		goto out;
	snprintf(path, sizeof(path), "%s/%s", l->dir, TXN_FILE);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	if (lseek(fd, 0, SEEK_END) < 0) {
		rc = -errno;
		close(fd);
		goto out;
	}
	close(l->fd);
	l->fd = fd;
	l->bytes = b.len;
	l->records = n;
out:
	buf_release(&b);
	return rc;
}
