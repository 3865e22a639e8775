/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ListOffsets (key 2, v1-v8) over the Kafka protocol: latest (-1, the high
 * watermark), earliest (-2, the log start offset DeleteRecords may have
 * moved), max timestamp (-3, v7+, KIP-734: the offset of the first record
 * carrying the partition's largest timestamp), earliest local (-4, v8+: the
 * same as earliest, the store keeps no remote tier) and by timestamp (the
 * first record at or after it, record-exact).  The store has one leader
 * epoch, 0.  Event-loop thread only.
 */
#ifndef SLUICE_STORE_KAFKA_LISTOFFSETS_H
#define SLUICE_STORE_KAFKA_LISTOFFSETS_H

struct kafka_req;

void kafka_listoffsets_handle(struct kafka_req *r);

#endif
