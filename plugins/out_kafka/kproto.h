/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The client side of the few Kafka protocol messages the kafka output's
 * native producer speaks (knative.h): request encoders and response
 * decoders, pure functions over struct buf / struct cursor so they are unit
 * tested and fuzzed alone.  Versions are the newest non-flexible ones that
 * both Apache Kafka 4.x and sluice-store accept: ApiVersions v0, Metadata
 * v4, InitProducerId v1, Produce v7 (v3+ carries RecordBatch v2, v7 allows
 * zstd).  Responses come from the network: every count is bounded by the
 * bytes left and a malformed answer is -ERR_CORRUPT, never a crash.
 */
#ifndef SLUICE_OUT_KAFKA_KPROTO_H
#define SLUICE_OUT_KAFKA_KPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

enum {
	KP_PRODUCE = 0,
	KP_METADATA = 3,
	KP_SASL_HANDSHAKE = 17,
	KP_API_VERSIONS = 18,
	KP_SASL_AUTHENTICATE = 36,
	KP_INIT_PRODUCER_ID = 22,
};

#define KP_PRODUCE_VERSION 7
#define KP_METADATA_VERSION 4
#define KP_INIT_PRODUCER_ID_VERSION 1
#define KP_NAME_MAX 256

/* Kafka error codes the producer tells apart. */
enum {
	KE_NONE = 0,
	KE_CORRUPT_MESSAGE = 2,
	KE_UNKNOWN_TOPIC_OR_PARTITION = 3,
	KE_LEADER_NOT_AVAILABLE = 5,
	KE_NOT_LEADER_OR_FOLLOWER = 6,
	KE_REQUEST_TIMED_OUT = 7,
	KE_BROKER_NOT_AVAILABLE = 8,
	KE_REPLICA_NOT_AVAILABLE = 9,
	KE_MESSAGE_TOO_LARGE = 10,
	KE_NETWORK_EXCEPTION = 13,
	KE_INVALID_TOPIC = 17,
	KE_RECORD_LIST_TOO_LARGE = 18,
	KE_NOT_ENOUGH_REPLICAS = 19,
	KE_NOT_ENOUGH_REPLICAS_AFTER_APPEND = 20,
	KE_INVALID_REQUIRED_ACKS = 21,
	KE_TOPIC_AUTHORIZATION_FAILED = 29,
	KE_CLUSTER_AUTHORIZATION_FAILED = 31,
	KE_INVALID_TIMESTAMP = 32,
	KE_UNSUPPORTED_VERSION = 35,
	KE_UNSUPPORTED_FOR_MESSAGE_FORMAT = 43,
	KE_OUT_OF_ORDER_SEQUENCE = 45,
	KE_DUPLICATE_SEQUENCE = 46,
	KE_INVALID_PRODUCER_EPOCH = 47,
	KE_UNKNOWN_PRODUCER_ID = 59,
	KE_FENCED_LEADER_EPOCH = 74,
	KE_UNKNOWN_LEADER_EPOCH = 75,
	KE_INVALID_RECORD = 87,
	KE_PRODUCER_FENCED = 90,
};

struct kp_broker {
	int32_t node;
	int32_t port;
	char host[KP_NAME_MAX];
};

struct kp_partition {
	int16_t err;
	int32_t id;
	int32_t leader;
};

struct kp_topic {
	int16_t err;
	char name[KP_NAME_MAX];
	int32_t nparts;
	struct kp_partition *parts;
};

struct kp_metadata {
	struct kp_broker *brokers;
	size_t nbrokers;
	struct kp_topic *topics;
	size_t ntopics;
};

struct kp_api_range {
	int16_t min, max; /* -1, -1: not offered */
};

/* Request framing: the size prefix and header v1; kp_end() fills in the size.
 * 0 or a negative code (the buffer's bound). */
int kp_begin(struct buf *b, int16_t api, int16_t version, int32_t corr, size_t *start);
void kp_end(struct buf *b, size_t start);

int kp_api_versions_req(struct buf *b, int32_t corr);
/* topics NULL with n 0: every topic. */
int kp_metadata_req(struct buf *b, int32_t corr, const char *const *topics, size_t n);
int kp_init_pid_req(struct buf *b, int32_t corr, int32_t txn_timeout_ms);
/* One topic, one partition, the record batches `records` back to back. */
int kp_produce_req(struct buf *b, int32_t corr, int16_t acks, int32_t timeout_ms, const char *topic,
		   int32_t partition, const void *records, size_t len);

/* SaslHandshake v1 (one mechanism) and SaslAuthenticate v1. */
int kp_sasl_handshake_req(struct buf *b, int32_t corr, const char *mechanism);
int kp_sasl_auth_req(struct buf *b, int32_t corr, const void *auth, size_t len);
int kp_sasl_handshake_parse(const uint8_t *p, size_t n, int16_t *err);
/* The broker's error message into msg ("" when none); auth: its bytes
 * (borrowed from p). */
int kp_sasl_auth_parse(const uint8_t *p, size_t n, int16_t *err, char *msg, size_t cap,
		       const uint8_t **auth, size_t *alen);

/* Every response starts with the correlation id (header v0). */
int kp_resp_corr(const uint8_t *p, size_t n, int32_t *corr);
/* ApiVersions v0: the range of the three APIs the producer uses. */
int kp_api_versions_parse(const uint8_t *p, size_t n, int16_t *err, struct kp_api_range *produce,
			  struct kp_api_range *metadata, struct kp_api_range *init_pid);
/* Metadata v4 into md (kp_metadata_release() it, also on error). */
int kp_metadata_parse(const uint8_t *p, size_t n, struct kp_metadata *md);
void kp_metadata_release(struct kp_metadata *md);
int kp_init_pid_parse(const uint8_t *p, size_t n, int16_t *err, int64_t *pid, int16_t *epoch);
/* Produce v7: the error of (topic, partition); -ERR_NOT_FOUND if absent. */
int kp_produce_parse(const uint8_t *p, size_t n, const char *topic, int32_t partition, int16_t *err,
		     int64_t *base_offset);

/* Names of the error codes above ("error_<n>" otherwise, in buf). */
const char *kp_err_name(int16_t e, char *buf, size_t len);

#endif
