/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to store/txn/: one transactional.id's state and the journal that
 * makes it durable (store/txn/txn_log.c).
 */
#ifndef SLUICE_STORE_TXN_INT_H
#define SLUICE_STORE_TXN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "store/txn/txn.h"

/* Hard bounds of one transaction, so a client cannot grow the journal
 * record (or the coordinator's memory) without limit. */
#define TXN_MAX_PARTITIONS 100000
#define TXN_MAX_GROUPS 1000
#define TXN_MAX_OFFSETS 100000
#define TXN_RECORD_MAX (64u << 20)

struct txn_part {
	char *topic;
	int32_t partition;
	int64_t marker; /* offset of its marker once written; -1 before */
};

struct txn_entry {
	char *tid;
	int64_t pid;
	int16_t epoch;
	int32_t timeout_ms;
	enum txn_state state;
	int64_t start_ms; /* Ongoing since (wall clock) */
	struct txn_part *parts;
	size_t nparts, capparts;
	char **groups;
	size_t ngroups, capgroups;
	struct txn_offset *offs;
	size_t noffs, capoffs;
};

void txn_entry_free(struct txn_entry *e);
/* Forget the open transaction's partitions, groups and offsets. */
void txn_entry_reset(struct txn_entry *e);
int txn_entry_add_part(struct txn_entry *e, const char *topic, int32_t partition);
int txn_entry_add_group(struct txn_entry *e, const char *group);
/* Stage one offset, replacing an earlier one of the same group/partition. */
int txn_entry_add_offset(struct txn_entry *e, const struct txn_offset *o);
bool txn_entry_has_part(const struct txn_entry *e, const char *topic, int32_t partition);
bool txn_entry_has_group(const struct txn_entry *e, const char *group);

/* The journal (data_dir/meta/transactions). */
struct txn_log {
	char *dir;
	int fd;
	uint64_t bytes; /* file size */
	uint64_t records;
};

/* Open (creating) dir/transactions and call fn with every record's entry in
 * file order (fn takes ownership of e).  A torn or corrupt tail is cut.
 * 0 or a negative code. */
int txn_log_open(struct txn_log *l, const char *dir, int (*fn)(void *arg, struct txn_entry *e),
		 void *arg);
void txn_log_close(struct txn_log *l);
/* Append e's record; with sync, fdatasync before returning.  0 or a
 * negative code. */
int txn_log_write(struct txn_log *l, const struct txn_entry *e, bool sync);
/* Replace the file with one record per entry (atomic rename). */
int txn_log_rewrite(struct txn_log *l, struct txn_entry *const *v, size_t n);

/* The record format, for the journal and its tests. */
int txn_log_encode(const struct txn_entry *e, struct buf *out);
/* A new entry from a payload; NULL when it does not parse. */
struct txn_entry *txn_log_decode(const uint8_t *p, size_t n);

#endif
