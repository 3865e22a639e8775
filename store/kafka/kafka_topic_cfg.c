/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kafka's topic config table and the set/delete/append/subtract rules over
 * it (see kafka_topic_cfg.h).  Names, types, defaults and valid ranges
 * follow Kafka 4.x's topic-level config documentation; the messages follow
 * the wording of Kafka's ConfigDef ("Invalid value X for configuration Y:
 * ...", "Unknown topic config name: Y") so tools print what they print
 * against a Kafka broker.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/batch.h"
#include "store/kafka/kafka_errors.h"
#include "store/kafka/kafka_topic_cfg.h"

#define I32_MAX 2147483647LL
#define I64_MAX 9223372036854775807LL
#define I64_MAX_S "9223372036854775807"

/* topic_config fields of the honoured configs */
enum { F_NONE, F_RET_MS, F_RET_BYTES, F_SEG_BYTES, F_SEG_MS, F_MAX_MSG, F_TS_TYPE };

/* how a value is checked beyond its type */
enum { V_RANGE, V_CHOICE, V_GZIP, V_THROTTLE, V_FALSE };

struct def {
	struct kafka_topic_cfg_def d;
	int8_t check;
	int64_t min, max;
	const char *choices; /* comma separated */
};

#define B(n, dflt, doc)                                                        \
	{                                                                      \
		{n, KAFKA_CFG_BOOLEAN, F_NONE, dflt, doc}, V_RANGE, 0, 0, NULL \
	}
#define L(n, dflt, lo, hi, doc)                                               \
	{                                                                     \
		{n, KAFKA_CFG_LONG, F_NONE, dflt, doc}, V_RANGE, lo, hi, NULL \
	}
#define I(n, dflt, lo, hi, doc)                                              \
	{                                                                    \
		{n, KAFKA_CFG_INT, F_NONE, dflt, doc}, V_RANGE, lo, hi, NULL \
	}

