/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CreateTopics, DeleteTopics and CreatePartitions, on the schema framework
 * (ListOffsets is in kafka_listoffsets.c, InitProducerId in kafka_txn.c).
 *
 * Topic configs follow Kafka's table (kafka_topic_cfg.h): the ones the log
 * engine implements are applied, the others validated, recorded with the
 * topic and reported; an unknown name or invalid value is INVALID_CONFIG
 * with Kafka's message, so a typo never passes silently.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/batch.h"
#include "lib/codec.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/topic_name.h"
#include "store/kafka/kafka_admin.h"
#include "store/kafka/kafka_api.h"
#include "store/kafka/kafka_authz.h"
#include "store/auth/auth.h"
#include "store/kafka/kafka_req.h"
#include "store/kafka/kafka_topic_cfg.h"
#include "store/kafka/kmsg_gen.h"
#include "store/engine/engine.h"

#define RESOURCE_TOPIC 2
#define RESOURCE_BROKER 4
#define CONFIG_SOURCE_TOPIC 1
#define CONFIG_SOURCE_DEFAULT 5
#define CONFIG_TYPE_STRING 2
#define CONFIG_TYPE_INT 3
#define CONFIG_TYPE_LONG 5
#define CONFIG_TYPE_LIST 7
#define MAX_TOPIC_PARTITIONS 10000

/* ---------------------------------------------------------------- CreateTopics */

typedef struct kmsg_create_topics_req_creatable_topic ct_topic;
typedef struct kmsg_create_topics_resp_creatable_topic_result ct_result;
typedef struct kmsg_create_topics_resp_creatable_topic_configs ct_config;

/* Manual assignments: only to broker 0, one replica, partitions 0..n-1
 * once each; -1 and *msg otherwise, else the partition count. */
static int32_t assigned_partitions(const ct_topic *t, int16_t *err, const char **msg)
{
	*err = KERR_INVALID_REPLICA_ASSIGNMENT;
	if (t->num_partitions != -1 || t->replication_factor != -1) {
		*err = KERR_INVALID_REQUEST;
		*msg = "with replica assignments, partitions and replication factor must be -1";
		return -1;
	}
	for (int32_t a = 0; a < t->n_assignments; a++) {
		const struct kmsg_create_topics_req_creatable_replica_assignment *x =
			&t->assignments[a];

		if (x->n_broker_ids != 1 || x->broker_ids[0] != 0) {
			*msg = "this store is one broker, node 0: assign every partition to [0]";
			return -1;
		}
		for (int32_t b = 0; b < a; b++) {
			if (t->assignments[b].partition_index == x->partition_index) {
				*msg = "assignments must name partitions 0..n-1 once each";
				return -1;
			}
		}
		if (x->partition_index < 0 || x->partition_index >= t->n_assignments) {
			*msg = "assignments must name partitions 0..n-1 once each";
			return -1;
		}
	}
	return t->n_assignments;
}

/* The topic's configs from the request onto the store's defaults. */
static int16_t topic_configs(struct kafka_req *r, const ct_topic *t, struct kafka_topic_cfg *cfg,
			     const char **msg)
{
	struct topic_config def;

	engine_topic_defaults(r->ctx->log, &def);
	kafka_topic_cfg_init(cfg, &def);
	for (int32_t c = 0; c < t->n_configs; c++) {
		char *m = arena_alloc(&r->arena, KAFKA_TOPIC_CFG_MSG_MAX);
		char scratch[KAFKA_TOPIC_CFG_MSG_MAX];
		int16_t err = kafka_topic_cfg_apply(cfg, KAFKA_CFG_SET, t->configs[c].name,
						    t->configs[c].value, m ? m : scratch,
						    KAFKA_TOPIC_CFG_MSG_MAX);

		if (err) {
			*msg = m ? m : "invalid topic config";
			return err;
		}
	}
	return KERR_NONE;
}

/* Check (and unless validate_only, create) one topic.  Returns the error
 * code, *msg for the response and the topic's configs in *out. */
static bool kuuid_zero(const struct kuuid *id)
{
	for (size_t i = 0; i < sizeof(id->b); i++)
		if (id->b[i])
			return false;
	return true;
}

