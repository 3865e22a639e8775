/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kafka's topic configs (the names, types, defaults and validators of Kafka
 * 4.x's TopicConfig) and one topic's set of them, for CreateTopics,
 * DescribeConfigs, AlterConfigs and IncrementalAlterConfigs.
 *
 * Every config Kafka accepts on a topic is accepted here.  Those the log
 * engine implements are "honoured" and live in struct topic_config:
 * retention.ms, retention.bytes, segment.bytes, segment.ms,
 * max.message.bytes, message.timestamp.type.  The others are "recorded":
 * validated as Kafka validates them, persisted with the topic (the engine's
 * extra configs) and reported by DescribeConfigs, without effect on how the
 * store behaves (docs/KAFKA.md lists both).  Unknown names and invalid
 * values give INVALID_CONFIG with Kafka's wording.
 *
 * Pure functions over caller-owned structs; thread-safe.
 */
#ifndef SLUICE_STORE_KAFKA_TOPIC_CFG_H
#define SLUICE_STORE_KAFKA_TOPIC_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "store/engine/engine_types.h"

/* DescribeConfigs config_type values. */
enum kafka_cfg_type {
	KAFKA_CFG_BOOLEAN = 1,
	KAFKA_CFG_STRING = 2,
	KAFKA_CFG_INT = 3,
	KAFKA_CFG_LONG = 5,
	KAFKA_CFG_DOUBLE = 6,
	KAFKA_CFG_LIST = 7,
};

#define KAFKA_TOPIC_CFG_N 33
#define KAFKA_TOPIC_CFG_VAL_MAX 256
#define KAFKA_TOPIC_CFG_MSG_MAX 300

struct kafka_topic_cfg_def {
	const char *name;
	int8_t type;      /* enum kafka_cfg_type */
	int8_t field;     /* honoured: which topic_config field (1..6); 0: recorded */
	const char *dflt; /* Kafka's default (recorded configs) */
	const char *doc;
};

/* One topic's configs: the honoured ones in tc, the recorded ones that were
 * set (non-empty) in val, indexed like the definitions; def holds the
 * store's defaults for the honoured ones. */
struct kafka_topic_cfg {
	struct topic_config tc;
	struct topic_config def;
	char val[KAFKA_TOPIC_CFG_N][KAFKA_TOPIC_CFG_VAL_MAX];
};

/* The definitions, sorted by name: index i < KAFKA_TOPIC_CFG_N. */
const struct kafka_topic_cfg_def *kafka_topic_cfg_def(size_t i);
/* Index of a config name, or -1. */
int kafka_topic_cfg_find(const char *name);

/* Everything at its default: tc = def = defaults (the engine's). */
void kafka_topic_cfg_init(struct kafka_topic_cfg *c, const struct topic_config *defaults);
/* A topic as the engine has it: its config and its extra ("key=value\n"
 * lines; unknown keys skipped). */
void kafka_topic_cfg_load(struct kafka_topic_cfg *c, const struct topic_config *tc,
			  const char *extra);

/* The operations of IncrementalAlterConfigs (and CreateTopics/AlterConfigs
 * use set).  0, or KERR_INVALID_CONFIG with msg (Kafka's wording).  value
 * may be NULL for delete (and for set, where Kafka too calls it invalid). */
enum kafka_cfg_op {
	KAFKA_CFG_SET = 0,
	KAFKA_CFG_DELETE = 1,
	KAFKA_CFG_APPEND = 2,
	KAFKA_CFG_SUBTRACT = 3
};
int16_t kafka_topic_cfg_apply(struct kafka_topic_cfg *c, int op, const char *name,
			      const char *value, char *msg, size_t cap);

/* The current value of config i as text into out (NUL-terminated), and
 * whether it is the default (not set on the topic). */
bool kafka_topic_cfg_value(const struct kafka_topic_cfg *c, size_t i, char *out, size_t cap);

/* The recorded configs that are set, as the engine's extra (sorted). */
int kafka_topic_cfg_extra(const struct kafka_topic_cfg *c, struct buf *out);

#endif
