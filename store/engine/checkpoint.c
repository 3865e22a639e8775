/* SPDX-License-Identifier: Apache-2.0 */
/*
 * recovery-points and producer-ids: line-oriented text so an operator can
 * read them, a version line first and a "crc32c <hex>" line last covering
 * every byte before it, so a file damaged in any way is rejected whole.
 *
 *   sluice-recovery-points 1
 *   <topic> <partition> <offset> <segment base> <position> <max timestamp>
 *   crc32c 1a2b3c4d
 *
 *   sluice-producer-ids 1
 *   next <id>
 *   crc32c 1a2b3c4d
 *
 * and, in a partition's own directory, the log start offset DeleteRecords
 * moved (absent until the first DeleteRecords):
 *
 *   sluice-log-start 1
 *   start <offset>
 *   crc32c 1a2b3c4d
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/crc32c.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/mem.h"
#include "store/engine/checkpoint.h"

#define POINTS_FILE "recovery-points"
#define POINTS_MAGIC "sluice-recovery-points 1\n"
#define PID_FILE "producer-ids"
#define PID_MAGIC "sluice-producer-ids 1\n"
#define LOG_START_FILE "log-start-offset"
#define LOG_START_MAGIC "sluice-log-start 1\n"
#define MAX_FILE (64u << 20)
#define FIELDS_MAX 8

void checkpoint_init(struct checkpoint *c)
{
	memset(c, 0, sizeof(*c));
}

void checkpoint_release(struct checkpoint *c)
{
	for (size_t i = 0; i < c->n; i++)
		mem_free(c->v[i].topic);
	mem_free(c->v);
	memset(c, 0, sizeof(*c));
}

int checkpoint_add(struct checkpoint *c, const char *topic, int32_t partition,
		   const struct partition_point *pt)
{
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 32;
		struct checkpoint_entry *n = mem_realloc(c->v, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		c->v = n;
		c->cap = ncap;
	}
	c->v[c->n].topic = mem_strdup(topic);
	if (!c->v[c->n].topic)
		return -ENOMEM;
	c->v[c->n].partition = partition;
	c->v[c->n].pt = *pt;
	c->v[c->n].pt.valid = true;
	c->n++;
	return 0;
}

const struct partition_point *checkpoint_find(const struct checkpoint *c, const char *topic,
					      int32_t partition)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].partition == partition && strcmp(c->v[i].topic, topic) == 0)
			return &c->v[i].pt;
	return NULL;
}

/* Split a line into space-separated fields (NUL-terminating them in place). */
static size_t split(char *line, char **f, size_t max)
{
	size_t n = 0;
	char *p = line;

	while (*p && n < max) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		f[n++] = p;
		while (*p && *p != ' ')
			p++;
		if (*p)
			*p++ = '\0';
	}
	return *p ? max + 1 : n;
}

static int parse_i64(const char *s, int64_t *v)
{
	char *end;
	long long r;

	if (!*s || (*s != '-' && (*s < '0' || *s > '9')))
		return -ERR_CORRUPT;
	errno = 0;
	r = strtoll(s, &end, 10);
	if (errno || *end)
		return -ERR_CORRUPT;
	*v = r;
	return 0;
}

/* Check magic and trailing CRC line; on success body/len cover the lines
 * between them, NUL-terminated in place. */
static int verify(struct buf *b, const char *magic, char **body, size_t *len)
{
	size_t ml = strlen(magic), end;
	char *crcline;
	char hex[16];
	uint32_t want;

	if (buf_cstr(b) < 0 || b->len < ml || memcmp(b->data, magic, ml) != 0 ||
	    memchr(b->data, '\0', b->len))
		return -ERR_CORRUPT;
	if (b->len < 17 || b->data[b->len - 1] != '\n')
		return -ERR_CORRUPT;
	/* the last line: "crc32c xxxxxxxx\n" */
	end = b->len - 1;
	crcline = (char *)b->data + end;
	while (crcline > (char *)b->data && crcline[-1] != '\n')
		crcline--;
	if ((size_t)((char *)b->data + end - crcline) != 15 || memcmp(crcline, "crc32c ", 7) != 0)
		return -ERR_CORRUPT;
	memcpy(hex, crcline + 7, 8);
	hex[8] = '\0';
	for (int i = 0; i < 8; i++)
		if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
			return -ERR_CORRUPT;
	want = (uint32_t)strtoul(hex, NULL, 16);
	if (crc32c(0, b->data, (size_t)(crcline - (char *)b->data)) != want)
		return -ERR_CORRUPT;
	if ((size_t)(crcline - (char *)b->data) < ml)
		return -ERR_CORRUPT;
	*crcline = '\0';
	*body = (char *)b->data + ml;
	*len = (size_t)(crcline - *body);
	return 0;
}

static int finish(struct buf *b)
{
	uint32_t crc = crc32c(0, b->data, b->len);

	return buf_printf(b, "crc32c %08x\n", crc);
}

