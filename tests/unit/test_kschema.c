/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The schema codec (store/kafka/kschema.c) over the generated tables:
 * round trips of every message at every valid version with randomly filled
 * objects (nulls, empty and full arrays, tagged fields), byte-exact vectors
 * written out by hand from the JSON specs for requests as clients send them
 * (Metadata v12 and ApiVersions v4 as librdkafka 2.x does), tagged-field
 * encoding and skipping, hostile inputs (counts, tag sizes, nulls, random
 * bytes, a full arena), and a decode benchmark of a 1000-partition Fetch.
 */
#include <string.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "store/kafka/kafka_api.h"
#include "store/kafka/kschema.h"
#include "store/kafka/kmsg_gen.h"
#include "tests/unit/unit.h"

#define AT(obj, off) ((void *)((char *)(obj) + (off)))

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

/* ---------------------------------------------------------------- random objects */

static void fill_struct(struct arena *a, const struct kschema_struct *s, int16_t v, void *obj,
			int depth);

static size_t esize(const struct kschema_field *f)
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
		return sizeof(struct kuuid);
	case KS_STRING:
		return sizeof(char *);
	case KS_BYTES:
	case KS_RECORDS:
		return sizeof(struct kbytes);
	default:
		return f->st->size;
	}
}

static void fill_value(struct arena *a, const struct kschema_field *f, int16_t v, void *p,
		       int depth)
{
	bool nullable = kschema_in(f->nullv, v);
	uint32_t x = rnd();

	switch (f->type) {
	case KS_BOOL:
		*(bool *)p = x & 1;
		break;
	case KS_INT8:
	case KS_INT16:
	case KS_UINT16:
	case KS_INT32:
	case KS_UINT32:
		memcpy(p, &x, esize(f));
		break;
	case KS_INT64: {
		uint64_t y = ((uint64_t)x << 32) | rnd();

		memcpy(p, &y, 8);
		break;
	}
	case KS_FLOAT64:
		*(double *)p = (double)(int32_t)x / 8.0;
		break;
	case KS_UUID:
		for (int i = 0; i < 16; i++)
			((uint8_t *)p)[i] = (uint8_t)rnd();
		break;
	case KS_STRING: {
		size_t n = x % 24;
		char *s;

		if (nullable && x % 5 == 0) {
			*(char **)p = NULL;
			break;
		}
		s = arena_alloc(a, n + 1);
		for (size_t i = 0; i < n; i++)
			s[i] = (char)('a' + rnd() % 26);
		*(char **)p = s;
		break;
	}
	case KS_BYTES:
	case KS_RECORDS: {
		struct kbytes *b = p;
		uint8_t *d;

		memset(b, 0, sizeof(*b));
		if (nullable && x % 5 == 0) {
			b->n = -1;
			break;
		}
		b->n = (int32_t)(x % 40);
		d = arena_alloc(a, (size_t)b->n + 1);
		for (int32_t i = 0; i < b->n; i++)
			d[i] = (uint8_t)rnd();
		b->p = d;
		break;
	}
	case KS_STRUCT:
		fill_struct(a, f->st, v, p, depth + 1);
		break;
	default:
		CU_FAIL("unknown field type");
	}
}

static void fill_field(struct arena *a, const struct kschema_field *f, int16_t v, void *obj,
		       int depth)
{
	int32_t n;
	char *e;

	if (!f->array) {
		fill_value(a, f, v, AT(obj, f->off), depth);
		return;
	}
	if (kschema_in(f->nullv, v) && rnd() % 5 == 0) {
		*(int32_t *)AT(obj, f->off) = -1;
		return;
	}
	n = depth > 3 ? 0 : (int32_t)(rnd() % 4);
	if (f->type == KS_STRUCT)
		e = kschema_new(f->st, a, n);
	else
		e = arena_calloc(a, (size_t)(n ? n : 1), esize(f));
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	for (int32_t i = 0; i < n; i++)
		fill_value(a, f, v, e + (size_t)i * esize(f), depth);
	*(int32_t *)AT(obj, f->off) = n;
	*(void **)AT(obj, f->ptr_off) = e;
}

static void fill_struct(struct arena *a, const struct kschema_struct *s, int16_t v, void *obj,
			int depth)
{
	for (uint32_t i = 0; i < s->nfields; i++) {
		const struct kschema_field *f = &s->fields[i];

		/* sometimes leave a field at its default (tagged ones stay out) */
		if (rnd() % 6 == 0)
			continue;
		fill_field(a, f, v, obj, depth);
	}
}

/* ---------------------------------------------------------------- comparison */

