/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677) as the server side of
 * Kafka's SASL/SCRAM (KIP-84), plus the stored-credential form the users file
 * keeps: salt, iteration count, StoredKey and ServerKey.  Nothing here keeps
 * a password: a credential is derived once (scram_cred_derive) and a PLAIN
 * password is checked by deriving again and comparing StoredKey.
 *
 * Every primitive comes from OpenSSL's libcrypto (PKCS5_PBKDF2_HMAC, HMAC,
 * EVP_Digest, RAND_bytes, CRYPTO_memcmp, EVP_EncodeBlock/DecodeBlock); this
 * file only parses and builds the SCRAM messages.
 *
 * Exchange, one struct scram_server per attempt:
 *
 *   scram_server_init(&s, mech);
 *   scram_server_first(&s, client_first, n)  -> 0, s.user is the user name
 *   scram_server_challenge(&s, cred or NULL, &out)  -> server-first in out
 *   scram_server_final(&s, client_final, n, &out) -> 0 and server-final,
 *                                                    or -ERR_AUTH
 *   scram_server_release(&s);
 *
 * An unknown user gets a challenge with a salt derived from its name and a
 * per-process secret (stable, like a real user's) and fails at the final
 * step like a wrong password, so the exchange does not tell which names
 * exist.  The server keeps that secret in a static: one event-loop thread
 * runs exchanges.  Message parsers (scram_parse_*) are pure and are what
 * tests/fuzz/fuzz_scram.c exercises.  Not thread-safe per struct; the
 * functions share no state.
 */
#ifndef SLUICE_STORE_AUTH_SCRAM_H
#define SLUICE_STORE_AUTH_SCRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

enum scram_mech { SCRAM_SHA256 = 0, SCRAM_SHA512 = 1, SCRAM_MECHS };

#define SCRAM_KEY_MAX 64 /* SHA-512 output */
#define SCRAM_SALT_MAX 64
#define SCRAM_SALT_LEN 24  /* salt of new credentials */
#define SCRAM_NAME_MAX 128 /* user names */
#define SCRAM_NONCE_MAX 256
#define SCRAM_MSG_MAX 2048        /* longest client message accepted */
#define SCRAM_MIN_ITERATIONS 4096 /* RFC 7677; Kafka's minimum too */
#define SCRAM_MAX_ITERATIONS 1000000

struct scram_cred {
	int iterations;
	size_t salt_len;
	uint8_t salt[SCRAM_SALT_MAX];
	uint8_t stored_key[SCRAM_KEY_MAX];
	uint8_t server_key[SCRAM_KEY_MAX];
};

/* "SCRAM-SHA-256" / "SCRAM-SHA-512". */
const char *scram_mech_name(enum scram_mech m);
/* The mechanism named by s[0..n), or -ERR_NOT_FOUND. */
int scram_mech_parse(const char *s, size_t n);
/* Digest length: 32 or 64. */
size_t scram_key_len(enum scram_mech m);

/* Derive StoredKey and ServerKey from a password, salt and iteration count.
 * 0 or -ERR_INVALID (bad sizes) / -ENOMEM (libcrypto failed). */
int scram_cred_derive(enum scram_mech m, const char *pw, size_t pwlen, const uint8_t *salt,
		      size_t salt_len, int iterations, struct scram_cred *out);
/* The same from an already salted password (AlterUserScramCredentials
 * sends SaltedPassword = Hi(password, salt, i), never the password). */
int scram_cred_from_salted(enum scram_mech m, const uint8_t *salted, size_t len,
			   const uint8_t *salt, size_t salt_len, int iterations,
			   struct scram_cred *out);
/* The same with a fresh random salt. */
int scram_cred_new(enum scram_mech m, const char *pw, size_t pwlen, int iterations,
		   struct scram_cred *out);
/* Does password pw match the credential?  Constant-time comparison. */
bool scram_cred_check_password(enum scram_mech m, const struct scram_cred *c, const char *pw,
			       size_t pwlen);

/* ---------------------------------------------------------------- messages */

struct scram_client_first {
	char gs2[SCRAM_NAME_MAX + 16]; /* "n,," or "y,," or "n,a=NAME," */
	char user[SCRAM_NAME_MAX + 1]; /* saslname decoded (=2C, =3D) */
	char nonce[SCRAM_NONCE_MAX + 1];
	size_t bare_off; /* client-first-bare starts here */
	bool tokenauth;  /* the KIP-48 delegation-token extension */
};

struct scram_client_final {
	size_t without_proof_len; /* "c=...,r=...": the prefix before ",p=" */
	uint8_t cbind[SCRAM_NAME_MAX + 16];
	size_t cbind_len; /* channel binding decoded */
	char nonce[2 * SCRAM_NONCE_MAX + 1];
	uint8_t proof[SCRAM_KEY_MAX];
	size_t proof_len;
};

/* Parse client-first-message m[0..n).  0 or -ERR_INVALID (malformed, channel
 * binding required, authzid differing from the user name) */
int scram_parse_client_first(const char *m, size_t n, struct scram_client_first *out);
/* Parse client-final-message.  0 or -ERR_INVALID. */
int scram_parse_client_final(const char *m, size_t n, struct scram_client_final *out);

/* ---------------------------------------------------------------- exchange */

enum scram_state { SCRAM_START, SCRAM_CHALLENGED, SCRAM_DONE, SCRAM_FAILED };

struct scram_server {
	enum scram_mech mech;
	enum scram_state state;
	bool known; /* the user exists */
	struct scram_client_first first;
	struct scram_cred cred;
	struct buf auth_msg; /* client-first-bare "," server-first */
	char nonce[2 * SCRAM_NONCE_MAX + 1];
};

void scram_server_init(struct scram_server *s, enum scram_mech mech);
/* Wipes keys. */
void scram_server_release(struct scram_server *s);
/* Take the client-first message.  0 (s->first.user names the user) or
 * -ERR_INVALID. */
int scram_server_first(struct scram_server *s, const uint8_t *m, size_t n);
/* Build the server-first message into out (appended).  cred NULL: unknown
 * user (the exchange will fail at the end).  0 or -ENOMEM. */
int scram_server_challenge(struct scram_server *s, const struct scram_cred *cred, struct buf *out);
/* Check the client-final message and build server-final into out.
 * 0, -ERR_INVALID (malformed, nonce or binding mismatch) or -ERR_AUTH
 * (wrong proof or unknown user). */
int scram_server_final(struct scram_server *s, const uint8_t *m, size_t n, struct buf *out);

/* Base64 (RFC 4648, padded) helpers on libcrypto.  Encode appends to out;
 * decode writes at most cap bytes and returns the length or -ERR_INVALID. */
int scram_b64_encode(const uint8_t *p, size_t n, struct buf *out);
int scram_b64_decode(const char *s, size_t n, uint8_t *out, size_t cap);

#endif
