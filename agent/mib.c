// SPDX-License-Identifier: GPL-2.0
/*
 * mib.c - the watched namespace's MIB counters, as nstat shows them, and
 * its sysctls.
 *
 * /proc/net/netstat and /proc/net/snmp follow the reader's network
 * namespace, so after setns they are the watched namespace's.  Each file
 * holds pairs of lines: "Group: Name1 Name2 ..." then "Group: v1 v2 ...".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mib.h"

static const struct {
	const char *group;
	const char *field;
} mib_fields[SA_MIB_MAX] = {
#define SA_MIB_FIELD(name, group, field) [SA_MIB_##name] = { group, field },
	SA_MIB_COUNTERS(SA_MIB_FIELD)
#undef SA_MIB_FIELD
};

const char *const sa_mib_names[SA_MIB_MAX] = {
#define SA_MIB_NAME(name, group, field) [SA_MIB_##name] = #name,
	SA_MIB_COUNTERS(SA_MIB_NAME)
#undef SA_MIB_NAME
};

static void parse_pair(char *names, char *values, __u64 *mib)
{
	char *ns, *vs, *n, *v;
	char *group = strtok_r(names, " \n", &ns);

	strtok_r(values, " \n", &vs);	/* the group again */
	if (!group)
		return;
	group[strlen(group) - 1] = '\0';	/* "TcpExt:" */
	while ((n = strtok_r(NULL, " \n", &ns)) && (v = strtok_r(NULL, " \n", &vs))) {
		for (int i = 0; i < SA_MIB_MAX; i++)
			if (!strcmp(mib_fields[i].group, group) &&
			    !strcmp(mib_fields[i].field, n))
				mib[i] = strtoull(v, NULL, 10);
	}
}

static int read_file(const char *path, __u64 *mib)
{
	char names[8192], values[8192];
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	while (fgets(names, sizeof(names), f) && fgets(values, sizeof(values), f))
		parse_pair(names, values, mib);
	fclose(f);
	return 0;
}

int sa_mib_read(__u64 *mib)
{
	int err;

	memset(mib, 0, SA_MIB_MAX * sizeof(*mib));
	err = read_file("/proc/net/netstat", mib);
	if (!err)
		err = read_file("/proc/net/snmp", mib);
	return err;
}

/* A sysctl by its dotted name ("net.ipv4.tcp_syncookies"), from /proc/sys,
 * which follows the reader's network namespace.  -ENOENT when the kernel
 * has no such setting. */
int sa_sysctl_read(const char *name, long *value)
{
	char path[128], buf[64], *end;
	FILE *f;
	int err = 0;

	snprintf(path, sizeof(path), "/proc/sys/%s", name);
	for (char *p = path + strlen("/proc/sys/"); *p; p++)
		if (*p == '.')
			*p = '/';
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f)) {
		err = -EIO;
	} else {
		errno = 0;
		*value = strtol(buf, &end, 10);
		if (errno || end == buf)
			err = -EINVAL;
	}
	fclose(f);
	return err;
}

int sa_sysctl_syncookies(void)
{
	long v;

	return sa_sysctl_read("net.ipv4.tcp_syncookies", &v) ? -1 : (int)v;
}
