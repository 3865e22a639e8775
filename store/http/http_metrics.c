/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /metrics families that describe the log engine rather than the HTTP API:
 * engine counters and the fsync latency histogram (engine_get_stats) and, per
 * topic and partition, log start and end offsets (records in = end offset,
 * which only grows), high watermark, on-disk bytes and segments.  Rendered
 * on each scrape from the engine's thread-safe accessors.
 *
 * With auth on, a scrape shows per-topic (and per-group) series only for
 * topics (groups) the caller holds a grant on, everything for `cluster
 * admin`: http_metrics_filter() drops the other lines from the rendered
 * text.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lib/prom.h"
#include "store/http/http_priv.h"

static void counter(struct buf *out, const char *name, const char *help, uint64_t v)
{
	prom_family(out, name, "counter", help);
	prom_u64(out, name, NULL, v);
}

static void render_engine(struct buf *out, struct engine *log)
{
	struct engine_stats st;
	uint64_t cum = 0;
	char lb[64];

	engine_get_stats(log, &st);
	counter(out, "sluice_log_appends_total", "batches appended to the log", st.appends);
	counter(out, "sluice_log_append_bytes_total", "bytes appended to the log", st.append_bytes);
	counter(out, "sluice_log_duplicate_batches_total",
		"idempotent retries recognised and not written again", st.duplicates);
	counter(out, "sluice_log_fsyncs_total", "fdatasync calls", st.fsyncs);
	counter(out, "sluice_log_fsync_errors_total", "failed fdatasync calls", st.fsync_errors);
	counter(out, "sluice_log_recovery_truncated_bytes_total",
		"torn tail bytes dropped by recovery", st.truncated_bytes);
	counter(out, "sluice_log_retention_segments_deleted_total", "segments deleted by retention",
		st.segments_deleted);
	counter(out, "sluice_log_corrupt_batches_total",
		"produced batches refused as corrupt (CRC, structure, undecodable records)",
		st.corrupt_batches);
	counter(out, "sluice_log_retention_early_deleted_records_total",
		"records deleted by retention.ms less than retention.ms after they arrived "
		"(their timestamps were old)",
		st.early_deleted_records);
	prom_family(out, "sluice_log_writable", "gauge",
		    "1 when the log engine can write, 0 after a storage error");
	prom_u64(out, "sluice_log_writable", NULL, st.writable ? 1 : 0);
	prom_family(out, "sluice_log_fsync_duration_seconds", "histogram",
		    "fdatasync latency (one sync covers a group of batches)");
	for (int i = 0; i < 12; i++) {
		cum += st.fsync_hist[i];
		if (i < 11)
			snprintf(lb, sizeof(lb), "le=\"%g\"",
				 engine_fsync_hist_bounds_ms[i] / 1000.0);
		else
			snprintf(lb, sizeof(lb), "le=\"+Inf\"");
		prom_u64(out, "sluice_log_fsync_duration_seconds_bucket", lb, cum);
	}
	prom_f64(out, "sluice_log_fsync_duration_seconds_sum", NULL,
		 (double)st.fsync_ns_total / 1e9);
	prom_u64(out, "sluice_log_fsync_duration_seconds_count", NULL, cum);
}

static void render_partitions(struct buf *out, struct engine *log)
{
	static const char *const names[5] = {"sluice_partition_log_start_offset",
					     "sluice_partition_end_offset",
					     "sluice_partition_high_watermark",
					     "sluice_partition_bytes", "sluice_partition_segments"};
	static const char *const helps[5] = {
		"first offset still on disk", "next offset to assign (records ever written)",
		"offsets below are durable and readable", "on-disk size of the partition",
		"segment files of the partition"};
	char **topics = NULL;
	size_t n = 0;

	if (engine_topic_list(log, &topics, &n) < 0)
		return;
	for (int f = 0; f < 5; f++) {
		prom_family(out, names[f], f == 3 || f == 4 || f == 0 ? "gauge" : "counter",
			    helps[f]);
		for (size_t t = 0; t < n; t++) {
			struct topic_config tc;

			if (engine_topic_config(log, topics[t], &tc) < 0)
				continue;
			for (int32_t p = 0; p < tc.partitions; p++) {
				struct engine_partition_info pi;
				int64_t v[5];
				char lb[TOPIC_NAME_MAX + 64], ps[16];

				if (engine_partition_info(log, topics[t], p, &pi) < 0)
					continue;
				v[0] = pi.log_start;
				v[1] = pi.end;
				v[2] = pi.visible;
				v[3] = pi.bytes;
				v[4] = pi.segments;
				snprintf(ps, sizeof(ps), "%" PRId32, p);
				prom_i64(out, names[f],
					 prom_labels(lb, sizeof(lb), "topic", topics[t],
						     "partition", ps, NULL),
					 v[f]);
			}
		}
	}
	engine_names_free(topics, n);
}

void http_metrics_render(struct buf *out, void *arg)
{
	struct http_api *api = arg;

	render_engine(out, api->log);
	render_partitions(out, api->log);
}

/* The value of label name="..." in one series line, copied into out. */
static bool label_value(const char *line, size_t n, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);

	for (size_t i = 0; i + nl + 2 < n; i++) {
		size_t j;

		if ((i > 0 && line[i - 1] != '{' && line[i - 1] != ',') ||
		    memcmp(line + i, name, nl) != 0 || line[i + nl] != '=' ||
		    line[i + nl + 1] != '"')
			continue;
		i += nl + 2;
		for (j = i; j < n && line[j] != '"'; j++)
			;
		if (j == n || j - i >= cap)
			return false;
		memcpy(out, line + i, j - i);
		out[j - i] = '\0';
		return true;
	}
	return false;
}

void http_metrics_filter(struct http_api_req *req, struct buf *text)
{
	struct http_api *api = req->api;
	size_t in = 0, out = 0;

	if (!api->tokens && !auth_acl_enabled(api->auth))
		return;
	if (auth_acl_enabled(api->auth) &&
	    auth_may(api->auth, req->principal, ACL_CLUSTER, NULL, ACL_ADMIN))
		return; /* cluster admin sees every series */
	while (in < text->len) {
		const char *line = (const char *)text->data + in;
		const char *nl = memchr(line, '\n', text->len - in);
		size_t n = nl ? (size_t)(nl - line) + 1 : text->len - in;
		char v[256];
		bool keep = true;

		if (n > 0 && line[0] != '#') {
			if (label_value(line, n, "topic", v, sizeof(v)))
				keep = http_api_allowed(req, 0, v);
			if (keep && label_value(line, n, "group", v, sizeof(v)))
				keep = auth_may(api->auth, req->principal, ACL_GROUP, v,
						ACL_CONSUME);
		}
		if (keep) {
			memmove(text->data + out, line, n);
			out += n;
		}
		in += n;
	}
	text->len = out;
}
