/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Exactly-once delivery for the kafka output (`exactly_once: true`): a
 * transactional producer whose stable transactional.id names the agent and
 * the output, and the spool positions committed in the same transaction as
 * the records.
 *
 * Each flush is one transaction: begin, produce its records, then
 * send_offsets_to_transaction() for a synthetic consumer group
 * ("sluice-agent.<transactional.id>") and commit.  The offset committed is a
 * carrier: its metadata string holds every spool (topic, partition)'s last
 * committed entry id (agent/spool/marks.h text), keyed by partition 0 of the
 * destination topic (Kafka accepts transactional offsets only for partitions
 * that exist).  Records and positions become visible together or not at all.
 * The metadata's first line names the spool instance (a random id kept in
 * the output's state directory): positions written for another spool (the
 * data directory was wiped, so entry ids start again) are ignored rather
 * than skipping new entries that happen to have old numbers.
 *
 * After a restart (kill -9 too), init_transactions() with the same id fences
 * the old producer and aborts its open transaction; the positions are then
 * read back from the group (a consumer handle, OffsetFetch with
 * require_stable), and spooled entries up to them are acknowledged without
 * producing them again.  read_committed consumers therefore see each event
 * once.
 *
 * The transactional calls block the agent's event loop (librdkafka offers no
 * event form of them): init and the read-back once per producer, and one
 * AddOffsetsToTxn + TxnOffsetCommit + EndTxn round trip per flush
 * (docs/AGENT.md, "Exactly once").
 */
#ifndef SLUICE_OUT_KAFKA_TXN_H
#define SLUICE_OUT_KAFKA_TXN_H

#include <stdbool.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "agent/spool/marks.h"

struct kafka_txn {
	char id[256];           /* transactional.id */
	char group[300];        /* the synthetic group holding the positions */
	char topic[256];        /* destination topic: the carrier partition's */
	char instance[40];      /* this spool's id (EO_INSTANCE_FILE) */
	rd_kafka_conf_t *cconf; /* read-back consumer configuration */
	struct marks committed; /* positions as of the last commit */
	bool inited;            /* init_transactions() done for this producer */
	bool loaded;            /* committed read back for this producer */
	bool open;              /* a transaction is open */
	uint64_t commits, aborts, commit_ms, inits;
};

/* Set the transactional properties on kc (before rd_kafka_new()) and keep a
 * copy of its connection properties for the read-back consumer.  0 or
 * -ERR_INVALID with why set. */
int kafka_txn_configure(struct kafka_txn *t, rd_kafka_conf_t *kc, const char *id, const char *topic,
			char *why, size_t whylen);
/* This spool's instance id: read from dir/EO_INSTANCE_FILE, or made and
 * stored there.  0 or a negative code. */
#define EO_INSTANCE_FILE "eo-instance"
int kafka_txn_instance(struct kafka_txn *t, const char *dir, const char *who);
/* A new producer handle: fenced state is gone, init and read back again. */
void kafka_txn_reset(struct kafka_txn *t);
/* init_transactions() and the read-back, once per producer (blocking).
 * 0, -EAGAIN (try again later) or -EPIPE (the producer must be replaced). */
int kafka_txn_ready(struct kafka_txn *t, rd_kafka_t *rk, const char *who);
/* Last committed entry of spool (topic, partition); 0 = none. */
uint64_t kafka_txn_position(struct kafka_txn *t, const char *topic, int32_t partition);
int kafka_txn_begin(struct kafka_txn *t, rd_kafka_t *rk, const char *who);
/* Commit the open transaction with spool (topic, partition) at last.
 * 0; -EAGAIN: aborted, produce again; -EPIPE: state unknown, replace the
 * producer (the read-back tells what was committed). */
int kafka_txn_commit(struct kafka_txn *t, rd_kafka_t *rk, const char *topic, int32_t partition,
		     uint64_t last, const char *who);
/* Abort the open transaction: 0 or -EPIPE as above. */
int kafka_txn_abort(struct kafka_txn *t, rd_kafka_t *rk, const char *who);
void kafka_txn_release(struct kafka_txn *t);

#endif
