/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Config administration over the Kafka protocol:
 *   DescribeConfigs (key 32, v0-v4)          topic and broker resources,
 *                                            synonyms, documentation, types
 *   AlterConfigs (key 33, v0-v2)             a topic's whole set of overrides
 *   IncrementalAlterConfigs (key 44, v0-v1)  SET / DELETE / APPEND / SUBTRACT
 * Topic configs follow Kafka's table (store/kafka/kafka_topic_cfg.h): the
 * honoured ones change the topic live and durably, the recorded ones are
 * persisted and reported.  Broker configs are read-only (they come from the
 * store's config file).  Event-loop thread only.
 */
#ifndef SLUICE_STORE_KAFKA_CONFIGS_H
#define SLUICE_STORE_KAFKA_CONFIGS_H

#include <stdbool.h>
#include <stdint.h>

#include "store/kafka/kwire.h"

struct kafka_req;

struct kafka_configs_describe_resource {
	int8_t type; /* 2 topic, 4 broker */
	char *name;
	int32_t nkeys; /* -1: every config */
	char **keys;
};

struct kafka_configs_describe_req {
	int32_t nresources;
	struct kafka_configs_describe_resource *resources;
	bool include_synonyms;      /* v1+ */
	bool include_documentation; /* v3+ */
};

/* One change: AlterConfigs has op SET for each (and resets the rest). */
struct kafka_configs_change {
	char *name;
	int8_t op;   /* enum kafka_cfg_op */
	char *value; /* nullable */
};

struct kafka_configs_alter_resource {
	int8_t type;
	char *name;
	int32_t nchanges;
	struct kafka_configs_change *changes;
};

struct kafka_configs_alter_req {
	int32_t nresources;
	struct kafka_configs_alter_resource *resources;
	bool validate_only;
};

void *kafka_configs_describe_decode(struct kwire_dec *d, int16_t v);
void kafka_configs_describe_handle(struct kafka_req *r);
void *kafka_configs_alter_decode(struct kwire_dec *d, int16_t v);
void kafka_configs_alter_handle(struct kafka_req *r);
void *kafka_configs_incremental_decode(struct kwire_dec *d, int16_t v);
void kafka_configs_incremental_handle(struct kafka_req *r);

#endif
