/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/kafka/: the Kafka protocol (wire codec, per-API handlers, server).
 *
 * The Kafka protocol server of sluice-store: a non-blocking listener on the
 * store's event loop that speaks the Kafka wire protocol to real clients
 * (librdkafka/kcat, kafka-python, confluent-kafka-python, kafkajs) on top of
 * the log engine.  Runs entirely on the loop's thread.
 */
#ifndef SLUICE_STORE_KAFKA_SERVER_H
#define SLUICE_STORE_KAFKA_SERVER_H

#include "lib/evloop.h"
#include "lib/prom.h"
#include "store/engine/engine.h"
#include "store/store_config.h"

struct kafka_server;

struct auth;

/* Listen on conf->kafka.listen and serve until kafka_server_free().  Borrows
 * loop, log, metrics, conf and auth (NULL: no SASL, no ACL; store/auth/auth.h),
 * which must outlive the server; registers its metrics with the registry.
 * 0 or a negative errno (e.g. -EADDRINUSE). */
int kafka_server_new(struct evloop *loop, struct engine *log, struct prom_registry *metrics,
		     const struct store_config *conf, struct auth *auth, struct kafka_server **out);
/* Close the listener and every connection.  NULL is a no-op. */
void kafka_server_free(struct kafka_server *ks);

struct groups;

/* The consumer-group coordinator the server runs (store/groups/groups.h), or NULL
 * when it could not start.  For groups_lag_snapshot(), which any thread may
 * call (the HTTP API, metrics); valid until kafka_server_free(). */
struct groups *kafka_server_groups(struct kafka_server *ks);
/* Byte-rate quotas (store/quota/quota.h) for Produce and Fetch, keyed on
 * struct kafka_req.principal; NULL (the default): none.  Borrowed: it must
 * outlive the server. */
struct quota;
void kafka_server_set_quota(struct kafka_server *ks, struct quota *q);

struct tls_server;
/* The listener's TLS material (kafka.tls) for tls_server_reload() on SIGHUP,
 * or NULL when the listener is plaintext.  Event-loop thread only. */
struct tls_server *kafka_server_tls(struct kafka_server *ks);

#endif
