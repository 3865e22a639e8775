/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DescribeConfigs, AlterConfigs and IncrementalAlterConfigs (see
 * kafka_configs.h) over the schema framework: requests arrive as the
 * generated structs, answers are filled in the generated response structs
 * and the codec writes what the version carries.  A topic's configs are read
 * from the engine (its topic_config and its recorded extra), changed in a
 * struct kafka_topic_cfg by Kafka's rules, and written back with one
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
#include "store/kafka/kmsg_gen.h"
#include "store/store_config.h"

#define RESOURCE_TOPIC 2
#define RESOURCE_BROKER 4
#define SOURCE_TOPIC 1
#define SOURCE_STATIC_BROKER 4
#define SOURCE_DEFAULT 5
#define BROKER_MAX 12

typedef struct kmsg_describe_configs_req_describe_configs_resource dc_res;
typedef struct kmsg_describe_configs_resp_describe_configs_result dc_result;
typedef struct kmsg_describe_configs_resp_describe_configs_resource_result dc_entry;
typedef struct kmsg_describe_configs_resp_describe_configs_synonym dc_syn;

/* No partial answer: the connection closes (kafka_req_finish). */
static void fail(struct kafka_req *r, int rc)
{
	kafka_req_begin(r)->err = rc;
	kafka_req_finish(r);
}

/* ---------------------------------------------------------------- describe */

static char *dup(struct kafka_req *r, const char *s)
{
	return s ? arena_strndup(&r->arena, s, strlen(s)) : NULL;
}

static bool wanted(const dc_res *res, const char *name)
{
	if (res->n_configuration_keys < 0)
		return true;
	for (int32_t i = 0; i < res->n_configuration_keys; i++)
		if (strcmp(res->configuration_keys[i], name) == 0)
			return true;
	return false;
}

/* One entry; synonyms (when asked) most specific first: the topic's
 * override, then the default it hides.  0 or -ENOMEM. */
