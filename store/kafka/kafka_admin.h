/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Offsets and topic administration over the Kafka protocol:
 *   ListOffsets (key 2, v0-v5)      earliest (-2), latest (-1), by timestamp
 *   CreateTopics (key 19, v0-v7)    partitions, replication factor 1 (or -1),
 *                                   Kafka's topic configs (kafka_topic_cfg.h);
 *                                   v5+ answers with the topic's configs, v7
 *                                   with its id
 *   DeleteTopics (key 20, v0-v6)    v6: by name or by topic id
 *   CreatePartitions (key 37, v0-v3) grow a topic (never shrink); durable
 * CreateTopics, DeleteTopics and CreatePartitions are on the schema
 * framework (generated structs in store/kafka/kmsg_gen.h).
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

struct kafka_initproducerid_req {
	char *transactional_id;
	int32_t transaction_timeout_ms;
};

void *kafka_admin_listoffsets_decode(struct kwire_dec *d, int16_t v);
void kafka_admin_listoffsets_handle(struct kafka_req *r);
void kafka_admin_createtopics_handle(struct kafka_req *r);
void kafka_admin_deletetopics_handle(struct kafka_req *r);
void kafka_admin_createpartitions_handle(struct kafka_req *r);
void *kafka_admin_initproducerid_decode(struct kwire_dec *d, int16_t v);
void kafka_admin_initproducerid_handle(struct kafka_req *r);

#endif