/* sorted by name */
static const struct def defs[KAFKA_TOPIC_CFG_N] = {
	{{"cleanup.policy", KAFKA_CFG_LIST, F_NONE, "delete",
	  "recorded only: segments are always deleted by retention, never compacted"},
	 V_CHOICE,
	 0,
	 0,
	 "compact,delete"},
	{{"compression.gzip.level", KAFKA_CFG_INT, F_NONE, "-1", "recorded only"},
	 V_GZIP,
	 0,
	 0,
	 NULL},
	I("compression.lz4.level", "9", 1, 17, "recorded only"),
	{{"compression.type", KAFKA_CFG_STRING, F_NONE, "producer",
	  "recorded only: batches are stored as the producer compressed them"},
	 V_CHOICE,
	 0,
	 0,
	 "uncompressed,zstd,lz4,snappy,gzip,producer"},
	I("compression.zstd.level", "3", -131072, 22, "recorded only"),
	L("delete.retention.ms", "86400000", 0, I64_MAX, "recorded only (no compaction)"),
	L("file.delete.delay.ms", "60000", 0, I64_MAX, "recorded only: deleted at once"),
	L("flush.messages", I64_MAX_S, 1, I64_MAX,
	  "recorded only: the store's fsync setting rules"),
	L("flush.ms", I64_MAX_S, 0, I64_MAX, "recorded only: the store's fsync setting rules"),
	{{"follower.replication.throttled.replicas", KAFKA_CFG_LIST, F_NONE, "",
	  "recorded only (one node)"},
	 V_THROTTLE,
	 0,
	 0,
	 NULL},
	I("index.interval.bytes", "4096", 0, I32_MAX,
	  "recorded only: the store's log.index_interval_bytes rules"),
	{{"leader.replication.throttled.replicas", KAFKA_CFG_LIST, F_NONE, "",
	  "recorded only (one node)"},
	 V_THROTTLE,
	 0,
	 0,
	 NULL},
	L("local.retention.bytes", "-2", -2, I64_MAX, "recorded only (no tiered storage)"),
	L("local.retention.ms", "-2", -2, I64_MAX, "recorded only (no tiered storage)"),
	L("max.compaction.lag.ms", I64_MAX_S, 1, I64_MAX, "recorded only (no compaction)"),
	{{"max.message.bytes", KAFKA_CFG_INT, F_MAX_MSG, NULL,
	  "largest record batch accepted (honoured)"},
	 V_RANGE,
	 BATCH_HEADER_SIZE,
	 BATCH_MAX_SIZE,
	 NULL},
	B("message.downconversion.enable", "true", "recorded only (no-op in Kafka 4 too)"),
	L("message.timestamp.after.max.ms", "3600000", 0, I64_MAX, "recorded only"),
	L("message.timestamp.before.max.ms", I64_MAX_S, 0, I64_MAX, "recorded only"),
	{{"message.timestamp.type", KAFKA_CFG_STRING, F_TS_TYPE, NULL,
	  "CreateTime: the producer's record times; LogAppendTime: the store stamps each batch "
	  "at append (honoured)"},
	 V_CHOICE,
	 0,
	 0,
	 "CreateTime,LogAppendTime"},
	{{"min.cleanable.dirty.ratio", KAFKA_CFG_DOUBLE, F_NONE, "0.5",
	  "recorded only (no compaction)"},
	 V_RANGE,
	 0,
	 1,
	 NULL},
	L("min.compaction.lag.ms", "0", 0, I64_MAX, "recorded only (no compaction)"),
	I("min.insync.replicas", "1", 1, I32_MAX,
	  "recorded only: one node, every write is in sync"),
	B("preallocate", "false", "recorded only"),
	B("remote.log.copy.disable", "false", "recorded only (no tiered storage)"),
	B("remote.log.delete.on.disable", "false", "recorded only (no tiered storage)"),
	{{"remote.storage.enable", KAFKA_CFG_BOOLEAN, F_NONE, "false",
	  "tiered storage is not available"},
	 V_FALSE,
	 0,
	 0,
	 NULL},
	{{"retention.bytes", KAFKA_CFG_LONG, F_RET_BYTES, NULL,
	  "per-partition size cap; -1 unlimited (honoured at the next retention pass)"},
	 V_RANGE,
	 -1,
	 I64_MAX,
	 NULL},
	{{"retention.ms", KAFKA_CFG_LONG, F_RET_MS, NULL,
	  "delete segments older than this; -1 keeps forever (honoured at the next retention "
	  "pass)"},
	 V_RANGE,
	 -1,
	 I64_MAX,
	 NULL},
	{{"segment.bytes", KAFKA_CFG_INT, F_SEG_BYTES, NULL,
	  "roll the active segment past this size (honoured at the next roll)"},
	 V_RANGE,
	 1048576,
	 I32_MAX,
	 NULL},
	I("segment.index.bytes", "10485760", 4, I32_MAX, "recorded only"),
	L("segment.jitter.ms", "0", 0, I64_MAX, "recorded only"),
	{{"segment.ms", KAFKA_CFG_LONG, F_SEG_MS, NULL,
	  "roll the active segment when older than this (honoured at the next append)"},
	 V_RANGE,
	 1,
	 I64_MAX,
	 NULL},
};

#undef B
#undef L
#undef I

const struct kafka_topic_cfg_def *kafka_topic_cfg_def(size_t i)
{
	return i < KAFKA_TOPIC_CFG_N ? &defs[i].d : NULL;
}

int kafka_topic_cfg_find(const char *name)
{
	for (size_t i = 0; name && i < KAFKA_TOPIC_CFG_N; i++)
		if (strcmp(defs[i].d.name, name) == 0)
			return (int)i;
	return -1;
}

void kafka_topic_cfg_init(struct kafka_topic_cfg *c, const struct topic_config *defaults)
{
	memset(c->val, 0, sizeof(c->val));
	c->tc = *defaults;
	c->def = *defaults;
}

void kafka_topic_cfg_load(struct kafka_topic_cfg *c, const struct topic_config *tc,
			  const char *extra)
{
	c->tc = *tc;
	memset(c->val, 0, sizeof(c->val));
	for (const char *p = extra ? extra : ""; *p;) {
		const char *eq = strchr(p, '='), *nl = strchr(p, '\n');
		char name[128];
		int i;

		if (!eq || !nl || eq > nl)
			break;
		snprintf(name, sizeof(name), "%.*s", (int)(eq - p), p);
		i = kafka_topic_cfg_find(name);
		if (i >= 0 && defs[i].d.field == F_NONE)
			snprintf(c->val[i], sizeof(c->val[i]), "%.*s", (int)(nl - eq - 1), eq + 1);
		p = nl + 1;
	}
}

