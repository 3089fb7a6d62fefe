// SPDX-License-Identifier: GPL-2.0
/*
 * follow_find.c - the namespaces the container stage follows (follow.c),
 * found: the ids of those at the other end of this namespace's links, the
 * namespace each id stands for (a named one, or a process's, named by its
 * cgroup), and whether one is still there without synacct holding it.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/netlink.h>
#include <linux/net_namespace.h>
#include <linux/rtnetlink.h>
#include "escape.h"
#include "follow.h"
#include "netlink.h"
#include "pods.h"

static int link_peer(struct nlmsghdr *h, void *ctx)
{
	struct peers *p = ctx;
	struct ifinfomsg *ifi = NLMSG_DATA(h);
	int len = IFLA_PAYLOAD(h);
	struct rtattr *a;

	if (h->nlmsg_type != RTM_NEWLINK)
		return 0;
	/* SYNs arrive from behind a watched interface: that is where the
	 * clients are, not the servers. */
	for (int i = 0; i < p->n_skip; i++)
		if (p->skip[i] == ifi->ifi_index)
			return 0;
	for (a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		int id;

		if (a->rta_type != IFLA_LINK_NETNSID ||
		    RTA_PAYLOAD(a) < sizeof(int))
			continue;
		memcpy(&id, RTA_DATA(a), sizeof(id));
		for (int i = 0; i < p->n; i++)
			if (p->nsid[i] == id)
				return 0;
		if (id >= 0 && p->n < (int)(sizeof(p->nsid) / sizeof(p->nsid[0])))
			p->nsid[p->n++] = id;
	}
	return 0;
}

/* The ids of the namespaces at the other end of this namespace's links. */
int follow_peer_namespaces(int nl, struct peers *p)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg ifi;
	} req = {
		.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
		.h.nlmsg_type = RTM_GETLINK,
		.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
	};

	p->n = 0;
	return sa_nl_talk(nl, &req.h, link_peer, p);
}

static int nsid_reply(struct nlmsghdr *h, void *ctx)
{
	int len = h->nlmsg_len - NLMSG_LENGTH(sizeof(struct rtgenmsg));
	struct rtattr *a = (struct rtattr *)((char *)NLMSG_DATA(h) +
					     NLMSG_ALIGN(sizeof(struct rtgenmsg)));

	for (; RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == NETNSA_NSID && RTA_PAYLOAD(a) >= sizeof(int))
			memcpy(ctx, RTA_DATA(a), sizeof(int));
	return 0;
}

/* The id this namespace gives the namespace of @fd; -1: none. */
static int nsid_of(int nl, int fd)
{
	struct {
		struct nlmsghdr h;
		struct rtgenmsg g;
		char pad[3];
		struct rtattr a;
		__u32 fd;
	} req = {
		.h.nlmsg_len = sizeof(req),
		.h.nlmsg_type = RTM_GETNSID,
		.h.nlmsg_flags = NLM_F_REQUEST,
		.g.rtgen_family = AF_UNSPEC,
		.a.rta_len = RTA_LENGTH(sizeof(__u32)),
		.a.rta_type = NETNSA_FD,
		.fd = fd,
	};
	int id = -1;

	if (sa_nl_talk(nl, &req.h, nsid_reply, &id))
		return -1;
	return id;
}

/* A container engine's name for a process: its cgroup, when not the
 * root one. */
