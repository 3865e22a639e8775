/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Output `alertmanager`: evaluates alert rules (lib/alert.h, the file named
 * by `rules`, the same file `sluice alert test` backtests) over the records
 * routed to it, and POSTs firing and resolved alerts to Prometheus
 * Alertmanager (API v2, POST /api/v2/alerts).
 *
 * Every eval_interval the rules are evaluated at the wall clock; a new
 * alert is sent at once, a firing one again every resend_interval (with
 * endsAt four intervals ahead, so Alertmanager resolves it by itself if
 * this agent goes away), a resolved one once with endsAt = now.  Each alert
 * carries alertname, the group_by values and the rule's labels;
 * annotations hold the rule's, the condition, the count, the newest
 * matching lines and a `sluice consume` command line replaying the window.
 *
 * Restart: windows, last-seen times and firing alerts (with their startsAt)
 * live in the output's state directory, written atomically after every
 * flush and every change, together with the last spool entry evaluated per
 * (topic, partition): entries the spool hands over again after a crash are
 * not counted twice, a firing alert is resent unchanged (Alertmanager sees
 * the same alert, not a new one) and an absence keeps its clock.  A
 * resolution not yet sent when the agent dies is not sent again:
 * Alertmanager resolves the alert at its endsAt.
 *
 * Records are consumed (FLUSH_OK) once counted: alert evaluation is the
 * delivery, the POSTs have their own retries.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "agent/net/http_client.h"
#include "agent/plugin.h"
#include "lib/alert.h"
#include "lib/clock.h"
#include "lib/codec.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/mem.h"

#define STATE_NAME "alerts.state"
#define MAX_LANES 4096

struct out_am_conf {
	char *url;
	char *rules;
	int64_t resend_interval;
	int64_t eval_interval;
	char *store_url;
	int64_t max_keys;
};

static const struct cfg_option out_am_opts[] = {
	{.name = "url",
	 .type = CFG_STRING,
	 .offset = offsetof(struct out_am_conf, url),
	 .flags = CFG_REQUIRED,
	 .help = "Alertmanager base URL (http://host:9093)"},
	{.name = "rules",
	 .type = CFG_STRING,
	 .offset = offsetof(struct out_am_conf, rules),
	 .flags = CFG_REQUIRED,
	 .help = "rules file (see docs/AGENT.md, Alert rules)"},
	{.name = "resend_interval",
	 .type = CFG_DURATION,
	 .offset = offsetof(struct out_am_conf, resend_interval),
	 .def = "1m",
	 .min = 100,
	 .max = 86400000,
	 .help = "how often a firing alert is sent again"},
	{.name = "eval_interval",
	 .type = CFG_DURATION,
	 .offset = offsetof(struct out_am_conf, eval_interval),
	 .def = "1s",
	 .min = 50,
	 .max = 600000,
	 .help = "how often the rules are evaluated"},
	{.name = "store_url",
	 .type = CFG_STRING,
	 .offset = offsetof(struct out_am_conf, store_url),
	 .def = "http://127.0.0.1:8470",
	 .help = "store named in the replay command line"},
	{.name = "max_keys",
	 .type = CFG_INT,
	 .offset = offsetof(struct out_am_conf, max_keys),
	 .def = "10000",
	 .min = 1,
	 .max = 1000000,
	 .help = "(rule, group) keys tracked"},
	CFG_OPT_END,
};

struct am_lane {
	char *topic;
	int32_t partition;
	uint64_t last;
};

struct out_am {
	const struct out_am_conf *conf;
	struct evloop *loop;
	char id[128];
	char *state_dir;
	struct alert_rules *rules;
	struct alert_engine *eng;
	struct codec_ctx *cc;
	struct http_client *http;
	struct http_client_opts hopts;
	struct http_client_req *req;
	struct evloop_timer tick;
	struct am_lane *lanes;
	size_t nlanes;
	struct buf body;      /* the request being built or in flight */
	struct buf resolved;  /* resolved alerts not yet delivered, JSON objects */
	size_t resolved_sent; /* bytes of resolved that the request carries */
	size_t nbody;
	bool dirty;
	bool resend_all; /* the last POST failed: send every firing alert */
	int64_t now;
	uint64_t sent, send_errors, fired, resolved_n, skipped;
};

/* ------------------------------------------------------------ state */

