/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Recursive-descent JSON parser.  Decoded strings go into one arena sized
 * from the input (a decoded string is never longer than its quoted source,
 * so len + 1 bytes hold every string with its NUL), containers collect
 * their children in a growing array that is trimmed when the container
 * closes.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/buf.h"
#include "lib/jdoc.h"
#include "lib/json.h"
#include "lib/mem.h"

struct jdoc {
	struct jnode root;
	char *arena;
	size_t arena_used;
	size_t arena_cap;
};

struct parser {
	const uint8_t *p;
	const uint8_t *start;
	const uint8_t *end;
	struct jdoc *doc;
	int depth;
};

static void node_release(struct jnode *n)
{
	for (size_t i = 0; i < n->n; i++)
		node_release(&n->kids[i]);
	mem_free(n->kids);
	n->kids = NULL;
	n->n = 0;
}

void jdoc_free(struct jdoc *d)
{
	if (!d)
		return;
	node_release(&d->root);
	mem_free(d->arena);
	mem_free(d);
}

const struct jnode *jdoc_root(const struct jdoc *d)
{
	return &d->root;
}

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static int literal(struct parser *ps, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, lit, n) != 0)
		return -ERR_INVALID;
	ps->p += n;
	return 0;
}

static int hex4(struct parser *ps, uint32_t *v)
{
	uint32_t r = 0;

	if (ps->end - ps->p < 4)
		return -ERR_INVALID;
	for (int i = 0; i < 4; i++) {
		uint8_t c = *ps->p++;

		r <<= 4;
		if (c >= '0' && c <= '9')
			r |= c - '0';
		else if (c >= 'a' && c <= 'f')
			r |= c - 'a' + 10u;
		else if (c >= 'A' && c <= 'F')
			r |= c - 'A' + 10u;
		else
			return -ERR_INVALID;
	}
	*v = r;
	return 0;
}

static size_t put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Length of a valid UTF-8 sequence at p (2..4), 0 when invalid. */
static size_t utf8_len(const uint8_t *p, size_t n)
{
	uint8_t c = p[0];
	size_t k;

	if (c >= 0xc2 && c <= 0xdf)
		k = 2;
	else if (c >= 0xe0 && c <= 0xef)
		k = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		k = 4;
	else
		return 0;
	if (n < k)
		return 0;
	for (size_t i = 1; i < k; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	}
	if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0) ||
	    (c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90))
		return 0;
	return k;
}

