// SPDX-License-Identifier: GPL-2.0
/*
 * test_sysctl.c - the sysctl reader (agent/core/mib.c sa_sysctl_read_at): a
 * fixture tree standing in for /proc/sys with good and bad content, and
 * real /proc/sys values, readable by anyone, against what sysctl(8) says.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mib.h"
#include "tap.h"

static char root[PATH_MAX];

static void fixtures(void)
{
	static const struct {
		const char *name;
		int err;
		long value;
	} cases[] = {
		{ "net.ipv4.tcp_syncookies", 0, 1 },
		{ "net.core.somaxconn", 0, 4096 },
		{ "net.ipv4.negative", 0, -1 },
		{ "net.ipv4.no_newline", 0, 7 },
		{ "net.ipv4.extra_line", 0, 1 },	/* the first line */
		{ "net.ipv4.tcp_rmem", -EINVAL, 0 },	/* three values */
		{ "net.ipv4.empty_file", -EINVAL, 0 },
		{ "net.ipv4.not_a_number", -EINVAL, 0 },
		{ "net.ipv4.trailing_garbage", -EINVAL, 0 },
		{ "net.ipv4.too_big", -EINVAL, 0 },
		{ "net.ipv4.no_such_setting", -ENOENT, 0 },
		{ "net.ipv4", -EIO, 0 },			/* a directory */
		{ "net/ipv4/tcp_syncookies", -EINVAL, 0 },	/* names are dotted */
		{ "..net.ipv4.tcp_syncookies", -EINVAL, 0 },
		{ "net..ipv4.tcp_syncookies", -EINVAL, 0 },
		{ "net.ipv4.tcp_syncookies.", -EINVAL, 0 },
		{ "", -EINVAL, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long v = 12345;
		int err = sa_sysctl_read_at(root, cases[i].name, &v);

		is_int(err, cases[i].err, "'%s': %s", cases[i].name,
		       cases[i].err ? strerror(-cases[i].err) : "read");
		if (!cases[i].err)
			is_int(v, cases[i].value, "'%s' == %ld", cases[i].name, cases[i].value);
		else
			is_int(v, 12345, "'%s': the value is left alone", cases[i].name);
	}
}

/* What sysctl(8) prints for @name, or LONG_MIN. */
static long sysctl_cmd(const char *name)
{
	char cmd[256], out[64];
	long v = LONG_MIN;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "sysctl -n %s 2>/dev/null", name);
	p = popen(cmd, "r");
	if (!p)
		return v;
	if (fgets(out, sizeof(out), p))
		v = strtol(out, NULL, 10);
	pclose(p);
	return v;
}

static void real(void)
{
	static const char *const names[] = {
		"net.ipv4.tcp_syncookies", "net.core.somaxconn",
		"net.ipv4.tcp_max_syn_backlog", "net.ipv4.tcp_synack_retries",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		long v = LONG_MIN;
		int err = sa_sysctl_read(names[i], &v);

		is_int(err, 0, "/proc/sys: %s read", names[i]);
		is_int(v, sysctl_cmd(names[i]), "/proc/sys: %s == sysctl -n", names[i]);
	}
	is_int(sa_sysctl_syncookies(), sysctl_cmd("net.ipv4.tcp_syncookies"),
	       "sa_sysctl_syncookies() == sysctl -n net.ipv4.tcp_syncookies");
}

void suite_sysctl(void)
{
	snprintf(root, sizeof(root), "%s/sysctl", fixture_dir());
	fixtures();
	real();
}
