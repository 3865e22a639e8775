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
#include "store/kafka/kafka_errors.h"
#include "store/kafka/kschema.h"
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
	KAFKA_ADD_PARTITIONS_TO_TXN = 24,
	KAFKA_ADD_OFFSETS_TO_TXN = 25,
	KAFKA_END_TXN = 26,
	KAFKA_TXN_OFFSET_COMMIT = 28,
	KAFKA_DESCRIBE_ACLS = 29,
	KAFKA_CREATE_ACLS = 30,
	KAFKA_DELETE_ACLS = 31,
	KAFKA_DESCRIBE_CONFIGS = 32,
	KAFKA_ALTER_CONFIGS = 33,
	KAFKA_DESCRIBE_LOG_DIRS = 35,
	KAFKA_SASL_AUTHENTICATE = 36,
	KAFKA_CREATE_PARTITIONS = 37,
	KAFKA_DELETE_GROUPS = 42,
	KAFKA_INCREMENTAL_ALTER_CONFIGS = 44,
	KAFKA_OFFSET_DELETE = 47,
	KAFKA_DESCRIBE_USER_SCRAM = 50,
	KAFKA_ALTER_USER_SCRAM = 51,
	KAFKA_DESCRIBE_CLUSTER = 60,
	KAFKA_DELETE_RECORDS = 21,
	KAFKA_OFFSET_FOR_LEADER_EPOCH = 23,
	KAFKA_DESCRIBE_PRODUCERS = 61,
};

/* The error-code buckets kept per API in the metrics (codes outside map to
 * the last bucket). */
#define KAFKA_ERR_BUCKETS 96

/* A parsed request header (v1, or v2 for flexible versions). */
struct kafka_hdr {
	int16_t api_key;
	int16_t api_version;
	int32_t correlation_id;
	char *client_id; /* in the arena; NULL when null */
	bool flex;       /* body and header use flexible encodings */
	size_t body_off; /* where the body starts in the frame */
	size_t trailing; /* bytes left after the decoded body (ignored) */
};

struct kafka_api {
	int16_t key;
	int16_t min;
	int16_t max;
	int16_t flex_min; /* first flexible version (INT16_MAX: none); unused with req */
	const char *name;
	/* Decode a request body of this API at version v into an arena-allocated
	 * struct; NULL when the bytes are malformed.  For entries not yet on the
	 * schema framework, and for a framework entry with framings outside the
	 * schema (SaslAuthenticate's bare tokens), which hands the real versions
	 * to kschema_decode; NULL: kschema_decode with req. */
	void *(*decode)(struct kwire_dec *d, int16_t v);
	/* Serve a decoded request (store/kafka/kafka_req.h). */
	void (*handle)(struct kafka_req *r);
	/* Schema framework (store/kafka/kschema.h): the request is decoded with
	 * req (r->body is its generated struct) and kafka_req_respond() encodes
	 * with resp; the first flexible version is req's. */
	const struct kschema_msg *req;
	const struct kschema_msg *resp;
};

/* A table entry on the schema framework: KAFKA_API_MSG(KAFKA_METADATA, 0, 12,
 * "Metadata", kafka_meta_metadata_handle, metadata) uses
 * kmsg_metadata_{req,resp}_msg. */
#define KAFKA_API_MSG(key, min, max, name, handle, api)                                \
	{                                                                              \
		(key), (min), (max), 0, (name), NULL, (handle), &kmsg_##api##_req_msg, \
			&kmsg_##api##_resp_msg                                         \
	}

/* The first flexible version of an entry. */
static inline int16_t kafka_api_flex_min(const struct kafka_api *a)
{
	return a->req ? a->req->flex_min : a->flex_min;
}

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
 * p[h->body_off..n).  NULL when malformed.  Bytes after a whole body are
 * ignored, as Kafka's brokers ignore them (librdkafka 2.16 sends Metadata
 * v12 with IncludeClusterAuthorizedOperations, a v8-10 field); their count
 * goes to h->trailing. */
void *kafka_api_decode_body(struct kafka_hdr *h, const uint8_t *p, size_t n, struct arena *a);
/* The arena bound for decoding a frame of n bytes: a small multiple of the
 * frame, with room for legitimate requests of many tiny elements (Metadata
 * naming 10,000 one-letter topics costs ~11x its bytes decoded) while a
 * large frame of empty elements still cannot cost more than ~8x. */
size_t kafka_api_arena_bound(size_t n);

/* Map a log-engine result (0 or a negative lib/err.h code) to the Kafka error
 * code a broker returns for it. */
int16_t kafka_api_error(int rc);

#endif
