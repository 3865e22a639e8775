/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Offsets and topic administration over the Kafka protocol:
 *   ListOffsets (key 2, v0-v5)      earliest (-2), latest (-1), by timestamp
 *   CreateTopics (key 19, v0-v6)    partitions, replication factor 1 (or -1),
 *                                   Kafka's topic configs (kafka_topic_cfg.h);
 *                                   v5+ answers with the topic's configs
 *   DeleteTopics (key 20, v0-v5)
 *   CreatePartitions (key 37, v0-v3) grow a topic (never shrink); durable
 *   InitProducerId (key 22, v0-v1)  idempotent producers; transactional ids
 *                                   are refused (no transactions)
 * Event-loop thread only.
 */
#ifndef SLUICE_STORE_KAFKA_ADMIN_H
#define SLUICE_STORE_KAFKA_ADMIN_H

#include <stdbool.h>
#include <stdint.h>

#include "store/kafka/kwire.h"

struct kafka_req;

struct kafka_listoffsets_partition {
	int32_t index;
	int32_t current_leader_epoch; /* v4+ */
	int64_t timestamp;
	int32_t max_num_offsets; /* v0 */
};

struct kafka_listoffsets_topic {
	char *name;
	int32_t npartitions;
	struct kafka_listoffsets_partition *partitions;
};

struct kafka_listoffsets_req {
	int32_t replica_id;
	int8_t isolation_level; /* v2+ */
	int32_t ntopics;
	struct kafka_listoffsets_topic *topics;
};

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

struct kafka_createpartitions_topic {
	char *name;
	int32_t count;
	int32_t nassignments; /* -1: null (the store picks) */
	bool assignment_bad;  /* some assignment is not exactly [0] */
};

struct kafka_createpartitions_req {
	int32_t ntopics;
	struct kafka_createpartitions_topic *topics;
	int32_t timeout_ms;
	bool validate_only;
};

struct kafka_initproducerid_req {
	char *transactional_id;
	int32_t transaction_timeout_ms;
};

void *kafka_admin_listoffsets_decode(struct kwire_dec *d, int16_t v);
void kafka_admin_listoffsets_handle(struct kafka_req *r);
void *kafka_admin_createtopics_decode(struct kwire_dec *d, int16_t v);
void kafka_admin_createtopics_handle(struct kafka_req *r);
void *kafka_admin_deletetopics_decode(struct kwire_dec *d, int16_t v);
void kafka_admin_deletetopics_handle(struct kafka_req *r);
void *kafka_admin_createpartitions_decode(struct kwire_dec *d, int16_t v);
void kafka_admin_createpartitions_handle(struct kafka_req *r);
void *kafka_admin_initproducerid_decode(struct kwire_dec *d, int16_t v);
void kafka_admin_initproducerid_handle(struct kafka_req *r);

#endif
