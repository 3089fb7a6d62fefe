// SPDX-License-Identifier: GPL-2.0
/*
 * log_libbpf.c - libbpf's messages among synacct's (agent/core/log.h): its
 * warnings at SA_LOG_WARNING, its info and debug output at SA_LOG_DEBUG
 * (-v); and libbpf's names for its own error codes.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "log.h"

const char *sa_strerror(int err)
{
	/* A few buffers, so that two in one message do not clash. */
	static __thread char buf[4][128];
	static __thread unsigned int next;
	char *b = buf[next++ % 4];

	libbpf_strerror(err < 0 ? err : -err, b, 128);
	return b;
}

static bool libbpf_muted;

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list args)
{
	bool debug = sa_log_enabled(SA_LOG_DEBUG);

	if (!sa_log_enabled(level == LIBBPF_WARN ? SA_LOG_WARNING : SA_LOG_DEBUG))
		return 0;
	if (libbpf_muted && !debug)
		return 0;
	/* The kernel's extack text comes with an error synacct reports in
	 * its own one line (or expects: clsact that already exists). */
	if (!debug && strstr(fmt, "Kernel error message"))
		return 0;
	fputs(sa_log_prefix(level == LIBBPF_WARN ? SA_LOG_WARNING : SA_LOG_DEBUG), stderr);
	return vfprintf(stderr, fmt, args);
}

void sa_log_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}

void sa_log_libbpf_mute(bool mute)
{
	libbpf_muted = mute;
}
