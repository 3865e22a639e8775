/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Kafka ACL APIs over the ACL file.  Every grant line is seen as one to
 * three Kafka bindings (struct view); filters match bindings the way a
 * Kafka broker's do, with MATCH taken as ANY (the file's globs are not
 * Kafka's pattern model).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/log.h"
#include "store/auth/auth.h"
#include "store/kafka/kafka_acls.h"
#include "store/kafka/kafka_api.h"
#include "store/kafka/kafka_authz.h"
#include "store/kafka/kafka_req.h"

#define KERR_SECURITY_DISABLED 54
#define NAME_MAX_LEN 1024

enum { RT_ANY = 1, RT_TOPIC = 2, RT_GROUP = 3, RT_CLUSTER = 4, RT_TXN = 5 };
enum { PT_ANY = 1, PT_MATCH = 2, PT_LITERAL = 3, PT_PREFIXED = 4 };
enum { OP_ANY = 1, OP_ALL = 2, OP_READ = 3, OP_WRITE = 4 };
enum { PERM_ANY = 1, PERM_ALLOW = 3 };

/* The Kafka bindings of one grant line. */
struct view {
	int8_t rt;
	int8_t pt;
	char name[NAME_MAX_LEN + 1];
	const char *principal;
	int nops;
	int8_t ops[2];
	unsigned bits[2]; /* the line's permission bits each binding stands for */
};

static bool has_meta(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '*' || s[i] == '?' || s[i] == '[' || s[i] == '\\')
			return true;
	return false;
}

static void entry_view(const char *principal, enum acl_res kind, const char *glob, unsigned perms,
		       struct view *v)
{
	size_t gl = glob ? strlen(glob) : 0;

	memset(v, 0, sizeof(*v));
	v->principal = principal;
	v->rt = kind == ACL_TOPIC   ? RT_TOPIC
		: kind == ACL_GROUP ? RT_GROUP
		: kind == ACL_TXN   ? RT_TXN
				    : RT_CLUSTER;
	v->pt = PT_LITERAL;
	if (kind == ACL_CLUSTER)
		snprintf(v->name, sizeof(v->name), "kafka-cluster");
	else if (gl > 1 && glob[gl - 1] == '*' && !has_meta(glob, gl - 1)) {
		v->pt = PT_PREFIXED;
		snprintf(v->name, sizeof(v->name), "%.*s", (int)(gl - 1), glob);
	} else {
		snprintf(v->name, sizeof(v->name), "%s", glob);
	}
	if (perms & ACL_ADMIN) {
		v->ops[v->nops] = OP_ALL;
		v->bits[v->nops++] = perms;
		return;
	}
	if (perms & ACL_CONSUME) {
		v->ops[v->nops] = OP_READ;
		v->bits[v->nops++] = ACL_CONSUME;
	}
	if (perms & ACL_PRODUCE) {
		v->ops[v->nops] = OP_WRITE;
		v->bits[v->nops++] = ACL_PRODUCE;
	}
}

static bool matches(const struct kafka_acl_binding *f, const struct view *v, int k)
{
	return (f->resource_type == RT_ANY || f->resource_type == v->rt) &&
	       (!f->resource_name || strcmp(f->resource_name, v->name) == 0) &&
	       (f->pattern_type == PT_ANY || f->pattern_type == PT_MATCH ||
		f->pattern_type == v->pt) &&
	       (!f->principal || strcmp(f->principal, v->principal) == 0) &&
	       (!f->host || strcmp(f->host, "*") == 0) &&
	       (f->operation == OP_ANY || f->operation == v->ops[k]) &&
	       (f->permission == PERM_ANY || f->permission == PERM_ALLOW);
}