int checkpoint_load(struct checkpoint *c, const char *meta_dir)
{
	char path[4096];
	struct buf b;
	char *body, *line;
	size_t len;
	int rc;

	if (snprintf(path, sizeof(path), "%s/%s", meta_dir, POINTS_FILE) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	buf_init(&b, MAX_FILE);
	rc = fs_read_file(path, &b);
	if (rc == -ENOENT) {
		rc = 0;
		goto out;
	}
	if (rc == -ERR_TOO_LARGE)
		rc = -ERR_CORRUPT;
	if (rc < 0)
		goto out;
	rc = verify(&b, POINTS_MAGIC, &body, &len);
	if (rc < 0)
		goto out;
	for (line = body; *line;) {
		char *nl = strchr(line, '\n');
		char *f[FIELDS_MAX];
		struct partition_point pt = {0};
		int64_t part;

		if (!nl) {
			rc = -ERR_CORRUPT;
			goto out;
		}
		*nl = '\0';
		if (split(line, f, FIELDS_MAX) != 6 || parse_i64(f[1], &part) < 0 || part < 0 ||
		    part > INT32_MAX || parse_i64(f[2], &pt.offset) < 0 ||
		    parse_i64(f[3], &pt.seg_base) < 0 || parse_i64(f[4], &pt.pos) < 0 ||
		    parse_i64(f[5], &pt.max_ts) < 0 || pt.offset < 0 || pt.seg_base < 0 ||
		    pt.pos < 0 || pt.seg_base > pt.offset) {
			rc = -ERR_CORRUPT;
			goto out;
		}
		rc = checkpoint_add(c, f[0], (int32_t)part, &pt);
		if (rc < 0)
			goto out;
		line = nl + 1;
	}
out:
	if (rc < 0) {
		checkpoint_release(c);
		checkpoint_init(c);
	}
	buf_release(&b);
	return rc;
}

int checkpoint_save(const struct checkpoint *c, const char *meta_dir)
{
	struct buf b;
	int rc;

	buf_init(&b, MAX_FILE);
	rc = buf_append_str(&b, POINTS_MAGIC);
	for (size_t i = 0; rc == 0 && i < c->n; i++) {
		const struct checkpoint_entry *e = &c->v[i];

		rc = buf_printf(&b, "%s %d %lld %lld %lld %lld\n", e->topic, e->partition,
				(long long)e->pt.offset, (long long)e->pt.seg_base,
				(long long)e->pt.pos, (long long)e->pt.max_ts);
	}
	if (rc == 0)
		rc = finish(&b);
	if (rc == 0)
		rc = fs_write_atomic(meta_dir, POINTS_FILE, b.data, b.len);
	buf_release(&b);
	return rc;
}

/* A one-value file: magic line, "<key> <int64>", CRC line. */
static int load_value(const char *dir, const char *file, const char *magic, const char *key,
		      int64_t *v)
{
	char path[4096];
	struct buf b;
	char *body, *f[FIELDS_MAX];
	size_t len;
	int rc;

	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	buf_init(&b, 4096);
	rc = fs_read_file(path, &b);
	if (rc == -ERR_TOO_LARGE)
		rc = -ERR_CORRUPT;
	if (rc == 0)
		rc = verify(&b, magic, &body, &len);
	if (rc == 0) {
		if (len == 0 || body[len - 1] != '\n')
			rc = -ERR_CORRUPT;
		else
			body[len - 1] = '\0';
	}
	if (rc == 0 && (split(body, f, FIELDS_MAX) != 2 || strcmp(f[0], key) != 0 ||
			parse_i64(f[1], v) < 0 || *v < 0))
		rc = -ERR_CORRUPT;
	buf_release(&b);
	return rc;
}

static int save_value(const char *dir, const char *file, const char *magic, const char *key,
		      int64_t v)
{
	struct buf b;
	int rc;

	buf_init(&b, 4096);
	rc = buf_printf(&b, "%s%s %lld\n", magic, key, (long long)v);
	if (rc == 0)
		rc = finish(&b);
	if (rc == 0)
		rc = fs_write_atomic(dir, file, b.data, b.len);
	buf_release(&b);
	return rc;
}

int checkpoint_load_pid(const char *meta_dir, int64_t *next)
{
	return load_value(meta_dir, PID_FILE, PID_MAGIC, "next", next);
}

int checkpoint_save_pid(const char *meta_dir, int64_t next)
{
	return save_value(meta_dir, PID_FILE, PID_MAGIC, "next", next);
}

int checkpoint_load_log_start(const char *part_dir, int64_t *offset)
{
	return load_value(part_dir, LOG_START_FILE, LOG_START_MAGIC, "start", offset);
}

int checkpoint_save_log_start(const char *part_dir, int64_t offset)
{
	return save_value(part_dir, LOG_START_FILE, LOG_START_MAGIC, "start", offset);
}
