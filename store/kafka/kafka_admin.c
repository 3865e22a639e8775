/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CreateTopics, DeleteTopics and DescribeConfigs (ListOffsets is in
 * kafka_listoffsets.c, InitProducerId in kafka_txn.c).  Field order follows
 * the message schemas of these APIs; version conditions stand next to each
 * field.
 *
 * Topic configs: the ones the log engine keeps (retention.ms,
 * retention.bytes, segment.bytes, segment.ms, max.message.bytes) are applied;
 * message.timestamp.type (CreateTime or LogAppendTime) too;
 * a small set that only restates how this store always behaves
 * (cleanup.policy=delete, compression.type=producer, min.insync.replicas=1)
 * is accepted with exactly those values;
 * broker tuning knobs that have no meaning here are accepted and ignored
 * (documented in docs/KAFKA.md); anything else is INVALID_CONFIG, so a
 * typo never passes silently.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/topic_name.h"
#include "store/kafka/kafka_admin.h"
#include "store/kafka/kafka_api.h"
#include "store/kafka/kafka_authz.h"
#include "store/auth/auth.h"
#include "store/kafka/kafka_req.h"
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

static void get_configs(struct kwire_dec *d, int32_t *n, struct kafka_config_entry **out)
{
	*n = kwire_get_array(d, 4);
	if (*n < 0)
		kwire_dec_fail(d);
	*out = kwire_alloc(d, *n, sizeof(**out));
	for (int32_t i = 0; i < *n && kwire_dec_ok(d); i++) {
		(*out)[i].name = kwire_get_str(d);
		(*out)[i].value = kwire_get_nstr(d);
	}
}

void *kafka_admin_createtopics_decode(struct kwire_dec *d, int16_t v)
{
	struct kafka_createtopics_req *q = kwire_alloc(d, 1, sizeof(*q));

	if (!q)
		return NULL;
	q->ntopics = kwire_get_array(d, 16);
	if (q->ntopics < 0)
		kwire_dec_fail(d);
	q->topics = kwire_alloc(d, q->ntopics, sizeof(*q->topics));
	for (int32_t i = 0; i < q->ntopics && kwire_dec_ok(d); i++) {
		struct kafka_createtopics_topic *t = &q->topics[i];

		t->name = kwire_get_str(d);
		t->num_partitions = kwire_get_i32(d);
		t->replication_factor = kwire_get_i16(d);
		t->nassignments = kwire_get_array(d, 8);
		if (t->nassignments < 0)
			kwire_dec_fail(d);
		t->assignment_partition = kwire_alloc(d, t->nassignments, sizeof(int32_t));
		for (int32_t j = 0; j < t->nassignments && kwire_dec_ok(d); j++) {
			int32_t nb;

			t->assignment_partition[j] = kwire_get_i32(d);
			nb = kwire_get_array(d, 4);
			if (nb != 1)
				t->assignment_bad_replicas = true;
			for (int32_t k = 0; k < nb && kwire_dec_ok(d); k++)
				if (kwire_get_i32(d) != 0)
					t->assignment_other_broker = true;
		}
		get_configs(d, &t->nconfigs, &t->configs);
	}
	q->timeout_ms = kwire_get_i32(d);
	q->validate_only = v >= 1 ? kwire_get_bool(d) : false;
	return kwire_dec_ok(d) ? q : NULL;
}

static int parse_i64(const char *s, int64_t *v)
{
	char *end;
	long long x;

	if (!s || !*s)
		return -ERR_INVALID;
	errno = 0;
	x = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -ERR_INVALID;
	*v = x;
	return 0;
}

