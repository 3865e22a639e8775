/* SPDX-License-Identifier: Apache-2.0 */
/*
 * topics.yaml: read with lib/config (YAML, line/column in errors), written
 * with buf_printf and fs_write_atomic.  Names are always quoted so a topic
 * called "null", "true" or "1e3" stays a string.
 */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "lib/batch.h"
#include "lib/config.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/mem.h"
#include "lib/topic_name.h"
#include "store/engine/registry.h"

#define REGISTRY_FILE "topics.yaml"
#define REGISTRY_MAX_BYTES (64u << 20)

void registry_init(struct registry *r)
{
	memset(r, 0, sizeof(*r));
}

void registry_release(struct registry *r)
{
	for (size_t i = 0; i < r->n; i++) {
		mem_free(r->v[i].name);
		mem_free(r->v[i].extra);
	}
	mem_free(r->v);
	memset(r, 0, sizeof(*r));
}

/* Position of name, or where it would go (as -(pos) - 1). */
static long search(const struct registry *r, const char *name)
{
	size_t lo = 0, hi = r->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(r->v[mid].name, name);

		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(long)lo - 1;
}

long registry_find(const struct registry *r, const char *name)
{
	long i = search(r, name);

	return i >= 0 ? i : -1;
}

int registry_set(struct registry *r, const char *name, const struct topic_config *cfg)
{
	long i = search(r, name);
	size_t at;
	char *copy;

	if (i >= 0) {
		r->v[i].cfg = *cfg;
		return 0;
	}
	if (r->n == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 16;
		struct registry_entry *n = mem_realloc(r->v, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		r->v = n;
		r->cap = ncap;
	}
	copy = mem_strdup(name);
	if (!copy)
		return -ENOMEM;
	at = (size_t)(-i - 1);
	memmove(&r->v[at + 1], &r->v[at], (r->n - at) * sizeof(r->v[0]));
	r->v[at].name = copy;
	r->v[at].cfg = *cfg;
	memset(r->v[at].id, 0, sizeof(r->v[at].id));
	r->v[at].extra = NULL;
	r->n++;
	return 0;
}

static bool key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

bool registry_extra_valid(const char *extra)
{
	const char *prev = NULL;
	size_t prevlen = 0;

	for (const char *p = extra ? extra : ""; *p;) {
		const char *k = p, *nl;
		size_t klen;

		while (key_char(*p))
			p++;
		klen = (size_t)(p - k);
		if (klen == 0 || *p != '=')
			return false;
		nl = strchr(p, '\n');
		if (!nl)
			return false;
		for (const char *c = p + 1; c < nl; c++)
			if (*c < 0x20 || *c > 0x7e || *c == '\'' || *c == '$' || *c == '\\')
				return false;
		if (prev) {
			int c = strncmp(prev, k, klen < prevlen ? klen : prevlen);

			if (c > 0 || (c == 0 && prevlen >= klen))
				return false; /* not sorted, or a key twice */
		}
		prev = k;
		prevlen = klen;
		p = nl + 1;
	}
	return true;
}

int registry_set_extra(struct registry *r, const char *name, const char *extra)
{
	long i = search(r, name);
	char *copy = NULL;

	if (i < 0)
		return -ERR_NOT_FOUND;
	if (!registry_extra_valid(extra))
		return -ERR_INVALID;
	if (extra && *extra) {
		copy = mem_strdup(extra);
		if (!copy)
			return -ENOMEM;
	}
	mem_free(r->v[i].extra);
	r->v[i].extra = copy;
	return 0;
}

int registry_set_id(struct registry *r, const char *name, const uint8_t id[REGISTRY_ID_LEN])
{
	long i = search(r, name);

	if (i < 0)
		return -ERR_NOT_FOUND;
	memcpy(r->v[i].id, id, REGISTRY_ID_LEN);
	return 0;
}

static bool id_zero(const uint8_t id[REGISTRY_ID_LEN])
{
	for (int i = 0; i < REGISTRY_ID_LEN; i++)
		if (id[i])
			return false;
	return true;
}

int registry_new_id(uint8_t id[REGISTRY_ID_LEN])
{
	for (int tries = 0; tries < 64; tries++) {
		size_t got = 0;

		while (got < REGISTRY_ID_LEN) {
			ssize_t n = getrandom(id + got, REGISTRY_ID_LEN - got, 0);

			if (n < 0 && errno != EINTR)
				return -EIO;
			if (n > 0)
				got += (size_t)n;
		}
		id[6] = (uint8_t)((id[6] & 0x0f) | 0x40); /* version 4 */
		id[8] = (uint8_t)((id[8] & 0x3f) | 0x80); /* RFC 4122 variant */
		/* never zero or 0...01 (those two are Kafka's reserved ids, and
		 * the version bits already rule them out); no leading '-' */
		if (!id_zero(id) && (id[0] >> 2) != 62)
			return 0;
	}
	return -EIO;
}

int registry_assign_ids(struct registry *r)
{
	int n = 0;

	for (size_t i = 0; i < r->n; i++) {
		int rc;

		if (!id_zero(r->v[i].id))
			continue;
		rc = registry_new_id(r->v[i].id);
		if (rc < 0)
			return rc;
		n++;
	}
	return n;
}

/* "8-4-4-4-12" lower-case hex, 37 bytes with the NUL. */
static void id_format(const uint8_t id[REGISTRY_ID_LEN], char out[37])
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (int i = 0; i < REGISTRY_ID_LEN; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[id[i] >> 4];
		out[o++] = hex[id[i] & 15];
	}
	out[o] = '\0';
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

static int id_parse(const char *s, uint8_t id[REGISTRY_ID_LEN])
{
	size_t k = 0;

	if (strlen(s) != 36)
		return -ERR_INVALID;
	for (size_t i = 0; i < 36; i += 2) {
		int hi, lo;

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -ERR_INVALID;
			i--; /* the pair starts after the dash */
			continue;
		}
		hi = hexval(s[i]);
		lo = hexval(s[i + 1]);
		if (hi < 0 || lo < 0 || k >= REGISTRY_ID_LEN)
			return -ERR_INVALID;
		id[k++] = (uint8_t)(hi << 4 | lo);
	}
	return k == REGISTRY_ID_LEN && !id_zero(id) ? 0 : -ERR_INVALID;
}

