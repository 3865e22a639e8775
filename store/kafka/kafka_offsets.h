/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Handlers of OffsetCommit and OffsetFetch on the schema framework: r->body
 * is the generated request struct (store/kafka/kmsg_gen.h).
 */
#ifndef SLUICE_STORE_KAFKA_OFFSETS_H
#define SLUICE_STORE_KAFKA_OFFSETS_H

struct kafka_req;

void kafka_offsets_commit_handle(struct kafka_req *r);
void kafka_offsets_fetch_handle(struct kafka_req *r);

#endif