static bool same_struct(const struct kschema_struct *s, int16_t v, const void *x, const void *y);

static bool same_value(const struct kschema_field *f, int16_t v, const void *p, const void *q)
{
	bool nullable = kschema_in(f->nullv, v);

	switch (f->type) {
	case KS_STRING: {
		const char *a = *(char *const *)p, *b = *(char *const *)q;

		if (!a && !nullable)
			a = "";
		if (!a || !b)
			return a == b;
		return strcmp(a, b) == 0;
	}
	case KS_BYTES:
	case KS_RECORDS: {
		const struct kbytes *a = p, *b = q;
		int32_t an = a->n < 0 && !nullable ? 0 : a->n;

		return an == b->n && (an <= 0 || memcmp(a->p, b->p, (size_t)an) == 0);
	}
	case KS_BOOL:
		return *(const bool *)p == *(const bool *)q;
	case KS_STRUCT:
		return same_struct(f->st, v, p, q);
	default:
		return memcmp(p, q, esize(f)) == 0;
	}
}

static bool same_field(const struct kschema_field *f, int16_t v, const void *x, const void *y)
{
	const void *p = (const char *)x + f->off;
	const void *q = (const char *)y + f->off;
	int32_t n, m;
	const char *pe, *qe;

	if (!kschema_in(f->v, v))
		return kschema_is_default(f, y);
	if (!f->array)
		return same_value(f, v, p, q);
	n = *(const int32_t *)p;
	m = *(const int32_t *)q;
	if (n < 0 && !kschema_in(f->nullv, v))
		n = 0;
	if (n != m)
		return false;
	pe = *(const char *const *)((const char *)x + f->ptr_off);
	qe = *(const char *const *)((const char *)y + f->ptr_off);
	for (int32_t i = 0; i < n; i++)
		if (!same_value(f, v, pe + (size_t)i * esize(f), qe + (size_t)i * esize(f)))
			return false;
	return true;
}

static bool same_struct(const struct kschema_struct *s, int16_t v, const void *x, const void *y)
{
	for (uint32_t i = 0; i < s->nfields; i++) {
		if (!same_field(&s->fields[i], v, x, y)) {
			fprintf(stderr, "%s.%s differs at v%d\n", s->name, s->fields[i].name, v);
			return false;
		}
	}
	return true;
}

/* ---------------------------------------------------------------- round trips */

