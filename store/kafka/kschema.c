/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The generic codec over the generated field tables (kschema.h).  Each
 * function walks a struct's fields once; recursion follows the schema's
 * nesting (a handful of levels, fixed at generation), never the input.
 */
#include <string.h>

#include "lib/err.h"
#include "store/kafka/kschema.h"

static const char empty_str[] = "";

#define AT(obj, off) ((void *)((char *)(obj) + (off)))
#define AT_C(obj, off) ((const void *)((const char *)(obj) + (off)))

static size_t elem_size(const struct kschema_field *f)
{
	switch (f->type) {
	case KS_BOOL:
		return sizeof(bool);
	case KS_INT8:
		return sizeof(int8_t);
	case KS_INT16:
	case KS_UINT16:
		return sizeof(int16_t);
	case KS_INT32:
	case KS_UINT32:
		return sizeof(int32_t);
	case KS_INT64:
		return sizeof(int64_t);
	case KS_FLOAT64:
		return sizeof(double);
	case KS_UUID:
		return sizeof(struct kuuid);
	case KS_STRING:
		return sizeof(char *);
	case KS_BYTES:
	case KS_RECORDS:
		return sizeof(struct kbytes);
	case KS_STRUCT:
		return f->st->size;
	default:
		return 1;
	}
}

static bool field_flex(const struct kschema_field *f, int16_t v, bool flex)
{
	return f->flex_override ? kschema_in(f->flexv, v) : flex;
}

static size_t struct_min_wire(const struct kschema_struct *s, int16_t v, bool flex);

/* The fewest bytes one value of f's (element) type takes on the wire. */
static size_t value_min_wire(const struct kschema_field *f, int16_t v, bool flex)
{
	switch (f->type) {
	case KS_BOOL:
	case KS_INT8:
		return 1;
	case KS_INT16:
	case KS_UINT16:
		return 2;
	case KS_INT32:
	case KS_UINT32:
		return 4;
	case KS_INT64:
	case KS_FLOAT64:
		return 8;
	case KS_UUID:
		return 16;
	case KS_STRING:
		return flex ? 1 : 2;
	case KS_BYTES:
	case KS_RECORDS:
		return flex ? 1 : 4;
	case KS_STRUCT:
		return struct_min_wire(f->st, v, flex);
	default:
		return 1;
	}
}

static size_t struct_min_wire(const struct kschema_struct *s, int16_t v, bool flex)
{
	size_t n = flex ? 1 : 0; /* the tag section's count */

	for (uint32_t i = 0; i < s->nfields; i++) {
		const struct kschema_field *f = &s->fields[i];
		bool fx = field_flex(f, v, flex);

		if (!kschema_in(f->v, v) || (flex && kschema_in(f->tagv, v)))
			continue;
		n += f->array ? (fx ? 1 : 4) : value_min_wire(f, v, fx);
	}
	return n;
}

/* ---------------------------------------------------------------- defaults */

static void init_struct(const struct kschema_struct *s, void *obj);

static void set_default(const struct kschema_field *f, void *obj)
{
	void *p = AT(obj, f->off);

	if (f->array) {
		*(int32_t *)p = f->def_i < 0 ? -1 : 0;
		*(void **)AT(obj, f->ptr_off) = NULL;
		return;
	}
	switch (f->type) {
	case KS_BOOL:
		*(bool *)p = f->def_i != 0;
		break;
	case KS_INT8:
		*(int8_t *)p = (int8_t)f->def_i;
		break;
	case KS_INT16:
	case KS_UINT16:
		*(uint16_t *)p = (uint16_t)f->def_i;
		break;
	case KS_INT32:
	case KS_UINT32:
		*(uint32_t *)p = (uint32_t)f->def_i;
		break;
	case KS_INT64:
		*(int64_t *)p = f->def_i;
		break;
	case KS_FLOAT64:
		*(double *)p = f->def_f;
		break;
	case KS_UUID:
		memset(p, 0, sizeof(struct kuuid));
		break;
	case KS_STRING:
		/* the tables' strings are literals: handlers never write them */
		*(const char **)p = f->def_s;
		break;
	case KS_BYTES:
	case KS_RECORDS:
		memset(p, 0, sizeof(struct kbytes));
		((struct kbytes *)p)->n = f->def_i < 0 ? -1 : 0;
		break;
	case KS_STRUCT:
		init_struct(f->st, p);
		break;
	default:
		break;
	}
}

