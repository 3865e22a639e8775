/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent.yaml: the `agent:` settings, the `inputs:` and `outputs:` lists
 * (DESIGN.md §3).  Keys every input or output shares are bound from the
 * tables here; the rest of each mapping is bound by the plugin's own option
 * table, found by `type` in the plugin table the caller passes (the static
 * one of agent/registry.c, or a test's).  Unknown keys, bad values, duplicate
 * ids and references to unknown inputs are errors that read
 * "file:line:column: key.path: message" on one line.
 *
 * The config owns its YAML document (CFG_NODE values point into it) and
 * every bound string.  Not thread-safe; the agent loads it on its loop
 * thread.
 */
#ifndef SLUICE_AGENT_AGENT_CONFIG_H
#define SLUICE_AGENT_AGENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "agent/plugin.h"
#include "lib/config.h"

struct agent_settings {
	char *name;
	char *data_dir;
	int log_level;  /* enum log_level */
	int log_format; /* 0 text, 1 json */
	struct {
		uint64_t max_bytes; /* per output spool */
		uint64_t max_memory;
		uint64_t segment_bytes; /* 0: max_bytes / 8 within [1 MiB, 64 MiB] */
	} buffer;
	struct {
		char *listen; /* "" or "off": no endpoint */
	} http;
	struct {
		int64_t output_stall; /* ms with data and no delivery: unhealthy; 0 off */
		int64_t input_paused; /* ms an input may stay paused; 0 off */
	} health;
	int64_t shutdown_timeout; /* ms */
	int64_t workers;          /* compression threads */
};

/* A parser or filter attached to an input. */
struct filter_conf {
	char *type;
	const struct plugin *plugin;
	void *pconf;
	const struct cfg_node *node;
};

struct input_conf {
	char *id;
	char *type;
	char *topic;
	const struct cfg_node *parser_node;
	const struct cfg_node *filters_node;
	const struct plugin *plugin;
	void *pconf;
	const struct cfg_node *node;
	struct filter_conf *filters; /* the parser first when there is one */
	size_t nfilters;
};

struct output_conf {
	char *id;
	char *type;
	struct cfg_list inputs; /* empty: every input */
	struct {
		uint64_t max_bytes;
		int64_t max_records;
		int64_t max_delay_ms;
	} batch;
	int compression; /* enum codec_type */
	int64_t compression_level;
	int spool_compression; /* 0: auto, else enum codec_type + 1 */
	int64_t max_in_flight;
	uint64_t max_request_bytes;
	struct {
		int64_t initial_delay;
		int64_t max_delay;
	} retry;
	const struct plugin *plugin;
	void *pconf;
	const struct cfg_node *node;
};

struct agent_config {
	struct cfg_doc *doc;
	char *path;
	struct agent_settings agent;
	const struct cfg_node *inputs_node;
	const struct cfg_node *outputs_node;
	struct input_conf *inputs;
	size_t ninputs;
	struct output_conf *outputs;
	size_t noutputs;
	const struct plugin *const *plugins;
};

/* Load and bind.  plugins is a NULL-terminated table (borrowed; must outlive
 * the config).  0 or -ERR_CONFIG/-ENOMEM with err set. */
int agent_config_load(const char *path, const struct plugin *const *plugins,
		      struct agent_config **out, struct cfg_error *err);
int agent_config_load_string(const char *name, const char *text,
			     const struct plugin *const *plugins, struct agent_config **out,
			     struct cfg_error *err);
void agent_config_free(struct agent_config *c);

/* Does output o take input id? */
bool output_conf_takes(const struct output_conf *o, const char *input_id);
/* Spool segment size after applying the automatic rule. */
uint64_t agent_settings_segment_bytes(const struct agent_settings *s);

/* --list-plugins and --help-plugin NAME (1 when NAME is unknown). */
void agent_config_list_plugins(const struct plugin *const *plugins, FILE *out);
int agent_config_help_plugin(const struct plugin *const *plugins, const char *name, FILE *out);
/* The agent: section's options, for --help. */
void agent_config_help(FILE *out);

#endif
