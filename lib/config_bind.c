/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Option-table binding (lib/config.h): scalar parsers, defaults, binding a
 * mapping of the loaded YAML tree onto a struct through its cfg_option
 * table (every error at file:line:column), freeing and --help.  Loading the
 * YAML into that tree is lib/config.c.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/config.h"
#include "lib/err.h"
#include "lib/mem.h"

int cfg_parse_int(const char *s, int64_t *v)
{
	const char *digits = s + (*s == '-' || *s == '+');
	int base = 10;
	char *end;
	long long r;

	if (!*s || isspace((unsigned char)*s))
		return -ERR_INVALID;
	/* Decimal, or hex with 0x: never strtoll's base 0, which reads a
	 * leading zero as octal ("010" would be 8). */
	if (digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X'))
		base = 16;
	errno = 0;
	r = strtoll(s, &end, base);
	if (errno || *end)
		return -ERR_INVALID;
	*v = r;
	return 0;
}

int cfg_parse_bool(const char *s, bool *v)
{
	static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes",
					  "YES",  "on",   "On",   "ON"};
	static const char *const no[] = {"false", "False", "FALSE", "no", "No",
					 "NO",    "off",   "Off",   "OFF"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(s, yes[i]) == 0) {
			*v = true;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*v = false;
			return 0;
		}
	}
	return -ERR_INVALID;
}

int cfg_parse_size(const char *s, uint64_t *v)
{
	static const struct {
		const char *unit;
		uint64_t mult;
	} units[] = {
		{"", 1},
		{"B", 1},
		{"K", 1ull << 10},
		{"KiB", 1ull << 10},
		{"KB", 1000},
		{"M", 1ull << 20},
		{"MiB", 1ull << 20},
		{"MB", 1000000},
		{"G", 1ull << 30},
		{"GiB", 1ull << 30},
		{"GB", 1000000000},
		{"T", 1ull << 40},
		{"TiB", 1ull << 40},
		{"TB", 1000000000000ull},
	};
	uint64_t n = 0;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -ERR_INVALID;
	while (isdigit((unsigned char)*p)) {
		if (n > (UINT64_MAX - 9) / 10)
			return -ERR_INVALID;
		n = n * 10 + (uint64_t)(*p++ - '0');
	}
	while (*p == ' ')
		p++;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(p, units[i].unit) == 0) {
			if (n > UINT64_MAX / units[i].mult)
				return -ERR_INVALID;
			*v = n * units[i].mult;
			return 0;
		}
	}
	return -ERR_INVALID;
}

static const char *type_name(enum cfg_type t)
{
	switch (t) {
	case CFG_STRING:
		return "string";
	case CFG_INT:
		return "integer";
	case CFG_BOOL:
		return "bool";
	case CFG_SIZE:
		return "size";
	case CFG_DURATION:
		return "duration";
	case CFG_ENUM:
		return "enum";
	case CFG_LIST:
		return "list";
	case CFG_MAP:
		return "map";
	case CFG_SECTION:
		return "section";
	case CFG_NODE:
		return "any";
	case CFG_DOUBLE:
		return "number";
	}
	return "?";
}

static void list_free(struct cfg_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		mem_free(l->v[i]);
	mem_free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void kv_free(struct cfg_kv *m)
{
	for (size_t i = 0; i < m->n; i++) {
		mem_free(m->keys[i]);
		mem_free(m->vals[i]);
	}
	mem_free(m->keys);
	mem_free(m->vals);
	m->keys = NULL;
	m->vals = NULL;
	m->n = 0;
}

static void choices_text(const struct cfg_option *o, char *out, size_t cap)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; o->choices && o->choices[i]; i++) {
		int n = snprintf(out + used, cap - used, "%s%s", i ? ", " : "", o->choices[i]);

		if (n < 0 || (size_t)n >= cap - used)
			break;
		used += (size_t)n;
	}
}

static int check_range(const struct cfg_option *o, int64_t v, char *why, size_t whylen)
{
	if (o->min < o->max && (v < o->min || v > o->max)) {
		snprintf(why, whylen, "value out of range [%" PRId64 ", %" PRId64 "]", o->min,
			 o->max);
		return -ERR_CONFIG;
	}
	return 0;
}