/* Kafka topic configs that are broker tuning with no effect here. */
static const char *const ignored_configs[] = {
	"delete.retention.ms",
	"file.delete.delay.ms",
	"flush.messages",
	"flush.ms",
	"follower.replication.throttled.replicas",
	"index.interval.bytes",
	"leader.replication.throttled.replicas",
	"max.compaction.lag.ms",
	"message.downconversion.enable",
	"message.format.version",
	"message.timestamp.difference.max.ms",
	"min.cleanable.dirty.ratio",
	"min.compaction.lag.ms",
	"preallocate",
	"segment.index.bytes",
	"segment.jitter.ms",
	"unclean.leader.election.enable",
	NULL,
};

/* Apply one config to tc.  0 or -ERR_INVALID with *why. */
static int apply_config(const struct kafka_config_entry *c, struct topic_config *tc,
			const char **why)
{
	int64_t v;

	*why = NULL;
	if (strcmp(c->name, "retention.ms") == 0 || strcmp(c->name, "retention.bytes") == 0) {
		if (parse_i64(c->value, &v) < 0 || v == 0 || v < -1) {
			*why = "must be -1 or a positive integer";
			return -ERR_INVALID;
		}
		if (c->name[10] == 'm')
			tc->retention_ms = v;
		else
			tc->retention_bytes = v;
		return 0;
	}
	if (strcmp(c->name, "segment.bytes") == 0 || strcmp(c->name, "segment.ms") == 0 ||
	    strcmp(c->name, "max.message.bytes") == 0) {
		if (parse_i64(c->value, &v) < 0 || v <= 0) {
			*why = "must be a positive integer";
			return -ERR_INVALID;
		}
		if (strcmp(c->name, "segment.bytes") == 0)
			tc->segment_bytes = v;
		else if (strcmp(c->name, "segment.ms") == 0)
			tc->segment_ms = v;
		else
			tc->max_batch_bytes = v;
		return 0;
	}
	if (strcmp(c->name, "cleanup.policy") == 0) {
		if (c->value && strcmp(c->value, "delete") == 0)
			return 0;
		*why = "only cleanup.policy=delete is supported (no compaction)";
		return -ERR_INVALID;
	}
	if (strcmp(c->name, "compression.type") == 0) {
		if (c->value && strcmp(c->value, "producer") == 0)
			return 0;
		*why = "batches are stored as produced: only compression.type=producer";
		return -ERR_INVALID;
	}
	if (strcmp(c->name, "min.insync.replicas") == 0) {
		if (parse_i64(c->value, &v) == 0 && v == 1)
			return 0;
		*why = "a single node: min.insync.replicas must be 1";
		return -ERR_INVALID;
	}
	if (strcmp(c->name, "message.timestamp.type") == 0) {
		int t = engine_ts_type_parse(c->value);

		if (t >= 0) {
			tc->timestamp_type = t;
			return 0;
		}
		*why = "message.timestamp.type is CreateTime or LogAppendTime";
		return -ERR_INVALID;
	}
	for (size_t i = 0; ignored_configs[i]; i++)
		if (strcmp(c->name, ignored_configs[i]) == 0)
			return 0;
	*why = "unknown topic config";
	return -ERR_INVALID;
}

/* Check (and unless validate_only, create) one topic.  Returns the error
 * code and sets *msg for the response. */
