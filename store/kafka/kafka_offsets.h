/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OffsetCommit (key 8, v0-v7) and OffsetFetch (key 9, v0-v5) over the Kafka
 * protocol, on the coordinator's durable offsets (store/groups/groups.h,
 * store/groups/offsets.h).  An OffsetCommit is answered only once its offsets are
 * fdatasynced.  Event-loop thread only.
 */
#ifndef SLUICE_STORE_KAFKA_OFFSETS_H
#define SLUICE_STORE_KAFKA_OFFSETS_H

#include <stdint.h>

#include "store/kafka/kwire.h"
#include "store/groups/offsets.h"

struct kafka_req;

struct kafka_offsetcommit_topic {
	char *name;
	int32_t first; /* index of its first record */
	int32_t npartitions;
};

struct kafka_offsetcommit_req {
	char *group_id;
	int32_t generation; /* -1 before v1 */
	char *member_id;
	char *group_instance_id; /* v7+ */
	int64_t retention_ms;    /* v2-v4, ignored: groups.offsets_retention rules */
	int32_t ntopics;
	struct kafka_offsetcommit_topic *topics;
	int32_t nrecords;
	struct offsets_record *records;
};

struct kafka_offsetfetch_topic {
	char *name;
	int32_t npartitions;
	int32_t *partitions;
};

struct kafka_offsetfetch_req {
	char *group_id;
	int32_t ntopics; /* -1: every committed offset (v2+) */
	struct kafka_offsetfetch_topic *topics;
};

void *kafka_offsets_commit_decode(struct kwire_dec *d, int16_t v);
void kafka_offsets_commit_handle(struct kafka_req *r);
void *kafka_offsets_fetch_decode(struct kwire_dec *d, int16_t v);
void kafka_offsets_fetch_handle(struct kafka_req *r);

#endif
