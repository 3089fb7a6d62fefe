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
#include <limits.h>
#include <stdbool.h>
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

/* "Group:" of a names or values line; NULL if the line has none. */
static char *line_group(char *line, char **save)
{
	char *group = strtok_r(line, " \n", save);
	size_t len = group ? strlen(group) : 0;

	if (len < 2 || group[len - 1] != ':')
		return NULL;
	group[len - 1] = '\0';
	return group;
}

/* One "Group: Name1 Name2 ..." / "Group: v1 v2 ..." pair.  The two lines
 * must name the same group and hold as many values as names: anything
 * else means the reading is out of step, and no value of it is trusted. */
static int parse_pair(char *names, char *values, __u64 *mib)
{
	__u64 got[SA_MIB_MAX];
	bool seen[SA_MIB_MAX] = {};
	char *ns, *vs, *n, *v, *digits, *end;
	char *group = line_group(names, &ns);
	char *vgroup = line_group(values, &vs);

	if (!group || !vgroup || strcmp(group, vgroup))
		return -EINVAL;
	for (;;) {
		n = strtok_r(NULL, " \n", &ns);
		v = strtok_r(NULL, " \n", &vs);
		if (!n && !v)
			break;
		if (!n || !v)
			return -EINVAL;
		/* Counters are unsigned, except Tcp MaxConn (-1). */
		digits = *v == '-' ? v + 1 : v;
		if (*digits < '0' || *digits > '9')
			return -EINVAL;
		errno = 0;
		strtoull(digits, &end, 10);
		if (errno || *end)
			return -EINVAL;
		for (int i = 0; i < SA_MIB_MAX; i++)
			if (!strcmp(mib_fields[i].group, group) &&
			    !strcmp(mib_fields[i].field, n)) {
				got[i] = strtoull(v, NULL, 10);
				seen[i] = true;
			}
	}
	for (int i = 0; i < SA_MIB_MAX; i++)
		if (seen[i])
			mib[i] = got[i];
	return 0;
}

/* Adds the counters found in @f (the format of /proc/net/netstat and
 * /proc/net/snmp) to @mib; counters it does not hold are left alone.
 * -EINVAL when the content is not pairs of matching lines. */
int sa_mib_parse(FILE *f, __u64 *mib)
{
	char *names = NULL, *values = NULL;
	size_t nlen = 0, vlen = 0;
	int err = 0;

	while (getline(&names, &nlen, f) >= 0) {
		if (getline(&values, &vlen, f) < 0) {
			err = -EINVAL;		/* a names line without values */
			break;
		}
		err = parse_pair(names, values, mib);
		if (err)
			break;
	}
	if (!err && ferror(f))
		err = -EIO;
	free(names);
	free(values);
	return err;
}

static int read_file(const char *path, __u64 *mib)
{
	FILE *f = fopen(path, "re");
	int err;

	if (!f)
		return -errno;
	err = sa_mib_parse(f, mib);
	fclose(f);
	return err;
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

/* A sysctl by its dotted name ("net.ipv4.tcp_syncookies") under @root
 * ("/proc/sys", or a copy of it for tests).  One integer, optionally
 * followed by a newline; -ENOENT when there is no such setting, -EINVAL
 * for a name that is not dotted words or content that is not one integer. */
int sa_sysctl_read_at(const char *root, const char *name, long *value)
{
	char path[PATH_MAX], buf[64], *p, *end;
	size_t rootlen = strlen(root);
	FILE *f;
	int err = 0;

	if (!*name || *name == '.' || name[strlen(name) - 1] == '.' ||
	    strstr(name, "..") || strchr(name, '/'))
		return -EINVAL;
	if (snprintf(path, sizeof(path), "%s/%s", root, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	for (p = path + rootlen + 1; *p; p++)
		if (*p == '.')
			*p = '/';
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f)) {
		err = ferror(f) ? -EIO : -EINVAL;	/* empty */
	} else {
		long v;

		errno = 0;
		v = strtol(buf, &end, 10);
		if (errno || end == buf || (*end && strcmp(end, "\n")))
			err = -EINVAL;
		else
			*value = v;
	}
	fclose(f);
	return err;
}

/* From /proc/sys, which follows the reader's network namespace. */
int sa_sysctl_read(const char *name, long *value)
{
	return sa_sysctl_read_at("/proc/sys", name, value);
}

int sa_sysctl_syncookies(void)
{
	long v;

	return sa_sysctl_read("net.ipv4.tcp_syncookies", &v) ? -1 : (int)v;
}
