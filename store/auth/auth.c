/* SPDX-License-Identifier: Apache-2.0 */
/*
 * struct auth: configuration checks, ACL decisions, producer-id ownership
 * and refusal counters.  The producer table is a ring of AUTH_PIDS_MAX
 * entries indexed by an intrusive hash map: a new id takes the slot of the
 * oldest one, so the table's memory is fixed whatever clients do.  Owner
 * names are interned (a store has a handful of principals).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

#include "lib/err.h"
#include "lib/hmap.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/prom.h"
#include "store/auth/auth.h"

#define AUTH_PIDS_MAX (1u << 16)
#define AUTH_OWNERS_MAX 4096
#define PID_COUNTER_BITS 23

struct pid_slot {
	struct hmap_node node;
	int64_t pid;    /* -1: free */
	uint32_t owner; /* index into owners */
};

struct auth {
	struct users *users; /* the event-loop thread only (SASL, SIGHUP) */
	struct acl *acl;     /* under acl_lock: HTTP threads read it */
	pthread_rwlock_t acl_lock;
	char *users_path;
	char *acl_path;
	unsigned mechs;
	int64_t reauth_ms;

	pthread_mutex_t mu; /* the producer table and owners */
	struct hmap pids;
	struct pid_slot *slots;
	size_t next_slot;
	size_t used;
	char **owners;
	size_t nowners;

	atomic_uint_fast64_t failures[AUTH_LISTENERS][AUTH_REASONS];
};

static const char *const reason_names[AUTH_REASONS] = {
	"bad_credentials",  "bad_mechanism", "malformed", "unauthenticated",     "session_expired",
	"reauth_principal", "missing_token", "denied",    "foreign_producer_id",
};

static const char *const listener_names[AUTH_LISTENERS] = {"kafka", "http"};

unsigned auth_mech_bit(const char *name, size_t n)
{
	if (n == 5 && memcmp(name, "PLAIN", 5) == 0)
		return AUTH_MECH_PLAIN;
	if (scram_mech_parse(name, n) == SCRAM_SHA256)
		return AUTH_MECH_SCRAM_SHA256;
	if (scram_mech_parse(name, n) == SCRAM_SHA512)
		return AUTH_MECH_SCRAM_SHA512;
	return 0;
}

void auth_free(struct auth *a)
{
	if (!a)
		return;
	users_free(a->users);
	acl_free(a->acl);
	mem_free(a->users_path);
	mem_free(a->acl_path);
	pthread_rwlock_destroy(&a->acl_lock);
	hmap_release(&a->pids);
	mem_free(a->slots);
	for (size_t i = 0; i < a->nowners; i++)
		mem_free(a->owners[i]);
	mem_free(a->owners);
	pthread_mutex_destroy(&a->mu);
	mem_free(a);
}

int auth_new(const struct store_config *conf, struct auth **out, char *err, size_t errlen)
{
	struct auth *a = mem_calloc(1, sizeof(*a));
	int rc = 0;

	*out = NULL;
	if (!a)
		return -ENOMEM;
	pthread_mutex_init(&a->mu, NULL);
	pthread_rwlock_init(&a->acl_lock, NULL);
	hmap_init(&a->pids);
	a->slots = mem_calloc(AUTH_PIDS_MAX, sizeof(*a->slots));
	a->owners = mem_calloc(AUTH_OWNERS_MAX, sizeof(*a->owners));
	if (!a->slots || !a->owners) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < AUTH_PIDS_MAX; i++)
		a->slots[i].pid = -1;
	a->reauth_ms = conf->kafka.connections_max_reauth_ms;
	for (size_t i = 0; i < conf->kafka.sasl.n; i++) {
		const char *m = conf->kafka.sasl.v[i];
		unsigned bit = auth_mech_bit(m, strlen(m));

		if (!bit) {
			snprintf(err, errlen,
				 "kafka.sasl: unknown mechanism '%s' (PLAIN, "
				 "SCRAM-SHA-256, SCRAM-SHA-512)",
				 m);
			rc = -ERR_CONFIG;
			goto out;
		}
		a->mechs |= bit;
	}
	if (a->mechs && !conf->auth.users_file) {
		snprintf(err, errlen, "kafka.sasl needs auth.users_file");
		rc = -ERR_CONFIG;
		goto out;
	}
	if (conf->auth.users_file) {
		a->users_path = mem_strdup(conf->auth.users_file);
		rc = a->users_path ? users_load(a->users_path, true, &a->users, err, errlen)
				   : -ENOMEM;
		if (rc < 0)
			goto out;
	}
	if (conf->auth.acl_file) {
		a->acl_path = mem_strdup(conf->auth.acl_file);
		rc = a->acl_path ? acl_load(a->acl_path, &a->acl, err, errlen) : -ENOMEM;
		if (rc < 0)
			goto out;
		log_info("auth: %zu ACL entries from %s", acl_count(a->acl), conf->auth.acl_file);
	}
	if (a->users)
		log_info("auth: %zu SASL users from %s", users_count(a->users),
			 conf->auth.users_file);
	*out = a;
