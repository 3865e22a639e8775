/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SCRAM messages and credential derivation on top of libcrypto.  The message
 * grammar is RFC 5802 section 7; what Kafka adds is the optional
 * "tokenauth=true" extension in client-first (delegation tokens, which the
 * store does not issue: such an exchange fails).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "lib/err.h"
#include "store/auth/scram.h"

static const EVP_MD *mech_md(enum scram_mech m)
{
	return m == SCRAM_SHA512 ? EVP_sha512() : EVP_sha256();
}

const char *scram_mech_name(enum scram_mech m)
{
	return m == SCRAM_SHA512 ? "SCRAM-SHA-512" : "SCRAM-SHA-256";
}

int scram_mech_parse(const char *s, size_t n)
{
	if (n == 13 && memcmp(s, "SCRAM-SHA-256", 13) == 0)
		return SCRAM_SHA256;
	if (n == 13 && memcmp(s, "SCRAM-SHA-512", 13) == 0)
		return SCRAM_SHA512;
	return -ERR_NOT_FOUND;
}

size_t scram_key_len(enum scram_mech m)
{
	return m == SCRAM_SHA512 ? 64 : 32;
}

int scram_b64_encode(const uint8_t *p, size_t n, struct buf *out)
{
	size_t need = 4 * ((n + 2) / 3) + 1;
	int rc, len;

	if (n > SCRAM_MSG_MAX)
		return -ERR_INVALID;
	rc = buf_reserve(out, need);
	if (rc < 0)
		return rc;
	len = EVP_EncodeBlock(out->data + out->len, p, (int)n);
	if (len < 0)
		return -ERR_INVALID;
	out->len += (size_t)len;
	return 0;
}

int scram_b64_decode(const char *s, size_t n, uint8_t *out, size_t cap)
{
	uint8_t tmp[3 * (SCRAM_MSG_MAX / 4) + 3];
	size_t pad = 0;
	int len;

	if (n % 4 != 0 || n > SCRAM_MSG_MAX)
		return -ERR_INVALID;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
			  (ch >= '0' && ch <= '9') || ch == '+' || ch == '/';

		if (ch == '=' && i + 2 >= n) {
			pad++;
			continue;
		}
		if (!ok || pad)
			return -ERR_INVALID;
	}
	if (n == 0)
		return 0;
	len = EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)n);
	if (len < 0 || (size_t)len < pad || (size_t)len - pad > cap)
		return -ERR_INVALID;
	memcpy(out, tmp, (size_t)len - pad);
	OPENSSL_cleanse(tmp, sizeof(tmp));
	return len - (int)pad;
}

/* ---------------------------------------------------------------- credentials */

static int hmac(enum scram_mech m, const uint8_t *key, size_t klen, const void *data, size_t n,
		uint8_t *out)
{
	unsigned int olen = 0;

	if (!HMAC(mech_md(m), key, (int)klen, data, n, out, &olen))
		return -ENOMEM;
	return 0;
}

static int digest(enum scram_mech m, const uint8_t *p, size_t n, uint8_t *out)
{
	unsigned int olen = 0;

	return EVP_Digest(p, n, out, &olen, mech_md(m), NULL) == 1 ? 0 : -ENOMEM;
}

int scram_cred_derive(enum scram_mech m, const char *pw, size_t pwlen, const uint8_t *salt,
		      size_t salt_len, int iterations, struct scram_cred *out)
{
	uint8_t salted[SCRAM_KEY_MAX], client_key[SCRAM_KEY_MAX];
	size_t kl = scram_key_len(m);
	int rc = -ENOMEM;

	memset(out, 0, sizeof(*out));
	if (salt_len == 0 || salt_len > SCRAM_SALT_MAX || iterations < 1 ||
	    iterations > SCRAM_MAX_ITERATIONS || pwlen > 1024)
		return -ERR_INVALID;
	if (PKCS5_PBKDF2_HMAC(pw, (int)pwlen, salt, (int)salt_len, iterations, mech_md(m), (int)kl,
			      salted) != 1)
		goto out;
	if (hmac(m, salted, kl, "Client Key", 10, client_key) < 0 ||
	    digest(m, client_key, kl, out->stored_key) < 0 ||
	    hmac(m, salted, kl, "Server Key", 10, out->server_key) < 0)
		goto out;
	memcpy(out->salt, salt, salt_len);
	out->salt_len = salt_len;
	out->iterations = iterations;
	rc = 0;
out:
	OPENSSL_cleanse(salted, sizeof(salted));
	OPENSSL_cleanse(client_key, sizeof(client_key));
	return rc;
}

