/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pod.h - which Kubernetes pod, and which container, a followed
 * namespace is (kprobe/container/follow.c): parsed from the cgroup path
 * of a process in it (the kubelet's and the container engines' layouts)
 * and from the name of the pod's log directory (/var/log/pods/
 * <namespace>_<name>_<uid>, agent/sys/pods.c reads it).  Pure parsers:
 * whoever creates a cgroup or a directory names it, so what is taken from
 * a path is checked byte by byte.
 */
#ifndef SYNACCT_POD_H
#define SYNACCT_POD_H

#include <stddef.h>
#include "escape.h"

#define SA_POD_UID_MAX		64	/* a UUID is 36, a static pod's 32 */
#define SA_CONTAINER_ID_MAX	64	/* 64 hex digits */
/* The longest names Kubernetes gives: a DNS label (namespace), a DNS
 * subdomain (pod).  A directory whose parts are longer is not the
 * kubelet's. */
#define SA_POD_NAMESPACE_MAX	63
#define SA_POD_NAME_MAX		253

/* From a cgroup path: only hex digits and dashes, never more. */
struct sa_pod_id {
	char uid[SA_POD_UID_MAX + 1];			/* with dashes; "": none */
	char container_id[SA_CONTAINER_ID_MAX + 1];	/* "": none */
};

/* A followed namespace's pod, as shown: the names escaped where they
 * entered (sa_tty_str), as a namespace's name is; "": unknown. */
struct sa_pod {
	char uid[SA_POD_UID_MAX + 1];
	char container_id[SA_CONTAINER_ID_MAX + 1];
	char ns[SA_ESC_SIZE(SA_POD_NAMESPACE_MAX)];
	char name[SA_ESC_SIZE(SA_POD_NAME_MAX)];
};

/*
 * The pod and container of cgroup v2 path @path (the "0::" line of
 * /proc/PID/cgroup, without "0::"):
 *   systemd driver: .../kubepods[-QOS].slice/kubepods[-QOS]-pod<UID, _ for ->.slice/
 *                   {cri-containerd,crio,docker,libpod}-<id>.scope
 *   cgroupfs driver: .../kubepods[/besteffort|/burstable]/pod<UID>/<id>
 *   outside a pod: {docker,libpod,...}-<id>.scope, /docker/<id>
 * The outermost pod level counts (a container may make cgroups under its
 * own), and the container is the level right under it.  0: a pod (its
 * uid; the container id when the level under it is one), 1: a container
 * outside a pod, -ENOENT: neither (@out is then empty).
 */
int sa_pod_parse_cgroup(const char *path, struct sa_pod_id *out);

/*
 * Is @entry, a name in the pods' log directory, "<namespace>_<name>_<uid>"
 * for pod @uid?  Then 0, with the namespace and the name copied (raw
 * bytes: escape them before showing them); -ENOENT otherwise (another
 * pod, or parts empty or longer than Kubernetes allows).
 */
int sa_pod_log_entry(const char *entry, const char *uid, char *ns, size_t ns_len,
		     char *name, size_t name_len);

#endif /* SYNACCT_POD_H */
