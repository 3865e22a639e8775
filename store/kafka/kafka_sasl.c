/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SaslHandshake, SaslAuthenticate, bare-token (v0) frames and the session
 * gate.  One SASL step (sasl_step) serves both framings: it takes a client
 * token and yields the server token, success or a refusal reason.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "store/auth/scram.h"
#include "store/kafka/kafka_api.h"
#include "store/kafka/kafka_req.h"
#include "store/kafka/kafka_sasl.h"
#include "store/kafka/kmsg_gen.h"

#define PLAIN_MAX 2048

enum step { STEP_CONTINUE, STEP_DONE, STEP_FAILED };

/* Refusal lines, at most one a second: a password guesser or a flood of
 * unauthenticated connections must not flood the log (the counters count
 * every one). */
static struct log_ratelimit rl_refuse;

static const struct {
	unsigned bit;
	const char *name;
} mech_names[] = {
	{AUTH_MECH_SCRAM_SHA512, "SCRAM-SHA-512"},
	{AUTH_MECH_SCRAM_SHA256, "SCRAM-SHA-256"},
	{AUTH_MECH_PLAIN, "PLAIN"},
};

#define NMECHS (sizeof(mech_names) / sizeof(mech_names[0]))

static void drop_scram(struct kafka_sess *s)
{
	if (s->scram) {
		scram_server_release(s->scram);
		OPENSSL_cleanse(s->scram, sizeof(*s->scram));
		mem_free(s->scram);
		s->scram = NULL;
	}
}

void kafka_sess_release(struct kafka_sess *s)
{
	drop_scram(s);
}

void kafka_sess_set_principal(struct kafka_sess *s, const char *principal)
{
	snprintf(s->principal, sizeof(s->principal), "%s", principal);
}

int kafka_sess_gate(struct kafka_sess *s, struct auth *a, int16_t api_key)
{
	if (s->failed)
		return -ERR_AUTH;
	if (api_key == KAFKA_API_VERSIONS || api_key == KAFKA_SASL_HANDSHAKE ||
	    api_key == KAFKA_SASL_AUTHENTICATE)
		return 0;
	if (!s->authenticated) {
		auth_count(a, AUTH_KAFKA, AUTH_UNAUTHENTICATED);
		return -ERR_AUTH;
	}
	if (s->expire_ns && clock_mono_ns() > s->expire_ns) {
		auth_count(a, AUTH_KAFKA, AUTH_SESSION_EXPIRED);
		return -ERR_AUTH;
	}
	return 0;
}

int kafka_sasl_parse_header(struct kafka_sess *s, struct kafka_req *r)
{
	if (!s->ready) {
		/* first frame of the connection: the listener's mechanisms, and the
		 * anonymous principal unless the transport set one */
		s->ready = true;
		s->mechs = auth_sasl_mechs(r->ctx->auth);
		s->authenticated = s->mechs == 0;
		if (!s->principal[0])
			kafka_sess_set_principal(s, ACL_ANONYMOUS);
	}
	r->sess = s;
	if (!s->raw)
		return kafka_api_parse_header(r->frame, r->frame_len, &r->arena, &r->hdr);
	memset(&r->hdr, 0, sizeof(r->hdr));
	r->hdr.api_key = KAFKA_SASL_AUTHENTICATE;
	r->hdr.api_version = -1;
	return 0;
}

void kafka_sasl_handle(struct kafka_req *r)
{
	if (kafka_sess_gate(r->sess, r->ctx->auth, r->hdr.api_key) < 0) {
		log_write_rl(&rl_refuse, 1000, LOG_LVL_INFO, "kafka: %s: %s %s; closing", r->peer,
			     r->api->name,
			     r->sess->failed ? "after a failed authentication"
			     : r->sess->authenticated
				     ? "after the SASL session expired (re-authenticate)"
				     : "before SASL authentication");
		r->ctx->req_fail(r);
		return;
	}
	r->api->handle(r);
}

/* ---------------------------------------------------------------- one step */

