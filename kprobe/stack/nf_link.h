/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nf_link.h - a netfilter BPF link (Linux 6.4), newer than the libbpf and
 * UAPI headers synacct is built with: the values and the link_create
 * layout come from the kernel's include/uapi/linux/bpf.h.  Used by
 * kprobe/stack/stack.c and by make bench's empty hooks (bench_helper).
 */
#ifndef SYNACCT_NF_LINK_H
#define SYNACCT_NF_LINK_H

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/bpf.h>

#define SA_PROG_TYPE_NETFILTER	32
#define SA_ATTACH_NETFILTER	45
#define SA_NFPROTO_IPV4		2
#define SA_NFPROTO_IPV6		10
#define SA_NF_INET_LOCAL_IN	1
#define SA_NF_INET_FORWARD	2
/* Late at LOCAL_IN, after the filter and NAT chains, before conntrack
 * confirms (NF_IP_PRI_LAST; IPv6 confirms at LAST - 1).  A BPF hook may
 * not share its priority with another hook (EBUSY): try a few below. */
#define SA_NF_PRI_LATE		(0x7fffffff - 2)
#define SA_NF_PRI_TRIES		16

struct sa_nf_link_attr {
	__u32 prog_fd;
	__u32 target_fd;
	__u32 attach_type;
	__u32 flags;
	__u32 pf;
	__u32 hooknum;
	__s32 priority;
	__u32 nf_flags;
};

/* A netfilter link for @prog_fd at @hook of family @pf and @priority, in
 * the caller's namespace: the fd, or -errno (-EBUSY: a hook is at that
 * priority already). */
static inline int sa_nf_link_at(int prog_fd, __u32 pf, __u32 hook, __s32 priority)
{
	union bpf_attr attr;
	struct sa_nf_link_attr *nf = (void *)&attr;
	int fd;

	_Static_assert(sizeof(*nf) <= sizeof(attr), "link_create fits bpf_attr");
	memset(&attr, 0, sizeof(attr));
	nf->prog_fd = prog_fd;
	nf->attach_type = SA_ATTACH_NETFILTER;
	nf->pf = pf;
	nf->hooknum = hook;
	nf->priority = priority;
	fd = syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	return fd < 0 ? -errno : fd;
}

/* A netfilter link for @prog_fd at @hook of family @pf, in the caller's
 * namespace, at the first free priority from SA_NF_PRI_LATE down; the
 * hook goes when the fd is closed.  The fd, or -errno. */
static inline int sa_nf_link(int prog_fd, __u32 pf, __u32 hook)
{
	int fd = -EBUSY;

	for (int i = 0; i < SA_NF_PRI_TRIES && fd == -EBUSY; i++)
		fd = sa_nf_link_at(prog_fd, pf, hook, SA_NF_PRI_LATE - i);
	return fd;
}

/* struct bpf_link_info as far as a netfilter link's part (Linux 6.4). */
struct sa_nf_link_info {
	__u32 type;
	__u32 id;
	__u32 prog_id;
	__u32 pad;
	__u32 pf;
	__u32 hooknum;
	__s32 priority;
	__u32 flags;
};

/* What the kernel says of the netfilter link @fd: 0 or -errno. */
static inline int sa_nf_link_info(int fd, struct sa_nf_link_info *info)
{
	union bpf_attr attr;

	memset(info, 0, sizeof(*info));
	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = fd;
	attr.info.info_len = sizeof(*info);
	attr.info.info = (__u64)(unsigned long)info;
	return syscall(__NR_bpf, BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof(attr)) ? -errno : 0;
}

#endif /* SYNACCT_NF_LINK_H */
