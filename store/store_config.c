/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store.yaml option tables.  Defaults live here and only here: the same text
 * is parsed at start-up, printed by --help and documented in conf/store.yaml.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "store/store_config.h"

static const char *const log_formats[] = {"text", "json", NULL};
static const char *const fsync_modes[] = {"always", "interval", "never", NULL};
static const char *const verify_modes[] = {"head", "all", NULL};
static const char *const client_auths[] = {"none", "request", "require", NULL};

#define OPT(st, f) .offset = offsetof(struct st, f)

/* kafka.sasl items: the mechanisms store/auth implements. */
static int check_sasl_mech(const char *value, char *why, size_t whylen)
{
	if (strcmp(value, "PLAIN") == 0 || strcmp(value, "SCRAM-SHA-256") == 0 ||
	    strcmp(value, "SCRAM-SHA-512") == 0)
		return 0;
	snprintf(why, whylen, "unknown SASL mechanism '%s' (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)",
		 value);
	return -ERR_CONFIG;
}

/* clang-format off */
static const struct cfg_option store_opts[] = {
	{.name = "data_dir", .type = CFG_STRING, OPT(store_section, data_dir), .def = "./data",
	 .help = "where topics, indexes and checkpoints live"},
	{.name = "log_level", .type = CFG_STRING, OPT(store_section, log_level), .def = "info",
	 .help = "error, warn, info or debug"},
	{.name = "log_format", .type = CFG_ENUM, OPT(store_section, log_format), .def = "text",
	 .choices = log_formats, .help = "daemon log lines on stderr"},
	CFG_OPT_END,
};
/* clang-format on */

static const struct cfg_option tls_opts[] = {
	{.name = "cert",
	 .type = CFG_STRING,
	 OPT(tls_section, cert),
	 .help = "PEM certificate chain (leaf first); TLS is on when set"},
	{.name = "key", .type = CFG_STRING, OPT(tls_section, key), .help = "PEM private key"},
	{.name = "client_ca",
	 .type = CFG_STRING,
	 OPT(tls_section, client_ca),
	 .help = "PEM CA certificates that sign client certificates (mTLS)"},
	{.name = "client_auth",
	 .type = CFG_ENUM,
	 OPT(tls_section, client_auth),
	 .def = "none",
	 .choices = client_auths,
	 .help = "none, request or require a client certificate; its subject is the principal"},
	CFG_OPT_END,
};

#define INSECURE_HELP "serve a non-loopback address without TLS (refused otherwise)"

