/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals shared by the group coordinator's files: the state machine
 * (store/groups/groups.c), protocol bookkeeping (store/groups/groups_proto.c),
 * offset commits and deletions (store/groups/groups_commit.c) and its
 * lifetime, views and metrics (store/groups/groups_view.c).
 * Not for other modules: they use store/groups/groups.h.
 *
 * Everything here belongs to the event-loop thread, except the published
 * summaries (pub_*), which are under pub_lock for other threads.
 */
#ifndef SLUICE_STORE_GROUPS_INT_H
#define SLUICE_STORE_GROUPS_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/evloop.h"
#include "lib/hmap.h"
#include "lib/prom.h"
#include "store/groups/groups.h"
#include "store/engine/engine.h"
#include "store/groups/offsets.h"

enum gstate { GS_EMPTY, GS_PREPARING, GS_COMPLETING, GS_STABLE, GS_DEAD };

extern const char *const groups_state_names[];

struct group;

struct gproto {
	char *name;
	uint8_t *meta;
	int32_t len;
};

struct gmember {
	struct gmember *next; /* join order */
	struct group *grp;
	char *id;
	char *instance_id;
	char *client_id;
	char *client_host;
	int32_t session_ms;
	int32_t rebalance_ms;
	struct gproto *protos;
	int32_t nprotos;
	uint8_t *assignment;
	int32_t assignment_len;
	bool awaiting_join; /* joined this rebalance, response pending */
	bool awaiting_sync; /* sent SyncGroup, waiting for the leader */
	bool synced;        /* sent SyncGroup this generation */
	struct groups_waiter *join_w;
	struct groups_waiter *sync_w;
	struct evloop_timer session;
};

/* A member id handed out with MEMBER_ID_REQUIRED, not yet joined. */
struct gpending {
	struct gpending *next;
	struct group *grp;
	char *id;
	struct evloop_timer timer;
};

struct group {
	struct hmap_node node; /* in groups.table, by id */
	struct groups *g;
	char *id;
	enum gstate state;
	int32_t generation;
	char *protocol_type;
	char *protocol; /* selected for the current generation */
	struct gmember *leader;
	struct gmember *members;
	int32_t nmembers;
	struct gpending *pending;
	struct evloop_timer join_timer;
	struct evloop_timer sync_timer;
	bool initial_join; /* in the initial-delay phase of a new group */
	bool joined_since_arm;
	uint64_t initial_budget_ms;
	int64_t empty_since_ms; /* wall clock */
};

struct gsummary {
	char *id;
	int state;
	int32_t members;
	int32_t generation;
};

struct groups {
	struct evloop *loop;
	struct engine *log;
	const struct store_config *conf;
	struct offsets *offsets;
	struct hmap table; /* struct group by id */
	int32_t min_session_ms;
	int32_t max_session_ms;
	int64_t initial_delay_ms;
	int64_t retention_ms;
	int64_t started_ms; /* wall clock at start: groups known only from
				      * the journal count as empty since then */
	struct evloop_timer sweep;
	groups_txn_pending_fn txn_pending; /* store/txn's hook, or NULL */
	void *txn_pending_arg;
	atomic_uint_fast64_t rebalances;
	atomic_uint_fast64_t expired_groups;

	pthread_mutex_t pub_lock;
	struct gsummary *pub;
	size_t npub;
	size_t cappub;
};

struct group *groups_find(struct groups *g, const char *id);
/* Free a group and everything in it (members' waiters get UNKNOWN_MEMBER_ID). */
void groups_group_free(struct group *grp);
/* Free grp if it is empty and has no committed offsets. */
void groups_gc(struct group *grp);
/* Membership check of a commit (groups.c, for groups_commit.c): 0 or the
 * Kafka error for every partition. */
int16_t groups_commit_check(struct groups *g, struct groups_commit *c);
/* store/groups/groups_proto.c: a member's protocol list (copied from a
 * join, compared with one), the protocol of name, Kafka's vote among the
 * members, and "<client.id>-<uuid4>" member ids (NULL on ENOMEM). */
void groups_protos_free(struct gmember *m);
int groups_protos_copy(struct gmember *m, const struct groups_join_req *req);
bool groups_protos_equal(const struct gmember *m, const struct groups_join_req *req);
const struct gproto *groups_member_proto(const struct gmember *m, const char *name);
const char *groups_select_protocol(const struct group *grp);
char *groups_new_member_id(const char *client_id);
/* Update / drop the summary other threads see. */
void groups_publish(struct group *grp);
void groups_unpublish(struct groups *g, const char *id);

#endif
