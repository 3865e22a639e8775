/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Byte-rate quotas per principal (quotas: in store.yaml), shared by the
 * Kafka listener and the HTTP API.
 *
 * The key is one string, the principal name.  Who sets it: the Kafka
 * server puts it in struct kafka_req.principal (the authenticated principal
 * once SASL/mTLS provide one, else the request's client id); the HTTP API
 * uses "token#N" (N = the token's index in http.tokens_file) when auth is
 * on, else the client's IP address.  Overrides in store.yaml name the same
 * strings.
 *
 * Each principal has a token bucket per direction (produce = Produce and
 * HTTP ingest, fetch = Fetch and HTTP replay) filled at its rate, holding at
 * most one second of it.  Usage is charged after the fact, as Kafka does: a
 * request over the quota is still served, and quota_charge() returns how
 * long the principal must then wait for its rate to come back under the
 * quota (Kafka answers that as throttle_time_ms and mutes the connection,
 * KIP-219; capped by quotas.max_throttle).  quota_delay() asks the same
 * without charging (HTTP answers 429 with Retry-After instead of serving).
 *
 * At most QUOTA_MAX_PRINCIPALS principals are tracked; past that the
 * longest-unused one without debt is forgotten, and when all are in debt
 * newcomers share one "<other>" entry, so invented client ids cannot grow
 * memory.  With no rate configured the module does nothing (no lock).
 *
 * Threading: every function is thread-safe (one mutex).
 */
#ifndef SLUICE_STORE_QUOTA_H
#define SLUICE_STORE_QUOTA_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/buf.h"
#include "store/store_config.h"

#define QUOTA_MAX_PRINCIPALS 4096
#define QUOTA_NAME_MAX 255

enum quota_dir { QUOTA_PRODUCE = 0, QUOTA_FETCH = 1 };

struct quota;

/* Reads conf->quotas (validated by the config tables).  NULL on -ENOMEM. */
struct quota *quota_new(const struct store_config *conf);
void quota_free(struct quota *q);
/* Account n bytes; returns the throttle in ms (0: within the quota).  q NULL: 0. */
int32_t quota_charge(struct quota *q, const char *principal, enum quota_dir dir, uint64_t n);
/* ms until principal is back within its quota (0: now), charging nothing. */
int32_t quota_delay(struct quota *q, const char *principal, enum quota_dir dir);
/* Count a request refused for the quota (HTTP 429). */
void quota_rejected(struct quota *q, const char *principal, enum quota_dir dir);
/* sluice_quota_* families; a prom_render_fn (arg: q). */
void quota_render(struct buf *out, void *arg);

#endif
