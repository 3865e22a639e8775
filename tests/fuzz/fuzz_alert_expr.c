/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: alert rule conditions (lib/alert_expr.h).  Whatever
 * parses must format back to text that parses to the same condition.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alert_expr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[512], why[128], back[128];
	struct alert_expr e, e2;
	int col = 0;

	if (size >= sizeof(s))
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (alert_expr_parse(s, &e, why, sizeof(why), &col) < 0) {
		if (col < 1 || (size_t)col > size + 1)
			abort();
		return 0;
	}
	alert_expr_format(&e, back, sizeof(back));
	if (alert_expr_parse(back, &e2, why, sizeof(why), &col) < 0 ||
	    memcmp(&e, &e2, sizeof(e)) != 0)
		abort();
	return 0;
}
