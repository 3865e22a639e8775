/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Prometheus text format helpers and the render registry.
 */
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "lib/prom.h"

struct prom_entry {
	prom_render_fn fn;
	void *arg;
};

struct prom_registry {
	pthread_mutex_t lock;
	struct prom_entry *v;
	size_t n;
	size_t cap;
};

struct prom_registry *prom_registry_new(void)
{
	struct prom_registry *r = mem_calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	pthread_mutex_init(&r->lock, NULL);
	return r;
}

void prom_registry_free(struct prom_registry *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->lock);
	mem_free(r->v);
	mem_free(r);
}

int prom_registry_add(struct prom_registry *r, prom_render_fn fn, void *arg)
{
	int rc = 0;

	pthread_mutex_lock(&r->lock);
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 16;
		struct prom_entry *v = mem_realloc(r->v, cap * sizeof(*v));

		if (!v) {
			rc = -ENOMEM;
			goto out;
		}
		r->v = v;
		r->cap = cap;
	}
	r->v[r->n].fn = fn;
	r->v[r->n].arg = arg;
	r->n++;
out:
	pthread_mutex_unlock(&r->lock);
	return rc;
}

void prom_registry_remove(struct prom_registry *r, prom_render_fn fn, void *arg)
{
	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < r->n; i++) {
		if (r->v[i].fn == fn && r->v[i].arg == arg) {
			memmove(r->v + i, r->v + i + 1, (r->n - i - 1) * sizeof(*r->v));
			r->n--;
			break;
		}
	}
	pthread_mutex_unlock(&r->lock);
}

int prom_registry_render(struct prom_registry *r, struct buf *out)
{
	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < r->n; i++)
		r->v[i].fn(out, r->v[i].arg);
	pthread_mutex_unlock(&r->lock);
	return 0;
}

int prom_family(struct buf *out, const char *name, const char *type, const char *help)
{
	return buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

int prom_u64(struct buf *out, const char *name, const char *labels, uint64_t v)
{
	if (labels && *labels)
		return buf_printf(out, "%s{%s} %" PRIu64 "\n", name, labels, v);
	return buf_printf(out, "%s %" PRIu64 "\n", name, v);
}

int prom_i64(struct buf *out, const char *name, const char *labels, int64_t v)
{
	if (labels && *labels)
		return buf_printf(out, "%s{%s} %" PRId64 "\n", name, labels, v);
	return buf_printf(out, "%s %" PRId64 "\n", name, v);
}

int prom_f64(struct buf *out, const char *name, const char *labels, double v)
{
	const char *special = isnan(v) ? "NaN" : isinf(v) ? (v > 0 ? "+Inf" : "-Inf") : NULL;

	if (special)
		return buf_printf(out, "%s%s%s%s %s\n", name, labels && *labels ? "{" : "",
				  labels ? labels : "", labels && *labels ? "}" : "", special);
	if (labels && *labels)
		return buf_printf(out, "%s{%s} %.9g\n", name, labels, v);
	return buf_printf(out, "%s %.9g\n", name, v);
}

char *prom_labels(char *dst, size_t cap, ...)
{
	size_t used = 0;
	const char *k;
	va_list ap;

	if (cap == 0)
		return dst;
	dst[0] = '\0';
	va_start(ap, cap);
	while ((k = va_arg(ap, const char *)) != NULL) {
		const char *v = va_arg(ap, const char *);
		int n = snprintf(dst + used, cap - used, "%s%s=\"", used ? "," : "", k);

		if (n < 0 || (size_t)n >= cap - used)
			break;
		used += (size_t)n;
		for (; v && *v && used + 3 < cap; v++) {
			if (*v == '\\' || *v == '"') {
				dst[used++] = '\\';
				dst[used++] = *v;
			} else if (*v == '\n') {
				dst[used++] = '\\';
				dst[used++] = 'n';
			} else {
				dst[used++] = *v;
			}
		}
		if (used + 2 > cap)
			break;
		dst[used++] = '"';
		dst[used] = '\0';
	}
	va_end(ap);
	return dst;
}