/* Who may use these APIs; the error to answer, or KERR_NONE. */
static int16_t gate(struct kafka_req *r)
{
	struct auth *a = r->ctx->auth;

	if (!auth_acl_path(a))
		return KERR_SECURITY_DISABLED;
	if (kafka_authz_may(r, ACL_CLUSTER, NULL, ACL_ADMIN))
		return KERR_NONE;
	auth_count(a, AUTH_KAFKA, AUTH_DENIED);
	return KERR_CLUSTER_AUTHORIZATION_FAILED;
}

static void get_binding(struct kwire_dec *d, int16_t v, bool filter, struct kafka_acl_binding *b)
{
	b->resource_type = kwire_get_i8(d);
	b->resource_name = filter ? kwire_get_nstr(d) : kwire_get_str(d);
	b->pattern_type = v >= 1 ? kwire_get_i8(d) : PT_LITERAL;
	b->principal = filter ? kwire_get_nstr(d) : kwire_get_str(d);
	b->host = filter ? kwire_get_nstr(d) : kwire_get_str(d);
	b->operation = kwire_get_i8(d);
	b->permission = kwire_get_i8(d);
}

static void *decode_list(struct kwire_dec *d, int16_t v, bool filter, bool array)
{
	struct kafka_acls_req *q = kwire_alloc(d, 1, sizeof(*q));

	if (!q)
		return NULL;
	q->n = array ? kwire_get_array(d, 9) : 1;
	if (q->n < 0)
		kwire_dec_fail(d);
	q->v = kwire_alloc(d, q->n, sizeof(*q->v));
	for (int32_t i = 0; i < q->n && kwire_dec_ok(d); i++)
		get_binding(d, v, filter, &q->v[i]);
	return kwire_dec_ok(d) ? q : NULL;
}

void *kafka_acls_describe_decode(struct kwire_dec *d, int16_t v)
{
	return decode_list(d, v, true, false);
}

void *kafka_acls_create_decode(struct kwire_dec *d, int16_t v)
{
	return decode_list(d, v, false, true);
}

void *kafka_acls_delete_decode(struct kwire_dec *d, int16_t v)
{
	return decode_list(d, v, true, true);
}

/* ---------------------------------------------------------------- Describe */

void kafka_acls_describe_handle(struct kafka_req *r)
{
	struct kafka_acls_req *q = r->body;
	const struct acl *acl = auth_acl(r->ctx->auth);
	struct kwire_enc *e = kafka_req_begin(r);
	int16_t err = gate(r), v = r->hdr.api_version;
	size_t n = err ? 0 : acl_count(acl), count_pos;
	int32_t count = 0;

	kafka_req_note(r, err);
	kwire_put_i32(e, 0); /* throttle_time_ms */
	kwire_put_i16(e, err);
	kwire_put_str(e, err == KERR_SECURITY_DISABLED ? "no auth.acl_file is configured" : NULL);
	count_pos = kwire_enc_pos(e);
	kwire_put_array(e, 0); /* patched below */
	for (size_t i = 0; i < n; i++) {
		const char *principal, *glob;
		enum acl_res kind;
		unsigned perms;
		struct view vw;

		acl_entry(acl, i, &principal, &kind, &glob, &perms);
		entry_view(principal, kind, glob, perms, &vw);
		for (int k = 0; k < vw.nops; k++) {
			if (!matches(&q->v[0], &vw, k))
				continue;
			kwire_put_i8(e, vw.rt);
			kwire_put_str(e, vw.name);
			if (v >= 1)
				kwire_put_i8(e, vw.pt);
			kwire_put_array(e, 1);
			kwire_put_str(e, vw.principal);
			kwire_put_str(e, "*");
			kwire_put_i8(e, vw.ops[k]);
			kwire_put_i8(e, PERM_ALLOW);
			count++;
		}
	}
	kwire_patch_i32(e, count_pos, count);
	kafka_req_finish(r);
}

/* ---------------------------------------------------------------- Create */

