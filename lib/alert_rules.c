/* SPDX-License-Identifier: Apache-2.0 */
/* Loading and checking alert rule files; see alert.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/alert_int.h"
#include "lib/err.h"
#include "lib/mem.h"

static const struct cfg_option rule_opts[] = {
	{.name = "name",
	 .type = CFG_STRING,
	 .offset = offsetof(struct alert_rule_conf, name),
	 .flags = CFG_REQUIRED,
	 .help = "the alert's name (alertname label)"},
	{.name = "match",
	 .type = CFG_STRING,
	 .offset = offsetof(struct alert_rule_conf, match),
	 .help = "PCRE2 regex on the line or `field` (default: every event)"},
	{.name = "field",
	 .type = CFG_STRING,
	 .offset = offsetof(struct alert_rule_conf, field),
	 .help = "match a parsed (JSON) field or a header instead of the line"},
	{.name = "group_by",
	 .type = CFG_LIST,
	 .offset = offsetof(struct alert_rule_conf, group_by),
	 .help = "fields or headers whose values make separate alerts"},
	{.name = "condition",
	 .type = CFG_STRING,
	 .offset = offsetof(struct alert_rule_conf, condition),
	 .flags = CFG_REQUIRED,
	 .help = "count OP N in DURATION | no events for DURATION"},
	{.name = "labels",
	 .type = CFG_MAP,
	 .offset = offsetof(struct alert_rule_conf, labels),
	 .help = "labels added to the alert"},
	{.name = "annotations",
	 .type = CFG_MAP,
	 .offset = offsetof(struct alert_rule_conf, annotations),
	 .help = "annotations"},
	CFG_OPT_END,
};

void alert_rules_free(struct alert_rules *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		cfg_free(rule_opts, &r->v[i].c);
		pcre2_code_free(r->v[i].re);
	}
	mem_free(r->v);
	mem_free(r);
}

/* err at column col (1-based) of the scalar node n. */
static void error_in(struct cfg_error *err, const struct cfg_node *n, int col, const char *why)
{
	struct cfg_node at = *n;

	at.col += col - 1 + (n->plain ? 0 : 1);
	cfg_error_at(err, &at, "%s", why);
}

static int check_rule(struct alert_rule *r, const struct cfg_node *item, struct cfg_error *err)
{
	const struct cfg_node *cn = cfg_map_get(item, "condition");
	const struct cfg_node *mn = cfg_map_get(item, "match");
	char why[160];
	int col = 1;

	if (alert_expr_parse(r->c.condition, &r->expr, why, sizeof(why), &col) < 0) {
		error_in(err, cn, col, why);
		return -ERR_CONFIG;
	}
	if (r->c.group_by.n > ALERT_GROUP_MAX) {
		cfg_error_at(err, cfg_map_get(item, "group_by"), "at most %d group_by names",
			     ALERT_GROUP_MAX);
		return -ERR_CONFIG;
	}
	if (r->c.match && *r->c.match) {
		int ec;
		PCRE2_SIZE eo;

		r->re = pcre2_compile((PCRE2_SPTR)r->c.match, PCRE2_ZERO_TERMINATED, 0, &ec, &eo,
				      NULL);
		if (!r->re) {
			PCRE2_UCHAR msg[120];

			pcre2_get_error_message(ec, msg, sizeof(msg));
			snprintf(why, sizeof(why), "match: %s", (const char *)msg);
			error_in(err, mn, (int)eo + 1, why);
			return -ERR_CONFIG;
		}
		pcre2_jit_compile(r->re, PCRE2_JIT_COMPLETE);
		re_literal_init(&r->lit, r->c.match);
	}
	return 0;
}

static int load_doc(const struct cfg_doc *doc, struct alert_rules *rs, struct cfg_error *err)
{
	const struct cfg_node *root = cfg_doc_root(doc);
	const struct cfg_node *l =
		root && root->kind == CFGN_MAP ? cfg_map_get(root, "rules") : NULL;

	if (!l || l->kind != CFGN_SEQ || l->n == 0) {
		cfg_error_at(err, l ? l : root, "expected 'rules:', a list of rules");
		return -ERR_CONFIG;
	}
	rs->v = mem_calloc(l->n, sizeof(*rs->v));
	if (!rs->v)
		return -ENOMEM;
	for (size_t i = 0; i < l->n; i++) {
		char path[32];
		int rc;

		snprintf(path, sizeof(path), "rules[%zu]", i);
		if (l->items[i]->kind != CFGN_MAP) {
			cfg_error_at(err, l->items[i], "a rule is a mapping");
			return -ERR_CONFIG;
		}
		rc = cfg_bind(l->items[i], rule_opts, &rs->v[i].c, path, err);
		rs->n = i + 1;
		if (rc < 0)
			return rc;
		rc = check_rule(&rs->v[i], l->items[i], err);
		if (rc < 0)
			return rc;
		for (size_t j = 0; j < i; j++) {
			if (!strcmp(rs->v[j].c.name, rs->v[i].c.name)) {
				cfg_error_at(err, cfg_map_get(l->items[i], "name"),
					     "rule name '%s' used twice", rs->v[i].c.name);
				return -ERR_CONFIG;
			}
		}
	}
	return 0;
}

int alert_rules_load(const char *path, struct alert_rules **out, struct cfg_error *err)
{
	struct alert_rules *rs = mem_calloc(1, sizeof(*rs));
	struct cfg_doc *doc;
	int rc;

	*out = NULL;
	if (!rs)
		return -ENOMEM;
	doc = cfg_load_file(path, err);
	if (!doc) {
		mem_free(rs);
		return -ERR_CONFIG;
	}
	rc = load_doc(doc, rs, err);
	cfg_doc_free(doc);
	if (rc < 0) {
		alert_rules_free(rs);
		return rc;
	}
	*out = rs;
	return 0;
}

const char *alert_rule_name(const struct alert_rules *r, size_t i)
{
	return r->v[i].c.name;
}

const struct alert_expr *alert_rule_expr(const struct alert_rules *r, size_t i)
{
	return &r->v[i].expr;
}

const char *alert_rule_match(const struct alert_rules *r, size_t i)
{
	return r->v[i].c.match;
}

size_t alert_rule_nlabels(const struct alert_rules *r, size_t i, bool annotations)
{
	return annotations ? r->v[i].c.annotations.n : r->v[i].c.labels.n;
}

void alert_rule_label(const struct alert_rules *r, size_t i, bool annotations, size_t j,
		      const char **k, const char **v)
{
	const struct cfg_kv *kv = annotations ? &r->v[i].c.annotations : &r->v[i].c.labels;

	*k = kv->keys[j];
	*v = kv->vals[j];
}
