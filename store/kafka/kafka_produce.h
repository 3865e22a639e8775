/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Produce (key 0, v3-v11; v9+ flexible; the v10+ tagged leader hints of
 * NOT_LEADER_OR_FOLLOWER are never needed with one broker): every record
 * batch is validated (lib/batch) and appended as received by the log engine, which rewrites only baseOffset and
 * de-duplicates idempotent retries.  acks=0 gets no response (and a failed
 * acks=0 request closes the connection, as a Kafka broker does, so the
 * client notices); acks=1 and acks=-1 are both answered once the batches
 * are visible, that is durable per the fsync policy, or with
 * REQUEST_TIMED_OUT after the request's timeout.  Event-loop thread only.
 */
#ifndef SLUICE_STORE_KAFKA_PRODUCE_H
#define SLUICE_STORE_KAFKA_PRODUCE_H

#include <stdint.h>

#include "store/kafka/kwire.h"

struct kafka_req;

struct kafka_produce_partition {
	int32_t index;
	const uint8_t *records; /* borrowed from the frame; NULL when null */
	int32_t records_len;
};

struct kafka_produce_topic {
	char *name;
	int32_t npartitions;
	struct kafka_produce_partition *partitions;
};

struct kafka_produce_req {
	char *transactional_id;
	int16_t acks;
	int32_t timeout_ms;
	int32_t ntopics;
	struct kafka_produce_topic *topics;
};

struct kafka_produce_presult {
	int32_t index;
	int16_t error;
	int64_t base_offset;
	int64_t log_start;
	int64_t log_append_time;   /* v2+: LogAppendTime topics' stamp, else -1 */
	const char *error_message; /* v8+, NULL for none */
};

struct kafka_produce_tresult {
	const char *name;
	int32_t npartitions;
	struct kafka_produce_presult *partitions;
};

struct kafka_produce_resp {
	int32_t throttle_ms; /* quota throttle_time_ms (v1+) */
	int32_t ntopics;
	struct kafka_produce_tresult *topics;
};

void *kafka_produce_decode(struct kwire_dec *d, int16_t v);
void kafka_produce_encode(struct kwire_enc *e, int16_t v, const struct kafka_produce_resp *m);
void kafka_produce_handle(struct kafka_req *r);

#endif