static void state_save(struct out_am *a)
{
	struct buf b;
	int rc = 0;

	if (!a->state_dir)
		return;
	buf_init(&b, (size_t)256 << 20);
	for (size_t i = 0; i < a->nlanes && !rc; i++)
		rc = buf_printf(&b, "L %" PRId32 " %" PRIu64 " %s\n", a->lanes[i].partition,
				a->lanes[i].last, a->lanes[i].topic);
	rc = rc ? rc : alert_engine_save(a->eng, &b);
	if (!rc)
		rc = fs_write_atomic(a->state_dir, STATE_NAME, b.data, b.len);
	if (rc)
		log_warn("output %s: cannot save the alert state: %s", a->id, err_str(rc));
	else
		a->dirty = false;
	buf_release(&b);
}

static struct am_lane *lane_find(struct out_am *a, const char *topic, int32_t p, bool create)
{
	struct am_lane *l;

	for (size_t i = 0; i < a->nlanes; i++)
		if (a->lanes[i].partition == p && !strcmp(a->lanes[i].topic, topic))
			return &a->lanes[i];
	if (!create || a->nlanes == MAX_LANES)
		return NULL;
	l = mem_realloc(a->lanes, (a->nlanes + 1) * sizeof(*l));
	if (!l)
		return NULL;
	a->lanes = l;
	l = &a->lanes[a->nlanes];
	l->topic = mem_strdup(topic);
	if (!l->topic)
		return NULL;
	l->partition = p;
	l->last = 0;
	a->nlanes++;
	return l;
}

static void state_load(struct out_am *a)
{
	char path[4096];
	struct buf b;
	const char *p, *end;
	size_t keys;

	if (!a->state_dir)
		return;
	snprintf(path, sizeof(path), "%s/%s", a->state_dir, STATE_NAME);
	buf_init(&b, (size_t)256 << 20);
	if (fs_read_file(path, &b) < 0) {
		buf_release(&b);
		return;
	}
	p = (const char *)b.data;
	end = p + b.len;
	while (p < end && p[0] == 'L') {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		char topic[256];
		int32_t part;
		uint64_t last;
		struct am_lane *l;

		if (!nl)
			break;
		if (sscanf(p, "L %" SCNd32 " %" SCNu64 " %255s", &part, &last, topic) == 3) {
			l = lane_find(a, topic, part, true);
			if (l)
				l->last = last;
		}
		p = nl + 1;
	}
	keys = alert_engine_load(a->eng, p, (size_t)(end - p));
	log_info("output %s: alert state restored: %zu keys, %zu lanes", a->id, keys, a->nlanes);
	buf_release(&b);
}

/* ------------------------------------------------------------ alerts */

/* A label name from a field name: [a-zA-Z_][a-zA-Z0-9_]*. */
static void label_name(const char *s, char *out, size_t cap)
{
	size_t n = 0;

	for (; *s && n + 1 < cap; s++) {
		bool ok = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' ||
			  (n && *s >= '0' && *s <= '9');

		out[n++] = ok ? *s : '_';
	}
	out[n] = '\0';
}

static int shell_quote(struct buf *b, const char *s)
{
	int rc = buf_append_u8(b, '\'');

	for (; s && *s && !rc; s++)
		rc = *s == '\'' ? buf_append_str(b, "'\\''") : buf_append_u8(b, (uint8_t)*s);
	return rc ? rc : buf_append_u8(b, '\'');
}

static int replay_line(struct out_am *a, const struct alert_view *v, int64_t to, struct buf *o)
{
	const struct alert_expr *e = alert_rule_expr(a->rules, v->rule);
	const char *m = alert_rule_match(a->rules, v->rule);
	char t1[40], t2[40];
	int rc;

	clock_fmt_rfc3339(v->starts_at - e->window_ms, t1, sizeof(t1));
	clock_fmt_rfc3339(to, t2, sizeof(t2));
	rc = buf_printf(o, "sluice --store %s consume %s --from-time %s --to-time %s",
			a->conf->store_url, v->topic ? v->topic : "TOPIC", t1, t2);
	if (!rc && m && *m) {
		rc = buf_append_str(o, " --grep ");
		rc = rc ? rc : shell_quote(o, m);
	}
	return rc;
}

static int kv(struct buf *b, bool *first, const char *k, const char *v)
{
	int rc = json_key(b, first, k);

	return rc ? rc : json_cstr(b, v ? v : "");
}

