/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent.yaml binding.  The option tables below are the only place where a
 * shared key's name, type, default and help are written; plugins contribute
 * their own tables.  Binding of one input or output mapping uses
 * cfg_bind_multi() over both tables, so an unknown key is reported with the
 * full list of keys valid at that spot.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent_config.h"
#include "lib/codec.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/topic_name.h"

static const char *const log_levels[] = {"error", "warn", "info", "debug", NULL};
static const char *const log_formats[] = {"text", "json", NULL};
/* Indexes match enum codec_type. */
static const char *const codecs[] = {"none", "gzip", "snappy", "lz4", "zstd", NULL};
/* spool_compression: "auto", then the codecs in enum codec_type order */
static const char *const spool_codecs[] = {"auto", "none", "gzip", "snappy", "lz4", "zstd", NULL};

/* Ids name directories (spool/<output id>/) and metric labels. */
static int check_id(const char *v, char *why, size_t whylen)
{
	size_t n = strlen(v);

	if (n == 0 || n > 64 || strcmp(v, ".") == 0 || strcmp(v, "..") == 0) {
		snprintf(why, whylen, "an id is 1 to 64 characters, not '.' or '..'");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		char c = v[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-')) {
			snprintf(why, whylen,
				 "'%s': an id may hold only letters, digits, '.', '_' and '-'", v);
			return -1;
		}
	}
	return 0;
}

/* Kafka's topic rule, which the store enforces too. */
static int check_topic(const char *v, char *why, size_t whylen)
{
	const char *problem = topic_name_check(v);

	if (!problem)
		return 0;
	snprintf(why, whylen, "'%s': %s", v, problem);
	return -1;
}

static int check_listen(const char *v, char *why, size_t whylen)
{
	const char *colon = strrchr(v, ':');
	int64_t port;

	if (*v == '\0' || strcmp(v, "off") == 0)
		return 0;
	if (!colon || colon == v || cfg_parse_int(colon + 1, &port) < 0 || port < 0 ||
	    port > 65535) {
		snprintf(why, whylen, "expected HOST:PORT (or \"off\"), got '%s'", v);
		return -1;
	}
	return 0;
}

/* clang-format off */
static const struct cfg_option buffer_opts[] = {
	{.name = "max_bytes", .type = CFG_SIZE,
	 .offset = offsetof(struct agent_settings, buffer.max_bytes) -
		   offsetof(struct agent_settings, buffer),
	 .def = "512MiB", .min = 1 << 20, .max = 1LL << 50,
	 .help = "spool cap per output; when full, the inputs feeding it pause (nothing is dropped)"},
	{.name = "max_memory", .type = CFG_SIZE,
	 .offset = offsetof(struct agent_settings, buffer.max_memory) -
		   offsetof(struct agent_settings, buffer),
	 .def = "64MiB", .min = 4 << 20, .max = 1LL << 40,
	 .help = "cap on batches held in memory (building and compressing); inputs pause above it"},
	{.name = "segment_bytes", .type = CFG_SIZE,
	 .offset = offsetof(struct agent_settings, buffer.segment_bytes) -
		   offsetof(struct agent_settings, buffer),
	 .def = "0", .min = 0, .max = 1LL << 32,
	 .help = "spool segment size; 0 = max_bytes / 8 within [1MiB, 64MiB]"},
	CFG_OPT_END,
};
/* clang-format on */

/* clang-format off */
static const struct cfg_option http_opts[] = {
	{.name = "listen", .type = CFG_STRING, .offset = 0, .def = "127.0.0.1:8471",
	 .help = "GET /metrics and GET /health; \"off\" disables", .check = check_listen},
	CFG_OPT_END,
};
/* clang-format on */