static void round_trip(const struct kschema_msg *m, int16_t v)
{
	struct arena a;
	struct buf out, again;
	struct kwire_enc e;
	struct kwire_dec d;
	void *obj, *back;

	arena_init(&a, 0);
	buf_init(&out, 0);
	buf_init(&again, 0);
	obj = kschema_new(m->root, &a, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(obj);
	fill_struct(&a, m->root, v, obj, 0);
	kwire_enc_init(&e, &out, false);
	kschema_encode(m, v, obj, &e);
	CU_ASSERT_EQUAL_FATAL(e.err, 0);
	kwire_dec_init(&d, out.data, out.len, false, &a);
	back = kschema_decode(m, v, &d);
	if (!back || kwire_dec_left(&d) != 0 || !same_struct(m->root, v, obj, back)) {
		fprintf(stderr, "round trip of %s v%d fails\n", m->name, v);
		CU_FAIL("round trip");
	} else {
		/* and the decoded object encodes to the very same bytes */
		kwire_enc_init(&e, &again, false);
		kschema_encode(m, v, back, &e);
		CU_ASSERT(again.len == out.len &&
			  (out.len == 0 || memcmp(again.data, out.data, out.len) == 0));
	}
	buf_release(&again);
	buf_release(&out);
	arena_release(&a);
}

static void test_round_trips(void)
{
	size_t n = 0;

	for (size_t i = 0; i < kmsg_all_count; i++) {
		const struct kschema_msg *m = kmsg_all[i];

		for (int16_t v = m->valid.lo; v <= m->valid.hi; v++)
			for (int k = 0; k < 12; k++, n++)
				round_trip(m, v);
	}
	CU_ASSERT(kmsg_all_count >= 78); /* 39 APIs, request and response */
	CU_ASSERT(n > 5000);
}

/* Every field absent from the wire reads back as its default. */
static void test_defaults(void)
{
	struct arena a;
	struct kmsg_metadata_resp *m;
	struct kmsg_metadata_resp_topic *t;
	struct kmsg_api_versions_resp *av;

	arena_init(&a, 0);
	m = kmsg_new(&a, kmsg_metadata_resp, 1);
	t = kmsg_new(&a, kmsg_metadata_resp_topic, 3);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(m->controller_id, -1);
	CU_ASSERT_EQUAL(m->cluster_authorized_operations, INT32_MIN);
	CU_ASSERT_PTR_NULL(m->cluster_id); /* default null */
	CU_ASSERT_EQUAL(m->n_topics, 0);
	CU_ASSERT_EQUAL(t[2].topic_authorized_operations, INT32_MIN);
	CU_ASSERT_STRING_EQUAL(t[2].name, ""); /* non-null strings default "" */
	av = kmsg_new(&a, kmsg_api_versions_resp, 1);
	CU_ASSERT_EQUAL(av->finalized_features_epoch, -1);
	arena_release(&a);
}

/* ---------------------------------------------------------------- byte-exact vectors */

static struct buf W;

static void w(const char *hex)
{
	for (const char *p = hex; p[0] && p[1];) {
		unsigned int x;

		if (*p == ' ') {
			p++;
			continue;
		}
		CU_ASSERT_EQUAL_FATAL(sscanf(p, "%2x", &x), 1);
		buf_append_u8(&W, (uint8_t)x);
		p += 2;
	}
}

static void ws(const char *s)
{
	buf_append(&W, s, strlen(s));
}

static void *decode_frame(struct arena *a, struct kafka_hdr *h)
{
	if (kafka_api_parse_header(W.data, W.len, a, h) != 0)
		return NULL;
	return kafka_api_decode_body(h, W.data, W.len, a);
}

static void check_truncations(void)
{
	for (size_t cut = 0; cut < W.len; cut++) {
		struct arena a;
		struct kafka_hdr h;

		arena_init(&a, 0);
		if (kafka_api_parse_header(W.data, cut, &a, &h) == 0)
			CU_ASSERT_PTR_NULL(kafka_api_decode_body(&h, W.data, cut, &a));
		arena_release(&a);
	}
}

/* Field types no vendored spec uses yet (float64, uint16, uint32, arrays of
 * uuid and bool, tagged float and string with defaults), in a hand-made
 * table: v0 classic, v1 flexible. */
struct rare {
	double d;
	uint16_t u16;
	uint32_t u32;
	int32_t n_ids;
	struct kuuid *ids;
	int32_t n_flags;
	bool *flags;
	double tagged_d;
	char *tagged_s;
};

#define RARE(nm, ty, ...)                                                              \
	{                                                                              \
		.name = #nm, .type = ty, .off = offsetof(struct rare, nm), __VA_ARGS__ \
	}
static const struct kschema_field rare_fields[] = {
	RARE(d, KS_FLOAT64, .v = {0, KS_VMAX}, .nullv = {1, 0}, .tagv = {1, 0}, .tag = -1),
	RARE(u16, KS_UINT16, .v = {0, KS_VMAX}, .nullv = {1, 0}, .tagv = {1, 0}, .tag = -1,
	     .def_i = 65535),
	RARE(u32, KS_UINT32, .v = {1, KS_VMAX}, .nullv = {1, 0}, .tagv = {1, 0}, .tag = -1,
	     .def_i = 4000000000LL),
	RARE(n_ids, KS_UUID, .array = true, .ptr_off = offsetof(struct rare, ids),
	     .v = {0, KS_VMAX}, .nullv = {1, KS_VMAX}, .tagv = {1, 0}, .tag = -1, .def_i = -1),
	RARE(n_flags, KS_BOOL, .array = true, .ptr_off = offsetof(struct rare, flags),
	     .v = {0, KS_VMAX}, .nullv = {1, 0}, .tagv = {1, 0}, .tag = -1),
	RARE(tagged_d, KS_FLOAT64, .v = {1, KS_VMAX}, .nullv = {1, 0}, .tagv = {1, KS_VMAX},
	     .tag = 7, .def_f = 1.5),
	RARE(tagged_s, KS_STRING, .v = {1, KS_VMAX}, .nullv = {1, KS_VMAX}, .tagv = {1, KS_VMAX},
	     .tag = 2, .def_s = "dflt"),
};
static const struct kschema_struct rare_st = {"Rare", sizeof(struct rare), 7, rare_fields};
static const struct kschema_msg rare_msg = {"RareRequest", 9999, {0, 1}, 1, &rare_st};

static void test_rare_types(void)
{
	struct arena a;
	struct rare *x;
	struct buf out;
	struct kwire_enc e;
	struct kwire_dec d;

	for (int k = 0; k < 200; k++) {
		round_trip(&rare_msg, 0);
		round_trip(&rare_msg, 1);
	}
	arena_init(&a, 0);
	x = kschema_new(&rare_st, &a, 1);
	CU_ASSERT_EQUAL(x->u16, 65535);
	CU_ASSERT_EQUAL(x->u32, 4000000000u);
	CU_ASSERT_EQUAL(x->n_ids, -1);
	CU_ASSERT(x->tagged_d == 1.5);
	CU_ASSERT_STRING_EQUAL(x->tagged_s, "dflt");
	/* v1 with the defaults: no tags on the wire; then tags 2 and 7 ascending
	 * although 7 comes first in the table */
	x->d = -2.25;
	buf_init(&out, 0);
	kwire_enc_init(&e, &out, false);
	kschema_encode(&rare_msg, 1, x, &e);
	buf_reset(&W);
	w("c002000000000000 ffff ee6b2800 00 01 00");
	CU_ASSERT(out.len == W.len && memcmp(out.data, W.data, W.len) == 0);
	x->tagged_d = 0.5;
	x->tagged_s = NULL;
	buf_reset(&out);
	kschema_encode(&rare_msg, 1, x, &e);
	buf_reset(&W);
	w("c002000000000000 ffff ee6b2800 00 01 02 02 01 00 07 08 3fe0000000000000");
	CU_ASSERT(out.len == W.len && memcmp(out.data, W.data, W.len) == 0);
	kwire_dec_init(&d, out.data, out.len, false, &a);
	x = kschema_decode(&rare_msg, 1, &d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT(x->tagged_d == 0.5 && x->d == -2.25);
	CU_ASSERT_PTR_NULL(x->tagged_s);
	buf_release(&out);
	arena_release(&a);
}

/* librdkafka 2.x's Metadata request: header v2, v12 body with one topic. */
static void test_metadata_v12_request(void)
{
	struct arena a;
	struct kafka_hdr h;
	struct kmsg_metadata_req *q;

	buf_reset(&W);
	w("0003 000c 0000002a 0007");
	ws("rdkafka");
	w("00");                               /* header tags */
	w("02");                               /* one topic */
	w("00000000000000000000000000000000"); /* topic_id: none */
	w("05");                               /* compact "logs" */
	ws("logs");
	w("00");       /* topic tags */
	w("01 00 00"); /* allow auto-create, no topic ops, tags */
	arena_init(&a, 0);
	q = decode_frame(&a, &h);
	CU_ASSERT_PTR_NOT_NULL_FATAL(q);
	CU_ASSERT_TRUE(h.flex);
	CU_ASSERT_EQUAL(h.correlation_id, 42);
	CU_ASSERT_STRING_EQUAL(h.client_id, "rdkafka");
	CU_ASSERT_EQUAL(q->n_topics, 1);
	CU_ASSERT_STRING_EQUAL(q->topics[0].name, "logs");
	CU_ASSERT_TRUE(q->allow_auto_topic_creation);
	CU_ASSERT_FALSE(q->include_topic_authorized_operations);
	CU_ASSERT_FALSE(q->include_cluster_authorized_operations); /* v8-10 only */
	arena_release(&a);
	check_truncations();

	/* null topics (all), null name with an id (lookup by id) */
	buf_reset(&W);
	w("0003 000c 00000001 ffff 00 00 01 01 00");
	arena_init(&a, 0);
	q = decode_frame(&a, &h);
	CU_ASSERT_PTR_NOT_NULL_FATAL(q);
	CU_ASSERT_PTR_NULL(h.client_id);
	CU_ASSERT_EQUAL(q->n_topics, -1);
	CU_ASSERT_TRUE(q->include_topic_authorized_operations);
	buf_reset(&W);
	w("0003 000c 00000001 ffff 00 02 0102030405060708090a0b0c0d0e0f10 00 00 01 00 00");
	q = decode_frame(&a, &h);
	CU_ASSERT_PTR_NOT_NULL_FATAL(q);
	CU_ASSERT_PTR_NULL(q->topics[0].name);
	CU_ASSERT_EQUAL(q->topics[0].topic_id.b[15], 0x10);
	/* the same null name at v9 (not nullable before v10) is malformed */
	buf_reset(&W);
	w("0003 0009 00000001 ffff 00 02 00 00 01 00 00");
	CU_ASSERT_PTR_NULL(decode_frame(&a, &h));
	arena_release(&a);
}

/* Metadata v1-v8 naming 10,000 one-letter topics (a client with many tiny
 * topic names) decodes within the bound a request gets; the same bytes as
 * empty names at v9+ (one byte each) too. */
static void test_metadata_many_tiny_names(void)
{
	struct arena a;
	struct kafka_hdr h;
	struct kmsg_metadata_req *q;

	buf_reset(&W);
	w("0003 0008 00000007 ffff");
	buf_append_u8(&W, 0);
	buf_append_u8(&W, 0);
	buf_append_u8(&W, 0x27); /* 10,000 topics */
	buf_append_u8(&W, 0x10);
	for (int i = 0; i < 10000; i++) {
		w("0001");
		buf_append_u8(&W, (uint8_t)('a' + i % 26));
	}
	w("01 00 00");
	arena_init(&a, kafka_api_arena_bound(W.len));
	q = decode_frame(&a, &h);
	CU_ASSERT_PTR_NOT_NULL_FATAL(q);
	CU_ASSERT_EQUAL(q->n_topics, 10000);
	CU_ASSERT_STRING_EQUAL(q->topics[9999].name, "p");
	arena_release(&a);
	/* the old bound (8x + 64 KiB) could not hold it */
	arena_init(&a, W.len * 8 + 65536);
	CU_ASSERT_PTR_NULL(decode_frame(&a, &h));
	arena_release(&a);
	/* a huge frame of tiny elements stays near 8x */
	CU_ASSERT_TRUE(kafka_api_arena_bound((size_t)100 << 20) <=
		       ((size_t)100 << 20) * 8 + ((size_t)17 << 20));
}

/* The response to it, field by field from MetadataResponse.json. */
static void test_metadata_v12_response(void)
{
	static int32_t node0[1];
	struct arena a;
	struct kmsg_metadata_resp *m;
	struct buf out;
	struct kwire_enc e;

	arena_init(&a, 0);
	m = kmsg_new(&a, kmsg_metadata_resp, 1);
	m->n_brokers = 1;
	m->brokers = kmsg_new(&a, kmsg_metadata_resp_broker, 1);
	m->brokers[0].node_id = 0;
	m->brokers[0].host = "127.0.0.1";
	m->brokers[0].port = 9092;
	m->cluster_id = "sluice";
	m->controller_id = 0;
	m->n_topics = 1;
	m->topics = kmsg_new(&a, kmsg_metadata_resp_topic, 1);
	m->topics[0].name = "logs";
	m->topics[0].topic_id.b[0] = 0xab;
	m->topics[0].n_partitions = 1;
	m->topics[0].partitions = kmsg_new(&a, kmsg_metadata_resp_partition, 1);
	m->topics[0].partitions[0].leader_id = 0;
	m->topics[0].partitions[0].leader_epoch = 0;
	m->topics[0].partitions[0].n_replica_nodes = 1;
	m->topics[0].partitions[0].replica_nodes = node0;
	m->topics[0].partitions[0].n_isr_nodes = 1;
	m->topics[0].partitions[0].isr_nodes = node0;
	m->cluster_authorized_operations = 0x1234; /* v8-10 only: not written */
	buf_init(&out, 0);
	kwire_enc_init(&e, &out, false);
	kschema_encode(&kmsg_metadata_resp_msg, 12, m, &e);
	CU_ASSERT_EQUAL(e.err, 0);
	buf_reset(&W);
	w("00000000 02 00000000 0a");
	ws("127.0.0.1");
	w("00002384 00 00"); /* port, rack null, broker tags */
	w("07");
	ws("sluice");
	w("00000000 02 0000 05");
	ws("logs");
	w("ab000000000000000000000000000000 00"); /* topic id, not internal */
	w("02 0000 00000000 00000000 00000000 02 00000000 02 00000000 01 00");
	w("80000000 00"); /* topic_authorized_operations not asked, tags */
	w("00");          /* response tags */
	CU_ASSERT_EQUAL(out.len, W.len);
	CU_ASSERT(out.len == W.len && memcmp(out.data, W.data, W.len) == 0);
	buf_release(&out);
	arena_release(&a);
}

/* librdkafka 2.x's opening ApiVersions v4 (ApiVersions v3+ are alike). */
static void test_apiversions_v4(void)
{
	struct arena a;
	struct kafka_hdr h;
	struct kmsg_api_versions_req *q;
	struct kmsg_api_versions_resp *r;
	struct kmsg_api_versions_resp_api_version k = {3, 0, 12};
	struct buf out;
	struct kwire_enc e;
	struct kwire_dec d;

	buf_reset(&W);
	w("0012 0004 00000001 0007");
	ws("rdkafka");
	w("00 0b");
	ws("librdkafka");
	w("07");
	ws("2.10.0");
	w("00");
	arena_init(&a, 0);
	q = decode_frame(&a, &h);
	CU_ASSERT_PTR_NOT_NULL_FATAL(q);
	CU_ASSERT_STRING_EQUAL(q->client_software_name, "librdkafka");
	CU_ASSERT_STRING_EQUAL(q->client_software_version, "2.10.0");
	check_truncations();

	/* response: a tagged field goes out (tag 1, finalized_features_epoch)
	 * only when not at its default (-1) */
	r = kmsg_new(&a, kmsg_api_versions_resp, 1);
	r->n_api_keys = 1;
	r->api_keys = &k;
	buf_init(&out, 0);
	kwire_enc_init(&e, &out, false);
	kschema_encode(&kmsg_api_versions_resp_msg, 4, r, &e);
	buf_reset(&W);
	w("0000 02 0003 0000 000c 00 00000000 00");
	CU_ASSERT(out.len == W.len && memcmp(out.data, W.data, W.len) == 0);
	r->finalized_features_epoch = 7;
	buf_reset(&out);
	kschema_encode(&kmsg_api_versions_resp_msg, 4, r, &e);
	buf_reset(&W);
	w("0000 02 0003 0000 000c 00 00000000 01 01 08 0000000000000007");
	CU_ASSERT(out.len == W.len && memcmp(out.data, W.data, W.len) == 0);

	/* decoding: an unknown tag is skipped, the known one read */
	buf_reset(&W);
	w("0000 01 00000000 02 01 08 0000000000000009 63 03 aabbcc");
	kwire_dec_init(&d, W.data, W.len, false, &a);
	r = kschema_decode(&kmsg_api_versions_resp_msg, 3, &d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(kwire_dec_left(&d), 0);
	CU_ASSERT_EQUAL(r->finalized_features_epoch, 9);
	CU_ASSERT_EQUAL(r->n_finalized_features, 0);
	buf_release(&out);
	arena_release(&a);
}

/* Frames Kafka's own Java client (4.1.1, kafka-topics / kafka-cluster
 * through a recording proxy in front of sluice-store) sent, byte for byte. */
static void test_java_client_frames(void)
{
	struct arena a;
	struct kafka_hdr h;
	struct kmsg_api_versions_req *av;
	struct kmsg_metadata_req *md;
	struct kmsg_describe_cluster_req *dc;

	arena_init(&a, 0);
	buf_reset(&W);
	w("0012000400000000000d61646d696e636c69656e742d3100126170616368652d6b61666b612d6a6176"
	  "6106342e312e3100");
	av = decode_frame(&a, &h);
	CU_ASSERT_PTR_NOT_NULL_FATAL(av);
	CU_ASSERT_STRING_EQUAL(h.client_id, "adminclient-1");
	CU_ASSERT_STRING_EQUAL(av->client_software_name, "apache-kafka-java");
	CU_ASSERT_STRING_EQUAL(av->client_software_version, "4.1.1");
	check_truncations();
	/* Metadata v12 for one topic by name, no auto-creation */
	buf_reset(&W);
	w("0003000c00000006000d61646d696e636c69656e742d310002000000000000000000000000000000"
	  "00036a7400000000");
	md = decode_frame(&a, &h);
	CU_ASSERT_PTR_NOT_NULL_FATAL(md);
	CU_ASSERT_EQUAL(md->n_topics, 1);
	CU_ASSERT_STRING_EQUAL(md->topics[0].name, "jt");
	CU_ASSERT_FALSE(md->allow_auto_topic_creation);
	check_truncations();
	/* Metadata v12 for every topic (null array) */
	buf_reset(&W);
	w("0003000c00000003000d61646d696e636c69656e742d310000010000");
	md = decode_frame(&a, &h);
	CU_ASSERT_PTR_NOT_NULL_FATAL(md);
	CU_ASSERT_EQUAL(md->n_topics, -1);
	/* DescribeCluster v1, brokers endpoint */
	buf_reset(&W);
	w("003c000100000004000d61646d696e636c69656e742d3100000100");
	dc = decode_frame(&a, &h);
	CU_ASSERT_PTR_NOT_NULL_FATAL(dc);
	CU_ASSERT_FALSE(dc->include_cluster_authorized_operations);
	CU_ASSERT_EQUAL(dc->endpoint_type, 1);
	check_truncations();
	arena_release(&a);
}

/* ---------------------------------------------------------------- hostile input */

static void *decode_hex(struct arena *a, const struct kschema_msg *m, int16_t v, const char *hex)
{
	struct kwire_dec d;
	void *obj;

	buf_reset(&W);
	w(hex);
	kwire_dec_init(&d, W.data, W.len, false, a);
	obj = kschema_decode(m, v, &d);
	CU_ASSERT_EQUAL(obj == NULL, !kwire_dec_ok(&d));
	return obj;
}

static void test_hostile(void)
{
	const struct kschema_msg *av = &kmsg_api_versions_resp_msg;
	struct arena a;

	arena_init(&a, 0);
	/* counts that cannot fit the bytes left */
	CU_ASSERT_PTR_NULL(decode_hex(&a, &kmsg_metadata_req_msg, 12, "ffffffff0f 00 00 00"));
	CU_ASSERT_PTR_NULL(decode_hex(&a, &kmsg_metadata_req_msg, 8, "7fffffff 00 00 00"));
	/* 3 topics claimed, each at least 19 bytes in v12: 20 bytes are not enough */
	CU_ASSERT_PTR_NULL(decode_hex(&a, &kmsg_metadata_req_msg, 12,
				      "04 0000000000000000000000000000000000 00 00"));
	/* a tag whose size runs past the end */
	CU_ASSERT_PTR_NULL(decode_hex(&a, av, 3, "0000 01 00000000 01 01 09 00000000"));
	CU_ASSERT_PTR_NULL(decode_hex(&a, av, 3, "0000 01 00000000 01 05 ffffffff0f 00"));
	/* a tagged value that overruns its own size (int64 in 4 bytes) */
	CU_ASSERT_PTR_NULL(decode_hex(&a, av, 3, "0000 01 00000000 01 01 04 00000000"));
	/* a tag count far beyond the bytes */
	CU_ASSERT_PTR_NULL(decode_hex(&a, av, 3, "0000 01 00000000 ffffffff0f 00 00"));
	/* a tagged array claiming more elements than its window holds */
	CU_ASSERT_PTR_NULL(decode_hex(&a, av, 3, "0000 01 00000000 01 00 02 7f 00"));
	/* null in a non-nullable array (compact 0) and string */
	CU_ASSERT_PTR_NULL(decode_hex(&a, av, 3, "0000 00 00000000 00"));
	CU_ASSERT_PTR_NULL(decode_hex(&a, &kmsg_api_versions_req_msg, 3, "00 01 00"));
	/* versions past the spec */
	CU_ASSERT_PTR_NULL(decode_hex(&a, av, 5, "0000 01 00000000 00"));
	CU_ASSERT_PTR_NULL(decode_hex(&a, av, -1, "0000 01 00000000 00"));
	/* sane */
	CU_ASSERT_PTR_NOT_NULL(decode_hex(&a, av, 3, "0000 01 00000000 00"));
	arena_release(&a);

	/* a full arena: NULL, no crash */
	arena_init(&a, 64);
	CU_ASSERT_PTR_NULL(decode_hex(&a, &kmsg_metadata_req_msg, 12,
				      "04 00000000000000000000000000000000 02 61 00"
				      "00000000000000000000000000000000 02 62 00"
				      "00000000000000000000000000000000 02 63 00 01 00 00"));
	arena_release(&a);
}

/* Random and mutated bytes for every message at every version: no crash,
 * no read past the input (ASan in `make asan`), arena bounded. */
static void test_random_bytes(void)
{
	uint8_t bytes[256];
	struct buf out;

	buf_init(&out, 0);
	for (size_t i = 0; i < kmsg_all_count; i++) {
		const struct kschema_msg *m = kmsg_all[i];

		for (int16_t v = m->valid.lo; v <= m->valid.hi; v++) {
			struct arena a;
			struct kwire_enc e;
			void *obj;

			/* a valid encoding, then mutations of it */
			arena_init(&a, 0);
			obj = kschema_new(m->root, &a, 1);
			fill_struct(&a, m->root, v, obj, 0);
			buf_reset(&out);
			kwire_enc_init(&e, &out, false);
			kschema_encode(m, v, obj, &e);
			arena_release(&a);
			for (int k = 0; k < 40; k++) {
				struct kwire_dec d;
				size_t n = out.len < sizeof(bytes) ? out.len : sizeof(bytes);

				memcpy(bytes, out.data, n);
				if (k < 20 && n > 0) {
					bytes[rnd() % n] = (uint8_t)rnd();
				} else {
					n = rnd() % sizeof(bytes);
					for (size_t j = 0; j < n; j++)
						bytes[j] = (uint8_t)rnd();
				}
				arena_init(&a, n * 8 + 65536);
				kwire_dec_init(&d, bytes, n, false, &a);
				(void)kschema_decode(m, v, &d);
				CU_ASSERT(a.used <= a.max);
				arena_release(&a);
			}
		}
	}
	buf_release(&out);
}

/* ---------------------------------------------------------------- bench */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A 1000-partition Fetch (10 topics x 100 partitions) at v11 and v16. */
static void bench_fetch(int16_t v)
{
	struct arena a;
	struct kmsg_fetch_req *q;
	struct buf out;
	struct kwire_enc e;
	int iters = 2000;
	double t0, dt;

	arena_init(&a, 0);
	q = kmsg_new(&a, kmsg_fetch_req, 1);
	q->n_topics = 10;
	q->topics = kmsg_new(&a, kmsg_fetch_req_fetch_topic, 10);
	for (int t = 0; t < 10; t++) {
		char *name = arena_alloc(&a, 16);

		snprintf(name, 16, "topic-%d", t);
		q->topics[t].topic = name;
		q->topics[t].topic_id.b[0] = (uint8_t)(t + 1);
		q->topics[t].n_partitions = 100;
		q->topics[t].partitions = kmsg_new(&a, kmsg_fetch_req_fetch_partition, 100);
		for (int p = 0; p < 100; p++) {
			q->topics[t].partitions[p].partition = p;
			q->topics[t].partitions[p].fetch_offset = 1000000 + p;
			q->topics[t].partitions[p].partition_max_bytes = 1 << 20;
		}
	}
	buf_init(&out, 0);
	kwire_enc_init(&e, &out, false);
	kschema_encode(&kmsg_fetch_req_msg, v, q, &e);
	CU_ASSERT_EQUAL_FATAL(e.err, 0);
	arena_release(&a);
	t0 = now_s();
	for (int i = 0; i < iters; i++) {
		struct kwire_dec d;
		struct kmsg_fetch_req *r;

		arena_init(&a, out.len * 8 + 65536); /* the server's bound */
		kwire_dec_init(&d, out.data, out.len, false, &a);
		r = kschema_decode(&kmsg_fetch_req_msg, v, &d);
		CU_ASSERT_FATAL(r && r->n_topics == 10 && r->topics[9].n_partitions == 100);
		arena_release(&a);
	}
	dt = now_s() - t0;
	printf("\n  bench: Fetch v%d, 1000 partitions, %zu bytes: %.1f us per decode"
	       " (%.0f MB/s)\n",
	       v, out.len, dt / iters * 1e6, (double)out.len * iters / dt / 1e6);
	buf_release(&out);
}

/* The answer to it: 1000 partitions of 100 record bytes each. */
static void bench_fetch_response(int16_t v)
{
	static uint8_t rec[100];
	struct arena a;
	struct kmsg_fetch_resp *m;
	struct buf out;
	int iters = 2000;
	double t0, dt;

	arena_init(&a, 0);
	m = kmsg_new(&a, kmsg_fetch_resp, 1);
	m->n_responses = 10;
	m->responses = kmsg_new(&a, kmsg_fetch_resp_fetchable_topic_response, 10);
	for (int t = 0; t < 10; t++) {
		struct kmsg_fetch_resp_fetchable_topic_response *x = &m->responses[t];

		x->topic = "topic-x";
		x->n_partitions = 100;
		x->partitions = kmsg_new(&a, kmsg_fetch_resp_partition_data, 100);
		for (int p = 0; p < 100; p++) {
			x->partitions[p].partition_index = p;
			x->partitions[p].records.p = rec;
			x->partitions[p].records.n = sizeof(rec);
		}
	}
	buf_init(&out, 0);
	t0 = now_s();
	for (int i = 0; i < iters; i++) {
		struct kwire_enc e;

		buf_reset(&out);
		kwire_enc_init(&e, &out, false);
		kschema_encode(&kmsg_fetch_resp_msg, v, m, &e);
		CU_ASSERT_EQUAL_FATAL(e.err, 0);
	}
	dt = now_s() - t0;
	printf("  bench: Fetch response v%d, 1000 partitions, %zu bytes: %.1f us per encode\n", v,
	       out.len, dt / iters * 1e6);
	buf_release(&out);
	arena_release(&a);
}

static void test_bench_fetch_decode(void)
{
	bench_fetch(11);
	bench_fetch(16);
	bench_fetch_response(11);
	bench_fetch_response(16);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_round_trips),
		UNIT_TEST(test_defaults),
		UNIT_TEST(test_rare_types),
		UNIT_TEST(test_metadata_v12_request),
		UNIT_TEST(test_metadata_many_tiny_names),
		UNIT_TEST(test_metadata_v12_response),
		UNIT_TEST(test_apiversions_v4),
		UNIT_TEST(test_java_client_frames),
		UNIT_TEST(test_hostile),
		UNIT_TEST(test_random_bytes),
		UNIT_TEST(test_bench_fetch_decode),
		UNIT_END,
	};
	int rc;

	buf_init(&W, 0);
	rc = unit_run("kschema", tests);
	buf_release(&W);
	return rc;
}
