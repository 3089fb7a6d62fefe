// SPDX-License-Identifier: GPL-2.0
/*
 * unit.c - synacct's unit tests: the agent's parsers and arithmetic on
 * fixed input, no BPF, no privileges (make unit runs them as nobody).
 * Usage: unit [SUITE...]; fixtures are read from $SA_FIXTURES, else from
 * selftests/unit/fixtures under the current directory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tap.h"

int tap_num, tap_failed;

/* Run @fn(@a, @b) with stdout in a temporary file; its output (malloc'd). */
char *tap_capture(void (*fn)(const void *, const void *), const void *a, const void *b)
{
	FILE *tmp = tmpfile();
	int saved;
	long len;
	char *out = NULL;

	if (!tmp)
		return NULL;
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	if (saved < 0 || dup2(fileno(tmp), STDOUT_FILENO) < 0) {
		fclose(tmp);
		return NULL;
	}
	fn(a, b);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	len = ftell(tmp);
	if (len >= 0 && (out = calloc(1, len + 1))) {
		rewind(tmp);
		if (fread(out, 1, len, tmp) != (size_t)len) {
			free(out);
			out = NULL;
		}
	}
	fclose(tmp);
	return out;
}

static const struct {
	const char *name;
	void (*run)(void);
} suites[] = {
	{ "ports", suite_ports },
	{ "mib", suite_mib },
	{ "sysctl", suite_sysctl },
	{ "snapshot", suite_snapshot },
	{ "reconcile", suite_reconcile },
	{ "escape", suite_escape },
	{ "pod", suite_pod },
	{ "prom", suite_prom },
	{ "json", suite_json },
	{ "percpu", suite_percpu },
	{ "log", suite_log },
	{ "table", suite_table },
	{ "stages", suite_stages },
};

#define N_SUITES (sizeof(suites) / sizeof(suites[0]))

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int a = 1; a < argc; a++) {
		size_t i;

		for (i = 0; i < N_SUITES; i++)
			if (!strcmp(argv[a], suites[i].name))
				break;
		if (i == N_SUITES) {
			fprintf(stderr, "unit: unknown suite '%s'; valid:", argv[a]);
			for (i = 0; i < N_SUITES; i++)
				fprintf(stderr, " %s", suites[i].name);
			fputc('\n', stderr);
			return 2;
		}
	}
	for (size_t i = 0; i < N_SUITES; i++) {
		bool run = argc == 1;

		for (int a = 1; a < argc; a++)
			run |= !strcmp(argv[a], suites[i].name);
		if (!run)
			continue;
		diag("suite %s", suites[i].name);
		suites[i].run();
	}
	printf("1..%d\n", tap_num);
	return tap_failed ? 1 : 0;
}

/* Where the fixture files are. */
const char *fixture_dir(void)
{
	const char *d = getenv("SA_FIXTURES");

	return d && *d ? d : "selftests/unit/fixtures";
}
