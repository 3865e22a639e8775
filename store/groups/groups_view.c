/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The group coordinator's lifetime (open, sweeper, free) and its read side:
 * DescribeGroups and ListGroups answers, the thread-safe lag snapshot and the
 * Prometheus metrics built on it.
 *
 * Other threads never touch struct group: the state machine publishes a
 * small summary (state, members, generation) per group under pub_lock, and
 * committed offsets come from offsets_snapshot(), which copies under the
 * offsets table's own lock.  High watermarks come from the log engine, which
 * is thread-safe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "store/groups/groups.h"
#include "store/groups/groups_int.h"

#define SWEEP_MIN_MS 1000
#define SWEEP_MAX_MS 30000

/* ---------------------------------------------------------------- summaries */

void groups_publish(struct group *grp)
{
	struct groups *g = grp->g;
	struct gsummary *s = NULL;

	pthread_mutex_lock(&g->pub_lock);
	for (size_t i = 0; i < g->npub; i++) {
		if (strcmp(g->pub[i].id, grp->id) == 0) {
			s = &g->pub[i];
			break;
		}
	}
	if (!s) {
		char *id = mem_strdup(grp->id);

		if (g->npub == g->cappub) {
			size_t cap = g->cappub ? g->cappub * 2 : 16;
			struct gsummary *v = mem_realloc(g->pub, cap * sizeof(*v));

			if (!v) {
				mem_free(id);
				goto out; /* the lag view misses this group's state */
			}
			g->pub = v;
			g->cappub = cap;
		}
		if (!id)
			goto out;
		s = &g->pub[g->npub++];
		s->id = id;
	}
	s->state = grp->state;
	s->members = grp->nmembers;
	s->generation = grp->generation;
out:
	pthread_mutex_unlock(&g->pub_lock);
}

void groups_unpublish(struct groups *g, const char *id)
{
	pthread_mutex_lock(&g->pub_lock);
	for (size_t i = 0; i < g->npub; i++) {
		if (strcmp(g->pub[i].id, id) == 0) {
			mem_free(g->pub[i].id);
			g->pub[i] = g->pub[--g->npub];
			break;
		}
	}
	pthread_mutex_unlock(&g->pub_lock);
}

/* ---------------------------------------------------------------- string sets */

struct strset {
	char **v;
	size_t n;
	size_t cap;
	bool oom;
};

static void strset_add(struct strset *s, const char *str)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(s->v[mid], str);

		if (c == 0)
			return;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		char **v = mem_realloc(s->v, cap * sizeof(*v));

		if (!v) {
			s->oom = true;
			return;
		}
		s->v = v;
		s->cap = cap;
	}
	memmove(&s->v[lo + 1], &s->v[lo], (s->n - lo) * sizeof(*s->v));
	s->v[lo] = mem_strdup(str);
	if (!s->v[lo]) {
		memmove(&s->v[lo], &s->v[lo + 1], (s->n - lo) * sizeof(*s->v));
		s->oom = true;
		return;
	}
	s->n++;
}

static void strset_free(struct strset *s)
{
	for (size_t i = 0; i < s->n; i++)
		mem_free(s->v[i]);
	mem_free(s->v);
	memset(s, 0, sizeof(*s));
}

static void collect_group(void *arg, const char *group, const char *topic, int32_t partition,
			  const struct offsets_value *v)
{
	(void)topic, (void)partition, (void)v;
	strset_add(arg, group);
}

static void collect_topic(void *arg, const char *group, const char *topic, int32_t partition,
			  const struct offsets_value *v)
{
	(void)group, (void)partition, (void)v;
	strset_add(arg, topic);
}

/* ---------------------------------------------------------------- sweeper */