int scram_cred_from_salted(enum scram_mech m, const uint8_t *salted, size_t len,
			   const uint8_t *salt, size_t salt_len, int iterations,
			   struct scram_cred *out)
{
	uint8_t client_key[SCRAM_KEY_MAX];
	size_t kl = scram_key_len(m);
	int rc = -ENOMEM;

	memset(out, 0, sizeof(*out));
	if (len != kl || salt_len == 0 || salt_len > SCRAM_SALT_MAX || iterations < 1 ||
	    iterations > SCRAM_MAX_ITERATIONS)
		return -ERR_INVALID;
	if (hmac(m, salted, kl, "Client Key", 10, client_key) == 0 &&
	    digest(m, client_key, kl, out->stored_key) == 0 &&
	    hmac(m, salted, kl, "Server Key", 10, out->server_key) == 0) {
		memcpy(out->salt, salt, salt_len);
		out->salt_len = salt_len;
		out->iterations = iterations;
		rc = 0;
	}
	OPENSSL_cleanse(client_key, sizeof(client_key));
	return rc;
}

int scram_cred_new(enum scram_mech m, const char *pw, size_t pwlen, int iterations,
		   struct scram_cred *out)
{
	uint8_t salt[SCRAM_SALT_LEN];

	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return -ENOMEM;
	return scram_cred_derive(m, pw, pwlen, salt, sizeof(salt), iterations, out);
}

bool scram_cred_check_password(enum scram_mech m, const struct scram_cred *c, const char *pw,
			       size_t pwlen)
{
	struct scram_cred d;
	bool ok;

	if (scram_cred_derive(m, pw, pwlen, c->salt, c->salt_len, c->iterations, &d) < 0)
		return false;
	ok = CRYPTO_memcmp(d.stored_key, c->stored_key, scram_key_len(m)) == 0;
	OPENSSL_cleanse(&d, sizeof(d));
	return ok;
}

/* ---------------------------------------------------------------- parsing */

/* Copy a saslname (RFC 5802: ',' as =2C, '=' as =3D) into out.  0 or
 * -ERR_INVALID. */
static int saslname(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	if (n == 0)
		return -ERR_INVALID;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (ch == '=') {
			if (n - i < 3)
				return -ERR_INVALID;
			if (s[i + 1] == '2' && s[i + 2] == 'C')
				ch = ',';
			else if (s[i + 1] == '3' && s[i + 2] == 'D')
				ch = '=';
			else
				return -ERR_INVALID;
			i += 2;
		} else if (ch == ',' || ch == '\0') {
			return -ERR_INVALID;
		}
		if (o + 1 >= cap)
			return -ERR_INVALID;
		out[o++] = ch;
	}
	out[o] = '\0';
	return 0;
}

/* The next attribute "k=value" of m starting at *pos; *pos moves past the
 * following comma.  0, or -ERR_INVALID when there is none. */
static int attr(const char *m, size_t n, size_t *pos, char *key, const char **val, size_t *vlen)
{
	size_t i = *pos, j;

	if (i + 2 > n || m[i + 1] != '=')
		return -ERR_INVALID;
	*key = m[i];
	j = i + 2;
	while (j < n && m[j] != ',')
		j++;
	*val = m + i + 2;
	*vlen = j - (i + 2);
	*pos = j < n ? j + 1 : j;
	if (j < n && j + 1 == n)
		return -ERR_INVALID; /* trailing comma */
	return 0;
}

static bool printable_nonce(const char *s, size_t n)
{
	if (n == 0 || n > SCRAM_NONCE_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e || s[i] == ',')
			return false;
	return true;
}

