/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Kafka APIs sluice-store implements: API keys, the protocol's error
 * codes, the table of supported version ranges (what ApiVersions advertises
 * and the server enforces), request-header parsing and the per-API decoders
 * and handlers the server dispatches to.
 *
 * Version policy (docs/KAFKA.md): every API is implemented for its whole
 * non-flexible range except Produce < 3 and Fetch < 4, which carry the old
 * message formats (magic 0/1) the store does not keep.  ApiVersions is also
 * implemented at v3, the first flexible version, because librdkafka opens with
 * it; KIP-511: an ApiVersions request at a version above ours is answered in
 * v0 with UNSUPPORTED_VERSION and our ranges.
 *
 * Everything here is pure (no I/O) and thread-safe; the decoders are what
 * tests/fuzz/fuzz_kafka_request.c exercises.
 */
#ifndef SLUICE_STORE_KAFKA_API_H
#define SLUICE_STORE_KAFKA_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/arena.h"
#include "store/kafka/kwire.h"

struct kafka_req;

enum kafka_api_key {
	KAFKA_PRODUCE = 0,
	KAFKA_FETCH = 1,
	KAFKA_LIST_OFFSETS = 2,
	KAFKA_METADATA = 3,
	KAFKA_OFFSET_COMMIT = 8,
	KAFKA_OFFSET_FETCH = 9,
	KAFKA_FIND_COORDINATOR = 10,
	KAFKA_JOIN_GROUP = 11,
	KAFKA_HEARTBEAT = 12,
	KAFKA_LEAVE_GROUP = 13,
	KAFKA_SYNC_GROUP = 14,
	KAFKA_DESCRIBE_GROUPS = 15,
	KAFKA_LIST_GROUPS = 16,
	KAFKA_SASL_HANDSHAKE = 17,
	KAFKA_API_VERSIONS = 18,
	KAFKA_CREATE_TOPICS = 19,
	KAFKA_DELETE_TOPICS = 20,
	KAFKA_INIT_PRODUCER_ID = 22,
	KAFKA_DESCRIBE_ACLS = 29,
	KAFKA_CREATE_ACLS = 30,
	KAFKA_DELETE_ACLS = 31,
	KAFKA_DESCRIBE_CONFIGS = 32,
	KAFKA_SASL_AUTHENTICATE = 36,
	KAFKA_DESCRIBE_USER_SCRAM = 50,
	KAFKA_ALTER_USER_SCRAM = 51,
};