void registry_remove(struct registry *r, const char *name)
{
	long i = search(r, name);

	if (i < 0)
		return;
	mem_free(r->v[i].name);
	mem_free(r->v[i].extra);
	memmove(&r->v[i], &r->v[i + 1], (r->n - (size_t)i - 1) * sizeof(r->v[0]));
	r->n--;
}

int registry_check_config(const struct topic_config *c)
{
	if (c->partitions < 1 || c->partitions > REGISTRY_MAX_PARTITIONS || c->retention_ms < -1 ||
	    c->retention_bytes < -1 || c->segment_bytes < 1024 || c->segment_ms < 1 ||
	    c->max_batch_bytes < BATCH_HEADER_SIZE ||
	    c->max_batch_bytes > (int64_t)BATCH_MAX_SIZE ||
	    (c->timestamp_type != ENGINE_TS_CREATE_TIME &&
	     c->timestamp_type != ENGINE_TS_LOG_APPEND_TIME))
		return -ERR_INVALID;
	return 0;
}

static const struct {
	const char *key;
	size_t off;
} fields[] = {
	{"partitions", 0}, /* int32: handled apart */
	{"retention_ms", offsetof(struct topic_config, retention_ms)},
	{"retention_bytes", offsetof(struct topic_config, retention_bytes)},
	{"segment_bytes", offsetof(struct topic_config, segment_bytes)},
	{"segment_ms", offsetof(struct topic_config, segment_ms)},
	{"max_batch_bytes", offsetof(struct topic_config, max_batch_bytes)},
};

/* The "configs" mapping (recorded-only topic configs) into extra as
 * "key=value\n" lines; keys are written sorted, which is checked. */
