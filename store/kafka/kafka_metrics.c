/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Kafka listener's own metrics in Prometheus text: requests by API and
 * error code, connections, bytes, back-pressure and latency histograms
 * (kafka_metrics.h).
 */
#include <stdio.h>

#include "lib/prom.h"
#include "store/kafka/kafka_api.h"
#include "store/kafka/kafka_metrics.h"
#include "store/kafka/kafka_req.h"

static void render_latency(struct buf *out, const char *name, const char *help,
			   const struct kafka_latency *l)
{
	char n[96], le[48];
	uint64_t cum = 0;

	prom_family(out, name, "histogram", help);
	snprintf(n, sizeof(n), "%s_bucket", name);
	for (int i = 0; i <= KAFKA_LAT_BUCKETS; i++) {
		cum += atomic_load_explicit(&l->bucket[i], memory_order_relaxed);
		if (i < KAFKA_LAT_BUCKETS) {
			char v[32];

			snprintf(v, sizeof(v), "%g", kafka_lat_bounds_ms[i] / 1000.0);
			prom_labels(le, sizeof(le), "le", v, NULL);
		} else {
			prom_labels(le, sizeof(le), "le", "+Inf", NULL);
		}
		prom_u64(out, n, le, cum);
	}
	snprintf(n, sizeof(n), "%s_sum", name);
	prom_f64(out, n, NULL,
		 (double)atomic_load_explicit(&l->sum_us, memory_order_relaxed) / 1e6);
	snprintf(n, sizeof(n), "%s_count", name);
	prom_u64(out, n, NULL, atomic_load_explicit(&l->count, memory_order_relaxed));
}

static void render_counter(struct buf *out, const char *name, const char *type, const char *help,
			   const atomic_uint_fast64_t *v)
{
	prom_family(out, name, type, help);
	prom_u64(out, name, NULL, atomic_load_explicit(v, memory_order_relaxed));
}

void kafka_metrics_render(struct buf *out, struct kafka_stats *s)
{
	size_t napi;
	const struct kafka_api *t = kafka_api_table(&napi);

	prom_family(out, "sluice_kafka_requests_total", "counter",
		    "Kafka requests answered, by API and (first) error code.");
	for (size_t i = 0; i < napi && i < KAFKA_API_SLOTS; i++) {
		for (int e = 0; e < KAFKA_ERR_BUCKETS; e++) {
			uint64_t v = atomic_load_explicit(&s->requests[i][e], memory_order_relaxed);
			char code[16], l[128];

			if (!v && e != 0)
				continue;
			snprintf(code, sizeof(code), "%d", e == KAFKA_ERR_BUCKETS - 1 ? -1 : e);
			prom_labels(l, sizeof(l), "api", t[i].name, "error_code", code, NULL);
			prom_u64(out, "sluice_kafka_requests_total", l, v);
		}
	}
	render_counter(out, "sluice_kafka_connections", "gauge", "Open Kafka connections.",
		       &s->connections_open);
	render_counter(out, "sluice_kafka_connections_accepted_total", "counter",
		       "Kafka connections accepted.", &s->connections_accepted);
	render_counter(out, "sluice_kafka_connections_rejected_total", "counter",
		       "Kafka connections refused at kafka.max_connections.",
		       &s->connections_rejected);
	render_counter(out, "sluice_kafka_bad_frames_total", "counter",
		       "Connections closed for an oversized, malformed or unsupported request.",
		       &s->bad_frames);
	render_counter(out, "sluice_kafka_received_bytes_total", "counter",
		       "Bytes read from Kafka clients.", &s->bytes_in);
	render_counter(out, "sluice_kafka_sent_bytes_total", "counter",
		       "Bytes written to Kafka clients.", &s->bytes_out);
	render_counter(out, "sluice_kafka_produce_batches_total", "counter",
		       "Record batches appended through Produce.", &s->produce_batches);
	render_counter(out, "sluice_kafka_produce_bytes_total", "counter",
		       "Record batch bytes appended through Produce.", &s->produce_bytes);
	render_counter(out, "sluice_kafka_fetch_bytes_total", "counter",
		       "Record bytes served by Fetch.", &s->fetch_bytes);
	render_counter(out, "sluice_kafka_paused_reads_total", "counter",
		       "Times a connection's reads paused for back-pressure.", &s->paused_reads);
	render_counter(out, "sluice_kafka_request_trailing_bytes_total", "counter",
		       "Requests served although bytes followed their body (Kafka ignores them; "
		       "librdkafka 2.16 sends Metadata v12 with a field of older versions).",
		       &s->trailing_bytes);
	render_latency(out, "sluice_kafka_produce_latency_seconds",
		       "Produce request latency (receipt to response ready).", &s->produce_latency);
	render_latency(out, "sluice_kafka_fetch_latency_seconds",
		       "Fetch request latency, long-poll wait included.", &s->fetch_latency);
	render_latency(out, "sluice_kafka_request_latency_seconds",
		       "Latency of every Kafka request.", &s->request_latency);
}
