/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mib.h - the watched namespace's own MIB counters (nstat names, from
 * /proc/net/{netstat,snmp}), the independent cross-check for the
 * per-port sums, and its sysctls.
 */
#ifndef SYNACCT_MIB_H
#define SYNACCT_MIB_H

#include <stdio.h>
#include <linux/types.h>

/* X(name = JSON key under "mib", group, field as in /proc/net/netstat) */
#define SA_MIB_COUNTERS(X)				\
	X(TcpExtListenOverflows, "TcpExt", "ListenOverflows")	\
	X(TcpExtListenDrops, "TcpExt", "ListenDrops")		\
	X(TcpExtSyncookiesSent, "TcpExt", "SyncookiesSent")	\
	X(TcpExtSyncookiesRecv, "TcpExt", "SyncookiesRecv")	\
	X(TcpExtSyncookiesFailed, "TcpExt", "SyncookiesFailed")	\
	X(TcpExtTCPReqQFullDrop, "TcpExt", "TCPReqQFullDrop")	\
	X(TcpExtTCPReqQFullDoCookies, "TcpExt", "TCPReqQFullDoCookies") \
	X(TcpExtTCPSynRetrans, "TcpExt", "TCPSynRetrans")	\
	X(TcpPassiveOpens, "Tcp", "PassiveOpens")

enum sa_mib_counter {
#define SA_MIB_ENUM(name, group, field) SA_MIB_##name,
	SA_MIB_COUNTERS(SA_MIB_ENUM)
#undef SA_MIB_ENUM
	SA_MIB_MAX
};

extern const char *const sa_mib_names[SA_MIB_MAX];
/* The current namespace's values (after setns, the watched one's). */
int sa_mib_read(__u64 *mib);
/* The parser behind it, for any FILE in that format (unit tests). */
int sa_mib_parse(FILE *f, __u64 *mib);
/* A sysctl of the current namespace by dotted name; -errno on failure. */
int sa_sysctl_read(const char *name, long *value);
/* The same under another root than /proc/sys (unit tests). */
int sa_sysctl_read_at(const char *root, const char *name, long *value);
/* net.ipv4.tcp_syncookies of the current namespace, or -1. */
int sa_sysctl_syncookies(void);

#endif /* SYNACCT_MIB_H */
