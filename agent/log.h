/* SPDX-License-Identifier: GPL-2.0 */
/*
 * log.h - exit statuses and one-line messages on stderr.
 */
#ifndef SYNACCT_LOG_H
#define SYNACCT_LOG_H

#include <stdbool.h>

#define SA_EXIT_OK		0
#define SA_EXIT_RUNTIME		1
#define SA_EXIT_USAGE		2
/* `synacct check`: a finding at warning level or above. */
#define SA_EXIT_FINDINGS	3

/* Errors and notices alike: one line on stderr, named for the tool. */
void sa_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sa_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The message for error @err (negative or positive): an errno's, or
 * libbpf's own for its codes from 4000 (LIBBPF_ERRNO__*), which
 * strerror() calls "Unknown error 4001". */
const char *sa_strerror(int err);

/* Route libbpf's messages: warnings always, debug output with @verbose. */
void sa_log_libbpf(bool verbose);
/* Hold back libbpf's warnings (not with -v) around a call whose failures
 * the caller handles and reports itself. */
void sa_log_libbpf_mute(bool mute);

#endif /* SYNACCT_LOG_H */
