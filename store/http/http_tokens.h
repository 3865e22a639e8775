/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bearer tokens of the HTTP API (http.tokens_file).  One grant per line:
 *
 *   # token                       topic-glob   permissions
 *   3f9c0d1e6b2a4c8d9e0f1a2b3c4d   nginx*       produce
 *   7a1b2c3d4e5f60718293a4b5c6d7   *            consume,admin
 *
 * Fields are separated by spaces or tabs; '#' starts a comment line.  The
 * glob is an fnmatch(3) pattern on the topic name; permissions are a comma
 * list of produce, consume and admin (admin implies the other two).  A token
 * may appear on several lines: its grants add up.
 *
 * A line with two fields maps a token to a principal instead:
 *
 *   9c0d1e6b2a4c8d9e0f1a2b3c4d5e   User:agent-web
 *
 * and that principal's grants come from auth.acl_file (store/auth/acl.h), the
 * same ones it has over Kafka.  A token with inline grants only is the
 * principal "Token:LINE" (its first line), which an ACL file may also name.
 *
 * Lookups compare the presented token with every configured token in
 * constant time (no early exit, time independent of where the bytes differ),
 * so response timing does not leak token bytes.  Token text never appears in
 * error messages: lines are named by number.
 *
 * An http_tokens is immutable once parsed; lookups are thread-safe.
 */
#ifndef SLUICE_STORE_HTTP_TOKENS_H
#define SLUICE_STORE_HTTP_TOKENS_H

#include <stdbool.h>
#include <stddef.h>

enum http_perm {
	HTTP_PERM_CONSUME = 1 << 0,
	HTTP_PERM_PRODUCE = 1 << 1,
	HTTP_PERM_ADMIN = 1 << 2,
};

struct http_tokens;

/* Parse text (name is used in error messages).  0, or -ERR_CONFIG with
 * "name:line: reason" in err, or -ENOMEM.  A file without any token is an
 * error: it would lock every client out, which is never what was meant. */
int http_tokens_parse(const char *name, const char *text, size_t len, struct http_tokens **out,
		      char *err, size_t errlen);
/* Read and parse a file (at most 4 MiB).  Also -errno when unreadable. */
int http_tokens_load(const char *path, struct http_tokens **out, char *err, size_t errlen);
void http_tokens_free(struct http_tokens *t);

/* Number of distinct tokens. */
size_t http_tokens_count(const struct http_tokens *t);

/* The identity (index >= 0) of the presented token, or -ERR_AUTH. */
int http_tokens_find(const struct http_tokens *t, const char *token, size_t len);

/* Does identity id hold perm on topic?  topic NULL: on at least one glob
 * (for endpoints that name no topic, such as POST /v1/producers). */
bool http_tokens_allows(const struct http_tokens *t, int id, unsigned perm, const char *topic);

/* The principal of identity id ("User:NAME" or "Token:LINE"), or NULL. */
const char *http_tokens_principal(const struct http_tokens *t, int id);

/* Line where identity id was first defined, for logs. */
int http_tokens_line(const struct http_tokens *t, int id);

#endif