static const struct cfg_option health_opts[] = {
	{.name = "output_stall",
	 .type = CFG_DURATION,
	 .offset = offsetof(struct agent_settings, health.output_stall) -
		   offsetof(struct agent_settings, health),
	 .def = "5m",
	 .min = 0,
	 .max = 86400000,
	 .help = "GET /health fails (and the systemd watchdog is not fed) when an output with "
		 "data to send has delivered nothing for this long; 0 = off"},
	{.name = "input_paused",
	 .type = CFG_DURATION,
	 .offset = offsetof(struct agent_settings, health.input_paused) -
		   offsetof(struct agent_settings, health),
	 .def = "5m",
	 .min = 0,
	 .max = 86400000,
	 .help = "... or when an input has been paused (spool or memory full) this long; 0 = off"},
	CFG_OPT_END,
};

/* clang-format off */
static const struct cfg_option agent_opts[] = {
	{.name = "name", .type = CFG_STRING, .offset = offsetof(struct agent_settings, name),
	 .help = "this host's name in record keys and headers (default: the hostname)"},
	{.name = "data_dir", .type = CFG_STRING, .offset = offsetof(struct agent_settings, data_dir),
	 .def = "/var/lib/sluice-agent", .help = "spools, producer ids and dead letters"},
	{.name = "log_level", .type = CFG_ENUM, .offset = offsetof(struct agent_settings, log_level),
	 .def = "info", .choices = log_levels},
	{.name = "log_format", .type = CFG_ENUM,
	 .offset = offsetof(struct agent_settings, log_format), .def = "text",
	 .choices = log_formats},
	{.name = "buffer", .type = CFG_SECTION, .offset = offsetof(struct agent_settings, buffer),
	 .sub = buffer_opts},
	{.name = "http", .type = CFG_SECTION, .offset = offsetof(struct agent_settings, http),
	 .sub = http_opts},
	{.name = "health", .type = CFG_SECTION, .offset = offsetof(struct agent_settings, health),
	 .sub = health_opts},
	{.name = "shutdown_timeout", .type = CFG_DURATION,
	 .offset = offsetof(struct agent_settings, shutdown_timeout), .def = "5s", .min = 0,
	 .max = 3600000, .help = "on SIGTERM, how long to keep delivering the spool before exiting"},
	{.name = "workers", .type = CFG_INT, .offset = offsetof(struct agent_settings, workers),
	 .def = "1", .min = 1, .max = 16,
	 .help = "compression threads (reading, compressing and sending overlap)"},
	CFG_OPT_END,
};
/* clang-format on */

struct root {
	struct agent_settings agent;
	const struct cfg_node *inputs;
	const struct cfg_node *outputs;
};

/* clang-format off */
static const struct cfg_option root_opts[] = {
	{.name = "agent", .type = CFG_SECTION, .offset = offsetof(struct root, agent),
	 .sub = agent_opts},
	{.name = "inputs", .type = CFG_NODE, .offset = offsetof(struct root, inputs),
	 .flags = CFG_REQUIRED},
	{.name = "outputs", .type = CFG_NODE, .offset = offsetof(struct root, outputs),
	 .flags = CFG_REQUIRED},
	CFG_OPT_END,
};
/* clang-format on */

/* clang-format off */
static const struct cfg_option input_opts[] = {
	{.name = "id", .type = CFG_STRING, .offset = offsetof(struct input_conf, id),
	 .flags = CFG_REQUIRED, .check = check_id, .help = "unique name of this input"},
	{.name = "type", .type = CFG_STRING, .offset = offsetof(struct input_conf, type),
	 .flags = CFG_REQUIRED, .help = "input plugin"},
	{.name = "topic", .type = CFG_STRING, .offset = offsetof(struct input_conf, topic),
	 .check = check_topic, .help = "topic of its records (default: the input id)"},
	{.name = "parser", .type = CFG_NODE, .offset = offsetof(struct input_conf, parser_node),
	 .help = "none, a parser name, or { type: NAME, ... }"},
	{.name = "filters", .type = CFG_NODE, .offset = offsetof(struct input_conf, filters_node),
	 .help = "ordered list of { type: NAME, ... }"},
	CFG_OPT_END,
};
/* clang-format on */

