/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tokens file parsing and constant-time lookup.  Identities (distinct token
 * strings) hold their grants in one array each; the file is small (tens of
 * lines), so lookups scan everything, which is also what constant time
 * needs.
 */
#include <fnmatch.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "store/http/http_tokens.h"

#define TOKENS_FILE_MAX (4u << 20)
#define TOKEN_MAX 512

struct grant {
	char *glob;
	unsigned perms;
};

struct identity {
	uint8_t *token;
	size_t len;
	int line;
	char *principal; /* "User:NAME" (mapped) or "Token:LINE" */
	struct grant *grants;
	size_t ngrants;
};

struct http_tokens {
	struct identity *ids;
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

void http_tokens_free(struct http_tokens *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		struct identity *id = &t->ids[i];

		if (id->token)
			explicit_bzero(id->token, id->len);
		mem_free(id->token);
		mem_free(id->principal);
		for (size_t g = 0; g < id->ngrants; g++)
			mem_free(id->grants[g].glob);
		mem_free(id->grants);
	}
	mem_free(t->ids);
	mem_free(t);
}

size_t http_tokens_count(const struct http_tokens *t)
{
	return t->n;
}

static int parse_perms(const char *s, size_t n, unsigned *out)
{
	unsigned perms = 0;
	size_t i = 0;

	while (i < n) {
		size_t j = i;

		while (j < n && s[j] != ',')
			j++;
		if (j - i == 7 && memcmp(s + i, "produce", 7) == 0)
			perms |= HTTP_PERM_PRODUCE;
		else if (j - i == 7 && memcmp(s + i, "consume", 7) == 0)
			perms |= HTTP_PERM_CONSUME;
		else if (j - i == 5 && memcmp(s + i, "admin", 5) == 0)
			perms |= HTTP_PERM_ADMIN | HTTP_PERM_PRODUCE | HTTP_PERM_CONSUME;
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

static struct identity *identity_get(struct http_tokens *t, const char *tok, size_t len, int line)
{
	struct identity *ids;

	for (size_t i = 0; i < t->n; i++) {
		if (t->ids[i].len == len && memcmp(t->ids[i].token, tok, len) == 0)
			return &t->ids[i];
	}
	ids = mem_realloc(t->ids, (t->n + 1) * sizeof(*ids));
	if (!ids)
		return NULL;
	t->ids = ids;
	memset(&ids[t->n], 0, sizeof(ids[t->n]));
	ids[t->n].token = mem_alloc(len);
	if (!ids[t->n].token)
		return NULL;
	memcpy(ids[t->n].token, tok, len);
	ids[t->n].len = len;
	ids[t->n].line = line;
	return &ids[t->n++];
}

static int add_grant(struct identity *id, const char *glob, size_t glen, unsigned perms)
{
	struct grant *g = mem_realloc(id->grants, (id->ngrants + 1) * sizeof(*g));

	if (!g)
		return -ENOMEM;
	id->grants = g;
	g[id->ngrants].glob = mem_strndup(glob, glen);
	if (!g[id->ngrants].glob)
		return -ENOMEM;
	g[id->ngrants].perms = perms;
	id->ngrants++;
	return 0;
}

/* "token User:NAME": the token authenticates as that principal, whose
 * grants come from auth.acl_file.  One principal per token. */
static int set_principal(struct identity *id, const char *p, size_t n)
{
	if (id->principal)
		return strlen(id->principal) == n && memcmp(id->principal, p, n) == 0 ? 0
										      : -ERR_EXISTS;
	id->principal = mem_strndup(p, n);
	return id->principal ? 0 : -ENOMEM;
}

/* Split one line into at most 4 whitespace-separated fields. */
static int fields(const char *p, size_t n, const char **f, size_t *fl)
{
	int nf = 0;
	size_t i = 0;

	while (i < n) {
		size_t j;

		while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r'))
			i++;
		if (i == n)
			break;
		j = i;
		while (j < n && p[j] != ' ' && p[j] != '\t' && p[j] != '\r')
			j++;
		if (nf == 4)
			return 5;
		f[nf] = p + i;
		fl[nf] = j - i;
		nf++;
		i = j;
	}
	return nf;
}

int http_tokens_parse(const char *name, const char *text, size_t len, struct http_tokens **out,
		      char *err, size_t errlen)
{
	struct http_tokens *t = mem_calloc(1, sizeof(*t));
	size_t pos = 0;
	int line = 0, rc = 0;

	*out = NULL;
	if (!t)
		return -ENOMEM;
	while (pos < len) {
		const char *p = text + pos, *nl = memchr(p, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - p) : len - pos;
		const char *f[4];
		size_t fl[4];
		struct identity *id;
		unsigned perms = 0;
		int nf;

		pos += n + (nl ? 1 : 0);
		line++;
		if (memchr(p, '\0', n)) {
			errf(err, errlen, "%s:%d: NUL byte in line", name, line);
			rc = -ERR_CONFIG;
			goto out;
		}
		nf = fields(p, n, f, fl);
		if (nf == 0 || f[0][0] == '#')
			continue;
		if (nf != 3 && !(nf == 2 && fl[1] > 5 && memcmp(f[1], "User:", 5) == 0)) {
			errf(err, errlen,
			     "%s:%d: expected 'token topic-glob permissions' or "
			     "'token User:NAME', got %d fields",
			     name, line, nf > 4 ? 4 : nf);
			rc = -ERR_CONFIG;
			goto out;
		}
		if (fl[0] > TOKEN_MAX) {
			errf(err, errlen, "%s:%d: token longer than %d bytes", name, line,
			     TOKEN_MAX);
			rc = -ERR_CONFIG;
			goto out;
		}
		for (size_t i = 0; i < fl[0]; i++) {
			if ((unsigned char)f[0][i] <= 0x20 || (unsigned char)f[0][i] >= 0x7f) {
				errf(err, errlen, "%s:%d: token must be printable ASCII", name,
				     line);
				rc = -ERR_CONFIG;
				goto out;
			}
		}
		if (nf == 3 && parse_perms(f[2], fl[2], &perms) < 0) {
			errf(err, errlen,
			     "%s:%d: permissions must be a comma list of produce, "
			     "consume, admin",
			     name, line);
			rc = -ERR_CONFIG;
			goto out;
		}
		if (fl[0] < 16)
			log_warn("%s:%d: token shorter than 16 characters is easy to guess", name,
				 line);
		id = identity_get(t, f[0], fl[0], line);
		if (!id) {
			rc = -ENOMEM;
			goto out;
		}
		rc = nf == 3 ? add_grant(id, f[1], fl[1], perms) : set_principal(id, f[1], fl[1]);
		if (rc == -ERR_EXISTS) {
			errf(err, errlen, "%s:%d: token already mapped to another principal", name,
			     line);
			rc = -ERR_CONFIG;
		}
		if (rc < 0)
			goto out;
	}
	if (t->n == 0) {
		errf(err, errlen, "%s: no tokens: every request would be refused", name);
		rc = -ERR_CONFIG;
		goto out;
	}
	for (size_t i = 0; i < t->n; i++) {
		char tmp[32];

		if (t->ids[i].principal)
			continue;
		snprintf(tmp, sizeof(tmp), "Token:%d", t->ids[i].line);
		t->ids[i].principal = mem_strdup(tmp);
		if (!t->ids[i].principal) {
			rc = -ENOMEM;
			goto out;
		}
	}
	*out = t;
out:
	if (rc < 0)
		http_tokens_free(t);
	return rc;
}

int http_tokens_load(const char *path, struct http_tokens **out, char *err, size_t errlen)
{
	struct buf b;
	struct stat st;
	int rc;

	*out = NULL;
	buf_init(&b, TOKENS_FILE_MAX);
	rc = fs_read_file(path, &b);
	if (rc < 0) {
		errf(err, errlen, "%s: %s", path, err_str(rc));
		goto out;
	}
	if (stat(path, &st) == 0 && (st.st_mode & S_IROTH))
		log_warn("%s is readable by every user; chmod o-r it", path);
	rc = http_tokens_parse(path, b.len ? (const char *)b.data : "", b.len, out, err, errlen);
out:
	if (b.data)
		explicit_bzero(b.data, b.len);
	buf_release(&b);
	return rc;
}

/* Equality in time that depends only on alen: every byte of a is compared
 * (against b cyclically) whatever the contents, and the length difference
 * is folded into the same accumulator. */
static size_t ct_diff(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t diff = alen ^ blen;

	for (size_t i = 0; i < alen; i++)
		diff |= (size_t)(a[i] ^ b[i % blen]);
	return diff;
}

int http_tokens_find(const struct http_tokens *t, const char *token, size_t len)
{
	size_t found = (size_t)-1;

	if (len == 0 || len > TOKEN_MAX)
		return -ERR_AUTH;
	for (size_t i = 0; i < t->n; i++) {
		size_t d = ct_diff((const uint8_t *)token, len, t->ids[i].token, t->ids[i].len);
		/* mask is all ones when d == 0, without a data-dependent branch */
		size_t mask = ((d | (0 - d)) >> (sizeof(size_t) * 8 - 1)) - 1;

		found = (found & ~mask) | (i & mask);
	}
	if (found == (size_t)-1)
		return -ERR_AUTH;
	return (int)found;
}

bool http_tokens_allows(const struct http_tokens *t, int id, unsigned perm, const char *topic)
{
	const struct identity *ident;

	if (id < 0 || (size_t)id >= t->n)
		return false;
	ident = &t->ids[id];
	for (size_t g = 0; g < ident->ngrants; g++) {
		if ((ident->grants[g].perms & perm) != perm)
			continue;
		if (!topic || fnmatch(ident->grants[g].glob, topic, 0) == 0)
			return true;
	}
	return false;
}

const char *http_tokens_principal(const struct http_tokens *t, int id)
{
	if (id < 0 || (size_t)id >= t->n)
		return NULL;
	return t->ids[id].principal;
}

int http_tokens_line(const struct http_tokens *t, int id)
{
	if (id < 0 || (size_t)id >= t->n)
		return 0;
	return t->ids[id].line;
}
