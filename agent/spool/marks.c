/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent/spool/marks.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/mem.h"

struct mark *marks_find(struct marks *m, const char *topic, int32_t partition, bool create)
{
	struct mark *v;
	char *t;

	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].partition == partition && strcmp(m->v[i].topic, topic) == 0)
			return &m->v[i];
	if (!create)
		return NULL;
	t = mem_strdup(topic);
	if (!t)
		return NULL;
	v = mem_realloc(m->v, (m->n + 1) * sizeof(*v));
	if (!v) {
		mem_free(t);
		return NULL;
	}
	m->v = v;
	v = &m->v[m->n++];
	v->topic = t;
	v->partition = partition;
	v->last = 0;
	return v;
}

/* A decimal number of at most max, ending at a space: its end or NULL. */
static const char *number(const char *p, const char *end, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	const char *b = p;

	while (p < end && *p >= '0' && *p <= '9') {
		unsigned d = (unsigned)(*p - '0');

		if (v > (max - d) / 10)
			return NULL;
		v = v * 10 + d;
		p++;
	}
	if (p == b || p - b > 20 || p >= end || *p != ' ')
		return NULL;
	*out = v;
	return p + 1;
}

/* One line (no newline in it): 0 when it held a mark. */
static int parse_line(struct marks *m, const char *p, const char *end)
{
	char topic[MARK_TOPIC_MAX + 1];
	uint64_t part, last;
	size_t tlen;
	struct mark *k;

	p = number(p, end, INT32_MAX, &part);
	if (!p)
		return -1;
	p = number(p, end, UINT64_MAX, &last);
	if (!p)
		return -1;
	tlen = (size_t)(end - p);
	if (tlen == 0 || tlen > MARK_TOPIC_MAX || memchr(p, '\0', tlen))
		return -1;
	memcpy(topic, p, tlen);
	topic[tlen] = '\0';
	k = marks_find(m, topic, (int32_t)part, true);
	if (!k)
		return -1;
	if (last > k->last)
		k->last = last;
	return 0;
}

size_t marks_parse(struct marks *m, const char *data, size_t len)
{
	const char *p = data, *end;
	size_t bad = 0;

	if (len == 0)
		return 0;
	end = data + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!nl) {
			bad++; /* a last line without its newline: torn */
			break;
		}
		if (parse_line(m, p, nl) < 0)
			bad++;
		p = nl + 1;
	}
	return bad;
}

int marks_format(const struct marks *m, struct buf *out)
{
	for (size_t i = 0; i < m->n; i++) {
		const char *t = m->v[i].topic;
		size_t tlen = strlen(t);
		int rc;

		if (tlen == 0 || tlen > MARK_TOPIC_MAX || strchr(t, '\n') || m->v[i].partition < 0)
			continue;
		rc = buf_printf(out, "%" PRId32 " %" PRIu64 " %s\n", m->v[i].partition,
				m->v[i].last, t);
		if (rc < 0)
			return rc;
	}
	return 0;
}

void marks_release(struct marks *m)
{
	for (size_t i = 0; i < m->n; i++)
		mem_free(m->v[i].topic);
	mem_free(m->v);
	m->v = NULL;
	m->n = 0;
}

void marks_load(struct marks *m, const char *dir, const char *who)
{
	char path[4096];
	struct buf b;
	size_t bad;

	buf_init(&b, 16 << 20);
	snprintf(path, sizeof(path), "%s/%s", dir, MARKS_FILE);
	if (fs_read_file(path, &b) == 0) {
		bad = marks_parse(m, (const char *)b.data, b.len);
		if (bad)
			log_warn("output %s: %zu unreadable lines in %s skipped (after the restart "
				 "some records may be sent twice)",
				 who, bad, path);
	}
	buf_release(&b);
}

void marks_store(const struct marks *m, const char *dir, const char *who)
{
	char tmp[4096], path[4096];
	struct buf b;
	int fd, rc;

	buf_init(&b, 16 << 20);
	rc = marks_format(m, &b);
	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", dir, MARKS_FILE);
	snprintf(path, sizeof(path), "%s/%s", dir, MARKS_FILE);
	if (rc == 0) {
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		rc = fd < 0 ? -errno
			    : fs_write_full(fd, b.data ? b.data : (const uint8_t *)"", b.len);
		if (fd >= 0)
			close(fd);
		if (rc == 0 && rename(tmp, path) < 0)
			rc = -errno;
	}
	if (rc < 0)
		log_warn("output %s: cannot save %s (after a crash more may be sent twice): %s",
			 who, path, err_str(rc));
	buf_release(&b);
}

void marks_advance(struct marks *m, const char *dir, const char *who, const char *topic,
		   int32_t partition, uint64_t last)
{
	struct mark *k = marks_find(m, topic, partition, true);

	if (k && last > k->last) {
		k->last = last;
		marks_store(m, dir, who);
	}
}
