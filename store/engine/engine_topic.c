/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Topics: the sorted in-memory table, and create /
 * delete / alter, each persisted in data_dir/meta/topics.yaml before it takes
 * effect in memory; plus the start-up chores that keep directories and
 * registry in agreement (rebuild a lost registry, remove orphans).
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/topic_name.h"
#include "store/engine/engine_int.h"

int engine_ts_type_parse(const char *name)
{
	if (name && strcmp(name, "CreateTime") == 0)
		return ENGINE_TS_CREATE_TIME;
	if (name && strcmp(name, "LogAppendTime") == 0)
		return ENGINE_TS_LOG_APPEND_TIME;
	return -ERR_INVALID;
}

const char *engine_ts_type_name(int32_t type)
{
	return type == ENGINE_TS_LOG_APPEND_TIME ? "LogAppendTime" : "CreateTime";
}

/* ---------------------------------------------------------------- topic table */

static long topic_search(const struct engine *log, const char *name)
{
	size_t lo = 0, hi = log->ntopics;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(log->topics[mid]->name, name);

		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(long)lo - 1;
}

struct topic *engine_topic_find(const struct engine *log, const char *name)
{
	long i = topic_search(log, name);

	return i >= 0 ? log->topics[i] : NULL;
}

int engine_topic_insert(struct engine *log, struct topic *t)
{
	long i = topic_search(log, t->name);
	size_t at;

	if (i >= 0)
		return -ERR_EXISTS;
	if (log->ntopics == log->topics_cap) {
		size_t ncap = log->topics_cap ? log->topics_cap * 2 : 16;
		struct topic **n = mem_realloc(log->topics, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		log->topics = n;
		log->topics_cap = ncap;
	}
	if (engine_topic_index_id(log, t) < 0)
		return -ENOMEM;
	at = (size_t)(-i - 1);
	memmove(&log->topics[at + 1], &log->topics[at], (log->ntopics - at) * sizeof(*log->topics));
	log->topics[at] = t;
	log->ntopics++;
	return 0;
}

void engine_topic_remove(struct engine *log, const char *name)
{
	long i = topic_search(log, name);

	if (i < 0)
		return;
	engine_topic_unindex_id(log, log->topics[i]);
	memmove(&log->topics[i], &log->topics[i + 1],
		(log->ntopics - (size_t)i - 1) * sizeof(*log->topics));
	log->ntopics--;
}

void engine_topic_free(struct topic *t)
{
	if (!t)
		return;
	for (int32_t i = 0; i < t->nparts; i++)
		partition_unref(t->parts[i]);
	mem_free(t->parts);
	mem_free(t->name);
	mem_free(t);
}

void engine_topic_apply_defaults(const struct engine *log, struct topic_config *tc)
{
	const struct topic_config *d = &log->cfg.defaults;

	if (!tc->partitions)
		tc->partitions = d->partitions;
	if (!tc->retention_ms)
		tc->retention_ms = d->retention_ms;
	if (!tc->retention_bytes)
		tc->retention_bytes = d->retention_bytes;
	if (!tc->segment_bytes)
		tc->segment_bytes = d->segment_bytes;
	if (!tc->segment_ms)
		tc->segment_ms = d->segment_ms;
	if (!tc->max_batch_bytes)
		tc->max_batch_bytes = d->max_batch_bytes;
	if (!tc->timestamp_type)
		tc->timestamp_type = d->timestamp_type;
}

void engine_topic_trash_dir(struct engine *log, const char *dir)
{
	char dst[4096];
	int n = snprintf(dst, sizeof(dst), "%s/trash/%llu-%llu", log->meta_dir,
			 (unsigned long long)clock_wall_ns(), (unsigned long long)log->trash_seq++);

	if (n < 0 || (size_t)n >= sizeof(dst))
		return;
	if (rename(dir, dst) != 0) {
		if (errno != ENOENT)
			log_warn("log: cannot move %s to the trash: %s", dir, err_str(-errno));
		return;
	}
	SLUICE_IGNORE(fs_fsync_dir(log->data_dir)); /* best effort, like the removal below */
	if (fs_rmtree(dst) < 0)
		log_warn("log: cannot remove %s", dst);
}

/* "<topic>-<n>" directories: the topic name and the partition, or false. */
static bool parse_part_dir(const char *name, char *topic, size_t cap, int32_t *idx)
{
	const char *dash = strrchr(name, '-');
	int64_t v = 0;

	if (!dash || dash == name || !dash[1] || (size_t)(dash - name) >= cap)
		return false;
	for (const char *p = dash + 1; *p; p++) {
		if (*p < '0' || *p > '9' || v > REGISTRY_MAX_PARTITIONS)
			return false;
		v = v * 10 + (*p - '0');
	}
	if (v >= REGISTRY_MAX_PARTITIONS)
		return false;
	memcpy(topic, name, (size_t)(dash - name));
	topic[dash - name] = '\0';
	*idx = (int32_t)v;
	return topic_name_valid(topic);
}

/* Without topics.yaml, rebuild the registry from the partition directories
 * (defaults for every setting) rather than lose their data. */
int engine_topic_reconstruct(struct engine *log)
{
	DIR *d = opendir(log->data_dir);
	struct dirent *e;
	int rc = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d)) != NULL) {
		char topic[TOPIC_NAME_MAX + 1];
		struct topic_config cfg = log->cfg.defaults;
		int32_t idx;
		long at;

		if (!parse_part_dir(e->d_name, topic, sizeof(topic), &idx))
			continue;
		at = registry_find(&log->persisted, topic);
		if (at >= 0)
			cfg = log->persisted.v[at].cfg;
		else
			cfg.partitions = 0;
		if (idx + 1 > cfg.partitions)
			cfg.partitions = idx + 1;
		rc = registry_set(&log->persisted, topic, &cfg);
		if (rc < 0)
			break;
	}
	closedir(d);
	if (rc == 0 && log->persisted.n) {
		log_warn(
			"log: %s/topics.yaml is missing; rebuilt it from %zu topic directories with "
			"default settings",
			log->meta_dir, log->persisted.n);
		rc = registry_save(&log->persisted, log->meta_dir);
	}
	return rc;
}