/* clang-format off */
static const struct cfg_option kafka_opts[] = {
	{.name = "listen", .type = CFG_STRING, OPT(kafka_section, listen), .def = "127.0.0.1:9092",
	 .help = "HOST:PORT of the Kafka protocol listener"},
	{.name = "advertised", .type = CFG_STRING, OPT(kafka_section, advertised),
	 .help = "HOST:PORT given to clients in Metadata (default: listen)"},
	{.name = "max_request_bytes", .type = CFG_SIZE, OPT(kafka_section, max_request_bytes),
	 .def = "100MiB", .min = 1024, .max = 1LL << 31,
	 .help = "larger frames close the connection"},
	{.name = "max_connections", .type = CFG_INT, OPT(kafka_section, max_connections),
	 .def = "10000", .min = 1, .max = 1000000},
	{.name = "max_output_bytes", .type = CFG_SIZE, OPT(kafka_section, max_output_bytes),
	 .def = "64MiB", .min = 65536, .max = 1LL << 34,
	 .help = "queued response bytes per connection before its reads pause"},
	{.name = "max_inflight", .type = CFG_INT, OPT(kafka_section, max_inflight), .def = "64",
	 .min = 1, .max = 4096, .help = "pipelined requests per connection"},
	{.name = "max_fetch_wait", .type = CFG_DURATION, OPT(kafka_section, max_fetch_wait_ms),
	 .def = "30s", .min = 0, .max = 300000,
	 .help = "longest a Fetch may wait for min_bytes, whatever it asks"},
	{.name = "idle_timeout", .type = CFG_DURATION, OPT(kafka_section, idle_timeout_ms),
	 .def = "10m", .min = 0, .max = 7LL * 86400000,
	 .help = "close connections without traffic this long (0 = never)"},
	{.name = "frame_timeout", .type = CFG_DURATION, OPT(kafka_section, frame_timeout_ms),
	 .def = "60s", .min = 0, .max = 86400000,
	 .help = "a request must arrive whole this soon after its first byte (0 = never)"},
	{.name = "max_queued_request_bytes", .type = CFG_SIZE,
	 OPT(kafka_section, max_queued_request_bytes), .def = "512MiB", .min = 65536,
	 .max = 1LL << 40,
	 .help = "store-wide memory of large requests; past it reads of new ones pause"},
	{.name = "sasl", .type = CFG_LIST, OPT(kafka_section, sasl), .check = check_sasl_mech,
	 .help = "SASL mechanisms required on the listener: SCRAM-SHA-512, SCRAM-SHA-256, PLAIN"},
	{.name = "connections_max_reauth", .type = CFG_DURATION,
	 OPT(kafka_section, connections_max_reauth_ms), .def = "0", .min = 0,
	 .max = 365LL * 86400000,
	 .help = "SASL session lifetime; clients re-authenticate (KIP-368); 0 = unlimited"},
	{.name = "tls", .type = CFG_SECTION, OPT(kafka_section, tls), .sub = tls_opts},
	{.name = "allow_insecure", .type = CFG_BOOL, OPT(kafka_section, allow_insecure),
	 .def = "false", .help = INSECURE_HELP},
	CFG_OPT_END,
};
/* clang-format on */

/* clang-format off */
static const struct cfg_option http_opts[] = {
	{.name = "listen", .type = CFG_STRING, OPT(http_section, listen), .def = "127.0.0.1:8470",
	 .help = "HOST:PORT of the HTTP API"},
	{.name = "tokens_file", .type = CFG_STRING, OPT(http_section, tokens_file),
	 .help = "bearer tokens, one 'token topic-glob produce|consume|admin' per line"},
	{.name = "max_body_bytes", .type = CFG_SIZE, OPT(http_section, max_body_bytes),
	 .def = "64MiB", .min = 1024, .max = 1LL << 31},
	{.name = "threads", .type = CFG_INT, OPT(http_section, threads), .def = "0", .min = 0,
	 .max = 1024, .help = "0 = one thread per connection"},
	{.name = "max_wait", .type = CFG_DURATION, OPT(http_section, max_wait_ms), .def = "60s",
	 .min = 0, .max = 3600000, .help = "longest ?wait_ms a long poll may ask for"},
	{.name = "idle_timeout", .type = CFG_DURATION, OPT(http_section, idle_timeout_ms),
	 .def = "120s", .min = 1000, .max = 86400000,
	 .help = "close connections without traffic this long"},
	{.name = "header_timeout", .type = CFG_DURATION, OPT(http_section, header_timeout_ms),
	 .def = "30s", .min = 100, .max = 3600000,
	 .help = "a request's headers must be complete this soon (slowloris)"},
	{.name = "max_connections", .type = CFG_INT, OPT(http_section, max_connections),
	 .def = "4000", .min = 2, .max = 1000000},
	{.name = "max_connections_per_ip", .type = CFG_INT,
	 OPT(http_section, max_connections_per_ip), .def = "1000", .min = 0, .max = 1000000,
	 .help = "connections from one client address (0 = no cap)"},
	{.name = "tls", .type = CFG_SECTION, OPT(http_section, tls), .sub = tls_opts},
	{.name = "allow_insecure", .type = CFG_BOOL, OPT(http_section, allow_insecure),
	 .def = "false", .help = INSECURE_HELP},
	CFG_OPT_END,
};
/* clang-format on */

