/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libcurl wrapper for the CLI.  "Expect:" is always cleared: the store
 * answers a request with a body as soon as it is complete, and curl's
 * 100-continue dance would only add a round trip to every batch.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli_http.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/jdoc.h"
#include "lib/mem.h"

#define TOKEN_FILE_MAX 65536

static int read_token(const char *path, char **out, char *err, size_t errlen)
{
	struct buf b;
	size_t i = 0;
	int rc;

	buf_init(&b, TOKEN_FILE_MAX);
	rc = fs_read_file(path, &b);
	if (rc < 0) {
		snprintf(err, errlen, "token file %s: %s", path, err_str(rc));
		goto out;
	}
	rc = -ERR_INVALID;
	while (i < b.len) {
		size_t s = i, e;

		while (i < b.len && b.data[i] != '\n')
			i++;
		e = i++;
		while (s < e && (b.data[s] == ' ' || b.data[s] == '\t' || b.data[s] == '\r'))
			s++;
		while (e > s &&
		       (b.data[e - 1] == ' ' || b.data[e - 1] == '\t' || b.data[e - 1] == '\r'))
			e--;
		if (e == s || b.data[s] == '#')
			continue;
		for (size_t k = s; k < e; k++) {
			if (b.data[k] <= 0x20 || b.data[k] >= 0x7f) {
				snprintf(err, errlen,
					 "token file %s: the token must be printable "
					 "ASCII without spaces",
					 path);
				goto out;
			}
		}
		*out = mem_alloc(e - s + 32);
		if (!*out) {
			rc = -ENOMEM;
			goto out;
		}
		snprintf(*out, e - s + 32, "Authorization: Bearer %.*s", (int)(e - s), b.data + s);
		rc = 0;
		goto out;
	}
	snprintf(err, errlen, "token file %s: no token in it", path);
out:
	if (b.data)
		explicit_bzero(b.data, b.len);
	buf_release(&b);
	return rc;
}

int cli_http_init(struct cli_http *h, const char *url, const char *token_file, char *err,
		  size_t errlen)
{
	size_t n;
	int rc;

	memset(h, 0, sizeof(*h));
	if (!url || !*url) {
		snprintf(err, errlen, "empty store URL");
		return -ERR_INVALID;
	}
	n = strlen(url);
	while (n > 0 && url[n - 1] == '/')
		n--;
	h->base = mem_alloc(n + 8);
	if (!h->base)
		return -ENOMEM;
	if (strstr(url, "://"))
		snprintf(h->base, n + 8, "%.*s", (int)n, url);
	else
		snprintf(h->base, n + 8, "http://%.*s", (int)n, url);
	if (strncmp(h->base, "http://", 7) != 0 && strncmp(h->base, "https://", 8) != 0) {
		snprintf(err, errlen, "store URL %s: only http:// and https:// are supported", url);
		rc = -ERR_INVALID;
		goto fail;
	}
	if (token_file) {
		rc = read_token(token_file, &h->auth, err, errlen);
		if (rc < 0)
			goto fail;
		h->hdrs = curl_slist_append(h->hdrs, h->auth);
	}
	h->hdrs = curl_slist_append(h->hdrs, "Expect:");
	h->easy = curl_easy_init();
	if (!h->hdrs || !h->easy) {
		rc = -ENOMEM;
		goto fail;
	}
	return 0;
fail:
	cli_http_release(h);
	return rc;
}

void cli_http_release(struct cli_http *h)
{
	if (h->easy)
		curl_easy_cleanup(h->easy);
	curl_slist_free_all(h->hdrs);
	if (h->auth)
		explicit_bzero(h->auth, strlen(h->auth));
	mem_free(h->auth);
	mem_free(h->base);
	memset(h, 0, sizeof(*h));
}

void cli_http_set_tls(struct cli_http *h, const char *ca_file, const char *cert, const char *key)
{
	h->ca_file = ca_file;
	h->cert = cert;
	h->key = key;
}

static void apply_tls(const struct cli_http *h, CURL *e)
{
	if (h->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, h->ca_file);
	if (h->cert)
		curl_easy_setopt(e, CURLOPT_SSLCERT, h->cert);
	if (h->key)
		curl_easy_setopt(e, CURLOPT_SSLKEY, h->key);
}

static size_t to_buf(char *p, size_t size, size_t nmemb, void *arg)
{
	struct buf *b = arg;

	if (buf_append(b, p, size * nmemb) < 0)
		return 0; /* makes curl fail the transfer: CURLE_WRITE_ERROR */
	return size * nmemb;
}

static void transport_error(CURLcode cc, const char *base, const char *detail, char *err,
			    size_t errlen)
{
	const char *what = detail && *detail ? detail : curl_easy_strerror(cc);

	switch (cc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		snprintf(err, errlen, "cannot reach the store at %s: %s", base, what);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(err, errlen, "the store at %s did not answer in time: %s", base, what);
		break;
	case CURLE_WRITE_ERROR:
		snprintf(err, errlen, "response from %s too large", base);
		break;
	default:
		snprintf(err, errlen, "request to %s failed: %s", base, what);
	}
}

int cli_http_request(struct cli_http *h, const char *method, const char *path, const void *body,
		     size_t len, long timeout_ms, struct buf *out, long *status, char *err,
		     size_t errlen)
{
	char url[2048], detail[CURL_ERROR_SIZE] = "";
	CURL *e = h->easy;
	CURLcode cc;

	snprintf(url, sizeof(url), "%s%s", h->base, path);
	curl_easy_reset(e);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h->hdrs);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, detail);
	apply_tls(h, e);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, to_buf);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, out);
	if (strcmp(method, "GET") != 0)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	} else if (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
	}
	cc = curl_easy_perform(e);
	if (cc != CURLE_OK) {
		transport_error(cc, h->base, detail, err, errlen);
		return -EIO;
	}
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status);
	return 0;
}

CURL *cli_http_stream(struct cli_http *h, const char *path,
		      size_t (*write)(char *, size_t, size_t, void *), void *arg)
{
	char url[2048];
	CURL *e = curl_easy_init();

	if (!e)
		return NULL;
	snprintf(url, sizeof(url), "%s%s", h->base, path);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h->hdrs);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, arg);
	curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 512L * 1024);
	apply_tls(h, e);
	/* a dead connection must not hang a follow forever */
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	return e;
}

static void copy_field(const struct jnode *root, const char *key, char *out, size_t cap)
{
	const char *s = jnode_str(jnode_get(root, key));

	snprintf(out, cap, "%s", s ? s : "");
}

void cli_http_error_code(const void *body, size_t len, char *out, size_t cap)
{
	struct jdoc *d = NULL;

	if (cap)
		out[0] = '\0';
	if (len == 0 || jdoc_parse(body, len, &d, NULL) < 0)
		return;
	copy_field(jdoc_root(d), "error", out, cap);
	jdoc_free(d);
}

void cli_http_error_text(long status, const void *body, size_t len, char *out, size_t cap)
{
	struct jdoc *d = NULL;
	char code[64] = "", msg[512] = "";

	if (len && jdoc_parse(body, len, &d, NULL) == 0) {
		copy_field(jdoc_root(d), "error", code, sizeof(code));
		copy_field(jdoc_root(d), "message", msg, sizeof(msg));
		jdoc_free(d);
	}
	if (code[0])
		snprintf(out, cap, "%s: %s (HTTP %ld)", code, msg, status);
	else
		snprintf(out, cap, "HTTP %ld from the store", status);
}
