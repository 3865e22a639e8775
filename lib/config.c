/* SPDX-License-Identifier: Apache-2.0 */
/*
 * YAML loading (libyaml event API -> node tree with positions) and option-
 * table binding.  The tree is built iteratively with an explicit stack so a
 * deeply nested hostile document cannot exhaust the C stack; depth, node
 * count and document size are bounded.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/config.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/mem.h"

#define CFG_MAX_DOC (4u * 1024 * 1024)
#define CFG_MAX_DEPTH 64
#define CFG_MAX_NODES 200000

struct cfg_doc {
	char *name;
	struct cfg_node *root;
	size_t nodes;
};

/* ---------------------------------------------------------------- errors */

static void verror_at(struct cfg_error *err, const char *name, int line, int col,
		      const char *fmt, va_list ap)
{
	int n;

	if (!err)
		return;
	if (line > 0)
		n = snprintf(err->msg, sizeof(err->msg), "%s:%d:%d: ", name, line, col);
	else
		n = snprintf(err->msg, sizeof(err->msg), "%s: ", name);
	if (n < 0 || (size_t)n >= sizeof(err->msg))
		return;
	vsnprintf(err->msg + n, sizeof(err->msg) - (size_t)n, fmt, ap);
}

void cfg_error_at(struct cfg_error *err, const struct cfg_node *at, const char *fmt, ...)
{
	va_list ap;
	const char *name = at && at->doc ? at->doc->name : "config";

	va_start(ap, fmt);
	verror_at(err, name, at ? at->line : 0, at ? at->col : 0, fmt, ap);
	va_end(ap);
}

