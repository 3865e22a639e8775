/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The group APIs over the Kafka protocol, on top of store/groups/groups.h:
 *   FindCoordinator (key 10, v0-v2)  this node, for groups; transactions: none
 *   JoinGroup (11, v0-v5)   SyncGroup (14, v0-v3)   Heartbeat (12, v0-v3)
 *   LeaveGroup (13, v0-v3)  DescribeGroups (15, v0-v4)  ListGroups (16, v0-v2)
 * (OffsetCommit and OffsetFetch: store/kafka/kafka_offsets.h.)  JoinGroup and
 * SyncGroup park their request until the coordinator answers.  Event-loop
 * thread only.
 */
#ifndef SLUICE_STORE_KAFKA_GROUPS_H
#define SLUICE_STORE_KAFKA_GROUPS_H

#include <stdbool.h>
#include <stdint.h>

#include "store/groups/groups.h"
#include "store/kafka/kwire.h"

struct kafka_req;

struct kafka_findcoordinator_req {
	char *key;
	int8_t key_type; /* v1+: 0 group, 1 transaction */
};

struct kafka_joingroup_req {
	char *group_id;
	int32_t session_timeout_ms;
	int32_t rebalance_timeout_ms;
	char *member_id;
	char *group_instance_id; /* v5+ */
	char *protocol_type;
	int32_t nprotocols;
	struct groups_protocol *protocols;
};

struct kafka_syncgroup_req {
	char *group_id;
	int32_t generation;
	char *member_id;
	char *group_instance_id; /* v3+ */
	int32_t nassignments;
	struct groups_assignment *assignments;
};

struct kafka_heartbeat_req {
	char *group_id;
	int32_t generation;
	char *member_id;
	char *group_instance_id; /* v3+ */
};

struct kafka_leavegroup_req {
	char *group_id;
	int32_t nmembers; /* v0-v2: one */
	char **member_ids;
	char **instance_ids;
};

struct kafka_describegroups_req {
	int32_t ngroups;
	char **groups;
	bool include_authorized_operations;
};

void *kafka_groups_findcoordinator_decode(struct kwire_dec *d, int16_t v);
void kafka_groups_findcoordinator_handle(struct kafka_req *r);
void *kafka_groups_join_decode(struct kwire_dec *d, int16_t v);
void kafka_groups_join_handle(struct kafka_req *r);
void *kafka_groups_sync_decode(struct kwire_dec *d, int16_t v);
void kafka_groups_sync_handle(struct kafka_req *r);
void *kafka_groups_heartbeat_decode(struct kwire_dec *d, int16_t v);
void kafka_groups_heartbeat_handle(struct kafka_req *r);
void *kafka_groups_leave_decode(struct kwire_dec *d, int16_t v);
void kafka_groups_leave_handle(struct kafka_req *r);
void *kafka_groups_describe_decode(struct kwire_dec *d, int16_t v);
void kafka_groups_describe_handle(struct kafka_req *r);
void *kafka_groups_list_decode(struct kwire_dec *d, int16_t v);
void kafka_groups_list_handle(struct kafka_req *r);

#endif
