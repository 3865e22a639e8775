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
#include "store/kafka/kmsg_gen.h"

#define KERR_SECURITY_DISABLED 54
#define NAME_MAX_LEN 1024

enum { RT_ANY = 1, RT_TOPIC = 2, RT_GROUP = 3, RT_CLUSTER = 4 };
enum { PT_ANY = 1, PT_MATCH = 2, PT_LITERAL = 3, PT_PREFIXED = 4 };
enum { OP_ANY = 1, OP_ALL = 2, OP_READ = 3, OP_WRITE = 4 };
enum { PERM_ANY = 1, PERM_ALLOW = 3 };

/* One binding or filter, whichever message it came in (Describe/Delete
 * filters: NULL strings and type 1 "ANY" match everything). */
struct kafka_acl_binding {
	int8_t resource_type;
	const char *resource_name;
	int8_t pattern_type;
	const char *principal;
	const char *host;
	int8_t operation;
	int8_t permission;
};

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
	v->rt = kind == ACL_TOPIC ? RT_TOPIC : kind == ACL_GROUP ? RT_GROUP : RT_CLUSTER;
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

/* Up to two Kafka bindings per grant line (struct view). */
#define BINDINGS_PER_LINE 2

#define DESCRIBE_RESOURCE kmsg_describe_acls_resp_describe_acls_resource
#define DESCRIBE_ACL kmsg_describe_acls_resp_acl_description
#define DELETE_FILTER kmsg_delete_acls_req_delete_acls_filter
#define DELETE_RESULT kmsg_delete_acls_resp_delete_acls_filter_result
#define DELETE_MATCH kmsg_delete_acls_resp_delete_acls_matching_acl

/* Describe and Delete filters have the same fields. */
static void filter_of(const struct DELETE_FILTER *f, struct kafka_acl_binding *b)
{
	b->resource_type = f->resource_type_filter;
	b->resource_name = f->resource_name_filter;
	b->pattern_type = f->pattern_type_filter;
	b->principal = f->principal_filter;
	b->host = f->host_filter;
	b->operation = f->operation;
	b->permission = f->permission_type;
}

/* ---------------------------------------------------------------- Describe */

void kafka_acls_describe_handle(struct kafka_req *r)
{
	const struct kmsg_describe_acls_req *q = r->body;
	const struct acl *acl = auth_acl(r->ctx->auth);
	struct kmsg_describe_acls_resp *m = kmsg_new(&r->arena, kmsg_describe_acls_resp, 1);
	int16_t err = gate(r);
	size_t n = err ? 0 : acl_count(acl);
	struct DESCRIBE_RESOURCE *res =
		kmsg_new(&r->arena, DESCRIBE_RESOURCE, (int32_t)(n * BINDINGS_PER_LINE));
	struct DESCRIBE_ACL *acls =
		kmsg_new(&r->arena, DESCRIBE_ACL, (int32_t)(n * BINDINGS_PER_LINE));
	struct kafka_acl_binding f;
	int32_t count = 0;

	if (!m || !res || !acls) {
		kafka_req_begin(r)->err = -ENOMEM;
		kafka_req_finish(r);
		return;
	}
	f.resource_type = q->resource_type_filter;
	f.resource_name = q->resource_name_filter;
	f.pattern_type = q->pattern_type_filter;
	f.principal = q->principal_filter;
	f.host = q->host_filter;
	f.operation = q->operation;
	f.permission = q->permission_type;
	kafka_req_note(r, err);
	for (size_t i = 0; i < n; i++) {
		const char *principal, *glob;
		enum acl_res kind;
		unsigned perms;
		struct view *vw = arena_alloc(&r->arena, sizeof(*vw));

		if (!vw)
			break;
		acl_entry(acl, i, &principal, &kind, &glob, &perms);
		entry_view(principal, kind, glob, perms, vw);
		for (int k = 0; k < vw->nops; k++) {
			struct DESCRIBE_RESOURCE *x = &res[count];
			struct DESCRIBE_ACL *y = &acls[count];

			if (!matches(&f, vw, k))
				continue;
			x->resource_type = vw->rt;
			x->resource_name = vw->name;
			x->pattern_type = vw->pt;
			x->n_acls = 1;
			x->acls = y;
			y->principal = (char *)vw->principal;
			y->host = "*";
			y->operation = vw->ops[k];
			y->permission_type = PERM_ALLOW;
			count++;
		}
	}
	m->error_code = err;
	m->error_message = err == KERR_SECURITY_DISABLED ? "no auth.acl_file is configured" : NULL;
	m->n_resources = count;
	m->resources = res;
	kafka_req_respond(r, m);
}

