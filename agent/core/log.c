// SPDX-License-Identifier: GPL-2.0
/*
 * log.c - one-line messages on stderr, by level; libbpf's are routed
 * among them by agent/sys/log_libbpf.c.  When stderr is the journal, each
 * line starts with its syslog priority ("<3>", sd-daemon(3)), which
 * journald takes off and keeps as the entry's PRIORITY.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include "escape.h"
#include "log.h"

static enum sa_log_level log_level = SA_LOG_INFO;
static bool journal;	/* stderr is the journal (sa_log_journal_setup) */

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
	fprintf(stderr, "%ssynacct: %s\n", sa_log_prefix(level),
		sa_tty_str(line, safe, sizeof(safe)));
}

const char *sa_log_prefix(enum sa_log_level level)
{
	static const char *const prio[] = {
		[SA_LOG_ERROR] = SD_ERR, [SA_LOG_WARNING] = SD_WARNING,
		[SA_LOG_INFO] = SD_INFO, [SA_LOG_DEBUG] = SD_DEBUG,
	};

	return journal ? prio[level] : "";
}

/* systemd.exec(5): JOURNAL_STREAM is "DEV:INODE" of the stream it
 * connected stderr to; a stderr redirected since (2>file in ExecStart's
 * shell, a child's) is not the journal any more. */
static bool stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	int n = 0;

	if (!e || sscanf(e, "%llu:%llu%n", &dev, &ino, &n) != 2 || e[n])
		return false;
	return !fstat(STDERR_FILENO, &st) && st.st_dev == dev && st.st_ino == ino;
}

/* Lines not written through sa_log (argp's usage errors, "Try ...")
 * carry no priority of their own: the stream gives them SD_ERR, since
 * nothing else writes to stderr bare.  Each write is sent on as it
 * comes (stderr is unbuffered); @at_start: the next byte begins a line. */
static bool at_start = true;

static ssize_t journal_write(void *cookie, const char *buf, size_t size)
{
	size_t done = 0;

	(void)cookie;
	while (done < size) {
		const char *nl = memchr(buf + done, '\n', size - done);
		size_t n = nl ? (size_t)(nl - (buf + done)) + 1 : size - done;

		if (at_start && !(n >= 3 && buf[done] == '<' && buf[done + 1] >= '0' &&
				  buf[done + 1] <= '7' && buf[done + 2] == '>') &&
		    write(STDERR_FILENO, SD_ERR, 3) != 3)
			return -1;
		for (size_t w = 0; w < n;) {
			ssize_t r = write(STDERR_FILENO, buf + done + w, n - w);

			if (r <= 0)
				return done ? (ssize_t)done : -1;
			w += r;
		}
		at_start = nl != NULL;
		done += n;
	}
	return size;
}

void sa_log_journal_setup(void)
{
	cookie_io_functions_t io = { .write = journal_write };
	FILE *f;

	if (!stderr_is_journal())
		return;
	f = fopencookie(NULL, "w", io);
	if (!f)
		return;
	setvbuf(f, NULL, _IONBF, 0);
	fflush(stderr);
	stderr = f;
	journal = true;
}