static void error_pos(struct cfg_error *err, const char *name, int line, int col,
		      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void error_pos(struct cfg_error *err, const char *name, int line, int col,
		      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror_at(err, name, line, col, fmt, ap);
	va_end(ap);
}

/* ---------------------------------------------------------------- tree */

static void node_free(struct cfg_node *n)
{
	size_t count;

	if (!n)
		return;
	count = n->kind == CFGN_MAP ? 2 * n->n + n->key_pending : n->n;
	for (size_t i = 0; i < count; i++)
		node_free(n->items[i]);
	mem_free(n->items);
	mem_free(n->value);
	mem_free(n);
}

void cfg_doc_free(struct cfg_doc *doc)
{
	if (!doc)
		return;
	node_free(doc->root);
	mem_free(doc->name);
	mem_free(doc);
}

const struct cfg_node *cfg_doc_root(const struct cfg_doc *doc)
{
	return doc->root;
}

const char *cfg_doc_name(const struct cfg_doc *doc)
{
	return doc->name;
}

static int node_push(struct cfg_node *parent, struct cfg_node *child)
{
	size_t count = parent->kind == CFGN_MAP ? 2 * parent->n + parent->key_pending : parent->n;
	struct cfg_node **items;

	items = mem_realloc(parent->items, (count + 1) * sizeof(*items));
	if (!items)
		return -ENOMEM;
	parent->items = items;
	items[count] = child;
	if (parent->kind == CFGN_SEQ) {
		parent->n++;
	} else if (parent->key_pending) {
		parent->key_pending = false;
		parent->n++;
	} else {
		parent->key_pending = true;
	}
	return 0;
}

/* Expand ${NAME} and ${NAME:-default}; "$${" stays a literal "${".  An
 * unset name written in lower case without a default (${input}, ${host})
 * stays as written: those are templates a plugin expands per record
 * (environment variables are upper case by convention). */
static bool is_template_name(const char *k)
{
	for (; *k; k++)
		if (!(islower((unsigned char)*k) || *k == '_'))
			return false;
	return true;
}

static int expand_env(const char *s, size_t len, struct buf *out, char *why, size_t whylen)
{
	size_t i = 0;
	int rc = 0;

	while (i < len && rc == 0) {
		const char *close, *name, *def = NULL;
		size_t nlen, dlen = 0;
		char key[256];
		const char *val;

		if (s[i] == '$' && i + 2 < len && s[i + 1] == '$' && s[i + 2] == '{') {
			rc = buf_append(out, "${", 2);
			i += 3;
			continue;
		}
		if (!(s[i] == '$' && i + 1 < len && s[i + 1] == '{')) {
			rc = buf_append_u8(out, (uint8_t)s[i++]);
			continue;
		}
		close = memchr(s + i + 2, '}', len - i - 2);
		if (!close) {
			snprintf(why, whylen, "unterminated ${ in value");
			return -ERR_CONFIG;
		}
		name = s + i + 2;
		nlen = (size_t)(close - name);
		for (size_t k = 0; k < nlen; k++) {
			if (name[k] == ':' && k + 1 < nlen && name[k + 1] == '-') {
				def = name + k + 2;
				dlen = nlen - k - 2;
				nlen = k;
				break;
			}
			if (!(isalnum((unsigned char)name[k]) || name[k] == '_')) {
				snprintf(why, whylen, "invalid environment variable name in ${...}");
				return -ERR_CONFIG;
			}
		}
		if (nlen == 0 || nlen >= sizeof(key)) {
			snprintf(why, whylen, "invalid environment variable name in ${...}");
			return -ERR_CONFIG;
		}
		memcpy(key, name, nlen);
		key[nlen] = '\0';
		val = getenv(key);
		if (val)
			rc = buf_append_str(out, val);
		else if (def)
			rc = buf_append(out, def, dlen);
		else if (is_template_name(key))
			rc = buf_append(out, s + i, (size_t)(close - s) + 1 - i);
		else {
			snprintf(why, whylen, "environment variable %.64s is not set "
				 "(use ${%.64s:-default} for a fallback)", key, key);
			return -ERR_CONFIG;
		}
		i = (size_t)(close - s) + 1;
	}
	return rc;
}

static struct cfg_node *node_new(struct cfg_doc *doc, enum cfg_kind kind, const yaml_mark_t *m)
{
	struct cfg_node *n;

	if (doc->nodes >= CFG_MAX_NODES)
		return NULL;
	n = mem_calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	doc->nodes++;
	n->kind = kind;
	n->line = (int)m->line + 1;
	n->col = (int)m->column + 1;
	n->doc = doc;
	return n;
}

static const char *yaml_problem(const yaml_parser_t *p)
{
	return p->problem ? p->problem : "invalid YAML";
}

/* cfg_load_string()'s parser state between events. */
struct load_state {
	const char *name;
	struct cfg_doc *doc;
	struct cfg_error *err;
	struct cfg_node *stack[CFG_MAX_DEPTH];
	int depth, docs;
	bool done;
	struct buf sb;               /* a scalar after ${VAR} expansion */
};

/* A scalar event's node, its value expanded.  0 with *out (NULL when out of
 * memory or nodes), or -1 after reporting an expansion error. */
static int scalar_node(struct load_state *st, const yaml_event_t *ev, struct cfg_node **out)
{
	struct cfg_node *n;
	char why[200];
	int rc;

	n = node_new(st->doc, CFGN_SCALAR, &ev->start_mark);
	*out = n;
	if (!n)
		return 0;
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	buf_reset(&st->sb);
	rc = expand_env((const char *)ev->data.scalar.value, ev->data.scalar.length, &st->sb,
			why, sizeof(why));
	if (rc == 0)
		rc = buf_cstr(&st->sb);
	if (rc < 0) {
		error_pos(st->err, st->name, n->line, n->col, "%s",
			  rc == -ERR_CONFIG ? why : err_str(rc));
		node_free(n);
		*out = NULL;
		return -1;
	}
	n->value = mem_strndup((const char *)st->sb.data, st->sb.len);
	n->len = st->sb.len;
	if (!n->value) {
		node_free(n);
		*out = NULL;
	}
	return 0;
}

/* The node an event starts (*out, *open for a collection), or the end of a
 * collection or of the stream.  0, or -1 after reporting an error. */
static int event_node(struct load_state *st, const yaml_event_t *ev, struct cfg_node **out,
		      bool *open)
{
	const char *name = st->name;
	struct cfg_error *err = st->err;

	switch (ev->type) {
	case YAML_STREAM_END_EVENT:
		st->done = true;
		break;
	case YAML_DOCUMENT_START_EVENT:
		if (++st->docs > 1) {
			error_pos(err, name, (int)ev->start_mark.line + 1,
				  (int)ev->start_mark.column + 1,
				  "only one YAML document per file is supported");
			return -1;
		}
		break;
	case YAML_ALIAS_EVENT:
		error_pos(err, name, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
			  "YAML aliases (*%s) are not supported", ev->data.alias.anchor);
		return -1;
	case YAML_SCALAR_EVENT:
		return scalar_node(st, ev, out);
	case YAML_SEQUENCE_START_EVENT:
		*out = node_new(st->doc, CFGN_SEQ, &ev->start_mark);
		*open = true;
		break;
	case YAML_MAPPING_START_EVENT:
		*out = node_new(st->doc, CFGN_MAP, &ev->start_mark);
		*open = true;
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		st->depth--;
		break;
	default:
		break;
	}
	return 0;
}

/* Put n in its parent (or make it the root), refusing a duplicate key, and
 * descend into it when it opens a collection.  0, or -1 after reporting
 * (n is then freed unless the tree already holds it). */
static int attach_node(struct load_state *st, struct cfg_node *n, bool open)
{
	const char *name = st->name;
	struct cfg_error *err = st->err;
	struct cfg_node **stack = st->stack;
	int depth = st->depth;

	if (n->kind == CFGN_SCALAR && depth > 0 && stack[depth - 1]->kind == CFGN_MAP &&
	    !stack[depth - 1]->key_pending) {
		/* A key: refuse duplicates here, where the position is known. */
		const struct cfg_node *m = stack[depth - 1];

		for (size_t i = 0; i < m->n; i++) {
			if (cfg_map_key(m, i)->kind == CFGN_SCALAR &&
			    strcmp(cfg_map_key(m, i)->value, n->value) == 0) {
				error_pos(err, name, n->line, n->col,
					  "duplicate key '%s' (first at line %d)",
					  n->value, cfg_map_key(m, i)->line);
				node_free(n);
				return -1;
			}
		}
	}
	if (depth == 0) {
		st->doc->root = n;
	} else if (node_push(stack[depth - 1], n) < 0) {
		node_free(n);
		error_pos(err, name, 0, 0, "out of memory");
		return -1;
	}
	if (open) {
		if (depth >= CFG_MAX_DEPTH) {
			error_pos(err, name, n->line, n->col, "nesting deeper than %d levels",
				  CFG_MAX_DEPTH);
			return -1;
		}
		stack[st->depth++] = n;
	}
	return 0;
}

struct cfg_doc *cfg_load_string(const char *name, const char *text, size_t len,
				struct cfg_error *err)
{
	struct load_state st = {.name = name, .err = err};
	yaml_parser_t parser;
	yaml_event_t ev;
	bool ok = false;

	buf_init(&st.sb, CFG_MAX_DOC);
	if (!yaml_parser_initialize(&parser)) {
		error_pos(err, name, 0, 0, "out of memory");
		return NULL;
	}
	if (len > CFG_MAX_DOC) {
		error_pos(err, name, 0, 0, "file larger than %u bytes", CFG_MAX_DOC);
		goto out;
	}
	st.doc = mem_calloc(1, sizeof(*st.doc));
	if (!st.doc || !(st.doc->name = mem_strdup(name))) {
		error_pos(err, name, 0, 0, "out of memory");
		goto out;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (!st.done) {
		struct cfg_node *n = NULL;
		bool open = false;
		int rc;

		if (!yaml_parser_parse(&parser, &ev)) {
			error_pos(err, name, (int)parser.problem_mark.line + 1,
				  (int)parser.problem_mark.column + 1, "%s%s%s", yaml_problem(&parser),
				  parser.context ? " " : "", parser.context ? parser.context : "");
			goto out;
		}
		rc = event_node(&st, &ev, &n, &open);
		if (rc == 0 && (ev.type == YAML_SCALAR_EVENT || open) && !n) {
			error_pos(err, name, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
				  st.doc->nodes >= CFG_MAX_NODES ? "too many YAML nodes"
								 : "out of memory");
			rc = -1;
		}
		if (rc == 0 && n)
			rc = attach_node(&st, n, open);
		yaml_event_delete(&ev);
		if (rc < 0)
			goto out;
	}
	ok = true;
out:
	yaml_parser_delete(&parser);
	buf_release(&st.sb);
	if (!ok) {
		cfg_doc_free(st.doc);
		return NULL;
	}
	return st.doc;
}

struct cfg_doc *cfg_load_file(const char *path, struct cfg_error *err)
{
	struct cfg_doc *doc;
	struct buf b;
	int rc;

	buf_init(&b, CFG_MAX_DOC);
	rc = fs_read_file(path, &b);
	if (rc < 0) {
		error_pos(err, path, 0, 0, "cannot read: %s", err_str(rc));
		buf_release(&b);
		return NULL;
	}
	doc = cfg_load_string(path, b.data ? (const char *)b.data : "", b.len, err);
	buf_release(&b);
	return doc;
}

const struct cfg_node *cfg_map_get(const struct cfg_node *map, const char *key)
{
	if (!map || map->kind != CFGN_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++) {
		const struct cfg_node *k = cfg_map_key(map, i);

		if (k->kind == CFGN_SCALAR && strcmp(k->value, key) == 0)
			return cfg_map_value(map, i);
	}
	return NULL;
}

bool cfg_node_is_null(const struct cfg_node *n)
{
	return n->kind == CFGN_SCALAR && n->plain &&
	       (n->len == 0 || strcmp(n->value, "~") == 0 || strcmp(n->value, "null") == 0 ||
		strcmp(n->value, "Null") == 0 || strcmp(n->value, "NULL") == 0);
}

/* ---------------------------------------------------------------- values */

int cfg_parse_int(const char *s, int64_t *v)
{
	const char *digits = s + (*s == '-' || *s == '+');
	int base = 10;
	char *end;
	long long r;

	if (!*s || isspace((unsigned char)*s))
		return -ERR_INVALID;
	/* Decimal, or hex with 0x: never strtoll's base 0, which reads a
	 * leading zero as octal ("010" would be 8). */
	if (digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X'))
		base = 16;
	errno = 0;
	r = strtoll(s, &end, base);
	if (errno || *end)
		return -ERR_INVALID;
	*v = r;
	return 0;
}

int cfg_parse_bool(const char *s, bool *v)
{
	static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"};
	static const char *const no[] = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(s, yes[i]) == 0) {
			*v = true;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*v = false;
			return 0;
		}
	}
	return -ERR_INVALID;
}

int cfg_parse_size(const char *s, uint64_t *v)
{
	static const struct { const char *unit; uint64_t mult; } units[] = {
		{"", 1}, {"B", 1},
		{"K", 1ull << 10}, {"KiB", 1ull << 10}, {"KB", 1000},
		{"M", 1ull << 20}, {"MiB", 1ull << 20}, {"MB", 1000000},
		{"G", 1ull << 30}, {"GiB", 1ull << 30}, {"GB", 1000000000},
		{"T", 1ull << 40}, {"TiB", 1ull << 40}, {"TB", 1000000000000ull},
	};
	uint64_t n = 0;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -ERR_INVALID;
	while (isdigit((unsigned char)*p)) {
		if (n > (UINT64_MAX - 9) / 10)
			return -ERR_INVALID;
		n = n * 10 + (uint64_t)(*p++ - '0');
	}
	while (*p == ' ')
		p++;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(p, units[i].unit) == 0) {
			if (n > UINT64_MAX / units[i].mult)
				return -ERR_INVALID;
			*v = n * units[i].mult;
			return 0;
		}
	}
	return -ERR_INVALID;
}

