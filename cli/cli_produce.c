/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sluice produce TOPIC`: stdin lines become records (one line, without its
 * newline, is one record value), batched and posted by an idempotent
 * cli_producer.  Lines are sent when a batch fills, when stdin has been
 * quiet for --linger (so interactive typing shows up at once) and at end of
 * input.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_producer.h"
#include "lib/clock.h"
#include "lib/codec.h"
#include "lib/config.h"
#include "lib/err.h"
#include "lib/mem.h"

#define READ_CHUNK (256u << 10)
#define MAX_HEADERS 32

struct produce_opts {
	const char *key;
	struct record_header hdrs[MAX_HEADERS];
	size_t nhdrs;
	int codec;
	int64_t linger_ms;
	bool quiet;
};

static int add_line(struct cli_producer *p, const struct produce_opts *o, const uint8_t *line,
		    size_t n)
{
	if (n > INT32_MAX)
		return -ERR_TOO_LARGE;
	return cli_producer_add(p, clock_wall_ms(), o->key, o->key ? (int32_t)strlen(o->key) : -1,
				line, (int32_t)n, o->hdrs, o->nhdrs);
}

static int pump_stdin(struct cli_producer *p, const struct produce_opts *o, uint64_t *lines)
{
	struct buf in;
	size_t scan = 0;
	int rc = 0;

	buf_init(&in, (size_t)p->max_batch + READ_CHUNK);
	for (;;) {
		ssize_t got;

		if (cli_producer_pending(p)) {
			struct pollfd pfd = {.fd = 0, .events = POLLIN};
			int pr = poll(&pfd, 1, (int)o->linger_ms);

			if (pr == 0) {
				rc = cli_producer_flush(p);
				if (rc < 0)
					break;
				continue;
			}
		}
		rc = buf_reserve(&in, READ_CHUNK);
		if (rc < 0) {
			snprintf(p->err, sizeof(p->err),
				 "a line is longer than the topic's "
				 "max_batch_bytes (%" PRId64 ")",
				 p->max_batch);
			break;
		}
		got = read(0, in.data + in.len, READ_CHUNK);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			snprintf(p->err, sizeof(p->err), "reading stdin: %s", err_str(-errno));
			rc = -errno;
			break;
		}
		if (got == 0) {
			if (in.len > 0) {
				rc = add_line(p, o, in.data, in.len);
				if (rc < 0)
					break;
				(*lines)++;
			}
			rc = cli_producer_flush(p);
			break;
		}
		in.len += (size_t)got;
		{
			size_t pos = 0;

			for (;;) {
				uint8_t *nl = memchr(in.data + scan, '\n', in.len - scan);

				if (!nl)
					break;
				rc = add_line(p, o, in.data + pos, (size_t)(nl - in.data) - pos);
				if (rc < 0)
					break;
				(*lines)++;
				pos = (size_t)(nl - in.data) + 1;
				scan = pos;
			}
			/* keep only the unfinished line, scanned already */
			buf_consume(&in, pos);
			scan = in.len;
		}
		if (rc < 0)
			break;
	}
	buf_release(&in);
	return rc;
}

int cli_produce_main(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{"key", required_argument, NULL, 'k'},
		{"header", required_argument, NULL, 'H'},
		{"compression", required_argument, NULL, 'z'},
		{"linger", required_argument, NULL, 'l'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		CLI_GLOBAL_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	struct produce_opts o;
	struct cli_producer p;
	uint64_t lines = 0;
	int c, rc;

	memset(&o, 0, sizeof(o));
	o.codec = CODEC_ZSTD;
	o.linger_ms = 100;
	while ((c = getopt_long(argc, argv, "k:H:z:l:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			o.key = optarg;
			break;
		case 'H': {
			const char *eq = strchr(optarg, '=');

			if (!eq || eq == optarg || o.nhdrs == MAX_HEADERS) {
				cli_err("--header: expected key=value (at most %d), got '%s'",
					MAX_HEADERS, optarg);
				return CLI_USAGE;
			}
			o.hdrs[o.nhdrs].key = (const uint8_t *)optarg;
			o.hdrs[o.nhdrs].key_len = (int32_t)(eq - optarg);
			o.hdrs[o.nhdrs].value = (const uint8_t *)eq + 1;
			o.hdrs[o.nhdrs].value_len = (int32_t)strlen(eq + 1);
			o.nhdrs++;
			break;
		}
		case 'z':
			o.codec = codec_parse(optarg);
			if (o.codec < 0) {
				cli_err("--compression: '%s' is not none, gzip, snappy, lz4 or zstd",
					optarg);
				return CLI_USAGE;
			}
			break;
		case 'l':
			if (clock_parse_duration(optarg, &o.linger_ms) < 0 || o.linger_ms > 60000) {
				cli_err("--linger: '%s' is not a duration up to 60s (like 100ms)",
					optarg);
				return CLI_USAGE;
			}
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'h':
			cli_help_command("produce", stdout);
			return CLI_OK;
		default:
			if (!cli_global_opt(ctx, c, optarg)) {
				cli_help_command("produce", stderr);
				return CLI_USAGE;
			}
		}
	}
	if (argc - optind != 1) {
		cli_err("produce: expected one TOPIC (see sluice produce --help)");
		return CLI_USAGE;
	}
	rc = cli_connect(ctx);
	if (rc != CLI_OK)
		return rc;
	rc = cli_producer_init(&p, &ctx->http, argv[optind], o.codec);
	if (rc < 0) {
		cli_err("produce %s: %s", argv[optind], p.err);
		cli_producer_release(&p);
		return CLI_FAIL;
	}
	rc = pump_stdin(&p, &o, &lines);
	if (rc < 0)
		cli_err("produce %s: %s (%" PRIu64 " records were acknowledged)", argv[optind],
			p.err, p.records);
	else if (!o.quiet)
		cli_err("produced %" PRIu64 " records in %" PRIu64 " batches to %s", p.records,
			p.batches, argv[optind]);
	cli_producer_release(&p);
	return rc < 0 ? CLI_FAIL : CLI_OK;
}
