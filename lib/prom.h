/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Prometheus text exposition (format 0.0.4).  Modules register a render
 * callback with a registry; GET /metrics calls prom_registry_render(), which
 * runs every callback in registration order.  A callback writes whole metric
 * families: prom_family() once (HELP and TYPE), then prom_u64()/prom_f64()
 * samples.  Label values are escaped by prom_labels().
 *
 * The page is best effort: a render callback returns nothing, and a sample
 * line that does not fit in out is left out whole (buf_printf appends all or
 * nothing), so prom_family() and the sample writers are not SLUICE_MUST_CHECK
 * and prom_registry_render() always returns 0.
 *
 * The registry is thread-safe (a mutex around registration and rendering);
 * callbacks must read their counters thread-safely (atomics or their own
 * lock).
 */
#ifndef SLUICE_PROM_H
#define SLUICE_PROM_H

#include <stdint.h>

#include "lib/buf.h"
#include "lib/check.h"

struct prom_registry;

typedef void (*prom_render_fn)(struct buf *out, void *arg);

struct prom_registry *prom_registry_new(void);
void prom_registry_free(struct prom_registry *r);
/* 0 or -ENOMEM.  arg is borrowed and must outlive the registration. */
SLUICE_MUST_CHECK int prom_registry_add(struct prom_registry *r, prom_render_fn fn, void *arg);
void prom_registry_remove(struct prom_registry *r, prom_render_fn fn, void *arg);
int prom_registry_render(struct prom_registry *r, struct buf *out);

/* "# HELP name help\n# TYPE name type\n"; type is counter, gauge, histogram. */
int prom_family(struct buf *out, const char *name, const char *type, const char *help);
/* name{labels} value\n; labels is NULL or preformatted by prom_labels(). */
int prom_u64(struct buf *out, const char *name, const char *labels, uint64_t v);
int prom_i64(struct buf *out, const char *name, const char *labels, int64_t v);
int prom_f64(struct buf *out, const char *name, const char *labels, double v);
/* Format k="v",k2="v2" pairs (NULL-terminated key,value list) into dst,
 * escaping backslash, quote and newline.  Returns dst. */
char *prom_labels(char *dst, size_t cap, ...);

#endif