/* clang-format off */
static const struct cfg_option batch_opts[] = {
	{.name = "max_bytes", .type = CFG_SIZE,
	 .offset = offsetof(struct output_conf, batch.max_bytes) - offsetof(struct output_conf, batch),
	 .def = "1MiB", .min = 1024, .max = 64 << 20,
	 .help = "uncompressed records per batch (one larger record still makes a batch)"},
	{.name = "max_records", .type = CFG_INT,
	 .offset = offsetof(struct output_conf, batch.max_records) - offsetof(struct output_conf, batch),
	 .def = "100000", .min = 1, .max = 10000000},
	{.name = "max_delay_ms", .type = CFG_INT,
	 .offset = offsetof(struct output_conf, batch.max_delay_ms) - offsetof(struct output_conf, batch),
	 .def = "200", .min = 0, .max = 3600000,
	 .help = "a batch is closed this long after its first record at the latest"},
	CFG_OPT_END,
};
/* clang-format on */

/* clang-format off */
static const struct cfg_option retry_opts[] = {
	{.name = "initial_delay", .type = CFG_DURATION,
	 .offset = offsetof(struct output_conf, retry.initial_delay) - offsetof(struct output_conf, retry),
	 .def = "200ms", .min = 1, .max = 3600000},
	{.name = "max_delay", .type = CFG_DURATION,
	 .offset = offsetof(struct output_conf, retry.max_delay) - offsetof(struct output_conf, retry),
	 .def = "30s", .min = 1, .max = 86400000},
	CFG_OPT_END,
};
/* clang-format on */

/* clang-format off */
static const struct cfg_option output_opts[] = {
	{.name = "id", .type = CFG_STRING, .offset = offsetof(struct output_conf, id),
	 .flags = CFG_REQUIRED, .check = check_id, .help = "unique name; also its spool directory"},
	{.name = "type", .type = CFG_STRING, .offset = offsetof(struct output_conf, type),
	 .flags = CFG_REQUIRED, .help = "output plugin"},
	{.name = "inputs", .type = CFG_LIST, .offset = offsetof(struct output_conf, inputs),
	 .check = check_id, .help = "input ids it takes (default: every input)"},
	{.name = "batch", .type = CFG_SECTION, .offset = offsetof(struct output_conf, batch),
	 .sub = batch_opts},
	{.name = "compression", .type = CFG_ENUM, .offset = offsetof(struct output_conf, compression),
	 .def = "zstd", .choices = codecs},
	{.name = "compression_level", .type = CFG_INT,
	 .offset = offsetof(struct output_conf, compression_level), .def = "1", .min = -7,
	 .max = 22, .help = "codec level; 0 = the codec's default"},
	{.name = "spool_compression", .type = CFG_ENUM,
	 .offset = offsetof(struct output_conf, spool_compression), .def = "auto",
	 .choices = spool_codecs,
	 .help = "codec of the spooled batches; auto: `compression` for outputs that send the "
		 "batches as they are (store), lz4 for those that re-encode the records"},
	{.name = "max_in_flight", .type = CFG_INT, .offset = offsetof(struct output_conf, max_in_flight),
	 .def = "4", .min = 1, .max = 256,
	 .help = "concurrent flushes (one per topic-partition at a time)"},
	{.name = "max_request_bytes", .type = CFG_SIZE,
	 .offset = offsetof(struct output_conf, max_request_bytes), .def = "4MiB",
	 .min = 4096, .max = 256 << 20, .help = "spooled batches sent together in one flush"},
	{.name = "retry", .type = CFG_SECTION, .offset = offsetof(struct output_conf, retry),
	 .sub = retry_opts, .help = "exponential backoff with jitter between attempts"},
	CFG_OPT_END,
};
/* clang-format on */

/* clang-format off */
static const struct cfg_option filter_opts[] = {
	{.name = "type", .type = CFG_STRING, .offset = offsetof(struct filter_conf, type),
	 .flags = CFG_REQUIRED},
	CFG_OPT_END,
};
/* clang-format on */

