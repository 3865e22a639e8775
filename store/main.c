/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sluice-store: wires the configuration, the log engine, the Kafka protocol
 * server and the HTTP API onto one event loop, tells systemd when it is
 * ready, and shuts down cleanly on SIGTERM/SIGINT.  SIGHUP (systemctl reload)
 * re-reads the configuration file and applies what can change while running
 * (store.log_level, store.log_format) and the TLS certificates, keys and
 * client CAs of both listeners (for new connections); data, listeners and
 * open connections are untouched; it also re-reads the auth users and ACL
 * files.  Nothing else lives here.
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
#include "store/auth/auth.h"
#include "store/auth/users_cmd.h"
#include "store/http/http_api.h"
#include "store/kafka/kafka_server.h"
#include "store/engine/diskspace.h"
#include "store/engine/engine.h"
#include "store/quota/quota.h"
#include "store/store_config.h"
#include "store/tls/tls_policy.h"
#include "store/tls/tls_server.h"

#define SLUICE_VERSION "0.1.0"

struct store {
	struct store_config conf;
	struct evloop *loop;
	struct engine *log;
	struct kafka_server *kafka;
	struct http_api *http;
	struct quota *quota;
	struct auth *auth;
	struct prom_registry *metrics;
	struct evloop_signal sigterm;
	struct evloop_signal sigint;
	struct evloop_signal sighup;
	struct evloop_timer watchdog;
	const char *config_path; /* -c, or NULL: built-in defaults */
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sluice-store [-c store.yaml] [options]\n"
		"       sluice-store user add|remove NAME [-c store.yaml]  (password on stdin)\n"
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

/* New certificates for new connections; a listener keeps TLS on or off as it
 * started (turning it on or off needs a restart). */
static void reload_tls(struct store *st, const struct store_config *nc)
{
	struct tls_server *k = kafka_server_tls(st->kafka);
	struct tls_server *h = http_api_tls(st->http);

	if (k && nc->kafka.tls.cert && nc->kafka.tls.cert[0])
		tls_server_reload(k, &nc->kafka.tls);
	else if (k || (nc->kafka.tls.cert && nc->kafka.tls.cert[0]))
		log_warn("SIGHUP: kafka.tls switched on or off: applies at the next start");
	if (h && nc->http.tls.cert && nc->http.tls.cert[0])
		http_api_reload_tls(st->http, &nc->http.tls);
	else if (h || (nc->http.tls.cert && nc->http.tls.cert[0]))
		log_warn("SIGHUP: http.tls switched on or off: applies at the next start");
}

static void on_reload(struct evloop_signal *s)
{
	struct store *st = s->data;
	struct store_config nc;
	struct cfg_error err;
	int rc;

	auth_reload(st->auth); /* users and ACL files, whatever else happens */
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
	reload_tls(st, &nc);
	log_info("SIGHUP: reloaded %s (log_level %s); other settings apply at the next start",
		 st->config_path, nc.store.log_level);
out:
	store_config_release(&nc);
}

/* --check: load each listener's certificates and keys as start-up would. */
static int check_tls(const struct store_config *c)
{
	const struct tls_section *tls[2] = {&c->kafka.tls, &c->http.tls};
	static const char *const names[2] = {"kafka", "http"};
	int rc = 0;

	for (int i = 0; i < 2 && rc == 0; i++) {
		struct tls_server *t = NULL;

		if (tls[i]->cert && tls[i]->cert[0])
			rc = tls_server_new(names[i], tls[i], NULL, &t);
		tls_server_free(t);
	}
	return rc;
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
	lc->defaults.retention_bytes =
		c->log.retention_bytes ? (int64_t)c->log.retention_bytes : -1;
	lc->defaults.segment_bytes = (int64_t)c->log.segment_bytes;
	lc->defaults.segment_ms = c->log.segment_ms;
	lc->defaults.max_batch_bytes = (int64_t)c->log.max_batch_bytes;
	lc->index_interval_bytes = (int64_t)c->log.index_interval_bytes;
	lc->retention_check_ms = c->log.retention_check_ms;
	lc->min_free_bytes = c->log.min_free_bytes;
	lc->min_free_percent = (int)c->log.min_free_percent;
	lc->verify_all_records = c->log.verify_records == 1;
	lc->no_block_index = !c->log.block_index;
	lc->block_index_count = c->log.block_index_count;
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
		case 1:
		case 2:
		case 3:
		case 4:
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

/* Arguments, logging, auth files and the listener policy: everything that
 * may refuse the configuration before anything binds. */
static int prepare(struct store *st, int argc, char **argv, bool *check)
{
	char why[CFG_ERR_MAX] = "";
	int rc = parse_args(st, argc, argv, check);

	if (rc < 0)
		return rc;
	rc = apply_logging(&st->conf);
	if (rc < 0) {
		fprintf(stderr, "sluice-store: store.log_level: unknown level '%s'\n",
			st->conf.store.log_level);
		return rc;
	}
	rc = auth_new(&st->conf, &st->auth, why, sizeof(why));
	if (rc < 0) {
		fprintf(stderr, "sluice-store: %s\n", why[0] ? why : err_str(rc));
		return rc;
	}
	/* before anything binds: a refused listener never opens its port */
	return tls_policy_check(&st->conf);
}

/* The loop, signals, the engine and both listeners. */
static int start(struct store *st)
{
	struct engine_config lc;
	int rc;

	st->loop = evloop_new();
	st->metrics = prom_registry_new();
	if (!st->loop || !st->metrics)
		return -ENOMEM;
	/* Signals first: threads started below inherit the blocked mask. */
	rc = evloop_signal_start(st->loop, &st->sigterm, SIGTERM, on_stop, st);
	rc = err_first(rc, evloop_signal_start(st->loop, &st->sigint, SIGINT, on_stop, st));
	rc = err_first(rc, evloop_signal_start(st->loop, &st->sighup, SIGHUP, on_reload, st));
	if (rc < 0) {
		log_error("cannot set up signals: %s", err_str(rc));
		return rc;
	}
	log_config_from(&lc, &st->conf);
	rc = engine_open(&lc, &st->log);
	if (rc < 0) {
		log_error("cannot open data directory %s: %s", st->conf.store.data_dir,
			  err_str(rc));
		return rc;
	}
	rc = prom_registry_add(st->metrics, diskspace_render, engine_diskspace(st->log));
	if (rc < 0)
		return rc;
	if (prom_registry_add(st->metrics, auth_render_metrics, st->auth) < 0)
		return -ENOMEM;
	rc = kafka_server_new(st->loop, st->log, st->metrics, &st->conf, st->auth, &st->kafka);
	if (rc < 0) {
		log_error("cannot start the Kafka listener on %s: %s", st->conf.kafka.listen,
			  err_str(rc));
		return rc;
	}
	rc = http_api_new(st->log, st->metrics, &st->conf, st->auth, &st->http);
	if (rc < 0) {
		log_error("cannot start the HTTP API on %s: %s", st->conf.http.listen, err_str(rc));
		return rc;
	}
	st->quota = quota_new(&st->conf);
	if (!st->quota || prom_registry_add(st->metrics, quota_render, st->quota) < 0)
		return -ENOMEM;
	kafka_server_set_quota(st->kafka, st->quota);
	http_api_set_quota(st->http, st->quota);
	/* consumer-group lag for GET /v1/groups and `sluice topics` */
	http_api_set_groups(st->http, kafka_server_groups(st->kafka));
	return 0;
}

/* Everything start() made, in the order that keeps users before what they
 * use; works on a half-started store. */
static void stop(struct store *st)
{
	evloop_timer_stop(&st->watchdog);
	http_api_free(st->http); /* first: its threads may read the groups */
	kafka_server_free(st->kafka);
	if (st->quota)
		prom_registry_remove(st->metrics, quota_render, st->quota);
	quota_free(st->quota);
	if (st->log && st->metrics)
		prom_registry_remove(st->metrics, diskspace_render, engine_diskspace(st->log));
	engine_close(st->log);
	if (st->metrics && st->auth)
		prom_registry_remove(st->metrics, auth_render_metrics, st->auth);
	prom_registry_free(st->metrics);
	/* the loop reports watchers still started when it is freed */
	if (st->sigterm.loop)
		evloop_signal_stop(&st->sigterm);
	if (st->sigint.loop)
		evloop_signal_stop(&st->sigint);
	if (st->sighup.loop)
		evloop_signal_stop(&st->sighup);
	auth_free(st->auth);
	evloop_free(st->loop);
	store_config_release(&st->conf);
}

int main(int argc, char **argv)
{
	struct store st;
	bool check = false;
	uint64_t wd_usec = 0;
	int rc;

	memset(&st, 0, sizeof(st));
	log_init("sluice-store");
	if (argc > 1 && strcmp(argv[1], "user") == 0)
		return users_cmd_main(argc - 1, argv + 1);
	signal(SIGPIPE, SIG_IGN);
	rc = prepare(&st, argc, argv, &check);
	if (rc == 0 && check) {
		rc = check_tls(&st.conf);
		if (rc == 0)
			printf("configuration ok\n");
		goto out;
	}
	if (rc == 0)
		rc = start(&st);
	if (rc < 0)
		goto out;
	if (sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec >= 2000)
		evloop_timer_start(st.loop, &st.watchdog, wd_usec / 2000, wd_usec / 2000,
				   on_watchdog, &st);
	sd_notify(0, "READY=1");
	log_info("sluice-store %s ready: data %s, kafka %s, http %s", SLUICE_VERSION,
		 st.conf.store.data_dir, st.conf.kafka.listen, st.conf.http.listen);
	rc = evloop_run(st.loop);
	sd_notify(0, "STOPPING=1");
out:
	stop(&st);
	return rc < 0 ? 1 : 0;
}
