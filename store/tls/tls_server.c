/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Server TLS contexts on OpenSSL (see tls_server.h).  Defaults follow the
 * "intermediate" profile most deployments use: TLS 1.2 and 1.3 only, forward
 * secret AEAD suites for 1.2 (OpenSSL's 1.3 suites are all AEAD), server
 * preference, no renegotiation, no compression.  SSL_OP_ENABLE_KTLS lets
 * OpenSSL hand the record layer to the kernel when it has the tls module, so
 * Fetch can SSL_sendfile() (store/kafka/kafka_conn_io.c).
 */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "store/tls/tls_server.h"

#define TLS12_CIPHERS                                                \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
/* AES-128-GCM first: as strong as needed and cheaper than AES-256 */
#define TLS13_SUITES "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

struct tls_server {
	char name[16];
	bool http;          /* the HTTP listener's (other metrics) */
	pthread_mutex_t mu; /* guards ctx for other threads */
	SSL_CTX *ctx;
	struct tls_section conf; /* copies of the paths ctx was built from */
	int64_t not_after;       /* leaf certificate expiry, unix seconds */
	struct prom_registry *metrics;
	atomic_uint_fast64_t handshakes;
	atomic_uint_fast64_t failures;
	atomic_uint_fast64_t refused;
	atomic_uint_fast64_t reloads_ok;
	atomic_uint_fast64_t reloads_failed;
	atomic_uint_fast64_t sent_ktls;
	atomic_uint_fast64_t sent_copy;
	struct log_ratelimit rl;
};

static void conf_release(struct tls_section *c)
{
	mem_free(c->cert);
	mem_free(c->key);
	mem_free(c->client_ca);
	memset(c, 0, sizeof(*c));
}

static int conf_copy(struct tls_section *dst, const struct tls_section *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->client_auth = src->client_auth;
	dst->cert = mem_strdup(src->cert);
	dst->key = mem_strdup(src->key ? src->key : "");
	dst->client_ca = src->client_ca ? mem_strdup(src->client_ca) : NULL;
	if (!dst->cert || !dst->key || (src->client_ca && !dst->client_ca)) {
		conf_release(dst);
		return -ENOMEM;
	}
	return 0;
}

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

static int64_t cert_not_after(SSL_CTX *ctx)
{
	X509 *leaf = SSL_CTX_get0_certificate(ctx);
	struct tm tm;

	if (!leaf || ASN1_TIME_to_tm(X509_get0_notAfter(leaf), &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm);
}

static int verify_mode(int client_auth)
{
	if (client_auth == TLS_CLIENT_AUTH_REQUIRE)
		return SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
	if (client_auth == TLS_CLIENT_AUTH_REQUEST)
		return SSL_VERIFY_PEER;
	return SSL_VERIFY_NONE;
}

/* Load the client CAs into ctx's verify store and its CertificateRequest list. */
static int load_client_ca(SSL_CTX *ctx, const char *path, char *why, size_t whycap)
{
	STACK_OF(X509_NAME) * names;

	if (SSL_CTX_load_verify_locations(ctx, path, NULL) != 1) {
		char reason[160];

		snprintf(why, whycap, "client_ca %s: %s", path,
			 ossl_reason(reason, sizeof(reason)));
		return -ERR_CONFIG;
	}
	names = SSL_load_client_CA_file(path);
	if (names)
		SSL_CTX_set_client_CA_list(ctx, names);
	ERR_clear_error();
	return 0;
}

static SSL_CTX *build_ctx(const struct tls_section *c, char *why, size_t whycap)
{
	static const unsigned char sid_ctx[] = "sluice";
	char reason[160];
	SSL_CTX *ctx;

	if (!c->cert || !c->cert[0] || !c->key || !c->key[0]) {
		snprintf(why, whycap, "tls.cert and tls.key are both required");
		return NULL;
	}
	if (c->client_auth != TLS_CLIENT_AUTH_NONE && (!c->client_ca || !c->client_ca[0])) {
		snprintf(why, whycap, "tls.client_auth needs tls.client_ca");
		return NULL;
	}
	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx) {
		snprintf(why, whycap, "SSL_CTX_new: %s", ossl_reason(reason, sizeof(reason)));
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
					 SSL_OP_NO_COMPRESSION | SSL_OP_ENABLE_KTLS |
					 SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
				      SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1);
	if (SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1 ||
	    SSL_CTX_set_ciphersuites(ctx, TLS13_SUITES) != 1) {
		snprintf(why, whycap, "ciphers: %s", ossl_reason(reason, sizeof(reason)));
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, c->cert) != 1) {
		snprintf(why, whycap, "cert %s: %s", c->cert, ossl_reason(reason, sizeof(reason)));
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, c->key, SSL_FILETYPE_PEM) != 1) {
		snprintf(why, whycap, "key %s: %s", c->key, ossl_reason(reason, sizeof(reason)));
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(why, whycap, "key %s does not match cert %s", c->key, c->cert);
		goto fail;
	}
	if (c->client_ca && c->client_ca[0] && load_client_ca(ctx, c->client_ca, why, whycap) < 0)
		goto fail;
	SSL_CTX_set_verify(ctx, verify_mode(c->client_auth), NULL);
	ERR_clear_error();
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