/* Parse scalar text s for option o into obj.  On error writes why. */
static int set_scalar(const struct cfg_option *o, void *obj, const char *s, char *why,
		      size_t whylen)
{
	void *slot = (char *)obj + o->offset;
	int rc = 0;

	switch (o->type) {
	case CFG_STRING: {
		char *d;

		if (o->check && o->check(s, why, whylen) < 0)
			return -ERR_CONFIG;
		d = mem_strdup(s);
		if (!d)
			return -ENOMEM;
		mem_free(*(char **)slot);
		*(char **)slot = d;
		return 0;
	}
	case CFG_INT: {
		int64_t v;

		if (cfg_parse_int(s, &v) < 0) {
			snprintf(why, whylen, "expected an integer, got '%s'", s);
			return -ERR_CONFIG;
		}
		rc = check_range(o, v, why, whylen);
		if (rc == 0)
			*(int64_t *)slot = v;
		return rc;
	}
	case CFG_BOOL:
		if (cfg_parse_bool(s, (bool *)slot) < 0) {
			snprintf(why, whylen, "expected true or false, got '%s'", s);
			return -ERR_CONFIG;
		}
		return 0;
	case CFG_SIZE: {
		uint64_t v;

		if (cfg_parse_size(s, &v) < 0 || v > INT64_MAX) {
			snprintf(why, whylen,
				 "expected a size such as 512KiB, 64MiB or 1GiB, got '%s'", s);
			return -ERR_CONFIG;
		}
		rc = check_range(o, (int64_t)v, why, whylen);
		if (rc == 0)
			*(uint64_t *)slot = v;
		return rc;
	}
	case CFG_DURATION: {
		int64_t v;

		if (clock_parse_duration(s, &v) < 0) {
			snprintf(why, whylen,
				 "expected a duration such as 250ms, 10s, 5m, 1h or 7d, got '%s'",
				 s);
			return -ERR_CONFIG;
		}
		rc = check_range(o, v, why, whylen);
		if (rc == 0)
			*(int64_t *)slot = v;
		return rc;
	}
	case CFG_ENUM:
		for (int i = 0; o->choices && o->choices[i]; i++) {
			if (strcmp(s, o->choices[i]) == 0) {
				*(int *)slot = i;
				return 0;
			}
		}
		{
			char c[256];

			choices_text(o, c, sizeof(c));
			snprintf(why, whylen, "expected one of: %.160s; got '%.64s'", c, s);
		}
		return -ERR_CONFIG;
	case CFG_DOUBLE: {
		char *end;
		double d;

		errno = 0;
		d = strtod(s, &end);
		if (!*s || errno || *end) {
			snprintf(why, whylen, "expected a number, got '%s'", s);
			return -ERR_CONFIG;
		}
		*(double *)slot = d;
		return 0;
	}
	case CFG_LIST: {
		/* A single scalar is a one-item list. */
		struct cfg_list *l = slot;
		char **v;

		if (o->check && o->check(s, why, whylen) < 0)
			return -ERR_CONFIG;
		v = mem_alloc(sizeof(*v));
		if (!v)
			return -ENOMEM;
		v[0] = mem_strdup(s);
		if (!v[0]) {
			mem_free(v);
			return -ENOMEM;
		}
		list_free(l);
		l->v = v;
		l->n = 1;
		return 0;
	}
	default:
		snprintf(why, whylen, "expected a %s", type_name(o->type));
		return -ERR_CONFIG;
	}
}

static void opt_zero(const struct cfg_option *o, void *obj)
{
	void *slot = (char *)obj + o->offset;

	switch (o->type) {
	case CFG_STRING:
		mem_free(*(char **)slot);
		*(char **)slot = NULL;
		break;
	case CFG_INT:
	case CFG_DURATION:
		*(int64_t *)slot = 0;
		break;
	case CFG_SIZE:
		*(uint64_t *)slot = 0;
		break;
	case CFG_BOOL:
		*(bool *)slot = false;
		break;
	case CFG_ENUM:
		*(int *)slot = 0;
		break;
	case CFG_DOUBLE:
		*(double *)slot = 0;
		break;
	case CFG_LIST:
		list_free(slot);
		break;
	case CFG_MAP:
		kv_free(slot);
		break;
	case CFG_NODE:
		*(const struct cfg_node **)slot = NULL;
		break;
	case CFG_SECTION:
		break;
	}
}

int cfg_defaults(const struct cfg_option *opts, void *obj, struct cfg_error *err)
{
	for (const struct cfg_option *o = opts; o->name; o++) {
		char why[256];
		int rc;

		if (o->type == CFG_SECTION) {
			rc = cfg_defaults(o->sub, (char *)obj + o->offset, err);
			if (rc < 0)
				return rc;
			continue;
		}
		opt_zero(o, obj);
		if (!o->def)
			continue;
		if (o->type == CFG_LIST && o->def[0] == '\0')
			continue; /* "" = empty list */
		rc = set_scalar(o, obj, o->def, why, sizeof(why));
		if (rc < 0) {
			cfg_error_at(err, NULL, "bad built-in default for '%s': %s", o->name, why);
			return -ERR_CONFIG;
		}
	}
	return 0;
}

