/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The syslog input's TLS (syslog_tls.h).  The cipher choice follows the
 * store's listeners (store/tls/): TLS 1.2 with ECDHE and AEAD only, TLS 1.3
 * with AES-128-GCM first.  Written here rather than shared: the store's
 * context is built from its own config sections and counts into its own
 * registry, and what the two have in common is a dozen OpenSSL calls.
 */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "plugins/in_syslog/syslog_tls.h"

#define TLS12_CIPHERS                                                \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define TLS13_SUITES "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

struct syslog_tls {
	SSL_CTX *ctx;
};

struct syslog_tls_conn {
	SSL *ssl;
	bool established;
};

/* The first queued OpenSSL error as text (and clear the queue). */
static const char *ossl_reason(char *buf, size_t cap)
{
	unsigned long e = ERR_get_error();

	if (!e)
		snprintf(buf, cap, "unknown error");
	else
		ERR_error_string_n(e, buf, cap);
	ERR_clear_error();
	return buf;
}

int syslog_tls_new(const char *id, const struct syslog_tls_conf *c, struct syslog_tls **out)
{
	struct syslog_tls *t = mem_calloc(1, sizeof(*t));
	const char *what = NULL, *file = NULL;
	char why[256];
	int mode = SSL_VERIFY_NONE;

	*out = NULL;
	if (!t)
		return -ENOMEM;
	t->ctx = SSL_CTX_new(TLS_server_method());
	if (!t->ctx) {
		what = "cannot make a TLS context";
		goto fail;
	}
	SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(t->ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
					    SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* No TLS 1.3 session tickets: syslog senders never read, and a ticket
	 * left unread in a sender's socket turns its close into a reset that
	 * can discard the last messages it sent before we read them. */
	SSL_CTX_set_num_tickets(t->ctx, 0);
	if (SSL_CTX_set_cipher_list(t->ctx, TLS12_CIPHERS) != 1 ||
	    SSL_CTX_set_ciphersuites(t->ctx, TLS13_SUITES) != 1) {
		what = "cannot set the cipher suites";
		goto fail;
	}
	file = c->cert;
	if (SSL_CTX_use_certificate_chain_file(t->ctx, c->cert) != 1) {
		what = "cannot load the certificate";
		goto fail;
	}
	file = c->key;
	if (SSL_CTX_use_PrivateKey_file(t->ctx, c->key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(t->ctx) != 1) {
		what = "cannot load the key (or it does not match the certificate)";
		goto fail;
	}
	if (c->client_auth != SYSLOG_AUTH_NONE) {
		file = c->ca;
		if (SSL_CTX_load_verify_locations(t->ctx, c->ca, NULL) != 1) {
			what = "cannot load the client CA";
			goto fail;
		}
		mode = SSL_VERIFY_PEER;
		if (c->client_auth == SYSLOG_AUTH_REQUIRE)
			mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
	}
	SSL_CTX_set_verify(t->ctx, mode, NULL);
	*out = t;
	return 0;
fail:
	log_error("syslog %s: tls: %s%s%s: %s", id, what, file ? " " : "", file ? file : "",
		  ossl_reason(why, sizeof(why)));
	syslog_tls_free(t);
	return -ERR_CONFIG;
}

void syslog_tls_free(struct syslog_tls *t)
{
	if (!t)
		return;
	if (t->ctx)
		SSL_CTX_free(t->ctx);
	mem_free(t);
}

struct syslog_tls_conn *syslog_tls_accept(struct syslog_tls *t, int fd)
{
	struct syslog_tls_conn *c = mem_calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->ssl = SSL_new(t->ctx);
	if (!c->ssl || SSL_set_fd(c->ssl, fd) != 1) {
		syslog_tls_conn_free(c);
		return NULL;
	}
	return c;
}

void syslog_tls_conn_free(struct syslog_tls_conn *c)
{
	if (!c)
		return;
	if (c->ssl) {
		if (c->established)
			(void)SSL_shutdown(c->ssl); /* best effort: the socket is nonblocking */
		SSL_free(c->ssl);
	}
	ERR_clear_error();
	mem_free(c);
}

/* What an SSL call's failure means for the loop. */
static ssize_t failed(struct syslog_tls_conn *c, int rc, int *want, char *why, size_t whycap)
{
	int e = SSL_get_error(c->ssl, rc);
	char r[256];

	switch (e) {
	case SSL_ERROR_WANT_READ:
		*want = SYSLOG_TLS_WANT_READ;
		return -EAGAIN;
	case SSL_ERROR_WANT_WRITE:
		*want = SYSLOG_TLS_WANT_WRITE;
		return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		ERR_clear_error();
		return 0;
	default:
		break;
	}
	if (!c->established) {
		long v = SSL_get_verify_result(c->ssl);

		if (v != X509_V_OK)
			snprintf(why, whycap, "client certificate: %s",
				 X509_verify_cert_error_string(v));
		else if (e == SSL_ERROR_SYSCALL && !ERR_peek_error())
			snprintf(why, whycap, "closed during the handshake");
		else
			snprintf(why, whycap, "%s", ossl_reason(r, sizeof(r)));
		ERR_clear_error();
		return -ECONNREFUSED;
	}
	snprintf(why, whycap, "%s",
		 e == SSL_ERROR_SYSCALL && !ERR_peek_error() ? "connection reset"
							     : ossl_reason(r, sizeof(r)));
	ERR_clear_error();
	return e == SSL_ERROR_SYSCALL ? 0 : -EIO;
}

ssize_t syslog_tls_read(struct syslog_tls_conn *c, void *buf, size_t n, int *want, char *why,
			size_t whycap)
{
	int rc;

	*want = SYSLOG_TLS_WANT_READ;
	if (!c->established) {
		rc = SSL_accept(c->ssl);
		if (rc != 1)
			return failed(c, rc, want, why, whycap);
		c->established = true;
	}
	if (n == 0)
		return -EAGAIN;
	rc = SSL_read(c->ssl, buf, n > 1 << 30 ? 1 << 30 : (int)n);
	if (rc > 0)
		return rc;
	return failed(c, rc, want, why, whycap);
}

bool syslog_tls_pending(const struct syslog_tls_conn *c)
{
	return c->established && SSL_has_pending(c->ssl);
}

bool syslog_tls_established(const struct syslog_tls_conn *c)
{
	return c->established;
}
