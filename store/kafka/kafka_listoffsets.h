/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ListOffsets (key 2, v0-v8) over the Kafka protocol: latest (-1, the high
 * watermark), earliest (-2, the log start offset DeleteRecords may have
 * moved), max timestamp (-3, v7+, KIP-734: the offset of the first record
 * carrying the partition's largest timestamp), earliest local (-4, v8+: the
 * same as earliest, the store keeps no remote tier) and by timestamp (the
 * first record at or after it, record-exact).  The store has one leader
 * epoch, 0.  Event-loop thread only.
 */
#ifndef SLUICE_STORE_KAFKA_LISTOFFSETS_H
#define SLUICE_STORE_KAFKA_LISTOFFSETS_H

#include <stdint.h>

#include "store/kafka/kwire.h"

struct kafka_req;

struct kafka_listoffsets_partition {
	int32_t index;
	int32_t current_leader_epoch; /* v4+ */
	int64_t timestamp;
	int32_t max_num_offsets; /* v0 */
};

struct kafka_listoffsets_topic {
	char *name;
	int32_t npartitions;
	struct kafka_listoffsets_partition *partitions;
};

struct kafka_listoffsets_req {
	int32_t replica_id;
	int8_t isolation_level; /* v2+ */
	int32_t ntopics;
	struct kafka_listoffsets_topic *topics;
};

void *kafka_listoffsets_decode(struct kwire_dec *d, int16_t v);
void kafka_listoffsets_handle(struct kafka_req *r);

#endif
