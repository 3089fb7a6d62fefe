// SPDX-License-Identifier: GPL-2.0
/*
 * mib.c - the watched namespace's MIB counters, as nstat shows them.
 *
 * /proc/net/netstat and /proc/net/snmp follow the reader's network
 * namespace, so after setns they are the watched namespace's.  Each file
 * holds pairs of lines: "Group: Name1 Name2 ..." then "Group: v1 v2 ...".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agent.h"

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

int sa_sysctl_syncookies(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/tcp_syncookies", "re");
	int v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%d", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}