void kschema_init(const struct kschema_struct *s, void *obj)
{
	init_struct(s, obj);
}

static void init_struct(const struct kschema_struct *s, void *obj)
{
	for (uint32_t i = 0; i < s->nfields; i++)
		set_default(&s->fields[i], obj);
}

void *kschema_new(const struct kschema_struct *s, struct arena *a, int32_t n)
{
	char *v;

	if (n < 1)
		n = 1;
	v = arena_calloc(a, (size_t)n, s->size);
	if (!v)
		return NULL;
	for (int32_t i = 0; i < n; i++)
		init_struct(s, v + (size_t)i * s->size);
	return v;
}

/* ---------------------------------------------------------------- decoding */

static void decode_struct(struct kwire_dec *d, const struct kschema_struct *s, int16_t v,
			  void *obj);

static void decode_value(struct kwire_dec *d, const struct kschema_field *f, int16_t v, void *p)
{
	bool nullable = kschema_in(f->nullv, v);
	const uint8_t *raw;
	uint64_t u;

	switch (f->type) {
	case KS_BOOL:
		*(bool *)p = kwire_get_bool(d);
		break;
	case KS_INT8:
		*(int8_t *)p = kwire_get_i8(d);
		break;
	case KS_INT16:
	case KS_UINT16:
		*(int16_t *)p = kwire_get_i16(d);
		break;
	case KS_INT32:
	case KS_UINT32:
		*(int32_t *)p = kwire_get_i32(d);
		break;
	case KS_INT64:
		*(int64_t *)p = kwire_get_i64(d);
		break;
	case KS_FLOAT64:
		u = (uint64_t)kwire_get_i64(d);
		memcpy(p, &u, sizeof(u));
		break;
	case KS_UUID:
		raw = cursor_take(&d->c, sizeof(struct kuuid));
		if (raw)
			memcpy(p, raw, sizeof(struct kuuid));
		break;
	case KS_STRING:
		*(char **)p = kwire_get_nstr(d);
		if (!*(char **)p && !nullable)
			kwire_dec_fail(d);
		break;
	case KS_BYTES:
	case KS_RECORDS: {
		struct kbytes *b = p;

		b->n = kwire_get_bytes(d, &b->p);
		b->ref = NULL;
		if (b->n < 0 && !nullable)
			kwire_dec_fail(d);
		break;
	}
	case KS_STRUCT:
		decode_struct(d, f->st, v, p);
		break;
	default:
		kwire_dec_fail(d);
		break;
	}
}

static void decode_field(struct kwire_dec *d, const struct kschema_field *f, int16_t v, void *obj)
{
	bool flex = d->flex;
	int32_t n;
	size_t es;
	char *elems;

	d->flex = field_flex(f, v, flex);
	if (!f->array) {
		decode_value(d, f, v, AT(obj, f->off));
		d->flex = flex;
		return;
	}
	n = kwire_get_array(d, value_min_wire(f, v, d->flex));
	*(int32_t *)AT(obj, f->off) = n;
	*(void **)AT(obj, f->ptr_off) = NULL;
	if (n < 0) {
		if (!kschema_in(f->nullv, v))
			kwire_dec_fail(d);
		d->flex = flex;
		return;
	}
	es = elem_size(f);
	elems = kwire_alloc(d, n, es);
	*(void **)AT(obj, f->ptr_off) = elems;
	for (int32_t i = 0; i < n && kwire_dec_ok(d); i++)
		decode_value(d, f, v, elems + (size_t)i * es);
	d->flex = flex;
}