static int fill_entry(struct kafka_req *r, const struct kmsg_describe_configs_req *q, dc_entry *x,
		      const char *dflt)
{
	bool over = x->config_source == SOURCE_TOPIC;
	dc_syn *s;

	if (!q->include_documentation)
		x->documentation = NULL;
	x->n_synonyms = 0;
	if (!q->include_synonyms)
		return 0;
	s = kmsg_new(&r->arena, kmsg_describe_configs_resp_describe_configs_synonym, 2);
	if (!s)
		return -ENOMEM;
	x->synonyms = s;
	if (over) {
		s->name = x->name;
		s->value = x->value;
		s->source = SOURCE_TOPIC;
		s++;
	}
	s->name = x->name;
	s->value = dup(r, dflt);
	s->source = over ? SOURCE_DEFAULT : x->config_source;
	x->n_synonyms = over ? 2 : 1;
	return 0;
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

static int describe_topic(struct kafka_req *r, const struct kmsg_describe_configs_req *q,
			  const dc_res *res, const struct kafka_topic_cfg *c, dc_result *out)
{
	dc_entry *x =
		kmsg_new(&r->arena, kmsg_describe_configs_resp_describe_configs_resource_result,
			 KAFKA_TOPIC_CFG_N);
	struct kafka_topic_cfg *dc = arena_alloc(&r->arena, sizeof(*dc));
	int32_t n = 0;

	if (!x || !dc)
		return -ENOMEM;
	for (size_t i = 0; i < KAFKA_TOPIC_CFG_N; i++) {
		const struct kafka_topic_cfg_def *d = kafka_topic_cfg_def(i);
		char val[KAFKA_TOPIC_CFG_VAL_MAX], dflt[KAFKA_TOPIC_CFG_VAL_MAX];
		bool is_def;

		if (!wanted(res, d->name))
			continue;
		is_def = kafka_topic_cfg_value(c, i, val, sizeof(val));
		*dc = *c;
		dc->tc = dc->def;
		dc->val[i][0] = '\0';
		kafka_topic_cfg_value(dc, i, dflt, sizeof(dflt));
		x[n].name = (char *)d->name;
		x[n].value = dup(r, val);
		x[n].config_source = is_def ? SOURCE_DEFAULT : SOURCE_TOPIC;
		x[n].config_type = d->type;
		x[n].documentation = (char *)d->doc;
		if (!x[n].value || fill_entry(r, q, &x[n], dflt) < 0)
			return -ENOMEM;
		n++;
	}
	out->n_configs = n;
	out->configs = x;
	return 0;
}

/* Broker configs: what the store's config file says, read-only. */
static int describe_broker(struct kafka_req *r, const struct kmsg_describe_configs_req *q,
			   const dc_res *res, dc_result *out)
{
	const struct store_config *conf = r->ctx->conf;
	dc_entry *x = kmsg_new(
		&r->arena, kmsg_describe_configs_resp_describe_configs_resource_result, BROKER_MAX);
	struct topic_config def;
	int32_t n = 0;

	if (!x)
		return -ENOMEM;
	engine_topic_defaults(r->ctx->log, &def);
#define BROKER(nm, ty, dc, ...)                                                     \
	do {                                                                        \
		char v_[32];                                                        \
		snprintf(v_, sizeof(v_), __VA_ARGS__);                              \
		if (wanted(res, nm)) {                                              \
			x[n].name = nm;                                             \
			x[n].value = dup(r, v_);                                    \
			x[n].read_only = true;                                      \
			x[n].config_source = SOURCE_STATIC_BROKER;                  \
			x[n].config_type = ty;                                      \
			x[n].documentation = dc;                                    \
			if (!x[n].value || fill_entry(r, q, &x[n], x[n].value) < 0) \
				return -ENOMEM;                                     \
			n++;                                                        \
		}                                                                   \
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
	out->n_configs = n;
	out->configs = x;
	return 0;
}

static int describe_resource(struct kafka_req *r, const struct kmsg_describe_configs_req *q,
			     const dc_res *res, dc_result *out)
{
	struct kafka_topic_cfg *c;
	const char *msg = NULL;
	int rc = 0;

	out->resource_type = res->resource_type;
	out->resource_name = res->resource_name;
	out->n_configs = 0;
	if (res->resource_type == RESOURCE_TOPIC && !kafka_authz_topic(r, res->resource_name, 0)) {
		out->error_code = KERR_TOPIC_AUTHORIZATION_FAILED;
		msg = "the principal has no grant on this topic";
	} else if (res->resource_type == RESOURCE_TOPIC) {
		c = arena_alloc(&r->arena, sizeof(*c));
		if (!c)
			return -ENOMEM;
		if (load_topic(r, res->resource_name, c, &out->error_code, &msg) == 0)
			rc = describe_topic(r, q, res, c, out);
	} else if (res->resource_type == RESOURCE_BROKER) {
		if (!*res->resource_name || strcmp(res->resource_name, "0") == 0) {
			rc = describe_broker(r, q, res, out);
		} else {
			out->error_code = KERR_INVALID_REQUEST;
			msg = "this store is one broker, node 0";
		}
	} else {
		out->error_code = KERR_INVALID_REQUEST;
		msg = "only topic and broker resources have configs here";
	}
	out->error_message = (char *)msg;
	kafka_req_note(r, out->error_code);
	return rc;
}

void kafka_configs_describe_handle(struct kafka_req *r)
{
	const struct kmsg_describe_configs_req *q = r->body;
	struct kmsg_describe_configs_resp *m = kmsg_new(&r->arena, kmsg_describe_configs_resp, 1);
	int32_t n = q->n_resources > 0 ? q->n_resources : 0;
	dc_result *res =
		kmsg_new(&r->arena, kmsg_describe_configs_resp_describe_configs_result, n ? n : 1);
	int rc = m && res ? 0 : -ENOMEM;

	for (int32_t i = 0; rc == 0 && i < n; i++)
		rc = describe_resource(r, q, &q->resources[i], &res[i]);
	if (rc < 0) {
		fail(r, rc);
		return;
	}
	m->n_results = n;
	m->results = res;
	kafka_req_respond(r, m);
}

/* ---------------------------------------------------------------- alter */

/* One change, whichever request it came from. */
struct change {
	const char *name;
	int8_t op;
	const char *value;
};

/* Apply the changes to one topic (AlterConfigs: onto the defaults, as the
 * request is the whole new set; incremental: onto what it has) and, unless
 * validate_only, persist them.  Returns the error code, *msg. */
static int16_t alter_topic(struct kafka_req *r, const char *topic, const struct change *ch,
			   int32_t n, bool incremental, bool validate_only, const char **msg)
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
	if (!kafka_authz_topic(r, topic, ACL_ADMIN)) {
		*msg = "the principal has no admin grant on this topic";
		return KERR_TOPIC_AUTHORIZATION_FAILED;
	}
	if (load_topic(r, topic, c, &err, msg) < 0)
		return err;
	keep = c->tc;
	if (!incremental) {
		kafka_topic_cfg_init(c, &c->def);
		c->tc.partitions = keep.partitions;
	}
	for (int32_t i = 0; i < n; i++) {
		for (int32_t k = 0; k < i; k++) {
			if (strcmp(ch[k].name, ch[i].name) == 0) {
				*msg = "Error due to duplicate config keys";
				return KERR_INVALID_REQUEST;
			}
		}
		err = kafka_topic_cfg_apply(c, ch[i].op, ch[i].name, ch[i].value, m,
					    KAFKA_TOPIC_CFG_MSG_MAX);
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
		rc = engine_topic_alter(r->ctx->log, topic, &a);
	buf_release(&extra);
	if (rc < 0) {
		*msg = err_str(rc);
		return rc == -ERR_NOT_FOUND ? KERR_UNKNOWN_TOPIC_OR_PARTITION : kafka_api_error(rc);
	}
	log_info("kafka: altered the configs of topic %s for %s", topic,
		 r->hdr.client_id ? r->hdr.client_id : "-");
	return KERR_NONE;
}

/* One resource of either request: the error code and *msg. */
static int16_t alter_resource(struct kafka_req *r, int8_t type, const char *name,
			      const struct change *ch, int32_t n, bool incremental,
			      bool validate_only, const char **msg)
{
	if (type == RESOURCE_TOPIC)
		return alter_topic(r, name, ch, n, incremental, validate_only, msg);
	*msg = type == RESOURCE_BROKER
		       ? "broker configs are read-only here: set them in the store's config file"
		       : "only topic configs can be altered here";
	return KERR_INVALID_REQUEST;
}

void kafka_configs_alter_handle(struct kafka_req *r)
{
	const struct kmsg_alter_configs_req *q = r->body;
	struct kmsg_alter_configs_resp *m = kmsg_new(&r->arena, kmsg_alter_configs_resp, 1);
	int32_t n = q->n_resources > 0 ? q->n_resources : 0;
	struct kmsg_alter_configs_resp_alter_configs_resource_response *out = kmsg_new(
		&r->arena, kmsg_alter_configs_resp_alter_configs_resource_response, n ? n : 1);

	if (!m || !out) {
		fail(r, -ENOMEM);
		return;
	}
	for (int32_t i = 0; i < n; i++) {
		const struct kmsg_alter_configs_req_alter_configs_resource *res = &q->resources[i];
		int32_t nc = res->n_configs > 0 ? res->n_configs : 0;
		struct change *ch = arena_calloc(&r->arena, nc ? (size_t)nc : 1, sizeof(*ch));
		const char *msg = "out of memory";

		for (int32_t k = 0; ch && k < nc; k++)
			ch[k] = (struct change){res->configs[k].name, KAFKA_CFG_SET,
						res->configs[k].value};
		out[i].error_code = ch ? alter_resource(r, res->resource_type, res->resource_name,
							ch, nc, false, q->validate_only, &msg)
				       : KERR_UNKNOWN_SERVER_ERROR;
		out[i].error_message = (char *)msg;
		out[i].resource_type = res->resource_type;
		out[i].resource_name = res->resource_name;
		kafka_req_note(r, out[i].error_code);
	}
	m->n_responses = n;
	m->responses = out;
	kafka_req_respond(r, m);
}

void kafka_configs_incremental_handle(struct kafka_req *r)
{
	const struct kmsg_incremental_alter_configs_req *q = r->body;
	struct kmsg_incremental_alter_configs_resp *m =
		kmsg_new(&r->arena, kmsg_incremental_alter_configs_resp, 1);
	int32_t n = q->n_resources > 0 ? q->n_resources : 0;
	struct kmsg_incremental_alter_configs_resp_alter_configs_resource_response *out = kmsg_new(
		&r->arena, kmsg_incremental_alter_configs_resp_alter_configs_resource_response,
		n ? n : 1);

	if (!m || !out) {
		fail(r, -ENOMEM);
		return;
	}
	for (int32_t i = 0; i < n; i++) {
		const struct kmsg_incremental_alter_configs_req_alter_configs_resource *res =
			&q->resources[i];
		int32_t nc = res->n_configs > 0 ? res->n_configs : 0;
		struct change *ch = arena_calloc(&r->arena, nc ? (size_t)nc : 1, sizeof(*ch));
		const char *msg = "out of memory";

		for (int32_t k = 0; ch && k < nc; k++)
			ch[k] = (struct change){res->configs[k].name,
						res->configs[k].config_operation,
						res->configs[k].value};
		out[i].error_code = ch ? alter_resource(r, res->resource_type, res->resource_name,
							ch, nc, true, q->validate_only, &msg)
				       : KERR_UNKNOWN_SERVER_ERROR;
		out[i].error_message = (char *)msg;
		out[i].resource_type = res->resource_type;
		out[i].resource_name = res->resource_name;
		kafka_req_note(r, out[i].error_code);
	}
	m->n_responses = n;
	m->responses = out;
	kafka_req_respond(r, m);
}
