/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kafka request authorization: thin wrappers from a request to the shared
 * auth model, plus the Kafka-specific pieces (producer ids inside record
 * batches, KIP-430 operation bit sets).
 */
#include <string.h>

#include "lib/batch.h"
#include "store/auth/auth.h"
#include "store/kafka/kafka_api.h"
#include "store/kafka/kafka_authz.h"
#include "store/kafka/kafka_req.h"

/* org.apache.kafka.common.acl.AclOperation codes */
enum {
	OP_READ = 3,
	OP_WRITE = 4,
	OP_CREATE = 5,
	OP_DELETE = 6,
	OP_ALTER = 7,
	OP_DESCRIBE = 8,
	OP_CLUSTER_ACTION = 9,
	OP_DESCRIBE_CONFIGS = 10,
	OP_ALTER_CONFIGS = 11,
	OP_IDEMPOTENT_WRITE = 12,
};

static const char *principal(const struct kafka_req *r)
{
	return r->sess && r->sess->principal[0] ? r->sess->principal : ACL_ANONYMOUS;
}

const char *kafka_authz_principal(const struct kafka_req *r)
{
	return principal(r);
}

bool kafka_authz_topic(struct kafka_req *r, const char *topic, unsigned perm)
{
	if (perm == 0) {
		if (auth_perms(r->ctx->auth, principal(r), ACL_TOPIC, topic))
			return true;
		auth_count(r->ctx->auth, AUTH_KAFKA, AUTH_DENIED);
		return false;
	}
	return auth_allowed(r->ctx->auth, AUTH_KAFKA, principal(r), ACL_TOPIC, topic, perm);
}

bool kafka_authz_group(struct kafka_req *r, const char *group, unsigned perm)
{
	return auth_allowed(r->ctx->auth, AUTH_KAFKA, principal(r), ACL_GROUP, group, perm);
}

bool kafka_authz_txn(struct kafka_req *r, const char *tid)
{
	return auth_allowed(r->ctx->auth, AUTH_KAFKA, principal(r), ACL_TXN, tid, ACL_PRODUCE);
}

bool kafka_authz_may(struct kafka_req *r, enum acl_res kind, const char *name, unsigned perm)
{
	if (perm == 0)
		return auth_perms(r->ctx->auth, principal(r), kind, name) != 0;
	return auth_may(r->ctx->auth, principal(r), kind, name, perm);
}

int16_t kafka_authz_producer_ids(struct kafka_req *r, const uint8_t *records, int32_t len)
{
	size_t off = 0;

	while (records && len > 0 && off < (size_t)len) {
		struct batch_info bi;

		if (batch_next(records + off, (size_t)len - off, &bi) < 0)
			break; /* validation reports it */
		if (bi.producer_id >= 0 &&
		    auth_producer_check(r->ctx->auth, AUTH_KAFKA, bi.producer_id, principal(r)) < 0)
			return KERR_INVALID_PRODUCER_ID_MAPPING;
		off += bi.size;
	}
	return KERR_NONE;
}

int32_t kafka_authz_topic_ops(struct kafka_req *r, const char *topic)
{
	unsigned p = auth_perms(r->ctx->auth, principal(r), ACL_TOPIC, topic);
	int32_t ops = 0;

	if (p)
		ops |= 1 << OP_DESCRIBE | 1 << OP_DESCRIBE_CONFIGS;
	if (p & ACL_CONSUME)
		ops |= 1 << OP_READ;
	if (p & ACL_PRODUCE)
		ops |= 1 << OP_WRITE;
	if (p & ACL_ADMIN)
		ops |= 1 << OP_CREATE | 1 << OP_DELETE | 1 << OP_ALTER | 1 << OP_ALTER_CONFIGS;
	return ops;
}

int32_t kafka_authz_cluster_ops(struct kafka_req *r)
{
	int32_t ops = 0;

	if (auth_may(r->ctx->auth, principal(r), ACL_TOPIC, NULL, ACL_PRODUCE))
		ops |= 1 << OP_IDEMPOTENT_WRITE;
	if (auth_may(r->ctx->auth, principal(r), ACL_CLUSTER, NULL, ACL_ADMIN))
		ops |= 1 << OP_DESCRIBE | 1 << OP_ALTER | 1 << OP_CREATE |
		       1 << OP_DESCRIBE_CONFIGS | 1 << OP_ALTER_CONFIGS | 1 << OP_CLUSTER_ACTION;
	return ops;
}