/* ---------------------------------------------------------------- parsing */

static int16_t invalid(char *msg, size_t cap, const char *name, const char *value, const char *why)
{
	snprintf(msg, cap, "Invalid value %s for configuration %s: %s", value ? value : "null",
		 name, why);
	return KERR_INVALID_CONFIG;
}

/* Kafka trims numbers and booleans before parsing them. */
static void trimmed(const char *s, char *out, size_t cap)
{
	size_t n;

	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	snprintf(out, cap, "%.*s", (int)n, s);
}

static bool parse_long(const char *s, int64_t *v)
{
	char *end;
	long long x;

	if (!*s)
		return false;
	errno = 0;
	x = strtoll(s, &end, 10);
	if (errno || *end)
		return false;
	*v = x;
	return true;
}

static bool in_choices(const char *choices, const char *s, size_t n)
{
	for (const char *p = choices; *p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (len == n && strncmp(p, s, n) == 0)
			return true;
		if (!comma)
			break;
		p = comma + 1;
	}
	return false;
}

/* "*" or "partition:broker,..." */
static bool throttle_ok(const char *s)
{
	if (strcmp(s, "*") == 0 || !*s)
		return true;
	for (const char *p = s; *p;) {
		const char *q = p;

		while (isspace((unsigned char)*q))
			q++;
		if (!isdigit((unsigned char)*q))
			return false;
		while (isdigit((unsigned char)*q))
			q++;
		if (*q++ != ':' || !isdigit((unsigned char)*q))
			return false;
		while (isdigit((unsigned char)*q))
			q++;
		while (isspace((unsigned char)*q))
			q++;
		if (*q && *q != ',')
			return false;
		p = *q ? q + 1 : q;
	}
	return true;
}

/* Check a list value item by item against the choices. */
static bool list_ok(const char *choices, const char *s)
{
	bool any = false;

	for (const char *p = s;;) {
		const char *comma = strchr(p, ',');
		const char *end = comma ? comma : p + strlen(p);

		while (p < end && isspace((unsigned char)*p))
			p++;
		while (end > p && isspace((unsigned char)end[-1]))
			end--;
		if (end == p || !in_choices(choices, p, (size_t)(end - p)))
			return false;
		any = true;
		if (!comma)
			break;
		p = comma + 1;
	}
	return any;
}

static int16_t check_range(const struct def *d, const char *v, const char *t, char *msg, size_t cap,
			   int64_t *out)
{
	char why[96];

	if (d->d.type == KAFKA_CFG_DOUBLE) {
		char *end;
		double x;

		errno = 0;
		x = strtod(t, &end);
		if (!*t || *end || errno || isnan(x))
			return invalid(msg, cap, d->d.name, v, "Not a number of type DOUBLE");
		if (x < (double)d->min || x > (double)d->max) {
			snprintf(why, sizeof(why), "Value must be between %lld and %lld",
				 (long long)d->min, (long long)d->max);
			return invalid(msg, cap, d->d.name, v, why);
		}
		return 0;
	}
	if (!parse_long(t, out) ||
	    (d->d.type == KAFKA_CFG_INT && (*out < -I32_MAX - 1 || *out > I32_MAX)))
		return invalid(msg, cap, d->d.name, v,
			       d->d.type == KAFKA_CFG_INT ? "Not a number of type INT"
							  : "Not a number of type LONG");
	if (*out < d->min) {
		snprintf(why, sizeof(why), "Value must be at least %lld", (long long)d->min);
		return invalid(msg, cap, d->d.name, v, why);
	}
	if (*out > d->max) {
		snprintf(why, sizeof(why), "Value must be no more than %lld", (long long)d->max);
		return invalid(msg, cap, d->d.name, v, why);
	}
	return 0;
}

