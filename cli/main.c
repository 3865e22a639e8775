/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sluice: the operator CLI.  Parses the global options, picks the command
 * and hands over; the commands live in cli/cli_*.c.
 */
#include <curl/curl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/log.h"

#define SLUICE_VERSION "0.1.0"

void cli_err(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("sluice: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

bool cli_global_opt(struct cli_ctx *ctx, int opt, const char *arg)
{
	if (opt == CLI_OPT_STORE) {
		ctx->store = arg;
		return true;
	}
	if (opt == CLI_OPT_KAFKA_PROP) {
		/* checked (k=v, count) when the Kafka clients are configured */
		if (ctx->nkafka_props < CLI_KAFKA_PROPS_MAX)
			ctx->kafka_props[ctx->nkafka_props] = arg;
		ctx->nkafka_props++;
		return true;
	}
	if (opt == CLI_OPT_BROKERS) {
		ctx->brokers = arg;
		return true;
	}
	if (opt == CLI_OPT_TOKEN_FILE) {
		ctx->token_file = arg;
		return true;
	}
	if (opt == CLI_OPT_CA_FILE)
		ctx->ca_file = arg;
	else if (opt == CLI_OPT_CERT)
		ctx->cert = arg;
	else if (opt == CLI_OPT_KEY)
		ctx->key = arg;
	else
		return false;
	return true;
}

int cli_connect(struct cli_ctx *ctx)
{
	char err[600];

	if (ctx->http.base)
		return CLI_OK;
	if (cli_http_init(&ctx->http, ctx->store, ctx->token_file, err, sizeof(err)) < 0) {
		cli_err("%s", err);
		return ctx->token_file && strstr(err, "token") ? CLI_FAIL : CLI_USAGE;
	}
	cli_http_set_tls(&ctx->http, ctx->ca_file, ctx->cert, ctx->key);
	return CLI_OK;
}

static const struct {
	const char *name;
	int (*fn)(struct cli_ctx *, int, char **);
} commands[] = {
	{"topics", cli_topics_main},   {"topic", cli_topic_main},   {"produce", cli_produce_main},
	{"consume", cli_consume_main}, {"replay", cli_replay_main}, {"alert", cli_alert_main},
	{"stats", cli_stats_main},
};

static const char *env_or_null(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_GLOBAL_LONGOPTS,
		{"key", required_argument, NULL, CLI_OPT_KEY},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct cli_ctx ctx;
	int c, rc = CLI_USAGE;

	memset(&ctx, 0, sizeof(ctx));
	log_init("sluice");
	ctx.store = getenv("SLUICE_STORE");
	if (!ctx.store || !*ctx.store)
		ctx.store = CLI_DEFAULT_STORE;
	ctx.token_file = env_or_null("SLUICE_TOKEN_FILE");
	ctx.ca_file = env_or_null("SLUICE_CA_FILE");
	ctx.cert = env_or_null("SLUICE_CERT");
	ctx.key = env_or_null("SLUICE_KEY");
	ctx.brokers = env_or_null("SLUICE_BROKERS");
	/* "+": stop at the command; its own options are parsed by it */
	while ((c = getopt_long(argc, argv, "+vhV", opts, NULL)) != -1) {
		if (c == 'h') {
			cli_help_main(stdout);
			return CLI_OK;
		}
		if (c == 'V') {
			printf("sluice %s\n", SLUICE_VERSION);
			return CLI_OK;
		}
		if (c == 'v') {
			ctx.verbose = true;
			continue;
		}
		if (!cli_global_opt(&ctx, c, optarg)) {
			cli_help_main(stderr);
			return CLI_USAGE;
		}
	}
	if (optind >= argc) {
		cli_help_main(stderr);
		return CLI_USAGE;
	}
	if (strcmp(argv[optind], "help") == 0) {
		if (optind + 1 < argc && !cli_help_command(argv[optind + 1], stdout)) {
			cli_err("no such command '%s'", argv[optind + 1]);
			return CLI_USAGE;
		}
		if (optind + 1 >= argc)
			cli_help_main(stdout);
		return CLI_OK;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		cli_err("cannot initialise libcurl");
		return CLI_FAIL;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, argv[optind]) == 0) {
			int sub_argc = argc - optind;
			char **sub_argv = argv + optind;

			optind = 0; /* glibc: re-initialise getopt for the command's argv */
			rc = commands[i].fn(&ctx, sub_argc, sub_argv);
			goto out;
		}
	}
	cli_err("unknown command '%s' (see sluice --help)", argv[optind]);
	rc = CLI_USAGE;
out:
	if (ctx.http.base)
		cli_http_release(&ctx.http);
	curl_global_cleanup();
	return rc;
}
