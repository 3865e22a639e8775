/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Users file parsing, lookup and rewriting.  The file is small (one line per
 * user and mechanism), so users live in one array searched linearly.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "store/auth/users.h"

#define USERS_FILE_MAX (16u << 20)

struct user {
	char name[SCRAM_NAME_MAX + 1];
	bool has[SCRAM_MECHS];
	struct scram_cred cred[SCRAM_MECHS];
};

struct users {
	struct user *v;
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

void users_free(struct users *u)
{
	if (!u)
		return;
	if (u->v)
		OPENSSL_cleanse(u->v, u->n * sizeof(*u->v));
	mem_free(u->v);
	mem_free(u);
}

size_t users_count(const struct users *u)
{
	return u->n;
}

bool users_name_valid(const char *name, size_t n)
{
	if (n == 0 || n > SCRAM_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '@' || c == '+' || c == '-'))
			return false;
	}
	return true;
}

static struct user *find_user(const struct users *u, const char *name, size_t n)
{
	for (size_t i = 0; i < u->n; i++)
		if (strlen(u->v[i].name) == n && memcmp(u->v[i].name, name, n) == 0)
			return &u->v[i];
	return NULL;
}

static struct user *get_user(struct users *u, const char *name, size_t n)
{
	struct user *x = find_user(u, name, n), *v;

	if (x)
		return x;
	v = mem_realloc(u->v, (u->n + 1) * sizeof(*v));
	if (!v)
		return NULL;
	u->v = v;
	x = &v[u->n++];
	memset(x, 0, sizeof(*x));
	memcpy(x->name, name, n);
	return x;
}

/* Split a line into at most 7 whitespace-separated fields. */
static int fields(const char *p, size_t n, const char **f, size_t *fl, size_t max)
{
	size_t nf = 0, i = 0;

	while (i < n) {
		size_t j;

		while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r'))
			i++;
		if (i == n)
			break;
		j = i;
		while (j < n && p[j] != ' ' && p[j] != '\t' && p[j] != '\r')
			j++;
		if (nf == max)
			return (int)max + 1;
		f[nf] = p + i;
		fl[nf] = j - i;
		nf++;
		i = j;
	}
	return (int)nf;
}

static int parse_int(const char *s, size_t n, int *out)
{
	char tmp[16], *end;
	long v;

	if (n == 0 || n >= sizeof(tmp))
		return -ERR_INVALID;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	errno = 0;
	v = strtol(tmp, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > SCRAM_MAX_ITERATIONS)
		return -ERR_INVALID;
	*out = (int)v;
	return 0;
}

/* One credential line; on error *col is the 1-based column of the culprit. */
static int parse_line(struct users *u, const char *p, const char **f, const size_t *fl, size_t *col,
		      const char **why)
{
	struct scram_cred c;
	struct user *x;
	int mech, len;
	size_t kl;

	memset(&c, 0, sizeof(c));
	*col = (size_t)(f[0] - p) + 1;
	if (!users_name_valid(f[0], fl[0])) {
		*why = "user name must be 1..128 of [A-Za-z0-9._@+-]";
		return -ERR_INVALID;
	}
	*col = (size_t)(f[1] - p) + 1;
	mech = scram_mech_parse(f[1], fl[1]);
	if (mech < 0) {
		*why = "mechanism must be SCRAM-SHA-256 or SCRAM-SHA-512";
		return -ERR_INVALID;
	}
	kl = scram_key_len((enum scram_mech)mech);
	*col = (size_t)(f[2] - p) + 1;
	if (parse_int(f[2], fl[2], &c.iterations) < 0) {
		*why = "iterations must be 1..1000000";
		return -ERR_INVALID;
	}
	*col = (size_t)(f[3] - p) + 1;
	len = scram_b64_decode(f[3], fl[3], c.salt, sizeof(c.salt));
	if (len <= 0) {
		*why = "salt must be base64 of 1..64 bytes";
		return -ERR_INVALID;
	}
	c.salt_len = (size_t)len;
	*col = (size_t)(f[4] - p) + 1;
	len = scram_b64_decode(f[4], fl[4], c.stored_key, sizeof(c.stored_key));
	if (len < 0 || (size_t)len != kl) {
		*why = "stored key must be base64 of the digest length";
		return -ERR_INVALID;
	}
	*col = (size_t)(f[5] - p) + 1;
	len = scram_b64_decode(f[5], fl[5], c.server_key, sizeof(c.server_key));
	if (len < 0 || (size_t)len != kl) {
		*why = "server key must be base64 of the digest length";
		return -ERR_INVALID;
	}
	x = get_user(u, f[0], fl[0]);
	if (!x)
		return -ENOMEM;
	if (x->has[mech]) {
		*col = (size_t)(f[1] - p) + 1;
		*why = "second credential for this user and mechanism";
		return -ERR_INVALID;
	}
	x->has[mech] = true;
	x->cred[mech] = c;
	OPENSSL_cleanse(&c, sizeof(c));
	return 0;
}