/* Error codes of the Kafka protocol (org.apache.kafka.common.protocol.Errors). */
enum kafka_error {
	KERR_UNKNOWN_SERVER_ERROR = -1,
	KERR_NONE = 0,
	KERR_OFFSET_OUT_OF_RANGE = 1,
	KERR_CORRUPT_MESSAGE = 2,
	KERR_UNKNOWN_TOPIC_OR_PARTITION = 3,
	KERR_INVALID_FETCH_SIZE = 4,
	KERR_LEADER_NOT_AVAILABLE = 5,
	KERR_NOT_LEADER_OR_FOLLOWER = 6,
	KERR_REQUEST_TIMED_OUT = 7,
	KERR_MESSAGE_TOO_LARGE = 10,
	KERR_OFFSET_METADATA_TOO_LARGE = 12,
	KERR_COORDINATOR_LOAD_IN_PROGRESS = 14,
	KERR_COORDINATOR_NOT_AVAILABLE = 15,
	KERR_NOT_COORDINATOR = 16,
	KERR_INVALID_TOPIC_EXCEPTION = 17,
	KERR_RECORD_LIST_TOO_LARGE = 18,
	KERR_INVALID_REQUIRED_ACKS = 21,
	KERR_ILLEGAL_GENERATION = 22,
	KERR_INCONSISTENT_GROUP_PROTOCOL = 23,
	KERR_INVALID_GROUP_ID = 24,
	KERR_UNKNOWN_MEMBER_ID = 25,
	KERR_INVALID_SESSION_TIMEOUT = 26,
	KERR_REBALANCE_IN_PROGRESS = 27,
	KERR_INVALID_COMMIT_OFFSET_SIZE = 28,
	KERR_TOPIC_AUTHORIZATION_FAILED = 29,
	KERR_GROUP_AUTHORIZATION_FAILED = 30,
	KERR_CLUSTER_AUTHORIZATION_FAILED = 31,
	KERR_INVALID_TIMESTAMP = 32,
	KERR_UNSUPPORTED_SASL_MECHANISM = 33,
	KERR_ILLEGAL_SASL_STATE = 34,
	KERR_UNSUPPORTED_VERSION = 35,
	KERR_TOPIC_ALREADY_EXISTS = 36,
	KERR_INVALID_PARTITIONS = 37,
	KERR_INVALID_REPLICATION_FACTOR = 38,
	KERR_INVALID_REPLICA_ASSIGNMENT = 39,
	KERR_INVALID_CONFIG = 40,
	KERR_INVALID_REQUEST = 42,
	KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT = 43,
	KERR_OUT_OF_ORDER_SEQUENCE_NUMBER = 45,
	KERR_DUPLICATE_SEQUENCE_NUMBER = 46,
	KERR_INVALID_PRODUCER_EPOCH = 47,
	KERR_INVALID_PRODUCER_ID_MAPPING = 49,
	KERR_INVALID_TRANSACTION_TIMEOUT = 50,
	KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53,
	KERR_KAFKA_STORAGE_ERROR = 56,
	KERR_SASL_AUTHENTICATION_FAILED = 58,
	KERR_UNKNOWN_PRODUCER_ID = 59,
	KERR_NON_EMPTY_GROUP = 68,
	KERR_GROUP_ID_NOT_FOUND = 69,
	KERR_UNSUPPORTED_COMPRESSION_TYPE = 76,
	KERR_MEMBER_ID_REQUIRED = 79,
	KERR_GROUP_MAX_SIZE_REACHED = 81,
	KERR_FENCED_INSTANCE_ID = 82,
	KERR_INVALID_RECORD = 87,
};

/* The error-code buckets kept per API in the metrics (codes outside map to
 * the last bucket). */
#define KAFKA_ERR_BUCKETS 96

/* A parsed request header (v1, or v2 for flexible versions). */
struct kafka_hdr {
	int16_t api_key;
	int16_t api_version;
	int32_t correlation_id;
	char *client_id;             /* in the arena; NULL when null */
	bool flex;                   /* body and header use flexible encodings */
	size_t body_off;             /* where the body starts in the frame */
};

struct kafka_api {
	int16_t key;
	int16_t min;
	int16_t max;
	int16_t flex_min;            /* first flexible version (INT16_MAX: none) */
	const char *name;
	/* Decode a request body of this API at version v into an arena-allocated
	 * struct; NULL when the bytes are malformed. */
	void *(*decode)(struct kwire_dec *d, int16_t v);
	/* Serve a decoded request (store/kafka/kafka_req.h). */
	void (*handle)(struct kafka_req *r);
};

/* The entry for key, or NULL when the API is not implemented. */
const struct kafka_api *kafka_api_find(int16_t key);
/* Every entry, for ApiVersions and metrics: n entries from index 0. */
const struct kafka_api *kafka_api_table(size_t *n);
/* Index of key in the table (for per-API counters), or -1. */
int kafka_api_index(int16_t key);
/* "Produce", "Fetch", ... or "Unknown". */
const char *kafka_api_name(int16_t key);

/* Parse the request header at the start of a frame (the bytes after the
 * 4-byte size).  Returns 0 with *h filled and h->flex set from the API's
 * flexible range; -ERR_UNSUPPORTED when the API key or version is not
 * implemented (key, version and correlation id are still filled, for the
 * KIP-511 ApiVersions answer and the log line); -ERR_CORRUPT when even those
 * are short.  client_id goes into the arena. */
int kafka_api_parse_header(const uint8_t *p, size_t n, struct arena *a, struct kafka_hdr *h);

/* Decode the body of a frame whose header parsed: the API's decoder over
 * p[h->body_off..n), also checking that nothing follows the body.  NULL when
 * malformed. */
void *kafka_api_decode_body(const struct kafka_hdr *h, const uint8_t *p, size_t n,
			    struct arena *a);

/* Map a log-engine result (0 or a negative lib/err.h code) to the Kafka error
 * code a broker returns for it. */
int16_t kafka_api_error(int rc);

#endif
