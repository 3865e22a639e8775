/* SPDX-License-Identifier: Apache-2.0 */
/*
 * YAML loading (libyaml event API -> node tree with positions); binding
 * option tables onto that tree is lib/config_bind.c.  The tree is built iteratively with an explicit stack so a
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

static void verror_at(struct cfg_error *err, const char *name, int line, int col, const char *fmt,
		      va_list ap)
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

static void error_pos(struct cfg_error *err, const char *name, int line, int col, const char *fmt,
		      ...) __attribute__((format(printf, 5, 6)));
static void error_pos(struct cfg_error *err, const char *name, int line, int col, const char *fmt,
		      ...)
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
				snprintf(why, whylen,
					 "invalid environment variable name in ${...}");
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
			snprintf(why, whylen,
				 "environment variable %.64s is not set "
				 "(use ${%.64s:-default} for a fallback)",
				 key, key);
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
	struct buf sb; /* a scalar after ${VAR} expansion */
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
	rc = expand_env((const char *)ev->data.scalar.value, ev->data.scalar.length, &st->sb, why,
			sizeof(why));
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
					  "duplicate key '%s' (first at line %d)", n->value,
					  cfg_map_key(m, i)->line);
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
				  (int)parser.problem_mark.column + 1, "%s%s%s",
				  yaml_problem(&parser), parser.context ? " " : "",
				  parser.context ? parser.context : "");
			goto out;
		}
		rc = event_node(&st, &ev, &n, &open);
		if (rc == 0 && (ev.type == YAML_SCALAR_EVENT || open) && !n) {
			error_pos(err, name, (int)ev.start_mark.line + 1,
				  (int)ev.start_mark.column + 1,
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