/* Parse a string at ps->p (on the opening quote) into the arena. */
static int string(struct parser *ps, const char **s, size_t *len)
{
	struct jdoc *d = ps->doc;
	char *o = d->arena + d->arena_used, *o0 = o;

	ps->p++;
	for (;;) {
		uint8_t c;

		if (ps->p >= ps->end)
			return -ERR_INVALID;
		c = *ps->p;
		if (c == '"') {
			ps->p++;
			break;
		}
		if (c < 0x20)
			return -ERR_INVALID;
		if (c == '\\') {
			uint32_t cp;

			if (ps->end - ps->p < 2)
				return -ERR_INVALID;
			c = ps->p[1];
			ps->p += 2;
			switch (c) {
			case '"':
				*o++ = '"';
				continue;
			case '\\':
				*o++ = '\\';
				continue;
			case '/':
				*o++ = '/';
				continue;
			case 'b':
				*o++ = '\b';
				continue;
			case 'f':
				*o++ = '\f';
				continue;
			case 'n':
				*o++ = '\n';
				continue;
			case 'r':
				*o++ = '\r';
				continue;
			case 't':
				*o++ = '\t';
				continue;
			case 'u':
				break;
			default:
				return -ERR_INVALID;
			}
			if (hex4(ps, &cp) < 0)
				return -ERR_INVALID;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return -ERR_INVALID; /* lone low surrogate */
			if (cp >= 0xd800 && cp <= 0xdbff) {
				uint32_t lo;

				if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u')
					return -ERR_INVALID;
				ps->p += 2;
				if (hex4(ps, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
					return -ERR_INVALID;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			o += put_utf8(o, cp);
			continue;
		}
		if (c < 0x80) {
			*o++ = (char)c;
			ps->p++;
			continue;
		}
		{
			size_t k = utf8_len(ps->p, (size_t)(ps->end - ps->p));

			if (k == 0)
				return -ERR_INVALID;
			memcpy(o, ps->p, k);
			o += k;
			ps->p += k;
		}
	}
	*o++ = '\0';
	*s = o0;
	*len = (size_t)(o - o0 - 1);
	d->arena_used += (size_t)(o - o0);
	return 0;
}

static int number(struct parser *ps, struct jnode *n)
{
	const uint8_t *s = ps->p;
	char tmp[64];
	bool integral = true;
	size_t len;
	char *end;

	if (ps->p < ps->end && *ps->p == '-')
		ps->p++;
	if (ps->p >= ps->end)
		return -ERR_INVALID;
	if (*ps->p == '0') {
		ps->p++;
	} else if (*ps->p >= '1' && *ps->p <= '9') {
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	} else {
		return -ERR_INVALID;
	}
	if (ps->p < ps->end && *ps->p == '.') {
		integral = false;
		ps->p++;
		if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
			return -ERR_INVALID;
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
		integral = false;
		ps->p++;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
			return -ERR_INVALID;
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	}
	len = (size_t)(ps->p - s);
	if (len >= sizeof(tmp))
		len = sizeof(tmp) - 1; /* value precision is what a double holds anyway */
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	n->type = JNUM;
	n->num = strtod(tmp, &end);
	if (integral && (size_t)(ps->p - s) < sizeof(tmp)) {
		errno = 0;
		n->i = strtoll(tmp, &end, 10);
		n->is_int = errno == 0 && *end == '\0';
	}
	return 0;
}

static int value(struct parser *ps, struct jnode *n);

static int container(struct parser *ps, struct jnode *n, bool obj)
{
	size_t cap = 0;
	int rc;

	if (++ps->depth > JDOC_MAX_DEPTH)
		return -ERR_TOO_LARGE;
	n->type = obj ? JOBJ : JARR;
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == (obj ? '}' : ']')) {
		ps->p++;
		ps->depth--;
		return 0;
	}
	for (;;) {
		struct jnode *k;

		if (n->n == cap) {
			size_t nc = cap ? cap * 2 : 4;
			struct jnode *v = mem_realloc(n->kids, nc * sizeof(*v));

			if (!v)
				return -ENOMEM;
			n->kids = v;
			cap = nc;
		}
		k = &n->kids[n->n];
		memset(k, 0, sizeof(*k));
		skip_ws(ps);
		if (obj) {
			if (ps->p >= ps->end || *ps->p != '"')
				return -ERR_INVALID;
			rc = string(ps, &k->key, &k->key_len);
			if (rc < 0)
				return rc;
			skip_ws(ps);
			if (ps->p >= ps->end || *ps->p != ':')
				return -ERR_INVALID;
			ps->p++;
		}
		n->n++; /* counted before parsing so a failure still frees it */
		rc = value(ps, k);
		if (rc < 0)
			return rc;
		skip_ws(ps);
		if (ps->p >= ps->end)
			return -ERR_INVALID;
		if (*ps->p == ',') {
			ps->p++;
			continue;
		}
		if (*ps->p != (obj ? '}' : ']'))
			return -ERR_INVALID;
		ps->p++;
		break;
	}
	if (cap > n->n) {
		struct jnode *v = mem_realloc(n->kids, n->n * sizeof(*v));

		if (v)
			n->kids = v;
	}
	ps->depth--;
	return 0;
}

static int value(struct parser *ps, struct jnode *n)
{
	skip_ws(ps);
	if (ps->p >= ps->end)
		return -ERR_INVALID;
	switch (*ps->p) {
	case '{':
		return container(ps, n, true);
	case '[':
		return container(ps, n, false);
	case '"':
		n->type = JSTR;
		return string(ps, &n->s, &n->len);
	case 't':
		n->type = JBOOL;
		n->b = true;
		return literal(ps, "true");
	case 'f':
		n->type = JBOOL;
		return literal(ps, "false");
	case 'n':
		n->type = JNULL;
		return literal(ps, "null");
	default:
		return number(ps, n);
	}
}

int jdoc_parse(const void *text, size_t len, struct jdoc **out, size_t *err_off)
{
	struct jdoc *d = mem_calloc(1, sizeof(*d));
	struct parser ps;
	int rc;

	*out = NULL;
	if (!d)
		return -ENOMEM;
	d->arena_cap = len + 1;
	d->arena = mem_alloc(d->arena_cap);
	if (!d->arena) {
		rc = -ENOMEM;
		goto out;
	}
	ps.start = ps.p = text;
	ps.end = ps.p + len;
	ps.doc = d;
	ps.depth = 0;
	rc = value(&ps, &d->root);
	if (rc == 0) {
		skip_ws(&ps);
		if (ps.p != ps.end)
			rc = -ERR_INVALID;
	}
	if (rc < 0 && err_off)
		*err_off = (size_t)(ps.p - ps.start);
out:
	if (rc < 0) {
		jdoc_free(d);
		return rc;
	}
	*out = d;
	return 0;
}

const struct jnode *jnode_get(const struct jnode *obj, const char *key)
{
	size_t n = strlen(key);

	if (!obj || obj->type != JOBJ)
		return NULL;
	for (size_t i = 0; i < obj->n; i++) {
		if (obj->kids[i].key_len == n && memcmp(obj->kids[i].key, key, n) == 0)
			return &obj->kids[i];
	}
	return NULL;
}

int jnode_i64(const struct jnode *n, int64_t *v)
{
	if (!n || n->type != JNUM || !n->is_int)
		return -ERR_INVALID;
	*v = n->i;
	return 0;
}

int jnode_bool(const struct jnode *n, bool *v)
{
	if (!n || n->type != JBOOL)
		return -ERR_INVALID;
	*v = n->b;
	return 0;
}

const char *jnode_str(const struct jnode *n)
{
	if (!n || n->type != JSTR)
		return NULL;
	return n->s;
}

int jnode_write(struct buf *b, const struct jnode *n)
{
	int rc = 0;

	switch (n->type) {
	case JNULL:
		return buf_append_str(b, "null");
	case JBOOL:
		return buf_append_str(b, n->b ? "true" : "false");
	case JNUM:
		if (n->is_int)
			return json_i64(b, n->i);
		return buf_printf(b, "%.17g", n->num);
	case JSTR:
		return json_str(b, n->s, n->len);
	case JARR:
	case JOBJ:
		rc = buf_append_u8(b, n->type == JARR ? '[' : '{');
		for (size_t i = 0; rc == 0 && i < n->n; i++) {
			if (i)
				rc = buf_append_u8(b, ',');
			if (rc == 0 && n->type == JOBJ) {
				rc = json_str(b, n->kids[i].key, n->kids[i].key_len);
				if (rc == 0)
					rc = buf_append_u8(b, ':');
			}
			if (rc == 0)
				rc = jnode_write(b, &n->kids[i]);
		}
		if (rc == 0)
			rc = buf_append_u8(b, n->type == JARR ? ']' : '}');
		return rc;
	}
	return -ERR_INVALID;
}