void cfg_free(const struct cfg_option *opts, void *obj)
{
	for (const struct cfg_option *o = opts; o->name; o++) {
		if (o->type == CFG_SECTION)
			cfg_free(o->sub, (char *)obj + o->offset);
		else
			opt_zero(o, obj);
	}
}

static int set_list(const struct cfg_option *o, void *obj, const struct cfg_node *v,
		    const char *path, struct cfg_error *err)
{
	struct cfg_list *l = (struct cfg_list *)((char *)obj + o->offset);
	struct cfg_list nl = {NULL, 0};
	char why[256];

	nl.v = mem_calloc(v->n ? v->n : 1, sizeof(char *));
	if (!nl.v)
		return -ENOMEM;
	for (size_t i = 0; i < v->n; i++) {
		const struct cfg_node *it = v->items[i];

		if (it->kind != CFGN_SCALAR) {
			cfg_error_at(err, it, "%s[%zu]: expected a string", path, i);
			list_free(&nl);
			return -ERR_CONFIG;
		}
		if (o->check && o->check(it->value, why, sizeof(why)) < 0) {
			cfg_error_at(err, it, "%s[%zu]: %s", path, i, why);
			list_free(&nl);
			return -ERR_CONFIG;
		}
		nl.v[i] = mem_strdup(it->value);
		if (!nl.v[i]) {
			list_free(&nl);
			return -ENOMEM;
		}
		nl.n++;
	}
	list_free(l);
	*l = nl;
	return 0;
}

static int set_kv(const struct cfg_option *o, void *obj, const struct cfg_node *v, const char *path,
		  struct cfg_error *err)
{
	struct cfg_kv *m = (struct cfg_kv *)((char *)obj + o->offset);
	struct cfg_kv nm = {NULL, NULL, 0};
	size_t cnt = v->n ? v->n : 1;

	nm.keys = mem_calloc(cnt, sizeof(char *));
	nm.vals = mem_calloc(cnt, sizeof(char *));
	if (!nm.keys || !nm.vals)
		goto oom;
	for (size_t i = 0; i < v->n; i++) {
		const struct cfg_node *k = cfg_map_key(v, i), *val = cfg_map_value(v, i);

		if (k->kind != CFGN_SCALAR || val->kind != CFGN_SCALAR) {
			cfg_error_at(err, val, "%s.%s: expected a string value", path,
				     k->kind == CFGN_SCALAR ? k->value : "?");
			kv_free(&nm);
			return -ERR_CONFIG;
		}
		if (o->check) {
			char why[256];

			if (o->check(val->value, why, sizeof(why)) < 0) {
				cfg_error_at(err, val, "%s.%s: %s", path, k->value, why);
				kv_free(&nm);
				return -ERR_CONFIG;
			}
		}
		nm.keys[i] = mem_strdup(k->value);
		nm.vals[i] = mem_strdup(val->value);
		nm.n++;
		if (!nm.keys[i] || !nm.vals[i])
			goto oom;
	}
	kv_free(m);
	*m = nm;
	return 0;
oom:
	kv_free(&nm);
	mem_free(nm.keys);
	mem_free(nm.vals);
	return -ENOMEM;
}

static int bind_value(const struct cfg_option *o, void *obj, const struct cfg_node *v,
		      const char *path, struct cfg_error *err)
{
	char why[256];
	int rc;

	switch (o->type) {
	case CFG_NODE:
		*(const struct cfg_node **)((char *)obj + o->offset) = v;
		return 0;
	case CFG_SECTION:
		return cfg_bind(v, o->sub, (char *)obj + o->offset, path, err);
	case CFG_LIST:
		if (v->kind == CFGN_SEQ)
			return set_list(o, obj, v, path, err);
		break;
	case CFG_MAP:
		if (v->kind == CFGN_MAP)
			return set_kv(o, obj, v, path, err);
		if (cfg_node_is_null(v)) {
			kv_free((struct cfg_kv *)((char *)obj + o->offset));
			return 0;
		}
		cfg_error_at(err, v, "%s: expected a mapping of strings", path);
		return -ERR_CONFIG;
	default:
		break;
	}
	if (v->kind != CFGN_SCALAR) {
		cfg_error_at(err, v, "%s: expected a %s, got a %s", path, type_name(o->type),
			     v->kind == CFGN_MAP ? "mapping" : "list");
		return -ERR_CONFIG;
	}
	if (o->type == CFG_LIST && cfg_node_is_null(v)) {
		list_free((struct cfg_list *)((char *)obj + o->offset));
		return 0;
	}
	rc = set_scalar(o, obj, v->value, why, sizeof(why));
	if (rc == -ERR_CONFIG)
		cfg_error_at(err, v, "%s: %s", path, why);
	else if (rc < 0)
		cfg_error_at(err, v, "%s: %s", path, err_str(rc));
	return rc < 0 ? -ERR_CONFIG : 0;
}