/* The ACL file line for one creation, or a reason it has none. */
static const char *creation_line(const struct kafka_acl_binding *b, struct buf *out)
{
	const char *perm = b->operation == OP_ALL     ? "admin"
			   : b->operation == OP_READ  ? "consume"
			   : b->operation == OP_WRITE ? "produce"
						      : NULL;
	size_t nl = strlen(b->resource_name);
	int rc;

	if (b->permission != PERM_ALLOW)
		return "only ALLOW bindings exist here (no DENY)";
	if (strcmp(b->host, "*") != 0)
		return "only host '*' is supported";
	if (!perm || (b->operation == OP_WRITE && b->resource_type != RT_TOPIC &&
		      b->resource_type != RT_TXN))
		return "operations are READ, WRITE (topics, transactional ids) and ALL";
	if (b->pattern_type != PT_LITERAL && b->pattern_type != PT_PREFIXED)
		return "patterns are LITERAL and PREFIXED";
	if (b->resource_type == RT_CLUSTER) {
		if (b->operation != OP_ALL)
			return "the cluster grant is ALL (admin)";
		rc = buf_printf(out, "\"%s\" cluster %s\n", b->principal, perm);
	} else if (b->resource_type == RT_TOPIC || b->resource_type == RT_GROUP ||
		   b->resource_type == RT_TXN) {
		if (nl == 0 || nl > NAME_MAX_LEN || strpbrk(b->resource_name, " \t\r\n\""))
			return "bad resource name";
		rc = buf_printf(out, "\"%s\" %s", b->principal,
				b->resource_type == RT_GROUP ? "group:"
				: b->resource_type == RT_TXN ? "txn:"
							     : "");
		for (size_t i = 0; i < nl && rc == 0; i++) {
			char c = b->resource_name[i];
			bool lit_star = b->pattern_type == PT_LITERAL && nl == 1 && c == '*';

			/* the file holds fnmatch globs: a literal name escapes them */
			if (!lit_star && (c == '*' || c == '?' || c == '[' || c == '\\'))
				rc = buf_append_u8(out, '\\');
			if (rc == 0)
				rc = buf_append_u8(out, (uint8_t)c);
		}
		if (rc == 0)
			rc = buf_printf(out, "%s %s\n", b->pattern_type == PT_PREFIXED ? "*" : "",
					perm);
	} else {
		return "resource types are TOPIC, GROUP and CLUSTER";
	}
	return rc < 0 ? "out of memory" : NULL;
}

void kafka_acls_create_handle(struct kafka_req *r)
{
	struct kafka_acls_req *q = r->body;
	int16_t err = gate(r);
	int16_t *errs = arena_calloc(&r->arena, q->n ? (size_t)q->n : 1, sizeof(*errs));
	const char **msgs = arena_calloc(&r->arena, q->n ? (size_t)q->n : 1, sizeof(*msgs));
	struct kwire_enc *e;
	struct buf all, one;
	char why[256] = "";
	int rc = 0;

	buf_init(&all, 1 << 20);
	buf_init(&one, 4 * NAME_MAX_LEN);
	for (int32_t i = 0; errs && msgs && i < q->n; i++) {
		struct acl *check = NULL;

		buf_reset(&one);
		errs[i] = err;
		msgs[i] = err ? NULL : creation_line(&q->v[i], &one);
		if (!err && !msgs[i] &&
		    acl_parse("creation", (const char *)one.data, one.len, &check, why,
			      sizeof(why)) < 0)
			msgs[i] = "principal must be User:NAME";
		acl_free(check);
		if (msgs[i])
			errs[i] = KERR_INVALID_REQUEST;
		else if (!err)
			rc = rc ? rc : buf_append(&all, one.data, one.len);
	}
	if (rc == 0 && all.len) {
		rc = buf_cstr(&all);
		if (rc == 0)
			rc = acl_file_append(auth_acl_path(r->ctx->auth), (const char *)all.data,
					     why, sizeof(why));
		if (rc == 0) {
			log_info("kafka: %s added ACL entries with CreateAcls",
				 kafka_authz_principal(r));
			auth_reload_acl(r->ctx->auth);
		}
	}
	e = kafka_req_begin(r);
	kwire_put_i32(e, 0);
	kwire_put_array(e, q->n);
	for (int32_t i = 0; errs && msgs && i < q->n; i++) {
		int16_t ei = errs[i] ? errs[i] : rc < 0 ? KERR_UNKNOWN_SERVER_ERROR : KERR_NONE;

		kafka_req_note(r, ei);
		kwire_put_i16(e, ei);
		kwire_put_str(e, msgs[i]);
	}
	if (!errs || !msgs)
		r->enc.err = -ENOMEM;
	buf_release(&all);
	buf_release(&one);
	kafka_req_finish(r);
}