static int16_t create_topic(struct kafka_req *r, const struct kafka_createtopics_req *q, int32_t i,
			    const char **msg)
{
	const struct kafka_createtopics_topic *t = &q->topics[i];
	struct topic_config tc;
	int32_t parts = t->num_partitions;
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
	if (t->nassignments > 0) {
		if (parts != -1 || t->replication_factor != -1) {
			*msg = "with replica assignments, partitions and replication factor must be -1";
			return KERR_INVALID_REQUEST;
		}
		if (t->assignment_other_broker || t->assignment_bad_replicas) {
			*msg = "this store is one broker, node 0: assign every partition to [0]";
			return KERR_INVALID_REPLICA_ASSIGNMENT;
		}
		for (int32_t a = 0; a < t->nassignments; a++) {
			int32_t p = t->assignment_partition[a];
			bool dup = false;

			for (int32_t b = 0; b < a; b++)
				dup = dup || t->assignment_partition[b] == p;
			if (p < 0 || p >= t->nassignments || dup) {
				*msg = "assignments must name partitions 0..n-1 once each";
				return KERR_INVALID_REPLICA_ASSIGNMENT;
			}
		}
		parts = t->nassignments;
	} else {
		if (t->replication_factor != -1 && t->replication_factor != 1) {
			*msg = t->replication_factor > 1
				       ? "replication factor larger than available brokers: 1"
				       : "replication factor must be positive";
			return KERR_INVALID_REPLICATION_FACTOR;
		}
	}
	if (parts == -1) {
		/* the store's default at every version: KIP-464 made it legal in v4,
		 * and kafkajs sends it with v3 */
		parts = 0;
	} else if (parts <= 0 || parts > MAX_TOPIC_PARTITIONS) {
		*msg = "number of partitions must be 1..10000";
		return KERR_INVALID_PARTITIONS;
	}
	memset(&tc, 0, sizeof(tc));
	tc.partitions = parts;
	for (int32_t c = 0; c < t->nconfigs; c++) {
		if (apply_config(&t->configs[c], &tc, msg) < 0) {
			char *m = arena_alloc(&r->arena, 300);

			if (m) {
				snprintf(m, 300, "%s: %s", t->configs[c].name, *msg);
				*msg = m;
			}
			return KERR_INVALID_CONFIG;
		}
	}
	if (q->validate_only) {
		rc = engine_topic_config(r->ctx->log, t->name, &tc);
		if (rc == 0) {
			*msg = "topic already exists";
			return KERR_TOPIC_ALREADY_EXISTS;
		}
		return KERR_NONE;
	}
	rc = engine_topic_create(r->ctx->log, t->name, &tc);
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
	log_info("kafka: created topic %s for %s", t->name,
		 r->hdr.client_id ? r->hdr.client_id : "-");
	return KERR_NONE;
}

void kafka_admin_createtopics_handle(struct kafka_req *r)
{
	struct kafka_createtopics_req *q = r->body;
	int16_t v = r->hdr.api_version;
	struct kwire_enc *e = kafka_req_begin(r);

	if (v >= 2)
		kwire_put_i32(e, 0);
	kwire_put_array(e, q->ntopics);
	for (int32_t i = 0; i < q->ntopics; i++) {
		const char *msg;
		int16_t err = create_topic(r, q, i, &msg);

		kafka_req_note(r, err);
		kwire_put_str(e, q->topics[i].name);
		kwire_put_i16(e, err);
		if (v >= 1)
			kwire_put_str(e, msg);
	}
	kafka_req_finish(r);
}

/* ---------------------------------------------------------------- DeleteTopics */

void *kafka_admin_deletetopics_decode(struct kwire_dec *d, int16_t v)
{
	struct kafka_deletetopics_req *q = kwire_alloc(d, 1, sizeof(*q));

	(void)v;
	if (!q)
		return NULL;
	q->ntopics = kwire_get_array(d, 2);
	if (q->ntopics < 0)
		kwire_dec_fail(d);
	q->topics = kwire_alloc(d, q->ntopics, sizeof(*q->topics));
	for (int32_t i = 0; i < q->ntopics && kwire_dec_ok(d); i++)
		q->topics[i] = kwire_get_str(d);
	q->timeout_ms = kwire_get_i32(d);
	return kwire_dec_ok(d) ? q : NULL;
}

