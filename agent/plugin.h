/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Agent plugins: the plugin interface (this header).
 *
 * The plugin API is this header plus a short list of agent services; a file
 * under plugins/ includes anything in lib/, its own plugins/<name>/ headers and these,
 * and nothing else of agent/ (make lint checks it):
 *
 *   agent/plugin.h                   this interface
 *   agent/spool/marks.h              delivered marks, for outputs whose
 *                                    receiver cannot spot a re-sent batch
 *   agent/pipeline/record_format.h   spooled batches back to raw or ndjson
 *                                    text (file and stdout outputs)
 *   agent/net/curl_loop.h            libcurl's multi interface on the loop
 *   agent/net/http_client.h          the agent's HTTP/1.1 client (store output)
 *
 * Generic pieces (hash map, arena, config, event loop, codecs, regex check,
 * topic-name rule) are in lib/.  A new entry here is a change of the plugin
 * API: it goes in this list and in the lint's list together.
 *
 * A plugin is one const struct plugin (DESIGN.md §5.6) listed in the static
 * table of agent/registry.c.  Its options table drives YAML binding, defaults,
 * validation and --help-plugin; the pipeline binds the keys every plugin of a
 * kind shares (id, type, topic, inputs, batch, ...) and hands the plugin its
 * own struct, filled from the same YAML mapping.
 *
 * Inputs own sources (a file, the journal, a socket).  A source has a stable
 * identity string, an ordinal that grows with what has been read (for a file,
 * the byte offset) and an opaque meta blob that lets the input find the
 * source again after a restart (for a file: device, inode, fingerprint,
 * path).  Inputs call input_emit() with each event and the ordinal just past
 * it; the pipeline batches, spools and ships.  The delivery contract: an
 * ordinal counts as committed only once every output that takes the input
 * has it durable in its spool; after a restart each source resumes from its
 * committed ordinal with the meta recorded there (input_resume_find()).
 *
 * Outputs receive flushes: one or more spooled RecordBatch v2 of one (topic,
 * partition), in order.  flush() returns FLUSH_OK, FLUSH_RETRY or
 * FLUSH_ERROR at once, or FLUSH_ASYNC and later calls output_flush_done().
 * The pipeline retries with exponential backoff and jitter, quarantines
 * FLUSH_ERROR batches in data_dir/dead-letter/<output>/ and deletes spooled
 * batches only after FLUSH_OK.  At most one flush per (topic, partition) is
 * in flight, so producer sequences reach the receiver in order.
 *
 * Parsers and filters transform events between an input and the outputs,
 * in the order of the input's config (the parser first): filter() may
 * rewrite the value, the timestamp or the headers, or drop the event.  What
 * it points the event at must stay valid until its next call (keep it in
 * the instance); scratch is reset per event and may be used within one call
 * only.  A dropped event still advances its source (with its meta).
 *
 * Threading: every callback and every function here runs on the agent's
 * event-loop thread.  Plugins must not block it (no sleeping, no blocking
 * network I/O); files are read with bounded chunks.
 */
#ifndef SLUICE_AGENT_PLUGIN_H
#define SLUICE_AGENT_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/batch.h"
#include "lib/buf.h"
#include "lib/config.h"
#include "lib/evloop.h"

struct input;
struct output;
struct source;

enum plugin_kind {
	PLUGIN_INPUT,
	PLUGIN_OUTPUT,
	PLUGIN_PARSER,
	PLUGIN_FILTER,
};

enum flush_result {
	FLUSH_OK = 0,    /* delivered: the batches leave the spool */
	FLUSH_RETRY = 1, /* transient: try again after a backoff */
	FLUSH_ERROR = 2, /* permanent: quarantine the failing batch */
	FLUSH_ASYNC = 3, /* started; output_flush_done() follows */
};

enum filter_verdict {
	FILTER_KEEP = 0,
	FILTER_DROP = 1, /* counted; the source still advances */
};

/* What init() receives. */
struct plugin_args {
	const char *id;   /* the instance's id from the config */
	const void *conf; /* the plugin's own struct, bound from YAML */
	struct evloop *loop;
	const char *host;      /* agent.name */
	const char *data_dir;  /* agent.data_dir */
	const char *state_dir; /* private directory for this instance's state */
	struct input *input;   /* PLUGIN_INPUT */
	struct output *output; /* PLUGIN_OUTPUT */
	int codec;             /* PLUGIN_OUTPUT: its `compression` (enum codec_type) */
	int codec_level;       /* PLUGIN_OUTPUT: its `compression_level` */
	bool check_only;       /* --check: validate, touch nothing */
	bool reload;           /* started by SIGHUP, not at process start */
};