static void known_keys(const struct cfg_binding *b, size_t nb, char *out, size_t cap)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < nb; i++) {
		for (const struct cfg_option *o = b[i].opts; o->name; o++) {
			int n = snprintf(out + used, cap - used, "%s%s", used ? ", " : "", o->name);

			if (n < 0 || (size_t)n >= cap - used)
				return;
			used += (size_t)n;
		}
	}
}

int cfg_bind_multi(const struct cfg_node *map, const struct cfg_binding *b, size_t nb,
		   const char *path, struct cfg_error *err)
{
	char sub[512];
	int rc;

	for (size_t i = 0; i < nb; i++) {
		rc = cfg_defaults(b[i].opts, b[i].obj, err);
		if (rc < 0)
			return rc;
	}
	if (map && !(map->kind == CFGN_MAP || cfg_node_is_null(map))) {
		cfg_error_at(err, map, "%s: expected a mapping", path && *path ? path : "document");
		return -ERR_CONFIG;
	}
	if (map && map->kind == CFGN_MAP) {
		for (size_t i = 0; i < map->n; i++) {
			const struct cfg_node *k = cfg_map_key(map, i), *v = cfg_map_value(map, i);
			const struct cfg_option *found = NULL;
			void *obj = NULL;

			if (k->kind != CFGN_SCALAR) {
				cfg_error_at(err, k, "%s: keys must be strings",
					     path && *path ? path : "document");
				return -ERR_CONFIG;
			}
			for (size_t j = 0; j < nb && !found; j++) {
				for (const struct cfg_option *o = b[j].opts; o->name; o++) {
					if (strcmp(o->name, k->value) == 0) {
						found = o;
						obj = b[j].obj;
						break;
					}
				}
			}
			snprintf(sub, sizeof(sub), "%s%s%s", path && *path ? path : "",
				 path && *path ? "." : "", k->value);
			if (!found) {
				char keys[300];

				known_keys(b, nb, keys, sizeof(keys));
				cfg_error_at(err, k, "%s: unknown key (expected one of: %s)", sub,
					     keys);
				return -ERR_CONFIG;
			}
			rc = bind_value(found, obj, v, sub, err);
			if (rc < 0)
				return rc;
		}
	}
	for (size_t j = 0; j < nb; j++) {
		for (const struct cfg_option *o = b[j].opts; o->name; o++) {
			if (!(o->flags & CFG_REQUIRED) || cfg_map_get(map, o->name))
				continue;
			snprintf(sub, sizeof(sub), "%s%s%s", path && *path ? path : "",
				 path && *path ? "." : "", o->name);
			cfg_error_at(err, map, "%s: required key is missing", sub);
			return -ERR_CONFIG;
		}
	}
	return 0;
}

int cfg_bind(const struct cfg_node *map, const struct cfg_option *opts, void *obj, const char *path,
	     struct cfg_error *err)
{
	struct cfg_binding b = {opts, obj};

	return cfg_bind_multi(map, &b, 1, path, err);
}

void cfg_help(const struct cfg_option *opts, FILE *out, int indent)
{
	for (const struct cfg_option *o = opts; o->name; o++) {
		fprintf(out, "%*s%-22s %-9s", indent, "", o->name, type_name(o->type));
		if (o->type == CFG_ENUM) {
			char c[256];

			choices_text(o, c, sizeof(c));
			fprintf(out, " (%s)", c);
		}
		if (o->def && *o->def)
			fprintf(out, " default: %s", o->def);
		if (o->flags & CFG_REQUIRED)
			fprintf(out, " [required]");
		if (o->help)
			fprintf(out, "\n%*s%s", indent + 4, "", o->help);
		fputc('\n', out);
		if (o->type == CFG_SECTION)
			cfg_help(o->sub, out, indent + 2);
	}
}
