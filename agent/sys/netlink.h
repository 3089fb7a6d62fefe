/* SPDX-License-Identifier: GPL-2.0 */
/*
 * netlink.h - one rtnetlink request and its replies, for the few the
 * agent makes itself (TC filter dumps, links, namespace ids) where libbpf
 * and libxdp have none.
 */
#ifndef SYNACCT_NETLINK_H
#define SYNACCT_NETLINK_H

#include <linux/netlink.h>

/* Send @req on @nl (a NETLINK_ROUTE socket) and hand every reply of its
 * sequence to @fn: all of a dump's (NLM_F_DUMP), else the first.  Returns
 * the first non-zero return of @fn, the kernel's error, or -errno. */
int sa_nl_talk(int nl, struct nlmsghdr *req,
	       int (*fn)(struct nlmsghdr *h, void *ctx), void *ctx);

#endif /* SYNACCT_NETLINK_H */
