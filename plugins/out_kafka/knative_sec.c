/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Security of the native kafka producer's connections (knative.h): TLS
 * through OpenSSL's libssl (loaded on first use by the agent, agent/dl/),
 * verifying the broker's certificate against ssl_ca_location or the
 * system's CAs and its name (host name or IP address as given in brokers or
 * advertised by the cluster; SNI for host names), optional client
 * certificate; and SASL PLAIN (SaslHandshake v1, then SaslAuthenticate v1
 * with "\0user\0password") or SCRAM-SHA-256/512 (two SaslAuthenticate,
 * knative_scram.c; the server's signature is checked).  Until the broker accepted the credentials only
 * the SASL requests are written: what other code queued meanwhile waits
 * behind the connection's gate.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "plugins/out_kafka/knative.h"

static void ssl_why(char *why, size_t whylen, const char *what)
{
	char e[256] = "";
	unsigned long code = ERR_get_error();

	if (code)
		ERR_error_string_n(code, e, sizeof(e));
	ERR_clear_error();
	snprintf(why, whylen, "%s%s%s", what, *e ? ": " : "", e);
}

int kn_sec_init(struct knative *kn, bool tls, const char *ca, const char *cert, const char *key,
		const char *user, const char *pass, int mech, char *why, size_t whylen)
{
	SSL_CTX *ctx;

	kn->sasl_mech = mech >= 0 && mech <= 2 ? mech : 0;
	if (user) {
		kn->sasl_user = mem_strdup(user);
		kn->sasl_pass = mem_strdup(pass ? pass : "");
		if (!kn->sasl_user || !kn->sasl_pass)
			return -ENOMEM;
	}
	if (!tls)
		return 0;
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx) {
		ssl_why(why, whylen, "TLS (libssl.so.3)");
		return -ERR_UNSUPPORTED;
	}
	kn->ssl_ctx = ctx;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* the send buffer may move and grow between the tries of one write */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if ((ca && *ca) ? SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1
			: SSL_CTX_set_default_verify_paths(ctx) != 1) {
		ssl_why(why, whylen, ca && *ca ? "ssl_ca_location" : "the system's CAs");
		return -ERR_INVALID;
	}
	if (cert && *cert &&
	    (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	     SSL_CTX_use_PrivateKey_file(ctx, key && *key ? key : cert, SSL_FILETYPE_PEM) != 1 ||
	     SSL_CTX_check_private_key(ctx) != 1)) {
		ssl_why(why, whylen, "ssl_certificate_location/ssl_key_location");
		return -ERR_INVALID;
	}
	return 0;
}

void kn_sec_release(struct knative *kn)
{
	if (kn->ssl_ctx)
		SSL_CTX_free(kn->ssl_ctx);
	kn->ssl_ctx = NULL;
	if (kn->sasl_pass)
		memset(kn->sasl_pass, 0, strlen(kn->sasl_pass));
	mem_free(kn->sasl_user);
	mem_free(kn->sasl_pass);
}

int kn_tls_start(struct kn_conn *c, char *why, size_t whylen)
{
	SSL *s = SSL_new(c->kn->ssl_ctx);
	struct in6_addr a6;
	struct in_addr a4;
	bool ip = inet_pton(AF_INET, c->host, &a4) == 1 || inet_pton(AF_INET6, c->host, &a6) == 1;

	if (!s) {
		ssl_why(why, whylen, "SSL_new");
		return -ENOMEM;
	}
	c->ssl = s;
	/* SNI is for host names only (RFC 6066); the name or address is checked
	 * against the certificate either way */
	if (SSL_set_fd(s, c->fd) != 1 || (!ip && SSL_set_tlsext_host_name(s, c->host) != 1) ||
	    SSL_set1_host(s, c->host) != 1) {
		ssl_why(why, whylen, "TLS setup");
		return -ERR_INVALID;
	}
	c->handshaking = true;
	return 0;
}