static const char *kind_name(enum plugin_kind k)
{
	switch (k) {
	case PLUGIN_INPUT:
		return "input";
	case PLUGIN_OUTPUT:
		return "output";
	case PLUGIN_PARSER:
		return "parser";
	case PLUGIN_FILTER:
		return "filter";
	}
	return "?";
}

static const struct plugin *find_plugin(const struct plugin *const *t, enum plugin_kind k,
					const char *name)
{
	for (; *t; t++)
		if ((*t)->kind == k && strcmp((*t)->name, name) == 0)
			return *t;
	return NULL;
}

static void known_names(const struct plugin *const *t, enum plugin_kind k, char *out, size_t cap)
{
	size_t used = 0;

	out[0] = '\0';
	for (; *t; t++) {
		int n;

		if ((*t)->kind != k)
			continue;
		n = snprintf(out + used, cap - used, "%s%s", used ? ", " : "", (*t)->name);
		if (n < 0 || (size_t)n >= cap - used)
			break;
		used += (size_t)n;
	}
	if (used == 0)
		snprintf(out, cap, "none available");
}

/* Resolve the plugin named by map's `type` key, reporting at that key. */
static int resolve(const struct agent_config *c, const struct cfg_node *map, enum plugin_kind k,
		   const char *path, const struct plugin **out, struct cfg_error *err)
{
	const struct cfg_node *t = cfg_map_get(map, "type");
	char names[256];

	if (!t) {
		cfg_error_at(err, map, "%s.type: required key is missing", path);
		return -ERR_CONFIG;
	}
	if (t->kind != CFGN_SCALAR) {
		cfg_error_at(err, t, "%s.type: expected a string", path);
		return -ERR_CONFIG;
	}
	*out = find_plugin(c->plugins, k, t->value);
	if (!*out) {
		known_names(c->plugins, k, names, sizeof(names));
		cfg_error_at(err, t, "%s.type: unknown %s plugin '%s' (known: %s)", path,
			     kind_name(k), t->value, names);
		return -ERR_CONFIG;
	}
	return 0;
}

static int bind_plugin(const struct cfg_node *map, const struct cfg_option *common, void *cobj,
		       const struct plugin *p, void **pconf, const char *path,
		       struct cfg_error *err)
{
	struct cfg_binding b[2];

	*pconf = mem_calloc(1, p->conf_size ? p->conf_size : 1);
	if (!*pconf)
		return -ENOMEM;
	b[0].opts = common;
	b[0].obj = cobj;
	b[1].opts = p->options;
	b[1].obj = *pconf;
	return cfg_bind_multi(map, b, 2, path, err);
}

static int bind_filter(struct agent_config *c, const struct cfg_node *n, enum plugin_kind k,
		       const char *path, struct filter_conf *f, struct cfg_error *err)
{
	int rc;

	f->node = n;
	if (n->kind == CFGN_SCALAR) {
		/* parser: NAME is short for parser: { type: NAME } */
		f->plugin = find_plugin(c->plugins, k, n->value);
		if (!f->plugin) {
			char names[256];

			known_names(c->plugins, k, names, sizeof(names));
			cfg_error_at(err, n, "%s: unknown %s plugin '%s' (known: none, %s)", path,
				     kind_name(k), n->value, names);
			return -ERR_CONFIG;
		}
		f->pconf = mem_calloc(1, f->plugin->conf_size ? f->plugin->conf_size : 1);
		f->type = mem_strdup(n->value);
		if (!f->pconf || !f->type)
			return -ENOMEM;
		rc = cfg_bind(NULL, f->plugin->options, f->pconf, path, err);
		return rc;
	}
	if (n->kind != CFGN_MAP) {
		cfg_error_at(err, n, "%s: expected a name or a mapping with a type", path);
		return -ERR_CONFIG;
	}
	rc = resolve(c, n, k, path, &f->plugin, err);
	if (rc < 0)
		return rc;
	return bind_plugin(n, filter_opts, f, f->plugin, &f->pconf, path, err);
}