/* Partition directories no registered topic owns: leftovers of an
 * interrupted create or delete. */
void engine_topic_remove_orphans(struct engine *log)
{
	DIR *d = opendir(log->data_dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		char topic[TOPIC_NAME_MAX + 1], dir[4096];
		int32_t idx;
		long at;

		if (!parse_part_dir(e->d_name, topic, sizeof(topic), &idx))
			continue;
		at = registry_find(&log->persisted, topic);
		if (at >= 0 && idx < log->persisted.v[at].cfg.partitions)
			continue;
		if (snprintf(dir, sizeof(dir), "%s/%s", log->data_dir, e->d_name) >=
		    (int)sizeof(dir))
			continue;
		log_warn("log: removing %s: no such topic or partition in the registry", dir);
		engine_topic_trash_dir(log, dir);
	}
	closedir(d);
}

/* ---------------------------------------------------------------- topics */

int engine_topic_create(struct engine *log, const char *name, const struct topic_config *tc)
{
	return engine_topic_create_ex(log, name, tc, NULL);
}

int engine_topic_create_ex(struct engine *log, const char *name, const struct topic_config *tc,
			   const char *extra)
{
	struct topic_config cfg = *tc;
	struct topic *t = NULL;
	bool exists;
	int rc;

	if (!topic_name_valid(name))
		return -ERR_INVALID;
	engine_topic_apply_defaults(log, &cfg);
	if (registry_check_config(&cfg) < 0 || !registry_extra_valid(extra))
		return -ERR_INVALID;
	pthread_mutex_lock(&log->admin_mu);
	pthread_rwlock_rdlock(&log->topics_lock);
	exists = engine_topic_find(log, name) != NULL;
	pthread_rwlock_unlock(&log->topics_lock);
	if (exists) {
		rc = -ERR_EXISTS;
		goto out;
	}
	t = mem_calloc(1, sizeof(*t));
	if (!t) {
		rc = -ENOMEM;
		goto out;
	}
	t->name = mem_strdup(name);
	t->cfg = cfg;
	t->parts = mem_calloc((size_t)cfg.partitions, sizeof(*t->parts));
	if (!t->name || !t->parts) {
		rc = -ENOMEM;
		goto out;
	}
	/* directories first: a crash before the registry names them leaves
	 * orphans that the next open removes */
	rc = engine_open_parts(log, name, 0, cfg.partitions, t->parts, NULL);
	t->nparts = cfg.partitions; /* on failure too: the undo below removes them */
	if (rc < 0)
		goto out;
	/* a new id every time: a re-created topic is another topic to clients */
	rc = registry_new_id(t->id);
	if (rc == 0)
		rc = registry_set(&log->persisted, name, &cfg);
	if (rc == 0)
		rc = registry_set_id(&log->persisted, name, t->id);
	if (rc == 0)
		rc = registry_set_extra(&log->persisted, name, extra);
	if (rc == 0)
		rc = registry_save(&log->persisted, log->meta_dir);
	if (rc < 0)
		registry_remove(&log->persisted, name);
	if (rc < 0)
		goto out;
	pthread_rwlock_wrlock(&log->topics_lock);
	rc = engine_topic_insert(log, t);
	pthread_rwlock_unlock(&log->topics_lock);
	if (rc == 0) {
		log_info("log: created topic %s with %d partitions", name, cfg.partitions);
		t = NULL;
	}
out:
	if (t && t->nparts) {
		/* undo the directories, also those of a failed engine_open_parts()
		 * (out of descriptors or space part-way): not left until a restart */
		for (int32_t i = 0; i < t->nparts; i++) {
			char dir[4096];

			partition_unref(t->parts[i]);
			t->parts[i] = NULL;
			if (engine_part_dir(log, name, i, dir, sizeof(dir)) == 0)
				engine_topic_trash_dir(log, dir);
		}
		t->nparts = 0;
	}
	engine_topic_free(t);
	pthread_mutex_unlock(&log->admin_mu);
	return rc == -ENOSPC || rc == -EIO || rc == -EDQUOT ? -ERR_STORAGE : rc;
}

