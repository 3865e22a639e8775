/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The record-level admin APIs over the Kafka protocol:
 *   DeleteRecords (key 21, v0-v2)         moves the partition's log start
 *                                         offset, durably (engine_delete_records)
 *   OffsetForLeaderEpoch (key 23, v2-v4)  the store has one leader epoch, 0:
 *                                         epoch 0 ends at the log end offset,
 *                                         any other epoch is unknown (-1, -1)
 *   DescribeProducers (key 61, v0)        the idempotent producers a partition
 *                                         remembers (no transactions: the
 *                                         transaction fields are -1)
 * Event-loop thread only.
 */
#ifndef SLUICE_STORE_KAFKA_RECORDS_H
#define SLUICE_STORE_KAFKA_RECORDS_H

struct kafka_req;

void kafka_records_delete_handle(struct kafka_req *r);
void kafka_records_epoch_handle(struct kafka_req *r);
void kafka_records_producers_handle(struct kafka_req *r);

#endif
