/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677) for the native kafka
 * producer's SASL (knative_sec.c): the client's two messages and the check
 * of the server's signature, with libcrypto (loaded by the agent with
 * libssl, agent/dl/) for PBKDF2, HMAC, the digests, the nonce and base64.
 * No channel binding ("n,,"), as Kafka's own clients.  The server's
 * messages are untrusted: every attribute is bounded and a missing or
 * malformed one fails the authentication.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "plugins/out_kafka/knative.h"

#define SCRAM_MAX_ITER 1000000
#define SCRAM_MIN_ITER 4096

struct kn_scram {
	const EVP_MD *md;
	unsigned hlen;
	char cnonce[48];
	struct buf auth_msg; /* client-first-bare "," server-first "," client-final-bare */
	uint8_t server_sig[EVP_MAX_MD_SIZE];
};

/* Zeroing the compiler may not drop (keys and passwords). */
static void wipe(void *p, size_t n)
{
	volatile uint8_t *v = p;

	while (n--)
		*v++ = 0;
}

/* Constant time: a signature check must not tell how many bytes matched. */
static bool same(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint8_t d = 0;

	for (size_t i = 0; i < n; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

static int b64(struct buf *out, const uint8_t *p, size_t n)
{
	int rc = buf_reserve(out, 4 * ((n + 2) / 3) + 1);
	int k;

	if (rc < 0)
		return rc;
	k = EVP_EncodeBlock(out->data + out->len, p, (int)n);
	if (k < 0)
		return -ERR_UNSUPPORTED;
	out->len += (size_t)k;
	return 0;
}

/* base64 into out (at most cap bytes); the decoded length or negative. */
static int unb64(const uint8_t *p, size_t n, uint8_t *out, size_t cap)
{
	uint8_t tmp[256];
	int k, pad = 0;

	if (n == 0 || n % 4 || n / 4 * 3 > sizeof(tmp))
		return -ERR_CORRUPT;
	k = EVP_DecodeBlock(tmp, p, (int)n);
	if (k < 0)
		return -ERR_CORRUPT;
	pad = (p[n - 1] == '=') + (p[n - 2] == '=');
	k -= pad;
	if (k < 0 || (size_t)k > cap)
		return -ERR_CORRUPT;
	memcpy(out, tmp, (size_t)k);
	return k;
}

/* The value of attribute `name` in a SCRAM message ("a=...,b=..."). */
static const uint8_t *attr(const uint8_t *p, size_t n, char name, size_t *len)
{
	size_t i = 0;

	while (i + 1 < n) {
		size_t j = i;

		while (j < n && p[j] != ',')
			j++;
		if (j - i >= 2 && p[i] == (uint8_t)name && p[i + 1] == '=') {
			*len = j - i - 2;
			return p + i + 2;
		}
		i = j + 1;
	}
	return NULL;
}

void kn_scram_free(struct kn_scram *s)
{
	if (!s)
		return;
	buf_release(&s->auth_msg);
	wipe(s, sizeof(*s));
	mem_free(s);
}

int kn_scram_first(struct knative *kn, struct kn_conn *c, struct buf *out)
{
	struct kn_scram *s = mem_calloc(1, sizeof(*s));
	uint8_t rnd[24];
	struct buf nb;
	int rc;

	if (!s)
		return -ENOMEM;
	kn_scram_free(c->scram);
	c->scram = s;
	s->md = kn->sasl_mech == 2 ? EVP_sha512() : EVP_sha256();
	s->hlen = kn->sasl_mech == 2 ? 64 : 32;
	buf_init(&s->auth_msg, 1 << 16);
	if (!s->md || RAND_bytes(rnd, sizeof(rnd)) != 1)
		return -ERR_UNSUPPORTED;
	buf_init(&nb, sizeof(s->cnonce));
	rc = b64(&nb, rnd, sizeof(rnd));
	if (rc == 0) {
		memcpy(s->cnonce, nb.data, nb.len);
		s->cnonce[nb.len] = '\0';
	}
	buf_release(&nb);
	/* client-first-bare: the user name with '=' and ',' escaped */
	rc = rc ? rc : buf_append_str(&s->auth_msg, "n=");
	for (const char *u = kn->sasl_user; rc == 0 && *u; u++)
		rc = *u == '='   ? buf_append_str(&s->auth_msg, "=3D")
		     : *u == ',' ? buf_append_str(&s->auth_msg, "=2C")
				 : buf_append_u8(&s->auth_msg, (uint8_t)*u);
	if (rc == 0)
		rc = buf_printf(&s->auth_msg, ",r=%s", s->cnonce);
	if (rc == 0)
		rc = buf_append_str(out, "n,,");
	if (rc == 0)
		rc = buf_append(out, s->auth_msg.data, s->auth_msg.len);
	return rc;
}

static int hmac(const struct kn_scram *s, const uint8_t *key, const void *d, size_t n, uint8_t *out)
{
	unsigned len = 0;

	return HMAC(s->md, key, (int)s->hlen, d, n, out, &len) && len == s->hlen ? 0
										 : -ERR_UNSUPPORTED;
}

/* Proof and server signature from the salted password. */
static int proof(struct kn_scram *s, const uint8_t *salted, uint8_t *p)
{
	uint8_t ckey[EVP_MAX_MD_SIZE], stored[EVP_MAX_MD_SIZE], sig[EVP_MAX_MD_SIZE];
	uint8_t skey[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	int rc = hmac(s, salted, "Client Key", 10, ckey);

	if (rc == 0 && (!EVP_Digest(ckey, s->hlen, stored, &len, s->md, NULL) || len != s->hlen))
		rc = -ERR_UNSUPPORTED;
	if (rc == 0)
		rc = hmac(s, stored, s->auth_msg.data, s->auth_msg.len, sig);
	if (rc == 0)
		rc = hmac(s, salted, "Server Key", 10, skey);
	if (rc == 0)
		rc = hmac(s, skey, s->auth_msg.data, s->auth_msg.len, s->server_sig);
	for (unsigned i = 0; rc == 0 && i < s->hlen; i++)
		p[i] = ckey[i] ^ sig[i];
	wipe(ckey, sizeof(ckey));
	wipe(skey, sizeof(skey));
	return rc;
}

int kn_scram_final(struct knative *kn, struct kn_conn *c, const uint8_t *msg, size_t n,
		   struct buf *out)
{
	struct kn_scram *s = c->scram;
	size_t rl = 0, sl = 0, il = 0, cl;
	const uint8_t *r = attr(msg, n, 'r', &rl), *sa = attr(msg, n, 's', &sl);
	const uint8_t *it = attr(msg, n, 'i', &il);
	uint8_t salt[128], salted[EVP_MAX_MD_SIZE], p[EVP_MAX_MD_SIZE];
	char iter[16];
	int64_t iters = 0;
	int saltlen, rc;

	if (!s || !r || !sa || !it || il == 0 || il >= sizeof(iter))
		return -ERR_CORRUPT;
	cl = strlen(s->cnonce);
	/* the server's nonce extends ours */
	if (rl <= cl || memcmp(r, s->cnonce, cl) || memchr(r, ',', rl))
		return -ERR_AUTH;
	memcpy(iter, it, il);
	iter[il] = '\0';
	if (cfg_parse_int(iter, &iters) < 0 || iters < SCRAM_MIN_ITER || iters > SCRAM_MAX_ITER)
		return -ERR_CORRUPT;
	saltlen = unb64(sa, sl, salt, sizeof(salt));
	if (saltlen <= 0)
		return -ERR_CORRUPT;
	if (PKCS5_PBKDF2_HMAC(kn->sasl_pass, (int)strlen(kn->sasl_pass), salt, saltlen, (int)iters,
			      s->md, (int)s->hlen, salted) != 1)
		return -ERR_UNSUPPORTED;
	/* AuthMessage = client-first-bare "," server-first "," client-final-bare */
	rc = buf_append_u8(&s->auth_msg, ',');
	if (rc == 0)
		rc = buf_append(&s->auth_msg, msg, n);
	if (rc == 0)
		rc = buf_append_str(&s->auth_msg, ",c=biws,r=");
	if (rc == 0)
		rc = buf_append(&s->auth_msg, r, rl);
	if (rc == 0)
		rc = proof(s, salted, p);
	wipe(salted, sizeof(salted));
	if (rc == 0)
		rc = buf_append_str(out, "c=biws,r=");
	if (rc == 0)
		rc = buf_append(out, r, rl);
	if (rc == 0)
		rc = buf_append_str(out, ",p=");
	if (rc == 0)
		rc = b64(out, p, s->hlen);
	return rc;
}

int kn_scram_verify(struct kn_conn *c, const uint8_t *msg, size_t n)
{
	struct kn_scram *s = c->scram;
	size_t vl = 0;
	const uint8_t *v = attr(msg, n, 'v', &vl);
	uint8_t sig[EVP_MAX_MD_SIZE];
	int k;

	if (!s || !v)
		return -ERR_AUTH;
	k = unb64(v, vl, sig, sizeof(sig));
	if (k != (int)s->hlen || !same(sig, s->server_sig, s->hlen))
		return -ERR_AUTH;
	return 0;
}
