/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ApiVersions and Metadata.  Field order follows the Kafka message schemas
 * (ApiVersions{Request,Response}.json, Metadata{Request,Response}.json);
 * version conditions are written next to each field as the schema states
 * them.
 */
#include <string.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/topic_name.h"
#include "store/kafka/kafka_api.h"
#include "store/kafka/kafka_authz.h"
#include "store/kafka/kafka_meta.h"
#include "store/kafka/kafka_req.h"
#include "store/engine/engine.h"

/* ---------------------------------------------------------------- ApiVersions */

void *kafka_meta_apiversions_decode(struct kwire_dec *d, int16_t v)
{
	struct kafka_apiversions_req *q = kwire_alloc(d, 1, sizeof(*q));

	if (!q)
		return NULL;
	if (v >= 3) {
		q->client_software_name = kwire_get_str(d);
		q->client_software_version = kwire_get_str(d);
		kwire_get_tags(d);
	}
	return kwire_dec_ok(d) ? q : NULL;
}

void kafka_meta_apiversions_encode(struct kwire_enc *e, int16_t v, int16_t err)
{
	size_t n;
	const struct kafka_api *t = kafka_api_table(&n);

	kwire_put_i16(e, err);
	kwire_put_array(e, (int32_t)n);
	for (size_t i = 0; i < n; i++) {
		kwire_put_i16(e, t[i].key);
		kwire_put_i16(e, t[i].min);
		kwire_put_i16(e, t[i].max);
		kwire_put_tags(e);
	}
	if (v >= 1)
		kwire_put_i32(e, 0); /* throttle_time_ms */
	kwire_put_tags(e);
}

void kafka_meta_apiversions_handle(struct kafka_req *r)
{
	struct kwire_enc *e = kafka_req_begin(r);

	kafka_meta_apiversions_encode(e, r->hdr.api_version, KERR_NONE);
	kafka_req_finish(r);
}

/* ---------------------------------------------------------------- Metadata */

void *kafka_meta_metadata_decode(struct kwire_dec *d, int16_t v)
{
	struct kafka_metadata_req *q = kwire_alloc(d, 1, sizeof(*q));
	int32_t n;

	if (!q)
		return NULL;
	n = kwire_get_array(d, 2);
	if (n < 0 && v < 1)
		kwire_dec_fail(d);
	q->ntopics = n;
	/* v0: an empty array means every topic */
	if (v == 0 && n == 0)
		q->ntopics = -1;
	q->topics = kwire_alloc(d, n, sizeof(*q->topics));
	for (int32_t i = 0; i < n && kwire_dec_ok(d); i++) {
		q->topics[i] = kwire_get_str(d);
		kwire_get_tags(d);
	}
	q->allow_auto_create = v >= 4 ? kwire_get_bool(d) : true;
	if (v >= 8) {
		q->include_cluster_ops = kwire_get_bool(d);
		q->include_topic_ops = kwire_get_bool(d);
	}
	kwire_get_tags(d);
	return kwire_dec_ok(d) ? q : NULL;
}

static void put_int32_array1(struct kwire_enc *e, int32_t v)
{
	kwire_put_array(e, 1);
	kwire_put_i32(e, v);
}

void kafka_meta_metadata_encode(struct kwire_enc *e, int16_t v, const struct kafka_metadata_resp *m)
{
	if (v >= 3)
		kwire_put_i32(e, 0); /* throttle_time_ms */
	kwire_put_array(e, 1);       /* brokers */
	kwire_put_i32(e, 0);
	kwire_put_str(e, m->host);
	kwire_put_i32(e, m->port);
	if (v >= 1)
		kwire_put_str(e, NULL); /* rack */
	kwire_put_tags(e);
	if (v >= 2)
		kwire_put_str(e, m->cluster_id);
	if (v >= 1)
		kwire_put_i32(e, 0); /* controller_id */
	kwire_put_array(e, m->ntopics);
	for (int32_t i = 0; i < m->ntopics; i++) {
		const struct kafka_metadata_topic *t = &m->topics[i];
		int32_t np = t->error ? 0 : t->partitions;

		kwire_put_i16(e, t->error);
		kwire_put_str(e, t->name);
		if (v >= 1)
			kwire_put_bool(e, false); /* is_internal */
		kwire_put_array(e, np);
		for (int32_t p = 0; p < np; p++) {
			kwire_put_i16(e, KERR_NONE);
			kwire_put_i32(e, p);
			kwire_put_i32(e, 0); /* leader_id */
			if (v >= 7)
				kwire_put_i32(e, 0); /* leader_epoch: one leader, forever */
			put_int32_array1(e, 0);      /* replica_nodes */
			put_int32_array1(e, 0);      /* isr_nodes */
			if (v >= 5)
				kwire_put_array(e, 0); /* offline_replicas */
			kwire_put_tags(e);
		}
		if (v >= 8)
			kwire_put_i32(e, t->has_ops ? t->ops : INT32_MIN); /* KIP-430 */
		kwire_put_tags(e);
	}
	if (v >= 8)
		kwire_put_i32(e, m->has_cluster_ops ? m->cluster_ops : INT32_MIN);
	kwire_put_tags(e);
}

