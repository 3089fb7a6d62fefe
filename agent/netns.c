// SPDX-License-Identifier: GPL-2.0
/*
 * netns.c - enter the network namespace named by --netns.
 *
 * synacct calls setns(2) itself instead of relying on `ip netns exec`,
 * which mounts a fresh /sys and so hides /sys/fs/bpf and cgroup2 mounts.
 * setns(CLONE_NEWNET) changes only the network namespace: bpffs, cgroups
 * and /proc/self/net (which follows the caller) keep working.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include "netns.h"

/* The namespace sa_netns_enter entered: its file, and the nsfs inode that
 * file led to then (sa_netns_deleted). */
static char entered_path[4096];
static dev_t entered_dev;
static ino_t entered_ino;

/* Returns 0, -ENOENT for an unknown namespace, or another -errno. */
int sa_netns_enter(const char *name_or_path, char *err, size_t errlen)
{
	char path[4096];
	struct stat st;
	int fd, ret = 0;

	if (strchr(name_or_path, '/'))
		snprintf(path, sizeof(path), "%s", name_or_path);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", name_or_path);

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		if (ret == -ENOENT)
			snprintf(err, errlen, "network namespace '%s' not found (no %s); "
				 "list them with 'ip netns list'", name_or_path, path);
		else
			snprintf(err, errlen, "cannot open network namespace %s: %s",
				 path, strerror(-ret));
		return ret;
	}
	if (setns(fd, CLONE_NEWNET)) {
		ret = -errno;
		/* setns on something that is not a netns file gives EINVAL. */
		snprintf(err, errlen, "cannot enter network namespace %s: %s",
			 path, ret == -EINVAL ? "not a network namespace" : strerror(-ret));
		if (ret == -EINVAL)
			ret = -ENOENT;
	} else if (!fstat(fd, &st)) {
		snprintf(entered_path, sizeof(entered_path), "%s", path);
		entered_dev = st.st_dev;
		entered_ino = st.st_ino;
	}
	close(fd);
	return ret;
}

const char *sa_netns_deleted(void)
{
	struct stat st;

	if (!entered_path[0])
		return NULL;
	if (!stat(entered_path, &st))
		return st.st_dev == entered_dev && st.st_ino == entered_ino ? NULL :
		       "now names another namespace";
	/* Only a file that is not there says so; EACCES and the like do not. */
	return errno == ENOENT ? "is gone" : NULL;
}

const char *sa_netns_path(void)
{
	return entered_path;
}

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

int sa_netns_cookie(unsigned long long *cookie)
{
	socklen_t len = sizeof(*cookie);
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, cookie, &len))
		err = -errno;
	close(fd);
	return err;
}
