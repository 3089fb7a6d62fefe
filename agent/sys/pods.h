/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pods.h - the files that say which pod a process is in: its cgroup
 * (/proc/PID/cgroup) and the kubelet's pod log directories
 * (/var/log/pods/<namespace>_<name>_<uid>, or --pods-log-dir).  Parsed by
 * agent/core/pod.c.
 */
#ifndef SYNACCT_PODS_H
#define SYNACCT_PODS_H

#include <stddef.h>
#include "pod.h"

#define SA_PODS_LOG_DIR	"/var/log/pods"

/* The pod and container of the cgroup v2 path ("0::" line) in @file (a
 * /proc/PID/cgroup): as sa_pod_parse_cgroup, and -errno when the file
 * cannot be read. */
int sa_pod_read_cgroup(const char *file, struct sa_pod_id *out);

/* Pod @uid's namespace and name (raw bytes), from the entry
 * "<namespace>_<name>_<uid>" of directory @dir; -ENOENT when there is
 * none, -errno when @dir cannot be read. */
int sa_pod_names(const char *dir, const char *uid, char *ns, size_t ns_len, char *name,
		 size_t name_len);

#endif /* SYNACCT_PODS_H */
