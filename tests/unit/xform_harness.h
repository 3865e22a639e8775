/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test harness for parser and filter plugins: bind a plugin's options from a
 * YAML snippet, init it, and run events through its filter() as the pipeline
 * does.  Used by test_parsers.c and test_filters.c.
 */
#ifndef SLUICE_TESTS_XFORM_HARNESS_H
#define SLUICE_TESTS_XFORM_HARNESS_H

#include <string.h>

#include "agent/plugin.h"
#include "lib/config.h"
#include "lib/mem.h"
#include "tests/unit/unit.h"

struct xf {
	const struct plugin *p;
	struct cfg_doc *doc;
	void *conf;
	void *ctx;
	struct buf scratch;
	struct event ev;
	int init_rc;
};

static inline int xf_open(struct xf *x, const struct plugin *p, const char *yaml)
{
	struct cfg_error err;
	struct plugin_args a;
	int rc;

	memset(x, 0, sizeof(*x));
	memset(&err, 0, sizeof(err));
	x->p = p;
	buf_init(&x->scratch, 1 << 20);
	x->conf = mem_calloc(1, p->conf_size ? p->conf_size : 1);
	x->doc = cfg_load_string("t.yaml", yaml, strlen(yaml), &err);
	if (!x->doc)
		return -1;
	rc = cfg_bind(cfg_doc_root(x->doc), p->options, x->conf, "f", &err);
	if (rc < 0)
		return rc;
	memset(&a, 0, sizeof(a));
	a.id = "t";
	a.conf = x->conf;
	a.host = "h";
	x->init_rc = p->init(&a, &x->ctx, &err);
	return x->init_rc;
}

static inline void xf_close(struct xf *x)
{
	if (x->ctx && x->p->exit)
		x->p->exit(x->ctx);
	if (x->conf)
		cfg_free(x->p->options, x->conf);
	mem_free(x->conf);
	cfg_doc_free(x->doc);
	buf_release(&x->scratch);
}

/* Run one event with value s; returns the verdict, the result in x->ev. */
static inline enum filter_verdict xf_run(struct xf *x, const char *s)
{
	memset(&x->ev, 0, sizeof(x->ev));
	x->ev.ts = 42;
	x->ev.value = s;
	x->ev.value_len = strlen(s);
	buf_reset(&x->scratch);
	return x->p->filter(x->ctx, &x->ev, &x->scratch);
}

static inline int xf_value_is(const struct xf *x, const char *s)
{
	return x->ev.value_len == strlen(s) && memcmp(x->ev.value, s, x->ev.value_len) == 0;
}

/* Header value as a NUL-terminated copy in out (or "" when absent: returns 0). */
static inline int xf_header(const struct xf *x, const char *key, char *out, size_t cap)
{
	size_t kl = strlen(key);

	out[0] = '\0';
	for (size_t i = 0; i < x->ev.nheaders; i++) {
		const struct record_header *h = &x->ev.headers[i];

		if ((size_t)h->key_len == kl && memcmp(h->key, key, kl) == 0) {
			size_t n = (size_t)h->value_len < cap - 1 ? (size_t)h->value_len : cap - 1;

			memcpy(out, h->value, n);
			out[n] = '\0';
			return 1;
		}
	}
	return 0;
}

static inline uint64_t xf_metric(const struct xf *x, const char *name)
{
	struct plugin_metric m[PLUGIN_METRICS_MAX];
	size_t n = x->p->metrics(x->ctx, m, PLUGIN_METRICS_MAX);

	for (size_t i = 0; i < n; i++)
		if (strcmp(m[i].name, name) == 0)
			return m[i].value;
	return UINT64_MAX;
}

#endif
