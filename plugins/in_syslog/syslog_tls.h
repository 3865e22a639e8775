/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TLS for the syslog input (RFC 5425: syslog over TLS, octet-counted frames
 * inside the TLS stream, IANA port 6514), on OpenSSL.  The listener's
 * context holds the certificate chain and key, TLS 1.2 as the floor, AEAD
 * cipher suites only, and for mTLS the CA that signs client certificates
 * with client_auth none, request (verified when sent) or require.
 *
 * A connection is a nonblocking SSL over its socket: the handshake and the
 * reads are driven from the loop by syslog_tls_read(), which says what the
 * socket must wait for.  The agent loads libssl on the first call
 * (agent/dl/dl_ssl.c), so agents without a tls:// listener never map it.
 */
#ifndef SLUICE_PLUGINS_SYSLOG_TLS_H
#define SLUICE_PLUGINS_SYSLOG_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum syslog_client_auth { SYSLOG_AUTH_NONE = 0, SYSLOG_AUTH_REQUEST = 1, SYSLOG_AUTH_REQUIRE = 2 };

struct syslog_tls_conf {
	char *cert; /* PEM chain, leaf first */
	char *key;
	char *ca; /* PEM CA certificates for client certificates */
	int client_auth;
};

struct syslog_tls;      /* a listener's context */
struct syslog_tls_conn; /* one connection */

/* Load the listener's context; id names the input in log lines.  0 or
 * -ERR_CONFIG (logged: which file, OpenSSL's reason). */
int syslog_tls_new(const char *id, const struct syslog_tls_conf *c, struct syslog_tls **out);
void syslog_tls_free(struct syslog_tls *t);

/* A connection on the accepted socket fd (the caller keeps fd). */
struct syslog_tls_conn *syslog_tls_accept(struct syslog_tls *t, int fd);
void syslog_tls_conn_free(struct syslog_tls_conn *c);

enum syslog_tls_want { SYSLOG_TLS_WANT_READ = 1, SYSLOG_TLS_WANT_WRITE = 2 };

/* Read decrypted bytes (handshaking first when not done).  > 0: bytes;
 * 0: the peer closed; -EAGAIN: nothing now, *want says what to wait for;
 * -ECONNREFUSED: the handshake failed (why says so: no or untrusted client
 * certificate, not TLS, old protocol); -EIO: the stream broke. */
ssize_t syslog_tls_read(struct syslog_tls_conn *c, void *buf, size_t n, int *want, char *why,
			size_t whycap);
/* Decrypted or undecrypted bytes held inside the SSL (the socket may not
 * wake the loop for them). */
bool syslog_tls_pending(const struct syslog_tls_conn *c);
/* True once the handshake succeeded. */
bool syslog_tls_established(const struct syslog_tls_conn *c);

#endif