out:
	if (rc < 0)
		auth_free(a);
	return rc;
}

unsigned auth_sasl_mechs(const struct auth *a)
{
	return a ? a->mechs : 0;
}

int64_t auth_reauth_ms(const struct auth *a)
{
	return a ? a->reauth_ms : 0;
}

const struct users *auth_users(const struct auth *a)
{
	return a ? a->users : NULL;
}

struct users *auth_users_rw(struct auth *a)
{
	return a ? a->users : NULL;
}

const char *auth_users_path(const struct auth *a)
{
	return a ? a->users_path : NULL;
}

bool auth_acl_enabled(const struct auth *a)
{
	return a && a->acl_path; /* immutable; a->acl is swapped by reloads */
}

void auth_count(struct auth *a, enum auth_listener l, enum auth_reason why)
{
	if (!a || (unsigned)l >= AUTH_LISTENERS || (unsigned)why >= AUTH_REASONS)
		return;
	atomic_fetch_add_explicit(&a->failures[l][why], 1, memory_order_relaxed);
}

bool auth_may(const struct auth *a, const char *principal, enum acl_res kind, const char *name,
	      unsigned perm)
{
	struct auth *w = (struct auth *)a; /* the lock, not the model, changes */
	bool ok;

	if (!a || !a->acl_path)
		return true;
	pthread_rwlock_rdlock(&w->acl_lock);
	ok = acl_allows(a->acl, principal, kind, name, perm);
	pthread_rwlock_unlock(&w->acl_lock);
	return ok;
}

bool auth_allowed(struct auth *a, enum auth_listener l, const char *principal, enum acl_res kind,
		  const char *name, unsigned perm)
{
	if (auth_may(a, principal, kind, name, perm))
		return true;
	auth_count(a, l, AUTH_DENIED);
	return false;
}

unsigned auth_perms(const struct auth *a, const char *principal, enum acl_res kind,
		    const char *name)
{
	struct auth *w = (struct auth *)a;
	unsigned p;

	if (!a || !a->acl_path)
		return ACL_CONSUME | ACL_PRODUCE | ACL_ADMIN;
	pthread_rwlock_rdlock(&w->acl_lock);
	p = acl_perms(a->acl, principal, kind, name);
	pthread_rwlock_unlock(&w->acl_lock);
	return p;
}

int auth_reload_acl(struct auth *a)
{
	char err[512] = "";
	struct acl *acl = NULL, *old;

	if (!a || !a->acl_path)
		return -ERR_NOT_FOUND;
	if (acl_load(a->acl_path, &acl, err, sizeof(err)) < 0) {
		log_error("auth: keeping the running ACL: %s", err);
		return -ERR_CONFIG;
	}
	pthread_rwlock_wrlock(&a->acl_lock);
	old = a->acl;
	a->acl = acl;
	pthread_rwlock_unlock(&a->acl_lock);
	acl_free(old);
	log_info("auth: %zu ACL entries from %s", acl_count(acl), a->acl_path);
	return 0;
}

const struct acl *auth_acl(const struct auth *a)
{
	return a ? a->acl : NULL;
}

const char *auth_acl_path(const struct auth *a)
{
	return a ? a->acl_path : NULL;
}

void auth_reload(struct auth *a)
{
	char err[512] = "";
	struct users *u = NULL;

	if (!a)
		return;
	if (a->users_path) {
		if (users_load(a->users_path, true, &u, err, sizeof(err)) < 0) {
			log_error("SIGHUP: keeping the running users: %s", err);
		} else {
			users_free(a->users);
			a->users = u;
			log_info("SIGHUP: %zu SASL users from %s", users_count(u), a->users_path);
		}
	}
	auth_reload_acl(a);
}