void kafka_admin_deletetopics_handle(struct kafka_req *r)
{
	struct kafka_deletetopics_req *q = r->body;
	struct kwire_enc *e = kafka_req_begin(r);

	if (r->hdr.api_version >= 1)
		kwire_put_i32(e, 0);
	kwire_put_array(e, q->ntopics);
	for (int32_t i = 0; i < q->ntopics; i++) {
		int rc = kafka_authz_topic(r, q->topics[i], ACL_ADMIN)
				 ? engine_topic_delete(r->ctx->log, q->topics[i])
				 : -ERR_AUTH;
		int16_t err =
			rc == -ERR_AUTH ? KERR_TOPIC_AUTHORIZATION_FAILED : kafka_api_error(rc);

		if (rc == 0) {
			log_info("kafka: deleted topic %s for %s", q->topics[i],
				 r->hdr.client_id ? r->hdr.client_id : "-");
			if (r->ctx->on_topic_deleted)
				r->ctx->on_topic_deleted(r->ctx, q->topics[i]);
		}
		kafka_req_note(r, err);
		kwire_put_str(e, q->topics[i]);
		kwire_put_i16(e, err);
	}
	kafka_req_finish(r);
}

/* ---------------------------------------------------------------- DescribeConfigs */

void *kafka_admin_describeconfigs_decode(struct kwire_dec *d, int16_t v)
{
	struct kafka_describeconfigs_req *q = kwire_alloc(d, 1, sizeof(*q));

	if (!q)
		return NULL;
	q->nresources = kwire_get_array(d, 7);
	if (q->nresources < 0)
		kwire_dec_fail(d);
	q->resources = kwire_alloc(d, q->nresources, sizeof(*q->resources));
	for (int32_t i = 0; i < q->nresources && kwire_dec_ok(d); i++) {
		struct kafka_describeconfigs_resource *res = &q->resources[i];

		res->type = kwire_get_i8(d);
		res->name = kwire_get_str(d);
		res->nkeys = kwire_get_array(d, 2);
		res->keys = kwire_alloc(d, res->nkeys, sizeof(*res->keys));
		for (int32_t j = 0; j < res->nkeys && kwire_dec_ok(d); j++)
			res->keys[j] = kwire_get_str(d);
	}
	if (v >= 1)
		q->include_synonyms = kwire_get_bool(d);
	if (v >= 3)
		q->include_documentation = kwire_get_bool(d);
	return kwire_dec_ok(d) ? q : NULL;
}

struct cfg_item {
	const char *name;
	char value[32];
	bool is_default;
	int8_t type;
	const char *doc;
};

static bool wanted(const struct kafka_describeconfigs_resource *res, const char *name)
{
	if (res->nkeys < 0)
		return true;
	for (int32_t i = 0; i < res->nkeys; i++)
		if (strcmp(res->keys[i], name) == 0)
			return true;
	return false;
}

static size_t topic_items(const struct topic_config *tc, const struct store_config *conf,
			  struct cfg_item *it)
{
	int64_t def_ret_ms = conf->log.retention_ms ? conf->log.retention_ms : -1;
	int64_t def_ret_b = conf->log.retention_bytes ? (int64_t)conf->log.retention_bytes : -1;
	size_t n = 0;

#define ITEM(nm, val, def, ty, dc)                                                    \
	do {                                                                          \
		it[n].name = nm;                                                      \
		snprintf(it[n].value, sizeof(it[n].value), "%lld", (long long)(val)); \
		it[n].is_default = (def);                                             \
		it[n].type = ty;                                                      \
		it[n].doc = dc;                                                       \
		n++;                                                                  \
	} while (0)
	ITEM("retention.ms", tc->retention_ms, tc->retention_ms == def_ret_ms, CONFIG_TYPE_LONG,
	     "delete segments older than this; -1 keeps forever");
	ITEM("retention.bytes", tc->retention_bytes, tc->retention_bytes == def_ret_b,
	     CONFIG_TYPE_LONG, "per-partition size cap; -1 unlimited");
	ITEM("segment.bytes", tc->segment_bytes,
	     tc->segment_bytes == (int64_t)conf->log.segment_bytes, CONFIG_TYPE_INT,
	     "roll the active segment past this size");
	ITEM("segment.ms", tc->segment_ms, tc->segment_ms == conf->log.segment_ms, CONFIG_TYPE_LONG,
	     "roll the active segment when older than this");
	ITEM("max.message.bytes", tc->max_batch_bytes,
	     tc->max_batch_bytes == (int64_t)conf->log.max_batch_bytes, CONFIG_TYPE_INT,
	     "largest record batch accepted");
	ITEM("min.insync.replicas", 1, true, CONFIG_TYPE_INT, "a single node");
#undef ITEM
	it[n] = (struct cfg_item){"cleanup.policy", "delete", true, CONFIG_TYPE_LIST,
				  "segments are deleted by retention; no compaction"};
	n++;
	it[n] = (struct cfg_item){"compression.type", "producer", true, CONFIG_TYPE_STRING,
				  "batches are stored as produced"};
	n++;
	it[n] = (struct cfg_item){"message.timestamp.type", "", true, CONFIG_TYPE_STRING,
				  "CreateTime: record times are the producer's; LogAppendTime: "
				  "the store's at append"};
	snprintf(it[n].value, sizeof(it[n].value), "%s", engine_ts_type_name(tc->timestamp_type));
	it[n].is_default = tc->timestamp_type == ENGINE_TS_CREATE_TIME;
	n++;
	return n;
}

