// SPDX-License-Identifier: GPL-2.0
/*
 * test_escape.c - untrusted strings for the terminal, JSON and the shell
 * (agent/core/escape.c): control characters, escape sequences, bidi and C1
 * controls, invalid UTF-8 of every kind, a leading '-', and buffers too
 * small for the escaped form (never half an escape).
 */
#include <string.h>
#include "escape.h"
#include "tap.h"

static char buf[256];

#define TTY(in, want, what)	is_str(sa_tty_str(in, buf, sizeof(buf)), want, "tty: " what)
#define JSON(in, want, what)	is_str(sa_json_str(in, buf, sizeof(buf)), want, "json: " what)
#define SHELL(in, want, what)	is_str(sa_shell_str(in, buf, sizeof(buf)), want, "shell: " what)

static void tty(void)
{
	TTY("sa-ns1", "sa-ns1", "plain ASCII as is");
	TTY("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xa7", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xa7",
	    "valid UTF-8 (2, 3, 4 bytes) as is");
	TTY("a\x1b[2J\x1b[Hb", "a\\x1b[2J\\x1b[Hb", "ESC sequences (clear screen, home): ESC visible");
	TTY("\x1b]0;owned\x07", "\\x1b]0;owned\\x07", "OSC title sequence: ESC and BEL visible");
	TTY("a\nb\rc\td\x7f", "a\\x0ab\\x0dc\\x09d\\x7f", "newline, CR, tab, DEL");
	TTY("\xc2\x9b" "2J", "\\xc2\\x9b2J", "C1 CSI (U+009B) as its two bytes");
	TTY("x\xe2\x80\xaey", "x\\xe2\\x80\\xaey", "bidi override U+202E");
	TTY("x\xe2\x80\x8by\xef\xbb\xbf", "x\\xe2\\x80\\x8by\\xef\\xbb\\xbf", "zero-width space, BOM");
	TTY("a\\x1b", "a\\\\x1b", "a backslash doubled: an escape is never forged");
	TTY("\xff\xfe", "\\xff\\xfe", "bytes never in UTF-8");
	TTY("\xc0\xaf", "\\xc0\\xaf", "overlong '/'");
	TTY("\xe0\x80\xaf", "\\xe0\\x80\\xaf", "overlong 3-byte form");
	TTY("\xed\xa0\x80", "\\xed\\xa0\\x80", "a surrogate (U+D800)");
	TTY("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80", "above U+10FFFF");
	TTY("ab\xe2\x82", "ab\\xe2\\x82", "a sequence cut short at the end");
	TTY("\xe2\x82" "A", "\\xe2\\x82" "A", "a sequence cut short by ASCII");
	TTY("\x80x", "\\x80x", "a lone continuation byte");
	TTY(NULL, "", "NULL as empty");
	is_str(sa_tty_str("ab\x1b" "c", buf, 6), "ab", "tty: no room for a whole escape: stops before it");
	is_str(sa_tty_str("abc", buf, 3), "ab", "tty: truncated to the buffer, NUL-terminated");
}

static void json(void)
{
	JSON("sa-ns1", "sa-ns1", "plain ASCII as is");
	JSON("a\x1b[2Jb\n", "a\x1b[2Jb\n", "controls kept for the JSON writer to escape");
	JSON("caf\xc3\xa9", "caf\xc3\xa9", "valid UTF-8 as is");
	JSON("a\xff" "b", "a\\xffb", "invalid byte as the text \\xNN");
	JSON("\xc0\xaf\xed\xa0\x80", "\\xc0\\xaf\\xed\\xa0\\x80", "overlong form and surrogate as text");
	JSON("\xe2\x82", "\\xe2\\x82", "a sequence cut short");
}

static void shell(void)
{
	SHELL("sa-ns1", "sa-ns1", "safe characters as is");
	SHELL("/run/netns/a.b", "/run/netns/a.b", "a path as is");
	SHELL("-n", "'-n'", "a leading '-' quoted");
	SHELL("--help", "'--help'", "a leading '--' quoted");
	SHELL("", "''", "empty: an empty word, not nothing");
	SHELL("a b", "'a b'", "a space");
	SHELL("$(reboot);`id`", "'$(reboot);`id`'", "command substitution, ';' and backquotes single-quoted");
	SHELL("it's", "'it'\\''s'", "a single quote closed, escaped, reopened");
	SHELL("a\x1b[2J", "$'a\\x1b[2J'", "ESC: $'...' with \\xNN");
	SHELL("a'\\\xff", "$'a\\'\\\\\\xff'", "quote, backslash, invalid byte in $'...'");
	SHELL("caf\xc3\xa9", "$'caf\\xc3\\xa9'", "non-ASCII UTF-8: printable ASCII result");
	SHELL("-\x1b", "$'-\\x1b'", "a leading '-' with a control");
	is_str(sa_shell_str("a b c d e", buf, 8), "NAME", "shell: no room for the quoted word: a placeholder, never half of it");
}

/* A name shortened for the table keeps whole characters. */
static void cut(void)
{
	is_int(sa_utf8_cut("abc", 60), 3, "cut: shorter than the limit: all of it");
	is_int(sa_utf8_cut("abcdef", 4), 4, "cut: ASCII at the limit");
	is_int(sa_utf8_cut("ab\xc3\xa9", 3), 2, "cut: not inside a 2-byte character");
	is_int(sa_utf8_cut("ab\xc3\xa9", 4), 4, "cut: a 2-byte character that fits");
	is_int(sa_utf8_cut("a\xe2\x82\xac!", 2), 1, "cut: not inside a 3-byte character (1 of 3)");
	is_int(sa_utf8_cut("a\xe2\x82\xac!", 3), 1, "cut: not inside a 3-byte character (2 of 3)");
	is_int(sa_utf8_cut("a\xf0\x9f\x98\x80", 4), 1, "cut: not inside a 4-byte character");
	is_int(sa_utf8_cut("\x80\x80\x80", 2), 0, "cut: only continuation bytes: nothing (an escaped name has none)");
}

void suite_escape(void)
{
	tty();
	json();
	shell();
	cut();
}
