/* SPDX-License-Identifier: GPL-2.0 */
/*
 * netns.h - entering the watched network namespace, and the privileges
 * that takes.
 */
#ifndef SYNACCT_NETNS_H
#define SYNACCT_NETNS_H

#include <stdbool.h>
#include <stddef.h>

/* An `ip netns` name or a path such as /proc/PID/ns/net; -ENOENT when
 * there is no such namespace, with the reason in @err. */
int sa_netns_enter(const char *name_or_path, char *err, size_t errlen);
/* Has the namespace sa_netns_enter entered lost its name since (`ip netns
 * del`, its process gone)?  NULL if not, or none was entered; else what
 * became of its file (sa_netns_path()): "is gone", "now names another
 * namespace".  synacct, in it, would be what keeps it alive. */
const char *sa_netns_deleted(void);
const char *sa_netns_path(void);
/* The cookie of the caller's network namespace (SO_NETNS_COOKIE, Linux
 * 5.14), as BPF sees it in net->net_cookie. */
int sa_netns_cookie(unsigned long long *cookie);
/* XDP/TC need @net_admin; --netns and libxdp need @sys_admin
 * (agent/sys/caps.c). */
bool sa_have_privileges(bool net_admin, bool sys_admin);
/* Is capability @cap (CAP_SYS_ADMIN, ...) effective (agent/sys/caps.c)? */
bool sa_have_cap(int cap);

/* Calls @fn in every network namespace but the caller's that this
 * process can enter (named ones under /run/netns, those of processes),
 * each once, until @fn returns non-zero, then returns to the caller's:
 * @fn's non-zero, 0, or -errno if it could not come back. */
int sa_netns_each(int (*fn)(void *ctx), void *ctx);

#endif /* SYNACCT_NETNS_H */
