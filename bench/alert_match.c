/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Rule matching speed: feeds every line of a corpus (gen_corpus.py) to the
 * alert rule engine (lib/alert.h, what the alertmanager output and `sluice
 * alert test` run) and prints MB/s of log lines per core (process CPU
 * time), the rule checks the literal prefilter answered and the matches.
 *
 * usage: alert_match RULES.yaml CORPUS [REPS]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/alert.h"
#include "lib/buf.h"
#include "lib/fs.h"

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct alert_rules *r = NULL;
	struct alert_engine *e;
	struct alert_engine_stats st;
	struct cfg_error err;
	struct buf data;
	uint64_t lines = 0, bytes = 0;
	int reps = argc > 3 ? atoi(argv[3]) : 3;
	double t0, t;

	if (argc < 3) {
		fprintf(stderr, "usage: alert_match RULES.yaml CORPUS [REPS]\n");
		return 2;
	}
	if (alert_rules_load(argv[1], &r, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 2;
	}
	buf_init(&data, (size_t)4 << 30);
	if (fs_read_file(argv[2], &data) < 0) {
		fprintf(stderr, "cannot read %s\n", argv[2]);
		return 1;
	}
	e = alert_engine_new(r, 100000);
	t0 = cpu_s();
	for (int rep = 0; rep < reps; rep++) {
		const char *p = (const char *)data.data, *end = p + data.len;
		int64_t ts = 1700000000000;

		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
			struct alert_event ev = {.ts = ts, .value = p, .len = n, .topic = "bench"};

			alert_engine_feed(e, &ev);
			ts += 1;
			lines++;
			bytes += n + 1;
			p += n + 1;
		}
		alert_engine_eval(e, ts, NULL, NULL);
	}
	t = cpu_s() - t0;
	alert_engine_stats(e, &st);
	printf("rules=%zu lines=%" PRIu64 " MB=%.1f cpu_s=%.3f MB/s=%.1f ns/line=%.0f "
	       "prefiltered=%" PRIu64 " matched=%" PRIu64 " keys=%" PRIu64 "\n",
	       r->n, lines, (double)bytes / 1e6, t, (double)bytes / 1e6 / t,
	       t * 1e9 / (double)lines, st.prefiltered, st.matched, st.keys);
	alert_engine_free(e);
	alert_rules_free(r);
	buf_release(&data);
	return 0;
}