static void sweep(struct evloop_timer *t)
{
	struct groups *g = t->data;
	struct strset topics = {0}, names = {0};
	int64_t now = clock_wall_ms();

	/* offsets of topics deleted by any path (Kafka API, HTTP, CLI) */
	offsets_foreach(g->offsets, NULL, collect_topic, &topics);
	for (size_t i = 0; i < topics.n; i++) {
		struct topic_config tc;

		if (engine_topic_config(g->log, topics.v[i], &tc) == -ERR_NOT_FOUND)
			groups_topic_deleted(g, topics.v[i]);
	}
	/* retention of the offsets of groups nobody uses */
	offsets_foreach(g->offsets, NULL, collect_group, &names);
	for (size_t i = 0; i < names.n; i++) {
		struct group *grp = groups_find(g, names.v[i]);
		int64_t since, last;

		if (grp && (grp->state != GS_EMPTY || grp->members || grp->pending))
			continue;
		since = grp ? grp->empty_since_ms : g->started_ms;
		last = offsets_group_last_commit(g->offsets, names.v[i]);
		if (last > since)
			since = last;
		if (now - since < g->retention_ms)
			continue;
		log_info("groups: %s unused for %lld ms (groups.offsets_retention): dropping its "
			 "%zu committed offsets",
			 names.v[i], (long long)(now - since),
			 offsets_delete_group(g->offsets, names.v[i]));
		atomic_fetch_add_explicit(&g->expired_groups, 1, memory_order_relaxed);
		if (grp)
			groups_gc(grp);
	}
	strset_free(&topics);
	strset_free(&names);
}

/* ---------------------------------------------------------------- lifetime */

int groups_new(struct evloop *loop, struct engine *log, const struct store_config *conf,
	       struct groups **out)
{
	struct groups *g = mem_calloc(1, sizeof(*g));
	char dir[4096];
	int64_t every;
	int rc;

	*out = NULL;
	if (!g)
		return -ENOMEM;
	pthread_mutex_init(&g->pub_lock, NULL);
	hmap_init(&g->table);
	g->loop = loop;
	g->log = log;
	g->conf = conf;
	g->min_session_ms = (int32_t)conf->groups.min_session_timeout_ms;
	g->max_session_ms = (int32_t)conf->groups.max_session_timeout_ms;
	g->initial_delay_ms = conf->groups.initial_rebalance_delay_ms;
	g->retention_ms = conf->groups.offsets_retention_ms;
	g->started_ms = clock_wall_ms();
	if ((size_t)snprintf(dir, sizeof(dir), "%s/meta", conf->store.data_dir) >= sizeof(dir)) {
		rc = -ENAMETOOLONG;
		goto out;
	}
	rc = offsets_open(loop, dir, &g->offsets);
	if (rc < 0)
		goto out;
	every = g->retention_ms / 4;
	if (every < SWEEP_MIN_MS)
		every = SWEEP_MIN_MS;
	if (every > SWEEP_MAX_MS)
		every = SWEEP_MAX_MS;
	evloop_timer_start(loop, &g->sweep, (uint64_t)every, (uint64_t)every, sweep, g);
	*out = g;
out:
	if (rc < 0)
		groups_free(g);
	return rc;
}

void groups_free(struct groups *g)
{
	struct hmap_iter it;
	struct hmap_node *n;

	if (!g)
		return;
	evloop_timer_stop(&g->sweep);
	hmap_iter_init(&g->table, &it);
	while ((n = hmap_iter_next(&g->table, &it)) != NULL)
		groups_group_free(hmap_entry(n, struct group, node));
	hmap_release(&g->table);
	offsets_close(g->offsets);
	for (size_t i = 0; i < g->npub; i++)
		mem_free(g->pub[i].id);
	mem_free(g->pub);
	pthread_mutex_destroy(&g->pub_lock);
	mem_free(g);
}

/* ---------------------------------------------------------------- describe / list */

int groups_describe(struct groups *g, const char *group_id, struct arena *a,
		    struct groups_desc *out)
{
	struct group *grp = groups_find(g, group_id);
	int32_t i = 0;

