/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sluice topics` (list with offsets, sizes, retention and consumer group
 * lag) and `sluice topic create|alter|delete|describe`.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_source.h"
#include "lib/clock.h"
#include "lib/config.h"
#include "lib/err.h"
#include "lib/jdoc.h"
#include "lib/json.h"
#include "lib/topic_name.h"

#define RESPONSE_MAX (64u << 20)

/* GET/POST/... path; the JSON answer in *doc (status 2xx) or a message. */
static int call(struct cli_ctx *ctx, const char *method, const char *path, const char *body,
		struct buf *raw, struct jdoc **doc, long *status)
{
	char err[600];
	int rc;

	*doc = NULL;
	buf_reset(raw);
	rc = cli_http_request(&ctx->http, method, path, body, body ? strlen(body) : 0, 30000, raw,
			      status, err, sizeof(err));
	if (rc < 0) {
		cli_err("%s", err);
		return CLI_FAIL;
	}
	if (*status >= 300)
		return CLI_FAIL; /* caller words the message */
	if (jdoc_parse(raw->data, raw->len, doc, NULL) < 0) {
		cli_err("unexpected answer to %s %s (not JSON)", method, path);
		return CLI_FAIL;
	}
	return CLI_OK;
}

static void report(long status, const struct buf *raw, const char *what)
{
	char text[600];

	cli_http_error_text(status, raw->data, raw->len, text, sizeof(text));
	if (status == 401 || status == 403)
		cli_err("%s: the store refused the token: %s", what, text);
	else if (status == 404)
		cli_err("%s: unknown topic (%s)", what, text);
	else
		cli_err("%s: %s", what, text);
}

static void fmt_bytes(int64_t v, char *out, size_t cap)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
	double d = (double)v;
	int u = 0;

	if (v < 0) {
		snprintf(out, cap, "unlimited");
		return;
	}
	while (d >= 1024 && u < 5) {
		d /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, cap, "%" PRId64 "B", v);
	else
		snprintf(out, cap, "%.1f%s", d, units[u]);
}

static void fmt_duration(int64_t ms, char *out, size_t cap)
{
	static const struct {
		int64_t ms;
		const char *u;
	} units[] = {{604800000, "w"}, {86400000, "d"}, {3600000, "h"},
		     {60000, "m"},     {1000, "s"},     {1, "ms"}};

	if (ms < 0) {
		snprintf(out, cap, "forever");
		return;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ms >= units[i].ms && ms % units[i].ms == 0) {
			snprintf(out, cap, "%" PRId64 "%s", ms / units[i].ms, units[i].u);
			return;
		}
	}
	snprintf(out, cap, "%" PRId64 "ms", ms);
}

static int64_t num(const struct jnode *obj, const char *key)
{
	int64_t v = -1;

	SLUICE_IGNORE(jnode_i64(jnode_get(obj, key), &v)); /* v stays -1: missing */
	return v;
}

static void print_partitions(const struct jnode *t, bool header)
{
	const struct jnode *parts = jnode_get(t, "partitions");
	const struct jnode *cfg = jnode_get(t, "config");
	const char *name = jnode_str(jnode_get(t, "name"));
	char bytes[32], ret[32], retb[32];

	fmt_duration(num(cfg, "retention_ms"), ret, sizeof(ret));
	fmt_bytes(num(cfg, "retention_bytes"), retb, sizeof(retb));
	if (header)
		printf("%-30s %5s %14s %14s %14s %10s %9s %10s\n", "TOPIC", "PART", "START", "END",
		       "RECORDS", "BYTES", "RETENTION", "RET.BYTES");
	for (size_t i = 0; parts && parts->type == JARR && i < parts->n; i++) {
		const struct jnode *p = &parts->kids[i];
		int64_t start = num(p, "log_start"), end = num(p, "end");

		fmt_bytes(num(p, "bytes"), bytes, sizeof(bytes));
		printf("%-30s %5" PRId64 " %14" PRId64 " %14" PRId64 " %14" PRId64
		       " %10s %9s %10s\n",
		       name ? name : "?", num(p, "partition"), start, end, end - start, bytes, ret,
		       retb);
	}
}

/* Groups with lag, when the store serves them (501/404: it does not). */
static int fetch_groups(struct cli_ctx *ctx, struct buf *raw, struct jdoc **doc)
{
	long status = 0;
	int rc = call(ctx, "GET", "/v1/groups", NULL, raw, doc, &status);

	if (rc == CLI_OK)
		return CLI_OK;
	if (status == 501 || status == 404) {
		if (ctx->verbose)
			cli_err("consumer groups: not served by this store");
		return CLI_OK;
	}
	if (status)
		report(status, raw, "groups");
	return CLI_FAIL;
}

static void print_groups(const struct jnode *root)
{
	const struct jnode *groups = jnode_get(root, "groups");
	bool header = false;

	for (size_t g = 0; groups && groups->type == JARR && g < groups->n; g++) {
		const struct jnode *grp = &groups->kids[g], *offs = jnode_get(grp, "offsets");
		const char *gname = jnode_str(jnode_get(grp, "group"));

		for (size_t i = 0; offs && offs->type == JARR && i < offs->n; i++) {
			const struct jnode *o = &offs->kids[i];
			const char *topic = jnode_str(jnode_get(o, "topic"));

			if (!header) {
				printf("\n%-30s %-30s %5s %14s %14s %12s\n", "GROUP", "TOPIC",
				       "PART", "COMMITTED", "END", "LAG");
				header = true;
			}
			printf("%-30s %-30s %5" PRId64 " %14" PRId64 " %14" PRId64 " %12" PRId64
			       "\n",
			       gname ? gname : "?", topic ? topic : "?", num(o, "partition"),
			       num(o, "committed"), num(o, "end"), num(o, "lag"));
		}
	}
}

int cli_topics_main(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"names", no_argument, NULL, 'N'},
		{"help", no_argument, NULL, 'h'},
		CLI_GLOBAL_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	struct buf raw, graw;
	struct jdoc *doc = NULL, *gdoc = NULL;
	bool json = false, names = false;
	long status = 0;
	int c, rc;

	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		if (c == 'j') {
			json = true;
		} else if (c == 'N') {
			names = true;
		} else if (c == 'h') {
			cli_help_command("topics", stdout);
			return CLI_OK;
		} else if (!cli_global_opt(ctx, c, optarg)) {
			cli_help_command("topics", stderr);
			return CLI_USAGE;
		}
	}
	if (optind < argc) {
		cli_err("topics: unexpected argument '%s'", argv[optind]);
		return CLI_USAGE;
	}
	rc = cli_connect(ctx);
	if (rc != CLI_OK)
		return rc;
	buf_init(&raw, RESPONSE_MAX);
	buf_init(&graw, RESPONSE_MAX);
	rc = call(ctx, "GET", "/v1/topics", NULL, &raw, &doc, &status);
	if (rc != CLI_OK) {
		if (status)
			report(status, &raw, "topics");
		goto out;
	}
	if (names) {
		const struct jnode *topics = jnode_get(jdoc_root(doc), "topics");

		for (size_t i = 0; topics && topics->type == JARR && i < topics->n; i++) {
			const char *nm = jnode_str(jnode_get(&topics->kids[i], "name"));

			if (nm)
				printf("%s\n", nm);
		}
		rc = fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
		goto out;
	}
	rc = fetch_groups(ctx, &graw, &gdoc);
	if (rc != CLI_OK)
		goto out;
	if (json) {
		/* the API's own objects, so scripts see the documented schema */
		const struct jnode *t = jnode_get(jdoc_root(doc), "topics");
		const struct jnode *g = gdoc ? jnode_get(jdoc_root(gdoc), "groups") : NULL;

		buf_reset(&raw);
		if (buf_append_str(&raw, "{\"topics\":") < 0 ||
		    (t ? jnode_write(&raw, t) : buf_append_str(&raw, "[]")) < 0 ||
		    buf_append_str(&raw, ",\"groups\":") < 0 ||
		    (g ? jnode_write(&raw, g) : buf_append_str(&raw, "null")) < 0 ||
		    buf_append_str(&raw, "}\n") < 0) {
			cli_err("topics: output too large");
			rc = CLI_FAIL;
			goto out;
		}
		fwrite(raw.data, 1, raw.len, stdout);
	} else {
		const struct jnode *topics = jnode_get(jdoc_root(doc), "topics");

		for (size_t i = 0; topics && topics->type == JARR && i < topics->n; i++)
			print_partitions(&topics->kids[i], i == 0);
		if (!topics || topics->n == 0)
			printf("no topics\n");
		if (gdoc)
			print_groups(jdoc_root(gdoc));
	}
	rc = fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
out:
	jdoc_free(doc);
	jdoc_free(gdoc);
	buf_release(&raw);
	buf_release(&graw);
	return rc;
}

/* ---------------------------------------------------------------- topic */

struct topic_opts {
	int64_t partitions;
	int64_t retention_ms;
	int64_t retention_bytes;
	int64_t segment_bytes;
	int64_t max_batch_bytes;
	bool set[5];
};

static int parse_size_opt(const char *arg, const char *name, bool unlimited_ok, int64_t *out)
{
	uint64_t v;

	if (unlimited_ok && (strcmp(arg, "unlimited") == 0 || strcmp(arg, "-1") == 0)) {
		*out = -1;
		return 0;
	}
	if (cfg_parse_size(arg, &v) < 0 || v == 0 || v > (uint64_t)INT64_MAX) {
		cli_err("%s: '%s' is not a size (like 512MiB, 10GB)%s", name, arg,
			unlimited_ok ? " or 'unlimited'" : "");
		return -ERR_INVALID;
	}
	*out = (int64_t)v;
	return 0;
}

static int build_body(const char *name, const struct topic_opts *o, struct buf *b)
{
	static const char *const keys[5] = {"partitions", "retention_ms", "retention_bytes",
					    "segment_bytes", "max_batch_bytes"};
	const int64_t vals[5] = {o->partitions, o->retention_ms, o->retention_bytes,
				 o->segment_bytes, o->max_batch_bytes};
	bool first = true;
	int rc = buf_append_u8(b, '{');

	if (rc == 0 && name) {
		rc = json_key(b, &first, "name");
		if (rc == 0)
			rc = json_cstr(b, name);
	}
	for (int i = 0; i < 5 && rc == 0; i++) {
		if (!o->set[i])
			continue;
		rc = json_key(b, &first, keys[i]);
		if (rc == 0)
			rc = json_i64(b, vals[i]);
	}
	if (rc == 0)
		rc = buf_append_u8(b, '}');
	if (rc == 0)
		rc = buf_cstr(b);
	return rc;
}

static int topic_describe(struct cli_ctx *ctx, const char *name, bool json)
{
	char path[320];
	struct buf raw;
	struct jdoc *doc = NULL;
	long status = 0;
	int rc;

	buf_init(&raw, RESPONSE_MAX);
	snprintf(path, sizeof(path), "/v1/topics/%s", name);
	rc = call(ctx, "GET", path, NULL, &raw, &doc, &status);
	if (rc != CLI_OK) {
		if (status)
			report(status, &raw, name);
	} else if (json) {
		fwrite(raw.data, 1, raw.len, stdout);
	} else {
		print_partitions(jdoc_root(doc), true);
	}
	jdoc_free(doc);
	buf_release(&raw);
	return rc;
}

/* One option of `sluice topic`.  CLI_OK, CLI_USAGE, or -1 after printing
 * help. */
static int topic_parse_opt(struct cli_ctx *ctx, struct topic_opts *o, bool *json, int c,
			   const char *arg)
{
	switch (c) {
	case 'p':
		if (cfg_parse_int(arg, &o->partitions) < 0 || o->partitions < 1 ||
		    o->partitions > 100000) {
			cli_err("--partitions: '%s' is not a count from 1 to 100000", arg);
			return CLI_USAGE;
		}
		o->set[0] = true;
		return CLI_OK;
	case 'r':
		if (strcmp(arg, "forever") == 0 || strcmp(arg, "-1") == 0) {
			o->retention_ms = -1;
		} else if (clock_parse_duration(arg, &o->retention_ms) < 0 ||
			   o->retention_ms <= 0) {
			cli_err("--retention: '%s' is not a duration (like 7d, 12h, 90m) or "
				"'forever'",
				arg);
			return CLI_USAGE;
		}
		o->set[1] = true;
		return CLI_OK;
	case 'R':
		if (parse_size_opt(arg, "--retention-bytes", true, &o->retention_bytes) < 0)
			return CLI_USAGE;
		o->set[2] = true;
		return CLI_OK;
	case 's':
		if (parse_size_opt(arg, "--segment-bytes", false, &o->segment_bytes) < 0)
			return CLI_USAGE;
		o->set[3] = true;
		return CLI_OK;
	case 'm':
		if (parse_size_opt(arg, "--max-batch-bytes", false, &o->max_batch_bytes) < 0)
			return CLI_USAGE;
		o->set[4] = true;
		return CLI_OK;
	case 'j':
		*json = true;
		return CLI_OK;
	case 'h':
		cli_help_command("topic", stdout);
		return -1;
	default:
		if (!cli_global_opt(ctx, c, arg)) {
			cli_help_command("topic", stderr);
			return CLI_USAGE;
		}
	}
	return CLI_OK;
}

/* create, alter or delete NAME with method (the store is connected). */
static int topic_change(struct cli_ctx *ctx, const char *verb, const char *name, const char *method,
			const struct topic_opts *o, bool json)
{
	char path[320], what[300];
	struct buf body, raw;
	struct jdoc *doc = NULL;
	long status = 0;
	int rc;

	buf_init(&body, 4096);
	buf_init(&raw, RESPONSE_MAX);
	if (strcmp(verb, "create") == 0)
		snprintf(path, sizeof(path), "/v1/topics");
	else
		snprintf(path, sizeof(path), "/v1/topics/%s", name);
	snprintf(what, sizeof(what), "topic %s %s", verb, name);
	if (strcmp(verb, "alter") == 0) {
		/* alter must not create: PUT would */
		char p2[320];

		snprintf(p2, sizeof(p2), "/v1/topics/%s", name);
		rc = call(ctx, "GET", p2, NULL, &raw, &doc, &status);
		jdoc_free(doc);
		doc = NULL;
		if (rc != CLI_OK) {
			if (status)
				report(status, &raw, what);
			goto out;
		}
	}
	if (strcmp(verb, "delete") != 0 &&
	    build_body(strcmp(verb, "create") == 0 ? name : NULL, o, &body) < 0) {
		rc = CLI_FAIL;
		goto out;
	}
	rc = call(ctx, method, path, strcmp(verb, "delete") == 0 ? NULL : (char *)body.data, &raw,
		  &doc, &status);
	if (rc != CLI_OK) {
		if (status == 409)
			cli_err("%s: the topic already exists", what);
		else if (status)
			report(status, &raw, what);
		goto out;
	}
	if (json)
		fwrite(raw.data, 1, raw.len, stdout);
	else if (strcmp(verb, "delete") == 0)
		printf("deleted topic %s\n", name);
	else
		print_partitions(jdoc_root(doc), true);
out:
	jdoc_free(doc);
	buf_release(&body);
	buf_release(&raw);
	return rc;
}

int cli_topic_main(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{"partitions", required_argument, NULL, 'p'},
		{"retention", required_argument, NULL, 'r'},
		{"retention-bytes", required_argument, NULL, 'R'},
		{"segment-bytes", required_argument, NULL, 's'},
		{"max-batch-bytes", required_argument, NULL, 'm'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		CLI_GLOBAL_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	struct topic_opts o;
	const char *verb, *name, *method;
	bool json = false;
	int c, rc;

	memset(&o, 0, sizeof(o));
	while ((c = getopt_long(argc, argv, "p:r:R:s:m:jh", opts, NULL)) != -1) {
		rc = topic_parse_opt(ctx, &o, &json, c, optarg);
		if (rc < 0)
			return CLI_OK;
		if (rc != CLI_OK)
			return rc;
	}
	if (argc - optind != 2) {
		cli_err("topic: expected 'create|alter|delete|describe NAME' (see sluice topic --help)");
		return CLI_USAGE;
	}
	verb = argv[optind];
	name = argv[optind + 1];
	if (!topic_name_valid(name)) {
		cli_err("'%s' is not a valid topic name (1-249 of a-z A-Z 0-9 . _ -)", name);
		return CLI_USAGE;
	}
	if (strcmp(verb, "create") == 0) {
		method = "POST";
	} else if (strcmp(verb, "alter") == 0) {
		method = "PUT";
		if (!o.set[0] && !o.set[1] && !o.set[2] && !o.set[3] && !o.set[4]) {
			cli_err("topic alter: nothing to change (give --partitions, --retention, ...)");
			return CLI_USAGE;
		}
	} else if (strcmp(verb, "delete") == 0) {
		method = "DELETE";
	} else if (strcmp(verb, "describe") == 0) {
		rc = cli_connect(ctx);
		return rc != CLI_OK ? rc : topic_describe(ctx, name, json);
	} else {
		cli_err("topic: unknown action '%s' (create, alter, delete or describe)", verb);
		return CLI_USAGE;
	}
	rc = cli_connect(ctx);
	if (rc != CLI_OK)
		return rc;
	return topic_change(ctx, verb, name, method, &o, json);
}
