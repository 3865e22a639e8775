/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Topic administration over the Kafka protocol (ListOffsets moved to
 * kafka_listoffsets.h):
 *   CreateTopics (key 19, v0-v4)    partitions, replication factor 1 (or -1),
 *                                   the topic configs the log engine keeps
 *   DeleteTopics (key 20, v0-v3)
 *   DescribeConfigs (key 32, v0-v3) topic resources (and an empty broker)
 * Event-loop thread only.
 */
#ifndef SLUICE_STORE_KAFKA_ADMIN_H
#define SLUICE_STORE_KAFKA_ADMIN_H

#include <stdbool.h>
#include <stdint.h>

#include "store/kafka/kwire.h"

struct kafka_req;

struct kafka_config_entry {
	char *name;
	char *value; /* nullable */
};

struct kafka_createtopics_topic {
	char *name;
	int32_t num_partitions;
	int16_t replication_factor;
	int32_t nassignments;
	int32_t *assignment_partition; /* partition index per assignment */
	bool assignment_other_broker;  /* some assignment names a broker other than 0 */
	bool assignment_bad_replicas;  /* some assignment has != 1 replica */
	int32_t nconfigs;
	struct kafka_config_entry *configs;
};

struct kafka_createtopics_req {
	int32_t ntopics;
	struct kafka_createtopics_topic *topics;
	int32_t timeout_ms;
	bool validate_only; /* v1+ */
};

struct kafka_deletetopics_req {
	int32_t ntopics;
	char **topics;
	int32_t timeout_ms;
};

struct kafka_describeconfigs_resource {
	int8_t type; /* 2 topic, 4 broker */
	char *name;
	int32_t nkeys; /* -1: every config */
	char **keys;
};

struct kafka_describeconfigs_req {
	int32_t nresources;
	struct kafka_describeconfigs_resource *resources;
	bool include_synonyms;      /* v1+ */
	bool include_documentation; /* v3+ */
};

void *kafka_admin_createtopics_decode(struct kwire_dec *d, int16_t v);
void kafka_admin_createtopics_handle(struct kafka_req *r);
void *kafka_admin_deletetopics_decode(struct kwire_dec *d, int16_t v);
void kafka_admin_deletetopics_handle(struct kafka_req *r);
void *kafka_admin_describeconfigs_decode(struct kwire_dec *d, int16_t v);
void kafka_admin_describeconfigs_handle(struct kafka_req *r);

#endif