static int parse_extra(const struct cfg_node *m, struct buf *extra, struct cfg_error *err)
{
	if (!m)
		return 0;
	if (m->kind != CFGN_MAP) {
		cfg_error_at(err, m, "configs: expected a mapping");
		return -ERR_CORRUPT;
	}
	for (size_t i = 0; i < m->n; i++) {
		const struct cfg_node *k = cfg_map_key(m, i), *v = cfg_map_value(m, i);

		if (k->kind != CFGN_SCALAR || v->kind != CFGN_SCALAR ||
		    buf_printf(extra, "%s=%s\n", k->value, v->value) < 0) {
			cfg_error_at(err, k, "configs: expected name: 'value'");
			return -ERR_CORRUPT;
		}
	}
	if (buf_append(extra, "", 1) < 0 || !registry_extra_valid((const char *)extra->data)) {
		cfg_error_at(err, m, "configs: invalid name or value, or not sorted");
		return -ERR_CORRUPT;
	}
	return 0;
}

static int parse_entry(const struct cfg_node *m, const struct topic_config *defaults,
		       struct topic_config *cfg, const char **name, uint8_t id[REGISTRY_ID_LEN],
		       struct buf *extra, struct cfg_error *err)
{
	const struct cfg_node *n;

	if (!m || m->kind != CFGN_MAP) {
		cfg_error_at(err, m, "a topic must be a mapping");
		return -ERR_CORRUPT;
	}
	n = cfg_map_get(m, "name");
	if (!n || n->kind != CFGN_SCALAR || !topic_name_valid(n->value)) {
		cfg_error_at(err, n ? n : m, "missing or invalid topic name");
		return -ERR_CORRUPT;
	}
	*name = n->value;
	memset(id, 0, REGISTRY_ID_LEN);
	n = cfg_map_get(m, "id");
	if (n && (n->kind != CFGN_SCALAR || id_parse(n->value, id) < 0)) {
		cfg_error_at(err, n, "id: not a topic id (a non-zero UUID)");
		return -ERR_CORRUPT;
	}
	*cfg = *defaults;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		int64_t v;

		n = cfg_map_get(m, fields[i].key);
		if (!n)
			continue;
		if (n->kind != CFGN_SCALAR || cfg_parse_int(n->value, &v) < 0) {
			cfg_error_at(err, n, "%s: not an integer", fields[i].key);
			return -ERR_CORRUPT;
		}
		if (i == 0) {
			if (v < 1 || v > REGISTRY_MAX_PARTITIONS) {
				cfg_error_at(err, n, "partitions out of range");
				return -ERR_CORRUPT;
			}
			cfg->partitions = (int32_t)v;
		} else {
			memcpy((char *)cfg + fields[i].off, &v, sizeof(v));
		}
	}
	n = cfg_map_get(m, "timestamp_type");
	if (n) {
		int t = n->kind == CFGN_SCALAR ? engine_ts_type_parse(n->value) : -1;

		if (t < 0) {
			cfg_error_at(err, n, "timestamp_type: CreateTime or LogAppendTime");
			return -ERR_CORRUPT;
		}
		cfg->timestamp_type = t;
	}
	if (registry_check_config(cfg) < 0) {
		cfg_error_at(err, m, "topic %s: config out of range", *name);
		return -ERR_CORRUPT;
	}
	return parse_extra(cfg_map_get(m, "configs"), extra, err);
}