	memset(out, 0, sizeof(*out));
	out->group_id = group_id;
	out->protocol_type = "";
	out->protocol = "";
	if (!grp) {
		bool has = offsets_group_last_commit(g->offsets, group_id) >= 0;

		out->state = groups_state_names[has ? GS_EMPTY : GS_DEAD];
		return 0;
	}
	out->state = groups_state_names[grp->state];
	out->protocol_type = grp->protocol_type ? grp->protocol_type : "";
	if (grp->state == GS_STABLE && grp->protocol)
		out->protocol = grp->protocol;
	out->nmembers = grp->nmembers;
	out->members =
		arena_calloc(a, grp->nmembers ? (size_t)grp->nmembers : 1, sizeof(*out->members));
	if (!out->members)
		return -ENOMEM;
	for (struct gmember *m = grp->members; m; m = m->next, i++) {
		struct groups_member_desc *d = &out->members[i];

		d->member_id = m->id;
		d->instance_id = m->instance_id;
		d->client_id = m->client_id;
		d->client_host = m->client_host;
		if (grp->state == GS_STABLE) {
			for (int32_t k = 0; k < m->nprotos; k++) {
				if (grp->protocol &&
				    strcmp(m->protos[k].name, grp->protocol) == 0) {
					d->metadata = m->protos[k].meta;
					d->metadata_len = m->protos[k].len;
				}
			}
			d->assignment = m->assignment;
			d->assignment_len = m->assignment_len;
		}
	}
	return 0;
}

int groups_list(struct groups *g, struct arena *a, struct groups_listing **out, size_t *n)
{
	struct strset names = {0};
	struct hmap_iter it;
	struct hmap_node *node;
	size_t k = 0;
	int rc = 0;

	offsets_foreach(g->offsets, NULL, collect_group, &names);
	hmap_iter_init(&g->table, &it);
	while ((node = hmap_iter_next(&g->table, &it)) != NULL)
		strset_add(&names, hmap_entry(node, struct group, node)->id);
	*out = arena_calloc(a, names.n ? names.n : 1, sizeof(**out));
	if (!*out || names.oom) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < names.n; i++) {
		struct group *grp = groups_find(g, names.v[i]);
		const char *type = grp && grp->protocol_type ? grp->protocol_type : "";
		struct groups_listing *l = &(*out)[k];

		l->id = arena_strndup(a, names.v[i], strlen(names.v[i]));
		l->protocol_type = arena_strndup(a, type, strlen(type));
		/* a group known only by its offsets is Empty, as in Kafka */
		l->state = groups_state_names[grp ? grp->state : GS_EMPTY];
		if (!l->id || !l->protocol_type) {
			rc = -ENOMEM;
			goto out;
		}
		k++;
	}
out:
	*n = rc < 0 ? 0 : k;
	strset_free(&names);
	return rc;
}

void groups_protocol(struct groups *g, const char *group_id, const char **type, const char **name)
{
	struct group *grp = groups_find(g, group_id);

	*type = grp && grp->members ? grp->protocol_type : NULL;
	*name = grp && grp->members && grp->protocol && grp->protocol[0] ? grp->protocol : NULL;
}

/* ---------------------------------------------------------------- transactions */

void groups_set_txn_pending(struct groups *g, groups_txn_pending_fn fn, void *arg)
{
	g->txn_pending = fn;
	g->txn_pending_arg = arg;
}

bool groups_txn_pending(struct groups *g, const char *group, const char *topic, int32_t partition)
{
	return g->txn_pending && g->txn_pending(g->txn_pending_arg, group, topic, partition);
}

/* ---------------------------------------------------------------- lag (any thread) */

static int cmp_snap(const void *a, const void *b)
{
	const struct offsets_snap_entry *x = a, *y = b;
	int c = strcmp(x->group, y->group);

	if (c == 0)
		c = strcmp(x->topic, y->topic);
	if (c == 0)
		c = (x->partition > y->partition) - (x->partition < y->partition);
	return c;
}

static int cmp_summary(const void *a, const void *b)
{
	return strcmp(((const struct gsummary *)a)->id, ((const struct gsummary *)b)->id);
}

void groups_lag_free(struct groups_lag_group *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < v[i].npartitions; j++)
			mem_free(v[i].partitions[j].topic);
		mem_free(v[i].partitions);
		mem_free(v[i].group);
	}
	mem_free(v);
}