static const char *type_name(enum cfg_type t)
{
	switch (t) {
	case CFG_STRING: return "string";
	case CFG_INT: return "integer";
	case CFG_BOOL: return "bool";
	case CFG_SIZE: return "size";
	case CFG_DURATION: return "duration";
	case CFG_ENUM: return "enum";
	case CFG_LIST: return "list";
	case CFG_MAP: return "map";
	case CFG_SECTION: return "section";
	case CFG_NODE: return "any";
	case CFG_DOUBLE: return "number";
	}
	return "?";
}

static void list_free(struct cfg_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		mem_free(l->v[i]);
	mem_free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void kv_free(struct cfg_kv *m)
{
	for (size_t i = 0; i < m->n; i++) {
		mem_free(m->keys[i]);
		mem_free(m->vals[i]);
	}
	mem_free(m->keys);
	mem_free(m->vals);
	m->keys = NULL;
	m->vals = NULL;
	m->n = 0;
}

static void choices_text(const struct cfg_option *o, char *out, size_t cap)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; o->choices && o->choices[i]; i++) {
		int n = snprintf(out + used, cap - used, "%s%s", i ? ", " : "", o->choices[i]);

		if (n < 0 || (size_t)n >= cap - used)
			break;
		used += (size_t)n;
	}
}