int users_parse(const char *name, const char *text, size_t len, struct users **out, char *err,
		size_t errlen)
{
	struct users *u = mem_calloc(1, sizeof(*u));
	size_t pos = 0;
	int line = 0, rc = 0;

	*out = NULL;
	if (!u)
		return -ENOMEM;
	while (pos < len) {
		const char *p = text + pos, *nl = memchr(p, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - p) : len - pos, col = 1, fl[6];
		const char *f[6], *why = "";
		int nf;

		pos += n + (nl ? 1 : 0);
		line++;
		if (memchr(p, '\0', n)) {
			errf(err, errlen, "%s:%d:1: NUL byte in line", name, line);
			rc = -ERR_CONFIG;
			goto out;
		}
		nf = fields(p, n, f, fl, 6);
		if (nf == 0 || f[0][0] == '#')
			continue;
		if (nf != 6) {
			errf(err, errlen,
			     "%s:%d:1: expected 'name mechanism iterations salt "
			     "stored-key server-key'",
			     name, line);
			rc = -ERR_CONFIG;
			goto out;
		}
		rc = parse_line(u, p, f, fl, &col, &why);
		if (rc == -ENOMEM)
			goto out;
		if (rc < 0) {
			errf(err, errlen, "%s:%d:%zu: %s", name, line, col, why);
			rc = -ERR_CONFIG;
			goto out;
		}
	}
	*out = u;
out:
	if (rc < 0)
		users_free(u);
	return rc;
}

int users_load(const char *path, bool missing_ok, struct users **out, char *err, size_t errlen)
{
	struct buf b;
	struct stat st;
	int rc;

	*out = NULL;
	buf_init(&b, USERS_FILE_MAX);
	rc = fs_read_file(path, &b);
	if (rc == -ENOENT && missing_ok) {
		rc = users_parse(path, "", 0, out, err, errlen);
		goto out;
	}
	if (rc < 0) {
		errf(err, errlen, "%s: %s", path, err_str(rc));
		goto out;
	}
	/* group-readable is the packaged layout (root:sluice-store 0640) */
	if (stat(path, &st) == 0 && (st.st_mode & (S_IROTH | S_IWOTH | S_IWGRP)))
		log_warn("%s is readable or writable by other users; chmod 640 it", path);
	rc = users_parse(path, b.len ? (const char *)b.data : "", b.len, out, err, errlen);
out:
	if (b.data)
		OPENSSL_cleanse(b.data, b.len);
	buf_release(&b);
	return rc;
}

const struct scram_cred *users_find(const struct users *u, const char *name, enum scram_mech m)
{
	struct user *x;

	if (!u || !name || (unsigned)m >= SCRAM_MECHS)
		return NULL;
	x = find_user(u, name, strlen(name));
	return x && x->has[m] ? &x->cred[m] : NULL;
}

bool users_check_password(const struct users *u, const char *name, const char *pw, size_t pwlen)
{
	const struct scram_cred *c = users_find(u, name, SCRAM_SHA512);
	enum scram_mech m = SCRAM_SHA512;

	if (!c) {
		c = users_find(u, name, SCRAM_SHA256);
		m = SCRAM_SHA256;
	}
	if (!c) {
		/* spend the same time as a real check, so timing tells nothing */
		struct scram_cred dummy;
		uint8_t salt[SCRAM_SALT_LEN] = {0};

		scram_cred_derive(SCRAM_SHA512, pw, pwlen, salt, sizeof(salt), SCRAM_MIN_ITERATIONS,
				  &dummy);
		OPENSSL_cleanse(&dummy, sizeof(dummy));
		return false;
	}
	return scram_cred_check_password(m, c, pw, pwlen);
}

int users_set(struct users *u, const char *name, const char *pw, size_t pwlen, int iterations)
{
	struct scram_cred c[SCRAM_MECHS];
	struct user *x;
	int rc = 0;

	if (!users_name_valid(name, strlen(name)))
		return -ERR_INVALID;
	for (int m = 0; m < SCRAM_MECHS && rc == 0; m++)
		rc = scram_cred_new((enum scram_mech)m, pw, pwlen, iterations, &c[m]);
	if (rc < 0)
		goto out;
	x = get_user(u, name, strlen(name));
	if (!x) {
		rc = -ENOMEM;
		goto out;
	}
	for (int m = 0; m < SCRAM_MECHS; m++) {
		x->has[m] = true;
		x->cred[m] = c[m];
	}
out:
	OPENSSL_cleanse(c, sizeof(c));
	return rc;
}