/* Append (or find, when last) the group named id to the output. */
static struct groups_lag_group *out_group(struct groups_lag_group *v, size_t *n, const char *id,
					  const struct gsummary *sums, size_t nsums)
{
	struct groups_lag_group *gl;
	struct gsummary key = {.id = (char *)id};
	const struct gsummary *s;

	if (*n && strcmp(v[*n - 1].group, id) == 0)
		return &v[*n - 1];
	gl = &v[(*n)++];
	memset(gl, 0, sizeof(*gl));
	gl->group = mem_strdup(id);
	s = nsums ? bsearch(&key, sums, nsums, sizeof(*sums), cmp_summary) : NULL;
	snprintf(gl->state, sizeof(gl->state), "%s", groups_state_names[s ? s->state : GS_EMPTY]);
	gl->members = s ? s->members : 0;
	gl->generation = s ? s->generation : 0;
	return gl->group ? gl : NULL;
}

int groups_lag_snapshot(struct groups *g, struct groups_lag_group **out, size_t *n)
{
	struct offsets_snap_entry *e = NULL;
	struct gsummary *sums = NULL;
	struct groups_lag_group *v = NULL;
	size_t ne = 0, nsums = 0, nv = 0, i = 0, si = 0;
	int rc;

	*out = NULL;
	*n = 0;
	rc = offsets_snapshot(g->offsets, &e, &ne);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&g->pub_lock);
	sums = mem_calloc(g->npub ? g->npub : 1, sizeof(*sums));
	for (size_t k = 0; sums && k < g->npub; k++) {
		sums[k] = g->pub[k];
		sums[k].id = mem_strdup(g->pub[k].id);
		if (!sums[k].id) {
			rc = -ENOMEM;
			break;
		}
		nsums++;
	}
	pthread_mutex_unlock(&g->pub_lock);
	if (!sums || rc < 0) {
		rc = -ENOMEM;
		goto out;
	}
	qsort(e, ne, sizeof(*e), cmp_snap);
	qsort(sums, nsums, sizeof(*sums), cmp_summary);
	v = mem_calloc(ne + nsums + 1, sizeof(*v));
	if (!v) {
		rc = -ENOMEM;
		goto out;
	}
	/* merge the two sorted lists of names */
	while (i < ne || si < nsums) {
		const char *id;
		struct groups_lag_group *gl;
		size_t first = i;

		if (i < ne && (si >= nsums || strcmp(e[i].group, sums[si].id) <= 0))
			id = e[i].group;
		else
			id = sums[si].id;
		gl = out_group(v, &nv, id, sums, nsums);
		if (!gl) {
			rc = -ENOMEM;
			goto out;
		}
		while (si < nsums && strcmp(sums[si].id, id) == 0)
			si++;
		while (i < ne && strcmp(e[i].group, id) == 0)
			i++;
		if (i == first)
			continue;
		gl->partitions = mem_calloc(i - first, sizeof(*gl->partitions));
		if (!gl->partitions) {
			rc = -ENOMEM;
			goto out;
		}
		for (size_t k = first; k < i; k++) {
			struct groups_lag_partition *p = &gl->partitions[gl->npartitions];
			struct engine_partition_info info;

			p->topic = e[k].topic;
			e[k].topic = NULL; /* moved */
			p->partition = e[k].partition;
			p->committed = e[k].offset;
			p->commit_ms = e[k].commit_ms;
			p->end = -1;
			p->lag = -1;
			if (engine_partition_info(g->log, p->topic, p->partition, &info) == 0) {
				p->end = info.visible;
				p->lag = info.visible > p->committed ? info.visible - p->committed
								     : 0;
			}
			gl->npartitions++;
		}
	}
out:
	offsets_snapshot_free(e, ne);
	for (size_t k = 0; k < nsums; k++)
		mem_free(sums[k].id);
	mem_free(sums);
	if (rc < 0) {
		groups_lag_free(v, nv);
		return rc;
	}
	*out = v;
	*n = nv;
	return 0;
}

