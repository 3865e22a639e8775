/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ACL file parsing and lookup.  Files hold tens to hundreds of lines; a
 * lookup scans every entry (fnmatch on the matching ones), which is cheap
 * next to the request it guards.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/mem.h"
#include "store/auth/acl.h"

#define ACL_FILE_MAX (4u << 20)
#define ACL_FIELD_MAX 1024

struct acl_entry {
	char *principal; /* "User:*" matches everyone */
	enum acl_res kind;
	char *glob; /* NULL for the cluster */
	unsigned perms;
};

struct acl {
	struct acl_entry *v;
	size_t n;
};

static void errf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void acl_free(struct acl *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++) {
		mem_free(a->v[i].principal);
		mem_free(a->v[i].glob);
	}
	mem_free(a->v);
	mem_free(a);
}

size_t acl_count(const struct acl *a)
{
	return a ? a->n : 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Split into at most 3 fields; the first may be "quoted".  Returns the field
 * count (4: too many), -1 for an unterminated quote. */
static int fields(const char *p, size_t n, const char **f, size_t *fl)
{
	int nf = 0;
	size_t i = 0;

	while (i < n) {
		size_t j;

		while (i < n && is_space(p[i]))
			i++;
		if (i == n)
			break;
		if (nf == 3)
			return 4;
		if (nf == 0 && p[i] == '"') {
			const char *q = memchr(p + i + 1, '"', n - i - 1);

			if (!q)
				return -1;
			f[0] = p + i + 1;
			fl[0] = (size_t)(q - f[0]);
			nf = 1;
			i = (size_t)(q - p) + 1;
			if (i < n && !is_space(p[i]))
				return -1;
			continue;
		}
		j = i;
		while (j < n && !is_space(p[j]))
			j++;
		f[nf] = p + i;
		fl[nf] = j - i;
		nf++;
		i = j;
	}
	return nf;
}

static int parse_perms(const char *s, size_t n, enum acl_res kind, unsigned *out)
{
	unsigned perms = 0;
	size_t i = 0;

	while (i < n) {
		size_t j = i;

		while (j < n && s[j] != ',')
			j++;
		if (j - i == 7 && memcmp(s + i, "produce", 7) == 0 &&
		    (kind == ACL_TOPIC || kind == ACL_TXN))
			perms |= ACL_PRODUCE;
		else if (j - i == 7 && memcmp(s + i, "consume", 7) == 0 && kind != ACL_CLUSTER &&
			 kind != ACL_TXN)
			perms |= ACL_CONSUME;
		else if (j - i == 5 && memcmp(s + i, "admin", 5) == 0 && kind == ACL_TXN)
			perms |= ACL_ADMIN | ACL_PRODUCE;
		else if (j - i == 5 && memcmp(s + i, "admin", 5) == 0)
			perms |= ACL_ADMIN | ACL_CONSUME | (kind == ACL_TOPIC ? ACL_PRODUCE : 0);
		else
			return -ERR_INVALID;
		i = j + 1;
		if (j < n && i == n)
			return -ERR_INVALID; /* trailing comma */
	}
	if (perms == 0)
		return -ERR_INVALID;
	*out = perms;
	return 0;
}

static bool principal_valid(const char *s, size_t n)
{
	bool user = n > 5 && memcmp(s, "User:", 5) == 0;
	bool token = n > 6 && memcmp(s, "Token:", 6) == 0; /* HTTP tokens' own */

	if (n > ACL_FIELD_MAX || (!user && !token))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == '"' || (unsigned char)s[i] == 0x7f)
			return false;
	return true;
}