int scram_parse_client_first(const char *m, size_t n, struct scram_client_first *out)
{
	const char *v;
	size_t pos = 0, vlen, c2;
	char k, authz[SCRAM_NAME_MAX + 1] = "";
	bool have_authz = false;

	memset(out, 0, sizeof(*out));
	if (n < 3 || n > SCRAM_MSG_MAX || memchr(m, '\0', n))
		return -ERR_INVALID;
	/* gs2-cbind-flag: we offer no channel binding, so 'p=' is refused */
	if ((m[0] != 'n' && m[0] != 'y') || m[1] != ',')
		return -ERR_INVALID;
	c2 = 2;
	while (c2 < n && m[c2] != ',')
		c2++;
	if (c2 == n)
		return -ERR_INVALID;
	if (c2 > 2) {
		if (m[2] != 'a' || m[3] != '=' || saslname(m + 4, c2 - 4, authz, sizeof(authz)) < 0)
			return -ERR_INVALID;
		have_authz = true;
	}
	if (c2 + 1 >= sizeof(out->gs2))
		return -ERR_INVALID;
	memcpy(out->gs2, m, c2 + 1);
	out->gs2[c2 + 1] = '\0';
	pos = c2 + 1;
	out->bare_off = pos;
	if (attr(m, n, &pos, &k, &v, &vlen) < 0 || k != 'n' ||
	    saslname(v, vlen, out->user, sizeof(out->user)) < 0)
		return -ERR_INVALID;
	if (attr(m, n, &pos, &k, &v, &vlen) < 0 || k != 'r' || !printable_nonce(v, vlen))
		return -ERR_INVALID;
	memcpy(out->nonce, v, vlen);
	out->nonce[vlen] = '\0';
	while (pos < n) {
		/* extensions: "name=value"; the attribute grammar needs 1-letter names,
		 * Kafka's are longer, so take them whole */
		size_t j = pos;

		while (j < n && m[j] != ',')
			j++;
		if (j - pos == 14 && memcmp(m + pos, "tokenauth=true", 14) == 0)
			out->tokenauth = true;
		else if (!memchr(m + pos, '=', j - pos) || m[pos] == '=')
			return -ERR_INVALID;
		if (j < n && j + 1 == n)
			return -ERR_INVALID;
		pos = j < n ? j + 1 : j;
	}
	if (have_authz && strcmp(authz, out->user) != 0)
		return -ERR_INVALID;
	return 0;
}

int scram_parse_client_final(const char *m, size_t n, struct scram_client_final *out)
{
	const char *v;
	size_t pos = 0, vlen, prev;
	char k;
	int len;

	memset(out, 0, sizeof(*out));
	if (n > SCRAM_MSG_MAX || memchr(m, '\0', n))
		return -ERR_INVALID;
	if (attr(m, n, &pos, &k, &v, &vlen) < 0 || k != 'c')
		return -ERR_INVALID;
	len = scram_b64_decode(v, vlen, out->cbind, sizeof(out->cbind));
	if (len < 0)
		return -ERR_INVALID;
	out->cbind_len = (size_t)len;
	if (attr(m, n, &pos, &k, &v, &vlen) < 0 || k != 'r' || vlen > 2 * SCRAM_NONCE_MAX ||
	    vlen == 0)
		return -ERR_INVALID;
	memcpy(out->nonce, v, vlen);
	out->nonce[vlen] = '\0';
	for (;;) {
		prev = pos;
		if (attr(m, n, &pos, &k, &v, &vlen) < 0)
			return -ERR_INVALID;
		if (k == 'p')
			break;
	}
	if (pos != n || prev == 0)
		return -ERR_INVALID;
	out->without_proof_len = prev - 1; /* the comma before "p=" */
	len = scram_b64_decode(v, vlen, out->proof, sizeof(out->proof));
	if (len < 0)
		return -ERR_INVALID;
	out->proof_len = (size_t)len;
	return 0;
}

/* ---------------------------------------------------------------- exchange */

void scram_server_init(struct scram_server *s, enum scram_mech mech)
{
	memset(s, 0, sizeof(*s));
	s->mech = mech;
	buf_init(&s->auth_msg, 3 * SCRAM_MSG_MAX);
}

void scram_server_release(struct scram_server *s)
{
	if (s->auth_msg.data)
		OPENSSL_cleanse(s->auth_msg.data, s->auth_msg.len);
	buf_release(&s->auth_msg);
	OPENSSL_cleanse(&s->cred, sizeof(s->cred));
	s->state = SCRAM_FAILED;
}

int scram_server_first(struct scram_server *s, const uint8_t *m, size_t n)
{
	int rc;

	if (s->state != SCRAM_START)
		return -ERR_INVALID;
	rc = scram_parse_client_first((const char *)m, n, &s->first);
	if (rc == 0 && s->first.tokenauth)
		rc = -ERR_INVALID;
	if (rc == 0)
		rc = buf_append(&s->auth_msg, m + s->first.bare_off, n - s->first.bare_off);
	if (rc < 0)
		s->state = SCRAM_FAILED;
	return rc;
}