static int check_range(const struct cfg_option *o, int64_t v, char *why, size_t whylen)
{
	if (o->min < o->max && (v < o->min || v > o->max)) {
		snprintf(why, whylen, "value out of range [%" PRId64 ", %" PRId64 "]", o->min, o->max);
		return -ERR_CONFIG;
	}
	return 0;
}

/* Parse scalar text s for option o into obj.  On error writes why. */
static int set_scalar(const struct cfg_option *o, void *obj, const char *s, char *why,
		      size_t whylen)
{
	void *slot = (char *)obj + o->offset;
	int rc = 0;

	switch (o->type) {
	case CFG_STRING: {
		char *d;

		if (o->check && o->check(s, why, whylen) < 0)
			return -ERR_CONFIG;
		d = mem_strdup(s);
		if (!d)
			return -ENOMEM;
		mem_free(*(char **)slot);
		*(char **)slot = d;
		return 0;
	}
	case CFG_INT: {
		int64_t v;

		if (cfg_parse_int(s, &v) < 0) {
			snprintf(why, whylen, "expected an integer, got '%s'", s);
			return -ERR_CONFIG;
		}
		rc = check_range(o, v, why, whylen);
		if (rc == 0)
			*(int64_t *)slot = v;
		return rc;
	}
	case CFG_BOOL:
		if (cfg_parse_bool(s, (bool *)slot) < 0) {
			snprintf(why, whylen, "expected true or false, got '%s'", s);
			return -ERR_CONFIG;
		}
		return 0;
	case CFG_SIZE: {
		uint64_t v;

		if (cfg_parse_size(s, &v) < 0 || v > INT64_MAX) {
			snprintf(why, whylen, "expected a size such as 512KiB, 64MiB or 1GiB, got '%s'", s);
			return -ERR_CONFIG;
		}
		rc = check_range(o, (int64_t)v, why, whylen);
		if (rc == 0)
			*(uint64_t *)slot = v;
		return rc;
	}
	case CFG_DURATION: {
		int64_t v;

		if (clock_parse_duration(s, &v) < 0) {
			snprintf(why, whylen, "expected a duration such as 250ms, 10s, 5m, 1h or 7d, got '%s'", s);
			return -ERR_CONFIG;
		}
		rc = check_range(o, v, why, whylen);
		if (rc == 0)
			*(int64_t *)slot = v;
		return rc;
	}
	case CFG_ENUM:
		for (int i = 0; o->choices && o->choices[i]; i++) {
			if (strcmp(s, o->choices[i]) == 0) {
				*(int *)slot = i;
				return 0;
			}
		}
		{
			char c[256];

			choices_text(o, c, sizeof(c));
			snprintf(why, whylen, "expected one of: %.160s; got '%.64s'", c, s);
		}
		return -ERR_CONFIG;
	case CFG_DOUBLE: {
		char *end;
		double d;

		errno = 0;
		d = strtod(s, &end);
		if (!*s || errno || *end) {
			snprintf(why, whylen, "expected a number, got '%s'", s);
			return -ERR_CONFIG;
		}
		*(double *)slot = d;
		return 0;
	}
	case CFG_LIST: {
		/* A single scalar is a one-item list. */
		struct cfg_list *l = slot;
		char **v;

		if (o->check && o->check(s, why, whylen) < 0)
			return -ERR_CONFIG;
		v = mem_alloc(sizeof(*v));
		if (!v)
			return -ENOMEM;
		v[0] = mem_strdup(s);
		if (!v[0]) {
			mem_free(v);
			return -ENOMEM;
		}
		list_free(l);
		l->v = v;
		l->n = 1;
		return 0;
	}
	default:
		snprintf(why, whylen, "expected a %s", type_name(o->type));
		return -ERR_CONFIG;
	}
}

