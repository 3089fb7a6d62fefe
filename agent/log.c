// SPDX-License-Identifier: GPL-2.0
/*
 * log.c - one-line messages on stderr, and libbpf's among them.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "escape.h"
#include "log.h"

/* Messages quote names others chose (interfaces, namespaces): the whole
 * line is escaped for the terminal. */
static void vmsg(const char *fmt, va_list ap)
{
	char line[1024], safe[SA_ESC_SIZE(sizeof(line))];

	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(stderr, "synacct: %s\n", sa_tty_str(line, safe, sizeof(safe)));
}

const char *sa_strerror(int err)
{
	/* A few buffers, so that two in one message do not clash. */
	static __thread char buf[4][128];
	static __thread unsigned int next;
	char *b = buf[next++ % 4];

	libbpf_strerror(err < 0 ? err : -err, b, 128);
	return b;
}

void sa_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void sa_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

static bool libbpf_verbose;
static bool libbpf_muted;

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list args)
{
	if (level == LIBBPF_DEBUG && !libbpf_verbose)
		return 0;
	if (libbpf_muted && !libbpf_verbose)
		return 0;
	if (level == LIBBPF_INFO && !libbpf_verbose)
		return 0;
	/* The kernel's extack text comes with an error synacct reports in
	 * its own one line (or expects: clsact that already exists). */
	if (!libbpf_verbose && strstr(fmt, "Kernel error message"))
		return 0;
	return vfprintf(stderr, fmt, args);
}

void sa_log_libbpf(bool verbose)
{
	libbpf_verbose = verbose;
	libbpf_set_print(libbpf_print);
}

void sa_log_libbpf_mute(bool mute)
{
	libbpf_muted = mute;
}
