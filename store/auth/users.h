/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The users file (auth.users_file): SASL users and their SCRAM credentials,
 * never a password.  One credential per line:
 *
 *   # name  mechanism      iterations  salt        stored-key  server-key
 *   alice   SCRAM-SHA-512  4096        base64...   base64...   base64...
 *   alice   SCRAM-SHA-256  4096        base64...   base64...   base64...
 *
 * `sluice-store user add NAME` writes both mechanisms for a user (so a client
 * may pick either, and PLAIN is checked against the SHA-512 one).  Names are
 * 1..128 bytes of [A-Za-z0-9._@+-].  The file is rewritten atomically with
 * mode 0600 (users_save); a file readable by others is warned about.
 *
 * Not thread-safe: the store keeps its users on the Kafka event-loop thread
 * (SASL, AlterUserScramCredentials, SIGHUP reload).
 */
#ifndef SLUICE_STORE_AUTH_USERS_H
#define SLUICE_STORE_AUTH_USERS_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "store/auth/scram.h"

struct users;

/* Parse text (name for errors: "name:line:column: reason").  An empty file
 * is valid (nobody can log in yet).  0, -ERR_CONFIG with err, or -ENOMEM. */
int users_parse(const char *name, const char *text, size_t len, struct users **out, char *err,
		size_t errlen);
/* Read and parse a file (at most 16 MiB).  missing_ok: a file that does not
 * exist yet is an empty set (user add creates it). */
int users_load(const char *path, bool missing_ok, struct users **out, char *err, size_t errlen);
void users_free(struct users *u);

size_t users_count(const struct users *u);
/* Is name a valid user name? */
bool users_name_valid(const char *name, size_t n);
/* The credential of user name for mechanism m, or NULL. */
const struct scram_cred *users_find(const struct users *u, const char *name, enum scram_mech m);
/* Check a PLAIN password against the user's strongest credential. */
bool users_check_password(const struct users *u, const char *name, const char *pw, size_t pwlen);

/* Add or replace name with credentials for both mechanisms.  0,
 * -ERR_INVALID (bad name) or -ENOMEM. */
int users_set(struct users *u, const char *name, const char *pw, size_t pwlen, int iterations);
/* Set one mechanism's credential of name (AlterUserScramCredentials).
 * 0, -ERR_INVALID or -ENOMEM. */
int users_put_cred(struct users *u, const char *name, enum scram_mech m,
		   const struct scram_cred *c);
/* Drop one mechanism's credential; the user goes with the last one.  0 or
 * -ERR_NOT_FOUND. */
int users_drop_cred(struct users *u, const char *name, enum scram_mech m);
/* Bit (1 << mech) per credential name has, with iterations[mech] filled;
 * -ERR_NOT_FOUND for no such user. */
int users_mechs(const struct users *u, const char *name, int *iterations);
/* The i-th user's name (0 <= i < users_count), else NULL. */
const char *users_name(const struct users *u, size_t i);
/* Remove name.  0 or -ERR_NOT_FOUND. */
int users_remove(struct users *u, const char *name);
/* The file text. */
int users_format(const struct users *u, struct buf *out);
/* Write the file atomically, mode 0600.  0 or -errno. */
int users_save(const struct users *u, const char *path);

#endif
