/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Describe/AlterUserScramCredentials over the users file.  Results are per
 * distinct user, in the order the request names them, each carrying the
 * first error any of that user's operations met (as a Kafka broker answers).
 */
#include <errno.h>
#include <string.h>

#include "lib/err.h"
#include "lib/log.h"
#include "store/auth/auth.h"
#include "store/kafka/kafka_api.h"
#include "store/kafka/kafka_authz.h"
#include "store/kafka/kafka_req.h"
#include "store/kafka/kafka_scram.h"

#define KERR_RESOURCE_NOT_FOUND 91
#define KERR_DUPLICATE_RESOURCE 92
#define KERR_UNACCEPTABLE_CREDENTIAL 93
#define KAFKA_SCRAM_MAX_ITERATIONS 16384 /* Kafka's own bound */

/* Kafka's ScramMechanism codes: 1 SHA-256, 2 SHA-512; -1 for others. */
static int mech_from_kafka(int8_t m)
{
	return m == 1 ? SCRAM_SHA256 : m == 2 ? SCRAM_SHA512 : -1;
}

/* cluster admin in the ACL; without an ACL file, any SASL-authenticated
 * principal — never an anonymous client of a listener without SASL. */
static bool cluster_admin(struct kafka_req *r)
{
	bool anonymous_open = !auth_acl_enabled(r->ctx->auth) && !auth_sasl_mechs(r->ctx->auth);

	if (!anonymous_open && kafka_authz_may(r, ACL_CLUSTER, NULL, ACL_ADMIN))
		return true;
	auth_count(r->ctx->auth, AUTH_KAFKA, AUTH_DENIED);
	return false;
}

/* ---------------------------------------------------------------- Describe */

void *kafka_scram_describe_decode(struct kwire_dec *d, int16_t v)
{
	struct kafka_scram_describe_req *q = kwire_alloc(d, 1, sizeof(*q));

	(void)v;
	if (!q)
		return NULL;
	q->nusers = kwire_get_array(d, 2);
	q->users = kwire_alloc(d, q->nusers, sizeof(*q->users));
	for (int32_t i = 0; i < q->nusers && kwire_dec_ok(d); i++) {
		q->users[i] = kwire_get_str(d);
		kwire_get_tags(d);
	}
	kwire_get_tags(d);
	return kwire_dec_ok(d) ? q : NULL;
}

static void put_user(struct kwire_enc *e, const struct users *u, const char *name, int16_t err)
{
	int iters[SCRAM_MECHS] = {0};
	int bits = err ? 0 : users_mechs(u, name, iters);

	if (bits < 0) {
		err = KERR_RESOURCE_NOT_FOUND;
		bits = 0;
	}
	kwire_put_str(e, name);
	kwire_put_i16(e, err);
	kwire_put_str(e, err == KERR_RESOURCE_NOT_FOUND   ? "no such user"
			 : err == KERR_DUPLICATE_RESOURCE ? "user named twice"
							  : NULL);
	kwire_put_array(e, __builtin_popcount((unsigned)bits));
	for (int m = 0; m < SCRAM_MECHS; m++) {
		if (!(bits & (1 << m)))
			continue;
		kwire_put_i8(e, (int8_t)(m == SCRAM_SHA256 ? 1 : 2));
		kwire_put_i32(e, iters[m]);
		kwire_put_tags(e);
	}
	kwire_put_tags(e);
}

void kafka_scram_describe_handle(struct kafka_req *r)
{
	struct kafka_scram_describe_req *q = r->body;
	const struct users *u = auth_users(r->ctx->auth);
	struct kwire_enc *e = kafka_req_begin(r);
	int16_t err = cluster_admin(r) ? KERR_NONE : KERR_CLUSTER_AUTHORIZATION_FAILED;
	size_t n = u ? users_count(u) : 0;

	kafka_req_note(r, err);
	kwire_put_i32(e, 0); /* throttle_time_ms */
	kwire_put_i16(e, err);
	kwire_put_str(e, err ? "describing users needs cluster admin" : NULL);
	if (err) {
		kwire_put_array(e, 0);
	} else if (q->nusers <= 0) {
		kwire_put_array(e, (int32_t)n);
		for (size_t i = 0; i < n; i++)
			put_user(e, u, users_name(u, i), KERR_NONE);
	} else {
		kwire_put_array(e, q->nusers);
		for (int32_t i = 0; i < q->nusers; i++) {
			int16_t uerr = u ? KERR_NONE : KERR_RESOURCE_NOT_FOUND;

			for (int32_t k = 0; k < i; k++)
				if (strcmp(q->users[k], q->users[i]) == 0)
					uerr = KERR_DUPLICATE_RESOURCE;
			put_user(e, u, q->users[i], uerr);
		}
	}
	kwire_put_tags(e);
	kafka_req_finish(r);
}

/* ---------------------------------------------------------------- Alter */

