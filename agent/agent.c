/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Daemon wiring: configuration, logging, the metrics endpoint, process
 * metrics, signals, reload and drain.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/agent_config.h"
#include "agent/net/httpd.h"
#include "agent/pipeline/pipeline.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "lib/evloop.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/prom.h"

#define CHECK_MS 50
#define RELOAD_FLUSH_MS 30000

enum agent_state { RUNNING, RELOADING, DRAINING };

struct agent {
	struct evloop *loop;
	const struct plugin *const *plugins;
	const char *config_path;
	struct agent_config *conf;
	struct agent_config *next_conf; /* waiting for the old pipeline to flush */
	struct pipeline *pl;
	struct prom_registry *reg;
	struct httpd *http;
	char *http_listen;
	struct evloop_signal sig_term;
	struct evloop_signal sig_int;
	struct evloop_signal sig_hup;
	struct evloop_timer check;
	struct evloop_timer watchdog;
	bool unhealthy; /* the watchdog is not being fed */
	enum agent_state state;
	uint64_t deadline;
	int64_t start_wall_ms;
	int exit_code;
	uint64_t reloads;
	uint64_t reload_failures;
};

/* ------------------------------------------------------------ metrics */

static void process_metrics(struct buf *out, void *arg)
{
	struct agent *a = arg;
	struct rusage ru;
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "re");

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			pages = rss = 0;
		fclose(f);
	}
	getrusage(RUSAGE_SELF, &ru);
	prom_family(out, "process_resident_memory_bytes", "gauge",
		    "Resident memory size in bytes.");
	prom_u64(out, "process_resident_memory_bytes", NULL,
		 (uint64_t)rss * (uint64_t)sysconf(_SC_PAGESIZE));
	prom_family(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
	prom_u64(out, "process_virtual_memory_bytes", NULL,
		 (uint64_t)pages * (uint64_t)sysconf(_SC_PAGESIZE));
	prom_family(out, "process_cpu_seconds_total", "counter", "User and system CPU time.");
	prom_f64(out, "process_cpu_seconds_total", NULL,
		 (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
			 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
	prom_family(out, "process_start_time_seconds", "gauge", "Start time since the epoch.");
	prom_f64(out, "process_start_time_seconds", NULL, (double)a->start_wall_ms / 1000.0);
	prom_family(out, "sluice_agent_heap_bytes", "gauge",
		    "Bytes allocated through the agent's counting allocator.");
	prom_u64(out, "sluice_agent_heap_bytes", NULL, mem_used());
	prom_family(out, "sluice_agent_reloads_total", "counter",
		    "Configuration reloads (SIGHUP).");
	prom_u64(out, "sluice_agent_reloads_total", NULL, a->reloads);
	prom_family(out, "sluice_agent_reload_failures_total", "counter",
		    "Reloads refused because the new configuration was invalid.");
	prom_u64(out, "sluice_agent_reload_failures_total", NULL, a->reload_failures);
}

static void pipeline_metrics(struct buf *out, void *arg)
{
	struct agent *a = arg;

	if (a->pl)
		pipeline_render_metrics(out, a->pl);
}

static int on_http(void *arg, const char *method, const char *path, struct buf *body,
		   const char **ctype)
{
	struct agent *a = arg;

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		return buf_append_str(body, "method not allowed\n") < 0 ? 500 : 405;
	}
	if (strcmp(path, "/metrics") == 0) {
		*ctype = "text/plain; version=0.0.4; charset=utf-8";
		return prom_registry_render(a->reg, body) < 0 ? 500 : 200;
	}
	if (strcmp(path, "/health") == 0) {
		*ctype = "application/json";
		if (!a->pl || a->state != RUNNING) {
			if (buf_append_str(body, "{\"status\":\"reloading\"}\n") < 0)
				return 500;
			return a->state == RELOADING ? 200 : 503;
		}
		if (a->state == DRAINING) {
			return buf_append_str(body, "{\"status\":\"stopping\"}\n") < 0 ? 500 : 503;
		}
		return pipeline_health(a->pl, body);
	}
	return buf_append_str(body, "not found: try /metrics or /health\n") < 0 ? 500 : 404;
}

/* ------------------------------------------------------------ lifecycle */

static void apply_logging(const struct agent_settings *s)
{
	log_set_level((enum log_level)s->log_level);
	log_set_json(s->log_format == 1);
}

/* Each tailed file holds a descriptor: take the hard limit, as a log agent
 * following thousands of files must (systemd's default soft limit is 1024;
 * the packaged unit sets LimitNOFILE= itself).  The tail input keeps some
 * headroom below it for sockets and spool files. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || getrlimit(RLIMIT_NOFILE, &rl) != 0)
			return;
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 4096)
		log_warn("open-file limit %llu (hard): tail inputs follow fewer files than that; "
			 "raise ulimit -n or LimitNOFILE= to tail more",
			 (unsigned long long)rl.rlim_cur);
}

static int start_http(struct agent *a)
{
	const char *l = a->conf->agent.http.listen;
	int rc;

	if (a->http_listen && strcmp(a->http_listen, l) == 0)
		return 0;
	httpd_free(a->http);
	a->http = NULL;
	mem_free(a->http_listen);
	a->http_listen = mem_strdup(l);
	if (!*l || strcmp(l, "off") == 0)
		return 0;
	rc = httpd_new(a->loop, l, on_http, a, &a->http);
	if (rc < 0)
		log_error("cannot listen on %s for /metrics and /health: %s", l, err_str(rc));
	return rc;
}

static void begin_drain(struct agent *a);

static void on_inputs_done(void *arg)
{
	struct agent *a = arg;

	if (a->state != RUNNING)
		return;
	log_info("every input is done (end of input); stopping");
	begin_drain(a);
}

static int start_pipeline(struct agent *a, bool reload)
{
	struct cfg_error err;
	int rc;

	memset(&err, 0, sizeof(err));
	rc = pipeline_new(a->conf, a->loop, reload, &a->pl, &err);
	if (rc < 0) {
		log_error("%s", err.msg[0] ? err.msg : err_str(rc));
		return rc;
	}
	pipeline_on_inputs_done(a->pl, on_inputs_done, a);
	rc = pipeline_start(a->pl);
	if (rc < 0) {
		pipeline_free(a->pl);
		a->pl = NULL;
	}
	return rc;
}

static void on_check(struct evloop_timer *t);

static void arm_check(struct agent *a)
{
	if (!a->check.active)
		evloop_timer_start(a->loop, &a->check, CHECK_MS, CHECK_MS, on_check, a);
}

static void begin_drain(struct agent *a)
{
	if (a->state == DRAINING) {
		log_warn("second stop signal: exiting now (spooled data stays for the next start)");
		evloop_stop(a->loop);
		return;
	}
	a->state = DRAINING;
	sd_notify(0, "STOPPING=1");
	log_info("stopping: closing batches and delivering the spool (up to %" PRId64 " ms)",
		 a->conf->agent.shutdown_timeout);
	a->deadline = clock_mono_ms() + (uint64_t)a->conf->agent.shutdown_timeout;
	if (a->pl)
		pipeline_shutdown(a->pl);
	arm_check(a);
}

static void begin_reload(struct agent *a)
{
	struct cfg_error err;
	struct agent_config *nc = NULL;
	int rc;

	if (a->state != RUNNING)
		return;
	memset(&err, 0, sizeof(err));
	rc = agent_config_load(a->config_path, a->plugins, &nc, &err);
	if (rc == 0)
		rc = pipeline_check(nc, &err);
	if (rc < 0) {
		a->reload_failures++;
		log_error("reload refused, keeping the running configuration: %s", err.msg);
		agent_config_free(nc);
		return;
	}
	log_info("reloading %s", a->config_path);
	sd_notify(0, "RELOADING=1");
	a->next_conf = nc;
	a->state = RELOADING;
	a->deadline = clock_mono_ms() + RELOAD_FLUSH_MS;
	if (a->pl)
		pipeline_shutdown(a->pl);
	arm_check(a);
}

static void finish_reload(struct agent *a)
{
	struct agent_config *old = a->conf;

	pipeline_free(a->pl);
	a->pl = NULL;
	a->conf = a->next_conf;
	a->next_conf = NULL;
	apply_logging(&a->conf->agent);
	start_http(a);
	if (start_pipeline(a, true) < 0) {
		log_error("the new configuration cannot run; going back to the previous one");
		agent_config_free(a->conf);
		a->conf = old;
		apply_logging(&a->conf->agent);
		start_http(a);
		if (start_pipeline(a, true) < 0) {
			a->exit_code = 1;
			evloop_stop(a->loop);
			return;
		}
		a->reload_failures++;
	} else {
		agent_config_free(old);
		a->reloads++;
	}
	a->state = RUNNING;
	sd_notify(0, "READY=1");
	log_info("reloaded");
}

static void on_check(struct evloop_timer *t)
{
	struct agent *a = t->data;
	uint64_t now = clock_mono_ms();
	bool flushed = !a->pl || pipeline_flushed(a->pl);

	if (a->state == RELOADING) {
		if (flushed || now >= a->deadline) {
			evloop_timer_stop(&a->check);
			finish_reload(a);
		}
		return;
	}
	if (a->state == DRAINING) {
		if ((flushed && (!a->pl || pipeline_drained(a->pl))) || now >= a->deadline) {
			if (!flushed || !pipeline_drained(a->pl))
				log_warn(
					"shutdown_timeout reached; undelivered data stays spooled");
			evloop_timer_stop(&a->check);
			evloop_stop(a->loop);
		}
	}
}

static void on_signal(struct evloop_signal *s)
{
	struct agent *a = s->data;

	if (s->signo == SIGHUP)
		begin_reload(a);
	else
		begin_drain(a);
}

/* Fed only while /health would say ok (or during a reload): an agent that
 * cannot deliver, write its spool or read its inputs is restarted by
 * systemd like a hung one, and says why in its status. */
static void on_watchdog(struct evloop_timer *t)
{
	struct agent *a = t->data;
	struct buf why;

	if (!a->pl || a->state != RUNNING) {
		sd_notify(0, "WATCHDOG=1");
		return;
	}
	buf_init(&why, 4096);
	if (pipeline_healthy(a->pl, &why)) {
		if (a->unhealthy)
			sd_notify(0, "STATUS=running");
		a->unhealthy = false;
		sd_notify(0, "WATCHDOG=1");
	} else {
		char status[512];
		int n = why.len > 0 ? (int)why.len - 1 : 0; /* without the last newline */

		if (!a->unhealthy)
			log_warn("health: failing, the watchdog is no longer fed: %.*s", n,
				 (const char *)why.data);
		a->unhealthy = true;
		/* STATUS= is one line: the first reason. */
		snprintf(status, sizeof(status), "STATUS=unhealthy: %.*s", n,
			 (const char *)why.data);
		status[strcspn(status, "\n")] = '\0';
		sd_notify(0, status);
	}
	buf_release(&why);
}

int agent_run(const char *config_path, const struct plugin *const *plugins)
{
	struct agent a;
	struct cfg_error err;
	uint64_t wd_usec = 0;
	int rc;

	memset(&a, 0, sizeof(a));
	memset(&err, 0, sizeof(err));
	a.plugins = plugins;
	a.config_path = config_path;
	a.start_wall_ms = clock_wall_ms();
	rc = agent_config_load(config_path, plugins, &a.conf, &err);
	if (rc < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 2;
	}
	apply_logging(&a.conf->agent);
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	a.loop = evloop_new();
	a.reg = prom_registry_new();
	if (!a.loop || !a.reg) {
		rc = -ENOMEM;
		goto out;
	}
	/* Signals first: threads started later inherit the blocked mask. */
	rc = evloop_signal_start(a.loop, &a.sig_term, SIGTERM, on_signal, &a);
	rc = err_first(rc, evloop_signal_start(a.loop, &a.sig_int, SIGINT, on_signal, &a));
	rc = err_first(rc, evloop_signal_start(a.loop, &a.sig_hup, SIGHUP, on_signal, &a));
	rc = err_first(rc, prom_registry_add(a.reg, process_metrics, &a));
	rc = err_first(rc, prom_registry_add(a.reg, pipeline_metrics, &a));
	if (rc < 0) {
		log_error("cannot set up signals and metrics: %s", err_str(rc));
		goto out;
	}
	rc = start_http(&a);
	if (rc < 0)
		goto out;
	rc = start_pipeline(&a, false);
	if (rc < 0)
		goto out;
	log_info("sluice-agent running: %zu inputs, %zu outputs, data in %s%s%s", a.conf->ninputs,
		 a.conf->noutputs, a.conf->agent.data_dir, a.http ? ", metrics on " : "",
		 a.http ? a.conf->agent.http.listen : "");
	sd_notify(0, "READY=1");
	if (sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec >= 2000)
		evloop_timer_start(a.loop, &a.watchdog, wd_usec / 2000, wd_usec / 2000, on_watchdog,
				   &a);
	rc = evloop_run(a.loop);
	if (rc < 0)
		log_error("event loop: %s", err_str(rc));
out:
	if (a.check.active)
		evloop_timer_stop(&a.check);
	if (a.watchdog.active)
		evloop_timer_stop(&a.watchdog);
	pipeline_free(a.pl);
	httpd_free(a.http);
	if (a.loop) {
		evloop_signal_stop(&a.sig_term);
		evloop_signal_stop(&a.sig_int);
		evloop_signal_stop(&a.sig_hup);
	}
	prom_registry_free(a.reg);
	evloop_free(a.loop);
	agent_config_free(a.next_conf);
	agent_config_free(a.conf);
	mem_free(a.http_listen);
	if (rc < 0 && a.exit_code == 0)
		a.exit_code = 1;
	log_info("sluice-agent stopped");
	return a.exit_code;
}