/* The tag section of a struct: known tags decoded from their own bounded
 * window, unknown ones skipped. */
static void decode_tags(struct kwire_dec *d, const struct kschema_struct *s, int16_t v, void *obj)
{
	uint32_t count = kwire_get_uvarint(d);

	for (uint32_t i = 0; i < count && kwire_dec_ok(d); i++) {
		uint32_t tag = kwire_get_uvarint(d);
		uint32_t size = kwire_get_uvarint(d);
		const uint8_t *p;
		struct kwire_dec sub;

		if (!kwire_dec_ok(d) || size > kwire_dec_left(d)) {
			kwire_dec_fail(d);
			return;
		}
		p = cursor_take(&d->c, size);
		for (uint32_t j = 0; j < s->nfields; j++) {
			const struct kschema_field *f = &s->fields[j];

			if (f->tag != (int32_t)tag || !kschema_in(f->tagv, v) ||
			    !kschema_in(f->v, v))
				continue;
			kwire_dec_init(&sub, p, size, true, d->arena);
			decode_field(&sub, f, v, obj);
			if (!kwire_dec_ok(&sub))
				kwire_dec_fail(d);
			break;
		}
	}
}

/* The hot path (Fetch and Produce carry thousands of partitions): a
 * fixed-width scalar read in place, without the general calls.  False when f
 * is not one. */
static inline bool decode_fixed(struct kwire_dec *d, const struct kschema_field *f, void *obj)
{
	struct cursor *c = &d->c;
	void *p = AT(obj, f->off);
	size_t n;

	switch (f->type) {
	case KS_INT16:
	case KS_UINT16:
		n = 2;
		break;
	case KS_INT32:
	case KS_UINT32:
		n = 4;
		break;
	case KS_INT64:
		n = 8;
		break;
	default:
		return false;
	}
	if (f->array)
		return false;
	if ((size_t)(c->end - c->p) < n) {
		c->err = true;
		return true;
	}
	if (n == 2)
		*(uint16_t *)p = get_be16(c->p);
	else if (n == 4)
		*(uint32_t *)p = get_be32(c->p);
	else
		*(uint64_t *)p = get_be64(c->p);
	c->p += n;
	return true;
}

static void decode_struct(struct kwire_dec *d, const struct kschema_struct *s, int16_t v, void *obj)
{
	for (uint32_t i = 0; i < s->nfields && kwire_dec_ok(d); i++) {
		const struct kschema_field *f = &s->fields[i];

		if (!kschema_in(f->v, v) || (d->flex && kschema_in(f->tagv, v)))
			set_default(f, obj);
		else if (!decode_fixed(d, f, obj))
			decode_field(d, f, v, obj);
	}
	if (d->flex && kwire_dec_ok(d))
		decode_tags(d, s, v, obj);
}

void *kschema_decode(const struct kschema_msg *m, int16_t v, struct kwire_dec *d)
{
	void *obj;

	if (v < 0 || v > m->valid.hi) {
		kwire_dec_fail(d);
		return NULL;
	}
	d->flex = v >= m->flex_min;
	obj = kwire_alloc(d, 1, m->root->size);
	if (!obj)
		return NULL;
	decode_struct(d, m->root, v, obj);
	return kwire_dec_ok(d) ? obj : NULL;
}

/* ---------------------------------------------------------------- encoding */

static void encode_struct(struct kwire_enc *e, const struct kschema_struct *s, int16_t v,
			  const void *obj);

