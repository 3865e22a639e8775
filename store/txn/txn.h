/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/txn/: the transaction coordinator of Kafka transactions (KIP-98).
 *
 * sluice-store is a single broker, so it is at once the coordinator of every
 * transactional.id and the leader of every partition: what Kafka does with
 * WriteTxnMarkers between brokers is a direct engine_append_marker() here.
 *
 * Per transactional.id: the producer id and epoch, the transaction timeout,
 * the state (Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit,
 * CompleteAbort), the partitions and groups in the open transaction and the
 * offsets staged by TxnOffsetCommit.
 *
 *   InitProducerId   new id -> pid (epoch 0); known id -> epoch + 1 (a new
 *                    pid when the epoch would overflow), which fences every
 *                    older instance; an open transaction is aborted first
 *                    (CONCURRENT_TRANSACTIONS until its markers are durable)
 *   AddPartitions /  Empty or Complete* -> Ongoing (the timeout starts);
 *   AddOffsets       Prepare* -> CONCURRENT_TRANSACTIONS
 *   TxnOffsetCommit  staged in the transaction, applied on commit
 *   EndTxn           Ongoing -> Prepare* (durable) -> markers appended to
 *                    every partition -> Complete* once all are visible
 *   timeout          an Ongoing transaction older than its timeout is
 *                    aborted with the epoch bumped (the producer is fenced)
 *
 * Durability: data_dir/meta/transactions, an append-only journal of
 * CRC-framed records, one per state change, each the whole state of one
 * transactional.id (docs/FORMATS.md); the last record of an id wins.  State
 * changes a client sees are fdatasync'd before the answer.  Opening replays
 * it, cuts a torn tail, rewrites it compacted, and settles what was open:
 * PrepareCommit / PrepareAbort are completed (markers written again: a
 * second marker of a closed transaction is ignored by the partition; staged
 * offsets applied again), Ongoing transactions are aborted with the epoch
 * bumped (their staged offsets were never durable; the producer is fenced).
 *
 * Errors are Kafka's protocol codes (enum txn_err): the coordinator is
 * Kafka's, and store/kafka passes them through.
 *
 * Threading: every function takes the coordinator's mutex; a thread of its
 * own enforces the timeouts and settles Prepare* states.  The offset hook
 * runs on the thread that calls txn_end() or txn_coord_open().
 */
#ifndef SLUICE_STORE_TXN_H
#define SLUICE_STORE_TXN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct engine;
struct txn_coord;

#define TXN_FILE "transactions"

/* Kafka's error codes, as the coordinator answers. */
enum txn_err {
	TXN_OK = 0,
	TXN_ERR_UNKNOWN_TOPIC_OR_PARTITION = 3,
	TXN_ERR_COORDINATOR_NOT_AVAILABLE = 15,
	TXN_ERR_INVALID_PRODUCER_EPOCH = 47,
	TXN_ERR_INVALID_TXN_STATE = 48,
	TXN_ERR_INVALID_PRODUCER_ID_MAPPING = 49,
	TXN_ERR_INVALID_TRANSACTION_TIMEOUT = 50,
	TXN_ERR_CONCURRENT_TRANSACTIONS = 51,
	TXN_ERR_KAFKA_STORAGE_ERROR = 56,
	TXN_ERR_PRODUCER_FENCED = 90,
};

enum txn_state {
	TXN_EMPTY,
	TXN_ONGOING,
	TXN_PREPARE_COMMIT,
	TXN_PREPARE_ABORT,
	TXN_COMPLETE_COMMIT,
	TXN_COMPLETE_ABORT,
	TXN_STATE_COUNT
};

const char *txn_state_name(enum txn_state s);

/* An offset staged by TxnOffsetCommit (strings owned by the coordinator). */
struct txn_offset {
	char *group;
	char *topic;
	int32_t partition;
	int64_t offset;
	int32_t leader_epoch;
	char *metadata; /* NULL: null */
};