int engine_topic_delete(struct engine *log, const char *name)
{
	struct topic *t;
	char *extra = NULL;
	long at;
	int rc;

	if (!topic_name_valid(name))
		return -ERR_INVALID;
	pthread_mutex_lock(&log->admin_mu);
	pthread_rwlock_rdlock(&log->topics_lock);
	t = engine_topic_find(log, name);
	pthread_rwlock_unlock(&log->topics_lock);
	if (!t) {
		rc = -ERR_NOT_FOUND;
		goto out;
	}
	at = registry_find(&log->persisted, name);
	if (at >= 0 && log->persisted.v[at].extra) {
		/* kept to put back if the save fails */
		extra = mem_strdup(log->persisted.v[at].extra);
		if (!extra) {
			rc = -ENOMEM;
			goto out;
		}
	}
	/* the registry first: once it no longer names the topic, its
	 * directories are garbage even if we crash right here */
	registry_remove(&log->persisted, name);
	rc = registry_save(&log->persisted, log->meta_dir);
	if (rc < 0) {
		if (registry_set(&log->persisted, name, &t->cfg) == 0) {
			(void)registry_set_id(&log->persisted, name, t->id);
			(void)registry_set_extra(&log->persisted, name, extra);
		}
		goto out;
	}
	pthread_rwlock_wrlock(&log->topics_lock);
	engine_topic_remove(log, name);
	pthread_rwlock_unlock(&log->topics_lock);
	for (int32_t i = 0; i < t->nparts; i++) {
		char dir[4096];

		partition_mark_deleted(t->parts[i]);
		if (engine_part_dir(log, name, i, dir, sizeof(dir)) == 0)
			engine_topic_trash_dir(log, dir);
	}
	engine_topic_free(t);
	(void)engine_write_checkpoint(log, false);
	log_info("log: deleted topic %s", name);
out:
	pthread_mutex_unlock(&log->admin_mu);
	mem_free(extra);
	return rc;
}