static void encode_value(struct kwire_enc *e, const struct kschema_field *f, int16_t v,
			 const void *p)
{
	bool nullable = kschema_in(f->nullv, v);
	uint64_t u;

	switch (f->type) {
	case KS_BOOL:
		kwire_put_bool(e, *(const bool *)p);
		break;
	case KS_INT8:
		kwire_put_i8(e, *(const int8_t *)p);
		break;
	case KS_INT16:
	case KS_UINT16:
		kwire_put_i16(e, *(const int16_t *)p);
		break;
	case KS_INT32:
	case KS_UINT32:
		kwire_put_i32(e, *(const int32_t *)p);
		break;
	case KS_INT64:
		kwire_put_i64(e, *(const int64_t *)p);
		break;
	case KS_FLOAT64:
		memcpy(&u, p, sizeof(u));
		kwire_put_i64(e, (int64_t)u);
		break;
	case KS_UUID:
		kwire_put_raw(e, p, sizeof(struct kuuid));
		break;
	case KS_STRING: {
		const char *s = *(char *const *)p;

		kwire_put_str(e, s || nullable ? s : empty_str);
		break;
	}
	case KS_BYTES:
	case KS_RECORDS: {
		const struct kbytes *b = p;

		if (b->ref && e->records_fn)
			e->records_fn(e, b, e->records_ctx);
		else if (b->n < 0)
			kwire_put_bytes(e, NULL, nullable ? -1 : 0);
		else if (b->n > 0 && !b->p)
			e->err = e->err ? e->err : -ERR_INVALID;
		else
			kwire_put_bytes(e, b->p, b->n);
		break;
	}
	case KS_STRUCT:
		encode_struct(e, f->st, v, p);
		break;
	default:
		e->err = e->err ? e->err : -ERR_INVALID;
		break;
	}
}

static void encode_field(struct kwire_enc *e, const struct kschema_field *f, int16_t v,
			 const void *obj)
{
	bool flex = e->flex;
	int32_t n;
	const char *elems;
	size_t es;

	e->flex = field_flex(f, v, flex);
	if (!f->array) {
		encode_value(e, f, v, AT_C(obj, f->off));
		e->flex = flex;
		return;
	}
	n = *(const int32_t *)AT_C(obj, f->off);
	elems = *(const char *const *)AT_C(obj, f->ptr_off);
	if (n < 0) {
		kwire_put_array(e, kschema_in(f->nullv, v) ? -1 : 0);
	} else if (n > 0 && !elems) {
		e->err = e->err ? e->err : -ERR_INVALID;
	} else {
		es = elem_size(f);
		kwire_put_array(e, n);
		for (int32_t i = 0; i < n && !e->err; i++)
			encode_value(e, f, v, elems + (size_t)i * es);
	}
	e->flex = flex;
}

static bool struct_is_default(const struct kschema_struct *s, const void *obj)
{
	for (uint32_t i = 0; i < s->nfields; i++)
		if (!kschema_is_default(&s->fields[i], obj))
			return false;
	return true;
}

bool kschema_is_default(const struct kschema_field *f, const void *obj)
{
	const void *p = AT_C(obj, f->off);

	if (f->array)
		return *(const int32_t *)p == (f->def_i < 0 ? -1 : 0);
	switch (f->type) {
	case KS_BOOL:
		return *(const bool *)p == (f->def_i != 0);
	case KS_INT8:
		return *(const int8_t *)p == (int8_t)f->def_i;
	case KS_INT16:
	case KS_UINT16:
		return *(const uint16_t *)p == (uint16_t)f->def_i;
	case KS_INT32:
	case KS_UINT32:
		return *(const uint32_t *)p == (uint32_t)f->def_i;
	case KS_INT64:
		return *(const int64_t *)p == f->def_i;
	case KS_FLOAT64:
		return memcmp(p, &f->def_f, sizeof(double)) == 0;
	case KS_UUID: {
		static const struct kuuid zero;

		return memcmp(p, &zero, sizeof(zero)) == 0;
	}
	case KS_STRING: {
		const char *s = *(char *const *)p;

		if (!s || !f->def_s)
			return s == f->def_s || (!s && f->def_s[0] == '\0');
		return strcmp(s, f->def_s) == 0;
	}
	case KS_BYTES:
	case KS_RECORDS:
		return !((const struct kbytes *)p)->ref &&
		       ((const struct kbytes *)p)->n == (f->def_i < 0 ? -1 : 0);
	case KS_STRUCT:
		return struct_is_default(f->st, p);
	default:
		return true;
	}
}

