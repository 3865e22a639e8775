/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SCAFFOLD, replaced by the log engine: every entry point fails with -ENOSYS
 * so sluice-store links while the engine is being written on its branch.
 */
#include "lib/err.h"
#include "store/log.h"

const double log_fsync_hist_bounds_ms[11] = {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250};

void log_config_init(struct log_config *c)
{
	(void)c;
}

int log_open(const struct log_config *cfg, struct log **out)
{
	(void)cfg;
	*out = NULL;
	return -ENOSYS;
}

void log_close(struct log *log)
{
	(void)log;
}

/* Until the engine lands, the rest of the contract links and fails too. */
bool log_topic_name_valid(const char *name)
{
	(void)name;
	return false;
}

int log_topic_create(struct log *log, const char *name, const struct topic_config *tc)
{
	(void)log, (void)name, (void)tc;
	return -ENOSYS;
}

int log_topic_delete(struct log *log, const char *name)
{
	(void)log, (void)name;
	return -ENOSYS;
}

int log_topic_config(struct log *log, const char *name, struct topic_config *out)
{
	(void)log, (void)name, (void)out;
	return -ENOSYS;
}

int log_topic_list(struct log *log, char ***names, size_t *n)
{
	(void)log;
	*names = NULL;
	*n = 0;
	return -ENOSYS;
}

void log_names_free(char **names, size_t n)
{
	(void)names, (void)n;
}

int log_topic_ensure(struct log *log, const char *name)
{
	(void)log, (void)name;
	return -ENOSYS;
}

int log_partition_info(struct log *log, const char *topic, int32_t partition,
		       struct log_partition_info *out)
{
	(void)log, (void)topic, (void)partition, (void)out;
	return -ENOSYS;
}

int log_append(struct log *log, const char *topic, int32_t partition, uint8_t *batch,
	       size_t len, struct log_append_result *res)
{
	(void)log, (void)topic, (void)partition, (void)batch, (void)len, (void)res;
	return -ENOSYS;
}

int log_wait_visible(struct log *log, const char *topic, int32_t partition, int64_t offset,
		     int timeout_ms)
{
	(void)log, (void)topic, (void)partition, (void)offset, (void)timeout_ms;
	return -ENOSYS;
}

void log_set_listener(struct log *log, void (*cb)(void *arg), void *arg)
{
	(void)log, (void)cb, (void)arg;
}

int log_producer_id_alloc(struct log *log, int64_t *id)
{
	(void)log, (void)id;
	return -ENOSYS;
}

int log_read(struct log *log, const char *topic, int32_t partition, int64_t offset,
	     size_t max_bytes, struct log_slice *out)
{
	(void)log, (void)topic, (void)partition, (void)offset, (void)max_bytes, (void)out;
	return -ENOSYS;
}

void log_slice_release(struct log_slice *s)
{
	(void)s;
}

int log_offset_for_time(struct log *log, const char *topic, int32_t partition, int64_t ts,
			int64_t *offset)
{
	(void)log, (void)topic, (void)partition, (void)ts, (void)offset;
	return -ENOSYS;
}

void log_get_stats(struct log *log, struct log_stats *out)
{
	(void)log, (void)out;
}
