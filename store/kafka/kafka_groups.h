/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Handlers of the group APIs (FindCoordinator, JoinGroup, SyncGroup,
 * Heartbeat, LeaveGroup, DescribeGroups, ListGroups) on the schema
 * framework: r->body is the generated request struct (store/kafka/kmsg_gen.h).
 */
#ifndef SLUICE_STORE_KAFKA_GROUPS_H
#define SLUICE_STORE_KAFKA_GROUPS_H

struct kafka_req;

void kafka_groups_findcoordinator_handle(struct kafka_req *r);
void kafka_groups_join_handle(struct kafka_req *r);
void kafka_groups_sync_handle(struct kafka_req *r);
void kafka_groups_heartbeat_handle(struct kafka_req *r);
void kafka_groups_leave_handle(struct kafka_req *r);
void kafka_groups_describe_handle(struct kafka_req *r);
void kafka_groups_list_handle(struct kafka_req *r);

#endif
