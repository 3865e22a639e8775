/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The user management command.  It finds auth.users_file through the same
 * store.yaml the store reads (-c, default conf/store.yaml when present, or
 * --users-file FILE directly), so operators name one file in one place.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "lib/err.h"
#include "store/auth/users.h"
#include "store/auth/users_cmd.h"
#include "store/store_config.h"

#define PASSWORD_MAX 1024

static void usage(FILE *out)
{
	fprintf(out, "usage: sluice-store user add NAME [-c store.yaml] [--users-file FILE] "
		     "[--iterations N]\n"
		     "       sluice-store user remove NAME [-c store.yaml] [--users-file FILE]\n"
		     "add reads the password from stdin.\n");
}

/* The first line of stdin, without its newline.  Length or < 0. */
static int read_password(char *pw, size_t cap)
{
	size_t n = 0;

	while (n + 1 < cap) {
		ssize_t r = read(STDIN_FILENO, pw + n, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0 || pw[n] == '\n')
			break;
		n++;
	}
	if (n + 1 >= cap)
		return -ERR_TOO_LARGE;
	if (n > 0 && pw[n - 1] == '\r')
		n--;
	pw[n] = '\0';
	return (int)n;
}

static int users_file_from(const char *config, const char *direct, char *out, size_t cap)
{
	struct store_config conf;
	struct cfg_error err;
	int rc;

	if (direct) {
		snprintf(out, cap, "%s", direct);
		return 0;
	}
	rc = store_config_defaults(&conf, &err);
	if (rc == 0 && config)
		rc = store_config_load(&conf, config, &err);
	if (rc < 0) {
		fprintf(stderr, "sluice-store: %s\n", err.msg);
		store_config_release(&conf);
		return rc;
	}
	if (!conf.auth.users_file) {
		fprintf(stderr, "sluice-store: %s sets no auth.users_file\n",
			config ? config : "the built-in configuration");
		store_config_release(&conf);
		return -ERR_CONFIG;
	}
	snprintf(out, cap, "%s", conf.auth.users_file);
	store_config_release(&conf);
	return 0;
}

static int run(bool add, const char *name, const char *path, int iterations)
{
	struct users *u = NULL;
	char err[512] = "", pw[PASSWORD_MAX + 2];
	int rc, n = 0;

	if (!users_name_valid(name, strlen(name))) {
		fprintf(stderr, "sluice-store: user name must be 1..128 of [A-Za-z0-9._@+-]\n");
		return 2;
	}
	rc = users_load(path, true, &u, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "sluice-store: %s\n", err);
		return 1;
	}
	if (add) {
		n = read_password(pw, sizeof(pw));
		if (n <= 0) {
			fprintf(stderr, "sluice-store: no password on stdin%s\n",
				n == -ERR_TOO_LARGE ? " (longer than 1024 bytes)" : "");
			rc = -ERR_INVALID;
			goto out;
		}
		rc = users_set(u, name, pw, (size_t)n, iterations);
	} else {
		rc = users_remove(u, name);
		if (rc == -ERR_NOT_FOUND)
			fprintf(stderr, "sluice-store: no user '%s' in %s\n", name, path);
	}
	if (rc == 0)
		rc = users_save(u, path);
	if (rc == 0)
		printf("%s user '%s' in %s (reload the store to apply: SIGHUP)\n",
		       add ? "set" : "removed", name, path);
	else if (rc != -ERR_NOT_FOUND)
		fprintf(stderr, "sluice-store: %s: %s\n", path, err_str(rc));
out:
	OPENSSL_cleanse(pw, sizeof(pw));
	users_free(u);
	return rc < 0 ? 1 : 0;
}

int users_cmd_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"users-file", required_argument, NULL, 'u'},
		{"iterations", required_argument, NULL, 'i'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config = NULL, *direct = NULL, *verb, *name;
	char path[4096];
	long iterations = SCRAM_MIN_ITERATIONS;
	int c;

	if (argc < 3) {
		usage(stderr);
		return 2;
	}
	verb = argv[1];
	name = argv[2];
	optind = 3;
	while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'u':
			direct = optarg;
			break;
		case 'i':
			iterations = strtol(optarg, &end, 10);
			if (*end || iterations < SCRAM_MIN_ITERATIONS ||
			    iterations > SCRAM_MAX_ITERATIONS) {
				fprintf(stderr,
					"sluice-store: --iterations must be 4096..1000000\n");
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if ((strcmp(verb, "add") != 0 && strcmp(verb, "remove") != 0) || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (users_file_from(config, direct, path, sizeof(path)) < 0)
		return 1;
	return run(strcmp(verb, "add") == 0, name, path, (int)iterations);
}