/* Validate value for d; *num gets integers.  0 or KERR_INVALID_CONFIG. */
static int16_t check(const struct def *d, const char *v, char *msg, size_t cap, int64_t *num)
{
	char t[KAFKA_TOPIC_CFG_VAL_MAX];

	if (!v)
		return invalid(msg, cap, d->d.name, v, "a value is required");
	if (strlen(v) >= KAFKA_TOPIC_CFG_VAL_MAX)
		return invalid(msg, cap, d->d.name, "(too long)", "at most 255 characters here");
	for (const char *p = v; *p; p++)
		if (*p < 0x20 || *p > 0x7e || *p == '\'' || *p == '$' || *p == '\\')
			return invalid(msg, cap, d->d.name, v, "unexpected character");
	trimmed(v, t, sizeof(t));
	if (d->d.type == KAFKA_CFG_BOOLEAN || d->check == V_FALSE) {
		if (strcasecmp(t, "true") != 0 && strcasecmp(t, "false") != 0)
			return invalid(msg, cap, d->d.name, v,
				       "Expected value to be either true or false");
		if (d->check == V_FALSE && strcasecmp(t, "true") == 0)
			return invalid(msg, cap, d->d.name, v,
				       "Tiered Storage functionality is disabled in the broker");
		return 0;
	}
	switch (d->check) {
	case V_CHOICE:
		if (d->d.type == KAFKA_CFG_LIST ? list_ok(d->choices, v)
						: in_choices(d->choices, v, strlen(v)))
			return 0;
		{
			char why[160];
			size_t n = (size_t)snprintf(why, sizeof(why), "String must be one of: ");

			/* Kafka's wording: "a, b, c" */
			for (const char *p = d->choices; *p && n + 3 < sizeof(why); p++) {
				why[n++] = *p;
				if (*p == ',')
					why[n++] = ' ';
			}
			why[n] = '\0';
			return invalid(msg, cap, d->d.name, v, why);
		}
	case V_THROTTLE:
		return throttle_ok(v) ? 0
				      : invalid(msg, cap, d->d.name, v,
						"must be * or a list of partition:broker pairs");
	case V_GZIP:
		if (!parse_long(t, num))
			return invalid(msg, cap, d->d.name, v, "Not a number of type INT");
		if (*num == -1 || (*num >= 1 && *num <= 9))
			return 0;
		return invalid(msg, cap, d->d.name, v, "Value must be -1 or in [1, 9]");
	default:
		return check_range(d, v, t, msg, cap, num);
	}
}

/* ---------------------------------------------------------------- operations */

static void set_field(struct topic_config *tc, int field, int64_t v, const char *s)
{
	switch (field) {
	case F_RET_MS:
		tc->retention_ms = v;
		break;
	case F_RET_BYTES:
		tc->retention_bytes = v;
		break;
	case F_SEG_BYTES:
		tc->segment_bytes = v;
		break;
	case F_SEG_MS:
		tc->segment_ms = v;
		break;
	case F_MAX_MSG:
		tc->max_batch_bytes = v;
		break;
	case F_TS_TYPE:
		tc->timestamp_type = engine_ts_type_parse(s);
		break;
	default:
		break;
	}
}

/* Copy field from src to dst (delete: back to the default). */
static void copy_field(struct topic_config *dst, const struct topic_config *src, int field)
{
	int64_t v = 0;

	switch (field) {
	case F_RET_MS:
		v = src->retention_ms;
		break;
	case F_RET_BYTES:
		v = src->retention_bytes;
		break;
	case F_SEG_BYTES:
		v = src->segment_bytes;
		break;
	case F_SEG_MS:
		v = src->segment_ms;
		break;
	case F_MAX_MSG:
		v = src->max_batch_bytes;
		break;
	case F_TS_TYPE:
		dst->timestamp_type = src->timestamp_type;
		return;
	default:
		return;
	}
	set_field(dst, field, v, NULL);
}

/* APPEND / SUBTRACT of list items into out: Kafka adds items not yet
 * present and removes every copy of those subtracted. */
static void list_edit(const char *cur, const char *items, bool add, char *out, size_t cap)
{
	struct buf b;

	buf_init(&b, cap - 1);
	for (int pass = 0; pass < 2; pass++) {
		const char *src = pass == 0 ? cur : (add ? items : "");

		for (const char *p = src; *p;) {
			const char *comma = strchr(p, ',');
			const char *end = comma ? comma : p + strlen(p);
			size_t n;

			while (p < end && isspace((unsigned char)*p))
				p++;
			while (end > p && isspace((unsigned char)end[-1]))
				end--;
			n = (size_t)(end - p);
			if (n && (pass == 0 ? add || !in_choices(items, p, n)
					    : !in_choices(cur, p, n))) {
				if (b.len)
					SLUICE_IGNORE(buf_append(&b, ",", 1));
				SLUICE_IGNORE(buf_append(&b, p, n));
			}
			if (!comma)
				break;
			p = comma + 1;
		}
	}
	snprintf(out, cap, "%.*s", (int)b.len, b.len ? (const char *)b.data : "");
	buf_release(&b);
}

