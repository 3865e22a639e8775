/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli/: the `sluice` command line (topics, produce, consume, replay, grep).
 *
 * The `sluice` operator CLI: what the command modules share.  The CLI talks
 * to the store only over its HTTP API (docs/HTTP_API.md); records travel as
 * raw RecordBatch v2 and are decoded here with lib/batch.h.
 *
 * Exit status of every command: 0 success, 1 a runtime failure (the store
 * refused, is unreachable, data is corrupt), 2 a usage error (bad option,
 * bad time).  Messages go to stderr, prefixed "sluice: ".
 *
 * Single-threaded.
 */
#ifndef SLUICE_CLI_H
#define SLUICE_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "cli/cli_http.h"

#define CLI_OK 0
#define CLI_FAIL 1
#define CLI_USAGE 2

#define CLI_DEFAULT_STORE "http://127.0.0.1:8470"

#define CLI_KAFKA_PROPS_MAX 32

/* Global options, parsed before the command (and accepted after it). */
struct cli_ctx {
	const char *store;      /* --store / SLUICE_STORE / default */
	const char *token_file; /* --token-file / SLUICE_TOKEN_FILE */
	const char *ca_file;    /* --ca-file / SLUICE_CA_FILE: https CA bundle */
	const char *cert;       /* --cert / SLUICE_CERT: client certificate (mTLS) */
	const char *key;        /* --key, --key-file / SLUICE_KEY: its private key */
	const char *brokers;    /* --brokers / SLUICE_BROKERS: a Kafka cluster
				 * instead of the store (consume, replay) */
	const char *kafka_props[CLI_KAFKA_PROPS_MAX]; /* --kafka-prop k=v (librdkafka) */
	size_t nkafka_props;
	bool verbose;
	struct cli_http http;
};

/* Print "sluice: " + message to stderr. */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Open the HTTP client from ctx->store and ctx->token_file (lazily, so that
 * --help works without a store).  CLI_OK or CLI_FAIL/CLI_USAGE after
 * printing why. */
int cli_connect(struct cli_ctx *ctx);

/* The global options a command's getopt table also accepts; returns true
 * when opt was one of them (and applied it). */
bool cli_global_opt(struct cli_ctx *ctx, int opt, const char *arg);
#define CLI_OPT_STORE 1000
#define CLI_OPT_TOKEN_FILE 1001
/* clang-format off */
#define CLI_OPT_CA_FILE 1002
#define CLI_OPT_CERT 1003
#define CLI_OPT_KEY 1004
#define CLI_OPT_BROKERS 1005
#define CLI_OPT_KAFKA_PROP 1006
#define CLI_GLOBAL_LONGOPTS \
	{"store", required_argument, NULL, CLI_OPT_STORE}, \
	{"token-file", required_argument, NULL, CLI_OPT_TOKEN_FILE}, \
	{"ca-file", required_argument, NULL, CLI_OPT_CA_FILE}, \
	{"cert", required_argument, NULL, CLI_OPT_CERT}, \
	{"key-file", required_argument, NULL, CLI_OPT_KEY}, \
	{"brokers", required_argument, NULL, CLI_OPT_BROKERS}, \
	{"kafka-prop", required_argument, NULL, CLI_OPT_KAFKA_PROP}
/* clang-format on */
/* Before the command `--key` also names the TLS key (after it, produce and
 * consume use --key for the record key). */

/* Partition count of a topic from the store (cli_consume.c); CLI_OK, or
 * CLI_FAIL after printing why.  At most 4096. */
int cli_topic_partitions(struct cli_ctx *ctx, const char *topic, int32_t *count);

/* Commands: argv[0] is the command name. */
int cli_topics_main(struct cli_ctx *ctx, int argc, char **argv);
int cli_topic_main(struct cli_ctx *ctx, int argc, char **argv);
int cli_produce_main(struct cli_ctx *ctx, int argc, char **argv);
int cli_consume_main(struct cli_ctx *ctx, int argc, char **argv);
int cli_replay_main(struct cli_ctx *ctx, int argc, char **argv);
int cli_alert_main(struct cli_ctx *ctx, int argc, char **argv);
int cli_stats_main(struct cli_ctx *ctx, int argc, char **argv);

/* Help texts (cli_help.c). */
void cli_help_main(FILE *out);
/* false when cmd is unknown. */
bool cli_help_command(const char *cmd, FILE *out);

#endif
