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

/* A netfilter link for @prog_fd at @hook of family @pf, in the caller's
 * namespace, at the first free priority from SA_NF_PRI_LATE down; the
 * hook goes when the fd is closed.  The fd, or -errno. */
static inline int sa_nf_link(int prog_fd, __u32 pf, __u32 hook)
{
	union bpf_attr attr;
	struct sa_nf_link_attr *nf = (void *)&attr;
	int fd = -1;

	_Static_assert(sizeof(*nf) <= sizeof(attr), "link_create fits bpf_attr");
	for (int i = 0; i < SA_NF_PRI_TRIES; i++) {
		memset(&attr, 0, sizeof(attr));
		nf->prog_fd = prog_fd;
		nf->attach_type = SA_ATTACH_NETFILTER;
		nf->pf = pf;
		nf->hooknum = hook;
		nf->priority = SA_NF_PRI_LATE - i;
		fd = syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
		if (fd >= 0 || errno != EBUSY)
			break;
	}
	return fd < 0 ? -errno : fd;
}

#endif /* SYNACCT_NF_LINK_H */