static int annotations(struct out_am *a, const struct alert_view *v, int64_t to, struct buf *b)
{
	struct buf s;
	char cond[96], cnt[32];
	bool first = true;
	int rc = 0;

	buf_init(&s, 1 << 20);
	for (size_t j = 0; j < alert_rule_nlabels(a->rules, v->rule, true) && !rc; j++) {
		const char *k, *val;

		alert_rule_label(a->rules, v->rule, true, j, &k, &val);
		rc = kv(b, &first, k, val);
	}
	alert_expr_format(alert_rule_expr(a->rules, v->rule), cond, sizeof(cond));
	snprintf(cnt, sizeof(cnt), "%" PRIu64, v->count);
	rc = rc ? rc : kv(b, &first, "condition", cond);
	rc = rc ? rc : kv(b, &first, "count", cnt);
	for (size_t j = 0; j < ALERT_SAMPLES && v->samples[j] && !rc; j++) {
		rc = j ? buf_append_u8(&s, '\n') : 0;
		rc = rc ? rc : buf_append_str(&s, v->samples[j]);
	}
	rc = rc ? rc : buf_append_u8(&s, 0);
	rc = rc ? rc : kv(b, &first, "samples", (const char *)s.data);
	buf_reset(&s);
	rc = rc ? rc : replay_line(a, v, to, &s);
	rc = rc ? rc : buf_append_u8(&s, 0);
	rc = rc ? rc : kv(b, &first, "replay", (const char *)s.data);
	buf_release(&s);
	return rc;
}

/* One alert object of the POST body. */
static int alert_json(struct out_am *a, const struct alert_view *v, bool resolved, struct buf *b)
{
	int64_t ends = resolved ? v->ends_at : a->now + 4 * a->conf->resend_interval;
	char ts[40], name[128];
	bool first = true;
	int rc = buf_append_str(b, "{\"labels\":{");

	rc = rc ? rc : kv(b, &first, "alertname", v->name);
	for (size_t j = 0; j < v->ngroup && !rc; j++) {
		label_name(v->group_keys[j], name, sizeof(name));
		rc = kv(b, &first, name, v->group_vals[j]);
	}
	for (size_t j = 0; j < alert_rule_nlabels(a->rules, v->rule, false) && !rc; j++) {
		const char *k, *val;

		alert_rule_label(a->rules, v->rule, false, j, &k, &val);
		rc = kv(b, &first, k, val);
	}
	rc = rc ? rc : buf_append_str(b, "},\"annotations\":{");
	rc = rc ? rc : annotations(a, v, resolved ? v->ends_at : a->now, b);
	clock_fmt_rfc3339(v->starts_at, ts, sizeof(ts));
	rc = rc ? rc : buf_append_str(b, "},\"startsAt\":");
	rc = rc ? rc : json_cstr(b, ts);
	clock_fmt_rfc3339(ends, ts, sizeof(ts));
	rc = rc ? rc : buf_append_str(b, ",\"endsAt\":");
	rc = rc ? rc : json_cstr(b, ts);
	return rc ? rc : buf_append_u8(b, '}');
}

static int body_add(struct buf *b, size_t *n, const struct buf *obj)
{
	int rc = buf_append_u8(b, *n ? ',' : '[');

	(*n)++;
	return rc ? rc : buf_append(b, obj->data, obj->len);
}

static void on_change(void *arg, const struct alert_view *v, enum alert_change c)
{
	struct out_am *a = arg;
	struct buf o;

	a->dirty = true;
	if (c == ALERT_FIRING) {
		a->fired++;
		log_info("output %s: alert %s firing (count %" PRIu64 ")", a->id, v->name,
			 v->count);
		return; /* sent by the resend pass: its slot is 0 */
	}
	a->resolved_n++;
	log_info("output %s: alert %s resolved", a->id, v->name);
	buf_init(&o, 1 << 20);
	if (alert_json(a, v, true, &o) == 0) {
		size_t mark = a->resolved.len;
		int rc = a->resolved.len ? buf_append_u8(&a->resolved, ',') : 0;

		rc = err_first(rc, buf_append(&a->resolved, o.data, o.len));
		if (rc < 0) {
			/* not queued: Alertmanager ends the alert at its endsAt */
			a->resolved.len = mark;
			log_warn("output %s: cannot queue the resolution of %s: %s", a->id, v->name,
				 err_str(rc));
		}
	}
	buf_release(&o);
}