/* ---------------------------------------------------------------- Delete */

static unsigned drop_matching(const char *principal, enum acl_res kind, const char *glob,
			      unsigned perms, void *arg)
{
	const struct kafka_acls_req *q = arg;
	unsigned bits = 0;
	struct view vw;

	entry_view(principal, kind, glob, perms, &vw);
	for (int k = 0; k < vw.nops; k++)
		for (int32_t f = 0; f < q->n; f++)
			if (matches(&q->v[f], &vw, k))
				bits |= vw.bits[k];
	return bits;
}

static void put_matches(struct kafka_req *r, const struct acl *acl,
			const struct kafka_acl_binding *f)
{
	struct kwire_enc *e = &r->enc;
	size_t pos = kwire_enc_pos(e), n = acl_count(acl);
	int32_t count = 0;

	kwire_put_array(e, 0); /* patched below */
	for (size_t i = 0; i < n; i++) {
		const char *principal, *glob;
		enum acl_res kind;
		unsigned perms;
		struct view vw;

		acl_entry(acl, i, &principal, &kind, &glob, &perms);
		entry_view(principal, kind, glob, perms, &vw);
		for (int k = 0; k < vw.nops; k++) {
			if (!matches(f, &vw, k))
				continue;
			kwire_put_i16(e, KERR_NONE);
			kwire_put_str(e, NULL);
			kwire_put_i8(e, vw.rt);
			kwire_put_str(e, vw.name);
			if (r->hdr.api_version >= 1)
				kwire_put_i8(e, vw.pt);
			kwire_put_str(e, vw.principal);
			kwire_put_str(e, "*");
			kwire_put_i8(e, vw.ops[k]);
			kwire_put_i8(e, PERM_ALLOW);
			count++;
		}
	}
	kwire_patch_i32(e, pos, count);
}

void kafka_acls_delete_handle(struct kafka_req *r)
{
	struct kafka_acls_req *q = r->body;
	const struct acl *acl = auth_acl(r->ctx->auth);
	int16_t err = gate(r);
	struct kwire_enc *e = kafka_req_begin(r);
	size_t removed = 0;
	int rc = 0;

	kwire_put_i32(e, 0);
	kwire_put_array(e, q->n);
	for (int32_t i = 0; i < q->n; i++) {
		kafka_req_note(r, err);
		kwire_put_i16(e, err);
		kwire_put_str(e, NULL);
		if (err)
			kwire_put_array(e, 0);
		else
			put_matches(r, acl, &q->v[i]); /* what is about to go */
	}
	if (!err)
		rc = acl_file_remove(auth_acl_path(r->ctx->auth), drop_matching, q, &removed);
	if (rc < 0) {
		log_error("kafka: DeleteAcls: cannot rewrite %s: %s", auth_acl_path(r->ctx->auth),
			  err_str(rc));
		r->enc.err = rc; /* closes the connection: the client must not trust it */
	} else if (removed) {
		log_info("kafka: %s removed ACL grants on %zu lines with DeleteAcls",
			 kafka_authz_principal(r), removed);
		auth_reload_acl(r->ctx->auth);
	}
	kafka_req_finish(r);
}