static int bind_input_filters(struct agent_config *c, struct input_conf *in, const char *path,
			      struct cfg_error *err)
{
	const struct cfg_node *p = in->parser_node, *fl = in->filters_node;
	size_t n = 0, cap;
	char sub[300];
	int rc;

	bool has_parser = p && !cfg_node_is_null(p) &&
			  !(p->kind == CFGN_SCALAR && strcmp(p->value, "none") == 0);

	if (fl && !cfg_node_is_null(fl) && fl->kind != CFGN_SEQ) {
		cfg_error_at(err, fl, "%s.filters: expected a list", path);
		return -ERR_CONFIG;
	}
	cap = (has_parser ? 1 : 0) + (fl && fl->kind == CFGN_SEQ ? fl->n : 0);
	if (cap == 0)
		return 0;
	in->filters = mem_calloc(cap, sizeof(*in->filters));
	if (!in->filters)
		return -ENOMEM;
	if (has_parser) {
		snprintf(sub, sizeof(sub), "%s.parser", path);
		rc = bind_filter(c, p, PLUGIN_PARSER, sub, &in->filters[n++], err);
		in->nfilters = n;
		if (rc < 0)
			return rc;
	}
	for (size_t i = 0; fl && fl->kind == CFGN_SEQ && i < fl->n; i++) {
		snprintf(sub, sizeof(sub), "%s.filters[%zu]", path, i);
		rc = bind_filter(c, fl->items[i], PLUGIN_FILTER, sub, &in->filters[n++], err);
		in->nfilters = n;
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int bind_inputs(struct agent_config *c, struct cfg_error *err)
{
	const struct cfg_node *l = c->inputs_node;
	char path[64];
	int rc;

	if (l->kind != CFGN_SEQ || l->n == 0) {
		cfg_error_at(err, l, "inputs: expected a list of at least one input");
		return -ERR_CONFIG;
	}
	c->inputs = mem_calloc(l->n, sizeof(*c->inputs));
	if (!c->inputs)
		return -ENOMEM;
	for (size_t i = 0; i < l->n; i++) {
		struct input_conf *in = &c->inputs[i];
		const struct cfg_node *m = l->items[i];

		snprintf(path, sizeof(path), "inputs[%zu]", i);
		c->ninputs = i + 1;
		in->node = m;
		if (m->kind != CFGN_MAP) {
			cfg_error_at(err, m, "%s: expected a mapping", path);
			return -ERR_CONFIG;
		}
		rc = resolve(c, m, PLUGIN_INPUT, path, &in->plugin, err);
		if (rc == 0)
			rc = bind_plugin(m, input_opts, in, in->plugin, &in->pconf, path, err);
		if (rc == 0 && !in->topic) {
			in->topic = mem_strdup(in->id);
			rc = in->topic ? 0 : -ENOMEM;
		}
		if (rc == 0)
			rc = bind_input_filters(c, in, path, err);
		if (rc < 0)
			return rc;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(c->inputs[j].id, in->id) == 0) {
				cfg_error_at(err, cfg_map_get(m, "id"),
					     "%s.id: duplicate input id '%s' (first at line %d)",
					     path, in->id,
					     cfg_map_get(c->inputs[j].node, "id")->line);
				return -ERR_CONFIG;
			}
		}
	}
	return 0;
}

