/* SPDX-License-Identifier: Apache-2.0 */
/*
 * https:// requests of the HTTP client, through libcurl's multi interface
 * on the agent's loop (agent/net/curl_loop.h).  libcurl is loaded the first time
 * a client for an https:// URL is made (agent/dl/), so agents shipping
 * plain HTTP never map it.  The answer lands in the same fields as the
 * plain-HTTP path fills (status, body, Retry-After), so callers see one
 * kind of request.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "agent/net/curl_loop.h"
#include "agent/net/http_client_int.h"
#include "lib/err.h"
#include "lib/mem.h"

int http_tls_init(struct http_client *c)
{
	return curl_loop_new(c->loop, &c->cl);
}

void http_tls_release(struct http_client *c)
{
	if (c->cl)
		curl_loop_free(c->cl);
	c->cl = NULL;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct http_client_req *r = arg;

	if (buf_append(&r->resp.body, p, size * n) < 0)
		return 0; /* larger than max_body: curl fails the transfer */
	return size * n;
}

static void on_done(CURL *easy, CURLcode cc, void *arg)
{
	struct http_client_req *r = arg;
	long status = 0;
	curl_off_t ra = 0;

	if (cc != CURLE_OK) {
		snprintf(r->why, sizeof(r->why), "%s", curl_easy_strerror(cc));
		http_client_req_finish(r, cc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO,
				       r->why);
		return;
	}
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	if (curl_easy_getinfo(easy, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
		r->resp.retry_after_ms = (int64_t)ra * 1000;
	r->resp.status = (int)status;
	http_client_req_finish(r, 0, NULL);
}

/* "Name: value\r\n" lines into a curl header list. */
static struct curl_slist *header_list(const char *headers)
{
	struct curl_slist *l = curl_slist_append(NULL, "Expect:"), *n;
	char line[4096];

	while (l && headers && *headers) {
		size_t len = strcspn(headers, "\r\n");

		if (len && len < sizeof(line)) {
			memcpy(line, headers, len);
			line[len] = '\0';
			n = curl_slist_append(l, line);
			if (!n) {
				curl_slist_free_all(l);
				return NULL;
			}
			l = n;
		}
		headers += len;
		while (*headers == '\r' || *headers == '\n')
			headers++;
	}
	return l;
}

int http_tls_start(struct http_client_req *r, const char *method, const char *path,
		   const char *headers)
{
	struct http_client *c = r->c;
	CURL *e = curl_easy_init();
	struct buf url;
	int rc = -ENOMEM;

	buf_init(&url, 8192);
	r->easy = e;
	if (!e || buf_printf(&url, "%s%s", c->base, path) < 0 || buf_cstr(&url) < 0)
		goto out;
	r->hdrs = header_list(headers);
	if (!r->hdrs)
		goto out;
	curl_easy_setopt(e, CURLOPT_URL, (const char *)url.data);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, (struct curl_slist *)r->hdrs);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body ? (const char *)r->body : "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->len);
	} else if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	}
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)c->o.timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)c->o.connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, (long)KEEPALIVE_IDLE_S);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, (long)KEEPALIVE_INTVL_S);
	curl_easy_setopt(e, CURLOPT_USERAGENT, c->o.user_agent);
	if (c->o.ca_file && *c->o.ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, c->o.ca_file);
	if (c->o.cert && *c->o.cert)
		curl_easy_setopt(e, CURLOPT_SSLCERT, c->o.cert);
	if (c->o.key && *c->o.key)
		curl_easy_setopt(e, CURLOPT_SSLKEY, c->o.key);
	if (!c->o.tls_verify) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	rc = curl_loop_add(c->cl, e, on_done, r);
out:
	buf_release(&url);
	return rc;
}

void http_tls_req_release(struct http_client_req *r)
{
	if (r->easy) {
		if (!r->finished)
			curl_loop_remove(r->c->cl, r->easy);
		curl_easy_cleanup(r->easy);
		r->easy = NULL;
	}
	/* Only when there is one: any curl call would load libcurl. */
	if (r->hdrs)
		curl_slist_free_all(r->hdrs);
	r->hdrs = NULL;
}
