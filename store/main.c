/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sluice-store entry point (placeholder until the log engine lands).
 */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		puts("sluice-store 0.1.0");
		return 0;
	}
	fprintf(stderr, "sluice-store: not built yet\n");
	return 2;
}
