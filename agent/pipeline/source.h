/* SPDX-License-Identifier: Apache-2.0 */
/*
 * struct source, shared by the pipeline and the batcher (plugins see it
 * opaque through agent/plugin.h).  A source is one stream of an input; it
 * carries its record key and standard headers ready-made, its ordinal, and
 * per output where that output's spool stands:
 *
 *   skip       events up to this ordinal are already in the output's spool
 *              (re-read after a restart because another output was behind)
 *   durable    highest ordinal durable in the output's spool
 *   pos        highest ordinal handed to the output's batcher: a position
 *              never goes backwards in a spool, so new slots start here
 *   slot       the source's pending position in a batch being built
 *
 * The committed ordinal is the minimum of `durable` over the outputs that
 * take the input.  A source is reference-counted: the input holds one
 * reference while it is open, each pending slot and each job in the writer
 * hold one, so positions can be applied after the input let it go.
 *
 * Loop thread only.
 */
#ifndef SLUICE_AGENT_SOURCE_H
#define SLUICE_AGENT_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/hmap.h"
#include "lib/batch.h"

struct input;
struct builder;

struct source_out {
	uint64_t skip;
	uint64_t durable;
	uint64_t pos;                 /* highest ordinal given to this output (pending or not) */
	struct builder *builder;      /* this source's (topic, partition) builder */
	struct builder *slot_builder; /* where its pending position sits, or NULL */
	int32_t slot;
	bool known; /* the output's spool has this source */
	bool routed;
};

struct source {
	struct hmap_node node; /* pipeline's open sources by (input, ident) */
	struct input *in;
	char *input_id; /* borrowed from the input's config */
	char *ident;
	char *name;
	char *key; /* host:name */
	size_t key_len;
	struct record_header hdrs[3]; /* host, path, input */
	/* key, then hdrs, as encoded inside a record (lib/batch.h) */
	struct buf enc;
	size_t enc_key_len;
	uint64_t ordinal;
	uint64_t origin;
	uint64_t committed;
	uint8_t *meta;
	size_t meta_len;
	unsigned refs;
	bool open;
	size_t nout;
	struct source_out out[];
};

struct source *source_new(struct input *in, const char *input_id, const char *host,
			  const char *ident, const char *name, size_t nout);
void source_ref(struct source *s);
void source_unref(struct source *s);
int source_set_meta(struct source *s, const void *meta, size_t len);

#endif
