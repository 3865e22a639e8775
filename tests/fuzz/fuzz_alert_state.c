/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the alert engine's state file (alert_engine_load, read
 * back from the alertmanager output's state directory after a restart).
 * Whatever loads must evaluate and save again without crashing, and a
 * saved state must load back to the same number of keys.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/alert.h"
#include "lib/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct alert_rules *rules;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char text[] =
		"rules:\n  - name: A\n    match: 'err'\n    group_by: [svc, host]\n"
		"    condition: count > 2 in 1m\n"
		"  - name: B\n    group_by: [host]\n    condition: no events for 30s\n";
	char path[64];
	struct cfg_error err;
	FILE *f;

	(void)argc;
	(void)argv;
	snprintf(path, sizeof(path), "/tmp/fuzz_alert_state.%d.yaml", (int)getpid());
	f = fopen(path, "w");
	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
	if (alert_rules_load(path, &rules, &err) < 0)
		abort();
	unlink(path);
	return 0;
}

static void noop(void *arg, const struct alert_view *v, enum alert_change c)
{
	(void)arg;
	(void)c;
	if (v->ngroup && !v->group_vals[0])
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct alert_engine *e = alert_engine_new(rules, 64), *e2;
	struct alert_engine_stats s1, s2;
	struct buf b;

	if (!e)
		return 0;
	alert_engine_load(e, (const char *)data, size);
	alert_engine_eval(e, 1700000000000, noop, NULL);
	buf_init(&b, 1 << 24);
	if (alert_engine_save(e, &b) == 0) {
		e2 = alert_engine_new(rules, 64);
		if (e2) {
			alert_engine_load(e2, (const char *)b.data, b.len);
			alert_engine_stats(e, &s1);
			alert_engine_stats(e2, &s2);
			/* every key saved comes back */
			if (s2.keys != s1.keys)
				abort();
		}
		alert_engine_free(e2);
	}
	buf_release(&b);
	alert_engine_free(e);
	return 0;
}
