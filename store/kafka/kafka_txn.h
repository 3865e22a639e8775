/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kafka transactions over the protocol (KIP-98), served by the store's own
 * transaction coordinator (store/txn/txn.h):
 *   InitProducerId (key 22, v0-v5)      idempotent producers (a new random,
 *                                       principal-owned id) and, with a
 *                                       transactional.id, the id's producer
 *                                       id with its epoch bumped
 *   AddPartitionsToTxn (key 24, v0-v3)
 *   AddOffsetsToTxn (key 25, v0-v3)
 *   EndTxn (key 26, v0-v3)              commit / abort: markers on every
 *                                       partition of the transaction
 *   TxnOffsetCommit (key 28, v0-v3)     offsets staged in the transaction,
 *                                       committed to the group with it
 * Event-loop thread only.
 */
#ifndef SLUICE_STORE_KAFKA_TXN_H
#define SLUICE_STORE_KAFKA_TXN_H

struct kafka_ctx;
struct kafka_req;

/* Open the coordinator into ctx->txn (data_dir/meta/transactions), with the
 * committed offsets going to ctx->groups.  Call after the groups are set up.
 * On failure ctx->txn stays NULL (the transactional APIs then answer
 * COORDINATOR_NOT_AVAILABLE) and the error is returned. */
int kafka_txn_open(struct kafka_ctx *ctx);
/* Close ctx->txn (before the groups are freed).  No-op when NULL. */
void kafka_txn_close(struct kafka_ctx *ctx);
/* The coordinator's metrics (a prom_render_fn; arg: the ctx). */
struct buf;
void kafka_txn_render_metrics(struct buf *out, void *arg);

void kafka_txn_initproducerid_handle(struct kafka_req *r);
void kafka_txn_addpartitions_handle(struct kafka_req *r);
void kafka_txn_addoffsets_handle(struct kafka_req *r);
void kafka_txn_endtxn_handle(struct kafka_req *r);
void kafka_txn_offsetcommit_handle(struct kafka_req *r);

#endif
