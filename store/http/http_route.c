/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP route table.  Paths are split on '/' into at most a handful of
 * segments; anything longer, empty segments ("//") or a trailing slash do not
 * match, so one URL has one meaning.  The topic segment is checked against
 * Kafka's name rule here so that no handler ever sees a name that could
 * escape the data directory.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lib/err.h"
#include "lib/topic_name.h"
#include "store/http/http_param.h"
#include "store/http/http_route.h"

#define MAX_SEGS 6

struct seg {
	const char *p;
	size_t n;
};

static const char *const route_names[HTTP_ROUTE_COUNT] = {
	[HTTP_ROUTE_NONE] = "other",      [HTTP_ROUTE_HEALTH] = "health",
	[HTTP_ROUTE_METRICS] = "metrics", [HTTP_ROUTE_TOPICS] = "topics",
	[HTTP_ROUTE_TOPIC] = "topic",     [HTTP_ROUTE_BATCHES] = "batches",
	[HTTP_ROUTE_RECORDS] = "records", [HTTP_ROUTE_PRODUCERS] = "producers",
	[HTTP_ROUTE_GROUPS] = "groups",   [HTTP_ROUTE_STATS] = "stats",
};

const char *http_route_name(enum http_route_id id)
{
	if ((unsigned)id >= HTTP_ROUTE_COUNT)
		return "other";
	return route_names[id];
}

int http_route_topic_valid(const char *s, size_t n)
{
	return topic_name_check_len(s, n) == NULL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t http_route_unescape(char *s)
{
	char *o = s;

	for (const char *p = s; *p; p++) {
		int hi = p[0] == '%' ? hexval(p[1]) : -1;
		int lo = hi >= 0 ? hexval(p[2]) : -1;

		if (lo < 0 || (hi == 0 && lo == 0)) {
			*o++ = *p; /* not an escape, or %00: kept as written */
			continue;
		}
		*o++ = (char)(hi << 4 | lo);
		p += 2;
	}
	*o = '\0';
	return (size_t)(o - s);
}

static enum http_method parse_method(const char *m)
{
	if (strcmp(m, "GET") == 0)
		return HTTP_GET;
	if (strcmp(m, "HEAD") == 0)
		return HTTP_HEAD;
	if (strcmp(m, "POST") == 0)
		return HTTP_POST;
	if (strcmp(m, "PUT") == 0)
		return HTTP_PUT;
	if (strcmp(m, "DELETE") == 0)
		return HTTP_DELETE;
	return HTTP_OTHER;
}

/* Split "/a/b/c" into segments; -1 when malformed or too deep. */
static int split(const char *path, struct seg *segs)
{
	int n = 0;

	if (path[0] != '/')
		return -1;
	path++;
	while (*path) {
		const char *e = strchr(path, '/');
		size_t len = e ? (size_t)(e - path) : strlen(path);

		if (len == 0 || n == MAX_SEGS)
			return -1;
		segs[n].p = path;
		segs[n].n = len;
		n++;
		path += len;
		if (*path == '/') {
			path++;
			if (*path == '\0')
				return -1; /* trailing slash */
		}
	}
	return n;
}

static bool seg_is(const struct seg *s, const char *lit)
{
	size_t n = strlen(lit);

	return s->n == n && memcmp(s->p, lit, n) == 0;
}

static int set_topic(struct http_route *r, const struct seg *s)
{
	if (!http_route_topic_valid(s->p, s->n))
		return -ERR_INVALID;
	memcpy(r->topic, s->p, s->n);
	r->topic[s->n] = '\0';
	return 0;
}

static int set_partition(struct http_route *r, const struct seg *s)
{
	char tmp[16];
	int64_t v;

	if (s->n >= sizeof(tmp))
		return -ERR_INVALID;
	memcpy(tmp, s->p, s->n);
	tmp[s->n] = '\0';
	if (http_param_i64(tmp, 0, INT32_MAX, &v) < 0)
		return -ERR_INVALID;
	r->partition = (int32_t)v;
	return 0;
}

int http_route_match(const char *method, const char *path, struct http_route *r)
{
	struct seg s[MAX_SEGS];
	int n = split(path, s), rc = 0;

	memset(r, 0, sizeof(*r));
	r->partition = -1;
	r->method = parse_method(method);
	if (n == 1 && seg_is(&s[0], "health")) {
		r->id = HTTP_ROUTE_HEALTH;
		r->allowed = HTTP_GET | HTTP_HEAD;
	} else if (n == 1 && seg_is(&s[0], "metrics")) {
		r->id = HTTP_ROUTE_METRICS;
		r->allowed = HTTP_GET | HTTP_HEAD;
	} else if (n >= 2 && seg_is(&s[0], "v1")) {
		if (n == 2 && seg_is(&s[1], "topics")) {
			r->id = HTTP_ROUTE_TOPICS;
			r->allowed = HTTP_GET | HTTP_HEAD | HTTP_POST;
		} else if (n == 2 && seg_is(&s[1], "producers")) {
			r->id = HTTP_ROUTE_PRODUCERS;
			r->allowed = HTTP_POST;
		} else if (n == 2 && seg_is(&s[1], "groups")) {
			r->id = HTTP_ROUTE_GROUPS;
			r->allowed = HTTP_GET | HTTP_HEAD;
		} else if (n == 3 && seg_is(&s[1], "topics")) {
			r->id = HTTP_ROUTE_TOPIC;
			r->allowed = HTTP_GET | HTTP_HEAD | HTTP_PUT | HTTP_DELETE;
			rc = set_topic(r, &s[2]);
		} else if (n == 4 && seg_is(&s[1], "topics") && seg_is(&s[3], "stats")) {
			r->id = HTTP_ROUTE_STATS;
			r->allowed = HTTP_GET | HTTP_HEAD;
			rc = set_topic(r, &s[2]);
		} else if (n == 4 && seg_is(&s[1], "topics") && seg_is(&s[3], "batches")) {
			r->id = HTTP_ROUTE_BATCHES;
			r->allowed = HTTP_POST;
			rc = set_topic(r, &s[2]);
		} else if (n == 6 && seg_is(&s[1], "topics") && seg_is(&s[3], "partitions") &&
			   seg_is(&s[5], "records")) {
			r->id = HTTP_ROUTE_RECORDS;
			r->allowed = HTTP_GET | HTTP_HEAD;
			rc = set_topic(r, &s[2]);
			if (rc == 0)
				rc = set_partition(r, &s[4]);
		}
	}
	if (r->id == HTTP_ROUTE_NONE)
		return -ERR_NOT_FOUND;
	if (rc < 0)
		return rc;
	if (!(r->allowed & r->method))
		return -ERR_UNSUPPORTED;
	return 0;
}

void http_route_allow_header(unsigned allowed, char *dst, size_t cap)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {{HTTP_GET, "GET"},
		     {HTTP_HEAD, "HEAD"},
		     {HTTP_POST, "POST"},
		     {HTTP_PUT, "PUT"},
		     {HTTP_DELETE, "DELETE"}};
	size_t used = 0;

	if (cap == 0)
		return;
	dst[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int w;

		if (!(allowed & names[i].bit))
			continue;
		w = snprintf(dst + used, cap - used, "%s%s", used ? ", " : "", names[i].name);
		if (w < 0 || (size_t)w >= cap - used) {
			dst[used] = '\0'; /* whole names only */
			return;
		}
		used += (size_t)w;
	}
}
