/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ApiVersions and Metadata over the schema framework: the handlers fill the
 * generated response structs; which fields reach the wire at the request's
 * version is the codec's business (store/kafka/kschema.h).
 */
#include <string.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/topic_name.h"
#include "store/kafka/kafka_api.h"
#include "store/kafka/kafka_authz.h"
#include "store/kafka/kafka_meta.h"
#include "store/kafka/kafka_req.h"
#include "store/kafka/kmsg_gen.h"
#include "store/engine/engine.h"

/* ---------------------------------------------------------------- ApiVersions */

/* More than the table will ever hold: the response lives on the stack so the
 * KIP-511 answer needs no request arena. */
#define META_MAX_APIS 96

void kafka_meta_apiversions_encode(struct kwire_enc *e, int16_t v, int16_t err)
{
	struct kmsg_api_versions_resp_api_version keys[META_MAX_APIS];
	struct kmsg_api_versions_resp m;
	size_t n;
	const struct kafka_api *t = kafka_api_table(&n);

	if (n > META_MAX_APIS)
		n = META_MAX_APIS;
	kschema_init(&kmsg_api_versions_resp_st, &m);
	for (size_t i = 0; i < n; i++) {
		keys[i].api_key = t[i].key;
		keys[i].min_version = t[i].min;
		keys[i].max_version = t[i].max;
	}
	m.error_code = err;
	m.n_api_keys = (int32_t)n;
	m.api_keys = keys;
	kschema_encode(&kmsg_api_versions_resp_msg, v, &m, e);
}

void kafka_meta_apiversions_handle(struct kafka_req *r)
{
	struct kwire_enc *e = kafka_req_begin(r);

	kafka_meta_apiversions_encode(e, r->hdr.api_version, KERR_NONE);
	kafka_req_finish(r);
}

/* ---------------------------------------------------------------- Metadata */

/* Node 0 as every partition's replica set and ISR; read-only. */
static int32_t node0[1];

static int metadata_partitions(struct kafka_req *r, struct kmsg_metadata_resp_topic *t, int32_t np)
{
	struct kmsg_metadata_resp_partition *p;

	if (np <= 0)
		return 0;
	p = kmsg_new(&r->arena, kmsg_metadata_resp_partition, np);
	if (!p)
		return -ENOMEM;
	for (int32_t i = 0; i < np; i++) {
		p[i].partition_index = i;
		p[i].leader_id = 0;
		p[i].leader_epoch = 0; /* one leader, forever */
		p[i].n_replica_nodes = 1;
		p[i].replica_nodes = node0;
		p[i].n_isr_nodes = 1;
		p[i].isr_nodes = node0;
	}
	t->n_partitions = np;
	t->partitions = p;
	return 0;
}

/* Look a topic up, creating it when Kafka's auto-creation rules allow;
 * returns the partition count or 0 with t->error_code set. */
static int32_t metadata_topic(struct kafka_req *r, const char *name, bool auto_create,
			      struct kmsg_metadata_resp_topic *t)
{
	struct topic_config tc;
	int rc;

	if (!name) { /* v10+: by id only (AdminClient describeTopics by id) */
		char buf[TOPIC_NAME_MAX + 1];

		t->name = NULL;
		if (engine_topic_by_id(r->ctx->log, t->topic_id.b, buf, sizeof(buf)) < 0) {
			t->error_code = KERR_UNKNOWN_TOPIC_ID;
			return 0;
		}
		name = arena_strndup(&r->arena, buf, strlen(buf));
		if (!name) {
			t->error_code = KERR_UNKNOWN_SERVER_ERROR;
			return 0;
		}
		auto_create = false;
	}
	t->name = (char *)name;
	if (!topic_name_valid(name)) {
		t->error_code = KERR_INVALID_TOPIC_EXCEPTION;
		return 0;
	}
	if (!kafka_authz_topic(r, name, 0)) {
		t->error_code = KERR_TOPIC_AUTHORIZATION_FAILED;
		return 0;
	}
	/* creating a topic by asking for it takes a produce grant */
	auto_create = auto_create && kafka_authz_may(r, ACL_TOPIC, name, ACL_PRODUCE);
	rc = engine_topic_config(r->ctx->log, name, &tc);
	if (rc == -ERR_NOT_FOUND && auto_create) {
		rc = engine_topic_ensure(r->ctx->log, name);
		if (rc > 0) {
			log_info("kafka: auto-created topic %s (%d partitions) for %s", name, rc,
				 r->hdr.client_id ? r->hdr.client_id : "-");
			(void)engine_topic_id(r->ctx->log, name, t->topic_id.b);
			return rc;
		}
	}
	if (rc == 0)
		rc = engine_topic_id(r->ctx->log, name, t->topic_id.b);
	if (rc < 0) {
		t->error_code = kafka_api_error(rc);
		return 0;
	}
	return tc.partitions;
}