static void put_describe_resource(struct kafka_req *r, const struct kafka_describeconfigs_req *q,
				  const struct kafka_describeconfigs_resource *res)
{
	struct kwire_enc *e = &r->enc;
	int16_t v = r->hdr.api_version;
	struct cfg_item items[16];
	struct topic_config tc;
	size_t n = 0;
	int32_t count = 0;
	int16_t err = KERR_NONE;
	const char *msg = NULL;

	if (res->type == RESOURCE_TOPIC && !kafka_authz_topic(r, res->name, 0)) {
		err = KERR_TOPIC_AUTHORIZATION_FAILED;
		msg = "the principal has no grant on this topic";
	} else if (res->type == RESOURCE_TOPIC) {
		int rc = engine_topic_config(r->ctx->log, res->name, &tc);

		if (rc < 0) {
			err = KERR_UNKNOWN_TOPIC_OR_PARTITION;
			msg = "unknown topic";
		} else {
			n = topic_items(&tc, r->ctx->conf, items);
		}
	} else if (res->type != RESOURCE_BROKER) {
		err = KERR_INVALID_REQUEST;
		msg = "only topic and broker resources are described";
	}
	for (size_t i = 0; i < n; i++)
		if (wanted(res, items[i].name))
			count++;
	kafka_req_note(r, err);
	kwire_put_i16(e, err);
	kwire_put_str(e, msg);
	kwire_put_i8(e, res->type);
	kwire_put_str(e, res->name);
	kwire_put_array(e, count);
	for (size_t i = 0; i < n; i++) {
		if (!wanted(res, items[i].name))
			continue;
		kwire_put_str(e, items[i].name);
		kwire_put_str(e, items[i].value);
		kwire_put_bool(e, false); /* read_only */
		if (v == 0)
			kwire_put_bool(e, items[i].is_default);
		else
			kwire_put_i8(e, items[i].is_default ? CONFIG_SOURCE_DEFAULT
							    : CONFIG_SOURCE_TOPIC);
		kwire_put_bool(e, false); /* is_sensitive */
		if (v >= 1)
			kwire_put_array(e, 0); /* synonyms */
		if (v >= 3) {
			kwire_put_i8(e, items[i].type);
			kwire_put_str(e, q->include_documentation ? items[i].doc : NULL);
		}
	}
}

void kafka_admin_describeconfigs_handle(struct kafka_req *r)
{
	struct kafka_describeconfigs_req *q = r->body;
	struct kwire_enc *e = kafka_req_begin(r);

	kwire_put_i32(e, 0); /* throttle_time_ms */
	kwire_put_array(e, q->nresources);
	for (int32_t i = 0; i < q->nresources; i++)
		put_describe_resource(r, q, &q->resources[i]);
	kafka_req_finish(r);
}