static void opt_zero(const struct cfg_option *o, void *obj)
{
	void *slot = (char *)obj + o->offset;

	switch (o->type) {
	case CFG_STRING:
		mem_free(*(char **)slot);
		*(char **)slot = NULL;
		break;
	case CFG_INT:
	case CFG_DURATION:
		*(int64_t *)slot = 0;
		break;
	case CFG_SIZE:
		*(uint64_t *)slot = 0;
		break;
	case CFG_BOOL:
		*(bool *)slot = false;
		break;
	case CFG_ENUM:
		*(int *)slot = 0;
		break;
	case CFG_DOUBLE:
		*(double *)slot = 0;
		break;
	case CFG_LIST:
		list_free(slot);
		break;
	case CFG_MAP:
		kv_free(slot);
		break;
	case CFG_NODE:
		*(const struct cfg_node **)slot = NULL;
		break;
	case CFG_SECTION:
		break;
	}
}

int cfg_defaults(const struct cfg_option *opts, void *obj, struct cfg_error *err)
{
	for (const struct cfg_option *o = opts; o->name; o++) {
		char why[256];
		int rc;

		if (o->type == CFG_SECTION) {
			rc = cfg_defaults(o->sub, (char *)obj + o->offset, err);
			if (rc < 0)
				return rc;
			continue;
		}
		opt_zero(o, obj);
		if (!o->def)
			continue;
		if (o->type == CFG_LIST && o->def[0] == '\0')
			continue;  /* "" = empty list */
		rc = set_scalar(o, obj, o->def, why, sizeof(why));
		if (rc < 0) {
			cfg_error_at(err, NULL, "bad built-in default for '%s': %s", o->name, why);
			return -ERR_CONFIG;
		}
	}
	return 0;
}