static void proc_name(const char *pid, char *out, size_t len)
{
	char path[300], line[512], *p;
	FILE *f;

	snprintf(out, len, "pid:%.16s", pid);
	snprintf(path, sizeof(path), "/proc/%s/cgroup", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	/* cgroup v2: "0::/system.slice/docker-<id>.scope" */
	while (fgets(line, sizeof(line), f)) {
		p = strstr(line, "::");
		if (!p)
			continue;
		p += 2;
		p[strcspn(p, "\n")] = '\0';
		if (strcmp(p, "/") && strcmp(p, "/init.scope") &&
		    strncmp(p, "/user.slice", 11))
			snprintf(out, len, "pid:%.16s %.256s", pid, p);
		break;
	}
	fclose(f);
}

/* Open the namespace whose id here is @nsid, and name it (and say where
 * it was found, @where); -ENOENT when no named namespace and no process
 * has it, -EACCES when it was not found and some process's namespace
 * could not be opened (another user's, without CAP_SYS_PTRACE). */
int follow_find_namespace(int nl, int nsid, char *name, size_t len, char *where,
			  size_t where_len)
{
	const char *dirs[] = { "/run/netns", "/proc" };
	struct dirent *de;
	char path[600];
	int fd = -ENOENT;
	bool denied = false;

	for (int d = 0; d < 2 && fd < 0; d++) {
		DIR *dir = opendir(dirs[d]);

		if (!dir)
			continue;
		while (fd < 0 && (de = readdir(dir))) {
			int cand;

			if (de->d_name[0] == '.' ||
			    (d == 1 && (de->d_name[0] < '1' || de->d_name[0] > '9')))
				continue;
			snprintf(path, sizeof(path), d ? "/proc/%s/ns/net" : "%s/%s",
				 d ? de->d_name : dirs[0], d ? "" : de->d_name);
			cand = open(path, O_RDONLY | O_CLOEXEC);
			if (cand < 0) {
				denied |= errno == EACCES || errno == EPERM;
				continue;
			}
			if (nsid_of(nl, cand) != nsid) {
				close(cand);
				continue;
			}
			fd = cand;
			snprintf(where, where_len, "%.290s", path);
			if (d)
				proc_name(de->d_name, name, len);
			else
				snprintf(name, len, "%.256s", de->d_name);
		}
		closedir(dir);
	}
	return fd < 0 && denied ? -EACCES : fd;
}

static bool same_ns(const char *path, const struct followed *e)
{
	struct stat st;

	return !stat(path, &st) && st.st_dev == e->dev && st.st_ino == e->ino;
}

/* Is the namespace still there without us: its name, or a process in it?
 * Holding it open after its container is gone would keep it, and its
 * veth and addresses, alive. */
bool follow_still_held(struct followed *e)
{
	char path[300];
	struct dirent *de;
	bool held = false;
	DIR *dir;

	if (same_ns(e->path, e))
		return true;
	dir = opendir("/proc");
	while (dir && !held && (de = readdir(dir))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%.16s/ns/net", de->d_name);
		/* (synacct's own threads are in other namespaces then) */
		held = same_ns(path, e);
		if (held)
			snprintf(e->path, sizeof(e->path), "%s", path);
	}
	if (dir)
		closedir(dir);
	return held;
}

/* Which pod and container @e is: the first process in it whose cgroup is
 * a pod's (every process of a pod is in its namespace; the first is
 * usually the sandbox's, which holds the namespace), else the first
 * that is a container's.  Its namespace and name: the kubelet's log
 * directory for its uid, where one is there. */
void follow_find_pod(struct followed *e, const char *log_dir)
{
	struct sa_pod_id id, pod = { 0 }, ctr = { 0 };
	char ns[SA_POD_NAMESPACE_MAX + 1], name[SA_POD_NAME_MAX + 1], path[64];
	struct dirent *de;
	bool found = false;
	DIR *dir = opendir("/proc");

	while (dir && !pod.uid[0] && (de = readdir(dir))) {
		int r;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%.16s/ns/net", de->d_name);
		if (!same_ns(path, e))
			continue;
		found = true;
		snprintf(path, sizeof(path), "/proc/%.16s/cgroup", de->d_name);
		r = sa_pod_read_cgroup(path, &id);
		if (r == 0)
			pod = id;
		else if (r == 1 && !ctr.container_id[0])
			ctr = id;
	}
	if (dir)
		closedir(dir);
	/* No process yet (a named namespace): looked for again. */
	if (!found)
		return;
	e->pod_looked = true;
	if (!pod.uid[0])
		pod = ctr;
	memset(&e->pod, 0, sizeof(e->pod));
	/* Hex digits and dashes only (pod.c): safe as they are. */
	memcpy(e->pod.uid, pod.uid, sizeof(pod.uid));
	memcpy(e->pod.container_id, pod.container_id, sizeof(pod.container_id));
	if (pod.uid[0] && log_dir &&
	    !sa_pod_names(log_dir, pod.uid, ns, sizeof(ns), name, sizeof(name))) {
		/* Names a directory gives: data, escaped as a namespace's. */
		sa_tty_str(ns, e->pod.ns, sizeof(e->pod.ns));
		sa_tty_str(name, e->pod.name, sizeof(e->pod.name));
	}
}