/* ---------------------------------------------------------------- producer ids */

/* Index of principal in the owners table, added when new; under mu. */
static int owner_index(struct auth *a, const char *principal)
{
	for (size_t i = 0; i < a->nowners; i++)
		if (strcmp(a->owners[i], principal) == 0)
			return (int)i;
	if (a->nowners == AUTH_OWNERS_MAX)
		return -ENOSPC;
	a->owners[a->nowners] = mem_strdup(principal);
	if (!a->owners[a->nowners])
		return -ENOMEM;
	return (int)a->nowners++;
}

static struct pid_slot *pid_find(struct auth *a, int64_t pid)
{
	uint64_t h = hmap_hash_u64(HMAP_SEED, (uint64_t)pid);

	for (struct hmap_node *n = hmap_first(&a->pids, h); n; n = hmap_next(n, h)) {
		struct pid_slot *s = hmap_entry(n, struct pid_slot, node);

		if (s->pid == pid)
			return s;
	}
	return NULL;
}

/* Record pid as owned by owner; under mu.  The oldest entry makes room. */
static void pid_put(struct auth *a, int64_t pid, uint32_t owner)
{
	struct pid_slot *s = &a->slots[a->next_slot];

	a->next_slot = (a->next_slot + 1) % AUTH_PIDS_MAX;
	if (s->pid >= 0)
		hmap_remove(&a->pids, &s->node);
	else
		a->used++;
	s->pid = pid;
	s->owner = owner;
	/* on -ENOMEM the node is still inserted (in the smaller table) */
	hmap_insert(&a->pids, &s->node, hmap_hash_u64(HMAP_SEED, (uint64_t)pid));
}

int auth_producer_id_new(struct auth *a, struct engine *log, const char *principal, int64_t *id)
{
	uint64_t rnd = 0;
	int64_t seq;
	int rc = engine_producer_id_alloc(log, &seq);

	if (rc < 0)
		return rc;
	if (RAND_bytes((unsigned char *)&rnd, sizeof(rnd)) != 1)
		return -ENOMEM;
	/* 40 random bits over the low bits of the durable counter: positive,
	 * unique across 2^23 consecutive ids, not guessable */
	*id = (int64_t)(((rnd & ((1ull << 40) - 1)) << PID_COUNTER_BITS) |
			((uint64_t)seq & ((1ull << PID_COUNTER_BITS) - 1)));
	if (!a)
		return 0;
	pthread_mutex_lock(&a->mu);
	rc = owner_index(a, principal);
	if (rc >= 0) {
		pid_put(a, *id, (uint32_t)rc);
		rc = 0;
	}
	pthread_mutex_unlock(&a->mu);
	return rc;
}

int auth_producer_check(struct auth *a, enum auth_listener l, int64_t pid, const char *principal)
{
	struct pid_slot *s;
	int rc = 0;

	if (!a || pid < 0)
		return 0;
	pthread_mutex_lock(&a->mu);
	s = pid_find(a, pid);
	if (s && strcmp(a->owners[s->owner], principal) != 0) {
		rc = -ERR_AUTH;
	} else if (!s) {
		int o = owner_index(a, principal);

		if (o >= 0)
			pid_put(a, pid, (uint32_t)o);
	}
	pthread_mutex_unlock(&a->mu);
	if (rc < 0)
		auth_count(a, l, AUTH_FOREIGN_PRODUCER);
	return rc;
}

void auth_render_metrics(struct buf *out, void *arg)
{
	struct auth *a = arg;
	size_t used;

	prom_family(out, "sluice_auth_failures_total", "counter",
		    "Clients refused, by listener and reason (no secrets are logged).");
	for (int l = 0; l < AUTH_LISTENERS; l++) {
		for (int r = 0; r < AUTH_REASONS; r++) {
			char lab[128];

			prom_labels(lab, sizeof(lab), "listener", listener_names[l], "reason",
				    reason_names[r], NULL);
			prom_u64(out, "sluice_auth_failures_total", lab,
				 atomic_load_explicit(&a->failures[l][r], memory_order_relaxed));
		}
	}
	pthread_mutex_lock(&a->mu);
	used = a->used;
	pthread_mutex_unlock(&a->mu);
	prom_family(out, "sluice_auth_producer_ids", "gauge",
		    "Producer ids whose owning principal the store remembers.");
	prom_u64(out, "sluice_auth_producer_ids", NULL, used);
}
