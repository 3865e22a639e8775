/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The table-driven Kafka message codec: one decoder, encoder and initialiser
 * for every message, driven by the field tables scripts/kgen.py generates
 * from Kafka's JSON message specs (store/kafka/schema/ (*.json) ->
 * store/kafka/kmsg_gen.{h,c}).  No API has hand-written per-version field
 * code: a field is on the wire at version v when the spec says so.
 *
 * Generated C for the Metadata API, for example: struct kmsg_metadata_req,
 * struct kmsg_metadata_resp, nested struct kmsg_metadata_resp_topic (the JSON
 * type name with a leading MetadataResponse stripped, snake_case), their
 * field tables kmsg_metadata_resp_topic_st, and the message descriptors
 * kmsg_metadata_req_msg / kmsg_metadata_resp_msg.  C types: intN_t,
 * uint16_t, uint32_t, double, bool; string -> char * (NULL: null); bytes and
 * records -> struct kbytes (n = -1: null); uuid -> struct kuuid; a struct
 * field is embedded; an array is `int32_t n_<name>; T *<name>;` (n = -1:
 * null).
 *
 * Defaults (what a field absent at a version, or an untouched field of
 * kschema_new, holds): the spec's "default", else 0 / false / "" (a static
 * empty string) / empty array / empty bytes / zero uuid; "null" gives NULL
 * or n = -1.
 *
 * Decoding is over a struct kwire_dec whose arena receives every struct,
 * array and string; nothing is malloc'ed per field.  Hostile input: an
 * array's element count must fit in the bytes left at the element's least
 * wire size; a tagged field's size must fit in the bytes left and its value
 * may not run past it; nesting depth is the schema's, never the input's; the
 * arena's bound caps the total.  Unknown tags are skipped; a null in a field
 * not nullable at the version is malformed.
 *
 * Encoding writes fields present at the version in schema order, tagged
 * fields (ascending tag) only when not at their default.  A value the
 * version cannot carry is written as the nearest it can: a NULL string or
 * null array in a non-nullable field goes out empty.  A records/bytes value
 * with ref set goes through e->records_fn when set.
 *
 * Adding an API: vendor its two JSON specs into store/kafka/schema/, run
 * `make gen`, add a table entry with KAFKA_API_MSG (kafka_api.c), write the
 * handler over the generated structs and answer with kafka_req_respond()
 * (docs/KAFKA.md, "The schema framework").
 *
 * Pure and thread-safe; the tables are constant.
 */
#ifndef SLUICE_STORE_KSCHEMA_H
#define SLUICE_STORE_KSCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/arena.h"
#include "store/kafka/kwire.h"

#define KS_VMAX INT16_MAX /* "N+" in a version range */

enum kschema_type {
	KS_BOOL = 1,
	KS_INT8,
	KS_INT16,
	KS_UINT16,
	KS_INT32,
	KS_UINT32,
	KS_INT64,
	KS_FLOAT64,
	KS_UUID,
	KS_STRING,
	KS_BYTES,
	KS_RECORDS,
	KS_STRUCT,
};

/* Versions lo..hi inclusive; lo > hi is "none". */
struct kschema_vr {
	int16_t lo;
	int16_t hi;
};

static inline bool kschema_in(struct kschema_vr r, int16_t v)
{
	return v >= r.lo && v <= r.hi;
}

struct kschema_struct;

struct kschema_field {
	const char *name;   /* the C member name */
	uint8_t type;       /* enum kschema_type; the element type of an array */
	bool array;         /* n_<name> at off, the element pointer at ptr_off */
	bool flex_override; /* the field has its own flexibleVersions (flexv) */
	uint32_t off;
	uint32_t ptr_off;
	struct kschema_vr v;     /* on the wire */
	struct kschema_vr nullv; /* nullable */
	struct kschema_vr tagv;  /* tagged (in the tag section) */
	struct kschema_vr flexv;
	int32_t tag;
	int64_t def_i;                   /* ints, bool; -1 for a null array/bytes default */
	double def_f;                    /* float64 */
	const char *def_s;               /* string; NULL = null */
	const struct kschema_struct *st; /* KS_STRUCT: the element/embedded struct */
};

struct kschema_struct {
	const char *name; /* the JSON type name */
	uint32_t size;
	uint32_t nfields;
	const struct kschema_field *fields;
};

struct kschema_msg {
	const char *name; /* "MetadataRequest" */
	int16_t api_key;
	struct kschema_vr valid; /* the spec's validVersions */
	int16_t flex_min;        /* first flexible version; KS_VMAX: none */
	const struct kschema_struct *root;
};

/* Decode one message body at version v from d (flexibility set from m; d's
 * arena receives everything).  NULL when malformed or the arena is full; d
 * is then failed.  Trailing bytes are left for the caller to judge. */
void *kschema_decode(const struct kschema_msg *m, int16_t v, struct kwire_dec *d);

/* Encode obj (a struct of m's root type) at version v.  Errors land in e->err. */
void kschema_encode(const struct kschema_msg *m, int16_t v, const void *obj, struct kwire_enc *e);

/* n (>= 1) elements of struct s, each field at its default; NULL when the
 * arena is full. */
void *kschema_new(const struct kschema_struct *s, struct arena *a, int32_t n);

/* Set every field of the struct at obj (of type s) to its default. */
void kschema_init(const struct kschema_struct *s, void *obj);

/* kschema_new for a generated struct by name: kmsg_new(a, kmsg_metadata_resp_topic, 4). */
#define kmsg_new(a, T, n) kmsg_new_(a, T, n) /* T may itself be a macro */
#define kmsg_new_(a, T, n) ((struct T *)kschema_new(&T##_st, (a), (n)))

/* Whether the field f of the struct at obj holds its default value. */
bool kschema_is_default(const struct kschema_field *f, const void *obj);

#endif
