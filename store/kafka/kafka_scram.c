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
#include "store/kafka/kmsg_gen.h"

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

#define DESCRIBE_RESULT \
	kmsg_describe_user_scram_credentials_resp_describe_user_scram_credentials_result
#define DESCRIBE_INFO kmsg_describe_user_scram_credentials_resp_credential_info
#define ALTER_RESULT kmsg_alter_user_scram_credentials_resp_alter_user_scram_credentials_result
#define UPSERTION kmsg_alter_user_scram_credentials_req_scram_credential_upsertion

static int fill_user(struct kafka_req *r, const struct users *u, const char *name, int16_t err,
		     struct DESCRIBE_RESULT *x)
{
	int iters[SCRAM_MECHS] = {0};
	int bits = err ? 0 : users_mechs(u, name, iters);
	struct DESCRIBE_INFO *ci;

	if (bits < 0) {
		err = KERR_RESOURCE_NOT_FOUND;
		bits = 0;
	}
	x->user = (char *)name;
	x->error_code = err;
	x->error_message = err == KERR_RESOURCE_NOT_FOUND   ? "no such user"
			   : err == KERR_DUPLICATE_RESOURCE ? "user named twice"
							    : NULL;
	ci = kmsg_new(&r->arena, DESCRIBE_INFO, SCRAM_MECHS);
	if (!ci)
		return -ENOMEM;
	for (int m = 0; m < SCRAM_MECHS; m++) {
		if (!(bits & (1 << m)))
			continue;
		ci[x->n_credential_infos].mechanism = (int8_t)(m == SCRAM_SHA256 ? 1 : 2);
		ci[x->n_credential_infos++].iterations = iters[m];
	}
	x->credential_infos = ci;
	return 0;
}

void kafka_scram_describe_handle(struct kafka_req *r)
{
	const struct kmsg_describe_user_scram_credentials_req *q = r->body;
	const struct users *u = auth_users(r->ctx->auth);
	struct kmsg_describe_user_scram_credentials_resp *m =
		kmsg_new(&r->arena, kmsg_describe_user_scram_credentials_resp, 1);
	int16_t err = cluster_admin(r) ? KERR_NONE : KERR_CLUSTER_AUTHORIZATION_FAILED;
	int32_t n = err ? 0 : q->n_users > 0 ? q->n_users : u ? (int32_t)users_count(u) : 0;
	struct DESCRIBE_RESULT *res = kmsg_new(&r->arena, DESCRIBE_RESULT, n);
	int rc = m && res ? 0 : -ENOMEM;

	kafka_req_note(r, err);
	for (int32_t i = 0; rc == 0 && i < n; i++) {
		int16_t uerr = KERR_NONE;

		if (q->n_users <= 0) {
			rc = fill_user(r, u, users_name(u, (size_t)i), KERR_NONE, &res[i]);
			continue;
		}
		if (!u)
			uerr = KERR_RESOURCE_NOT_FOUND;
		for (int32_t k = 0; k < i; k++)
			if (strcmp(q->users[k].name, q->users[i].name) == 0)
				uerr = KERR_DUPLICATE_RESOURCE;
		rc = fill_user(r, u, q->users[i].name, uerr, &res[i]);
	}
	if (rc < 0) {
		kafka_req_begin(r)->err = rc;
		kafka_req_finish(r);
		return;
	}
	m->error_code = err;
	m->error_message = err ? "describing users needs cluster admin" : NULL;
	m->n_results = n;
	m->results = res;
	kafka_req_respond(r, m);
}

/* ---------------------------------------------------------------- Alter */

