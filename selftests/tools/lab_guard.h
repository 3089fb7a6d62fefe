/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lab_guard.h - what keeps the lab's test traffic in the lab, shared by
 * every tool that sends (lab_client, lab_synflood): targets only in
 * 198.18.0.0/15 and 2001:db8::/32, and never from a namespace with a
 * default route.  Include after defining PROG, the tool's name for messages.
 */
#ifndef LAB_GUARD_H
#define LAB_GUARD_H

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

/* 198.18.0.0/15 (RFC 2544) and 2001:db8::/32 (RFC 3849). */
static bool lab_addr4(const struct in_addr *a)
{
	return (ntohl(a->s_addr) & 0xfffe0000) == 0xc6120000;
}

static bool lab_addr6(const struct in6_addr *a)
{
	static const uint8_t doc[4] = { 0x20, 0x01, 0x0d, 0xb8 };

	return !memcmp(a->s6_addr, doc, sizeof(doc));
}

#define LAB_RTF_REJECT 0x0200	/* unreachable/prohibit/blackhole: goes nowhere */

/*
 * Does this network namespace have a default route?  1 yes, 0 no, -1 when
 * the routing tables cannot be read (callers refuse then too).
 * /proc/net/route lists the main IPv4 table, /proc/net/ipv6_route every
 * IPv6 table; a namespace built by the tests has neither a default route
 * nor policy routing.
 */
static int lab_has_default_route(void)
{
	char line[512];
	FILE *f;
	int found = 0;

	f = fopen("/proc/net/route", "re");
	if (!f) {
		fprintf(stderr, "%s: cannot read /proc/net/route: %s\n", PROG, strerror(errno));
		return -1;
	}
	/* Iface Destination Gateway Flags RefCnt Use Metric Mask ... (hex) */
	while (!found && fgets(line, sizeof(line), f)) {
		char ifname[64];
		unsigned int dst, gw, flags;

		if (sscanf(line, "%63s %x %x %x", ifname, &dst, &gw, &flags) == 4 &&
		    dst == 0 && !(flags & LAB_RTF_REJECT))
			found = 1;
	}
	fclose(f);
	if (found)
		return 1;

	f = fopen("/proc/net/ipv6_route", "re");
	if (!f) {
		if (errno == ENOENT)	/* IPv6 disabled */
			return 0;
		fprintf(stderr, "%s: cannot read /proc/net/ipv6_route: %s\n", PROG, strerror(errno));
		return -1;
	}
	/* dst dst_len src src_len nexthop metric refcnt use flags dev (hex) */
	while (!found && fgets(line, sizeof(line), f)) {
		char dst[33], src[33], nh[33];
		unsigned int dst_len, src_len, metric, refcnt, use, flags;

		if (sscanf(line, "%32s %x %32s %x %32s %x %x %x %x", dst, &dst_len,
			   src, &src_len, nh, &metric, &refcnt, &use, &flags) == 9 &&
		    dst_len == 0 && !(flags & LAB_RTF_REJECT))
			found = 1;
	}
	fclose(f);
	return found;
}


#endif /* LAB_GUARD_H */