/* Look a topic up, creating it when Kafka's auto-creation rules allow. */
static void metadata_topic(struct kafka_req *r, const char *name, bool auto_create,
			   struct kafka_metadata_topic *t)
{
	struct topic_config tc;
	int rc;

	t->name = name;
	if (!topic_name_valid(name)) {
		t->error = KERR_INVALID_TOPIC_EXCEPTION;
		return;
	}
	if (!kafka_authz_topic(r, name, 0)) {
		t->error = KERR_TOPIC_AUTHORIZATION_FAILED;
		return;
	}
	/* creating a topic by asking for it takes a produce grant */
	auto_create = auto_create && kafka_authz_may(r, ACL_TOPIC, name, ACL_PRODUCE);
	rc = engine_topic_config(r->ctx->log, name, &tc);
	if (rc == -ERR_NOT_FOUND && auto_create) {
		rc = engine_topic_ensure(r->ctx->log, name);
		if (rc > 0) {
			log_info("kafka: auto-created topic %s (%d partitions) for %s", name, rc,
				 r->hdr.client_id ? r->hdr.client_id : "-");
			t->partitions = rc;
			return;
		}
	}
	if (rc < 0) {
		t->error = kafka_api_error(rc);
		return;
	}
	t->partitions = tc.partitions;
}

void kafka_meta_metadata_handle(struct kafka_req *r)
{
	struct kafka_metadata_req *q = r->body;
	struct kafka_metadata_resp m;
	struct kafka_metadata_topic *topics = NULL;
	char **names = NULL;
	size_t nnames = 0;
	int32_t n = 0;

	memset(&m, 0, sizeof(m));
	m.host = r->ctx->adv_host;
	m.port = r->ctx->adv_port;
	m.cluster_id = r->ctx->cluster_id;
	if (q->ntopics < 0) {
		if (engine_topic_list(r->ctx->log, &names, &nnames) < 0)
			nnames = 0;
		topics = arena_calloc(&r->arena, nnames ? nnames : 1, sizeof(*topics));
		for (size_t i = 0; topics && i < nnames; i++) {
			struct topic_config tc;

			/* deleted since the listing: leave it out */
			if (engine_topic_config(r->ctx->log, names[i], &tc) < 0)
				continue;
			/* and topics the principal has no grant on */
			if (!kafka_authz_may(r, ACL_TOPIC, names[i], 0))
				continue;
			topics[n].name = arena_strndup(&r->arena, names[i], strlen(names[i]));
			topics[n].partitions = tc.partitions;
			if (topics[n].name)
				n++;
		}
		engine_names_free(names, nnames);
	} else {
		bool auto_create = q->allow_auto_create;

		topics = arena_calloc(&r->arena, q->ntopics ? (size_t)q->ntopics : 1,
				      sizeof(*topics));
		for (int32_t i = 0; topics && i < q->ntopics; i++) {
			metadata_topic(r, q->topics[i], auto_create, &topics[n]);
			kafka_req_note(r, topics[n].error);
			n++;
		}
	}
	for (int32_t i = 0; topics && q->include_topic_ops && i < n; i++) {
		topics[i].has_ops = true;
		topics[i].ops = kafka_authz_topic_ops(r, topics[i].name);
	}
	m.has_cluster_ops = q->include_cluster_ops;
	m.cluster_ops = q->include_cluster_ops ? kafka_authz_cluster_ops(r) : 0;
	m.ntopics = n;
	m.topics = topics;
	kafka_meta_metadata_encode(kafka_req_begin(r), r->hdr.api_version, &m);
	if (!topics && !r->enc.err)
		r->enc.err = -ENOMEM;
	kafka_req_finish(r);
}
