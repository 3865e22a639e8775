/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/groups/: consumer groups and their committed offsets.
 *
 * The consumer-group coordinator of sluice-store: Kafka's classic group
 * protocol (JoinGroup/SyncGroup/Heartbeat/LeaveGroup) and committed offsets
 * (store/groups/offsets.h), with this node as the coordinator of every group.
 *
 * State machine per group, as Kafka's GroupCoordinator:
 *
 *   Empty --join--> PreparingRebalance --all joined or rebalance timeout-->
 *   CompletingRebalance --leader's SyncGroup--> Stable
 *   Stable/CompletingRebalance --join with new metadata, leave, session
 *   expiry--> PreparingRebalance;  PreparingRebalance --nobody left--> Empty
 *
 * Generations count completed joins; member ids are "<client.id>-<uuid>";
 * JoinGroup v4+ with an empty member id gets MEMBER_ID_REQUIRED and the id
 * to rejoin with (KIP-394).  The leader (first member to join) receives every
 * member's metadata for the selected protocol; the coordinator never looks
 * inside protocol metadata or assignments (range, roundrobin and
 * cooperative-sticky all pass through).  Session timeouts are evloop timers
 * reset by every heartbeat, join, sync and commit; a member parked in a
 * JoinGroup or SyncGroup is kept alive; members that do not sync within the
 * rebalance timeout are removed.
 *
 * Static membership (KIP-345): a member joining with a group.instance.id
 * keeps it for its lifetime.  When that instance joins again with an empty
 * member id (a restarted consumer), it takes over the old member under a
 * new id, keeping its assignment; if the group is Stable and the protocols
 * are unchanged there is no rebalance.  Requests with the old id get
 * FENCED_INSTANCE_ID.  Static members leave only by LeaveGroup (clients do
 * not send it on close) or by missing their session timeout.
 *
 * DeleteGroups and OffsetDelete (groups_delete) journal tombstones and
 * answer once they are durable.  docs/KAFKA.md lists every error code and
 * where it is returned.
 *
 * Offsets of a group that has been Empty (or unused) for
 * groups.offsets_retention are dropped, as are offsets of deleted topics.
 *
 * Threading: everything runs on the event-loop thread, except
 * groups_lag_snapshot(), groups_lag_free() and the metrics renderer, which
 * any thread may call (libmicrohttpd's), for as long as the groups object
 * lives.  Results passed to callbacks borrow the coordinator's memory and are
 * valid only during the callback.
 */
#ifndef SLUICE_STORE_GROUPS_H
#define SLUICE_STORE_GROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/evloop.h"
#include "lib/prom.h"
#include "lib/arena.h"
#include "store/engine/engine.h"
#include "store/groups/offsets.h"
#include "store/store_config.h"

struct groups;

/* Open data_dir/meta/consumer-offsets and start the sweeper.  Borrows
 * loop, log and conf. */
int groups_new(struct evloop *loop, struct engine *log, const struct store_config *conf,
	       struct groups **out);
/* NULL is a no-op.  Parked requests must have been cancelled first. */
void groups_free(struct groups *g);
int groups_register_metrics(struct groups *g, struct prom_registry *r);
void groups_unregister_metrics(struct groups *g, struct prom_registry *r);

/* ---------------------------------------------------------------- membership */

struct groups_protocol {
	const char *name;
	const uint8_t *metadata;
	int32_t len;
};

struct groups_join_req {
	const char *group_id;
	int32_t session_timeout_ms;
	int32_t rebalance_timeout_ms;
	const char *member_id;   /* "" for a new member */
	const char *instance_id; /* NULL unless static membership */
	const char *protocol_type;
	int32_t nprotocols;
	const struct groups_protocol *protocols;
	const char *client_id;
	const char *client_host;
	bool require_known_member; /* JoinGroup v4+: KIP-394 */
};

struct groups_member_info {
	const char *member_id;
	const char *instance_id;
	const uint8_t *metadata;
	int32_t len;
};

struct groups_join_result {
	int16_t error;
	int32_t generation;
	const char *protocol;  /* "" when none */
	const char *leader;    /* "" when none */
	const char *member_id; /* "" when none */
	int32_t nmembers;      /* the leader only */
	const struct groups_member_info *members;
	/* KIP-814: a static leader that took over in Stable gets the members
	 * but must not assign (JoinGroup v9+; older versions get no members) */
	bool skip_assignment;
};

/* A parked JoinGroup or SyncGroup.  The caller owns it and must call
 * groups_cancel() if it goes away before its callback ran. */
struct groups_waiter {
	void (*join_done)(struct groups_waiter *w, const struct groups_join_result *res);
	void (*sync_done)(struct groups_waiter *w, int16_t error, const uint8_t *assignment,
			  int32_t len);
	void *arg;
	void *priv; /* the member it waits on */
};

/* Exactly one join_done call follows, possibly before this returns. */
void groups_join(struct groups *g, const struct groups_join_req *req, struct groups_waiter *w);

struct groups_assignment {
	const char *member_id;
	const uint8_t *data;
	int32_t len;
};

struct groups_sync_req {
	const char *group_id;
	int32_t generation;
	const char *member_id;
	const char *instance_id;
	int32_t nassignments;
	const struct groups_assignment *assignments;
};

/* Exactly one sync_done call follows, possibly before this returns. */
void groups_sync(struct groups *g, const struct groups_sync_req *req, struct groups_waiter *w);
void groups_cancel(struct groups *g, struct groups_waiter *w);

/* The group's protocol type and selected protocol (NULL when none), for
 * SyncGroup v5 and JoinGroup v7+.  Borrowed until the next change. */
void groups_protocol(struct groups *g, const char *group_id, const char **type, const char **name);

/* Kafka error codes (0 = NONE).  instance_id is the group.instance.id of a
 * static member (NULL for a dynamic one): a known instance with another
 * member id is FENCED_INSTANCE_ID.  LeaveGroup with an empty member_id and
 * an instance_id removes that instance's member (KIP-345). */
int16_t groups_heartbeat(struct groups *g, const char *group_id, int32_t generation,
			 const char *member_id, const char *instance_id);
int16_t groups_leave(struct groups *g, const char *group_id, const char *member_id,
		     const char *instance_id);

/* ---------------------------------------------------------------- offsets */

struct groups_commit {
	const char *group_id;
	int32_t generation; /* -1: not using group management */
	const char *member_id;
	const char *instance_id; /* NULL unless static */
	size_t n;
	const struct offsets_record *records;
	int16_t *errors; /* n entries, filled before done */
	void (*done)(struct groups_commit *c);
	void *arg;
	/* private */
	struct offsets_commit oc;
	struct offsets_record *valid;
	size_t *valid_idx;
	struct groups *g;
};

/* Validate membership and partitions, then commit durably.  done runs once,
 * possibly before this returns. */
void groups_commit(struct groups *g, struct groups_commit *c);
void groups_commit_cancel(struct groups *g, struct groups_commit *c);

/* The committed offset of a partition; false when none. */
bool groups_committed(struct groups *g, const char *group_id, const char *topic, int32_t partition,
		      struct offsets_value *v);
/* Every committed offset of a group (loop thread; see offsets_foreach). */
void groups_committed_foreach(struct groups *g, const char *group_id,
			      void (*fn)(void *arg, const char *group, const char *topic,
					 int32_t partition, const struct offsets_value *v),
			      void *arg);
/* A topic was deleted: drop its offsets. */
void groups_topic_deleted(struct groups *g, const char *topic);
/* The committed-offsets journal, for the transaction coordinator: a
 * committed transaction's offsets are applied whatever the group's
 * generation (Kafka's TxnOffsetCommit; loop thread). */
struct offsets *groups_offsets(struct groups *g);

/* ---------------------------------------------------------------- transactions */

/* Whether a transaction holds uncommitted offsets of group for
 * topic/partition (TxnOffsetCommit not yet ended): OffsetFetch with
 * require_stable answers UNSTABLE_OFFSET_COMMIT for them (KIP-447).  The
 * transaction coordinator installs the hook (loop thread); without one
 * nothing is pending. */
typedef bool (*groups_txn_pending_fn)(void *arg, const char *group, const char *topic,
				      int32_t partition);
void groups_set_txn_pending(struct groups *g, groups_txn_pending_fn fn, void *arg);
bool groups_txn_pending(struct groups *g, const char *group, const char *topic, int32_t partition);

/* ---------------------------------------------------------------- deletion */

/* DeleteGroups (whole_group) or OffsetDelete (the partitions in parts).
 * Top-level error: GROUP_ID_NOT_FOUND (no members and no offsets),
 * NON_EMPTY_GROUP (DeleteGroups of a group with members; OffsetDelete of a
 * non-empty group not using the consumer protocol); per partition
 * (OffsetDelete): GROUP_SUBSCRIBED_TO_TOPIC when a member's subscription
 * names the topic, UNKNOWN_TOPIC_OR_PARTITION.  The offsets are journalled
 * as tombstones and done runs once they are durable (possibly before this
 * returns); a deleted group is forgotten. */
struct groups_delete {
	const char *group_id;
	bool whole_group;
	size_t n;
	const struct offsets_record *parts; /* topic, partition */
	int16_t error;                      /* top-level, filled before done */
	int16_t *errors;                    /* n entries (OffsetDelete) */
	void (*done)(struct groups_delete *d);
	void *arg;
	/* private */
	struct offsets_commit oc;
	struct offsets_record *recs;
	size_t nrecs;
	size_t caprecs;
	struct groups *g;
};

void groups_delete(struct groups *g, struct groups_delete *d);
/* The caller goes away: done will not run (the deletion still happens). */
void groups_delete_cancel(struct groups *g, struct groups_delete *d);

/* Whether the consumer-protocol subscription metadata (ConsumerProtocol
 * Subscription, any version) names topic; true when it cannot be parsed,
 * so that an unreadable subscription protects the offsets. */
bool groups_subscription_has(const uint8_t *meta, int32_t len, const char *topic);

/* ---------------------------------------------------------------- describe */

struct groups_member_desc {
	const char *member_id;
	const char *instance_id;
	const char *client_id;
	const char *client_host;
	const uint8_t *metadata; /* of the selected protocol; Stable only */
	int32_t metadata_len;
	const uint8_t *assignment; /* Stable only */
	int32_t assignment_len;
};

struct groups_desc {
	const char *group_id;
	const char *state; /* "Empty", "PreparingRebalance", ..., "Dead" */
	const char *protocol_type;
	const char *protocol; /* Stable only, else "" */
	int32_t nmembers;
	struct groups_member_desc *members;
};

/* Describe a group; members are allocated from a.  An unknown group is
 * "Dead" with no members, as Kafka answers.  0 or -ENOMEM. */
int groups_describe(struct groups *g, const char *group_id, struct arena *a,
		    struct groups_desc *out);
struct groups_listing {
	const char *id;
	const char *protocol_type; /* "" when none */
	const char *state;         /* as groups_desc.state */
};

/* Every group (with members or committed offsets), allocated from a.  0 or
 * -ENOMEM. */
int groups_list(struct groups *g, struct arena *a, struct groups_listing **out, size_t *n);

/* ---------------------------------------------------------------- lag (any thread) */

struct groups_lag_partition {
	char *topic;
	int32_t partition;
	int64_t committed; /* committed offset */
	int64_t end;       /* the partition's high watermark; -1 if gone */
	int64_t lag;       /* end - committed, >= 0; -1 when end is unknown */
	int64_t commit_ms; /* wall time of the commit */
};

struct groups_lag_group {
	char *group;
	char state[24];
	int32_t members;
	int32_t generation;
	size_t npartitions;
	struct groups_lag_partition *partitions; /* sorted by topic, partition */
};

/* Consumer-group lag for the HTTP API, the CLI and metrics: every group
 * with committed offsets or members, sorted by name.  Thread-safe; the
 * result is owned by the caller (groups_lag_free).  0 or -ENOMEM. */
int groups_lag_snapshot(struct groups *g, struct groups_lag_group **out, size_t *n);
void groups_lag_free(struct groups_lag_group *v, size_t n);

#endif
