/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Kafka listener's metrics (struct kafka_stats, kafka_req.h) rendered as
 * Prometheus text for the store's /metrics; the counters are atomics, so
 * any thread may render while the event loop counts.
 */
#ifndef SLUICE_STORE_KAFKA_METRICS_H
#define SLUICE_STORE_KAFKA_METRICS_H

#include "lib/buf.h"

struct kafka_stats;

void kafka_metrics_render(struct buf *out, struct kafka_stats *s);

#endif
