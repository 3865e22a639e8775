/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SCRAM: the RFC 7677 SCRAM-SHA-256 example exchange byte for byte, a full
 * exchange against a client built here from libcrypto for both mechanisms,
 * wrong proofs and unknown users, PLAIN checks against a stored credential,
 * the message parsers' refusals, and the users file (grammar, errors with
 * line and column, rewrite round trip).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "lib/err.h"
#include "store/auth/scram.h"
#include "store/auth/users.h"
#include "tests/unit/unit.h"

static void test_rfc7677_vector(void)
{
	const char *first = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
	const char *sfirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
			     "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
	const char *final = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
			    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
	uint8_t salt[32];
	struct scram_server s;
	struct scram_cred c;
	struct buf out;
	int n = scram_b64_decode("W22ZaJ0SNY7soEsUEjb6gQ==", 24, salt, sizeof(salt));

	CU_ASSERT_EQUAL_FATAL(n, 16);
	CU_ASSERT_EQUAL_FATAL(scram_cred_derive(SCRAM_SHA256, "pencil", 6, salt, 16, 4096, &c), 0);
	scram_server_init(&s, SCRAM_SHA256);
	CU_ASSERT_EQUAL_FATAL(scram_server_first(&s, (const uint8_t *)first, strlen(first)), 0);
	CU_ASSERT_STRING_EQUAL(s.first.user, "user");
	/* the RFC's server nonce instead of a random one */
	s.cred = c;
	s.known = true;
	snprintf(s.nonce, sizeof(s.nonce), "rOprNGfwEbeRWgbNEkqO%%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");
	CU_ASSERT_EQUAL(buf_append_str(&s.auth_msg, ","), 0);
	CU_ASSERT_EQUAL(buf_append_str(&s.auth_msg, sfirst), 0);
	s.state = SCRAM_CHALLENGED;
	buf_init(&out, 4096);
	CU_ASSERT_EQUAL(scram_server_final(&s, (const uint8_t *) final, strlen(final), &out), 0);
	CU_ASSERT_EQUAL(buf_cstr(&out), 0);
	CU_ASSERT_STRING_EQUAL((char *)out.data, "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
	buf_release(&out);
	scram_server_release(&s);
}

/* A client side built from libcrypto: the proof for password pw. */
static void client_final(enum scram_mech m, const char *pw, const char *cfirst_bare,
			 const char *sfirst, const char *nonce_prefix, char *out, size_t cap)
{
	const EVP_MD *md = m == SCRAM_SHA512 ? EVP_sha512() : EVP_sha256();
	size_t kl = scram_key_len(m);
	uint8_t salt[64], salted[64], ckey[64], stored[64], sig[64], proof[64];
	char nonce[600], am[3000], wo[800];
	const char *r = strstr(sfirst, "r="), *sp = strstr(sfirst, ",s="),
		   *ip = strstr(sfirst, ",i=");
	unsigned int ol;
	int saltlen, iters;
	struct buf b;

	snprintf(nonce, sizeof(nonce), "%.*s", (int)(sp - r - 2), r + 2);
	saltlen = scram_b64_decode(sp + 3, (size_t)(ip - sp - 3), salt, sizeof(salt));
	CU_ASSERT_FATAL(saltlen > 0);
	CU_ASSERT_EQUAL_FATAL(sscanf(ip + 3, "%d", &iters), 1);
	PKCS5_PBKDF2_HMAC(pw, (int)strlen(pw), salt, saltlen, iters, md, (int)kl, salted);
	HMAC(md, salted, (int)kl, (const uint8_t *)"Client Key", 10, ckey, &ol);
	EVP_Digest(ckey, kl, stored, &ol, md, NULL);
	snprintf(wo, sizeof(wo), "c=biws,r=%s%s", nonce_prefix, nonce);
	snprintf(am, sizeof(am), "%s,%s,%s", cfirst_bare, sfirst, wo);
	HMAC(md, stored, (int)kl, (const uint8_t *)am, strlen(am), sig, &ol);
	for (size_t i = 0; i < kl; i++)
		proof[i] = ckey[i] ^ sig[i];
	buf_init(&b, 4096);
	scram_b64_encode(proof, kl, &b);
	buf_cstr(&b);
	snprintf(out, cap, "%s,p=%s", wo, (char *)b.data);
	buf_release(&b);
}

static int exchange_x(enum scram_mech m, const struct scram_cred *stored, const char *user,
		      const char *pw, bool rdkafka_nonce)
{
	char first[256], final[1024];
	struct scram_server s;
	struct buf sf, fin;
	int rc;

	snprintf(first, sizeof(first), "n,,n=%s,r=fyko+d2lbbFgONRv9qkxdawL", user);
	scram_server_init(&s, m);
	buf_init(&sf, 4096);
	buf_init(&fin, 4096);
	CU_ASSERT_EQUAL_FATAL(scram_server_first(&s, (const uint8_t *)first, strlen(first)), 0);
	CU_ASSERT_EQUAL_FATAL(scram_server_challenge(&s, stored, &sf), 0);
	buf_cstr(&sf);
	CU_ASSERT_EQUAL(strncmp((char *)sf.data, "r=fyko+d2lbbFgONRv9qkxdawL", 26), 0);
	/* librdkafka sends c-nonce + (c-nonce + s-nonce) */
	client_final(m, pw, first + 3, (char *)sf.data,
		     rdkafka_nonce ? "fyko+d2lbbFgONRv9qkxdawL" : "", final, sizeof(final));
	rc = scram_server_final(&s, (const uint8_t *) final, strlen(final), &fin);
	if (rc == 0)
		CU_ASSERT_EQUAL(strncmp((char *)fin.data, "v=", 2), 0);
	buf_release(&sf);
	buf_release(&fin);
	scram_server_release(&s);
	return rc;
}

static int exchange(enum scram_mech m, const struct scram_cred *stored, const char *user,
		    const char *pw)
{
	return exchange_x(m, stored, user, pw, false);
}

static void test_exchange_both_mechs(void)
{
	for (int m = 0; m < SCRAM_MECHS; m++) {
		struct scram_cred c;

		CU_ASSERT_EQUAL_FATAL(scram_cred_new((enum scram_mech)m, "s3cret", 6, 4096, &c), 0);
		CU_ASSERT_EQUAL(exchange((enum scram_mech)m, &c, "alice", "s3cret"), 0);
		CU_ASSERT_EQUAL(exchange_x((enum scram_mech)m, &c, "alice", "s3cret", true), 0);
		CU_ASSERT_EQUAL(exchange((enum scram_mech)m, &c, "alice", "wrong"), -ERR_AUTH);
		/* unknown user: a challenge all the same, then a failure */
		CU_ASSERT_EQUAL(exchange((enum scram_mech)m, NULL, "nobody", "s3cret"), -ERR_AUTH);
		CU_ASSERT(scram_cred_check_password((enum scram_mech)m, &c, "s3cret", 6));
		CU_ASSERT(!scram_cred_check_password((enum scram_mech)m, &c, "s3cre", 5));
	}
}

/* An unknown name's challenge looks like a real one: same salt each time. */
static void test_unknown_user_salt_stable(void)
{
	const char *first = "n,,n=nobody,r=abc";
	char salt[2][64];

	for (int i = 0; i < 2; i++) {
		struct scram_server s;
		struct buf out;
		const char *p;

		scram_server_init(&s, SCRAM_SHA512);
		buf_init(&out, 4096);
		CU_ASSERT_EQUAL(scram_server_first(&s, (const uint8_t *)first, strlen(first)), 0);
		CU_ASSERT_EQUAL(scram_server_challenge(&s, NULL, &out), 0);
		buf_cstr(&out);
		p = strstr((char *)out.data, ",s=");
		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		snprintf(salt[i], sizeof(salt[i]), "%.32s", p + 3);
		CU_ASSERT_PTR_NOT_NULL(strstr((char *)out.data, ",i=4096"));
		buf_release(&out);
		scram_server_release(&s);
	}
	CU_ASSERT_STRING_EQUAL(salt[0], salt[1]);
}

static int first_rc(const char *m)
{
	struct scram_client_first f;

	return scram_parse_client_first(m, strlen(m), &f);
}

static void test_parse_client_first(void)
{
	struct scram_client_first f;
	const char *m = "n,a=a=2Cb,n=a=2Cb,r=abc,tokenauth=true";

	CU_ASSERT_EQUAL(scram_parse_client_first(m, strlen(m), &f), 0);
	CU_ASSERT_STRING_EQUAL(f.user, "a,b");
	CU_ASSERT(f.tokenauth);
	CU_ASSERT_STRING_EQUAL(f.gs2, "n,a=a=2Cb,");
	CU_ASSERT_EQUAL(first_rc("y,,n=u,r=x"), 0);
	CU_ASSERT_EQUAL(first_rc("p=tls-unique,,n=u,r=x"), -ERR_INVALID); /* channel binding */
	CU_ASSERT_EQUAL(first_rc("n,a=other,n=u,r=x"), -ERR_INVALID);     /* authzid != user */
	CU_ASSERT_EQUAL(first_rc("n,,m=ext,n=u,r=x"), -ERR_INVALID);
	CU_ASSERT_EQUAL(first_rc("n,,n=u"), -ERR_INVALID);
	CU_ASSERT_EQUAL(first_rc("n,,n=u,r="), -ERR_INVALID);
	CU_ASSERT_EQUAL(first_rc("n,,n=a=2,r=x"), -ERR_INVALID); /* bad escape */
	CU_ASSERT_EQUAL(first_rc("n,,n=u,r=x,"), -ERR_INVALID);
	CU_ASSERT_EQUAL(first_rc(""), -ERR_INVALID);
	CU_ASSERT_EQUAL(first_rc("n,,"), -ERR_INVALID);
}

static void test_parse_client_final(void)
{
	struct scram_client_final f;
	const char *ok = "c=biws,r=abc,p=AAAA";

	CU_ASSERT_EQUAL(scram_parse_client_final(ok, strlen(ok), &f), 0);
	CU_ASSERT_EQUAL(f.without_proof_len, 12);
	CU_ASSERT_EQUAL(f.proof_len, 3);
	CU_ASSERT_EQUAL(f.cbind_len, 3);
	CU_ASSERT_EQUAL(scram_parse_client_final("c=biws,r=abc", 12, &f), -ERR_INVALID);
	CU_ASSERT_EQUAL(scram_parse_client_final("c=biws,r=abc,p=AAA", 18, &f), -ERR_INVALID);
	CU_ASSERT_EQUAL(scram_parse_client_final("r=abc,c=biws,p=AAAA", 19, &f), -ERR_INVALID);
	CU_ASSERT_EQUAL(scram_parse_client_final("c=biws,r=abc,p=AAAA,x=1", 23, &f), -ERR_INVALID);
}

static void test_users_file(void)
{
	struct users *u = NULL, *v = NULL;
	char err[256];
	struct buf b;

	CU_ASSERT_EQUAL_FATAL(users_parse("users", "", 0, &u, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(users_set(u, "alice", "pw-a", 4, 4096), 0);
	CU_ASSERT_EQUAL(users_set(u, "bob", "pw-b", 4, 4096), 0);
	CU_ASSERT_EQUAL(users_set(u, "bad name", "x", 1, 4096), -ERR_INVALID);
	CU_ASSERT(users_check_password(u, "alice", "pw-a", 4));
	CU_ASSERT(!users_check_password(u, "alice", "pw-b", 4));
	CU_ASSERT(!users_check_password(u, "carol", "pw-a", 4));
	buf_init(&b, 1 << 20);
	CU_ASSERT_EQUAL(users_format(u, &b), 0);
	CU_ASSERT_PTR_NULL(memmem(b.data, b.len, "pw-a", 4)); /* never the password */
	CU_ASSERT_EQUAL_FATAL(users_parse("users", (char *)b.data, b.len, &v, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(users_count(v), 2);
	CU_ASSERT(users_check_password(v, "bob", "pw-b", 4));
	CU_ASSERT_PTR_NOT_NULL(users_find(v, "bob", SCRAM_SHA256));
	CU_ASSERT_EQUAL(users_remove(v, "bob"), 0);
	CU_ASSERT_EQUAL(users_remove(v, "bob"), -ERR_NOT_FOUND);
	CU_ASSERT_PTR_NULL(users_find(v, "bob", SCRAM_SHA512));
	users_free(v);
	users_free(u);
	buf_release(&b);
}

static void test_users_errors(void)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
		{"alice SCRAM-SHA-1 4096 AAAA AAAA AAAA\n", "users:1:7: mechanism"},
		{"# c\nal ice SCRAM-SHA-256 4096 AAAA AAAA AAAA\n", "users:2:1: expected"},
		{"a%b SCRAM-SHA-256 4096 AAAA AAAA AAAA\n", "users:1:1: user name"},
		{"alice SCRAM-SHA-256 0 AAAA AAAA AAAA\n", "users:1:21: iterations"},
		{"alice SCRAM-SHA-256 4096 A*AA AAAA AAAA\n", "users:1:26: salt"},
		{"alice SCRAM-SHA-256 4096 AAAA AAAA AAAA\n", "users:1:31: stored key"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct users *u = NULL;
		char err[256] = "";

		CU_ASSERT_EQUAL(users_parse("users", cases[i].text, strlen(cases[i].text), &u, err,
					    sizeof(err)),
				-ERR_CONFIG);
		CU_ASSERT_PTR_NULL(u);
		if (strncmp(err, cases[i].err, strlen(cases[i].err)) != 0)
			fprintf(stderr, "case %zu: got '%s'\n", i, err);
		CU_ASSERT_EQUAL(strncmp(err, cases[i].err, strlen(cases[i].err)), 0);
	}
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_rfc7677_vector),
		UNIT_TEST(test_exchange_both_mechs),
		UNIT_TEST(test_unknown_user_salt_stable),
		UNIT_TEST(test_parse_client_first),
		UNIT_TEST(test_parse_client_final),
		UNIT_TEST(test_users_file),
		UNIT_TEST(test_users_errors),
		UNIT_END,
	};

	return unit_run("scram", tests);
}
