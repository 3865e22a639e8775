/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sluice consume` and `sluice replay` against any Kafka cluster
 * (--brokers HOST:PORT,...), with librdkafka instead of the store's HTTP
 * API: the partitions' start offsets come from offsets-for-times
 * (--from-time) or --from-offset, the end of a bounded read from
 * offsets-for-times of --to-time (else the high watermarks at start), then
 * each partition is read up to its end offset (--follow: without end).
 * Records pass the same filters (--grep, --key, --header, the time window)
 * and print with the same formats; replay re-publishes them (key, headers,
 * timestamp) to another topic of the same cluster, idempotent, acks=all.
 *
 * Order: each partition's records in offset order; partitions interleave as
 * fetched (the store path merges them by timestamp).  read_committed: the
 * records of aborted transactions are never shown.
 */
#ifndef SLUICE_CLI_KAFKA_H
#define SLUICE_CLI_KAFKA_H

#include <stdbool.h>
#include <stdint.h>

#include "cli/cli.h"
#include "cli/cli_filter.h"
#include "cli/cli_out.h"

struct cli_kafka_req {
	char *const *topics;
	size_t ntopics;
	int64_t partition;   /* -1: all */
	int64_t from_offset; /* CLI_START_* or >= 0 */
	bool has_from_offset;
	int64_t from_ts; /* INT64_MIN: none */
	int64_t to_ts;   /* INT64_MAX: none */
	bool has_from_time;
	bool has_to_time;
	bool follow;
	uint64_t max; /* 0: no limit */
	enum cli_format fmt;
	bool stats;
	bool quiet;
	struct cli_filter *filter;
	const char *to_topic; /* replay */
};

/* Run the command against ctx->brokers: CLI_OK, CLI_FAIL after printing why. */
int cli_kafka_run(struct cli_ctx *ctx, const struct cli_kafka_req *req);

#endif
