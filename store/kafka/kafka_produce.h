/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Produce (key 0, v3-v11 on the schema framework, kmsg_produce_*; v9+
 * flexible; the v10+ tagged leader hints of NOT_LEADER_OR_FOLLOWER are never
 * needed with one broker): every record batch is validated (lib/batch) and
 * appended as received by the log engine, which rewrites only baseOffset and
 * de-duplicates idempotent retries.  acks=0 gets no response (and a failed
 * acks=0 request closes the connection, as a Kafka broker does, so the
 * client notices); acks=1 and acks=-1 are both answered once the batches
 * are visible, that is durable per the fsync policy, or with
 * REQUEST_TIMED_OUT after the request's timeout.  Event-loop thread only.
 */
#ifndef SLUICE_STORE_KAFKA_PRODUCE_H
#define SLUICE_STORE_KAFKA_PRODUCE_H

struct kafka_req;

void kafka_produce_handle(struct kafka_req *r);

#endif
