/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Authorization of Kafka requests against the store's ACL
 * (store/auth/acl.h), for the connection's principal (r->sess->principal).
 * What each API needs (docs/KAFKA.md, "Authorization"):
 *
 *   Produce                       produce on the topic (auto-create included)
 *   Fetch, ListOffsets            consume on the topic
 *   Metadata                      lists only topics with any grant; a named
 *                                 topic without one: TOPIC_AUTHORIZATION_FAILED
 *   CreateTopics, DeleteTopics    admin on the topic
 *   DescribeConfigs               any grant on the topic
 *   InitProducerId                produce on some topic, else
 *                                 CLUSTER_AUTHORIZATION_FAILED; with a
 *                                 transactional.id: produce on txn:ID, else
 *                                 TRANSACTIONAL_ID_AUTHORIZATION_FAILED
 *   AddPartitionsToTxn            txn:ID and produce on each topic
 *   AddOffsetsToTxn               txn:ID and consume on the group
 *   EndTxn                        txn:ID
 *   TxnOffsetCommit               consume on the group and each topic
 *   FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
 *   DescribeGroups, OffsetFetch   consume on the group
 *   OffsetCommit                  consume on the group and on each topic
 *   ListGroups                    lists only groups with a grant
 *
 * A refusal answers the API's own error (TOPIC_/GROUP_/CLUSTER_
 * AUTHORIZATION_FAILED) and is counted in
 * sluice_auth_failures_total{listener="kafka",reason="denied"}.  Without an
 * ACL file everything is allowed.  Event-loop thread only.
 */
#ifndef SLUICE_STORE_KAFKA_AUTHZ_H
#define SLUICE_STORE_KAFKA_AUTHZ_H

#include <stdbool.h>
#include <stdint.h>

#include "store/auth/acl.h"

struct kafka_req;

/* The request's principal ("User:ANONYMOUS" when none). */
const char *kafka_authz_principal(const struct kafka_req *r);
/* Does the request's principal hold perm on topic / group (perm 0: any
 * grant at all)?  Counts refusals. */
bool kafka_authz_topic(struct kafka_req *r, const char *topic, unsigned perm);
bool kafka_authz_group(struct kafka_req *r, const char *group, unsigned perm);
/* Kafka's WRITE on the TransactionalId (a "txn:GLOB produce" grant).
 * Counts refusals. */
bool kafka_authz_txn(struct kafka_req *r, const char *tid);
/* The same without counting, for filtering lists. */
bool kafka_authz_may(struct kafka_req *r, enum acl_res kind, const char *name, unsigned perm);

/* Producer-id ownership of every idempotent batch in a record set: KERR_NONE
 * or INVALID_PRODUCER_ID_MAPPING (another principal obtained that id). */
int16_t kafka_authz_producer_ids(struct kafka_req *r, const uint8_t *records, int32_t len);

/* KIP-430 authorized operations bit sets for Metadata v8. */
int32_t kafka_authz_topic_ops(struct kafka_req *r, const char *topic);
int32_t kafka_authz_cluster_ops(struct kafka_req *r);

#endif