int scram_server_challenge(struct scram_server *s, const struct scram_cred *cred, struct buf *out)
{
	uint8_t rnd[24];
	struct buf tail;
	size_t nlen = strlen(s->first.nonce);
	int rc;

	if (s->state != SCRAM_START)
		return -ERR_INVALID;
	s->state = SCRAM_FAILED;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return -ENOMEM;
	if (cred) {
		s->cred = *cred;
		s->known = true;
	} else {
		/* A plausible challenge for a name that does not exist: the same
		 * salt every time for that name (keyed by a per-process secret),
		 * as a real user's, so asking twice does not tell them apart. */
		static uint8_t secret[32];
		static bool have_secret;
		uint8_t fake[SCRAM_KEY_MAX];
		const char *u = s->first.user;

		if (!have_secret && RAND_bytes(secret, sizeof(secret)) != 1)
			return -ENOMEM;
		have_secret = true;
		if (hmac(SCRAM_SHA256, secret, sizeof(secret), u, strlen(u), fake) < 0)
			return -ENOMEM;
		s->cred.iterations = SCRAM_MIN_ITERATIONS;
		s->cred.salt_len = SCRAM_SALT_LEN;
		memcpy(s->cred.salt, fake, SCRAM_SALT_LEN);
	}
	memcpy(s->nonce, s->first.nonce, nlen);
	buf_init(&tail, SCRAM_MSG_MAX);
	rc = scram_b64_encode(rnd, sizeof(rnd), &tail);
	if (rc == 0 && nlen + tail.len < sizeof(s->nonce)) {
		memcpy(s->nonce + nlen, tail.data, tail.len);
		s->nonce[nlen + tail.len] = '\0';
	} else if (rc == 0) {
		rc = -ERR_INVALID;
	}
	buf_reset(&tail);
	if (rc == 0)
		rc = buf_printf(&tail, "r=%s,s=", s->nonce);
	if (rc == 0)
		rc = scram_b64_encode(s->cred.salt, s->cred.salt_len, &tail);
	if (rc == 0)
		rc = buf_printf(&tail, ",i=%d", s->cred.iterations);
	if (rc == 0)
		rc = buf_append_str(&s->auth_msg, ",");
	if (rc == 0)
		rc = buf_append(&s->auth_msg, tail.data, tail.len);
	if (rc == 0)
		rc = buf_append(out, tail.data, tail.len);
	buf_release(&tail);
	if (rc == 0)
		s->state = SCRAM_CHALLENGED;
	return rc;
}

int scram_server_final(struct scram_server *s, const uint8_t *m, size_t n, struct buf *out)
{
	struct scram_client_final f;
	uint8_t sig[SCRAM_KEY_MAX], key[SCRAM_KEY_MAX], stored[SCRAM_KEY_MAX];
	size_t kl = scram_key_len(s->mech), glen = strlen(s->first.gs2), fl, nl;
	int rc;

	if (s->state != SCRAM_CHALLENGED)
		return -ERR_INVALID;
	s->state = SCRAM_FAILED;
	rc = scram_parse_client_final((const char *)m, n, &f);
	if (rc < 0)
		goto out;
	rc = -ERR_INVALID;
	/* The nonce must end with ours: librdkafka sends its own nonce again in
	 * front of the combined one, which Kafka brokers accept (endsWith). */
	fl = strlen(f.nonce);
	nl = strlen(s->nonce);
	if (f.cbind_len != glen || memcmp(f.cbind, s->first.gs2, glen) != 0 || fl < nl ||
	    strcmp(f.nonce + fl - nl, s->nonce) != 0 || f.proof_len != kl)
		goto out;
	rc = buf_append_str(&s->auth_msg, ",");
	if (rc == 0)
		rc = buf_append(&s->auth_msg, m, f.without_proof_len);
	if (rc == 0)
		rc = hmac(s->mech, s->cred.stored_key, kl, s->auth_msg.data, s->auth_msg.len, sig);
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < kl; i++)
		key[i] = f.proof[i] ^ sig[i];
	rc = digest(s->mech, key, kl, stored);
	if (rc < 0)
		goto out;
	if (CRYPTO_memcmp(stored, s->cred.stored_key, kl) != 0 || !s->known) {
		rc = -ERR_AUTH;
		goto out;
	}
	rc = hmac(s->mech, s->cred.server_key, kl, s->auth_msg.data, s->auth_msg.len, sig);
	if (rc == 0)
		rc = buf_append_str(out, "v=");
	if (rc == 0)
		rc = scram_b64_encode(sig, kl, out);
	if (rc == 0)
		s->state = SCRAM_DONE;
out:
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(sig, sizeof(sig));
	return rc;
}