static void render(struct buf *out, void *arg)
{
	struct tls_server *t = arg;
	char n[96];
	char l[48];

#define ONE(suffix, type, help, value)                                       \
	do {                                                                 \
		snprintf(n, sizeof(n), "sluice_%s_tls_%s", t->name, suffix); \
		prom_family(out, n, type, help);                             \
		prom_u64(out, n, NULL, value);                               \
	} while (0)
	/* libmicrohttpd runs the HTTP handshakes out of our sight: the HTTP
	 * listener counts refusals after the handshake instead, and has no
	 * sendfile path */
	if (!t->http) {
		ONE("handshakes_total", "counter", "TLS handshakes completed.",
		    atomic_load(&t->handshakes));
		ONE("handshake_failures_total", "counter",
		    "TLS handshakes failed (plaintext to the TLS port, bad or missing client "
		    "certificate, no shared protocol or cipher).",
		    atomic_load(&t->failures));
	} else {
		ONE("client_cert_refused_total", "counter",
		    "Requests refused for a missing or untrusted client certificate.",
		    atomic_load(&t->refused));
	}
#undef ONE
	snprintf(n, sizeof(n), "sluice_%s_tls_reloads_total", t->name);
	prom_family(out, n, "counter", "Certificate reloads (SIGHUP) by result.");
	prom_u64(out, n, prom_labels(l, sizeof(l), "result", "ok", NULL),
		 atomic_load(&t->reloads_ok));
	prom_u64(out, n, prom_labels(l, sizeof(l), "result", "failed", NULL),
		 atomic_load(&t->reloads_failed));
	if (!t->http) {
		snprintf(n, sizeof(n), "sluice_%s_tls_sendfile_bytes_total", t->name);
		prom_family(out, n, "counter",
			    "Fetch record bytes sent over TLS: zero-copy (kernel TLS) or copied.");
		prom_u64(out, n, prom_labels(l, sizeof(l), "mode", "ktls", NULL),
			 atomic_load(&t->sent_ktls));
		prom_u64(out, n, prom_labels(l, sizeof(l), "mode", "copy", NULL),
			 atomic_load(&t->sent_copy));
	}
	snprintf(n, sizeof(n), "sluice_%s_tls_cert_not_after_seconds", t->name);
	prom_family(out, n, "gauge", "Expiry of the served certificate (unix time).");
	pthread_mutex_lock(&t->mu);
	prom_i64(out, n, NULL, t->not_after);
	pthread_mutex_unlock(&t->mu);
}

int tls_server_new(const char *name, const struct tls_section *conf, struct prom_registry *metrics,
		   struct tls_server **out)
{
	struct tls_server *t = mem_calloc(1, sizeof(*t));
	char why[512];
	int rc;

	*out = NULL;
	if (!t)
		return -ENOMEM;
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->http = strcmp(name, "http") == 0;
	pthread_mutex_init(&t->mu, NULL);
	t->ctx = build_ctx(conf, why, sizeof(why));
	if (!t->ctx) {
		log_error("%s.tls: %s", name, why);
		rc = -ERR_CONFIG;
		goto out;
	}
	rc = conf_copy(&t->conf, conf);
	if (rc < 0)
		goto out;
	t->not_after = cert_not_after(t->ctx);
	if (metrics) {
		rc = prom_registry_add(metrics, render, t);
		if (rc < 0)
			goto out;
		t->metrics = metrics;
	}
	log_info("%s: TLS on (cert %s, client_auth %s)", name, conf->cert,
		 conf->client_auth == TLS_CLIENT_AUTH_REQUIRE   ? "require"
		 : conf->client_auth == TLS_CLIENT_AUTH_REQUEST ? "request"
								: "none");
	*out = t;
out:
	if (rc < 0)
		tls_server_free(t);
	return rc;
}

