/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CLI's HTTP client on libcurl: base URL and bearer token, simple
 * request/response calls with a bounded response body, streaming GETs for
 * a curl multi handle, and the translation of API error bodies
 * ({"error":code,"message":...}) and transport failures into one line an
 * operator can act on.  Not thread-safe.
 */
#ifndef SLUICE_CLI_HTTP_H
#define SLUICE_CLI_HTTP_H

#include <curl/curl.h>
#include <stddef.h>

#include "lib/buf.h"

struct cli_http {
	char *base;              /* "http://host:port", no trailing slash */
	char *auth;              /* "Authorization: Bearer ..." or NULL */
	CURL *easy;              /* reused for simple requests (keep-alive) */
	struct curl_slist *hdrs; /* auth + "Expect:" */
	const char *ca_file;     /* https: CA bundle (NULL: the system's); borrowed */
	const char *cert;        /* https: client certificate for mTLS; borrowed */
	const char *key;         /* its private key (NULL: in cert); borrowed */
};

/* url: "http://h:p", "https://h:p" or "h:p" (http assumed).  token_file:
 * NULL, or a file whose first non-empty line is the token.  0, or
 * -ERR_INVALID / -errno with err set. */
int cli_http_init(struct cli_http *h, const char *url, const char *token_file, char *err,
		  size_t errlen);
void cli_http_release(struct cli_http *h);
/* TLS files for https:// stores (each may be NULL); borrowed, they must
 * outlive h. */
void cli_http_set_tls(struct cli_http *h, const char *ca_file, const char *cert, const char *key);

/* One request.  body may be NULL.  The response body goes to out (bounded
 * by out->max), the status to *status.  0 when a response arrived (any
 * status), else -EIO with err naming the transport problem (refused,
 * timeout, DNS...). */
int cli_http_request(struct cli_http *h, const char *method, const char *path, const void *body,
		     size_t len, long timeout_ms, struct buf *out, long *status, char *err,
		     size_t errlen);

/* A new easy handle for GET base+path, with auth, that calls write(ptr,
 * size, nmemb, arg) for the body.  NULL on allocation failure. */
CURL *cli_http_stream(struct cli_http *h, const char *path,
		      size_t (*write)(char *, size_t, size_t, void *), void *arg);

/* "code: message" from an error response body, or "HTTP <status>". */
void cli_http_error_text(long status, const void *body, size_t len, char *out, size_t cap);

/* The stable "error" code of an error body, into out ("" when none). */
void cli_http_error_code(const void *body, size_t len, char *out, size_t cap);

#endif
