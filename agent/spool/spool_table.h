/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a spool says about the world after replaying its entries: the latest
 * position of every source it has seen (by input and identity), the inputs
 * the output takes (routes), and the next producer sequence per (topic,
 * partition).  Recovery builds it by applying every entry in order; the
 * spool's appender keeps applying new entries so that a segment roll can
 * write the whole table as the new segment's SNAPSHOT, after which older
 * segments may be deleted without losing a position.
 *
 * Not thread-safe: the spool's appender owns it after recovery.
 */
#ifndef SLUICE_AGENT_SPOOL_TABLE_H
#define SLUICE_AGENT_SPOOL_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/hmap.h"
#include "agent/spool/spool_entry.h"
#include "lib/buf.h"

struct spool_table {
	struct hmap pos; /* struct spool_tpos by (input, ident) */
	struct hmap seq; /* struct spool_tseq by (topic, partition) */
	char **routes;
	size_t nroutes;
	bool have_routes; /* a ROUTES or SNAPSHOT entry was applied */
};

/* A position held by the table (NUL-terminated copies). */
struct spool_tpos {
	struct hmap_node node;
	char *input;
	char *ident;
	uint64_t ordinal;
	uint64_t origin;
	uint8_t flags;
	uint8_t *meta;
	uint32_t meta_len;
};

struct spool_tseq {
	struct hmap_node node;
	char *topic;
	int32_t partition;
	int32_t next_seq;
};

void spool_table_init(struct spool_table *t);
void spool_table_release(struct spool_table *t);

/* Apply a decoded entry (positions, routes, sequences; a SNAPSHOT replaces
 * the routes and sequences and upserts every position).  0, -ENOMEM or
 * -ERR_CORRUPT. */
int spool_table_apply(struct spool_table *t, const struct spool_entry *e);

/* Append the body payload of a SNAPSHOT entry describing the table. */
int spool_table_encode(const struct spool_table *t, struct buf *b);

/* Lookups for the pipeline at start-up. */
const struct spool_tpos *spool_table_find(const struct spool_table *t, const char *input,
					  const char *ident);
/* Next producer sequence of (topic, partition); 0 when never used. */
int32_t spool_table_next_seq(const struct spool_table *t, const char *topic, int32_t partition);
bool spool_table_routes_input(const struct spool_table *t, const char *input);

/* Kafka sequences wrap from INT32_MAX to 0. */
static inline int32_t spool_seq_add(int32_t seq, int32_t n)
{
	int64_t v = (int64_t)seq + n;

	return (int32_t)(v > INT32_MAX ? v - INT32_MAX - 1 : v);
}

#endif