/* An event as an input emits it; every pointer is borrowed for the call. */
struct event {
	int64_t ts; /* ms since the epoch */
	const void *value;
	size_t value_len;
	uint64_t ordinal; /* the source's ordinal just past this event */
	/* Position meta for this exact ordinal (journald cursors).  NULL: the
	 * source's current meta (input_source_meta()) is recorded instead. */
	const void *meta;
	size_t meta_len;
	const struct record_header *headers; /* extra headers (parsers, filters) */
	size_t nheaders;
	/* Record key; NULL: the source's "host:name".  The partition still
	 * follows the source's key, so one source stays in one partition. */
	const void *key;
	size_t key_len;
	/* Set by the pipeline before parsers and filters run (inputs leave it
	 * NULL): the source the event comes from. */
	const struct source *source;
	/* evloop_now() when the event's first byte was read, 0 = now: an event
	 * held back (a multi-line event waiting for its quiet period) has
	 * already spent that part of its output's batch.max_delay_ms. */
	uint64_t read_ms;
};

#define EVENT_MAX_HEADERS 32

/* One batch of a flush: bytes at body.data + off.  The plugin may patch the
 * batch in place (producer id and epoch, then batch_update_crc()). */
struct flush_batch {
	size_t off;
	size_t len;
	int32_t records;
	int32_t base_sequence;
	uint64_t entry_id; /* spool entry id: stable across restarts */
	/* May have reached the receiver already: it was in an attempt whose
	 * answer was lost, or spooled before this process started. */
	bool resent;
};

struct flush {
	const char *topic;
	int32_t partition;
	struct buf body; /* the batches back to back */
	struct flush_batch *batches;
	size_t nbatches;
	unsigned attempt;  /* 0 for the first try */
	void *plugin_data; /* free for the plugin while in flight */
	/* Set by the plugin before reporting: the next flush of this
	 * (topic, partition) carries at most this many batches (0: no limit),
	 * e.g. to isolate one batch the receiver refused. */
	size_t next_max_batches;
};

/* One sample a plugin reports (names are string literals). */
struct plugin_metric {
	const char *name; /* e.g. sluice_agent_tail_rotations_total */
	const char *type; /* "counter" or "gauge" */
	const char *help;
	uint64_t value;
	const char *label; /* optional extra label name, NULL if none */
	const char *label_value;
};

#define PLUGIN_METRICS_MAX 64

/* For metrics(): copy a table of samples into m (at most max); returns how
 * many. */
static inline size_t plugin_metrics_copy(struct plugin_metric *m, size_t max,
					 const struct plugin_metric *src, size_t n)
{
	if (n > max)
		n = max;
	for (size_t i = 0; i < n; i++)
		m[i] = src[i];
	return n;
}

struct plugin {
	const char *name;
	enum plugin_kind kind;
	const char *description;
	const struct cfg_option *options; /* the plugin's own keys; CFG_OPT_END only if none */
	size_t conf_size;                 /* size of the struct they bind into */

	/* Build an instance; validate what the options table cannot.  No I/O
	 * with check_only.  0 or a negative code with err set. */
	int (*init)(const struct plugin_args *a, void **ctx, struct cfg_error *err);
	/* Begin work (open files, watches, connections).  0 or negative. */
	int (*start)(void *ctx);
	/* Inputs: stop reading (spool or memory full, shutting down); resume. */
	void (*pause)(void *ctx);
	void (*resume)(void *ctx);
	/* Inputs: a source's committed ordinal moved (optional). */
	void (*committed)(void *ctx, struct source *s, uint64_t ordinal);
	/* Outputs: deliver f (borrowed until the result is known). */
	enum flush_result (*flush)(void *ctx, struct flush *f);
	/* Outputs: abandon an ASYNC flush at shutdown; must not call
	 * output_flush_done() (the pipeline treats it as RETRY). */
	void (*cancel)(void *ctx, struct flush *f);
	/* Outputs: partitions of topic for keyed placement (optional; 1 when
	 * absent).  Must answer at once. */
	int32_t (*partitions)(void *ctx, const char *topic);
	/* Parsers and filters. */
	enum filter_verdict (*filter)(void *ctx, struct event *ev, struct buf *scratch);
	/* Counters and gauges of this instance (optional): fill up to max and
	 * return how many.  The pipeline groups samples of every instance by
	 * name and adds the input/output label. */
	size_t (*metrics)(void *ctx, struct plugin_metric *m, size_t max);
	/* Stop and free; ctx may be half-built by a failed init. */
	void (*exit)(void *ctx);
	/* Metric families of the instance's own making (optional; the metrics
	 * filter): append whole families in Prometheus text (lib/prom.h) to
	 * out.  Names are the instance's to keep unique. */
	void (*render)(void *ctx, struct buf *out);
	/* Inputs that hand their positions on from committed() (the kafka
	 * input commits offsets): at shutdown the pipeline pauses them instead
	 * of exiting them at once, and exits them after the batches are spooled,
	 * so what they emitted is durable and reported committed first. */
	bool drain_before_exit;
	/* Outputs that send the spooled RecordBatches as they are (the store
	 * output): their spool is compressed with the output's `compression`.
	 * The others decode every batch to re-encode its records (JSON bodies,
	 * files, librdkafka messages), so their spool defaults to lz4, several
	 * times cheaper to write and read than zstd (`spool_compression`). */
	bool sends_batches;
};

