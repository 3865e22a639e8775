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
 * store's config file).  On the schema framework: the handlers take and
 * answer the generated structs (store/kafka/kmsg_gen.h).  Event-loop thread
 * only.
 */
#ifndef SLUICE_STORE_KAFKA_CONFIGS_H
#define SLUICE_STORE_KAFKA_CONFIGS_H

struct kafka_req;

void kafka_configs_describe_handle(struct kafka_req *r);
void kafka_configs_alter_handle(struct kafka_req *r);
void kafka_configs_incremental_handle(struct kafka_req *r);

#endif
