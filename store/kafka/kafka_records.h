/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The record-level admin APIs over the Kafka protocol:
 *   DeleteRecords (key 21, v0-v2)         moves the partition's log start
 *                                         offset, durably (engine_delete_records)
 *   OffsetForLeaderEpoch (key 23, v0-v4)  the store has one leader epoch, 0:
 *                                         epoch 0 ends at the log end offset,
 *                                         any other epoch is unknown (-1, -1)
 *   DescribeProducers (key 61, v0)        the idempotent producers a partition
 *                                         remembers (no transactions: the
 *                                         transaction fields are -1)
 * Event-loop thread only.
 */
#ifndef SLUICE_STORE_KAFKA_RECORDS_H
#define SLUICE_STORE_KAFKA_RECORDS_H

#include <stdint.h>

#include "store/kafka/kwire.h"

struct kafka_req;

/* One partition of any of the three requests. */
struct kafka_records_partition {
	int32_t index;
	int64_t offset;               /* DeleteRecords: delete below it (-1: high watermark) */
	int32_t current_leader_epoch; /* OffsetForLeaderEpoch v2+ (-1: no check) */
	int32_t leader_epoch;         /* OffsetForLeaderEpoch: the epoch asked about */
};

struct kafka_records_topic {
	char *name;
	int32_t npartitions;
	struct kafka_records_partition *partitions;
};

struct kafka_records_req {
	int32_t replica_id; /* OffsetForLeaderEpoch v3+ */
	int32_t timeout_ms; /* DeleteRecords */
	int32_t ntopics;
	struct kafka_records_topic *topics;
};

void *kafka_records_delete_decode(struct kwire_dec *d, int16_t v);
void kafka_records_delete_handle(struct kafka_req *r);
void *kafka_records_epoch_decode(struct kwire_dec *d, int16_t v);
void kafka_records_epoch_handle(struct kafka_req *r);
void *kafka_records_producers_decode(struct kwire_dec *d, int16_t v);
void kafka_records_producers_handle(struct kafka_req *r);

#endif