static void alter_apply(struct topic_config *cfg, const struct engine_topic_alter *a)
{
	if (a->partitions)
		cfg->partitions = a->partitions;
	if (a->set_retention_ms)
		cfg->retention_ms = a->retention_ms;
	if (a->set_retention_bytes)
		cfg->retention_bytes = a->retention_bytes;
	if (a->set_segment_bytes)
		cfg->segment_bytes = a->segment_bytes;
	if (a->set_segment_ms)
		cfg->segment_ms = a->segment_ms;
	if (a->set_max_batch_bytes)
		cfg->max_batch_bytes = a->max_batch_bytes;
	if (a->set_timestamp_type)
		cfg->timestamp_type = a->timestamp_type;
}

/* Persist cfg (and a->extra when set) for name; on failure the registry
 * is as it was (old, old_extra). */
static int alter_save(struct engine *log, const char *name, const struct topic_config *cfg,
		      const struct topic_config *old, const struct engine_topic_alter *a)
{
	long at = registry_find(&log->persisted, name);
	char *old_extra = NULL;
	int rc;

	if (at < 0)
		return -ERR_NOT_FOUND;
	if (a->extra && log->persisted.v[at].extra) {
		old_extra = mem_strdup(log->persisted.v[at].extra);
		if (!old_extra)
			return -ENOMEM;
	}
	rc = registry_set(&log->persisted, name, cfg);
	if (rc == 0 && a->extra)
		rc = registry_set_extra(&log->persisted, name, a->extra);
	if (rc == 0)
		rc = registry_save(&log->persisted, log->meta_dir);
	if (rc < 0) {
		(void)registry_set(&log->persisted, name, old);
		if (a->extra)
			(void)registry_set_extra(&log->persisted, name, old_extra);
	}
	mem_free(old_extra);
	return rc;
}

int engine_topic_alter(struct engine *log, const char *name, const struct engine_topic_alter *a)
{
	struct partition **grown = NULL;
	struct topic_config cfg, old;
	struct topic *t;
	int32_t nold = 0;
	int rc = 0;

	if (a->extra && !registry_extra_valid(a->extra))
		return -ERR_INVALID;
	pthread_mutex_lock(&log->admin_mu);
	pthread_rwlock_rdlock(&log->topics_lock);
	t = engine_topic_find(log, name);
	if (t) {
		cfg = old = t->cfg;
		nold = t->nparts;
	}
	pthread_rwlock_unlock(&log->topics_lock);
	if (!t) {
		rc = -ERR_NOT_FOUND;
		goto out;
	}
	if (a->partitions != 0 && a->partitions < nold) {
		rc = -ERR_INVALID;
		goto out;
	}
	alter_apply(&cfg, a);
	if (registry_check_config(&cfg) < 0) {
		rc = -ERR_INVALID;
		goto out;
	}
	if (cfg.partitions > nold) {
		grown = mem_calloc((size_t)cfg.partitions, sizeof(*grown));
		if (!grown) {
			rc = -ENOMEM;
			goto out;
		}
		rc = engine_open_parts(log, name, nold, cfg.partitions, grown, NULL);
		if (rc < 0)
			goto out;
	}
	rc = alter_save(log, name, &cfg, &old, a);
	if (rc < 0)
		goto out;
	/* the appending and retention threads read t->cfg under this lock:
	 * the change is live from here on */
	pthread_rwlock_wrlock(&log->topics_lock);
	t->cfg = cfg;
	if (grown) {
		memcpy(grown, t->parts, (size_t)nold * sizeof(*grown));
		mem_free(t->parts);
		t->parts = grown;
		t->nparts = cfg.partitions;
		grown = NULL;
	}
	pthread_rwlock_unlock(&log->topics_lock);
	if (cfg.partitions > nold)
		log_info("log: topic %s grew from %d to %d partitions", name, nold, cfg.partitions);
out:
	if (grown) {
		for (int32_t i = nold; i < cfg.partitions; i++) {
			char dir[4096];

			/* NULL after a failed engine_open_parts(): its directory may exist */
			partition_unref(grown[i]);
			if (engine_part_dir(log, name, i, dir, sizeof(dir)) == 0)
				engine_topic_trash_dir(log, dir);
		}
		mem_free(grown);
	}
	pthread_mutex_unlock(&log->admin_mu);
	return rc == -ENOSPC || rc == -EIO || rc == -EDQUOT ? -ERR_STORAGE : rc;
}

