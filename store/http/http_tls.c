/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP API TLS on libmicrohttpd/GnuTLS (http_tls.h).  A certificate
 * "generation" (the chain and key as GnuTLS wants them) is built per load;
 * the certificate callback hands out the newest.  Older generations stay
 * allocated until the API is freed, because a handshake in progress on
 * another thread may still hold their pointers; a reload costs a few KiB.
 */
#include <errno.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "store/http/http_conn.h"
#include "store/http/http_tls.h"
#include "store/tls/tls_server.h"

#define MAX_CHAIN 16
#define MAX_PEERS 16
/* TLS 1.2 and 1.3; for 1.2 only ECDHE with AEAD suites, as on the Kafka listener */
#define PRIORITIES                                                                    \
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:" \
	"-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD:"    \
	"%SERVER_PRECEDENCE"

struct gen {
	struct gen *older;
	gnutls_pcert_st chain[MAX_CHAIN];
	unsigned nchain;
	gnutls_privkey_t key;
};

struct http_tls {
	struct tls_server *verify; /* OpenSSL: key/cert sanity, client CAs, metrics */
	_Atomic(struct gen *) cur;
	pthread_mutex_t mu; /* reloads */
	int client_auth;
	char *trust_pem; /* client CAs at start, for MHD_OPTION_HTTPS_MEM_TRUST */
};

/* libmicrohttpd's certificate callback carries no user pointer. */
static _Atomic(struct http_tls *) the_tls;

struct conn_state {
	bool checked;
	int rc;
	const char *why;
	char why_buf[160];
	char principal[TLS_PRINCIPAL_MAX];
};

static void gen_free(struct gen *g)
{
	while (g) {
		struct gen *older = g->older;

		for (unsigned i = 0; i < g->nchain; i++)
			gnutls_pcert_deinit(&g->chain[i]);
		if (g->key)
			gnutls_privkey_deinit(g->key);
		mem_free(g);
		g = older;
	}
}

static struct gen *gen_load(const struct tls_section *c)
{
	gnutls_datum_t cert = {NULL, 0}, key = {NULL, 0};
	struct gen *g = mem_calloc(1, sizeof(*g));
	int rc = -1;

	if (!g)
		return NULL;
	g->nchain = MAX_CHAIN;
	if (gnutls_load_file(c->cert, &cert) < 0 || gnutls_load_file(c->key, &key) < 0) {
		log_error("http.tls: cannot read %s or %s", c->cert, c->key);
		goto out;
	}
	rc = gnutls_pcert_list_import_x509_raw(g->chain, &g->nchain, &cert, GNUTLS_X509_FMT_PEM, 0);
	if (rc < 0) {
		g->nchain = 0;
		log_error("http.tls: cert %s: %s", c->cert, gnutls_strerror(rc));
		goto out;
	}
	rc = gnutls_privkey_init(&g->key);
	if (rc == 0)
		rc = gnutls_privkey_import_x509_raw(g->key, &key, GNUTLS_X509_FMT_PEM, NULL, 0);
	if (rc < 0)
		log_error("http.tls: key %s: %s", c->key, gnutls_strerror(rc));
out:
	gnutls_free(cert.data);
	gnutls_free(key.data);
	if (rc < 0) {
		gen_free(g);
		return NULL;
	}
	return g;
}

static int on_cert(gnutls_session_t s, const gnutls_datum_t *req_ca, int nreq,
		   const gnutls_pk_algorithm_t *algos, int nalgos, gnutls_pcert_st **pcert,
		   unsigned int *npcert, gnutls_privkey_t *key)
{
	struct http_tls *t = atomic_load(&the_tls);
	struct gen *g = t ? atomic_load(&t->cur) : NULL;

	(void)s, (void)req_ca, (void)nreq, (void)algos, (void)nalgos;
	if (!g)
		return -1;
	*pcert = g->chain;
	*npcert = g->nchain;
	*key = g->key;
	return 0;
}

static char *read_pem(const char *path)
{
	gnutls_datum_t d = {NULL, 0};
	char *s;

	if (gnutls_load_file(path, &d) < 0)
		return NULL;
	s = mem_strndup((const char *)d.data, d.size);
	gnutls_free(d.data);
	return s;
}

int http_tls_new(const struct tls_section *conf, struct prom_registry *metrics,
		 struct http_tls **out)
{
	struct http_tls *t = mem_calloc(1, sizeof(*t));
	struct gen *g = NULL;
	int rc;