/* ---------------------------------------------------------------- Create */

/* The ACL file line for one creation, or a reason it has none. */
static const char *creation_line(const struct kmsg_create_acls_req_acl_creation *cr,
				 struct buf *out)
{
	const struct kafka_acl_binding bb = {
		cr->resource_type, cr->resource_name, cr->resource_pattern_type, cr->principal,
		cr->host,          cr->operation,     cr->permission_type,
	};
	const struct kafka_acl_binding *b = &bb;
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
	if (!perm || (b->operation == OP_WRITE && b->resource_type != RT_TOPIC))
		return "operations are READ, WRITE (topics) and ALL";
	if (b->pattern_type != PT_LITERAL && b->pattern_type != PT_PREFIXED)
		return "patterns are LITERAL and PREFIXED";
	if (b->resource_type == RT_CLUSTER) {
		if (b->operation != OP_ALL)
			return "the cluster grant is ALL (admin)";
		rc = buf_printf(out, "\"%s\" cluster %s\n", b->principal, perm);
	} else if (b->resource_type == RT_TOPIC || b->resource_type == RT_GROUP) {
		if (nl == 0 || nl > NAME_MAX_LEN || strpbrk(b->resource_name, " \t\r\n\""))
			return "bad resource name";
		rc = buf_printf(out, "\"%s\" %s", b->principal,
				b->resource_type == RT_GROUP ? "group:" : "");
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
	const struct kmsg_create_acls_req *q = r->body;
	int32_t n = q->n_creations > 0 ? q->n_creations : 0;
	int16_t err = gate(r);
	struct kmsg_create_acls_resp *m = kmsg_new(&r->arena, kmsg_create_acls_resp, 1);
	struct kmsg_create_acls_resp_acl_creation_result *res =
		kmsg_new(&r->arena, kmsg_create_acls_resp_acl_creation_result, n);
	struct buf all, one;
	char why[256] = "";
	int rc = 0;

	if (!m || !res) {
		kafka_req_begin(r)->err = -ENOMEM;
		kafka_req_finish(r);
		return;
	}
	buf_init(&all, 1 << 20);
	buf_init(&one, 4 * NAME_MAX_LEN);
	for (int32_t i = 0; i < n; i++) {
		struct acl *check = NULL;
		const char *msg;

		buf_reset(&one);
		res[i].error_code = err;
		msg = err ? NULL : creation_line(&q->creations[i], &one);
		if (!err && !msg &&
		    acl_parse("creation", (const char *)one.data, one.len, &check, why,
			      sizeof(why)) < 0)
			msg = "principal must be User:NAME";
		acl_free(check);
		res[i].error_message = (char *)msg;
		if (msg)
			res[i].error_code = KERR_INVALID_REQUEST;
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
	for (int32_t i = 0; i < n; i++) {
		if (!res[i].error_code && rc < 0)
			res[i].error_code = KERR_UNKNOWN_SERVER_ERROR;
		kafka_req_note(r, res[i].error_code);
	}
	m->n_results = n;
	m->results = res;
	kafka_req_respond(r, m);
	buf_release(&all);
	buf_release(&one);
}

/* ---------------------------------------------------------------- Delete */

struct delete_filters {
	int32_t n;
	struct kafka_acl_binding *v;
};

static unsigned drop_matching(const char *principal, enum acl_res kind, const char *glob,
			      unsigned perms, void *arg)
{
	const struct delete_filters *q = arg;
	unsigned bits = 0;
	struct view vw;

	entry_view(principal, kind, glob, perms, &vw);
	for (int k = 0; k < vw.nops; k++)
		for (int32_t f = 0; f < q->n; f++)
			if (matches(&q->v[f], &vw, k))
				bits |= vw.bits[k];
	return bits;
}

/* The bindings filter f is about to remove, into x. */
static int list_matches(struct kafka_req *r, const struct acl *acl,
			const struct kafka_acl_binding *f, struct DELETE_RESULT *x)
{
	size_t n = acl_count(acl);
	struct DELETE_MATCH *mt =
		kmsg_new(&r->arena, DELETE_MATCH, (int32_t)(n * BINDINGS_PER_LINE));

	if (!mt)
		return -ENOMEM;
	x->matching_acls = mt;
	for (size_t i = 0; i < n; i++) {
		const char *principal, *glob;
		enum acl_res kind;
		unsigned perms;
		struct view *vw = arena_alloc(&r->arena, sizeof(*vw));

		if (!vw)
			return -ENOMEM;
		acl_entry(acl, i, &principal, &kind, &glob, &perms);
		entry_view(principal, kind, glob, perms, vw);
		for (int k = 0; k < vw->nops; k++) {
			struct DELETE_MATCH *y = &mt[x->n_matching_acls];

			if (!matches(f, vw, k))
				continue;
			y->resource_type = vw->rt;
			y->resource_name = vw->name;
			y->pattern_type = vw->pt;
			/* a copy: the ACL reloads before the answer is encoded */
			y->principal =
				arena_strndup(&r->arena, vw->principal, strlen(vw->principal));
			if (!y->principal)
				return -ENOMEM;
			y->host = "*";
			y->operation = vw->ops[k];
			y->permission_type = PERM_ALLOW;
			x->n_matching_acls++;
		}
	}
	return 0;
}

void kafka_acls_delete_handle(struct kafka_req *r)
{
	const struct kmsg_delete_acls_req *q = r->body;
	const struct acl *acl = auth_acl(r->ctx->auth);
	int16_t err = gate(r);
	int32_t n = q->n_filters > 0 ? q->n_filters : 0;
	struct kmsg_delete_acls_resp *m = kmsg_new(&r->arena, kmsg_delete_acls_resp, 1);
	struct DELETE_RESULT *res = kmsg_new(&r->arena, DELETE_RESULT, n);
	struct delete_filters fs = {n, arena_calloc(&r->arena, n ? (size_t)n : 1, sizeof(*fs.v))};
	size_t removed = 0;
	int rc = m && res && fs.v ? 0 : -ENOMEM;

	for (int32_t i = 0; rc == 0 && i < n; i++) {
		filter_of(&q->filters[i], &fs.v[i]);
		kafka_req_note(r, err);
		res[i].error_code = err;
		if (!err)
			rc = list_matches(r, acl, &fs.v[i], &res[i]); /* what is about to go */
	}
	if (rc == 0 && !err)
		rc = acl_file_remove(auth_acl_path(r->ctx->auth), drop_matching, &fs, &removed);
	if (rc < 0) {
		log_error("kafka: DeleteAcls: cannot rewrite %s: %s", auth_acl_path(r->ctx->auth),
			  err_str(rc));
		/* closes the connection: the client must not trust an answer */
		kafka_req_begin(r)->err = rc;
		kafka_req_finish(r);
		return;
	}
	if (removed) {
		log_info("kafka: %s removed ACL grants on %zu lines with DeleteAcls",
			 kafka_authz_principal(r), removed);
		auth_reload_acl(r->ctx->auth);
	}
	m->n_filter_results = n;
	m->filter_results = res;
	kafka_req_respond(r, m);
}
