// SPDX-License-Identifier: GPL-2.0
/*
 * log.c - one-line messages on stderr, by level; libbpf's are routed
 * among them by agent/sys/log_libbpf.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include "escape.h"
#include "log.h"

static enum sa_log_level log_level = SA_LOG_INFO;

void sa_log_set_level(enum sa_log_level level)
{
	log_level = level;
}

bool sa_log_enabled(enum sa_log_level level)
{
	return level <= log_level;
}

/* Messages quote names others chose (interfaces, namespaces): the whole
 * line is escaped for the terminal. */
void sa_log(enum sa_log_level level, const char *fmt, ...)
{
	char line[1024], safe[SA_ESC_SIZE(sizeof(line))];
	va_list ap;

	if (!sa_log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "synacct: %s\n", sa_tty_str(line, safe, sizeof(safe)));
}
