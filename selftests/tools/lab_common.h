/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lab_common.h - what the lab tools share: their command-line helpers, and
 * what keeps test traffic in the lab, for every tool that sends
 * (lab_client, lab_synflood): targets only in 198.18.0.0/15 and
 * 2001:db8::/32, and never from a namespace with a default route.
 * Include after defining PROG, the tool's name for messages.
 */
#ifndef LAB_COMMON_H
#define LAB_COMMON_H

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

/* A usage error: one line, exit 2. */
static void __attribute__((noreturn, format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see --help)\n");
	exit(2);
}

static inline bool parse_uint(const char *s, unsigned long min, unsigned long max,
		       unsigned long *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* getopt_long's ':' (missing value) and '?' (unknown option) in a tool's
 * option loop, when the optstring starts with ':'. */
static inline void __attribute__((noreturn)) lab_bad_option(int c, char **argv)
{
	if (c == ':')
		usage_error("option '%s' needs a value", argv[optind - 1]);
	usage_error("unknown option '%s'", argv[optind - 1]);
}

/* The tools take options only. */
static inline void lab_no_arguments(int argc, char **argv)
{
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
}

/* 198.18.0.0/15 (RFC 2544) and 2001:db8::/32 (RFC 3849). */
static inline bool lab_addr4(const struct in_addr *a)
{
	return (ntohl(a->s_addr) & 0xfffe0000) == 0xc6120000;
}

static inline bool lab_addr6(const struct in6_addr *a)
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
static inline int lab_has_default_route(void)
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


#endif /* LAB_COMMON_H */