void cfg_free(const struct cfg_option *opts, void *obj)
{
	for (const struct cfg_option *o = opts; o->name; o++) {
		if (o->type == CFG_SECTION)
			cfg_free(o->sub, (char *)obj + o->offset);
		else
			opt_zero(o, obj);
	}
}

static int set_list(const struct cfg_option *o, void *obj, const struct cfg_node *v,
		    const char *path, struct cfg_error *err)
{
	struct cfg_list *l = (struct cfg_list *)((char *)obj + o->offset);
	struct cfg_list nl = {NULL, 0};
	char why[256];

	nl.v = mem_calloc(v->n ? v->n : 1, sizeof(char *));
	if (!nl.v)
		return -ENOMEM;
	for (size_t i = 0; i < v->n; i++) {
		const struct cfg_node *it = v->items[i];

		if (it->kind != CFGN_SCALAR) {
			cfg_error_at(err, it, "%s[%zu]: expected a string", path, i);
			list_free(&nl);
			return -ERR_CONFIG;
		}
		if (o->check && o->check(it->value, why, sizeof(why)) < 0) {
			cfg_error_at(err, it, "%s[%zu]: %s", path, i, why);
			list_free(&nl);
			return -ERR_CONFIG;
		}
		nl.v[i] = mem_strdup(it->value);
		if (!nl.v[i]) {
			list_free(&nl);
			return -ENOMEM;
		}
		nl.n++;
	}
	list_free(l);
	*l = nl;
	return 0;
}

