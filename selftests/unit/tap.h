/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tap.h - a small TAP producer for synacct's unit tests (make unit): one
 * "ok N - what" line per check, "# got/want" under a failure (on stderr,
 * as Test::More does, so prove shows it), the plan at the end, exit 1
 * when anything failed.  Checks compare exactly.
 */
#ifndef SA_TAP_H
#define SA_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

extern int tap_num, tap_failed;

/* Run @fn(@a, @b) with stdout in a temporary file; its output (malloc'd),
 * NULL when it cannot be had (unit.c). */
char *tap_capture(void (*fn)(const void *, const void *), const void *a, const void *b);

static inline bool __attribute__((format(printf, 2, 3)))
ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_num);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!cond) {
		tap_failed++;
		fflush(stdout);
		fprintf(stderr, "#   Failed test %d\n", tap_num);
	}
	return cond;
}

/* is_int(got, want, "what"): exact equality of two integers. */
#define is_int(got, want, ...) ({					\
	long long __g = (got), __w = (want);				\
	bool __ok = ok(__g == __w, __VA_ARGS__);			\
	if (!__ok)							\
		fprintf(stderr, "#   got:  %lld\n#   want: %lld\n", __g, __w); \
	__ok;								\
})

#define is_str(got, want, ...) ({					\
	const char *__g = (got), *__w = (want);				\
	bool __ok = ok(__g && __w && !strcmp(__g, __w), __VA_ARGS__);	\
	if (!__ok)							\
		fprintf(stderr, "#   got:  '%s'\n#   want: '%s'\n",	\
		       __g ? __g : "(null)", __w ? __w : "(null)");	\
	__ok;								\
})

static inline void __attribute__((format(printf, 1, 2))) diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* Where the fixture files are ($SA_FIXTURES, else selftests/unit/fixtures). */
const char *fixture_dir(void);

/* Make the agent's allocation after the next @n fail (0: the next one),
 * once; -1: none fails.  alloc_count: allocations since (alloc.c). */
void alloc_fail_after(long n);
extern long alloc_count;

/* The suites (one per file, run in this order by unit.c). */
void suite_ports(void);
void suite_mib(void);
void suite_sysctl(void);
void suite_snapshot(void);
void suite_reconcile(void);
void suite_escape(void);
void suite_pod(void);
void suite_prom(void);
void suite_json(void);
void suite_percpu(void);
void suite_log(void);
void suite_table(void);
void suite_stages(void);

#endif /* SA_TAP_H */