/* One grant line with fields f; on error *col and *why say where and why. */
static int parse_grant(struct acl *a, const char *p, const char **f, const size_t *fl, size_t *col,
		       const char **why)
{
	struct acl_entry e, *v;
	const char *g = f[1];
	size_t gl = fl[1];

	memset(&e, 0, sizeof(e));
	*col = (size_t)(f[0] - p) + 1 - (f[0] > p && f[0][-1] == '"' ? 1 : 0);
	if (!principal_valid(f[0], fl[0])) {
		*why = "principal must be User:NAME or Token:LINE (quote it if it has spaces)";
		return -ERR_INVALID;
	}
	*col = (size_t)(f[1] - p) + 1;
	e.kind = ACL_TOPIC;
	if (gl == 7 && memcmp(g, "cluster", 7) == 0) {
		e.kind = ACL_CLUSTER;
		gl = 0;
	} else if (gl >= 6 && memcmp(g, "group:", 6) == 0) {
		e.kind = ACL_GROUP;
		g += 6;
		gl -= 6;
	} else if (gl >= 4 && memcmp(g, "txn:", 4) == 0) {
		e.kind = ACL_TXN;
		g += 4;
		gl -= 4;
	} else if (gl >= 6 && memcmp(g, "topic:", 6) == 0) {
		g += 6;
		gl -= 6;
	}
	if (e.kind != ACL_CLUSTER && (gl == 0 || gl > ACL_FIELD_MAX)) {
		*why = "resource must be a topic glob, topic:GLOB, group:GLOB, txn:GLOB or cluster";
		return -ERR_INVALID;
	}
	*col = (size_t)(f[2] - p) + 1;
	if (parse_perms(f[2], fl[2], e.kind, &e.perms) < 0) {
		*why = e.kind == ACL_TOPIC
			       ? "permissions must be a comma list of produce, consume, admin"
		       : e.kind == ACL_GROUP ? "group permissions are consume and admin"
		       : e.kind == ACL_TXN   ? "txn permissions are produce and admin"
					     : "cluster permission is admin";
		return -ERR_INVALID;
	}
	v = mem_realloc(a->v, (a->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	a->v = v;
	e.principal = mem_strndup(f[0], fl[0]);
	e.glob = e.kind == ACL_CLUSTER ? NULL : mem_strndup(g, gl);
	if (!e.principal || (e.kind != ACL_CLUSTER && !e.glob)) {
		mem_free(e.principal);
		mem_free(e.glob);
		return -ENOMEM;
	}
	a->v[a->n++] = e;
	return 0;
}

int acl_parse(const char *name, const char *text, size_t len, struct acl **out, char *err,
	      size_t errlen)
{
	struct acl *a = mem_calloc(1, sizeof(*a));
	size_t pos = 0;
	int line = 0, rc = 0;

	*out = NULL;
	if (!a)
		return -ENOMEM;
	while (pos < len) {
		const char *p = text + pos, *nl = memchr(p, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - p) : len - pos, col = 1, fl[3];
		const char *f[3], *why = "";
		int nf;

		pos += n + (nl ? 1 : 0);
		line++;
		if (memchr(p, '\0', n)) {
			errf(err, errlen, "%s:%d:1: NUL byte in line", name, line);
			rc = -ERR_CONFIG;
			goto out;
		}
		nf = fields(p, n, f, fl);
		if (nf == 0 || (nf > 0 && f[0][0] == '#' && (f[0] == p || f[0][-1] != '"')))
			continue; /* blank, or a comment (a quoted principal may start with '#') */
		if (nf != 3) {
			errf(err, errlen, "%s:%d:1: expected 'principal resource permissions'%s",
			     name, line, nf < 0 ? " (unterminated quote)" : "");
			rc = -ERR_CONFIG;
			goto out;
		}
		rc = parse_grant(a, p, f, fl, &col, &why);
		if (rc == -ENOMEM)
			goto out;
		if (rc < 0) {
			errf(err, errlen, "%s:%d:%zu: %s", name, line, col, why);
			rc = -ERR_CONFIG;
			goto out;
		}
	}
	*out = a;
out:
	if (rc < 0)
		acl_free(a);
	return rc;
}

int acl_load(const char *path, struct acl **out, char *err, size_t errlen)
{
	struct buf b;
	int rc;

	*out = NULL;
	buf_init(&b, ACL_FILE_MAX);
	rc = fs_read_file(path, &b);
	if (rc < 0)
		errf(err, errlen, "%s: %s", path, err_str(rc));
	else
		rc = acl_parse(path, b.len ? (const char *)b.data : "", b.len, out, err, errlen);
	buf_release(&b);
	return rc;
}

static bool principal_matches(const struct acl_entry *e, const char *principal)
{
	return strcmp(e->principal, "User:*") == 0 || strcmp(e->principal, principal) == 0;
}

unsigned acl_perms(const struct acl *a, const char *principal, enum acl_res kind, const char *name)
{
	unsigned perms = 0;

	if (!a || !principal)
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		const struct acl_entry *e = &a->v[i];

		if (e->kind != kind || !principal_matches(e, principal))
			continue;
		if (kind == ACL_CLUSTER || !name || fnmatch(e->glob, name, 0) == 0)
			perms |= e->perms;
	}
	return perms;
}

bool acl_allows(const struct acl *a, const char *principal, enum acl_res kind, const char *name,
		unsigned perm)
{
	if (!a || !principal)
		return false;
	if (name || kind == ACL_CLUSTER) {
		unsigned have = acl_perms(a, principal, kind, name);

		return perm ? (have & perm) == perm : have != 0; /* 0: any grant */
	}
	/* some single resource must carry every bit */
	for (size_t i = 0; i < a->n; i++) {
		const struct acl_entry *e = &a->v[i];

		if (e->kind == kind && principal_matches(e, principal) && (e->perms & perm) == perm)
			return true;
	}
	return false;
}

int acl_entry(const struct acl *a, size_t i, const char **principal, enum acl_res *kind,
	      const char **glob, unsigned *perms)
{
	if (!a || i >= a->n)
		return -ERR_NOT_FOUND;
	*principal = a->v[i].principal;
	*kind = a->v[i].kind;
	*glob = a->v[i].glob;
	*perms = a->v[i].perms;
	return 0;
}

int acl_file_append(const char *path, const char *text, char *err, size_t errlen)
{
	struct acl *check = NULL;
	int fd, rc = acl_parse("new entries", text, strlen(text), &check, err, errlen);

	acl_free(check);
	if (rc < 0)
		return rc;
	fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	{
		struct stat st;
		char last = '\n';

		/* a last line without its newline must not swallow the first new one */
		if (fstat(fd, &st) == 0 && st.st_size > 0 &&
		    fs_pread_full(fd, &last, 1, st.st_size - 1) == 1 && last != '\n')
			rc = fs_write_full(fd, "\n", 1);
	}
	if (rc == 0)
		rc = fs_write_full(fd, text, strlen(text));
	if (rc == 0 && fsync(fd) != 0)
		rc = -errno;
	close(fd);
	return rc;
}

static const char *const perm_words[] = {"consume", "produce", "admin"};

/* "principal resource perms\n" for an entry whose perms changed. */
static int format_line(struct buf *out, const struct acl_entry *e, unsigned perms)
{
	bool quote = strchr(e->principal, ' ') || strchr(e->principal, '\t');
	int rc = buf_printf(out, quote ? "\"%s\" " : "%s ", e->principal);
	bool first = true;

	if (rc == 0 && e->kind == ACL_CLUSTER)
		rc = buf_append_str(out, "cluster ");
	else if (rc == 0)
		rc = buf_printf(out, "%s%s ",
				e->kind == ACL_GROUP ? "group:"
				: e->kind == ACL_TXN ? "txn:"
						     : "",
				e->glob);
	if (perms & ACL_ADMIN)
		perms = ACL_ADMIN; /* admin implies the rest */
	for (int b = 0; b < 3 && rc == 0; b++) {
		if (!(perms & (1u << b)))
			continue;
		rc = buf_printf(out, "%s%s", first ? "" : ",", perm_words[b]);
		first = false;
	}
	return rc == 0 ? buf_append_str(out, "\n") : rc;
}

int acl_file_remove(const char *path,
		    unsigned (*drop)(const char *principal, enum acl_res kind, const char *glob,
				     unsigned perms, void *arg),
		    void *arg, size_t *removed)
{
	char dcopy[PATH_MAX], bcopy[PATH_MAX], err[256];
	struct buf in, out;
	struct stat st;
	size_t pos = 0;
	int rc;

	*removed = 0;
	if (strlen(path) >= sizeof(dcopy))
		return -ENAMETOOLONG;
	if (stat(path, &st) != 0)
		return -errno;
	buf_init(&in, ACL_FILE_MAX);
	buf_init(&out, ACL_FILE_MAX);
	rc = fs_read_file(path, &in);
	while (rc == 0 && pos < in.len) {
		const char *p = (const char *)in.data + pos;
		const char *nl = memchr(p, '\n', in.len - pos);
		size_t n = nl ? (size_t)(nl - p) + 1 : in.len - pos;
		struct acl *one = NULL;
		unsigned gone = 0;

		pos += n;
		/* one line at a time: comments and untouched grants stay as written */
		if (acl_parse(path, p, n, &one, err, sizeof(err)) == 0 && one->n == 1)
			gone = drop(one->v[0].principal, one->v[0].kind, one->v[0].glob,
				    one->v[0].perms, arg) &
			       one->v[0].perms;
		if (!gone)
			rc = buf_append(&out, p, n);
		else if (one->v[0].perms & ~gone)
			rc = format_line(&out, &one->v[0], one->v[0].perms & ~gone);
		if (gone)
			(*removed)++;
		acl_free(one);
	}
	snprintf(dcopy, sizeof(dcopy), "%s", path);
	snprintf(bcopy, sizeof(bcopy), "%s", path);
	if (rc == 0 && *removed)
		rc = fs_write_atomic(dirname(dcopy), basename(bcopy),
				     out.data ? (const void *)out.data : (const void *)"", out.len);
	if (rc == 0 && *removed && chmod(path, st.st_mode & 07777) != 0)
		rc = -errno;
	buf_release(&in);
	buf_release(&out);
	return rc;
}
