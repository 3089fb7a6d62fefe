// SPDX-License-Identifier: GPL-2.0
/*
 * pods.c - reading what names a followed namespace's pod (pods.h): a
 * process's cgroup, the kubelet's pod log directories.  No API server: a
 * node's own files, which a DaemonSet mounts read-only.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pods.h"

int sa_pod_read_cgroup(const char *file, struct sa_pod_id *out)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int ret = -ENOENT;
	FILE *f;

	memset(out, 0, sizeof(*out));
	f = fopen(file, "re");
	if (!f)
		return -errno;
	/* cgroup v2's line; a hybrid host lists v1's first. */
	while ((n = getline(&line, &cap, f)) >= 0) {
		if (strncmp(line, "0::", 3))
			continue;
		if (n && line[n - 1] == '\n')
			line[n - 1] = '\0';
		ret = sa_pod_parse_cgroup(line + 3, out);
		break;
	}
	free(line);
	fclose(f);
	return ret;
}

int sa_pod_names(const char *dir, const char *uid, char *ns, size_t ns_len, char *name,
		 size_t name_len)
{
	struct dirent *de;
	int ret = -ENOENT;
	DIR *d = opendir(dir);

	if (!d)
		return -errno;
	while (ret && (de = readdir(d)))
		ret = sa_pod_log_entry(de->d_name, uid, ns, ns_len, name, name_len);
	closedir(d);
	return ret;
}
