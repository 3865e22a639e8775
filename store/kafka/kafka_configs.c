/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DescribeConfigs, AlterConfigs and IncrementalAlterConfigs (see
 * kafka_configs.h).  A topic's configs are read from the engine (its
 * topic_config and its recorded extra), changed in a struct
 * kafka_topic_cfg by Kafka's rules, and written back with one
 * engine_topic_alter(), which persists them before they take effect: the
 * appending and retention paths read the new values from then on.
 */
#include <stdio.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "store/engine/engine.h"
#include "store/kafka/kafka_api.h"
#include "store/kafka/kafka_authz.h"
#include "store/kafka/kafka_configs.h"
#include "store/kafka/kafka_req.h"
#include "store/kafka/kafka_topic_cfg.h"
#include "store/store_config.h"

#define RESOURCE_TOPIC 2
#define RESOURCE_BROKER 4
#define SOURCE_TOPIC 1
#define SOURCE_STATIC_BROKER 4
#define SOURCE_DEFAULT 5

/* ---------------------------------------------------------------- decode */

void *kafka_configs_describe_decode(struct kwire_dec *d, int16_t v)
{
	struct kafka_configs_describe_req *q = kwire_alloc(d, 1, sizeof(*q));

	if (!q)
		return NULL;
	q->nresources = kwire_get_array(d, 4);
	if (q->nresources < 0)
		kwire_dec_fail(d);
	q->resources = kwire_alloc(d, q->nresources, sizeof(*q->resources));
	for (int32_t i = 0; i < q->nresources && kwire_dec_ok(d); i++) {
		struct kafka_configs_describe_resource *res = &q->resources[i];

		res->type = kwire_get_i8(d);
		res->name = kwire_get_str(d);
		res->nkeys = kwire_get_array(d, 1);
		res->keys = kwire_alloc(d, res->nkeys, sizeof(*res->keys));
		for (int32_t j = 0; j < res->nkeys && kwire_dec_ok(d); j++)
			res->keys[j] = kwire_get_str(d);
		kwire_get_tags(d);
	}
	if (v >= 1)
		q->include_synonyms = kwire_get_bool(d);
	if (v >= 3)
		q->include_documentation = kwire_get_bool(d);
	kwire_get_tags(d);
	return kwire_dec_ok(d) ? q : NULL;
}

static void *alter_decode(struct kwire_dec *d, bool incremental)
{
	struct kafka_configs_alter_req *q = kwire_alloc(d, 1, sizeof(*q));

	if (!q)
		return NULL;
	q->nresources = kwire_get_array(d, 4);
	if (q->nresources < 0)
		kwire_dec_fail(d);
	q->resources = kwire_alloc(d, q->nresources, sizeof(*q->resources));
	for (int32_t i = 0; i < q->nresources && kwire_dec_ok(d); i++) {
		struct kafka_configs_alter_resource *res = &q->resources[i];

		res->type = kwire_get_i8(d);
		res->name = kwire_get_str(d);
		res->nchanges = kwire_get_array(d, 2);
		if (res->nchanges < 0)
			kwire_dec_fail(d);
		res->changes = kwire_alloc(d, res->nchanges, sizeof(*res->changes));
		for (int32_t j = 0; j < res->nchanges && kwire_dec_ok(d); j++) {
			struct kafka_configs_change *c = &res->changes[j];

			c->name = kwire_get_str(d);
			c->op = incremental ? kwire_get_i8(d) : KAFKA_CFG_SET;
			c->value = kwire_get_nstr(d);
			kwire_get_tags(d);
		}
		kwire_get_tags(d);
	}
	q->validate_only = kwire_get_bool(d);
	kwire_get_tags(d);
	return kwire_dec_ok(d) ? q : NULL;
}

void *kafka_configs_alter_decode(struct kwire_dec *d, int16_t v)
{
	(void)v;
	return alter_decode(d, false);
}

void *kafka_configs_incremental_decode(struct kwire_dec *d, int16_t v)
{
	(void)v;
	return alter_decode(d, true);
}

/* ---------------------------------------------------------------- describe */

struct entry {
	const char *name;
	const char *value;
	bool read_only;
	int8_t source;
	int8_t type;
	const char *doc;
};

static bool wanted(const struct kafka_configs_describe_resource *res, const char *name)
{
	if (res->nkeys < 0)
		return true;
	for (int32_t i = 0; i < res->nkeys; i++)
		if (strcmp(res->keys[i], name) == 0)
			return true;
	return false;
}