int tls_server_reload(struct tls_server *t, const struct tls_section *conf)
{
	struct tls_section copy;
	char why[512];
	SSL_CTX *ctx, *old;

	ctx = build_ctx(conf, why, sizeof(why));
	if (!ctx || conf_copy(&copy, conf) < 0) {
		SSL_CTX_free(ctx);
		atomic_fetch_add(&t->reloads_failed, 1);
		log_error("SIGHUP: %s.tls: %s; keeping the certificate in use", t->name,
			  ctx ? "out of memory" : why);
		return -ERR_CONFIG;
	}
	pthread_mutex_lock(&t->mu);
	old = t->ctx;
	t->ctx = ctx;
	t->not_after = cert_not_after(ctx);
	pthread_mutex_unlock(&t->mu);
	/* connections that started on it hold their own references */
	SSL_CTX_free(old);
	conf_release(&t->conf);
	t->conf = copy;
	atomic_fetch_add(&t->reloads_ok, 1);
	log_info("SIGHUP: %s.tls: reloaded %s for new connections", t->name, conf->cert);
	return 0;
}

void tls_server_free(struct tls_server *t)
{
	if (!t)
		return;
	if (t->metrics)
		prom_registry_remove(t->metrics, render, t);
	SSL_CTX_free(t->ctx);
	conf_release(&t->conf);
	pthread_mutex_destroy(&t->mu);
	mem_free(t);
}

SSL_CTX *tls_server_ctx(struct tls_server *t)
{
	SSL_CTX *ctx;

	pthread_mutex_lock(&t->mu);
	ctx = t->ctx;
	SSL_CTX_up_ref(ctx);
	pthread_mutex_unlock(&t->mu);
	return ctx;
}

const struct tls_section *tls_server_conf(const struct tls_server *t)
{
	return &t->conf;
}

void tls_server_count_handshake(struct tls_server *t, bool ok, const char *peer, const char *reason)
{
	if (ok) {
		atomic_fetch_add(&t->handshakes, 1);
		return;
	}
	atomic_fetch_add(&t->failures, 1);
	log_write_rl(&t->rl, 5000, LOG_LVL_INFO, "%s: %s: TLS handshake failed: %s", t->name, peer,
		     reason);
}

void tls_server_count_refused(struct tls_server *t)
{
	atomic_fetch_add(&t->refused, 1);
}

void tls_server_count_sendfile(struct tls_server *t, bool ktls, size_t n)
{
	atomic_fetch_add(ktls ? &t->sent_ktls : &t->sent_copy, n);
}

int tls_server_principal(X509 *cert, char *out, size_t cap)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long n;
	int rc = -ERR_TOO_LARGE;

	if (!b)
		return -ENOMEM;
	if (X509_NAME_print_ex(b, X509_get_subject_name(cert), 0,
			       XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0)
		goto out;
	n = BIO_get_mem_data(b, &p);
	if (n < 0 || (size_t)n + 6 > cap)
		goto out;
	snprintf(out, cap, "User:%.*s", (int)n, p);
	rc = 0;
out:
	BIO_free(b);
	return rc;
}

int tls_server_verify_der(struct tls_server *t, const uint8_t *const *der, const size_t *len,
			  size_t n, char *principal, size_t cap, char *why, size_t whycap)
{
	STACK_OF(X509) *chain = NULL;
	X509_STORE_CTX *vc = NULL;
	X509 *leaf = NULL;
	SSL_CTX *ctx = NULL;
	int rc = -EACCES;

	if (n == 0) {
		snprintf(why, whycap, "no client certificate");
		return -ERR_NOT_FOUND;
	}
	chain = sk_X509_new_null();
	for (size_t i = 0; chain && i < n; i++) {
		const unsigned char *p = der[i];
		X509 *x = d2i_X509(NULL, &p, (long)len[i]);

		if (!x) {
			snprintf(why, whycap, "malformed client certificate");
			goto out;
		}
		if (i == 0)
			leaf = x;
		else if (!sk_X509_push(chain, x))
			X509_free(x);
	}
	ctx = tls_server_ctx(t);
	vc = X509_STORE_CTX_new();
	if (!chain || !vc ||
	    X509_STORE_CTX_init(vc, SSL_CTX_get_cert_store(ctx), leaf, chain) != 1 ||
	    X509_STORE_CTX_set_purpose(vc, X509_PURPOSE_SSL_CLIENT) != 1) {
		snprintf(why, whycap, "out of memory");
		goto out;
	}
	if (X509_verify_cert(vc) != 1) {
		snprintf(why, whycap, "%s",
			 X509_verify_cert_error_string(X509_STORE_CTX_get_error(vc)));
		goto out;
	}
	rc = tls_server_principal(leaf, principal, cap);
	if (rc < 0)
		snprintf(why, whycap, "certificate subject too long");
out:
	ERR_clear_error();
	X509_STORE_CTX_free(vc);
	SSL_CTX_free(ctx);
	X509_free(leaf);
	sk_X509_pop_free(chain, X509_free);
	return rc;
}
