/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ApiVersions (key 18, v0-v4), Metadata (key 3, v0-v12) and DescribeCluster
 * (key 60): handlers over the generated message structs (kmsg_gen.h).
 * Metadata names node 0 (the advertised address) as the only broker, the
 * controller and the leader of every partition, gives each topic its id
 * (v10+), answers the KIP-430 authorized-operations sets when asked, and
 * auto-creates requested topics the way a Kafka broker with
 * auto.create.topics.enable does (when the log's auto_create is on and the
 * request allows it).  Event-loop thread only.
 */
#ifndef SLUICE_STORE_KAFKA_META_H
#define SLUICE_STORE_KAFKA_META_H

#include <stdint.h>

#include "store/kafka/kwire.h"

struct kafka_req;

/* The body of an ApiVersions response at version v with error code err:
 * every API of the table with its range (also the KIP-511 v0 answer to a
 * version we do not know). */
void kafka_meta_apiversions_encode(struct kwire_enc *e, int16_t v, int16_t err);
void kafka_meta_apiversions_handle(struct kafka_req *r);

void kafka_meta_metadata_handle(struct kafka_req *r);
/* DescribeCluster (KIP-700): this broker as the cluster and its controller. */
void kafka_meta_describecluster_handle(struct kafka_req *r);

#endif