/* ---------------------------------------------------------------- metrics */

static void render(struct buf *out, void *arg)
{
	struct groups *g = arg;
	struct groups_lag_group *v;
	struct offsets_stats os;
	uint64_t by_state[GS_DEAD + 1] = {0};
	char l[512];
	size_t n;

	if (groups_lag_snapshot(g, &v, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		for (int s = 0; s <= GS_DEAD; s++)
			if (strcmp(v[i].state, groups_state_names[s]) == 0)
				by_state[s]++;
	prom_family(out, "sluice_groups", "gauge", "Consumer groups by state.");
	for (int s = 0; s < GS_DEAD; s++)
		prom_u64(out, "sluice_groups",
			 prom_labels(l, sizeof(l), "state", groups_state_names[s], NULL),
			 by_state[s]);
	prom_family(out, "sluice_group_members", "gauge", "Members of each consumer group.");
	for (size_t i = 0; i < n; i++)
		prom_i64(out, "sluice_group_members",
			 prom_labels(l, sizeof(l), "group", v[i].group, NULL), v[i].members);
	prom_family(out, "sluice_group_committed_offset", "gauge",
		    "Committed offset per group and partition.");
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < v[i].npartitions; j++) {
			char p[16];

			snprintf(p, sizeof(p), "%d", v[i].partitions[j].partition);
			prom_i64(out, "sluice_group_committed_offset",
				 prom_labels(l, sizeof(l), "group", v[i].group, "topic",
					     v[i].partitions[j].topic, "partition", p, NULL),
				 v[i].partitions[j].committed);
		}
	}
	prom_family(out, "sluice_group_lag", "gauge",
		    "High watermark minus committed offset per group and partition.");
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < v[i].npartitions; j++) {
			char p[16];

			if (v[i].partitions[j].lag < 0)
				continue;
			snprintf(p, sizeof(p), "%d", v[i].partitions[j].partition);
			prom_i64(out, "sluice_group_lag",
				 prom_labels(l, sizeof(l), "group", v[i].group, "topic",
					     v[i].partitions[j].topic, "partition", p, NULL),
				 v[i].partitions[j].lag);
		}
	}
	groups_lag_free(v, n);
	prom_family(out, "sluice_group_rebalances_total", "counter",
		    "Completed joins (generations started).");
	prom_u64(out, "sluice_group_rebalances_total", NULL,
		 atomic_load_explicit(&g->rebalances, memory_order_relaxed));
	prom_family(out, "sluice_group_offsets_expired_total", "counter",
		    "Groups whose offsets were dropped by groups.offsets_retention.");
	prom_u64(out, "sluice_group_offsets_expired_total", NULL,
		 atomic_load_explicit(&g->expired_groups, memory_order_relaxed));
	offsets_get_stats(g->offsets, &os);
	prom_family(out, "sluice_offsets_commits_total", "counter", "OffsetCommit writes.");
	prom_u64(out, "sluice_offsets_commits_total", NULL, os.commits);
	prom_family(out, "sluice_offsets_syncs_total", "counter",
		    "fdatasyncs of the offsets journal (group commits).");
	prom_u64(out, "sluice_offsets_syncs_total", NULL, os.syncs);
	prom_family(out, "sluice_offsets_sync_errors_total", "counter",
		    "Failed fdatasyncs of the offsets journal.");
	prom_u64(out, "sluice_offsets_sync_errors_total", NULL, os.sync_errors);
	prom_family(out, "sluice_offsets_entries", "gauge", "Committed offsets held.");
	prom_u64(out, "sluice_offsets_entries", NULL, os.entries);
	prom_family(out, "sluice_offsets_journal_bytes", "gauge", "Size of the offsets journal.");
	prom_u64(out, "sluice_offsets_journal_bytes", NULL, os.journal_bytes);
}

int groups_register_metrics(struct groups *g, struct prom_registry *r)
{
	return prom_registry_add(r, render, g);
}

void groups_unregister_metrics(struct groups *g, struct prom_registry *r)
{
	prom_registry_remove(r, render, g);
}
