/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sluice-store: wires the configuration, the log engine, the Kafka protocol
 * server and the HTTP API onto one event loop, tells systemd when it is
 * ready, and shuts down cleanly on SIGTERM/SIGINT.  SIGHUP (systemctl reload)
 * re-reads the configuration file and applies what can change while running
 * (store.log_level, store.log_format); data, listeners and open connections
 * are untouched.  Nothing else lives here.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "lib/err.h"
#include "lib/evloop.h"
#include "lib/log.h"
#include "lib/prom.h"
#include "store/http/http_api.h"
#include "store/kafka/kafka_server.h"
#include "store/engine/diskspace.h"
#include "store/engine/engine.h"
#include "store/quota/quota.h"
#include "store/store_config.h"

#define SLUICE_VERSION "0.1.0"

struct store {
	struct store_config conf;
	struct evloop *loop;
	struct engine *log;
	struct kafka_server *kafka;
	struct http_api *http;
	struct quota *quota;
	struct prom_registry *metrics;
	struct evloop_signal sigterm;
	struct evloop_signal sigint;
	struct evloop_signal sighup;
	struct evloop_timer watchdog;
	const char *config_path;   /* -c, or NULL: built-in defaults */
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sluice-store [-c store.yaml] [options]\n"
		"\n"
		"The Sluice store: durable partitioned topics served over the Kafka protocol\n"
		"and HTTP.  Runs on built-in defaults without -c (data in ./data).\n"
		"\n"
		"  -c, --config FILE          store.yaml (flags below override it)\n"
		"      --data-dir DIR         store.data_dir\n"
		"      --kafka-listen H:P     kafka.listen (default 127.0.0.1:9092)\n"
		"      --http-listen H:P      http.listen (default 127.0.0.1:8470)\n"
		"      --advertised H:P       kafka.advertised (default: kafka.listen)\n"
		"      --check                validate the configuration and exit\n"
		"      --help                 this text and every store.yaml option\n"
		"      --version\n"
		"\n"
		"store.yaml options:\n");
	store_config_help(out);
}

static void on_stop(struct evloop_signal *s)
{
	log_info("signal %d: shutting down", s->signo);
	evloop_stop(s->loop);
}

/* Level and format from c; -ERR_CONFIG (with a message) for an unknown level. */
static int apply_logging(const struct store_config *c)
{
	int level = log_parse_level(c->store.log_level);

	if (level < 0)
		return -ERR_CONFIG;
	log_set_level((enum log_level)level);
	log_set_json(c->store.log_format == 1);
	return 0;
}

static void on_reload(struct evloop_signal *s)
{
	struct store *st = s->data;
	struct store_config nc;
	struct cfg_error err;
	int rc;

	if (!st->config_path) {
		log_info("SIGHUP: no configuration file (-c); nothing to reload");
		return;
	}
	memset(&nc, 0, sizeof(nc));
	memset(&err, 0, sizeof(err));
	rc = store_config_defaults(&nc, &err);
	if (rc == 0)
		rc = store_config_load(&nc, st->config_path, &err);
	if (rc < 0) {
		log_error("SIGHUP: reload refused, keeping the running configuration: %s", err.msg);
		goto out;
	}
	if (log_parse_level(nc.store.log_level) < 0) {
		log_error("SIGHUP: reload refused: store.log_level: unknown level '%s'",
			  nc.store.log_level);
		goto out;
	}
	apply_logging(&nc);
	log_info("SIGHUP: reloaded %s (log_level %s); other settings apply at the next start",
		 st->config_path, nc.store.log_level);
out:
	store_config_release(&nc);
}

static void on_watchdog(struct evloop_timer *t)
{
	(void)t;
	sd_notify(0, "WATCHDOG=1");
}

static void log_config_from(struct engine_config *lc, const struct store_config *c)
{
	engine_config_init(lc);
	lc->data_dir = c->store.data_dir;
	lc->fsync = (enum engine_fsync)c->log.fsync;
	lc->fsync_interval_ms = c->log.fsync_interval_ms;
	lc->auto_create = c->log.auto_create;
	lc->defaults.partitions = (int32_t)c->log.default_partitions;
	lc->defaults.retention_ms = c->log.retention_ms ? c->log.retention_ms : -1;
	lc->defaults.retention_bytes = c->log.retention_bytes ? (int64_t)c->log.retention_bytes : -1;
	lc->defaults.segment_bytes = (int64_t)c->log.segment_bytes;
	lc->defaults.segment_ms = c->log.segment_ms;
	lc->defaults.max_batch_bytes = (int64_t)c->log.max_batch_bytes;
	lc->index_interval_bytes = (int64_t)c->log.index_interval_bytes;
	lc->retention_check_ms = c->log.retention_check_ms;
	lc->min_free_bytes = c->log.min_free_bytes;
	lc->min_free_percent = (int)c->log.min_free_percent;
	lc->verify_all_records = c->log.verify_records == 1;
	lc->no_block_index = !c->log.block_index;
}