/* clang-format off */
static const struct cfg_option log_opts[] = {
	{.name = "fsync", .type = CFG_ENUM, OPT(log_section, fsync), .def = "always",
	 .choices = fsync_modes,
	 .help = "always: acknowledge after fdatasync (group commit); interval; never"},
	{.name = "fsync_interval", .type = CFG_DURATION, OPT(log_section, fsync_interval_ms),
	 .def = "1s", .min = 1, .max = 3600000},
	{.name = "auto_create", .type = CFG_BOOL, OPT(log_section, auto_create), .def = "true",
	 .help = "create unknown topics on first write"},
	{.name = "default_partitions", .type = CFG_INT, OPT(log_section, default_partitions),
	 .def = "1", .min = 1, .max = 10000},
	{.name = "retention", .type = CFG_DURATION, OPT(log_section, retention_ms), .def = "7d",
	 .help = "delete segments older than this (0 = forever)"},
	{.name = "retention_bytes", .type = CFG_SIZE, OPT(log_section, retention_bytes), .def = "0",
	 .help = "per-partition size cap (0 = unlimited)"},
	{.name = "segment_bytes", .type = CFG_SIZE, OPT(log_section, segment_bytes), .def = "1GiB",
	 .min = 4096, .max = 1LL << 40},
	{.name = "segment_age", .type = CFG_DURATION, OPT(log_section, segment_ms), .def = "7d",
	 .min = 1000, .max = 3650LL * 86400000},
	{.name = "max_batch_bytes", .type = CFG_SIZE, OPT(log_section, max_batch_bytes),
	 .def = "8MiB", .min = 1024, .max = 256LL << 20},
	{.name = "verify_records", .type = CFG_ENUM, OPT(log_section, verify_records),
	 .def = "head", .choices = verify_modes,
	 .help = "head: decode the first 64 KiB of each compressed batch; all: every record"},
	{.name = "block_index", .type = CFG_BOOL, OPT(log_section, block_index), .def = "true",
	 .help = "build the block skip index (grep/source/stats) in the background"},
	{.name = "block_index_count", .type = CFG_STRING, OPT(log_section, block_index_count),
	 .def = "(?i)error", .help = "PCRE2 pattern the index counts per minute (\"\": none)"},
	{.name = "index_interval_bytes", .type = CFG_SIZE, OPT(log_section, index_interval_bytes),
	 .def = "4KiB", .min = 64, .max = 1LL << 30},
	{.name = "retention_check", .type = CFG_DURATION, OPT(log_section, retention_check_ms),
	 .def = "30s", .min = 10, .max = 86400000},
	{.name = "min_free_bytes", .type = CFG_SIZE, OPT(log_section, min_free_bytes),
	 .def = "1GiB", .max = 1LL << 60,
	 .help = "refuse writes when the data dir's disk has less free (0 = off)"},
	{.name = "min_free_percent", .type = CFG_INT, OPT(log_section, min_free_percent),
	 .def = "5", .min = 0, .max = 100,
	 .help = "... or less than this share free, whichever limit is smaller"},
	CFG_OPT_END,
};

static int check_rate(const char *value, char *why, size_t whylen)
{
	uint64_t v;

	if (cfg_parse_size(value, &v) < 0) {
		snprintf(why, whylen, "'%s' is not a byte rate (e.g. 10MiB)", value);
		return -ERR_CONFIG;
	}
	return 0;
}

static const struct cfg_option quotas_opts[] = {
	{.name = "produce_bytes_per_sec", .type = CFG_SIZE,
	 OPT(quotas_section, produce_bytes_per_sec), .def = "0",
	 .help = "Produce/ingest byte rate of each principal (0 = unlimited)"},
	{.name = "fetch_bytes_per_sec", .type = CFG_SIZE, OPT(quotas_section, fetch_bytes_per_sec),
	 .def = "0", .help = "Fetch/replay byte rate of each principal (0 = unlimited)"},
	{.name = "produce_overrides", .type = CFG_MAP, OPT(quotas_section, produce_overrides),
	 .check = check_rate, .help = "principal: bytes per second, instead of the default"},
	{.name = "fetch_overrides", .type = CFG_MAP, OPT(quotas_section, fetch_overrides),
	 .check = check_rate},
	{.name = "max_throttle", .type = CFG_DURATION, OPT(quotas_section, max_throttle_ms),
	 .def = "30s", .min = 1, .max = 3600000, .help = "longest single throttle"},
	CFG_OPT_END,
};
/* clang-format on */