struct txn_config {
	const char *meta_dir;      /* data_dir/meta; borrowed for txn_coord_open() */
	int64_t max_timeout_ms;    /* transaction.max.timeout.ms (Kafka: 900000) */
	int64_t check_interval_ms; /* how often timeouts are checked (Kafka: 10000) */
	/* A new producer id for a new transactional.id (or after the epoch
	 * runs out); 0 or a negative code.  principal: the asker, may be NULL. */
	int (*alloc_pid)(void *arg, const char *principal, int64_t *pid);
	/* Apply committed offsets of group (a committed transaction); 0 or a
	 * negative code.  NULL: offsets are dropped. */
	int (*apply_offsets)(void *arg, const char *group, const struct txn_offset *o, size_t n);
	void *arg;
};

/* Defaults: max timeout 900000 ms, checks every 1000 ms, no hooks. */
void txn_config_init(struct txn_config *c);

/* Open (creating) meta_dir/transactions, replay, settle and start the
 * timeout thread.  Registers the engine's transaction check
 * (engine_set_txn_check), so call it before the engine takes appends. */
int txn_coord_open(struct engine *log, const struct txn_config *cfg, struct txn_coord **out);
/* Stop the thread and close.  NULL is a no-op. */
void txn_coord_free(struct txn_coord *c);

/* InitProducerId with a transactional.id.  pid_in/epoch_in: the caller's
 * current producer (v3+), -1 when none. */
enum txn_err txn_init_producer(struct txn_coord *c, const char *tid, int32_t timeout_ms,
			       int64_t pid_in, int16_t epoch_in, const char *principal,
			       int64_t *pid, int16_t *epoch);

/* AddPartitionsToTxn (the caller checked the partitions exist): one journal
 * write for all. */
struct txn_tp {
	const char *topic;
	int32_t partition;
};
enum txn_err txn_add_partitions(struct txn_coord *c, const char *tid, int64_t pid, int16_t epoch,
				const struct txn_tp *tps, size_t n);
/* AddOffsetsToTxn. */
enum txn_err txn_add_offsets(struct txn_coord *c, const char *tid, int64_t pid, int16_t epoch,
			     const char *group);
/* TxnOffsetCommit: stage offsets (copied) of group into the transaction. */
enum txn_err txn_stage_offsets(struct txn_coord *c, const char *tid, int64_t pid, int16_t epoch,
			       const char *group, const struct txn_offset *o, size_t n);
/* EndTxn. */
enum txn_err txn_end(struct txn_coord *c, const char *tid, int64_t pid, int16_t epoch, bool commit);

/* Has an open (Ongoing or Prepare*) transaction staged an offset of group
 * for the partition?  OffsetFetch with require_stable answers
 * UNSTABLE_OFFSET_COMMIT while it has (KIP-447). */
bool txn_offsets_pending(struct txn_coord *c, const char *group, const char *topic,
			 int32_t partition);

/* What a transactional.id looks like now (tests, DescribeTransactions). */
struct txn_info {
	int64_t pid;
	int16_t epoch;
	enum txn_state state;
	int32_t timeout_ms;
	size_t npartitions;
};
int txn_describe(struct txn_coord *c, const char *tid, struct txn_info *out);

/* Run the timeout check and settle Prepare* states now (the thread does it
 * every check_interval_ms; tests call it with their own clock). */
void txn_coord_tick(struct txn_coord *c, int64_t now_ms);

/* Counters for metrics. */
struct txn_stats {
	uint64_t commits;
	uint64_t aborts;
	uint64_t timeouts; /* aborted because their timeout passed */
	uint64_t fenced;   /* requests refused with a stale epoch */
	uint64_t ids;      /* transactional ids known */
	uint64_t ongoing;
};
void txn_get_stats(struct txn_coord *c, struct txn_stats *out);

#endif
