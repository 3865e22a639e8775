/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "lib/mem.h"
#include "plugins/out_kafka/kafka_marks.h"

struct kafka_mark *kafka_marks_find(struct kafka_marks *m, const char *topic, int32_t partition,
				    bool create)
{
	struct kafka_mark *v;
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
static int parse_line(struct kafka_marks *m, const char *p, const char *end)
{
	char topic[KAFKA_MARK_TOPIC_MAX + 1];
	uint64_t part, last;
	size_t tlen;
	struct kafka_mark *k;

	p = number(p, end, INT32_MAX, &part);
	if (!p)
		return -1;
	p = number(p, end, UINT64_MAX, &last);
	if (!p)
		return -1;
	tlen = (size_t)(end - p);
	if (tlen == 0 || tlen > KAFKA_MARK_TOPIC_MAX || memchr(p, '\0', tlen))
		return -1;
	memcpy(topic, p, tlen);
	topic[tlen] = '\0';
	k = kafka_marks_find(m, topic, (int32_t)part, true);
	if (!k)
		return -1;
	if (last > k->last)
		k->last = last;
	return 0;
}

size_t kafka_marks_parse(struct kafka_marks *m, const char *data, size_t len)
{
	const char *p = data, *end;
	size_t bad = 0;

	if (len == 0)
		return 0;
	end = data + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!nl) {
			bad++;  /* a last line without its newline: torn */
			break;
		}
		if (parse_line(m, p, nl) < 0)
			bad++;
		p = nl + 1;
	}
	return bad;
}

int kafka_marks_format(const struct kafka_marks *m, struct buf *out)
{
	for (size_t i = 0; i < m->n; i++) {
		const char *t = m->v[i].topic;
		size_t tlen = strlen(t);
		int rc;

		if (tlen == 0 || tlen > KAFKA_MARK_TOPIC_MAX || strchr(t, '\n') ||
		    m->v[i].partition < 0)
			continue;
		rc = buf_printf(out, "%" PRId32 " %" PRIu64 " %s\n", m->v[i].partition, m->v[i].last,
				t);
		if (rc < 0)
			return rc;
	}
	return 0;
}

void kafka_marks_release(struct kafka_marks *m)
{
	for (size_t i = 0; i < m->n; i++)
		mem_free(m->v[i].topic);
	mem_free(m->v);
	m->v = NULL;
	m->n = 0;
}
