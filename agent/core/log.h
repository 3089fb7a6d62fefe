/* SPDX-License-Identifier: GPL-2.0 */
/*
 * log.h - exit statuses and one-line messages on stderr, by level.
 */
#ifndef SYNACCT_LOG_H
#define SYNACCT_LOG_H

#include <stdbool.h>

#define SA_EXIT_OK		0
#define SA_EXIT_RUNTIME		1
#define SA_EXIT_USAGE		2
/* `synacct check`: a finding at warning level or above. */
#define SA_EXIT_FINDINGS	3

/* What a message is; a message is said when its level is at or below the
 * one set: SA_LOG_INFO by default, SA_LOG_DEBUG with -v. */
enum sa_log_level {
	SA_LOG_ERROR,
	SA_LOG_WARNING,
	SA_LOG_INFO,
	SA_LOG_DEBUG,
};

void sa_log_set_level(enum sa_log_level level);
bool sa_log_enabled(enum sa_log_level level);

/* One line on stderr, named for the tool ("synacct: ..."), escaped for
 * the terminal; nothing when @level is above the one set. */
void sa_log(enum sa_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* When stderr is the journal (JOURNAL_STREAM names it: systemd.exec(5)),
 * stderr becomes a stream that starts each line with its priority: "<3>"
 * for an error, and so on (sa_log_prefix); lines written bare (argp's)
 * get "<3>".  Call it first thing; otherwise nothing changes. */
void sa_log_journal_setup(void);
/* "<N>" for @level when stderr is the journal, else "". */
const char *sa_log_prefix(enum sa_log_level level);

#define sa_err(...)	sa_log(SA_LOG_ERROR, __VA_ARGS__)
#define sa_warn(...)	sa_log(SA_LOG_WARNING, __VA_ARGS__)
#define sa_info(...)	sa_log(SA_LOG_INFO, __VA_ARGS__)
#define sa_debug(...)	sa_log(SA_LOG_DEBUG, __VA_ARGS__)

/* The message for error @err (negative or positive): an errno's, or
 * libbpf's own for its codes from 4000 (LIBBPF_ERRNO__*), which
 * strerror() calls "Unknown error 4001" (agent/sys/log_libbpf.c). */
const char *sa_strerror(int err);

/* Route libbpf's messages by level (agent/sys/log_libbpf.c): its warnings
 * from SA_LOG_WARNING, its info and debug output at SA_LOG_DEBUG. */
void sa_log_libbpf(void);
/* Hold back libbpf's warnings (below SA_LOG_DEBUG) around a call whose
 * failures the caller handles and reports itself. */
void sa_log_libbpf_mute(bool mute);

#endif /* SYNACCT_LOG_H */