static int set_kv(const struct cfg_option *o, void *obj, const struct cfg_node *v,
		  const char *path, struct cfg_error *err)
{
	struct cfg_kv *m = (struct cfg_kv *)((char *)obj + o->offset);
	struct cfg_kv nm = {NULL, NULL, 0};
	size_t cnt = v->n ? v->n : 1;

	nm.keys = mem_calloc(cnt, sizeof(char *));
	nm.vals = mem_calloc(cnt, sizeof(char *));
	if (!nm.keys || !nm.vals)
		goto oom;
	for (size_t i = 0; i < v->n; i++) {
		const struct cfg_node *k = cfg_map_key(v, i), *val = cfg_map_value(v, i);

		if (k->kind != CFGN_SCALAR || val->kind != CFGN_SCALAR) {
			cfg_error_at(err, val, "%s.%s: expected a string value", path,
				     k->kind == CFGN_SCALAR ? k->value : "?");
			kv_free(&nm);
			return -ERR_CONFIG;
		}
		if (o->check) {
			char why[256];

			if (o->check(val->value, why, sizeof(why)) < 0) {
				cfg_error_at(err, val, "%s.%s: %s", path, k->value, why);
				kv_free(&nm);
				return -ERR_CONFIG;
			}
		}
		nm.keys[i] = mem_strdup(k->value);
		nm.vals[i] = mem_strdup(val->value);
		nm.n++;
		if (!nm.keys[i] || !nm.vals[i])
			goto oom;
	}
	kv_free(m);
	*m = nm;
	return 0;
oom:
	kv_free(&nm);
	mem_free(nm.keys);
	mem_free(nm.vals);
	return -ENOMEM;
}

static int bind_value(const struct cfg_option *o, void *obj, const struct cfg_node *v,
		      const char *path, struct cfg_error *err)
{
	char why[256];
	int rc;

	switch (o->type) {
	case CFG_NODE:
		*(const struct cfg_node **)((char *)obj + o->offset) = v;
		return 0;
	case CFG_SECTION:
		return cfg_bind(v, o->sub, (char *)obj + o->offset, path, err);
	case CFG_LIST:
		if (v->kind == CFGN_SEQ)
			return set_list(o, obj, v, path, err);
		break;
	case CFG_MAP:
		if (v->kind == CFGN_MAP)
			return set_kv(o, obj, v, path, err);
		if (cfg_node_is_null(v)) {
			kv_free((struct cfg_kv *)((char *)obj + o->offset));
			return 0;
		}
		cfg_error_at(err, v, "%s: expected a mapping of strings", path);
		return -ERR_CONFIG;
	default:
		break;
	}
	if (v->kind != CFGN_SCALAR) {
		cfg_error_at(err, v, "%s: expected a %s, got a %s", path, type_name(o->type),
			     v->kind == CFGN_MAP ? "mapping" : "list");
		return -ERR_CONFIG;
	}
	if (o->type == CFG_LIST && cfg_node_is_null(v)) {
		list_free((struct cfg_list *)((char *)obj + o->offset));
		return 0;
	}
	rc = set_scalar(o, obj, v->value, why, sizeof(why));
	if (rc == -ERR_CONFIG)
		cfg_error_at(err, v, "%s: %s", path, why);
	else if (rc < 0)
		cfg_error_at(err, v, "%s: %s", path, err_str(rc));
	return rc < 0 ? -ERR_CONFIG : 0;
}