static int parse_args(struct store *st, int argc, char **argv, bool *check)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"data-dir", required_argument, NULL, 1},
		{"kafka-listen", required_argument, NULL, 2},
		{"http-listen", required_argument, NULL, 3},
		{"advertised", required_argument, NULL, 4},
		{"check", no_argument, NULL, 5},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	static const char *const flag_names[] = {NULL, "data-dir", "kafka-listen", "http-listen",
						 "advertised"};
	const char *flags[5] = {NULL};
	const char *config = NULL;
	struct cfg_error err;
	int c, rc;

	while ((c = getopt_long(argc, argv, "c:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			st->config_path = optarg;
			break;
		case 1: case 2: case 3: case 4:
			flags[c] = optarg;
			break;
		case 5:
			*check = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("sluice-store %s\n", SLUICE_VERSION);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sluice-store: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	rc = store_config_defaults(&st->conf, &err);
	if (rc == 0 && config)
		rc = store_config_load(&st->conf, config, &err);
	if (rc < 0) {
		fprintf(stderr, "sluice-store: %s\n", err.msg);
		return rc;
	}
	for (int i = 1; i < 5; i++) {
		if (flags[i] && store_config_set_flag(&st->conf, flag_names[i], flags[i]) < 0)
			return -ENOMEM;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct store st;
	struct engine_config lc;
	bool check = false;
	int rc;

	memset(&st, 0, sizeof(st));
	log_init("sluice-store");
	signal(SIGPIPE, SIG_IGN);
	rc = parse_args(&st, argc, argv, &check);
	if (rc < 0)
		goto out;
	rc = apply_logging(&st.conf);
	if (rc < 0) {
		fprintf(stderr, "sluice-store: store.log_level: unknown level '%s'\n",
			st.conf.store.log_level);
		goto out;
	}
	if (check) {
		printf("configuration ok\n");
		goto out;
	}

	st.loop = evloop_new();
	st.metrics = prom_registry_new();
	if (!st.loop || !st.metrics) {
		rc = -ENOMEM;
		goto out;
	}
	/* Signals first: threads started below inherit the blocked mask. */
	evloop_signal_start(st.loop, &st.sigterm, SIGTERM, on_stop, &st);
	evloop_signal_start(st.loop, &st.sigint, SIGINT, on_stop, &st);
	evloop_signal_start(st.loop, &st.sighup, SIGHUP, on_reload, &st);

	log_config_from(&lc, &st.conf);
	rc = engine_open(&lc, &st.log);
	if (rc < 0) {
		log_error("cannot open data directory %s: %s", st.conf.store.data_dir, err_str(rc));
		goto out;
	}
	rc = prom_registry_add(st.metrics, diskspace_render, engine_diskspace(st.log));
	if (rc < 0)
		goto out;
	rc = kafka_server_new(st.loop, st.log, st.metrics, &st.conf, &st.kafka);
	if (rc < 0) {
		log_error("cannot start the Kafka listener on %s: %s", st.conf.kafka.listen,
			  err_str(rc));
		goto out;
	}
	rc = http_api_new(st.log, st.metrics, &st.conf, &st.http);
	if (rc < 0) {
		log_error("cannot start the HTTP API on %s: %s", st.conf.http.listen, err_str(rc));
		goto out;
	}
	st.quota = quota_new(&st.conf);
	if (!st.quota || prom_registry_add(st.metrics, quota_render, st.quota) < 0) {
		rc = -ENOMEM;
		goto out;
	}
	kafka_server_set_quota(st.kafka, st.quota);
	http_api_set_quota(st.http, st.quota);
	/* consumer-group lag for GET /v1/groups and `sluice topics` */
	http_api_set_groups(st.http, kafka_server_groups(st.kafka));

	{
		uint64_t wd_usec = 0;

		if (sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec >= 2000)
			evloop_timer_start(st.loop, &st.watchdog, wd_usec / 2000, wd_usec / 2000,
					   on_watchdog, &st);
	}
	sd_notify(0, "READY=1");
	log_info("sluice-store %s ready: data %s, kafka %s, http %s", SLUICE_VERSION,
		 st.conf.store.data_dir, st.conf.kafka.listen, st.conf.http.listen);
	rc = evloop_run(st.loop);
	sd_notify(0, "STOPPING=1");
out:
	evloop_timer_stop(&st.watchdog);
	http_api_free(st.http);   /* first: its threads may read the groups */
	kafka_server_free(st.kafka);
	if (st.quota)
		prom_registry_remove(st.metrics, quota_render, st.quota);
	quota_free(st.quota);
	if (st.log && st.metrics)
		prom_registry_remove(st.metrics, diskspace_render, engine_diskspace(st.log));
	engine_close(st.log);
	prom_registry_free(st.metrics);
	evloop_free(st.loop);
	store_config_release(&st.conf);
	return rc < 0 ? 1 : 0;
}
