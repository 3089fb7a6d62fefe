// SPDX-License-Identifier: GPL-2.0
/*
 * ports.c - which ports synacct reports: the --ports list, and the TCP
 * listeners of the watched namespace (they are shown even before their
 * first SYN, so an idle service is visible as idle).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ports.h"

static int parse_port(const char *s, char **end)
{
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, end, 10);
	if (errno || v > 65535)
		return -1;
	return (int)v;
}

/* "80,443,8000-8100" */
int sa_portset_parse(struct sa_portset *ps, const char *spec)
{
	const char *s = spec;

	memset(ps, 0, sizeof(*ps));
	while (*s) {
		char *end;
		int lo, hi;

		lo = parse_port(s, &end);
		if (lo < 0)
			return -EINVAL;
		hi = lo;
		if (*end == '-') {
			hi = parse_port(end + 1, &end);
			if (hi < lo)
				return -EINVAL;
		}
		for (int p = lo; p <= hi; p++)
			sa_portset_add(ps, p);
		if (*end == ',' && end[1])
			end++;
		else if (*end)
			return -EINVAL;
		s = end;
	}
	return s == spec ? -EINVAL : 0;
}

/* /proc/net/tcp{,6} follow the calling thread's network namespace. */
static int scan_proc_tcp(const char *path, struct sa_portset *out)
{
	char line[512];
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;	/* IPv6 may be off */
	if (!fgets(line, sizeof(line), f)) {		/* header */
		fclose(f);
		return 0;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned int port, state;
		char local[64];

		if (sscanf(line, " %*u: %63[0-9A-Fa-f]:%x %*s %x", local, &port,
			   &state) != 3)
			continue;
		if (state == 0x0A && port < SA_MAX_PORTS)	/* TCP_LISTEN */
			sa_portset_add(out, port);
	}
	fclose(f);
	return 0;
}

int sa_listening_ports(struct sa_portset *out)
{
	int err;

	memset(out, 0, sizeof(*out));
	err = scan_proc_tcp("/proc/net/tcp", out);
	if (!err)
		err = scan_proc_tcp("/proc/net/tcp6", out);
	return err;
}