void *kafka_scram_alter_decode(struct kwire_dec *d, int16_t v)
{
	struct kafka_scram_alter_req *q = kwire_alloc(d, 1, sizeof(*q));

	(void)v;
	if (!q)
		return NULL;
	q->ndeletions = kwire_get_array(d, 3);
	q->del_names = kwire_alloc(d, q->ndeletions, sizeof(*q->del_names));
	q->del_mechs = kwire_alloc(d, q->ndeletions, sizeof(*q->del_mechs));
	for (int32_t i = 0; i < q->ndeletions && kwire_dec_ok(d); i++) {
		q->del_names[i] = kwire_get_str(d);
		q->del_mechs[i] = kwire_get_i8(d);
		kwire_get_tags(d);
	}
	q->nupserts = kwire_get_array(d, 9);
	q->upserts = kwire_alloc(d, q->nupserts, sizeof(*q->upserts));
	for (int32_t i = 0; i < q->nupserts && kwire_dec_ok(d); i++) {
		struct kafka_scram_upsert *x = &q->upserts[i];

		x->name = kwire_get_str(d);
		x->mechanism = kwire_get_i8(d);
		x->iterations = kwire_get_i32(d);
		x->salt_len = kwire_get_bytes(d, &x->salt);
		x->salted_len = kwire_get_bytes(d, &x->salted);
		kwire_get_tags(d);
	}
	kwire_get_tags(d);
	if (q->ndeletions < 0 || q->nupserts < 0)
		kwire_dec_fail(d);
	return kwire_dec_ok(d) ? q : NULL;
}

static int16_t apply_upsert(struct users *u, const struct kafka_scram_upsert *x)
{
	struct scram_cred c;
	int m = mech_from_kafka(x->mechanism);
	int rc;

	if (m < 0)
		return KERR_UNSUPPORTED_SASL_MECHANISM;
	if (x->iterations < SCRAM_MIN_ITERATIONS || x->iterations > KAFKA_SCRAM_MAX_ITERATIONS ||
	    !x->salt || !x->salted || !users_name_valid(x->name, strlen(x->name)))
		return KERR_UNACCEPTABLE_CREDENTIAL;
	rc = scram_cred_from_salted((enum scram_mech)m, x->salted, (size_t)x->salted_len, x->salt,
				    (size_t)x->salt_len, x->iterations, &c);
	if (rc == 0)
		rc = users_put_cred(u, x->name, (enum scram_mech)m, &c);
	memset(&c, 0, sizeof(c));
	return rc == -ENOMEM ? KERR_UNKNOWN_SERVER_ERROR
	       : rc < 0      ? KERR_UNACCEPTABLE_CREDENTIAL
			     : KERR_NONE;
}

/* Index of name in names[0..*n), appended when new. */
static int32_t user_slot(const char **names, int16_t *errs, int32_t *n, const char *name)
{
	for (int32_t i = 0; i < *n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	names[*n] = name;
	errs[*n] = KERR_NONE;
	return (*n)++;
}

void kafka_scram_alter_handle(struct kafka_req *r)
{
	struct kafka_scram_alter_req *q = r->body;
	struct users *u = auth_users_rw(r->ctx->auth);
	int32_t total = q->ndeletions + q->nupserts, n = 0;
	const char **names = arena_calloc(&r->arena, total ? (size_t)total : 1, sizeof(*names));
	int16_t *errs = arena_calloc(&r->arena, total ? (size_t)total : 1, sizeof(*errs));
	int16_t deny = cluster_admin(r) ? KERR_NONE : KERR_CLUSTER_AUTHORIZATION_FAILED;
	bool changed = false;
	struct kwire_enc *e;

	if (!names || !errs) {
		r->enc.err = -ENOMEM;
		kafka_req_finish(r);
		return;
	}
	if (!deny && !u)
		deny = KERR_UNKNOWN_SERVER_ERROR; /* no auth.users_file */
	for (int32_t i = 0; i < total; i++) {
		bool del = i < q->ndeletions;
		const char *name = del ? q->del_names[i] : q->upserts[i - q->ndeletions].name;
		int32_t s = user_slot(names, errs, &n, name);
		int16_t err = deny;

		if (!err && del) {
			int m = mech_from_kafka(q->del_mechs[i]);

			err = m < 0 ? KERR_UNSUPPORTED_SASL_MECHANISM
			      : users_drop_cred(u, name, (enum scram_mech)m) < 0
				      ? KERR_RESOURCE_NOT_FOUND
				      : KERR_NONE;
		} else if (!err) {
			err = apply_upsert(u, &q->upserts[i - q->ndeletions]);
		}
		changed = changed || !err;
		if (!errs[s])
			errs[s] = err;
	}
	if (changed && users_save(u, auth_users_path(r->ctx->auth)) < 0) {
		log_error("kafka: AlterUserScramCredentials: cannot write %s",
			  auth_users_path(r->ctx->auth));
		for (int32_t i = 0; i < n; i++)
			if (!errs[i])
				errs[i] = KERR_KAFKA_STORAGE_ERROR;
	}
	if (changed)
		log_info("kafka: %s changed SCRAM credentials (%d users)", kafka_authz_principal(r),
			 (int)n);
	e = kafka_req_begin(r);
	kwire_put_i32(e, 0); /* throttle_time_ms */
	kwire_put_array(e, n);
	for (int32_t i = 0; i < n; i++) {
		kafka_req_note(r, errs[i]);
		kwire_put_str(e, names[i]);
		kwire_put_i16(e, errs[i]);
		kwire_put_str(e, errs[i] == KERR_CLUSTER_AUTHORIZATION_FAILED
					 ? "changing users needs cluster admin"
					 : NULL);
		kwire_put_tags(e);
	}
	kwire_put_tags(e);
	kafka_req_finish(r);
}