static int want(struct kn_conn *c, int e)
{
	uint32_t ev = EVLOOP_READ | (e == SSL_ERROR_WANT_WRITE ? EVLOOP_WRITE : 0);

	return evloop_io_modify(&c->io, ev);
}

int kn_tls_step(struct kn_conn *c, char *why, size_t whylen)
{
	SSL *s = c->ssl;
	int r = SSL_connect(s), e;

	if (r == 1) {
		c->handshaking = false;
		return 1;
	}
	e = SSL_get_error(s, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return want(c, e) < 0 ? -EIO : 0;
	if (SSL_get_verify_result(s) != X509_V_OK)
		snprintf(why, whylen, "TLS: the broker's certificate: %s",
			 X509_verify_cert_error_string(SSL_get_verify_result(s)));
	else
		ssl_why(why, whylen, "TLS handshake");
	ERR_clear_error();
	return -ERR_AUTH;
}

long kn_io_send(struct kn_conn *c, const void *p, size_t n)
{
	int r, e;

	if (!c->ssl) {
		ssize_t k = send(c->fd, p, n, MSG_NOSIGNAL);

		return k < 0 ? -errno : (long)k;
	}
	r = SSL_write(c->ssl, p, n > (1u << 30) ? 1 << 30 : (int)n);
	if (r > 0)
		return r;
	e = SSL_get_error(c->ssl, r);
	ERR_clear_error();
	return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? -EAGAIN : -EPIPE;
}

long kn_io_recv(struct kn_conn *c, void *p, size_t n)
{
	int r, e;

	if (!c->ssl) {
		ssize_t k = recv(c->fd, p, n, 0);

		return k < 0 ? -errno : (long)k;
	}
	r = SSL_read(c->ssl, p, n > (1u << 30) ? 1 << 30 : (int)n);
	if (r > 0)
		return r;
	e = SSL_get_error(c->ssl, r);
	ERR_clear_error();
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return -EAGAIN;
	return e == SSL_ERROR_ZERO_RETURN ? 0 : -ECONNRESET;
}

void kn_tls_free(struct kn_conn *c)
{
	if (c->ssl)
		SSL_free(c->ssl);
	c->ssl = NULL;
}

static const char *const mechs[] = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"};

static struct kn_req *req_new(struct knative *kn, int16_t api)
{
	struct kn_req *r = mem_calloc(1, sizeof(*r));

	if (r) {
		r->corr = ++kn->corr;
		r->api = api;
	}
	return r;
}

int kn_sasl_begin(struct kn_conn *c)
{
	struct kn_req *r = req_new(c->kn, KP_SASL_HANDSHAKE);

	if (!r || kp_sasl_handshake_req(&c->out, r->corr, mechs[c->kn->sasl_mech]) < 0) {
		mem_free(r);
		return -ENOMEM;
	}
	kn_conn_queue(c, r);
	c->gated = true;
	c->gate = c->out.len;
	return 0;
}

/* A SaslAuthenticate with payload goes before everything held behind the
 * gate (the bytes before it were all written: their answer came). */
static int sasl_send(struct kn_conn *c, const struct buf *payload)
{
	struct knative *kn = c->kn;
	size_t at = c->gate;
	struct kn_req *r = req_new(kn, KP_SASL_AUTHENTICATE);
	struct buf tmp;
	int rc;

	buf_init(&tmp, 0);
	rc = r ? kp_sasl_auth_req(&tmp, r->corr, payload->data, payload->len) : -ENOMEM;
	if (rc == 0)
		rc = buf_reserve(&c->out, tmp.len);
	if (rc < 0) {
		buf_release(&tmp);
		mem_free(r);
		return rc;
	}
	memmove(c->out.data + at + tmp.len, c->out.data + at, c->out.len - at);
	memcpy(c->out.data + at, tmp.data, tmp.len);
	c->out.len += tmp.len;
	c->gate += tmp.len;
	memset(tmp.data, 0, tmp.len);
	buf_release(&tmp);
	/* first in the FIFO: the answers come in the order of the bytes */
	r->sent_ms = evloop_now(kn->loop);
	r->next = c->head;
	c->head = r;
	if (!c->tail)
		c->tail = r;
	kn->st.requests++;
	return evloop_io_modify(&c->io, EVLOOP_READ | EVLOOP_WRITE);
}

/* The first SaslAuthenticate: PLAIN's only one, or SCRAM's client-first. */
static int sasl_first(struct kn_conn *c)
{
	struct knative *kn = c->kn;
	struct buf p;
	int rc;

	buf_init(&p, 1 << 16);
	if (kn->sasl_mech == 0) {
		rc = buf_append_u8(&p, 0);
		if (rc == 0)
			rc = buf_append_str(&p, kn->sasl_user);
		if (rc == 0)
			rc = buf_append_u8(&p, 0);
		if (rc == 0)
			rc = buf_append_str(&p, kn->sasl_pass);
	} else {
		rc = kn_scram_first(kn, c, &p);
	}
	c->sasl_step = 1;
	if (rc == 0)
		rc = sasl_send(c, &p);
	if (p.data)
		memset(p.data, 0, p.len);
	buf_release(&p);
	return rc;
}

/* A SaslAuthenticate answered without error: 1 authenticated, 0 one more
 * step sent, negative: the server is not who it claims (SCRAM). */
static int sasl_next(struct kn_conn *c, const uint8_t *auth, size_t alen)
{
	struct buf p;
	int rc;

	if (c->kn->sasl_mech == 0)
		return 1;
	if (c->sasl_step == 2)
		return kn_scram_verify(c, auth ? auth : (const uint8_t *)"", alen) == 0 ? 1
											: -ERR_AUTH;
	buf_init(&p, 1 << 16);
	rc = kn_scram_final(c->kn, c, auth ? auth : (const uint8_t *)"", alen, &p);
	c->sasl_step = 2;
	if (rc == 0)
		rc = sasl_send(c, &p);
	buf_release(&p);
	return rc;
}

void kn_sasl_answer(struct kn_conn *c, int16_t api, const uint8_t *body, size_t len)
{
	const char *mech = mechs[c->kn->sasl_mech];
	char msg[256] = "", why[320], eb[32];
	const uint8_t *auth = NULL;
	size_t alen = 0;
	int16_t e = 0;
	int rc;

	if (!body)
		return;
	if (api == KP_SASL_HANDSHAKE) {
		rc = kp_sasl_handshake_parse(body, len, &e);
		if (rc == 0 && e == KE_NONE && sasl_first(c) == 0)
			return;
		snprintf(why, sizeof(why), "SASL: the broker does not take %s (%s)", mech,
			 rc < 0 ? err_str(rc) : kp_err_name(e, eb, sizeof(eb)));
		kn_conn_fail(c, why);
		return;
	}
	rc = kp_sasl_auth_parse(body, len, &e, msg, sizeof(msg), &auth, &alen);
	if (rc == 0 && e == KE_NONE) {
		rc = sasl_next(c, auth, alen);
		if (rc == 0)
			return;
		if (rc == 1) {
			kn_scram_free(c->scram);
			c->scram = NULL;
			c->gated = false;
			if (evloop_io_modify(&c->io, EVLOOP_READ | EVLOOP_WRITE) < 0)
				kn_conn_fail(c, "epoll");
			return;
		}
		snprintf(msg, sizeof(msg), "%s exchange: %s", mech, err_str(rc));
	}
	c->kn->auth_failures++;
	snprintf(why, sizeof(why), "SASL authentication failed: %s",
		 *msg     ? msg
		 : rc < 0 ? err_str(rc)
			  : kp_err_name(e, eb, sizeof(eb)));
	kn_conn_fail(c, why);
}