/* clang-format off */
static const struct cfg_option groups_opts[] = {
	{.name = "offsets_retention", .type = CFG_DURATION,
	 OPT(groups_section, offsets_retention_ms), .def = "7d",
	 .help = "drop committed offsets of groups empty for this long"},
	{.name = "min_session_timeout", .type = CFG_DURATION,
	 OPT(groups_section, min_session_timeout_ms), .def = "1s"},
	{.name = "max_session_timeout", .type = CFG_DURATION,
	 OPT(groups_section, max_session_timeout_ms), .def = "30m"},
	{.name = "initial_rebalance_delay", .type = CFG_DURATION,
	 OPT(groups_section, initial_rebalance_delay_ms), .def = "3s",
	 .help = "wait this long for more members when a group first forms (Kafka: 3 s)"},
	CFG_OPT_END,
};
/* clang-format on */

static const struct cfg_option auth_opts[] = {
	{.name = "users_file",
	 .type = CFG_STRING,
	 OPT(auth_section, users_file),
	 .help = "SCRAM credentials; `sluice-store user add NAME` (password on stdin)"},
	{.name = "acl_file",
	 .type = CFG_STRING,
	 OPT(auth_section, acl_file),
	 .help = "grants, one 'User:NAME resource produce|consume|admin' per line"},
	CFG_OPT_END,
};

static const struct cfg_option root_opts[] = {
	{.name = "store", .type = CFG_SECTION, OPT(store_config, store), .sub = store_opts},
	{.name = "kafka", .type = CFG_SECTION, OPT(store_config, kafka), .sub = kafka_opts},
	{.name = "http", .type = CFG_SECTION, OPT(store_config, http), .sub = http_opts},
	{.name = "log", .type = CFG_SECTION, OPT(store_config, log), .sub = log_opts},
	{.name = "groups", .type = CFG_SECTION, OPT(store_config, groups), .sub = groups_opts},
	{.name = "quotas", .type = CFG_SECTION, OPT(store_config, quotas), .sub = quotas_opts},
	{.name = "auth", .type = CFG_SECTION, OPT(store_config, auth), .sub = auth_opts},
	CFG_OPT_END,
};

int store_config_defaults(struct store_config *c, struct cfg_error *err)
{
	memset(c, 0, sizeof(*c));
	return cfg_defaults(root_opts, c, err);
}

int store_config_load(struct store_config *c, const char *path, struct cfg_error *err)
{
	struct cfg_doc *doc = cfg_load_file(path, err);
	int rc;

	if (!doc)
		return -ERR_CONFIG;
	rc = cfg_bind(cfg_doc_root(doc), root_opts, c, "", err);
	cfg_doc_free(doc);
	return rc;
}

static int set_str(char **slot, const char *value)
{
	char *d = mem_strdup(value);

	if (!d)
		return -ENOMEM;
	mem_free(*slot);
	*slot = d;
	return 0;
}

int store_config_set_flag(struct store_config *c, const char *flag, const char *value)
{
	if (strcmp(flag, "data-dir") == 0)
		return set_str(&c->store.data_dir, value);
	if (strcmp(flag, "kafka-listen") == 0)
		return set_str(&c->kafka.listen, value);
	if (strcmp(flag, "http-listen") == 0)
		return set_str(&c->http.listen, value);
	if (strcmp(flag, "advertised") == 0)
		return set_str(&c->kafka.advertised, value);
	return -ERR_NOT_FOUND;
}

void store_config_release(struct store_config *c)
{
	cfg_free(root_opts, c);
}

void store_config_help(FILE *out)
{
	cfg_help(root_opts, out, 2);
}
