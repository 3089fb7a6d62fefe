// SPDX-License-Identifier: GPL-2.0
/*
 * test_log.c - messages by level (agent/core/log.c): errors and notices by
 * default, debug only once the level is raised (-v), each one line on
 * stderr named for the tool and escaped for the terminal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "log.h"
#include "tap.h"

/* What the messages logged by @fn wrote to stderr, in @buf. */
static const char *logged(void (*fn)(void), char *buf, size_t len)
{
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t n = 0;

	buf[0] = '\0';
	if (!tmp || saved < 0) {
		diag("tmpfile/dup failed");
		if (tmp)
			fclose(tmp);
		if (saved >= 0)
			close(saved);
		return buf;
	}
	fflush(stderr);
	dup2(fileno(tmp), STDERR_FILENO);
	fn();
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	n = fread(buf, 1, len - 1, tmp);
	buf[n] = '\0';
	fclose(tmp);
	return buf;
}

static void every_level(void)
{
	sa_err("e %d", 1);
	sa_warn("w %d", 2);
	sa_info("i %d", 3);
	sa_debug("d %d", 4);
}

static void hostile(void)
{
	sa_info("interface %s", "a\x1b[2Jb");
}

void suite_log(void)
{
	char buf[512];

	is_str(logged(every_level, buf, sizeof(buf)),
	       "synacct: e 1\nsynacct: w 2\nsynacct: i 3\n",
	       "default level: errors, warnings and notices, no debug");
	ok(!sa_log_enabled(SA_LOG_DEBUG) && sa_log_enabled(SA_LOG_INFO),
	   "default level: info");
	is_str(logged(hostile, buf, sizeof(buf)), "synacct: interface a\\x1b[2Jb\n",
	       "a name with an escape sequence reaches the terminal escaped");

	sa_log_set_level(SA_LOG_DEBUG);
	is_str(logged(every_level, buf, sizeof(buf)),
	       "synacct: e 1\nsynacct: w 2\nsynacct: i 3\nsynacct: d 4\n",
	       "debug level (-v): debug too");
	sa_log_set_level(SA_LOG_ERROR);
	is_str(logged(every_level, buf, sizeof(buf)), "synacct: e 1\n",
	       "error level: errors only");
	sa_log_set_level(SA_LOG_INFO);	/* the other suites' */
}