static void put_entry(struct kafka_req *r, const struct kafka_configs_describe_req *q,
		      const struct entry *x, const char *dflt)
{
	struct kwire_enc *e = &r->enc;
	int16_t v = r->hdr.api_version;

	kwire_put_str(e, x->name);
	kwire_put_str(e, x->value);
	kwire_put_bool(e, x->read_only);
	if (v == 0)
		kwire_put_bool(e, x->source == SOURCE_DEFAULT);
	else
		kwire_put_i8(e, x->source);
	kwire_put_bool(e, false); /* is_sensitive */
	if (v >= 1) {
		/* synonyms, most specific first: the topic's override, then the
		 * default it hides */
		bool over = x->source == SOURCE_TOPIC;

		if (!q->include_synonyms) {
			kwire_put_array(e, 0);
		} else {
			kwire_put_array(e, over ? 2 : 1);
			if (over) {
				kwire_put_str(e, x->name);
				kwire_put_str(e, x->value);
				kwire_put_i8(e, SOURCE_TOPIC);
				kwire_put_tags(e);
			}
			kwire_put_str(e, x->name);
			kwire_put_str(e, dflt);
			kwire_put_i8(e, over ? SOURCE_DEFAULT : x->source);
			kwire_put_tags(e);
		}
	}
	if (v >= 3) {
		kwire_put_i8(e, x->type);
		kwire_put_str(e, q->include_documentation ? x->doc : NULL);
	}
	kwire_put_tags(e);
}

/* The topic's configs; *err and *msg on failure. */
static int load_topic(struct kafka_req *r, const char *name, struct kafka_topic_cfg *c,
		      int16_t *err, const char **msg)
{
	struct topic_config tc, def;
	char *extra = NULL;
	int rc;

	rc = engine_topic_config(r->ctx->log, name, &tc);
	if (rc == 0)
		rc = engine_topic_extra(r->ctx->log, name, &extra);
	if (rc < 0) {
		*err = rc == -ERR_NOT_FOUND ? KERR_UNKNOWN_TOPIC_OR_PARTITION : kafka_api_error(rc);
		*msg = rc == -ERR_NOT_FOUND ? "This server does not host this topic-partition."
					    : err_str(rc);
		return rc;
	}
	engine_topic_defaults(r->ctx->log, &def);
	kafka_topic_cfg_init(c, &def);
	kafka_topic_cfg_load(c, &tc, extra);
	mem_free(extra);
	return 0;
}

static void describe_topic(struct kafka_req *r, const struct kafka_configs_describe_req *q,
			   const struct kafka_configs_describe_resource *res,
			   const struct kafka_topic_cfg *c)
{
	int32_t count = 0;

	for (size_t i = 0; i < KAFKA_TOPIC_CFG_N; i++)
		count += wanted(res, kafka_topic_cfg_def(i)->name);
	kwire_put_array(&r->enc, count);
	for (size_t i = 0; i < KAFKA_TOPIC_CFG_N; i++) {
		const struct kafka_topic_cfg_def *d = kafka_topic_cfg_def(i);
		struct kafka_topic_cfg dc = *c;
		char val[KAFKA_TOPIC_CFG_VAL_MAX], dflt[KAFKA_TOPIC_CFG_VAL_MAX];
		struct entry x;
		bool is_def;

		if (!wanted(res, d->name))
			continue;
		is_def = kafka_topic_cfg_value(c, i, val, sizeof(val));
		dc.tc = dc.def;
		dc.val[i][0] = '\0';
		kafka_topic_cfg_value(&dc, i, dflt, sizeof(dflt));
		x = (struct entry){d->name, val,   false, is_def ? SOURCE_DEFAULT : SOURCE_TOPIC,
				   d->type, d->doc};
		put_entry(r, q, &x, dflt);
	}
}