/* PLAIN (RFC 4616): [authzid] NUL authcid NUL passwd. */
static enum step plain_step(struct kafka_sess *s, const struct users *u, const uint8_t *tok,
			    size_t n, char *user, size_t ucap, enum auth_reason *why)
{
	const uint8_t *z1, *z2;
	size_t alen, ulen;

	(void)s;
	*why = AUTH_MALFORMED;
	if (n > PLAIN_MAX)
		return STEP_FAILED;
	z1 = memchr(tok, '\0', n);
	if (!z1)
		return STEP_FAILED;
	z2 = memchr(z1 + 1, '\0', n - (size_t)(z1 + 1 - tok));
	if (!z2 || memchr(z2 + 1, '\0', n - (size_t)(z2 + 1 - tok)))
		return STEP_FAILED;
	alen = (size_t)(z1 - tok);
	ulen = (size_t)(z2 - z1 - 1);
	if (ulen == 0 || ulen >= ucap || (alen && (alen != ulen || memcmp(tok, z1 + 1, ulen))))
		return STEP_FAILED;
	*why = AUTH_BAD_CREDENTIALS;
	memcpy(user, z1 + 1, ulen);
	user[ulen] = '\0';
	if (!users_name_valid(user, ulen) ||
	    !users_check_password(u, user, (const char *)z2 + 1, n - (size_t)(z2 + 1 - tok)))
		return STEP_FAILED;
	return STEP_DONE;
}

static enum step scram_step(struct kafka_sess *s, const struct users *u, const uint8_t *tok,
			    size_t n, struct buf *out, char *user, size_t ucap,
			    enum auth_reason *why)
{
	enum scram_mech m = s->mech == AUTH_MECH_SCRAM_SHA512 ? SCRAM_SHA512 : SCRAM_SHA256;
	int rc;

	*why = AUTH_MALFORMED;
	if (!s->scram) {
		s->scram = mem_alloc(sizeof(*s->scram));
		if (!s->scram)
			return STEP_FAILED;
		scram_server_init(s->scram, m);
		if (scram_server_first(s->scram, tok, n) < 0)
			return STEP_FAILED;
		if (scram_server_challenge(s->scram, users_find(u, s->scram->first.user, m), out) <
		    0)
			return STEP_FAILED;
		return STEP_CONTINUE;
	}
	rc = scram_server_final(s->scram, tok, n, out);
	if (rc == -ERR_AUTH)
		*why = AUTH_BAD_CREDENTIALS;
	if (rc < 0)
		return STEP_FAILED;
	snprintf(user, ucap, "%s", s->scram->first.user);
	drop_scram(s);
	return STEP_DONE;
}

/* Run one token through the chosen mechanism; on STEP_DONE the session is
 * authenticated (or, re-authenticating as someone else, refused). */
static enum step sasl_step(struct kafka_sess *s, struct auth *a, const uint8_t *tok, size_t n,
			   struct buf *out)
{
	char user[SCRAM_NAME_MAX + 1] = "", principal[AUTH_PRINCIPAL_MAX];
	enum auth_reason why = AUTH_MALFORMED;
	enum step st;

	if (!tok)
		tok = (const uint8_t *)"";
	if (s->mech == AUTH_MECH_PLAIN)
		st = plain_step(s, auth_users(a), tok, n, user, sizeof(user), &why);
	else
		st = scram_step(s, auth_users(a), tok, n, out, user, sizeof(user), &why);
	if (st == STEP_DONE) {
		snprintf(principal, sizeof(principal), "User:%s", user);
		if (s->ever_authenticated && strcmp(principal, s->principal) != 0) {
			why = AUTH_REAUTH_PRINCIPAL;
			st = STEP_FAILED;
		}
	}
	if (st == STEP_FAILED) {
		drop_scram(s);
		s->failed = true;
		s->authenticated = false;
		auth_count(a, AUTH_KAFKA, why);
		return st;
	}
	if (st == STEP_DONE) {
		int64_t life = auth_reauth_ms(a);

		kafka_sess_set_principal(s, principal);
		s->authenticated = true;
		s->ever_authenticated = true;
		s->mech = 0;
		s->raw = false;
		s->expire_ns = life > 0 ? clock_mono_ns() + (uint64_t)life * 1000000u : 0;
		log_debug("kafka: authenticated %s", principal);
	}
	return st;
}

/* ---------------------------------------------------------------- SaslHandshake */

void kafka_sasl_handshake_handle(struct kafka_req *r)
{
	const struct kmsg_sasl_handshake_req *q = r->body;
	struct kafka_sess *s = r->sess;
	unsigned bit = auth_mech_bit(q->mechanism, strlen(q->mechanism));
	struct kmsg_sasl_handshake_resp *m = kmsg_new(&r->arena, kmsg_sasl_handshake_resp, 1);
	char **names = arena_calloc(&r->arena, NMECHS, sizeof(*names));

	if (!m || !names) {
		kafka_req_begin(r)->err = -ENOMEM;
		kafka_req_finish(r);
		return;
	}
	if (!s->mechs) {
		m->error_code = KERR_ILLEGAL_SASL_STATE; /* this listener has no SASL */
	} else if (!(bit & s->mechs)) {
		m->error_code = KERR_UNSUPPORTED_SASL_MECHANISM;
		auth_count(r->ctx->auth, AUTH_KAFKA, AUTH_BAD_MECHANISM);
	} else {
		drop_scram(s);
		s->mech = bit;
		s->raw = r->hdr.api_version == 0;
	}
	for (size_t i = 0; i < NMECHS; i++)
		if (s->mechs & mech_names[i].bit)
			names[m->n_mechanisms++] = (char *)mech_names[i].name;
	m->mechanisms = names;
	kafka_req_note(r, m->error_code);
	kafka_req_respond(r, m);
}