int users_put_cred(struct users *u, const char *name, enum scram_mech m, const struct scram_cred *c)
{
	struct user *x;

	if (!users_name_valid(name, strlen(name)) || (unsigned)m >= SCRAM_MECHS)
		return -ERR_INVALID;
	x = get_user(u, name, strlen(name));
	if (!x)
		return -ENOMEM;
	x->has[m] = true;
	x->cred[m] = *c;
	return 0;
}

int users_drop_cred(struct users *u, const char *name, enum scram_mech m)
{
	struct user *x = find_user(u, name, strlen(name));
	bool any = false;

	if (!x || (unsigned)m >= SCRAM_MECHS || !x->has[m])
		return -ERR_NOT_FOUND;
	x->has[m] = false;
	OPENSSL_cleanse(&x->cred[m], sizeof(x->cred[m]));
	for (int i = 0; i < SCRAM_MECHS; i++)
		any = any || x->has[i];
	return any ? 0 : users_remove(u, name);
}

int users_mechs(const struct users *u, const char *name, int *iterations)
{
	struct user *x = find_user(u, name, strlen(name));
	int bits = 0;

	if (!x)
		return -ERR_NOT_FOUND;
	for (int i = 0; i < SCRAM_MECHS; i++) {
		if (x->has[i]) {
			bits |= 1 << i;
			iterations[i] = x->cred[i].iterations;
		}
	}
	return bits;
}

const char *users_name(const struct users *u, size_t i)
{
	return i < u->n ? u->v[i].name : NULL;
}

int users_remove(struct users *u, const char *name)
{
	struct user *x = find_user(u, name, strlen(name));
	size_t i;

	if (!x)
		return -ERR_NOT_FOUND;
	i = (size_t)(x - u->v);
	memmove(&u->v[i], &u->v[i + 1], (u->n - i - 1) * sizeof(*x));
	u->n--;
	OPENSSL_cleanse(&u->v[u->n], sizeof(*x));
	return 0;
}

int users_format(const struct users *u, struct buf *out)
{
	int rc = buf_append_str(out, "# sluice-store users file: SCRAM credentials, no passwords.\n"
				     "# Manage with `sluice-store user add|remove NAME`.\n"
				     "# name mechanism iterations salt stored-key server-key\n");

	for (size_t i = 0; i < u->n && rc == 0; i++) {
		for (int m = SCRAM_MECHS - 1; m >= 0 && rc == 0; m--) {
			const struct scram_cred *c = &u->v[i].cred[m];
			size_t kl = scram_key_len((enum scram_mech)m);

			if (!u->v[i].has[m])
				continue;
			rc = buf_printf(out, "%s %s %d ", u->v[i].name,
					scram_mech_name((enum scram_mech)m), c->iterations);
			if (rc == 0)
				rc = scram_b64_encode(c->salt, c->salt_len, out);
			if (rc == 0)
				rc = buf_append_str(out, " ");
			if (rc == 0)
				rc = scram_b64_encode(c->stored_key, kl, out);
			if (rc == 0)
				rc = buf_append_str(out, " ");
			if (rc == 0)
				rc = scram_b64_encode(c->server_key, kl, out);
			if (rc == 0)
				rc = buf_append_str(out, "\n");
		}
	}
	return rc;
}

/* fs_write_atomic() with mode 0600 from creation on (not 0644 & ~umask):
 * the temporary file is created exclusively, so no earlier file's mode
 * carries over.  A file being replaced keeps its group and, at most, its
 * group's read bit: `sluice-store user add` run by root on the packaged
 * root:sluice-store 0640 file leaves the store able to read it. */
static int write_private(const char *path, const void *data, size_t len)
{
	char tmp[PATH_MAX], dcopy[PATH_MAX];
	struct stat old;
	bool keep = stat(path, &old) == 0 && S_ISREG(old.st_mode);
	int fd, rc, n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);

	if (n < 0 || (size_t)n >= sizeof(tmp) || strlen(path) >= sizeof(dcopy))
		return -ENAMETOOLONG;
	snprintf(dcopy, sizeof(dcopy), "%s", path);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	rc = 0;
	if (keep && old.st_gid != getegid() && fchown(fd, (uid_t)-1, old.st_gid) != 0)
		rc = -errno;
	if (rc == 0 && keep && (old.st_mode & S_IRGRP) && fchmod(fd, 0640) != 0)
		rc = -errno;
	if (rc == 0)
		rc = fs_write_full(fd, data, len);
	if (rc == 0 && fsync(fd) != 0)
		rc = -errno;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc == 0)
		rc = fs_fsync_dir(dirname(dcopy));
	if (rc < 0)
		unlink(tmp);
	return rc;
}

int users_save(const struct users *u, const char *path)
{
	struct buf b;
	int rc;

	buf_init(&b, USERS_FILE_MAX);
	rc = users_format(u, &b);
	if (rc == 0)
		rc = write_private(path, b.data, b.len);
	if (b.data)
		OPENSSL_cleanse(b.data, b.len);
	buf_release(&b);
	return rc;
}