static void on_firing(void *arg, const struct alert_view *v, int64_t *slot)
{
	struct out_am *a = arg;
	struct buf o;

	if (!a->resend_all && *slot && a->now - *slot < a->conf->resend_interval)
		return;
	buf_init(&o, 1 << 20);
	if (alert_json(a, v, false, &o) == 0) {
		body_add(&a->body, &a->nbody, &o);
		*slot = a->now;
		a->dirty = true;
	}
	buf_release(&o);
}

static void on_posted(struct http_client_req *r, void *arg)
{
	struct out_am *a = arg;
	int st = http_client_req_result(r) == 0 ? http_client_req_status(r) : 0;

	if (st >= 200 && st < 300) {
		a->sent += a->nbody;
		a->resend_all = false;
		/* resolutions appended meanwhile stay for the next request */
		memmove(a->resolved.data, a->resolved.data + a->resolved_sent,
			a->resolved.len - a->resolved_sent);
		a->resolved.len -= a->resolved_sent;
		if (a->resolved.len && a->resolved.data[0] == ',') {
			memmove(a->resolved.data, a->resolved.data + 1, a->resolved.len - 1);
			a->resolved.len--;
		}
	} else {
		a->send_errors++;
		a->resend_all = true;
		log_warn("output %s: POST /api/v2/alerts: %s", a->id,
			 st ? "refused" : http_client_req_error(r));
	}
	a->resolved_sent = 0;
	http_client_req_free(r);
	a->req = NULL;
}

static void on_tick(struct evloop_timer *t)
{
	struct out_am *a = t->data;

	a->now = clock_wall_ms();
	alert_engine_eval(a->eng, a->now, on_change, a);
	if (!a->req) {
		buf_reset(&a->body);
		a->nbody = 0;
		alert_engine_each(a->eng, on_firing, a);
		if (a->resolved.len && buf_append_u8(&a->body, a->nbody ? ',' : '[') == 0 &&
		    buf_append(&a->body, a->resolved.data, a->resolved.len) == 0) {
			a->resolved_sent = a->resolved.len;
			a->nbody++;
		}
		if (a->nbody && buf_append_u8(&a->body, ']') == 0) {
			a->req = http_request(a->http, "POST", "/api/v2/alerts",
					      "Content-Type: application/json\r\n", a->body.data,
					      a->body.len, on_posted, a);
			if (!a->req)
				a->resend_all = true;
		}
	}
	if (a->dirty)
		state_save(a);
}

/* ------------------------------------------------------------ flushes */

static int feed_batch(struct out_am *a, const char *topic, const void *p, size_t n)
{
	struct record_header hdrs[EVENT_MAX_HEADERS + 8];
	struct batch_iter it;
	struct record r;
	int rc;

	rc = batch_iter_init(&it, p, n, a->cc, BATCH_MAX_SIZE, false);
	while (rc == 0 && (rc = batch_iter_next(&it, &r)) == 1) {
		struct record_header_iter hi;
		struct alert_event ev;
		size_t nh = 0;

		record_header_iter_init(&hi, &r);
		while (nh < sizeof(hdrs) / sizeof(hdrs[0]) &&
		       record_header_iter_next(&hi, &hdrs[nh]) == 1)
			nh++;
		ev.ts = r.timestamp;
		ev.value = r.value ? (const char *)r.value : "";
		ev.len = r.value_len > 0 ? (size_t)r.value_len : 0;
		ev.hdrs = hdrs;
		ev.nhdrs = nh;
		ev.topic = topic;
		alert_engine_feed(a->eng, &ev);
		rc = 0;
	}
	batch_iter_release(&it);
	return rc;
}

static enum flush_result out_am_flush(void *ctx, struct flush *f)
{
	struct out_am *a = ctx;
	struct am_lane *l = lane_find(a, f->topic, f->partition, true);

	for (size_t i = 0; i < f->nbatches; i++) {
		const struct flush_batch *b = &f->batches[i];

		if (l && b->resent && b->entry_id <= l->last) {
			a->skipped++; /* counted before a restart */
			continue;
		}
		if (feed_batch(a, f->topic, f->body.data + b->off, b->len) < 0)
			log_warn("output %s: a corrupt batch of %s/%" PRId32 " skipped", a->id,
				 f->topic, f->partition);
		if (l)
			l->last = b->entry_id;
	}
	state_save(a);
	return FLUSH_OK;
}

/* ------------------------------------------------------------ plugin */

