// SPDX-License-Identifier: GPL-2.0
/*
 * escape.c - untrusted strings made safe for a terminal, for JSON and for
 * a shell command line (escape.h).
 *
 * Anyone may name a process (prctl, /proc/self/comm), and whoever creates
 * a namespace or an interface names it: such names reach root's terminal
 * through `synacct check`, the table and the error lines.  Escape sequences
 * in them could clear the screen or rewrite a finding; invalid UTF-8 would
 * make the JSON unreadable for strict parsers.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "escape.h"

/* Length of the well-formed UTF-8 sequence at @s (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), 0 if there is none;
 * the code point in @cp. */
static int utf8_seq(const unsigned char *s, uint32_t *cp)
{
	int n;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, *cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, *cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, *cp = s[0] & 0x07;
	else
		return 0;
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)	/* also stops at the NUL */
			return 0;
		*cp = *cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && *cp < 0x800) || (n == 4 && *cp < 0x10000) ||
	    (*cp >= 0xd800 && *cp <= 0xdfff) || *cp > 0x10ffff)
		return 0;
	return n;
}

/* Code points a terminal acts on or that reorder what is shown: C1
 * controls, zero-width and direction marks, bidi embeddings, overrides
 * and isolates, line/paragraph separators, the BOM. */
static bool cp_control(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x200b && cp <= 0x200f) ||
	       (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
	       cp == 0xfeff;
}

struct out {
	char *buf;
	size_t len, pos;
	bool full;
};

/* Appends whole pieces only, so an escape is never cut in half. */
static void put(struct out *o, const char *p, size_t n)
{
	if (o->full || o->pos + n >= o->len) {
		o->full = true;
		return;
	}
	memcpy(o->buf + o->pos, p, n);
	o->pos += n;
	o->buf[o->pos] = '\0';
}

static void put_hex(struct out *o, const unsigned char *p, size_t n)
{
	char x[5];

	for (size_t i = 0; i < n; i++) {
		snprintf(x, sizeof(x), "\\x%02x", p[i]);
		put(o, x, 4);
	}
}

enum esc_mode { ESC_TTY, ESC_JSON, ESC_SHELL };

static void escape(const char *str, struct out *o, enum esc_mode mode)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s) {
		uint32_t cp;
		int n = utf8_seq(s, &cp);

		if (!n) {
			put_hex(o, s, 1);
			s++;
			continue;
		}
		if (mode == ESC_JSON) {
			put(o, (const char *)s, n);
		} else if (mode == ESC_SHELL) {
			/* Inside $'...': printable ASCII as is, but for the
			 * two characters that end or escape it. */
			if (n == 1 && cp >= 0x20 && cp < 0x7f) {
				if (cp == '\\' || cp == '\'')
					put(o, "\\", 1);
				put(o, (const char *)s, 1);
			} else {
				put_hex(o, s, n);
			}
		} else if (cp < 0x20 || cp == 0x7f || cp_control(cp)) {
			put_hex(o, s, n);
		} else if (cp == '\\') {
			put(o, "\\\\", 2);
		} else {
			put(o, (const char *)s, n);
		}
		s += n;
	}
}

static const char *run(const char *s, char *buf, size_t len, enum esc_mode m)
{
	struct out o = { .buf = buf, .len = len };

	if (!len)
		return "";
	buf[0] = '\0';
	escape(s ? s : "", &o, m);
	return buf;
}

const char *sa_tty_str(const char *s, char *buf, size_t len)
{
	return run(s, buf, len, ESC_TTY);
}

const char *sa_json_str(const char *s, char *buf, size_t len)
{
	return run(s, buf, len, ESC_JSON);
}

const char *sa_shell_str(const char *s, char *buf, size_t len)
{
	static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "0123456789_-./:=@%+,";
	struct out o = { .buf = buf, .len = len };
	bool printable = true;

	if (!len)
		return "";
	buf[0] = '\0';
	/* A leading '-' stays quoted: a word that reads as an option at a
	 * glance is shown as the name it is. */
	if (*s && *s != '-' && strspn(s, safe) == strlen(s)) {
		put(&o, s, strlen(s));
		return buf;
	}
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p >= 0x7f)
			printable = false;
	if (printable) {
		/* '...' takes everything but ', which is closed, escaped
		 * and reopened. */
		put(&o, "'", 1);
		for (const char *p = s; *p; p++)
			put(&o, *p == '\'' ? "'\\''" : p, *p == '\'' ? 4 : 1);
		put(&o, "'", 1);
	} else {
		put(&o, "$'", 2);
		escape(s, &o, ESC_SHELL);
		put(&o, "'", 1);
	}
	/* Half a quoted word is worse than none. */
	if (o.full)
		snprintf(buf, len, "NAME");
	return buf;
}

int sa_utf8_cut(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	if (n <= max)
		return (int)n;
	/* s[max] is the first byte left out: back off while it continues a
	 * character (10xxxxxx), i.e. the cut is inside one. */
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return (int)n;
}
