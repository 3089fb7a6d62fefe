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
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include "log.h"
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

struct ns_seen {
	struct stat *st;
	size_t n, cap;
};

/* Enter @path's namespace unless it is one seen already; 1 if entered. */
static int enter_once(const char *path, struct ns_seen *seen)
{
	struct stat st;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st))
		goto out;
	for (size_t i = 0; i < seen->n; i++)
		if (seen->st[i].st_dev == st.st_dev && seen->st[i].st_ino == st.st_ino)
			goto out;
	if (seen->n == seen->cap) {
		size_t cap = seen->cap ? 2 * seen->cap : 64;
		struct stat *grown = realloc(seen->st, cap * sizeof(*grown));

		if (!grown)
			goto out;
		seen->st = grown;
		seen->cap = cap;
	}
	seen->st[seen->n++] = st;
	ret = !setns(fd, CLONE_NEWNET);
out:
	close(fd);
	return ret;
}

/* @fn in each namespace under @dir/<entry>@suffix. */
static int each_in(const char *dir, const char *suffix, bool pids,
		   int (*fn)(void *), void *ctx, int self, struct ns_seen *seen)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int ret = 0;

	if (!d)
		return 0;
	while (!ret && (e = readdir(d))) {
		char path[512];

		if (e->d_name[0] == '.' || (pids && (e->d_name[0] < '0' || e->d_name[0] > '9')))
			continue;
		snprintf(path, sizeof(path), "%s/%s%s", dir, e->d_name, suffix);
		if (!enter_once(path, seen))
			continue;
		ret = fn(ctx);
		if (setns(self, CLONE_NEWNET)) {
			ret = -errno;
			sa_err("cannot return to synacct's network namespace: %s", strerror(errno));
		}
	}
	closedir(d);
	return ret;
}

int sa_netns_each(int (*fn)(void *ctx), void *ctx)
{
	struct ns_seen seen = { 0 };
	int self, ret;

	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	/* The caller's own counts as seen: @fn already knows it. */
	enter_once("/proc/thread-self/ns/net", &seen);
	ret = each_in("/run/netns", "", false, fn, ctx, self, &seen);
	if (!ret)
		ret = each_in("/proc", "/ns/net", true, fn, ctx, self, &seen);
	close(self);
	free(seen.st);
	return ret;
}
