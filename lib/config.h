/* SPDX-License-Identifier: Apache-2.0 */
/*
 * YAML configuration on libyaml, bound into C structs by typed option tables.
 *
 * Loading turns a file into a tree of nodes that remember their line and
 * column; ${NAME} and ${NAME:-default} in scalar values are expanded from the
 * environment ($${ is a literal ${).  Binding walks a mapping node against a
 * table of struct cfg_option: each key must name an option (unknown keys are
 * errors), each value must parse as the option's type, defaults come from the
 * same table (as text, parsed by the same code), and the table also prints
 * --help.  Every error reads "file:line:column: key.path: message".
 *
 * Storage per type (at obj + offset):
 *   CFG_STRING char *  (owned)      CFG_SIZE uint64_t bytes (KiB/MiB/GiB, KB/MB/GB)
 *   CFG_INT int64_t                 CFG_DURATION int64_t ms ("250ms", "10s", "1h30m", "7d")
 *   CFG_BOOL bool                   CFG_ENUM int (index into choices)
 *   CFG_LIST struct cfg_list        CFG_MAP struct cfg_kv (string -> string)
 *   CFG_SECTION nested table, offsets relative to obj + offset
 *   CFG_NODE const struct cfg_node * (borrowed from the doc; for dispatch)
 *   CFG_DOUBLE double
 *
 * Not thread-safe per document; tables are const and shared freely.
 */
#ifndef SLUICE_CONFIG_H
#define SLUICE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/check.h"

enum cfg_kind { CFGN_SCALAR, CFGN_SEQ, CFGN_MAP };

struct cfg_doc;

struct cfg_node {
	enum cfg_kind kind;
	int line;    /* 1-based */
	int col;     /* 1-based */
	char *value; /* scalar text after expansion, NUL-terminated */
	size_t len;
	bool plain;              /* unquoted scalar (so ~ and null mean null) */
	struct cfg_node **items; /* SEQ: n values; MAP: n pairs as key,value,... */
	size_t n;                /* SEQ: items; MAP: pairs */
	bool key_pending;        /* loader internal: MAP has a key awaiting its value */
	const struct cfg_doc *doc;
};

#define CFG_ERR_MAX 512

struct cfg_error {
	char msg[CFG_ERR_MAX];
};

/* Load a YAML document.  NULL on failure with err->msg set. */
struct cfg_doc *cfg_load_file(const char *path, struct cfg_error *err);
/* name is used in error messages (usually the file path). */
struct cfg_doc *cfg_load_string(const char *name, const char *text, size_t len,
				struct cfg_error *err);
void cfg_doc_free(struct cfg_doc *doc);
/* NULL for an empty document. */
const struct cfg_node *cfg_doc_root(const struct cfg_doc *doc);
const char *cfg_doc_name(const struct cfg_doc *doc);

/* Value node of key in a MAP node, or NULL. */
const struct cfg_node *cfg_map_get(const struct cfg_node *map, const char *key);
static inline const struct cfg_node *cfg_map_key(const struct cfg_node *map, size_t i)
{
	return map->items[2 * i];
}
static inline const struct cfg_node *cfg_map_value(const struct cfg_node *map, size_t i)
{
	return map->items[2 * i + 1];
}
/* Is this scalar YAML null (~, null, empty plain)? */
bool cfg_node_is_null(const struct cfg_node *n);

/* Format "file:line:col: msg" into err (at may be NULL: just "file: msg"). */
void cfg_error_at(struct cfg_error *err, const struct cfg_node *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

enum cfg_type {
	CFG_STRING,
	CFG_INT,
	CFG_BOOL,
	CFG_SIZE,
	CFG_DURATION,
	CFG_ENUM,
	CFG_LIST,
	CFG_MAP,
	CFG_SECTION,
	CFG_NODE,
	CFG_DOUBLE,
};

#define CFG_REQUIRED 0x1u

struct cfg_list {
	char **v;
	size_t n;
};

struct cfg_kv {
	char **keys;
	char **vals;
	size_t n;
};

struct cfg_option {
	const char *name;
	enum cfg_type type;
	size_t offset;
	const char *def; /* default, in config syntax; NULL = zero */
	const char *help;
	int64_t min, max;             /* INT/SIZE/DURATION bounds, used when min < max */
	const char *const *choices;   /* ENUM: NULL-terminated */
	const struct cfg_option *sub; /* SECTION */
	unsigned flags;
	/* Extra validation of a STRING/LIST item or MAP value (e.g. compile a
	 * regex).  Returns 0 or writes a reason into why and returns < 0. */
	int (*check)(const char *value, char *why, size_t whylen);
};

#define CFG_OPT_END          \
	{                    \
		.name = NULL \
	}

/* One table bound to one object; several can share one YAML mapping (for
 * example an input's common keys and its plugin's own keys). */
struct cfg_binding {
	const struct cfg_option *opts;
	void *obj;
};

/* Set every option of the table to its default.  0 or -ERR_CONFIG (a bad
 * default is a programming error, reported like any other). */
SLUICE_MUST_CHECK int cfg_defaults(const struct cfg_option *opts, void *obj, struct cfg_error *err);

/* Apply defaults, then the keys of map (which may be NULL or YAML null: all
 * defaults).  path prefixes key names in errors ("inputs[0]").
 * 0 or -ERR_CONFIG with err set. */
SLUICE_MUST_CHECK int cfg_bind(const struct cfg_node *map, const struct cfg_option *opts, void *obj,
			       const char *path, struct cfg_error *err);
SLUICE_MUST_CHECK int cfg_bind_multi(const struct cfg_node *map, const struct cfg_binding *b,
				     size_t nb, const char *path, struct cfg_error *err);

/* Free what binding allocated (strings, lists, maps), recursively. */
void cfg_free(const struct cfg_option *opts, void *obj);

/* Print the options, their types, defaults and help. */
void cfg_help(const struct cfg_option *opts, FILE *out, int indent);

/* Value parsers shared with command-line flags. */
SLUICE_MUST_CHECK int cfg_parse_size(const char *s, uint64_t *v);
SLUICE_MUST_CHECK int cfg_parse_bool(const char *s, bool *v);
/* A whole signed 64-bit integer: decimal ("010" is ten, not octal eight) or
 * hex with a 0x prefix.  0 or -ERR_INVALID (empty, leading space, trailing
 * characters, overflow). */
SLUICE_MUST_CHECK int cfg_parse_int(const char *s, int64_t *v);

#endif
