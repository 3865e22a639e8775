/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store's one authentication and authorization model, shared by the
 * Kafka listener and the HTTP API.
 *
 * Principals are strings "User:NAME": a SASL user ("User:alice"), an mTLS
 * certificate subject ("User:CN=web-01,O=Example", set by the TLS layer), an
 * HTTP token mapped to a name in http.tokens_file, or "User:ANONYMOUS" for a
 * client nobody authenticated.  Each protocol keeps the principal of a
 * connection or request in a field named `principal`
 * (struct kafka_sess.principal, struct http_api_req.principal); every check
 * below takes that string.
 *
 * What struct auth holds:
 *   - the SCRAM users (auth.users_file) for SASL PLAIN and SCRAM-SHA-256/512
 *     on a listener with kafka.sasl set (store/auth/users.h);
 *   - the ACL (auth.acl_file, store/auth/acl.h).  Without an ACL file every
 *     principal may do everything (as a Kafka broker without an authorizer);
 *   - the owners of idempotent producer ids: an id belongs to the principal
 *     that obtained it (InitProducerId, POST /v1/producers), and a batch
 *     carrying another principal's id is refused.  Ids are unguessable:
 *     40 random bits above the engine's durable 23-bit counter, so they
 *     stay unique over 8 million consecutive allocations and never repeat
 *     the engine's persisted sequence.  The ownership table lives in memory
 *     (bounded, oldest forgotten first); an id it does not know (after a
 *     restart) is claimed by the first principal that uses it;
 *   - the counters of refusals by listener and reason (sluice_auth_*).
 *
 * Threading: any thread may call anything here, except that the users (SASL)
 * are for the event-loop thread, which also runs auth_reload(); the ACL is
 * swapped under a read-write lock, the producer table has a mutex and the
 * counters are atomics.
 */
#ifndef SLUICE_STORE_AUTH_AUTH_H
#define SLUICE_STORE_AUTH_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "store/auth/acl.h"
#include "store/auth/users.h"
#include "store/engine/engine.h"
#include "store/store_config.h"

#define AUTH_PRINCIPAL_MAX 512

/* SASL mechanisms a listener may enable (kafka.sasl). */
enum auth_mech {
	AUTH_MECH_PLAIN = 1 << 0,
	AUTH_MECH_SCRAM_SHA256 = 1 << 1,
	AUTH_MECH_SCRAM_SHA512 = 1 << 2,
};

enum auth_listener { AUTH_KAFKA, AUTH_HTTP, AUTH_LISTENERS };

/* Why a client was refused; the metric's `reason` label. */
enum auth_reason {
	AUTH_BAD_CREDENTIALS,  /* wrong password or proof, unknown user or token */
	AUTH_BAD_MECHANISM,    /* mechanism not enabled */
	AUTH_MALFORMED,        /* SASL message that does not parse */
	AUTH_UNAUTHENTICATED,  /* request before authenticating */
	AUTH_SESSION_EXPIRED,  /* KIP-368: request after the session lifetime */
	AUTH_REAUTH_PRINCIPAL, /* re-authentication as someone else */
	AUTH_MISSING_TOKEN,    /* HTTP request without a bearer token */
	AUTH_DENIED,           /* authenticated, but the ACL refuses */
	AUTH_FOREIGN_PRODUCER, /* a batch with another principal's producer id */
	AUTH_REASONS
};

struct auth;

/* Load users and ACL files named in conf and check kafka.sasl.  0 or
 * -ERR_CONFIG with err ("file:line:column: ..."), -ENOMEM. */
int auth_new(const struct store_config *conf, struct auth **out, char *err, size_t errlen);
void auth_free(struct auth *a);

/* SIGHUP: read the users and ACL files again (the paths given at start).
 * A file that fails to parse is logged and the running one kept.  Event-loop
 * thread. */
void auth_reload(struct auth *a);

/* Re-read the ACL file alone (after CreateAcls/DeleteAcls changed it).
 * 0, -ERR_NOT_FOUND (no acl_file) or -ERR_CONFIG (kept the running one). */
int auth_reload_acl(struct auth *a);
/* The ACL in force and its file, for the Kafka ACL APIs (event-loop thread,
 * which is also the only thread that swaps it); NULL without acl_file. */
const struct acl *auth_acl(const struct auth *a);
const char *auth_acl_path(const struct auth *a);

/* Mechanisms enabled on the Kafka listener (0: no SASL). */
unsigned auth_sasl_mechs(const struct auth *a);
/* The enum auth_mech bit for a mechanism name, or 0. */
unsigned auth_mech_bit(const char *name, size_t n);
/* KIP-368 session lifetime (kafka.connections_max_reauth), 0 = none. */
int64_t auth_reauth_ms(const struct auth *a);
const struct users *auth_users(const struct auth *a);
/* The same, to change (event-loop thread), and the file it came from (NULL
 * without auth.users_file). */
struct users *auth_users_rw(struct auth *a);
const char *auth_users_path(const struct auth *a);
/* Is an ACL file in force? */
bool auth_acl_enabled(const struct auth *a);

/* May principal do perm on kind/name (NULL name: on some resource of that
 * kind)?  true when a is NULL or there is no ACL.  Counts a refusal under
 * listener (AUTH_DENIED). */
bool auth_allowed(struct auth *a, enum auth_listener l, const char *principal, enum acl_res kind,
		  const char *name, unsigned perm);
/* The same without counting (for filtering lists and metrics). */
bool auth_may(const struct auth *a, const char *principal, enum acl_res kind, const char *name,
	      unsigned perm);
/* Permission bits principal holds on kind/name (all when no ACL). */
unsigned auth_perms(const struct auth *a, const char *principal, enum acl_res kind,
		    const char *name);

/* A new producer id owned by principal.  0 or the engine's error. */
int auth_producer_id_new(struct auth *a, struct engine *log, const char *principal, int64_t *id);
/* May principal append batches with producer id pid?  0, or -ERR_AUTH
 * (counted as AUTH_FOREIGN_PRODUCER under l).  An unknown id is claimed. */
int auth_producer_check(struct auth *a, enum auth_listener l, int64_t pid, const char *principal);

/* Count one refusal. */
void auth_count(struct auth *a, enum auth_listener l, enum auth_reason why);
/* Prometheus families sluice_auth_failures_total{listener,reason} and
 * sluice_auth_producer_ids. */
void auth_render_metrics(struct buf *out, void *arg);

#endif