static int out_am_init(const struct plugin_args *pa, void **ctx, struct cfg_error *err)
{
	struct out_am *a = mem_calloc(1, sizeof(*a));
	int rc;

	if (!a)
		return -ENOMEM;
	*ctx = a;
	a->conf = pa->conf;
	a->loop = pa->loop;
	snprintf(a->id, sizeof(a->id), "%s", pa->id);
	buf_init(&a->body, (size_t)64 << 20);
	buf_init(&a->resolved, (size_t)32 << 20);
	rc = alert_rules_load(a->conf->rules, &a->rules, err);
	if (rc < 0)
		return rc;
	if (pa->check_only)
		return 0;
	a->eng = alert_engine_new(a->rules, (size_t)a->conf->max_keys);
	a->cc = codec_ctx_new();
	if (!a->eng || !a->cc)
		return -ENOMEM;
	a->hopts.timeout_ms = 10000;
	a->hopts.connect_timeout_ms = 5000;
	a->hopts.tls_verify = true;
	rc = http_client_new(a->loop, a->conf->url, &a->hopts, &a->http);
	if (rc < 0) {
		snprintf(err->msg, sizeof(err->msg), "output %s: url %s: %s", pa->id, a->conf->url,
			 err_str(rc));
		return rc;
	}
	if (pa->state_dir) {
		a->state_dir = mem_strdup(pa->state_dir);
		if (!a->state_dir)
			return -ENOMEM;
		state_load(a);
	}
	return 0;
}

static int out_am_start(void *ctx)
{
	struct out_am *a = ctx;

	evloop_timer_start(a->loop, &a->tick, (uint64_t)a->conf->eval_interval,
			   (uint64_t)a->conf->eval_interval, on_tick, a);
	return 0;
}

static size_t out_am_metrics(void *ctx, struct plugin_metric *m, size_t max)
{
	struct out_am *a = ctx;
	struct alert_engine_stats st = {0};

	if (a->eng)
		alert_engine_stats(a->eng, &st);
	const struct plugin_metric v[] = {
		{"sluice_agent_alerts_firing", "gauge", "Alerts firing now.", st.firing, NULL,
		 NULL},
		{"sluice_agent_alerts_fired_total", "counter", "Alerts that started firing.",
		 a->fired, NULL, NULL},
		{"sluice_agent_alerts_resolved_total", "counter", "Alerts resolved.", a->resolved_n,
		 NULL, NULL},
		{"sluice_agent_alerts_sent_total", "counter", "Alerts posted to Alertmanager.",
		 a->sent, NULL, NULL},
		{"sluice_agent_alerts_send_errors_total", "counter",
		 "POSTs to Alertmanager that failed (retried).", a->send_errors, NULL, NULL},
		{"sluice_agent_alerts_matched_total", "counter", "Rule matches counted.",
		 st.matched, NULL, NULL},
		{"sluice_agent_alerts_keys", "gauge", "(rule, group) keys tracked.", st.keys, NULL,
		 NULL},
		{"sluice_agent_alerts_key_overflow_total", "counter",
		 "Matches dropped because max_keys was reached.", st.overflow, NULL, NULL},
		{"sluice_agent_alerts_replayed_batches_total", "counter",
		 "Batches handed over again after a restart and not counted twice.", a->skipped,
		 NULL, NULL},
	};

	return plugin_metrics_copy(m, max, v, sizeof(v) / sizeof(v[0]));
}

static void out_am_exit(void *ctx)
{
	struct out_am *a = ctx;

	if (!a)
		return;
	evloop_timer_stop(&a->tick);
	if (a->eng && a->dirty)
		state_save(a);
	if (a->req)
		http_client_req_free(a->req);
	http_client_free(a->http);
	alert_engine_free(a->eng);
	alert_rules_free(a->rules);
	codec_ctx_free(a->cc);
	for (size_t i = 0; i < a->nlanes; i++)
		mem_free(a->lanes[i].topic);
	mem_free(a->lanes);
	buf_release(&a->body);
	buf_release(&a->resolved);
	mem_free(a->state_dir);
	mem_free(a);
}

const struct plugin out_alertmanager_plugin = {
	.name = "alertmanager",
	.kind = PLUGIN_OUTPUT,
	.description = "alert rules over the records, alerts to Prometheus Alertmanager",
	.options = out_am_opts,
	.conf_size = sizeof(struct out_am_conf),
	.init = out_am_init,
	.start = out_am_start,
	.flush = out_am_flush,
	.metrics = out_am_metrics,
	.exit = out_am_exit,
};