static int16_t create_topic(struct kafka_req *r, const struct kmsg_create_topics_req *q, int32_t i,
			    const char **msg, struct kafka_topic_cfg *out)
{
	const ct_topic *t = &q->topics[i];
	struct topic_config tc;
	struct buf extra;
	int32_t parts = t->num_partitions;
	int16_t err;
	int rc;

	*msg = NULL;
	for (int32_t k = 0; k < i; k++) {
		if (strcmp(q->topics[k].name, t->name) == 0) {
			*msg = "topic named twice in the request";
			return KERR_INVALID_REQUEST;
		}
	}
	if (!topic_name_valid(t->name)) {
		*msg = "topic names are 1-249 of [a-zA-Z0-9._-], not '.' or '..'";
		return KERR_INVALID_TOPIC_EXCEPTION;
	}
	if (!kafka_authz_topic(r, t->name, ACL_ADMIN)) {
		*msg = "the principal has no admin grant on this topic";
		return KERR_TOPIC_AUTHORIZATION_FAILED;
	}
	if (t->n_assignments > 0) {
		parts = assigned_partitions(t, &err, msg);
		if (parts < 0)
			return err;
	} else if (t->replication_factor != -1 && t->replication_factor != 1) {
		*msg = t->replication_factor > 1
			       ? "replication factor larger than available brokers: 1"
			       : "replication factor must be positive";
		return KERR_INVALID_REPLICATION_FACTOR;
	}
	if (parts == -1) {
		/* the store's default at every version: KIP-464 made it legal in v4,
		 * and kafkajs sends it with v3 */
		parts = 0;
	} else if (parts <= 0 || parts > MAX_TOPIC_PARTITIONS) {
		*msg = "number of partitions must be 1..10000";
		return KERR_INVALID_PARTITIONS;
	}
	err = topic_configs(r, t, out, msg);
	if (err)
		return err;
	out->tc.partitions = parts ? parts : out->def.partitions;
	if (q->validate_only) {
		if (engine_topic_config(r->ctx->log, t->name, &tc) == 0) {
			*msg = "topic already exists";
			return KERR_TOPIC_ALREADY_EXISTS;
		}
		return KERR_NONE;
	}
	buf_init(&extra, 1u << 16);
	rc = kafka_topic_cfg_extra(out, &extra);
	if (rc == 0)
		rc = engine_topic_create_ex(r->ctx->log, t->name, &out->tc,
					    (const char *)extra.data);
	buf_release(&extra);
	if (rc == -ERR_EXISTS) {
		*msg = "topic already exists";
		return KERR_TOPIC_ALREADY_EXISTS;
	}
	if (rc == -ERR_INVALID) {
		*msg = "invalid topic configuration";
		return KERR_INVALID_CONFIG;
	}
	if (rc < 0) {
		*msg = err_str(rc);
		return kafka_api_error(rc);
	}
	if (engine_topic_config(r->ctx->log, t->name, &tc) == 0)
		out->tc = tc; /* as created */
	log_info("kafka: created topic %s for %s", t->name,
		 r->hdr.client_id ? r->hdr.client_id : "-");
	return KERR_NONE;
}

/* v5+ (KIP-525): the created topic's configs, as DescribeConfigs gives them. */
static int created_configs(struct kafka_req *r, const struct kafka_topic_cfg *c, ct_result *res)
{
	ct_config *x = kmsg_new(&r->arena, kmsg_create_topics_resp_creatable_topic_configs,
				KAFKA_TOPIC_CFG_N);

	if (!x)
		return -ENOMEM;
	for (size_t i = 0; i < KAFKA_TOPIC_CFG_N; i++) {
		char val[KAFKA_TOPIC_CFG_VAL_MAX];
		bool is_def = kafka_topic_cfg_value(c, i, val, sizeof(val));

		x[i].name = (char *)kafka_topic_cfg_def(i)->name;
		x[i].value = arena_strndup(&r->arena, val, strlen(val));
		if (!x[i].value)
			return -ENOMEM;
		x[i].config_source = is_def ? CONFIG_SOURCE_DEFAULT : CONFIG_SOURCE_TOPIC;
	}
	res->n_configs = KAFKA_TOPIC_CFG_N;
	res->configs = x;
	return 0;
}

/* No partial answer: the connection closes (kafka_req_finish). */
static void admin_fail(struct kafka_req *r, int rc)
{
	kafka_req_begin(r)->err = rc;
	kafka_req_finish(r);
}