static int bind_outputs(struct agent_config *c, struct cfg_error *err)
{
	const struct cfg_node *l = c->outputs_node;
	char path[64];
	int rc;

	if (l->kind != CFGN_SEQ || l->n == 0) {
		cfg_error_at(err, l, "outputs: expected a list of at least one output");
		return -ERR_CONFIG;
	}
	c->outputs = mem_calloc(l->n, sizeof(*c->outputs));
	if (!c->outputs)
		return -ENOMEM;
	for (size_t i = 0; i < l->n; i++) {
		struct output_conf *o = &c->outputs[i];
		const struct cfg_node *m = l->items[i], *ins;

		snprintf(path, sizeof(path), "outputs[%zu]", i);
		c->noutputs = i + 1;
		o->node = m;
		if (m->kind != CFGN_MAP) {
			cfg_error_at(err, m, "%s: expected a mapping", path);
			return -ERR_CONFIG;
		}
		rc = resolve(c, m, PLUGIN_OUTPUT, path, &o->plugin, err);
		if (rc == 0)
			rc = bind_plugin(m, output_opts, o, o->plugin, &o->pconf, path, err);
		if (rc < 0)
			return rc;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(c->outputs[j].id, o->id) == 0) {
				cfg_error_at(err, cfg_map_get(m, "id"),
					     "%s.id: duplicate output id '%s' (first at line %d)",
					     path, o->id,
					     cfg_map_get(c->outputs[j].node, "id")->line);
				return -ERR_CONFIG;
			}
		}
		ins = cfg_map_get(m, "inputs");
		for (size_t k = 0; k < o->inputs.n; k++) {
			bool found = false;

			for (size_t j = 0; j < c->ninputs && !found; j++)
				found = strcmp(c->inputs[j].id, o->inputs.v[k]) == 0;
			if (!found) {
				const struct cfg_node *at =
					ins && ins->kind == CFGN_SEQ ? ins->items[k] : ins;

				cfg_error_at(err, at, "%s.inputs[%zu]: no input has the id '%s'",
					     path, k, o->inputs.v[k]);
				return -ERR_CONFIG;
			}
		}
		if (o->compression != CODEC_NONE && o->compression != CODEC_ZSTD &&
		    o->compression != CODEC_GZIP && o->compression != CODEC_LZ4 &&
		    o->compression != CODEC_SNAPPY) {
			cfg_error_at(err, cfg_map_get(m, "compression"),
				     "%s.compression: unsupported", path);
			return -ERR_CONFIG;
		}
	}
	return 0;
}

static int bind_all(struct agent_config *c, struct cfg_error *err)
{
	struct root r;
	int rc;

	memset(&r, 0, sizeof(r));
	rc = cfg_bind(cfg_doc_root(c->doc), root_opts, &r, "", err);
	c->agent = r.agent;
	c->inputs_node = r.inputs;
	c->outputs_node = r.outputs;
	if (rc < 0)
		return rc;
	if (!c->agent.name || !*c->agent.name) {
		char host[256];

		if (gethostname(host, sizeof(host)) != 0)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		mem_free(c->agent.name);
		c->agent.name = mem_strdup(host);
		if (!c->agent.name)
			return -ENOMEM;
	}
	if (!*c->agent.data_dir) {
		cfg_error_at(err,
			     cfg_map_get(cfg_map_get(cfg_doc_root(c->doc), "agent"), "data_dir"),
			     "agent.data_dir: must not be empty");
		return -ERR_CONFIG;
	}
	rc = bind_inputs(c, err);
	if (rc == 0)
		rc = bind_outputs(c, err);
	return rc;
}

