// SPDX-License-Identifier: GPL-2.0
/*
 * log.c - one-line messages on stderr, and libbpf's among them.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <bpf/libbpf.h>
#include "log.h"

static void vmsg(const char *fmt, va_list ap)
{
	fputs("synacct: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
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
