/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DeleteGroups (42) and OffsetDelete (47) on the schema framework (r->body is
 * the generated request struct), over the coordinator's groups_delete()
 * (store/groups/groups.h), answered once the deletions are durable.
 */
#ifndef SLUICE_STORE_KAFKA_DELGROUPS_H
#define SLUICE_STORE_KAFKA_DELGROUPS_H

struct kafka_req;

void kafka_delgroups_handle(struct kafka_req *r);
void kafka_delgroups_offsets_handle(struct kafka_req *r);

#endif