static void known_keys(const struct cfg_binding *b, size_t nb, char *out, size_t cap)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < nb; i++) {
		for (const struct cfg_option *o = b[i].opts; o->name; o++) {
			int n = snprintf(out + used, cap - used, "%s%s", used ? ", " : "", o->name);

			if (n < 0 || (size_t)n >= cap - used)
				return;
			used += (size_t)n;
		}
	}
}

int cfg_bind_multi(const struct cfg_node *map, const struct cfg_binding *b, size_t nb,
		   const char *path, struct cfg_error *err)
{
	char sub[512];
	int rc;

	for (size_t i = 0; i < nb; i++) {
		rc = cfg_defaults(b[i].opts, b[i].obj, err);
		if (rc < 0)
			return rc;
	}
	if (map && !(map->kind == CFGN_MAP || cfg_node_is_null(map))) {
		cfg_error_at(err, map, "%s: expected a mapping", path && *path ? path : "document");
		return -ERR_CONFIG;
	}
	if (map && map->kind == CFGN_MAP) {
		for (size_t i = 0; i < map->n; i++) {
			const struct cfg_node *k = cfg_map_key(map, i), *v = cfg_map_value(map, i);
			const struct cfg_option *found = NULL;
			void *obj = NULL;

			if (k->kind != CFGN_SCALAR) {
				cfg_error_at(err, k, "%s: keys must be strings", path && *path ? path : "document");
				return -ERR_CONFIG;
			}
			for (size_t j = 0; j < nb && !found; j++) {
				for (const struct cfg_option *o = b[j].opts; o->name; o++) {
					if (strcmp(o->name, k->value) == 0) {
						found = o;
						obj = b[j].obj;
						break;
					}
				}
			}
			snprintf(sub, sizeof(sub), "%s%s%s", path && *path ? path : "",
				 path && *path ? "." : "", k->value);
			if (!found) {
				char keys[300];

				known_keys(b, nb, keys, sizeof(keys));
				cfg_error_at(err, k, "%s: unknown key (expected one of: %s)", sub, keys);
				return -ERR_CONFIG;
			}
			rc = bind_value(found, obj, v, sub, err);
			if (rc < 0)
				return rc;
		}
	}
	for (size_t j = 0; j < nb; j++) {
		for (const struct cfg_option *o = b[j].opts; o->name; o++) {
			if (!(o->flags & CFG_REQUIRED) || cfg_map_get(map, o->name))
				continue;
			snprintf(sub, sizeof(sub), "%s%s%s", path && *path ? path : "",
				 path && *path ? "." : "", o->name);
			cfg_error_at(err, map, "%s: required key is missing", sub);
			return -ERR_CONFIG;
		}
	}
	return 0;
}

int cfg_bind(const struct cfg_node *map, const struct cfg_option *opts, void *obj,
	     const char *path, struct cfg_error *err)
{
	struct cfg_binding b = {opts, obj};

	return cfg_bind_multi(map, &b, 1, path, err);
}

void cfg_help(const struct cfg_option *opts, FILE *out, int indent)
{
	for (const struct cfg_option *o = opts; o->name; o++) {
		fprintf(out, "%*s%-22s %-9s", indent, "", o->name, type_name(o->type));
		if (o->type == CFG_ENUM) {
			char c[256];

			choices_text(o, c, sizeof(c));
			fprintf(out, " (%s)", c);
		}
		if (o->def && *o->def)
			fprintf(out, " default: %s", o->def);
		if (o->flags & CFG_REQUIRED)
			fprintf(out, " [required]");
		if (o->help)
			fprintf(out, "\n%*s%s", indent + 4, "", o->help);
		fputc('\n', out);
		if (o->type == CFG_SECTION)
			cfg_help(o->sub, out, indent + 2);
	}
}