/* ------------------------------------------------------------ inputs */

/* What the spools say about a source of this input, from start-up. */
struct source_resume {
	uint64_t ordinal;    /* committed: resume reading here */
	const uint8_t *meta; /* recorded with that ordinal */
	size_t meta_len;
	bool finished; /* read to its end and released */
};

struct source_desc {
	const char *ident; /* stable identity within the input */
	const char *name;  /* the path header and the key suffix */
	uint64_t ordinal;  /* where reading starts */
	const void *meta;  /* current meta */
	size_t meta_len;
};

const char *input_id(const struct input *in);
const char *input_topic(const struct input *in);
/* A recovered source (valid while the pipeline runs), or NULL. */
const struct source_resume *input_resume_find(const struct input *in, const char *ident);
/* Iterate every recovered source: i from 0 until it returns NULL. */
const struct source_resume *input_resume_at(const struct input *in, size_t i, const char **ident);
/* Open a source (the identity must not be open already).  NULL on ENOMEM. */
struct source *input_source_open(struct input *in, const struct source_desc *d);
/* Replace the source's meta (path changed after a rename, fingerprint grew);
 * recorded with the next position of the source. */
int input_source_meta(struct input *in, struct source *s, const void *meta, size_t len);
/* One event (record).  0 or a negative code (the event was not taken). */
int input_emit(struct input *in, struct source *s, const struct event *ev);
/* Advance without a record (skipped bytes, empty lines). */
void input_source_advance(struct input *in, struct source *s, uint64_t ordinal);
/* The source is finished: read to its end, nothing more will come.  The
 * spools keep it as finished (so a restart does not read it again) until
 * input_forget().  s is released. */
void input_source_finish(struct input *in, struct source *s);
/* Drop a finished source from the spools (its file is gone). */
void input_forget(struct input *in, const char *ident);
uint64_t source_ordinal(const struct source *s);   /* last emitted or advanced */
uint64_t source_committed(const struct source *s); /* durable in every output */
const char *source_ident(const struct source *s);
const char *source_name(const struct source *s);
/* True while the pipeline wants the input paused (between pause/resume). */
bool input_paused(const struct input *in);
/* The input will produce nothing more (stdin at EOF).  When every input of
 * the pipeline is done the agent drains and exits as on SIGTERM; the call
 * returns at once (the stop happens after the current loop iteration). */
void input_done(struct input *in);

/* ------------------------------------------------------------ outputs */

const char *output_id(const struct output *o);
/* The flush is over; the first nacked batches were delivered.  FLUSH_OK:
 * those were (all of them when nacked >= nbatches); the rest go again at
 * once.  FLUSH_RETRY: batches from nacked on are tried again after a backoff
 * (retry_after_ms > 0: at least that long).  FLUSH_ERROR: batch nacked is
 * quarantined with code/reason, later ones go again at once.  A flush that
 * returned a result directly from flush() counts as nacked = nbatches for
 * FLUSH_OK and 0 otherwise. */
void output_flush_done(struct output *o, struct flush *f, enum flush_result r, size_t nacked,
		       const char *code, const char *reason, int64_t retry_after_ms);
/* Ask for a retry of everything waiting now (e.g. a connection is back). */
void output_kick(struct output *o);
/* Lower the request size after a "too large" answer for several batches. */
void output_limit_request(struct output *o, size_t max_bytes);
/* The topics routed to this output (from its inputs), for warm-up. */
size_t output_topic_count(const struct output *o);
const char *output_topic_at(const struct output *o, size_t i);

#endif
