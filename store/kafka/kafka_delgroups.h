/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DeleteGroups (42) and OffsetDelete (47): decoders and handlers over the
 * coordinator's groups_delete() (store/groups/groups.h), answered once the
 * deletions are durable.
 */
#ifndef SLUICE_STORE_KAFKA_DELGROUPS_H
#define SLUICE_STORE_KAFKA_DELGROUPS_H

#include <stdint.h>

#include "store/groups/offsets.h"
#include "store/kafka/kwire.h"

struct kafka_req;

struct kafka_deletegroups_req {
	int32_t ngroups;
	char **groups;
};

struct kafka_offsetdelete_topic {
	char *name;
	int32_t first; /* index of its first partition in parts */
	int32_t npartitions;
};

struct kafka_offsetdelete_req {
	char *group_id;
	int32_t ntopics;
	struct kafka_offsetdelete_topic *topics;
	int32_t nparts;
	struct offsets_record *parts; /* topic, partition */
};

void *kafka_delgroups_decode(struct kwire_dec *d, int16_t v);
void kafka_delgroups_handle(struct kafka_req *r);
void *kafka_delgroups_offsets_decode(struct kwire_dec *d, int16_t v);
void kafka_delgroups_offsets_handle(struct kafka_req *r);

#endif