/* Insert the uvarint size of the value written since start, before it. */
static void prefix_size(struct kwire_enc *e, size_t start)
{
	uint8_t t[5];
	size_t n, k = 0;
	uint32_t x;

	if (e->err)
		return;
	n = e->b->len - start;
	if (n > UINT32_MAX) {
		e->err = -ERR_TOO_LARGE;
		return;
	}
	x = (uint32_t)n;
	do {
		t[k++] = (uint8_t)((x & 0x7f) | (x > 0x7f ? 0x80 : 0));
		x >>= 7;
	} while (x);
	kwire_put_raw(e, t, k); /* grow by k, then shift the value up */
	if (e->err)
		return;
	memmove(e->b->data + start + k, e->b->data + start, n);
	memcpy(e->b->data + start, t, k);
}

static bool tagged_out(const struct kschema_field *f, int16_t v, const void *obj)
{
	return kschema_in(f->v, v) && kschema_in(f->tagv, v) && !kschema_is_default(f, obj);
}

static void encode_tags(struct kwire_enc *e, const struct kschema_struct *s, int16_t v,
			const void *obj)
{
	uint32_t count = 0;
	int64_t last = -1;

	for (uint32_t i = 0; i < s->nfields; i++)
		count += tagged_out(&s->fields[i], v, obj);
	kwire_put_uvarint(e, count);
	/* ascending tag order; a struct has a few tagged fields at most */
	for (uint32_t k = 0; k < count && !e->err; k++) {
		const struct kschema_field *next = NULL;
		size_t start;

		for (uint32_t i = 0; i < s->nfields; i++) {
			const struct kschema_field *f = &s->fields[i];

			if (f->tag > last && tagged_out(f, v, obj) && (!next || f->tag < next->tag))
				next = f;
		}
		if (!next)
			break;
		last = next->tag;
		kwire_put_uvarint(e, (uint32_t)next->tag);
		start = kwire_enc_pos(e);
		encode_field(e, next, v, obj);
		prefix_size(e, start);
	}
}

/* The hot path, as decode_fixed: a fixed-width scalar written in place when
 * the buffer has room.  False when f is not one or there is no room (the
 * general path then grows the buffer). */
static inline bool encode_fixed(struct kwire_enc *e, const struct kschema_field *f, const void *obj)
{
	struct buf *b = e->b;
	const void *p = AT_C(obj, f->off);
	uint8_t *o;

	if (f->array || b->cap - b->len < 8 || !b->data)
		return false;
	o = b->data + b->len;
	switch (f->type) {
	case KS_INT16:
	case KS_UINT16:
		put_be16(o, *(const uint16_t *)p);
		b->len += 2;
		return true;
	case KS_INT32:
	case KS_UINT32:
		put_be32(o, *(const uint32_t *)p);
		b->len += 4;
		return true;
	case KS_INT64:
		put_be64(o, *(const uint64_t *)p);
		b->len += 8;
		return true;
	default:
		return false;
	}
}

static void encode_struct(struct kwire_enc *e, const struct kschema_struct *s, int16_t v,
			  const void *obj)
{
	for (uint32_t i = 0; i < s->nfields && !e->err; i++) {
		const struct kschema_field *f = &s->fields[i];

		if (!kschema_in(f->v, v) || (e->flex && kschema_in(f->tagv, v)))
			continue;
		if (!encode_fixed(e, f, obj))
			encode_field(e, f, v, obj);
	}
	if (e->flex)
		encode_tags(e, s, v, obj);
}

void kschema_encode(const struct kschema_msg *m, int16_t v, const void *obj, struct kwire_enc *e)
{
	bool flex = e->flex;

	if (v < 0 || v > m->valid.hi || !obj) {
		e->err = e->err ? e->err : -ERR_INVALID;
		return;
	}
	e->flex = v >= m->flex_min;
	encode_struct(e, m->root, v, obj);
	e->flex = flex;
}
