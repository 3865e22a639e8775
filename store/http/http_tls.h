/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TLS for the HTTP API (http.tls).  libmicrohttpd speaks TLS through GnuTLS;
 * the server certificate is handed to it by a certificate callback
 * (MHD_OPTION_HTTPS_CERT_CALLBACK) so that SIGHUP can swap in a new
 * certificate and key for new handshakes without restarting the daemon or
 * dropping a connection.  Client certificates (client_auth request or
 * require) are asked for in the handshake (MHD_OPTION_HTTPS_MEM_TRUST, whose
 * CA names the client sees are those at start) and verified per connection
 * with OpenSSL against the current tls.client_ca (tls_server_verify_der), the
 * same code and principal form as the Kafka listener ("User:CN=...").
 *
 * Threading: the callbacks run on libmicrohttpd's threads; reload runs on the
 * main thread.  One HTTP API per process (the certificate callback has no
 * user pointer).
 */
#ifndef SLUICE_STORE_HTTP_TLS_H
#define SLUICE_STORE_HTTP_TLS_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/prom.h"
#include "store/store_config.h"

struct http_tls;
struct tls_server;

/* Load conf (its cert set).  Logs why it failed.  0, -ERR_CONFIG, -ENOMEM. */
int http_tls_new(const struct tls_section *conf, struct prom_registry *metrics,
		 struct http_tls **out);
/* New certificate, key and client CAs for new connections.  0 or
 * -ERR_CONFIG (the running ones are kept). */
int http_tls_reload(struct http_tls *t, const struct tls_section *conf);
void http_tls_free(struct http_tls *t);
struct tls_server *http_tls_server(struct http_tls *t);

/* Append the daemon options TLS needs to ops (room for 4 more); returns the
 * new count.  The MHD flags must include MHD_USE_TLS. */
size_t http_tls_options(struct http_tls *t, struct MHD_OptionItem *ops, size_t n);

/* Per-connection state for MHD_OPTION_NOTIFY_CONNECTION's socket context. */
void http_tls_conn_started(struct http_tls *t, void **socket_ctx);
void http_tls_conn_closed(void **socket_ctx);

/* The connection's principal.  0 with *principal set (NULL: anonymous,
 * allowed by client_auth none/request), or -EACCES when client_auth refuses
 * the connection; why then says why.  The principal lives as long as the
 * connection. */
int http_tls_peer(struct http_tls *t, struct MHD_Connection *conn, const char **principal,
		  const char **why);

#endif