int16_t kafka_topic_cfg_apply(struct kafka_topic_cfg *c, int op, const char *name,
			      const char *value, char *msg, size_t cap)
{
	int i = kafka_topic_cfg_find(name);
	const struct def *d;
	char cur[KAFKA_TOPIC_CFG_VAL_MAX], edited[KAFKA_TOPIC_CFG_VAL_MAX];
	int64_t num = 0;
	int16_t err;

	if (i < 0) {
		snprintf(msg, cap, "Unknown topic config name: %s", name ? name : "null");
		return KERR_INVALID_CONFIG;
	}
	d = &defs[i];
	if (op == KAFKA_CFG_DELETE) {
		c->val[i][0] = '\0';
		copy_field(&c->tc, &c->def, d->d.field);
		return 0;
	}
	if (op == KAFKA_CFG_APPEND || op == KAFKA_CFG_SUBTRACT) {
		if (d->d.type != KAFKA_CFG_LIST) {
			snprintf(msg, cap, "Config value %s is not allowed for config key: %s",
				 op == KAFKA_CFG_APPEND ? "append" : "subtract", name);
			return KERR_INVALID_CONFIG;
		}
		err = check(d, value, msg, cap, &num);
		if (err)
			return err;
		kafka_topic_cfg_value(c, (size_t)i, cur, sizeof(cur));
		list_edit(cur, value, op == KAFKA_CFG_APPEND, edited, sizeof(edited));
		value = edited;
		if (!*value && d->check == V_CHOICE)
			return invalid(msg, cap, name, value, "the list cannot be empty");
	} else if (op != KAFKA_CFG_SET) {
		snprintf(msg, cap, "unknown config operation %d", op);
		return KERR_INVALID_REQUEST;
	}
	err = check(d, value, msg, cap, &num);
	if (err)
		return err;
	if (d->d.field == F_RET_MS || d->d.field == F_RET_BYTES) {
		if (num == 0)
			return invalid(msg, cap, name, value,
				       "0 is not supported by this store: -1 or a positive value");
	}
	if (d->d.field != F_NONE)
		set_field(&c->tc, d->d.field, num, value);
	else
		snprintf(c->val[i], sizeof(c->val[i]), "%s", value);
	return 0;
}

bool kafka_topic_cfg_value(const struct kafka_topic_cfg *c, size_t i, char *out, size_t cap)
{
	const struct def *d = &defs[i];
	const struct topic_config *t = &c->tc, *f = &c->def;
	int64_t v, dv;

	switch (d->d.field) {
	case F_NONE:
		snprintf(out, cap, "%s", c->val[i][0] ? c->val[i] : d->d.dflt);
		return c->val[i][0] == '\0';
	case F_TS_TYPE:
		snprintf(out, cap, "%s", engine_ts_type_name(t->timestamp_type));
		return t->timestamp_type == f->timestamp_type;
	case F_RET_MS:
		v = t->retention_ms, dv = f->retention_ms;
		break;
	case F_RET_BYTES:
		v = t->retention_bytes, dv = f->retention_bytes;
		break;
	case F_SEG_BYTES:
		v = t->segment_bytes, dv = f->segment_bytes;
		break;
	case F_SEG_MS:
		v = t->segment_ms, dv = f->segment_ms;
		break;
	default:
		v = t->max_batch_bytes, dv = f->max_batch_bytes;
		break;
	}
	snprintf(out, cap, "%lld", (long long)v);
	return v == dv;
}

int kafka_topic_cfg_extra(const struct kafka_topic_cfg *c, struct buf *out)
{
	int rc = 0;

	buf_reset(out);
	for (size_t i = 0; rc == 0 && i < KAFKA_TOPIC_CFG_N; i++)
		if (defs[i].d.field == F_NONE && c->val[i][0])
			rc = buf_printf(out, "%s=%s\n", defs[i].d.name, c->val[i]);
	if (rc == 0)
		rc = buf_append(out, "", 1);
	return rc;
}