/* Broker configs: what the store's config file says, read-only. */
static void describe_broker(struct kafka_req *r, const struct kafka_configs_describe_req *q,
			    const struct kafka_configs_describe_resource *res)
{
	const struct store_config *conf = r->ctx->conf;
	struct topic_config def;
	char v[12][32];
	struct entry x[12];
	int32_t n = 0, count = 0;

	engine_topic_defaults(r->ctx->log, &def);
#define BROKER(nm, ty, doc, ...)                                                      \
	do {                                                                          \
		snprintf(v[n], sizeof(v[n]), __VA_ARGS__);                            \
		x[n] = (struct entry){nm, v[n], true, SOURCE_STATIC_BROKER, ty, doc}; \
		n++;                                                                  \
	} while (0)
	BROKER("auto.create.topics.enable", KAFKA_CFG_BOOLEAN, "store log.auto_create", "%s",
	       conf->log.auto_create ? "true" : "false");
	BROKER("default.replication.factor", KAFKA_CFG_INT, "one node", "1");
	BROKER("log.message.timestamp.type", KAFKA_CFG_STRING, "default message.timestamp.type",
	       "%s", engine_ts_type_name(def.timestamp_type));
	BROKER("log.retention.bytes", KAFKA_CFG_LONG, "store log.retention_bytes", "%lld",
	       (long long)def.retention_bytes);
	BROKER("log.retention.ms", KAFKA_CFG_LONG, "store log.retention", "%lld",
	       (long long)def.retention_ms);
	BROKER("log.roll.ms", KAFKA_CFG_LONG, "store log.segment_age", "%lld",
	       (long long)def.segment_ms);
	BROKER("log.segment.bytes", KAFKA_CFG_INT, "store log.segment_bytes", "%lld",
	       (long long)def.segment_bytes);
	BROKER("message.max.bytes", KAFKA_CFG_INT, "store log.max_batch_bytes", "%lld",
	       (long long)def.max_batch_bytes);
	BROKER("min.insync.replicas", KAFKA_CFG_INT, "one node", "1");
	BROKER("node.id", KAFKA_CFG_INT, "the only node", "0");
	BROKER("num.partitions", KAFKA_CFG_INT, "store log.default_partitions", "%d",
	       def.partitions);
#undef BROKER
	for (int32_t i = 0; i < n; i++)
		count += wanted(res, x[i].name);
	kwire_put_array(&r->enc, count);
	for (int32_t i = 0; i < n; i++)
		if (wanted(res, x[i].name))
			put_entry(r, q, &x[i], x[i].value);
}

static void describe_resource(struct kafka_req *r, const struct kafka_configs_describe_req *q,
			      const struct kafka_configs_describe_resource *res)
{
	struct kwire_enc *e = &r->enc;
	struct kafka_topic_cfg *c = NULL;
	int16_t err = KERR_NONE;
	const char *msg = NULL;
	bool broker = false;

	if (res->type == RESOURCE_TOPIC && !kafka_authz_topic(r, res->name, 0)) {
		err = KERR_TOPIC_AUTHORIZATION_FAILED;
		msg = "the principal has no grant on this topic";
	} else if (res->type == RESOURCE_TOPIC) {
		c = arena_alloc(&r->arena, sizeof(*c));
		if (!c) {
			err = KERR_UNKNOWN_SERVER_ERROR;
			msg = "out of memory";
		} else if (load_topic(r, res->name, c, &err, &msg) < 0) {
			c = NULL;
		}
	} else if (res->type == RESOURCE_BROKER) {
		broker = !*res->name || strcmp(res->name, "0") == 0;
		if (!broker) {
			err = KERR_INVALID_REQUEST;
			msg = "this store is one broker, node 0";
		}
	} else {
		err = KERR_INVALID_REQUEST;
		msg = "only topic and broker resources have configs here";
	}
	kafka_req_note(r, err);
	kwire_put_i16(e, err);
	kwire_put_str(e, msg);
	kwire_put_i8(e, res->type);
	kwire_put_str(e, res->name);
	if (c)
		describe_topic(r, q, res, c);
	else if (broker)
		describe_broker(r, q, res);
	else
		kwire_put_array(e, 0);
	kwire_put_tags(e);
}

void kafka_configs_describe_handle(struct kafka_req *r)
{
	struct kafka_configs_describe_req *q = r->body;
	struct kwire_enc *e = kafka_req_begin(r);

	kwire_put_i32(e, 0); /* throttle_time_ms */
	kwire_put_array(e, q->nresources);
	for (int32_t i = 0; i < q->nresources; i++)
		describe_resource(r, q, &q->resources[i]);
	kwire_put_tags(e);
	kafka_req_finish(r);
}

/* ---------------------------------------------------------------- alter */

/* Apply the changes to one topic (AlterConfigs: onto the defaults, as the
 * request is the whole new set; incremental: onto what it has) and, unless
 * validate_only, persist them.  Returns the error code, *msg. */
