/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ApiVersions (key 18, v0-v3) and Metadata (key 3, v0-v8): request decoders,
 * response encoders and handlers.  Metadata names node 0 (the advertised
 * address) as the only broker, the controller and the leader of every
 * partition, and auto-creates requested topics the way a Kafka broker with
 * auto.create.topics.enable does (when the log's auto_create is on and the
 * request allows it).  Event-loop thread only.
 */
#ifndef SLUICE_STORE_KAFKA_META_H
#define SLUICE_STORE_KAFKA_META_H

#include <stdbool.h>
#include <stdint.h>

#include "store/kafka/kwire.h"

struct kafka_req;

struct kafka_apiversions_req {
	char *client_software_name; /* v3+ */
	char *client_software_version;
};

struct kafka_metadata_req {
	int32_t ntopics; /* -1: every topic */
	char **topics;
	bool allow_auto_create;   /* v4+; implied true before */
	bool include_cluster_ops; /* v8+ */
	bool include_topic_ops;   /* v8+ */
};

struct kafka_metadata_topic {
	int16_t error;
	const char *name;
	int32_t partitions; /* every one led by node 0 */
	bool has_ops;       /* v8: authorized operations were asked for */
	int32_t ops;
};

struct kafka_metadata_resp {
	const char *host;
	int32_t port;
	const char *cluster_id;
	int32_t ntopics;
	const struct kafka_metadata_topic *topics;
	bool has_cluster_ops;
	int32_t cluster_ops;
};

void *kafka_meta_apiversions_decode(struct kwire_dec *d, int16_t v);
/* The body of an ApiVersions response at version v with error code err:
 * every API of the table with its range. */
void kafka_meta_apiversions_encode(struct kwire_enc *e, int16_t v, int16_t err);
void kafka_meta_apiversions_handle(struct kafka_req *r);

void *kafka_meta_metadata_decode(struct kwire_dec *d, int16_t v);
void kafka_meta_metadata_encode(struct kwire_enc *e, int16_t v,
				const struct kafka_metadata_resp *m);
void kafka_meta_metadata_handle(struct kafka_req *r);

#endif
