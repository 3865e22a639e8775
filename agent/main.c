/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sluice-agent entry point (placeholder until the pipeline lands).
 */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		puts("sluice-agent 0.1.0");
		return 0;
	}
	fprintf(stderr, "sluice-agent: not built yet\n");
	return 2;
}