	*out = NULL;
	if (!t)
		return -ENOMEM;
	pthread_mutex_init(&t->mu, NULL);
	t->client_auth = conf->client_auth;
	rc = tls_server_new("http", conf, metrics, &t->verify);
	if (rc < 0)
		goto out;
	g = gen_load(conf);
	if (!g) {
		rc = -ERR_CONFIG;
		goto out;
	}
	atomic_store(&t->cur, g);
	if (conf->client_auth != TLS_CLIENT_AUTH_NONE) {
		t->trust_pem = read_pem(conf->client_ca);
		if (!t->trust_pem) {
			log_error("http.tls: cannot read client_ca %s", conf->client_ca);
			rc = -ERR_CONFIG;
			goto out;
		}
	}
	atomic_store(&the_tls, t);
	*out = t;
out:
	if (rc < 0)
		http_tls_free(t);
	return rc;
}

int http_tls_reload(struct http_tls *t, const struct tls_section *conf)
{
	struct gen *g;
	int rc;

	if (conf->client_auth != t->client_auth)
		log_warn("SIGHUP: http.tls.client_auth changes at the next start");
	rc = tls_server_reload(t->verify, conf);
	if (rc < 0)
		return rc;
	g = gen_load(conf);
	if (!g) {
		log_error("SIGHUP: http.tls: keeping the certificate in use");
		return -ERR_CONFIG;
	}
	pthread_mutex_lock(&t->mu);
	g->older = atomic_load(&t->cur);
	atomic_store(&t->cur, g);
	pthread_mutex_unlock(&t->mu);
	return 0;
}

void http_tls_free(struct http_tls *t)
{
	struct http_tls *expect = t;

	if (!t)
		return;
	atomic_compare_exchange_strong(&the_tls, &expect, NULL);
	gen_free(atomic_load(&t->cur));
	tls_server_free(t->verify);
	mem_free(t->trust_pem);
	pthread_mutex_destroy(&t->mu);
	mem_free(t);
}

struct tls_server *http_tls_server(struct http_tls *t)
{
	return t ? t->verify : NULL;
}

size_t http_tls_options(struct http_tls *t, struct MHD_OptionItem *ops, size_t n)
{
	ops[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_CERT_CALLBACK, 0, (void *)on_cert};
	ops[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)PRIORITIES};
	if (t->trust_pem)
		ops[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, t->trust_pem};
	return n;
}

void http_tls_conn_started(struct http_tls *t, void **socket_ctx)
{
	if (t && t->client_auth != TLS_CLIENT_AUTH_NONE)
		*socket_ctx = mem_calloc(1, sizeof(struct conn_state));
}

void http_tls_conn_closed(void **socket_ctx)
{
	mem_free(*socket_ctx);
	*socket_ctx = NULL;
}

static void check_conn(struct http_tls *t, struct MHD_Connection *conn, struct conn_state *cs)
{
	const union MHD_ConnectionInfo *ci;
	const gnutls_datum_t *peers;
	const uint8_t *der[MAX_PEERS];
	size_t len[MAX_PEERS];
	unsigned n = 0;

	cs->checked = true;
	cs->why = cs->why_buf;
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	peers = ci && ci->tls_session ? gnutls_certificate_get_peers(ci->tls_session, &n) : NULL;
	if (!peers)
		n = 0;
	for (unsigned i = 0; i < n && i < MAX_PEERS; i++) {
		der[i] = peers[i].data;
		len[i] = peers[i].size;
	}
	cs->rc = tls_server_verify_der(t->verify, der, len, n < MAX_PEERS ? n : MAX_PEERS,
				       cs->principal, sizeof(cs->principal), cs->why_buf,
				       sizeof(cs->why_buf));
	if (cs->rc == -ERR_NOT_FOUND && t->client_auth == TLS_CLIENT_AUTH_REQUEST)
		cs->rc = 1; /* anonymous */
	if (cs->rc < 0)
		tls_server_count_refused(t->verify);
}

int http_tls_peer(struct http_tls *t, struct MHD_Connection *conn, const char **principal,
		  const char **why)
{
	struct conn_state *cs;

	*principal = NULL;
	*why = NULL;
	if (!t || t->client_auth == TLS_CLIENT_AUTH_NONE)
		return 0;
	{
		struct http_conn_ctx *x = http_conn_ctx_of(conn);

		cs = x ? x->tls : NULL;
	}
	if (!cs) {
		*why = "out of memory";
		return -EACCES;
	}
	if (!cs->checked)
		check_conn(t, conn, cs);
	if (cs->rc < 0) {
		*why = cs->why;
		return -EACCES;
	}
	if (cs->rc == 0)
		*principal = cs->principal;
	return 0;
}
