/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The secure-by-default rule (tls_policy.h).  Names are resolved the way the
 * listener will resolve them (getaddrinfo, passive), so "localhost" is
 * loopback and a host name with a routable address is not.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/err.h"
#include "lib/log.h"
#include "store/tls/tls_policy.h"

static bool addr_is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)sa;

		return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
		const uint8_t *b = a->sin6_addr.s6_addr;

		if (IN6_IS_ADDR_LOOPBACK(&a->sin6_addr))
			return true;
		/* ::ffff:127.x.x.x */
		return IN6_IS_ADDR_V4MAPPED(&a->sin6_addr) && b[12] == 127;
	}
	return false;
}

bool tls_policy_is_loopback(const char *listen)
{
	char host[256];
	const char *colon = strrchr(listen, ':');
	struct addrinfo hints, *res = NULL;
	size_t hl;
	bool loop = true;

	if (!colon)
		return false;
	hl = (size_t)(colon - listen);
	if (hl >= 2 && listen[0] == '[' && listen[hl - 1] == ']') {
		listen++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(host))
		return false;
	memcpy(host, listen, hl);
	host[hl] = '\0';
	if (strcmp(host, "*") == 0)
		return false;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return false;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		if (!addr_is_loopback(ai->ai_addr))
			loop = false;
	}
	freeaddrinfo(res);
	return loop;
}

static int check_one(const char *name, const char *listen, const struct tls_section *tls,
		     bool authenticated, const char *auth_hint, bool allow_insecure)
{
	bool tls_on = tls->cert && tls->cert[0];
	bool mtls = tls_on && tls->client_auth == TLS_CLIENT_AUTH_REQUIRE;

	if ((tls_on && (authenticated || mtls)) || tls_policy_is_loopback(listen))
		return 0;
	if (allow_insecure) {
		log_warn("%s: listening on non-loopback %s %s (%s.allow_insecure: true)", name,
			 listen, tls_on ? "without authentication" : "without TLS", name);
		return 0;
	}
	if (!tls_on)
		log_error("%s: refusing to listen on non-loopback %s without TLS: set %s.tls "
			  "(cert, key), listen on 127.0.0.1, or set %s.allow_insecure: true",
			  name, listen, name, name);
	else
		log_error("%s: refusing to listen on non-loopback %s without authentication: "
			  "set %s, %s.tls.client_auth: require, listen on 127.0.0.1, or set "
			  "%s.allow_insecure: true",
			  name, listen, auth_hint, name, name);
	return -ERR_CONFIG;
}

/* A non-loopback listener needs TLS and a way to tell clients apart: SASL
 * (kafka.sasl) or bearer tokens (http.tokens_file), or client certificates
 * that are required. */
int tls_policy_check(const struct store_config *c)
{
	int rc;

	rc = check_one("kafka", c->kafka.listen, &c->kafka.tls, c->kafka.sasl.n > 0,
		       "kafka.sasl (with auth.users_file)", c->kafka.allow_insecure);
	if (rc == 0)
		rc = check_one("http", c->http.listen, &c->http.tls,
			       c->http.tokens_file && c->http.tokens_file[0], "http.tokens_file",
			       c->http.allow_insecure);
	return rc;
}
