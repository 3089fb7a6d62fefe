/* SPDX-License-Identifier: GPL-2.0 */
/*
 * escape.h - untrusted strings (process names, interface and namespace
 * names, anything read from /proc) made safe for where they are printed.
 */
#ifndef SYNACCT_ESCAPE_H
#define SYNACCT_ESCAPE_H

#include <stddef.h>

/* Room for any escaping of a string of @n bytes (each byte at most 4,
 * plus shell quotes and the NUL). */
#define SA_ESC_SIZE(n)	(4 * (n) + 4)

/* For a terminal: control characters (C0, DEL, C1), Unicode format and
 * bidi controls and invalid UTF-8 as visible \xNN, a backslash as \\;
 * other valid UTF-8 is kept.  The result never moves the cursor. */
const char *sa_tty_str(const char *s, char *buf, size_t len);
/* For JSON: valid UTF-8 kept as is (the JSON writer escapes controls),
 * invalid bytes as the text \xNN, so the document stays valid UTF-8. */
const char *sa_json_str(const char *s, char *buf, size_t len);
/* For a shell command line: as is when made only of characters the shell
 * never interprets (and not starting with '-'), else single-quoted, or $'...' with \xNN when it holds
 * anything but printable ASCII.  The result is printable ASCII. */
const char *sa_shell_str(const char *s, char *buf, size_t len);
/* How many bytes of @s to print to show at most @max of them without
 * cutting a UTF-8 character in two (for a "%.*s" that shortens a name). */
int sa_utf8_cut(const char *s, size_t max);

#endif /* SYNACCT_ESCAPE_H */