int engine_topic_config(struct engine *log, const char *name, struct topic_config *out)
{
	struct topic *t;
	int rc = 0;

	pthread_rwlock_rdlock(&log->topics_lock);
	t = engine_topic_find(log, name);
	if (t)
		*out = t->cfg;
	else
		rc = -ERR_NOT_FOUND;
	pthread_rwlock_unlock(&log->topics_lock);
	return rc;
}

void engine_topic_defaults(const struct engine *log, struct topic_config *out)
{
	*out = log->cfg.defaults;
}

int engine_topic_extra(struct engine *log, const char *name, char **out)
{
	long at;
	int rc = 0;

	*out = NULL;
	pthread_mutex_lock(&log->admin_mu);
	at = registry_find(&log->persisted, name);
	if (at < 0)
		rc = -ERR_NOT_FOUND;
	else
		*out = mem_strdup(log->persisted.v[at].extra ? log->persisted.v[at].extra : "");
	pthread_mutex_unlock(&log->admin_mu);
	if (rc == 0 && !*out)
		rc = -ENOMEM;
	return rc;
}

int engine_topic_list(struct engine *log, char ***names, size_t *n)
{
	char **v;
	size_t k = 0;
	int rc = 0;

	*names = NULL;
	*n = 0;
	pthread_rwlock_rdlock(&log->topics_lock);
	v = mem_calloc(log->ntopics ? log->ntopics : 1, sizeof(*v));
	if (!v)
		rc = -ENOMEM;
	for (; rc == 0 && k < log->ntopics; k++) {
		v[k] = mem_strdup(log->topics[k]->name);
		if (!v[k])
			rc = -ENOMEM;
	}
	pthread_rwlock_unlock(&log->topics_lock);
	if (rc < 0) {
		engine_names_free(v, k);
		return rc;
	}
	*names = v;
	*n = k;
	return 0;
}

void engine_names_free(char **names, size_t n)
{
	if (!names)
		return;
	for (size_t i = 0; i < n; i++)
		mem_free(names[i]);
	mem_free(names);
}

int engine_topic_ensure(struct engine *log, const char *name)
{
	struct topic_config tc;
	int rc;

	if (!topic_name_valid(name))
		return -ERR_INVALID;
	for (int tries = 0; tries < 3; tries++) {
		rc = engine_topic_config(log, name, &tc);
		if (rc == 0)
			return tc.partitions;
		if (!log->cfg.auto_create)
			return -ERR_NOT_FOUND;
		memset(&tc, 0, sizeof(tc));
		rc = engine_topic_create(log, name, &tc);
		if (rc < 0 && rc != -ERR_EXISTS)
			return rc;
	}
	return -ERR_NOT_FOUND; /* created and deleted under our feet, repeatedly */
}
