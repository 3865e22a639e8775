/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Addresses of the Kafka listener (see kafka_listen.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/log.h"
#include "store/kafka/kafka_listen.h"

/* Split "host:port" or "[v6]:port".  0 or -ERR_INVALID. */
static int split_hostport(const char *s, char *host, size_t hcap, char *port, size_t pcap)
{
	const char *colon, *h = s;
	size_t hl;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			return -ERR_INVALID;
		h = s + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -ERR_INVALID;
		hl = (size_t)(colon - s);
	}
	if (hl >= hcap || strlen(colon + 1) >= pcap || colon[1] == '\0')
		return -ERR_INVALID;
	memcpy(host, h, hl);
	host[hl] = '\0';
	snprintf(port, pcap, "%s", colon + 1);
	return 0;
}

static int parse_port(const char *p, int32_t *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(p, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0 || v > 65535)
		return -ERR_INVALID;
	*out = (int32_t)v;
	return 0;
}

int kafka_listen_open(const char *addr, int *out_fd, int32_t *bound_port)
{
	char host[256], port[16];
	struct addrinfo hints, *res = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd = -1, one = 1, rc;

	rc = split_hostport(addr, host, sizeof(host), port, sizeof(port));
	if (rc < 0) {
		log_error("kafka.listen: '%s' is not HOST:PORT", addr);
		return rc;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (rc != 0) {
		log_error("kafka.listen: cannot resolve '%s': %s", addr, gai_strerror(rc));
		return -ERR_INVALID;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 1024) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
		rc = -errno;
		goto out;
	}
	if (ss.ss_family == AF_INET6)
		*bound_port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	else
		*bound_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	*out_fd = fd;
	fd = -1;
	rc = 0;
out:
	if (rc < 0)
		log_error("kafka: cannot listen on %s: %s", addr, err_str(rc));
	if (fd >= 0)
		close(fd);
	freeaddrinfo(res);
	return rc;
}

/* Node 0's address in Metadata: kafka.advertised, else the listen address
 * with the port actually bound and, for a wildcard host, the hostname. */
int kafka_listen_advertised(const struct store_config *conf, int32_t bound_port, char *host,
			    size_t hcap, int32_t *adv_port)
{
	char port[16];
	int rc;

	if (conf->kafka.advertised && conf->kafka.advertised[0]) {
		rc = split_hostport(conf->kafka.advertised, host, hcap, port, sizeof(port));
		if (rc == 0)
			rc = parse_port(port, adv_port);
		if (rc < 0)
			log_error("kafka.advertised: '%s' is not HOST:PORT",
				  conf->kafka.advertised);
		return rc;
	}
	rc = split_hostport(conf->kafka.listen, host, hcap, port, sizeof(port));
	if (rc < 0)
		return rc;
	if (host[0] == '\0' || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0) {
		if (gethostname(host, hcap) != 0)
			snprintf(host, hcap, "localhost");
		host[hcap - 1] = '\0';
	}
	*adv_port = bound_port;
	return 0;
}
