/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The transaction view of one partition: ongoing transactions, last stable
 * offset, aborted-transactions index (store/engine/partition_txn.h).  The
 * arrays stay small (one open entry per producer with a transaction on this
 * partition right now; one aborted entry per aborted transaction still in
 * the log), so plain arrays and linear scans do.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/mem.h"
#include "store/engine/partition_txn.h"
#include "store/engine/segment.h"

void ptxn_init(struct ptxn *t)
{
	memset(t, 0, sizeof(*t));
}

void ptxn_clear(struct ptxn *t)
{
	t->nopen = 0;
	t->nab = 0;
}

void ptxn_release(struct ptxn *t)
{
	mem_free(t->open);
	mem_free(t->ab);
	ptxn_init(t);
}

int ptxn_control_type(const uint8_t *rec, size_t n)
{
	struct cursor c;
	int32_t klen;
	int16_t version, type;

	cursor_init(&c, rec, n);
	(void)cursor_varint(&c); /* record length */
	(void)cursor_u8(&c);     /* attributes */
	(void)cursor_varlong(&c);
	(void)cursor_varint(&c); /* offset delta */
	klen = cursor_varint(&c);
	version = (int16_t)cursor_be16(&c);
	type = (int16_t)cursor_be16(&c);
	if (!cursor_ok(&c) || klen < 4 || version < 0)
		return -ERR_CORRUPT;
	if (type != PTXN_CONTROL_ABORT && type != PTXN_CONTROL_COMMIT)
		return -ERR_CORRUPT;
	return type;
}

static long find_open(const struct ptxn *t, int64_t pid)
{
	for (size_t i = 0; i < t->nopen; i++)
		if (t->open[i].pid == pid)
			return (long)i;
	return -1;
}

static int add_aborted(struct ptxn *t, int64_t pid, int64_t first, int64_t last)
{
	if (t->nab == t->capab) {
		size_t cap = t->capab ? t->capab * 2 : 8;
		void *n = mem_realloc(t->ab, cap * sizeof(*t->ab));

		if (!n)
			return -ENOMEM;
		t->ab = n;
		t->capab = cap;
	}
	t->ab[t->nab++] = (struct engine_aborted_txn){pid, first, last};
	return 0;
}

int ptxn_note(struct ptxn *t, const struct batch_info *bi, int ctl)
{
	long i;

	if (!(bi->attributes & BATCH_ATTR_TRANSACTIONAL) || bi->producer_id < 0)
		return 0;
	i = find_open(t, bi->producer_id);
	if (bi->attributes & BATCH_ATTR_CONTROL) {
		int rc = 0;

		if (i < 0)
			return 0; /* a marker for nothing here (a retried marker) */
		if (ctl == PTXN_CONTROL_ABORT)
			rc = add_aborted(t, bi->producer_id, t->open[i].first_offset,
					 bi->base_offset);
		if (rc < 0)
			return rc;
		t->open[i] = t->open[--t->nopen];
		return 0;
	}
	if (i >= 0)
		return 0;
	if (t->nopen == t->capopen) {
		size_t cap = t->capopen ? t->capopen * 2 : 4;
		void *n = mem_realloc(t->open, cap * sizeof(*t->open));

		if (!n)
			return -ENOMEM;
		t->open = n;
		t->capopen = cap;
	}
	t->open[t->nopen++] = (struct ptxn_open){bi->producer_id, bi->base_offset};
	return 0;
}

int64_t ptxn_lso(const struct ptxn *t, int64_t hw)
{
	int64_t lso = hw;

	for (size_t i = 0; i < t->nopen; i++)
		if (t->open[i].first_offset < lso)
			lso = t->open[i].first_offset;
	return lso;
}

size_t ptxn_aborted(const struct ptxn *t, int64_t from, int64_t to, struct engine_aborted_txn *out,
		    size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < t->nab; i++) {
		const struct engine_aborted_txn *a = &t->ab[i];

		if (a->last_offset < from || a->first_offset >= to)
			continue;
		if (n < max)
			out[n] = *a;
		n++;
	}
	return n;
}

void ptxn_trim(struct ptxn *t, int64_t log_start)
{
	size_t k = 0;

	for (size_t i = 0; i < t->nab; i++)
		if (t->ab[i].last_offset >= log_start)
			t->ab[k++] = t->ab[i];
	t->nab = k;
}

void ptxn_truncate(struct ptxn *t, int64_t end)
{
	size_t k = 0;

	for (size_t i = 0; i < t->nab; i++)
		if (t->ab[i].last_offset < end)
			t->ab[k++] = t->ab[i];
	t->nab = k;
	k = 0;
	for (size_t i = 0; i < t->nopen; i++)
		if (t->open[i].first_offset < end)
			t->open[k++] = t->open[i];
	t->nopen = k;
}

int ptxn_mark(struct ptxn *t, const char *dir)
{
	char path[4096];
	int fd, rc;

	if (t->marked)
		return 0;
	if (snprintf(path, sizeof(path), "%s/%s", dir, PTXN_MARKER) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	rc = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	if (rc == 0)
		rc = fs_fsync_dir(dir);
	if (rc == 0)
		t->marked = true;
	return rc;
}

/* The control type of the control batch at pos (its first record's key). */
static int read_control(int fd, int64_t pos, const struct batch_info *bi)
{
	uint8_t rec[64];
	size_t want = bi->size - BATCH_HEADER_SIZE < sizeof(rec) ? bi->size - BATCH_HEADER_SIZE
								 : sizeof(rec);
	ssize_t r;

	if (batch_codec(bi) != 0)
		return -ERR_CORRUPT; /* Kafka never compresses control batches */
	r = fs_pread_full(fd, rec, want, pos + BATCH_HEADER_SIZE);
	if (r < 0)
		return (int)r;
	return ptxn_control_type(rec, (size_t)r);
}

int ptxn_rebuild(struct ptxn *t, const char *dir, struct segment *const *segs, size_t n)
{
	char path[4096];
	int rc = 0;

	ptxn_clear(t);
	if (snprintf(path, sizeof(path), "%s/%s", dir, PTXN_MARKER) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	if (access(path, F_OK) != 0)
		return 0;
	t->marked = true;
	for (size_t i = 0; i < n; i++) {
		const struct segment *s = segs[i];

		for (int64_t pos = 0; pos < s->size;) {
			struct batch_info bi;
			int ctl = -1;

			rc = segment_read_header(s->fd, pos, &bi);
			if (rc < 0)
				return rc;
			if ((bi.attributes & BATCH_ATTR_CONTROL) &&
			    (bi.attributes & BATCH_ATTR_TRANSACTIONAL)) {
				ctl = read_control(s->fd, pos, &bi);
				if (ctl < 0)
					return ctl;
			}
			rc = ptxn_note(t, &bi, ctl);
			if (rc < 0)
				return rc;
			pos += bi.size;
		}
	}
	return 0;
}