int registry_load(struct registry *r, const char *meta_dir, const struct topic_config *defaults,
		  char *why, size_t whylen)
{
	struct cfg_error err = {{0}};
	const struct cfg_node *root, *n;
	struct cfg_doc *doc = NULL;
	char path[4096];
	struct buf b, extra;
	int64_t version;
	int rc;

	if (snprintf(path, sizeof(path), "%s/%s", meta_dir, REGISTRY_FILE) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	buf_init(&b, REGISTRY_MAX_BYTES);
	buf_init(&extra, REGISTRY_MAX_BYTES);
	rc = fs_read_file(path, &b);
	if (rc < 0) {
		snprintf(err.msg, sizeof(err.msg), "%.400s: %s", path, err_str(rc));
		if (rc == -ERR_TOO_LARGE)
			rc = -ERR_CORRUPT;
		goto out;
	}
	doc = cfg_load_string(path, b.len ? (const char *)b.data : "", b.len, &err);
	if (!doc) {
		rc = -ERR_CORRUPT;
		goto out;
	}
	rc = -ERR_CORRUPT;
	root = cfg_doc_root(doc);
	if (!root || root->kind != CFGN_MAP) {
		cfg_error_at(&err, root, "not a topic registry");
		goto out;
	}
	n = cfg_map_get(root, "version");
	if (!n || n->kind != CFGN_SCALAR || cfg_parse_int(n->value, &version) < 0 || version != 1) {
		cfg_error_at(&err, n ? n : root, "unsupported registry version");
		goto out;
	}
	n = cfg_map_get(root, "topics");
	if (!n || (n->kind != CFGN_SEQ && !(n->kind == CFGN_SCALAR && cfg_node_is_null(n)))) {
		cfg_error_at(&err, n ? n : root, "topics: expected a list");
		goto out;
	}
	for (size_t i = 0; n->kind == CFGN_SEQ && i < n->n; i++) {
		uint8_t id[REGISTRY_ID_LEN];
		struct topic_config cfg;
		const char *name;

		buf_reset(&extra);
		if (parse_entry(n->items[i], defaults, &cfg, &name, id, &extra, &err) < 0)
			goto out;
		if (registry_find(r, name) >= 0) {
			cfg_error_at(&err, n->items[i], "topic %s listed twice", name);
			goto out;
		}
		for (size_t k = 0; !id_zero(id) && k < r->n; k++) {
			if (memcmp(r->v[k].id, id, REGISTRY_ID_LEN) == 0) {
				cfg_error_at(&err, n->items[i], "topic %s has the id of %s", name,
					     r->v[k].name);
				goto out;
			}
		}
		if (registry_set(r, name, &cfg) < 0 ||
		    (extra.len > 1 && registry_set_extra(r, name, (const char *)extra.data) < 0)) {
			rc = -ENOMEM;
			goto out;
		}
		(void)registry_set_id(r, name, id);
	}
	rc = 0;
out:
	if (rc < 0) {
		registry_release(r);
		if (why)
			snprintf(why, whylen, "%s", err.msg);
	}
	cfg_doc_free(doc);
	buf_release(&extra);
	buf_release(&b);
	return rc;
}

/* extra is registry_extra_valid(): keys need no quoting, values no
 * escaping inside single quotes. */
static int put_extra(struct buf *b, const char *extra)
{
	int rc = buf_append_str(b, "    configs:\n");

	for (const char *p = extra; rc == 0 && *p;) {
		const char *eq = strchr(p, '='), *nl = strchr(p, '\n');

		rc = buf_printf(b, "      %.*s: '%.*s'\n", (int)(eq - p), p, (int)(nl - eq - 1),
				eq + 1);
		p = nl + 1;
	}
	return rc;
}

int registry_save(const struct registry *r, const char *meta_dir)
{
	struct buf b;
	int rc;

	buf_init(&b, REGISTRY_MAX_BYTES);
	rc = buf_append_str(&b,
			    "# Sluice topic registry: written by sluice-store (atomic replace).\n"
			    "# Edit only while the store is stopped.\n"
			    "version: 1\n");
	if (rc == 0)
		rc = buf_append_str(&b, r->n ? "topics:\n" : "topics: []\n");
	for (size_t i = 0; rc == 0 && i < r->n; i++) {
		const struct topic_config *c = &r->v[i].cfg;
		char id[37];

		rc = buf_printf(&b, "  - name: \"%s\"\n", r->v[i].name);
		if (rc == 0 && !id_zero(r->v[i].id)) {
			id_format(r->v[i].id, id);
			rc = buf_printf(&b, "    id: \"%s\"\n", id);
		}
		if (rc < 0)
			break;
		rc = buf_printf(&b,
				"    partitions: %d\n"
				"    retention_ms: %lld\n"
				"    retention_bytes: %lld\n"
				"    segment_bytes: %lld\n"
				"    segment_ms: %lld\n"
				"    max_batch_bytes: %lld\n"
				"    timestamp_type: %s\n",
				c->partitions, (long long)c->retention_ms,
				(long long)c->retention_bytes, (long long)c->segment_bytes,
				(long long)c->segment_ms, (long long)c->max_batch_bytes,
				engine_ts_type_name(c->timestamp_type));
		if (rc == 0 && r->v[i].extra)
			rc = put_extra(&b, r->v[i].extra);
	}
	if (rc == 0)
		rc = fs_write_atomic(meta_dir, REGISTRY_FILE, b.data, b.len);
	buf_release(&b);
	return rc;
}
