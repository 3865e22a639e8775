/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ACL file (auth.acl_file): who may do what, for Kafka and HTTP alike.
 * One grant per line, fields separated by spaces or tabs, '#' comments:
 *
 *   # principal          resource        permissions
 *   User:agent-web       app*            produce
 *   User:alice           app*            produce,consume
 *   User:alice           group:alice-*   consume
 *   User:ops             *               admin
 *   User:ops             cluster         admin
 *   User:etl             txn:etl-*       produce
 *   "User:CN=web-01,O=Example Inc"  logs.*  produce
 *
 * Principal: "User:NAME" (a SASL user, an HTTP token mapped to NAME, or an
 * mTLS certificate subject "User:CN=...,O=..."), "User:*" (every principal,
 * the anonymous one included), "User:ANONYMOUS" (unauthenticated clients
 * of a listener without SASL) or "Token:LINE" (an HTTP token with inline
 * grants, named by its first line in http.tokens_file).  A principal containing spaces is written in
 * double quotes.
 *
 * Resource: a topic glob (fnmatch(3)), the same with a "topic:" prefix, a
 * consumer-group glob "group:GLOB", a transactional-id glob "txn:GLOB", or
 * "cluster".
 *
 * Permissions, a comma list:
 *   topic    produce (write, auto-create), consume (read, offsets), admin
 *            (create, delete, configs; implies produce and consume)
 *   group    consume (join, sync, heartbeat, leave, commit, fetch offsets,
 *            describe), admin (also delete; implies consume)
 *   txn      produce (Kafka's WRITE on a TransactionalId: InitProducerId,
 *            AddPartitionsToTxn, AddOffsetsToTxn, EndTxn), admin (the same)
 *   cluster  admin (every topic's metrics, user and ACL management)
 * Grants only add up; there is no deny.
 *
 * An acl is immutable once parsed; lookups are thread-safe.
 */
#ifndef SLUICE_STORE_AUTH_ACL_H
#define SLUICE_STORE_AUTH_ACL_H

#include <stdbool.h>
#include <stddef.h>

/* Same bits as enum http_perm (store/http/http_tokens.h). */
enum acl_perm {
	ACL_CONSUME = 1 << 0,
	ACL_PRODUCE = 1 << 1,
	ACL_ADMIN = 1 << 2,
};

enum acl_res {
	ACL_TOPIC,
	ACL_GROUP,
	ACL_CLUSTER,
	ACL_TXN, /* a transactional.id */
};

#define ACL_ANONYMOUS "User:ANONYMOUS"

struct acl;

/* Parse text (name for errors "name:line:column: reason").  0, -ERR_CONFIG
 * with err, or -ENOMEM.  An empty file is valid and grants nothing. */
int acl_parse(const char *name, const char *text, size_t len, struct acl **out, char *err,
	      size_t errlen);
/* Read and parse a file (at most 4 MiB). */
int acl_load(const char *path, struct acl **out, char *err, size_t errlen);
void acl_free(struct acl *a);
size_t acl_count(const struct acl *a);

/* Does principal hold every bit of perm (0: any grant) on kind/name?  name NULL:
 * on at least one resource of that kind (for "may this principal produce
 * anywhere", e.g. to obtain a producer id). */
bool acl_allows(const struct acl *a, const char *principal, enum acl_res kind, const char *name,
		unsigned perm);
/* Every permission bit principal holds on kind/name (0: none). */
unsigned acl_perms(const struct acl *a, const char *principal, enum acl_res kind, const char *name);

/* Entry i (0 <= i < acl_count) for listings (DescribeAcls).  0 or
 * -ERR_NOT_FOUND.  glob is NULL for the cluster. */
int acl_entry(const struct acl *a, size_t i, const char **principal, enum acl_res *kind,
	      const char **glob, unsigned *perms);

/* Append grant lines (checked first: -ERR_CONFIG with err) to the file at
 * path, fsync'd.  0 or -errno. */
int acl_file_append(const char *path, const char *text, char *err, size_t errlen);
/* Take permissions away line by line: drop() returns the bits of a line's
 * grant to remove (0: keep the line as written).  A line that keeps some
 * bits is rewritten with them; comments and other lines stay byte for byte.
 * The file is replaced atomically (its mode kept) when anything changed;
 * *removed counts the lines touched.  0 or -errno. */
int acl_file_remove(const char *path,
		    unsigned (*drop)(const char *principal, enum acl_res kind, const char *glob,
				     unsigned perms, void *arg),
		    void *arg, size_t *removed);

#endif
