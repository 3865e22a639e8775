/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Topic administration over the Kafka protocol, on the schema framework
 * (generated structs in store/kafka/kmsg_gen.h; ListOffsets is in
 * kafka_listoffsets.h, InitProducerId in kafka_txn.h, DescribeConfigs and
 * the Alter*Configs in kafka_configs.h):
 *   CreateTopics (key 19, v0-v7)    partitions, replication factor 1 (or -1),
 *                                   Kafka's topic configs (kafka_topic_cfg.h);
 *                                   v5+ answers with the topic's configs, v7
 *                                   with its id
 *   DeleteTopics (key 20, v0-v6)    v6: by name or by topic id
 *   CreatePartitions (key 37, v0-v3) grow a topic (never shrink); durable
 * Event-loop thread only.
 */
#ifndef SLUICE_STORE_KAFKA_ADMIN_H
#define SLUICE_STORE_KAFKA_ADMIN_H

#include <stdbool.h>
#include <stdint.h>

#include "store/kafka/kwire.h"

struct kafka_req;

void kafka_admin_createtopics_handle(struct kafka_req *r);
void kafka_admin_deletetopics_handle(struct kafka_req *r);
void kafka_admin_createpartitions_handle(struct kafka_req *r);

#endif