/* ---------------------------------------------------------------- SaslAuthenticate */

void *kafka_sasl_authenticate_decode(struct kwire_dec *d, int16_t v)
{
	struct kmsg_sasl_authenticate_req *q;

	if (v >= 0)
		return kschema_decode(&kmsg_sasl_authenticate_req_msg, v, d);
	/* a bare token after handshake v0: the whole frame */
	q = kwire_alloc(d, 1, sizeof(*q));
	if (!q)
		return NULL;
	q->auth_bytes.n = (int32_t)kwire_dec_left(d);
	q->auth_bytes.p = cursor_take(&d->c, (size_t)q->auth_bytes.n);
	return kwire_dec_ok(d) ? q : NULL;
}

static void sasl_raw(struct kafka_req *r)
{
	const struct kmsg_sasl_authenticate_req *q = r->body;
	struct kafka_sess *s = r->sess;
	struct buf out;
	enum step st;

	buf_init(&out, 2 * SCRAM_MSG_MAX);
	st = sasl_step(s, r->ctx->auth, q->auth_bytes.p, (size_t)q->auth_bytes.n, &out);
	if (st == STEP_FAILED) {
		/* a v0 client learns of the failure by the connection closing */
		log_write_rl(&rl_refuse, 1000, LOG_LVL_INFO,
			     "kafka: %s: SASL authentication failed; closing", r->peer);
		kafka_req_note(r, KERR_SASL_AUTHENTICATION_FAILED);
		buf_release(&out);
		r->ctx->req_fail(r);
		return;
	}
	r->started = true;
	buf_reset(&r->out);
	kwire_enc_init(&r->enc, &r->out, false);
	kwire_put_i32(&r->enc, 0); /* size, patched by finish */
	kwire_put_raw(&r->enc, out.data, out.len);
	buf_release(&out);
	kafka_req_finish(r);
}

void kafka_sasl_authenticate_handle(struct kafka_req *r)
{
	const struct kmsg_sasl_authenticate_req *q = r->body;
	struct kafka_sess *s = r->sess;
	struct kmsg_sasl_authenticate_resp m;
	struct buf out;
	enum step st = STEP_FAILED;
	const char *mech = "-";
	char text[160];

	if (r->hdr.api_version < 0) {
		sasl_raw(r);
		return;
	}
	kschema_init(&kmsg_sasl_authenticate_resp_st, &m);
	buf_init(&out, 2 * SCRAM_MSG_MAX);
	for (size_t i = 0; i < NMECHS; i++)
		if (mech_names[i].bit == s->mech)
			mech = mech_names[i].name;
	if (!s->mech || s->raw) {
		m.error_code = KERR_ILLEGAL_SASL_STATE;
		m.error_message = "SaslAuthenticate without a SaslHandshake v1";
		s->failed = true;
		auth_count(r->ctx->auth, AUTH_KAFKA, AUTH_MALFORMED);
	} else {
		/* a null token is an empty one */
		st = sasl_step(s, r->ctx->auth, q->auth_bytes.p,
			       q->auth_bytes.n > 0 ? (size_t)q->auth_bytes.n : 0, &out);
		if (st == STEP_FAILED) {
			m.error_code = KERR_SASL_AUTHENTICATION_FAILED;
			snprintf(text, sizeof(text),
				 "Authentication failed: invalid credentials with "
				 "SASL mechanism %s",
				 mech);
			m.error_message = text;
			log_write_rl(&rl_refuse, 1000, LOG_LVL_INFO,
				     "kafka: %s: SASL %s authentication failed; closing", r->peer,
				     mech);
		}
	}
	m.auth_bytes.p = out.data;
	m.auth_bytes.n = (int32_t)out.len;
	m.session_lifetime_ms = st == STEP_DONE ? auth_reauth_ms(r->ctx->auth) : 0;
	if (s->failed)
		r->close_after = true;
	kafka_req_note(r, m.error_code);
	kafka_req_respond(r, &m); /* encodes now: out and text may go after */
	buf_release(&out);
}