static int16_t apply_upsert(struct users *u, const struct UPSERTION *x)
{
	struct scram_cred c;
	int m = mech_from_kafka(x->mechanism);
	int rc;

	if (m < 0)
		return KERR_UNSUPPORTED_SASL_MECHANISM;
	if (x->iterations < SCRAM_MIN_ITERATIONS || x->iterations > KAFKA_SCRAM_MAX_ITERATIONS ||
	    x->salt.n <= 0 || x->salted_password.n <= 0 ||
	    !users_name_valid(x->name, strlen(x->name)))
		return KERR_UNACCEPTABLE_CREDENTIAL;
	rc = scram_cred_from_salted((enum scram_mech)m, x->salted_password.p,
				    (size_t)x->salted_password.n, x->salt.p, (size_t)x->salt.n,
				    x->iterations, &c);
	if (rc == 0)
		rc = users_put_cred(u, x->name, (enum scram_mech)m, &c);
	memset(&c, 0, sizeof(c));
	return rc == -ENOMEM ? KERR_UNKNOWN_SERVER_ERROR
	       : rc < 0      ? KERR_UNACCEPTABLE_CREDENTIAL
			     : KERR_NONE;
}

/* Index of name in res[0..*n), appended when new. */
static int32_t user_slot(struct ALTER_RESULT *res, int32_t *n, const char *name)
{
	for (int32_t i = 0; i < *n; i++)
		if (strcmp(res[i].user, name) == 0)
			return i;
	res[*n].user = (char *)name;
	res[*n].error_code = KERR_NONE;
	return (*n)++;
}

void kafka_scram_alter_handle(struct kafka_req *r)
{
	const struct kmsg_alter_user_scram_credentials_req *q = r->body;
	struct users *u = auth_users_rw(r->ctx->auth);
	int32_t ndel = q->n_deletions > 0 ? q->n_deletions : 0;
	int32_t total = ndel + (q->n_upsertions > 0 ? q->n_upsertions : 0), n = 0;
	struct kmsg_alter_user_scram_credentials_resp *m =
		kmsg_new(&r->arena, kmsg_alter_user_scram_credentials_resp, 1);
	struct ALTER_RESULT *res = kmsg_new(&r->arena, ALTER_RESULT, total);
	int16_t deny = cluster_admin(r) ? KERR_NONE : KERR_CLUSTER_AUTHORIZATION_FAILED;
	bool changed = false;

	if (!m || !res) {
		kafka_req_begin(r)->err = -ENOMEM;
		kafka_req_finish(r);
		return;
	}
	if (!deny && !u)
		deny = KERR_UNKNOWN_SERVER_ERROR; /* no auth.users_file */
	for (int32_t i = 0; i < total; i++) {
		bool del = i < ndel;
		const char *name = del ? q->deletions[i].name : q->upsertions[i - ndel].name;
		int32_t s = user_slot(res, &n, name);
		int16_t err = deny;

		if (!err && del) {
			int mech = mech_from_kafka(q->deletions[i].mechanism);

			err = mech < 0 ? KERR_UNSUPPORTED_SASL_MECHANISM
			      : users_drop_cred(u, name, (enum scram_mech)mech) < 0
				      ? KERR_RESOURCE_NOT_FOUND
				      : KERR_NONE;
		} else if (!err) {
			err = apply_upsert(u, &q->upsertions[i - ndel]);
		}
		changed = changed || !err;
		if (!res[s].error_code)
			res[s].error_code = err;
	}
	if (changed && users_save(u, auth_users_path(r->ctx->auth)) < 0) {
		log_error("kafka: AlterUserScramCredentials: cannot write %s",
			  auth_users_path(r->ctx->auth));
		for (int32_t i = 0; i < n; i++)
			if (!res[i].error_code)
				res[i].error_code = KERR_KAFKA_STORAGE_ERROR;
	}
	if (changed)
		log_info("kafka: %s changed SCRAM credentials (%d users)", kafka_authz_principal(r),
			 (int)n);
	for (int32_t i = 0; i < n; i++) {
		kafka_req_note(r, res[i].error_code);
		if (res[i].error_code == KERR_CLUSTER_AUTHORIZATION_FAILED)
			res[i].error_message = "changing users needs cluster admin";
	}
	m->n_results = n;
	m->results = res;
	kafka_req_respond(r, m);
}