void kafka_admin_createtopics_handle(struct kafka_req *r)
{
	const struct kmsg_create_topics_req *q = r->body;
	struct kmsg_create_topics_resp *m = kmsg_new(&r->arena, kmsg_create_topics_resp, 1);
	int32_t n = q->n_topics > 0 ? q->n_topics : 0;
	ct_result *res =
		kmsg_new(&r->arena, kmsg_create_topics_resp_creatable_topic_result, n ? n : 1);
	struct kafka_topic_cfg *cfg = arena_alloc(&r->arena, sizeof(*cfg));
	int rc = m && res && cfg ? 0 : -ENOMEM;

	for (int32_t i = 0; rc == 0 && i < n; i++) {
		const char *msg;

		res[i].name = q->topics[i].name;
		res[i].error_code = create_topic(r, q, i, &msg, cfg);
		res[i].error_message = (char *)msg;
		res[i].n_configs = -1;
		kafka_req_note(r, res[i].error_code);
		if (res[i].error_code)
			continue;
		res[i].num_partitions = cfg->tc.partitions;
		res[i].replication_factor = 1;
		if (!q->validate_only) /* v7: the new topic's id */
			(void)engine_topic_id(r->ctx->log, res[i].name, res[i].topic_id.b);
		rc = created_configs(r, cfg, &res[i]);
	}
	if (rc < 0) {
		admin_fail(r, rc);
		return;
	}
	m->n_topics = n;
	m->topics = res;
	kafka_req_respond(r, m);
}

/* ---------------------------------------------------------------- DeleteTopics */

typedef struct kmsg_delete_topics_resp_deletable_topic_result dt_result;

/* Delete one topic, named or (v6) by id; fills res. */
static void delete_topic(struct kafka_req *r, const char *name, const struct kuuid *id,
			 dt_result *res)
{
	char buf[TOPIC_NAME_MAX + 1];
	int rc;

	res->error_message = NULL;
	if (name && id && !kuuid_zero(id)) {
		res->name = (char *)name;
		res->topic_id = *id;
		res->error_code = KERR_INVALID_REQUEST;
		res->error_message = "You may not specify both topic name and topic id.";
		return;
	}
	if (!name) {
		res->topic_id = *id;
		if (engine_topic_by_id(r->ctx->log, id->b, buf, sizeof(buf)) < 0) {
			res->name = NULL;
			res->error_code = KERR_UNKNOWN_TOPIC_ID;
			res->error_message = "This server does not host this topic ID.";
			return;
		}
		name = arena_strndup(&r->arena, buf, strlen(buf));
		if (!name) {
			res->error_code = KERR_UNKNOWN_SERVER_ERROR;
			return;
		}
	} else {
		(void)engine_topic_id(r->ctx->log, name, res->topic_id.b);
	}
	res->name = (char *)name;
	rc = kafka_authz_topic(r, name, ACL_ADMIN) ? engine_topic_delete(r->ctx->log, name)
						   : -ERR_AUTH;
	res->error_code = rc == -ERR_AUTH ? KERR_TOPIC_AUTHORIZATION_FAILED : kafka_api_error(rc);
	if (res->error_code == KERR_UNKNOWN_TOPIC_OR_PARTITION)
		res->error_message = "This server does not host this topic-partition.";
	if (rc == 0) {
		log_info("kafka: deleted topic %s for %s", name,
			 r->hdr.client_id ? r->hdr.client_id : "-");
		if (r->ctx->on_topic_deleted)
			r->ctx->on_topic_deleted(r->ctx, name);
	}
}

void kafka_admin_deletetopics_handle(struct kafka_req *r)
{
	const struct kmsg_delete_topics_req *q = r->body;
	struct kmsg_delete_topics_resp *m = kmsg_new(&r->arena, kmsg_delete_topics_resp, 1);
	bool by_state = r->hdr.api_version >= 6;
	int32_t n = by_state ? q->n_topics : q->n_topic_names;
	dt_result *res;

	if (n < 0)
		n = 0;
	res = kmsg_new(&r->arena, kmsg_delete_topics_resp_deletable_topic_result, n ? n : 1);
	if (!m || !res) {
		admin_fail(r, -ENOMEM);
		return;
	}
	for (int32_t i = 0; i < n; i++) {
		if (by_state)
			delete_topic(r, q->topics[i].name, &q->topics[i].topic_id, &res[i]);
		else
			delete_topic(r, q->topic_names[i], NULL, &res[i]);
		kafka_req_note(r, res[i].error_code);
	}
	m->n_responses = n;
	m->responses = res;
	kafka_req_respond(r, m);
}