/* Every topic the principal has some grant on. */
static int metadata_all(struct kafka_req *r, struct kmsg_metadata_resp *m)
{
	struct kmsg_metadata_resp_topic *topics;
	char **names = NULL;
	size_t nnames = 0;
	int32_t n = 0;
	int rc = 0;

	if (engine_topic_list(r->ctx->log, &names, &nnames) < 0)
		nnames = 0;
	topics = kmsg_new(&r->arena, kmsg_metadata_resp_topic, nnames ? (int32_t)nnames : 1);
	for (size_t i = 0; topics && i < nnames; i++) {
		struct topic_config tc;

		/* deleted since the listing: leave it out */
		if (engine_topic_config(r->ctx->log, names[i], &tc) < 0 ||
		    engine_topic_id(r->ctx->log, names[i], topics[n].topic_id.b) < 0)
			continue;
		/* and topics the principal has no grant on */
		if (!kafka_authz_may(r, ACL_TOPIC, names[i], 0))
			continue;
		topics[n].name = arena_strndup(&r->arena, names[i], strlen(names[i]));
		rc = topics[n].name ? metadata_partitions(r, &topics[n], tc.partitions) : -ENOMEM;
		if (rc < 0)
			break;
		n++;
	}
	engine_names_free(names, nnames);
	m->n_topics = n;
	m->topics = topics;
	return topics ? rc : -ENOMEM;
}

static int metadata_named(struct kafka_req *r, const struct kmsg_metadata_req *q,
			  struct kmsg_metadata_resp *m)
{
	struct kmsg_metadata_resp_topic *topics;
	/* v0-v3 have no flag: the schema default (true) stands in */
	bool auto_create = q->allow_auto_topic_creation;

	topics = kmsg_new(&r->arena, kmsg_metadata_resp_topic, q->n_topics ? q->n_topics : 1);
	if (!topics)
		return -ENOMEM;
	for (int32_t i = 0; i < q->n_topics; i++) {
		int32_t np;

		/* the id asked for (answered as is when unknown), else the topic's */
		topics[i].topic_id = q->topics[i].topic_id;
		np = metadata_topic(r, q->topics[i].name, auto_create, &topics[i]);
		kafka_req_note(r, topics[i].error_code);
		if (metadata_partitions(r, &topics[i], np) < 0)
			return -ENOMEM;
	}
	m->n_topics = q->n_topics;
	m->topics = topics;
	return 0;
}

void kafka_meta_metadata_handle(struct kafka_req *r)
{
	const struct kmsg_metadata_req *q = r->body;
	struct kmsg_metadata_resp *m = kmsg_new(&r->arena, kmsg_metadata_resp, 1);
	struct kmsg_metadata_resp_broker *b = kmsg_new(&r->arena, kmsg_metadata_resp_broker, 1);
	int rc = -ENOMEM;

	if (!m || !b)
		goto fail;
	b->node_id = 0;
	b->host = (char *)r->ctx->adv_host;
	b->port = r->ctx->adv_port;
	m->n_brokers = 1;
	m->brokers = b;
	m->cluster_id = (char *)r->ctx->cluster_id;
	m->controller_id = 0;
	/* v0: an empty array means every topic; v1+: a null one does */
	if (q->n_topics < 0 || (r->hdr.api_version == 0 && q->n_topics == 0))
		rc = metadata_all(r, m);
	else
		rc = metadata_named(r, q, m);
	if (rc < 0)
		goto fail;
	/* KIP-430: the sets only when asked; INT32_MIN (the default) otherwise */
	for (int32_t i = 0; q->include_topic_authorized_operations && i < m->n_topics; i++)
		if (!m->topics[i].error_code)
			m->topics[i].topic_authorized_operations =
				kafka_authz_topic_ops(r, m->topics[i].name);
	if (q->include_cluster_authorized_operations)
		m->cluster_authorized_operations = kafka_authz_cluster_ops(r);
	kafka_req_respond(r, m);
	return;
fail:
	/* no partial answer: the connection closes (kafka_req_finish) */
	kafka_req_begin(r)->err = rc;
	kafka_req_finish(r);
}

/* ---------------------------------------------------------------- DescribeCluster */

#define KERR_MISMATCHED_ENDPOINT_TYPE 114
#define KERR_UNSUPPORTED_ENDPOINT_TYPE 115
#define ENDPOINT_BROKERS 1
#define ENDPOINT_CONTROLLERS 2

void kafka_meta_describecluster_handle(struct kafka_req *r)
{
	const struct kmsg_describe_cluster_req *q = r->body;
	struct kmsg_describe_cluster_resp *m = kmsg_new(&r->arena, kmsg_describe_cluster_resp, 1);
	struct kmsg_describe_cluster_resp_describe_cluster_broker *b =
		kmsg_new(&r->arena, kmsg_describe_cluster_resp_describe_cluster_broker, 1);

	if (!m || !b) {
		kafka_req_begin(r)->err = -ENOMEM;
		kafka_req_finish(r);
		return;
	}
	m->cluster_id = (char *)r->ctx->cluster_id;
	/* KIP-919: a broker listener answers for brokers only */
	if (q->endpoint_type != ENDPOINT_BROKERS) {
		bool ctl = q->endpoint_type == ENDPOINT_CONTROLLERS;

		m->error_code =
			ctl ? KERR_MISMATCHED_ENDPOINT_TYPE : KERR_UNSUPPORTED_ENDPOINT_TYPE;
		m->error_message = ctl ? "this is a broker endpoint; controllers are not exposed"
				       : "unknown endpoint type";
		kafka_req_note(r, m->error_code);
		kafka_req_respond(r, m);
		return;
	}
	b->broker_id = 0;
	b->host = (char *)r->ctx->adv_host;
	b->port = r->ctx->adv_port;
	m->controller_id = 0; /* this broker */
	m->n_brokers = 1;
	m->brokers = b;
	if (q->include_cluster_authorized_operations)
		m->cluster_authorized_operations = kafka_authz_cluster_ops(r);
	kafka_req_respond(r, m);
}
