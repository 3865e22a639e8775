/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small, strict JSON parser (RFC 8259) into a read-only tree, for the few
 * JSON documents Sluice reads: HTTP API request bodies in the store and API
 * responses in the CLI.  Not for hot paths (records are never parsed as
 * JSON on the way through the store).
 *
 * Bounded: nesting deeper than JDOC_MAX_DEPTH is -ERR_TOO_LARGE, so a
 * hostile document cannot exhaust the stack; every node consumes at least
 * one input byte, so memory is linear in the input.  Strings are decoded
 * (escapes, surrogate pairs) into NUL-terminated copies; invalid UTF-8 or a
 * lone surrogate is an error.  Numbers keep their double value and, when the
 * text is an integer that fits, an exact int64.
 *
 * A jdoc owns every node and string; pointers stay valid until jdoc_free().
 * Not thread-safe per document.
 */
#ifndef SLUICE_JDOC_H
#define SLUICE_JDOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/check.h"

#define JDOC_MAX_DEPTH 64

enum jtype { JNULL, JBOOL, JNUM, JSTR, JARR, JOBJ };

struct jnode {
	enum jtype type;
	const char *key; /* member name inside an object, else NULL */
	size_t key_len;
	bool b;     /* JBOOL */
	double num; /* JNUM */
	int64_t i;  /* JNUM when is_int */
	bool is_int;
	const char *s; /* JSTR, NUL-terminated (may contain NULs) */
	size_t len;
	struct jnode *kids; /* JARR items / JOBJ members, n of them */
	size_t n;
};

struct jdoc;

/* Parse text[0..len).  0, -ERR_INVALID (syntax; *err_off, when not NULL, is
 * the byte offset of the problem), -ERR_TOO_LARGE (nesting) or -ENOMEM. */
SLUICE_MUST_CHECK int jdoc_parse(const void *text, size_t len, struct jdoc **out, size_t *err_off);
void jdoc_free(struct jdoc *d);
const struct jnode *jdoc_root(const struct jdoc *d);

/* Member of an object by name (the first one), or NULL. */
const struct jnode *jnode_get(const struct jnode *obj, const char *key);
/* Helpers returning 0, or -ERR_INVALID when n is NULL or of another type. */
SLUICE_MUST_CHECK int jnode_i64(const struct jnode *n, int64_t *v);
SLUICE_MUST_CHECK int jnode_bool(const struct jnode *n, bool *v);
/* String value or NULL. */
const char *jnode_str(const struct jnode *n);

/* Append n as compact JSON (numbers as parsed: exact integers, otherwise
 * %.17g).  0 or the buf error. */
struct buf;
SLUICE_MUST_CHECK int jnode_write(struct buf *b, const struct jnode *n);

#endif