/* ---------------------------------------------------------------- CreatePartitions */

/* Grow one topic (or check that it could grow).  Kafka's errors and
 * wording. */
static int16_t grow_topic(struct kafka_req *r, const struct kmsg_create_partitions_req *q,
			  int32_t i, const char **msg)
{
	const struct kmsg_create_partitions_req_create_partitions_topic *t = &q->topics[i];
	struct engine_topic_alter a;
	struct topic_config tc;
	char *m = arena_alloc(&r->arena, 160);
	int rc;

	*msg = NULL;
	for (int32_t k = 0; k < i; k++) {
		if (strcmp(q->topics[k].name, t->name) == 0) {
			*msg = "Duplicate topic in the request";
			return KERR_INVALID_REQUEST;
		}
	}
	if (!kafka_authz_topic(r, t->name, ACL_ADMIN)) {
		*msg = "the principal has no admin grant on this topic";
		return KERR_TOPIC_AUTHORIZATION_FAILED;
	}
	if (engine_topic_config(r->ctx->log, t->name, &tc) < 0) {
		*msg = "This server does not host this topic-partition.";
		return KERR_UNKNOWN_TOPIC_OR_PARTITION;
	}
	if (t->count <= tc.partitions) {
		if (m && t->count == tc.partitions)
			snprintf(m, 160, "Topic already has %d partitions.", tc.partitions);
		else if (m)
			snprintf(m, 160,
				 "Topic currently has %d partitions, which is higher than the "
				 "requested %d.",
				 tc.partitions, t->count);
		*msg = m ? m : "partitions can only be added";
		return KERR_INVALID_PARTITIONS;
	}
	if (t->count > MAX_TOPIC_PARTITIONS) {
		*msg = "number of partitions must be 1..10000";
		return KERR_INVALID_PARTITIONS;
	}
	if (t->n_assignments >= 0) {
		bool bad = t->n_assignments != t->count - tc.partitions;

		for (int32_t k = 0; !bad && k < t->n_assignments; k++)
			bad = t->assignments[k].n_broker_ids != 1 ||
			      t->assignments[k].broker_ids[0] != 0;
		if (bad) {
			*msg = "this store is one broker, node 0: assign each new partition to [0]";
			return KERR_INVALID_REPLICA_ASSIGNMENT;
		}
	}
	if (q->validate_only)
		return KERR_NONE;
	memset(&a, 0, sizeof(a));
	a.partitions = t->count;
	rc = engine_topic_alter(r->ctx->log, t->name, &a);
	if (rc < 0) {
		*msg = err_str(rc);
		return rc == -ERR_INVALID ? KERR_INVALID_PARTITIONS : kafka_api_error(rc);
	}
	log_info("kafka: topic %s now has %d partitions, for %s", t->name, t->count,
		 r->hdr.client_id ? r->hdr.client_id : "-");
	return KERR_NONE;
}

void kafka_admin_createpartitions_handle(struct kafka_req *r)
{
	const struct kmsg_create_partitions_req *q = r->body;
	struct kmsg_create_partitions_resp *m = kmsg_new(&r->arena, kmsg_create_partitions_resp, 1);
	int32_t n = q->n_topics > 0 ? q->n_topics : 0;
	struct kmsg_create_partitions_resp_create_partitions_topic_result *res = kmsg_new(
		&r->arena, kmsg_create_partitions_resp_create_partitions_topic_result, n ? n : 1);

	if (!m || !res) {
		admin_fail(r, -ENOMEM);
		return;
	}
	for (int32_t i = 0; i < n; i++) {
		const char *msg;

		res[i].name = q->topics[i].name;
		res[i].error_code = grow_topic(r, q, i, &msg);
		res[i].error_message = (char *)msg;
		kafka_req_note(r, res[i].error_code);
	}
	m->n_results = n;
	m->results = res;
	kafka_req_respond(r, m);
}