static int16_t alter_topic(struct kafka_req *r, const struct kafka_configs_alter_resource *res,
			   bool incremental, bool validate_only, const char **msg)
{
	struct kafka_topic_cfg *c = arena_alloc(&r->arena, sizeof(*c));
	char *m = arena_alloc(&r->arena, KAFKA_TOPIC_CFG_MSG_MAX);
	struct engine_topic_alter a;
	struct topic_config keep;
	struct buf extra;
	int16_t err = KERR_NONE;
	int rc;

	if (!c || !m) {
		*msg = "out of memory";
		return KERR_UNKNOWN_SERVER_ERROR;
	}
	if (!kafka_authz_topic(r, res->name, ACL_ADMIN)) {
		*msg = "the principal has no admin grant on this topic";
		return KERR_TOPIC_AUTHORIZATION_FAILED;
	}
	if (load_topic(r, res->name, c, &err, msg) < 0)
		return err;
	keep = c->tc;
	if (!incremental) {
		kafka_topic_cfg_init(c, &c->def);
		c->tc.partitions = keep.partitions;
	}
	for (int32_t i = 0; i < res->nchanges; i++) {
		for (int32_t k = 0; k < i; k++) {
			if (strcmp(res->changes[k].name, res->changes[i].name) == 0) {
				*msg = "Error due to duplicate config keys";
				return KERR_INVALID_REQUEST;
			}
		}
		err = kafka_topic_cfg_apply(c, res->changes[i].op, res->changes[i].name,
					    res->changes[i].value, m, KAFKA_TOPIC_CFG_MSG_MAX);
		if (err) {
			*msg = m;
			return err;
		}
	}
	if (validate_only)
		return KERR_NONE;
	memset(&a, 0, sizeof(a));
	a.set_retention_ms = a.set_retention_bytes = a.set_segment_bytes = true;
	a.set_segment_ms = a.set_max_batch_bytes = a.set_timestamp_type = true;
	a.retention_ms = c->tc.retention_ms;
	a.retention_bytes = c->tc.retention_bytes;
	a.segment_bytes = c->tc.segment_bytes;
	a.segment_ms = c->tc.segment_ms;
	a.max_batch_bytes = c->tc.max_batch_bytes;
	a.timestamp_type = c->tc.timestamp_type;
	buf_init(&extra, 1u << 16);
	rc = kafka_topic_cfg_extra(c, &extra);
	a.extra = rc == 0 ? (const char *)extra.data : NULL;
	if (rc == 0)
		rc = engine_topic_alter(r->ctx->log, res->name, &a);
	buf_release(&extra);
	if (rc < 0) {
		*msg = err_str(rc);
		return rc == -ERR_NOT_FOUND ? KERR_UNKNOWN_TOPIC_OR_PARTITION : kafka_api_error(rc);
	}
	log_info("kafka: altered the configs of topic %s for %s", res->name,
		 r->hdr.client_id ? r->hdr.client_id : "-");
	return KERR_NONE;
}

static void alter_handle(struct kafka_req *r, bool incremental)
{
	struct kafka_configs_alter_req *q = r->body;
	struct kwire_enc *e = kafka_req_begin(r);

	kwire_put_i32(e, 0); /* throttle_time_ms */
	kwire_put_array(e, q->nresources);
	for (int32_t i = 0; i < q->nresources; i++) {
		const struct kafka_configs_alter_resource *res = &q->resources[i];
		const char *msg = NULL;
		int16_t err;

		if (res->type == RESOURCE_TOPIC) {
			err = alter_topic(r, res, incremental, q->validate_only, &msg);
		} else if (res->type == RESOURCE_BROKER) {
			err = KERR_INVALID_REQUEST;
			msg = "broker configs are read-only here: set them in the store's config "
			      "file";
		} else {
			err = KERR_INVALID_REQUEST;
			msg = "only topic configs can be altered here";
		}
		kafka_req_note(r, err);
		kwire_put_i16(e, err);
		kwire_put_str(e, msg);
		kwire_put_i8(e, res->type);
		kwire_put_str(e, res->name);
		kwire_put_tags(e);
	}
	kwire_put_tags(e);
	kafka_req_finish(r);
}

void kafka_configs_alter_handle(struct kafka_req *r)
{
	alter_handle(r, false);
}

void kafka_configs_incremental_handle(struct kafka_req *r)
{
	alter_handle(r, true);
}