static int finish_load(struct agent_config *c, struct agent_config **out, struct cfg_error *err)
{
	int rc;

	if (!cfg_doc_root(c->doc)) {
		cfg_error_at(err, NULL, "%s: the configuration is empty", cfg_doc_name(c->doc));
		rc = -ERR_CONFIG;
	} else {
		rc = bind_all(c, err);
	}
	if (rc == -ENOMEM)
		snprintf(err->msg, sizeof(err->msg), "%s: out of memory", cfg_doc_name(c->doc));
	if (rc < 0) {
		agent_config_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

int agent_config_load(const char *path, const struct plugin *const *plugins,
		      struct agent_config **out, struct cfg_error *err)
{
	struct agent_config *c = mem_calloc(1, sizeof(*c));

	*out = NULL;
	if (!c)
		return -ENOMEM;
	c->plugins = plugins;
	c->path = mem_strdup(path);
	c->doc = cfg_load_file(path, err);
	if (!c->doc || !c->path) {
		agent_config_free(c);
		return -ERR_CONFIG;
	}
	return finish_load(c, out, err);
}

int agent_config_load_string(const char *name, const char *text,
			     const struct plugin *const *plugins, struct agent_config **out,
			     struct cfg_error *err)
{
	struct agent_config *c = mem_calloc(1, sizeof(*c));

	*out = NULL;
	if (!c)
		return -ENOMEM;
	c->plugins = plugins;
	c->path = mem_strdup(name);
	c->doc = cfg_load_string(name, text, strlen(text), err);
	if (!c->doc || !c->path) {
		agent_config_free(c);
		return -ERR_CONFIG;
	}
	return finish_load(c, out, err);
}

void agent_config_free(struct agent_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->ninputs; i++) {
		struct input_conf *in = &c->inputs[i];

		for (size_t j = 0; j < in->nfilters; j++) {
			struct filter_conf *f = &in->filters[j];

			if (f->plugin && f->pconf)
				cfg_free(f->plugin->options, f->pconf);
			mem_free(f->pconf);
			cfg_free(filter_opts, f);
		}
		mem_free(in->filters);
		if (in->plugin && in->pconf)
			cfg_free(in->plugin->options, in->pconf);
		mem_free(in->pconf);
		cfg_free(input_opts, in);
	}
	for (size_t i = 0; i < c->noutputs; i++) {
		struct output_conf *o = &c->outputs[i];

		if (o->plugin && o->pconf)
			cfg_free(o->plugin->options, o->pconf);
		mem_free(o->pconf);
		cfg_free(output_opts, o);
	}
	mem_free(c->inputs);
	mem_free(c->outputs);
	cfg_free(agent_opts, &c->agent);
	cfg_doc_free(c->doc);
	mem_free(c->path);
	mem_free(c);
}

bool output_conf_takes(const struct output_conf *o, const char *input_id)
{
	if (o->inputs.n == 0)
		return true;
	for (size_t i = 0; i < o->inputs.n; i++)
		if (strcmp(o->inputs.v[i], input_id) == 0)
			return true;
	return false;
}

uint64_t agent_settings_segment_bytes(const struct agent_settings *s)
{
	uint64_t v = s->buffer.segment_bytes;

	if (v)
		return v;
	v = s->buffer.max_bytes / 8;
	if (v < (1u << 20))
		v = 1u << 20;
	if (v > (64u << 20))
		v = 64u << 20;
	return v;
}

void agent_config_list_plugins(const struct plugin *const *plugins, FILE *out)
{
	static const enum plugin_kind kinds[] = {PLUGIN_INPUT, PLUGIN_PARSER, PLUGIN_FILTER,
						 PLUGIN_OUTPUT};

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		for (const struct plugin *const *t = plugins; *t; t++)
			if ((*t)->kind == kinds[k])
				fprintf(out, "%-7s %-10s %s\n", kind_name(kinds[k]), (*t)->name,
					(*t)->description);
	}
}

int agent_config_help_plugin(const struct plugin *const *plugins, const char *name, FILE *out)
{
	int shown = 0;

	for (const struct plugin *const *t = plugins; *t; t++) {
		const struct plugin *p = *t;

		if (strcmp(p->name, name) != 0)
			continue;
		fprintf(out, "%s %s: %s\n\n", kind_name(p->kind), p->name, p->description);
		fprintf(out, "  options of every %s:\n", kind_name(p->kind));
		if (p->kind == PLUGIN_INPUT)
			cfg_help(input_opts, out, 4);
		else if (p->kind == PLUGIN_OUTPUT)
			cfg_help(output_opts, out, 4);
		else
			cfg_help(filter_opts, out, 4);
		if (p->options && p->options->name) {
			fprintf(out, "\n  options of %s:\n", p->name);
			cfg_help(p->options, out, 4);
		}
		shown++;
	}
	return shown ? 0 : 1;
}

void agent_config_help(FILE *out)
{
	fprintf(out, "agent:\n");
	cfg_help(agent_opts, out, 2);
}
