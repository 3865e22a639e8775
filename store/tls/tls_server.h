/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Server-side TLS material of one listener (kafka.tls or http.tls) on
 * OpenSSL: the certificate chain and key, the client CA store for mTLS, the
 * protocol floor (TLS 1.2) and cipher defaults, and reloading all of it on
 * SIGHUP.  A reload builds a complete new SSL_CTX and swaps it in only when
 * it loaded; connections already open keep the context they started with
 * (OpenSSL reference-counts it), new ones get the new one, so nothing is
 * dropped and a bad file never replaces a good one.
 *
 * Principals.  A verified client certificate's subject, in RFC 2253 form
 * with Kafka's "User:" prefix ("User:CN=web-01,O=Example"), is the
 * connection's principal (what ACLs grant to); see tls_server_principal().
 *
 * Metrics (prefix = the listener, "kafka" or "http"):
 *   sluice_<l>_tls_reloads_total{result="ok|failed"},
 *   sluice_<l>_tls_cert_not_after_seconds; Kafka: sluice_kafka_tls_handshakes_total,
 *   sluice_kafka_tls_handshake_failures_total,
 *   sluice_kafka_tls_sendfile_bytes_total{mode="ktls|copy"}; HTTP:
 *   sluice_http_tls_client_cert_refused_total.
 *
 * Threading: tls_server_ctx(), tls_server_verify_der() and the counters may
 * be used from any thread (the HTTP API's); reload and free from one.
 */
#ifndef SLUICE_STORE_TLS_SERVER_H
#define SLUICE_STORE_TLS_SERVER_H

#include <openssl/ssl.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/prom.h"
#include "store/store_config.h"

struct tls_server;

/* Principals are at most this long, NUL included (longer subjects refused). */
#define TLS_PRINCIPAL_MAX 512

/* Load conf (its cert must be set).  name ("kafka" or "http") prefixes log
 * lines and metric names; metrics may be NULL.  Logs why it failed.
 * 0, -ERR_CONFIG or -ENOMEM. */
int tls_server_new(const char *name, const struct tls_section *conf, struct prom_registry *metrics,
		   struct tls_server **out);
/* Load conf into a new context and swap it in.  The old one stays in use by
 * connections that have it.  0 or -ERR_CONFIG (the running one is kept). */
int tls_server_reload(struct tls_server *t, const struct tls_section *conf);
void tls_server_free(struct tls_server *t);

/* The current context, with a reference the caller drops (SSL_CTX_free). */
SSL_CTX *tls_server_ctx(struct tls_server *t);
/* The file paths and client_auth of the current context (reload may change
 * them; read on the reloading thread only). */
const struct tls_section *tls_server_conf(const struct tls_server *t);

/* Account a handshake: ok, or failed (reason logged at debug level, rate
 * limited at info). */
void tls_server_count_handshake(struct tls_server *t, bool ok, const char *peer,
				const char *reason);
/* Account a client certificate refused after the handshake (HTTP). */
void tls_server_count_refused(struct tls_server *t);
/* Account file bytes sent over TLS: zero-copy through kernel TLS or copied. */
void tls_server_count_sendfile(struct tls_server *t, bool ktls, size_t n);

/* "User:" + cert's subject (RFC 2253) into out.  0 or -ERR_TOO_LARGE. */
int tls_server_principal(X509 *cert, char *out, size_t cap);

/* Verify a client chain given as DER certificates (leaf first) against the
 * current client CA store, as a TLS stack would, and write its principal.
 * 0, -ERR_NOT_FOUND (no certificate) or -EACCES (not trusted, expired,
 * malformed); why gets a short reason. */
int tls_server_verify_der(struct tls_server *t, const uint8_t *const *der, const size_t *len,
			  size_t n, char *principal, size_t cap, char *why, size_t whycap);

#endif
