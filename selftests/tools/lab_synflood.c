// SPDX-License-Identifier: GPL-2.0
/*
 * lab_synflood.c - crafted SYNs for the lab: the traffic a real client
 * cannot make.
 *
 * Each SYN comes from its own spoofed source address (taken in order from
 * --src-net), so every one reaches the listener as a new connection
 * request: the SYN queue fills, syncookies start, TCPReqQFullDrop counts.
 * The replies go to the spoofed addresses, which the server namespace
 * routes back into the client namespace, where they die.  --bad-csum makes
 * every SYN fail the TCP checksum, so it is dropped before the socket
 * lookup (TcpInCsumErrors, drop reason TCP_CSUM).
 *
 * Raw sockets with the IP header built here (IPv4: IPPROTO_RAW/IP_HDRINCL;
 * IPv6: IPPROTO_RAW/IPV6_HDRINCL, Linux 4.5+): the kernel routes by the
 * sendto() address and leaves the spoofed source and the TCP checksum as
 * they are.  TCP options are laid out as Linux lays out its own SYNs:
 *   default:          MSS, SACK_PERM, TIMESTAMP, NOP, WSCALE     (20 bytes)
 *   --no-timestamps:  MSS, NOP, NOP, SACK_PERM, NOP, WSCALE      (12 bytes)
 *
 * --packet IFACE sends the same packets as Ethernet frames on an AF_PACKET
 * socket with PACKET_QDISC_BYPASS, in batches of sendmmsg: no routing, no
 * qdisc, one system call per batch, so the receiving kernel, not this
 * generator, sets the pace (make bench needs >= 200 000 SYN/s).  The frames
 * go to --dst-mac (the lab has permanent neighbours, nothing to resolve).
 *
 * Test traffic stays in the lab: it refuses targets and source networks
 * outside 198.18.0.0/15 and 2001:db8::/32, and refuses to run in a network
 * namespace with a default route (see "Test traffic" in the kernel notes).
 *
 * Exit status: 0 all sent, 1 runtime failure or refusal, 2 usage error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <linux/if_packet.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROG "lab_synflood"

#include "lab_common.h"	/* uses PROG in its messages */

#ifndef IPV6_HDRINCL
#define IPV6_HDRINCL 36		/* linux/in6.h; not in older libc headers */
#endif

#define SYN_WINDOW	64240	/* what Linux offers with MSS 1460 */
#define SYN_WSCALE	7
#define SYN_TTL		64

#define SYN_OPT_MAX	20	/* MSS, SACK_PERM, TIMESTAMP, NOP, WSCALE */

/* A SYN as it goes on the wire: headers back to back, options last. */
struct syn4 {
	struct iphdr ip;
	struct tcphdr th;
	uint8_t opt[SYN_OPT_MAX];
};

struct syn6 {
	struct ip6_hdr ip6;
	struct tcphdr th;
	uint8_t opt[SYN_OPT_MAX];
};

_Static_assert(offsetof(struct syn4, opt) == 40 && offsetof(struct syn6, opt) == 60,
	       "SYN headers must be back to back");

struct flood_opts {
	const char *to;
	int family;
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} dst, src_first;	/* src_first: first usable source in --src-net */
	uint64_t src_count;	/* usable sources in --src-net */
	unsigned int port;
	unsigned long count;
	unsigned long rate;	/* packets per second, 0: unlimited */
	unsigned int mss;
	bool bad_csum;
	bool no_timestamps;
	bool ack;
	bool hbh;
	unsigned long port_span;	/* --port-span: ports P .. P+N-1 in turn */
	const char *packet_if;	/* --packet: AF_PACKET on this interface */
	uint8_t dst_mac[ETH_ALEN];
	bool have_dst_mac;
	bool reuse_sources;	/* --reuse-sources: wrap around --src-net */
};

#define BATCH 64		/* frames per sendmmsg in --packet mode */

static void usage(void)
{
	printf("usage: " PROG " --to ADDR --port P --count N --src-net CIDR [--rate PPS]\n"
	       "                    [--bad-csum] [--mss M] [--no-timestamps]\n"
	       "\n"
	       "  --to ADDR        target, an IPv4 or IPv6 literal in 198.18.0.0/15 or 2001:db8::/32\n"
	       "  --port P         target port (1-65535)\n"
	       "  --count N        SYNs to send, each from the next address of --src-net\n"
	       "  --src-net CIDR   spoofed sources, same family as --to, inside those ranges\n"
	       "                   (e.g. 198.19.0.0/16, 2001:db8:ff::/64)\n"
	       "  --rate PPS       at most PPS packets per second (default: unlimited)\n"
	       "  --bad-csum       send every SYN with a wrong TCP checksum\n"
	       "  --hbh            IPv6: put a hop-by-hop options header before TCP\n"
	       "  --port-span N    spread the packets over ports P .. P+N-1 in turn (a scan)\n"
	       "  --ack            send bare ACKs with random numbers instead of SYNs:\n"
	       "                   forged SYN-cookie ACKs, after a flood made cookies\n"
	       "  --mss M          MSS option value (default 1460)\n"
	       "  --no-timestamps  leave out the TIMESTAMP option\n"
	       "  --packet IFACE   send Ethernet frames on IFACE (AF_PACKET, qdisc bypass,\n"
	       "                   sendmmsg batches): as fast as the receiver takes them\n"
	       "  --dst-mac MAC    destination MAC for --packet (the target's interface)\n"
	       "  --reuse-sources  wrap around --src-net when --count exceeds its size\n"
	       "\n"
	       "Prints \"sent=N\".  Needs CAP_NET_RAW.  Refuses to run in a network\n"
	       "namespace with a default route.\n"
	       "Exit status: 0 all sent, 1 runtime failure or refusal, 2 usage error.\n");
}

/* addr += n, as one 128-bit big-endian number. */
static void in6_add(struct in6_addr *a, uint64_t n)
{
	int i;

	for (i = 15; i >= 0 && n; i--) {
		uint64_t v = a->s6_addr[i] + (n & 0xff);

		a->s6_addr[i] = v & 0xff;
		n = (n >> 8) + (v >> 8);
	}
}

/*
 * --src-net: network, host bits cleared, must lie inside the lab ranges.
 * Sources skip the all-zeros host (the subnet itself; IPv6's subnet-router
 * anycast) and, for IPv4, the all-ones broadcast, except in /31, /32, /128.
 */
static void parse_src_net(const char *arg, struct flood_opts *o)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash;
	unsigned long plen;
	int i;

	if (snprintf(buf, sizeof(buf), "%s", arg) >= (int)sizeof(buf) ||
	    !(slash = strchr(buf, '/')))
		usage_error("--src-net: '%s' is not ADDR/PREFIXLEN", arg);
	*slash = '\0';

	if (inet_pton(AF_INET, buf, &o->src_first.v4) == 1) {
		uint32_t net, hostbits;

		if (o->family != AF_INET)
			usage_error("--src-net %s is IPv4 but --to %s is not", arg, o->to);
		if (!parse_uint(slash + 1, 0, 32, &plen))
			usage_error("--src-net: bad prefix length in '%s'", arg);
		hostbits = 32 - plen;
		net = ntohl(o->src_first.v4.s_addr);
		net = hostbits == 32 ? 0 : net & ~((1u << hostbits) - 1);
		if (plen < 15 || !lab_addr4(&(struct in_addr){ htonl(net) })) {
			fprintf(stderr, PROG ": refusing to send: --src-net %s is outside "
				"198.18.0.0/15\n", arg);
			exit(1);
		}
		o->src_count = plen >= 31 ? 1ull << hostbits : (1ull << hostbits) - 2;
		o->src_first.v4.s_addr = htonl(plen >= 31 ? net : net + 1);
	} else if (inet_pton(AF_INET6, buf, &o->src_first.v6) == 1) {
		struct in6_addr *a = &o->src_first.v6;

		if (o->family != AF_INET6)
			usage_error("--src-net %s is IPv6 but --to %s is not", arg, o->to);
		if (!parse_uint(slash + 1, 0, 128, &plen))
			usage_error("--src-net: bad prefix length in '%s'", arg);
		for (i = 0; i < 16; i++) {
			int keep = (int)plen - 8 * i;

			if (keep <= 0)
				a->s6_addr[i] = 0;
			else if (keep < 8)
				a->s6_addr[i] &= 0xff << (8 - keep);
		}
		if (plen < 32 || !lab_addr6(a)) {
			fprintf(stderr, PROG ": refusing to send: --src-net %s is outside "
				"2001:db8::/32\n", arg);
			exit(1);
		}
		if (plen == 128) {
			o->src_count = 1;
		} else {
			o->src_count = 128 - plen >= 64 ? UINT64_MAX : (1ull << (128 - plen)) - 1;
			in6_add(a, 1);
		}
	} else {
		usage_error("--src-net: '%s' is not an IPv4 or IPv6 network", arg);
	}
}

static void parse_args(int argc, char **argv, struct flood_opts *o)
{
	enum { OPT_TO = 0x100, OPT_PORT, OPT_COUNT, OPT_SRC_NET, OPT_RATE,
	       OPT_BAD_CSUM, OPT_MSS, OPT_NO_TS, OPT_ACK, OPT_HBH, OPT_PORT_SPAN,
	       OPT_PACKET, OPT_DST_MAC, OPT_REUSE };
	static const struct option longopts[] = {
		{ "to",			required_argument, NULL, OPT_TO },
		{ "port",		required_argument, NULL, OPT_PORT },
		{ "count",		required_argument, NULL, OPT_COUNT },
		{ "src-net",		required_argument, NULL, OPT_SRC_NET },
		{ "rate",		required_argument, NULL, OPT_RATE },
		{ "bad-csum",		no_argument,	   NULL, OPT_BAD_CSUM },
		{ "mss",		required_argument, NULL, OPT_MSS },
		{ "no-timestamps",	no_argument,	   NULL, OPT_NO_TS },
		{ "ack",		no_argument,	   NULL, OPT_ACK },
		{ "hbh",		no_argument,	   NULL, OPT_HBH },
		{ "port-span",		required_argument, NULL, OPT_PORT_SPAN },
		{ "packet",		required_argument, NULL, OPT_PACKET },
		{ "dst-mac",		required_argument, NULL, OPT_DST_MAC },
		{ "reuse-sources",	no_argument,	   NULL, OPT_REUSE },
		{ "help",		no_argument,	   NULL, 'h' },
		{ 0 }
	};
	const char *src_net = NULL;
	unsigned long v;
	int c;

	*o = (struct flood_opts){ .mss = 1460 };
	opterr = 0;	/* our own one-line messages */
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_TO:
			o->to = optarg;
			break;
		case OPT_PORT:
			if (!parse_uint(optarg, 1, 65535, &v))
				usage_error("--port: '%s' is not a port (1-65535)", optarg);
			o->port = v;
			break;
		case OPT_COUNT:
			if (!parse_uint(optarg, 1, 100000000, &o->count))
				usage_error("--count: '%s' is not a number from 1 to 100000000", optarg);
			break;
		case OPT_SRC_NET:
			src_net = optarg;
			break;
		case OPT_RATE:
			if (!parse_uint(optarg, 1, 100000000, &o->rate))
				usage_error("--rate: '%s' is not a number of packets per second", optarg);
			break;
		case OPT_BAD_CSUM:
			o->bad_csum = true;
			break;
		case OPT_MSS:
			if (!parse_uint(optarg, 1, 65535, &v))
				usage_error("--mss: '%s' is not a number from 1 to 65535", optarg);
			o->mss = v;
			break;
		case OPT_NO_TS:
			o->no_timestamps = true;
			break;
		case OPT_ACK:
			o->ack = true;
			break;
		case OPT_HBH:
			o->hbh = true;
			break;
		case OPT_PORT_SPAN:
			if (!parse_uint(optarg, 1, 65535, &o->port_span))
				usage_error("--port-span: '%s' is not a number from 1 to 65535", optarg);
			break;
		case OPT_PACKET:
			if (!*optarg || strlen(optarg) >= IF_NAMESIZE)
				usage_error("--packet: '%s' is not an interface name", optarg);
			o->packet_if = optarg;
			break;
		case OPT_DST_MAC: {
			unsigned int m[ETH_ALEN];
			char end;

			if (sscanf(optarg, "%2x:%2x:%2x:%2x:%2x:%2x%c", &m[0], &m[1], &m[2],
				   &m[3], &m[4], &m[5], &end) != ETH_ALEN)
				usage_error("--dst-mac: '%s' is not a MAC address (aa:bb:cc:dd:ee:ff)",
					    optarg);
			for (int k = 0; k < ETH_ALEN; k++)
				o->dst_mac[k] = m[k];
			o->have_dst_mac = true;
			break;
		}
		case OPT_REUSE:
			o->reuse_sources = true;
			break;
		case 'h':
			usage();
			exit(0);
		default:
			lab_bad_option(c, argv);
		}
	}
	lab_no_arguments(argc, argv);
	if (!o->to || !o->port || !o->count || !src_net)
		usage_error("--to, --port, --count and --src-net are required");

	if (inet_pton(AF_INET, o->to, &o->dst.v4) == 1)
		o->family = AF_INET;
	else if (inet_pton(AF_INET6, o->to, &o->dst.v6) == 1)
		o->family = AF_INET6;
	else
		usage_error("--to: '%s' is not an IPv4 or IPv6 address", o->to);
	if (o->hbh && o->family != AF_INET6)
		usage_error("--hbh needs an IPv6 --to");
	if (!o->port_span)
		o->port_span = 1;
	if (o->port + o->port_span - 1 > 65535)
		usage_error("--port %u with --port-span %lu goes past port 65535",
			    (unsigned)o->port, o->port_span);
	if (o->family == AF_INET ? !lab_addr4(&o->dst.v4) : !lab_addr6(&o->dst.v6)) {
		fprintf(stderr, PROG ": refusing to send: %s is outside 198.18.0.0/15 "
			"and 2001:db8::/32\n", o->to);
		exit(1);
	}
	if (!!o->packet_if != o->have_dst_mac)
		usage_error("--packet and --dst-mac go together");
	parse_src_net(src_net, o);
	if (o->count > o->src_count && !o->reuse_sources)
		usage_error("--count %lu is more than the %llu source addresses in %s",
			    o->count, (unsigned long long)o->src_count, src_net);
}

/* xorshift64*: "random-ish" ports, sequence numbers and IDs are enough. */
static uint64_t rng_state;

static uint32_t rnd32(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (rng_state * 0x2545f4914f6cdd1dull) >> 32;
}

static void rnd_seed(void)
{
	struct timespec ts;

	if (getrandom(&rng_state, sizeof(rng_state), GRND_NONBLOCK) != sizeof(rng_state)) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		rng_state = ((uint64_t)ts.tv_sec << 32) ^ ts.tv_nsec ^ getpid();
	}
	if (!rng_state)
		rng_state = 0x9e3779b97f4a7c15ull;
}

/* Internet checksum (RFC 1071): running 16-bit big-endian sum, then fold. */
static uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons(~sum & 0xffff);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* TCP header and options of a SYN; returns the options' length. */
static size_t build_tcp_syn(struct tcphdr *th, uint8_t *opts,
			    const struct flood_opts *o, uint16_t dport, uint32_t tsval)
{
	uint8_t *opt = opts;

	if (o->ack) {
		/* A bare ACK for a connection that never was: to a listener
		 * that sent cookies lately, a cookie that does not check out. */
		memset(th, 0, sizeof(*th));
		th->source = htons(1024 + rnd32() % (65536 - 1024));
		th->dest = htons(dport);
		th->seq = htonl(rnd32());
		th->ack_seq = htonl(rnd32());
		th->doff = sizeof(*th) / 4;
		th->ack = 1;
		th->window = htons(SYN_WINDOW);
		return 0;
	}

	/* Option words stay 4-byte aligned, as in Linux's own SYNs
	 * (tcp_options_write): single NOPs pad before SACK_PERM and WSCALE. */
	*opt++ = TCPOPT_MAXSEG;
	*opt++ = TCPOLEN_MAXSEG;
	*opt++ = o->mss >> 8;
	*opt++ = o->mss & 0xff;
	if (o->no_timestamps) {
		*opt++ = TCPOPT_NOP;
		*opt++ = TCPOPT_NOP;
		*opt++ = TCPOPT_SACK_PERMITTED;
		*opt++ = TCPOLEN_SACK_PERMITTED;
	} else {
		*opt++ = TCPOPT_SACK_PERMITTED;
		*opt++ = TCPOLEN_SACK_PERMITTED;
		*opt++ = TCPOPT_TIMESTAMP;
		*opt++ = TCPOLEN_TIMESTAMP;
		tsval = htonl(tsval);
		memcpy(opt, &tsval, 4);
		memset(opt + 4, 0, 4);	/* TSecr: nothing to echo in a SYN */
		opt += 8;
	}
	*opt++ = TCPOPT_NOP;
	*opt++ = TCPOPT_WINDOW;
	*opt++ = TCPOLEN_WINDOW;
	*opt++ = SYN_WSCALE;

	memset(th, 0, sizeof(*th));
	th->source = htons(1024 + rnd32() % (65536 - 1024));
	th->dest = htons(dport);
	th->seq = htonl(rnd32());
	th->doff = (sizeof(*th) + (opt - opts)) / 4;
	th->syn = 1;
	th->window = htons(SYN_WINDOW);
	return opt - opts;
}

/* TCP checksum over pseudo-header, header and options. */
static uint16_t tcp_csum(const void *pseudo, size_t pseudo_len, const struct tcphdr *th,
			 const uint8_t *opt, size_t optlen)
{
	uint32_t sum = csum_add(0, pseudo, pseudo_len);

	sum = csum_add(sum, th, sizeof(*th));
	return csum_fold(csum_add(sum, opt, optlen));
}

/*
 * A wrong checksum that stays wrong: flipping all bits would turn a
 * correct 0x0000 into 0xffff, the same value in one's complement.
 */
static uint16_t corrupt(uint16_t check)
{
	return check ^ htons(0x5a5a);
}

/* IPv4 SYN from src; returns the packet length. */
static size_t build_syn4(struct syn4 *p, const struct flood_opts *o,
			 struct in_addr src, uint16_t dport, uint32_t tsval)
{
	size_t optlen = build_tcp_syn(&p->th, p->opt, o, dport, tsval);
	size_t tcplen = sizeof(p->th) + optlen;
	uint8_t pseudo[12];

	memset(&p->ip, 0, sizeof(p->ip));
	p->ip.version = 4;
	p->ip.ihl = sizeof(p->ip) / 4;
	p->ip.tot_len = htons(sizeof(p->ip) + tcplen);
	p->ip.id = htons(rnd32());
	p->ip.frag_off = htons(IP_DF);
	p->ip.ttl = SYN_TTL;
	p->ip.protocol = IPPROTO_TCP;
	p->ip.saddr = src.s_addr;
	p->ip.daddr = o->dst.v4.s_addr;
	p->ip.check = csum_fold(csum_add(0, &p->ip, sizeof(p->ip)));

	/* src, dst, 0, protocol, TCP length */
	memcpy(pseudo, &p->ip.saddr, 4);
	memcpy(pseudo + 4, &p->ip.daddr, 4);
	pseudo[8] = 0;
	pseudo[9] = IPPROTO_TCP;
	pseudo[10] = tcplen >> 8;
	pseudo[11] = tcplen & 0xff;
	p->th.check = tcp_csum(pseudo, sizeof(pseudo), &p->th, p->opt, optlen);
	if (o->bad_csum)
		p->th.check = corrupt(p->th.check);
	return sizeof(p->ip) + tcplen;
}

/* IPv6 SYN from src; returns the packet length. */
static size_t build_syn6(struct syn6 *p, const struct flood_opts *o,
			 const struct in6_addr *src, uint16_t dport, uint32_t tsval)
{
	size_t optlen = build_tcp_syn(&p->th, p->opt, o, dport, tsval);
	size_t tcplen = sizeof(p->th) + optlen;
	uint8_t pseudo[40] = { 0 };

	memset(&p->ip6, 0, sizeof(p->ip6));
	p->ip6.ip6_flow = htonl(6u << 28 | (rnd32() & 0xfffff));
	p->ip6.ip6_plen = htons(tcplen);
	p->ip6.ip6_nxt = IPPROTO_TCP;
	p->ip6.ip6_hlim = SYN_TTL;
	p->ip6.ip6_src = *src;
	p->ip6.ip6_dst = o->dst.v6;

	/* src, dst, upper-layer length (32 bits), 3 zero bytes, next header */
	memcpy(pseudo, src, 16);
	memcpy(pseudo + 16, &o->dst.v6, 16);
	pseudo[34] = tcplen >> 8;
	pseudo[35] = tcplen & 0xff;
	pseudo[39] = IPPROTO_TCP;
	p->th.check = tcp_csum(pseudo, sizeof(pseudo), &p->th, p->opt, optlen);
	if (o->bad_csum)
		p->th.check = corrupt(p->th.check);
	return sizeof(p->ip6) + tcplen;
}

/*
 * Insert an 8-byte hop-by-hop options header (one PadN option) between the
 * IPv6 header and TCP; the TCP checksum does not cover it.  Returns the new
 * packet length.
 */
static size_t add_hbh(uint8_t *pkt, size_t len)
{
	struct ip6_hdr *ip6 = (struct ip6_hdr *)pkt;
	const uint8_t hbh[8] = { IPPROTO_TCP, 0, 1 /* PadN */, 4, 0, 0, 0, 0 };

	memmove(pkt + sizeof(*ip6) + sizeof(hbh), pkt + sizeof(*ip6), len - sizeof(*ip6));
	memcpy(pkt + sizeof(*ip6), hbh, sizeof(hbh));
	ip6->ip6_nxt = IPPROTO_HOPOPTS;
	ip6->ip6_plen = htons(ntohs(ip6->ip6_plen) + sizeof(hbh));
	return len + sizeof(hbh);
}

static int open_raw(int family)
{
	int fd, one = 1;

	fd = socket(family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (fd < 0) {
		fprintf(stderr, PROG ": raw socket: %s%s\n", strerror(errno),
			errno == EPERM ? " (needs CAP_NET_RAW: run as root)" : "");
		return -1;
	}
	/* IPPROTO_RAW implies header inclusion; say so rather than rely on it. */
	if (family == AF_INET ?
	    setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one)) :
	    setsockopt(fd, IPPROTO_IPV6, IPV6_HDRINCL, &one, sizeof(one))) {
		fprintf(stderr, PROG ": cannot include our own IP header: %s\n",
			strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends one packet; waits out a full queue for up to a second. */
static int send_packet(int fd, const void *pkt, size_t len,
		       const struct sockaddr *to, socklen_t tolen)
{
	const struct timespec ms = { .tv_nsec = 1000000 };
	int tries = 1000;

	for (;;) {
		if (sendto(fd, pkt, len, 0, to, tolen) == (ssize_t)len)
			return 0;
		if (errno == EINTR)
			continue;
		if ((errno == ENOBUFS || errno == EAGAIN) && --tries > 0) {
			nanosleep(&ms, NULL);
			continue;
		}
		return -1;
	}
}

/* --packet: frames straight to the device, skipping routing and qdisc. */
static int open_packet(const struct flood_opts *o, uint8_t *src_mac)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	struct ifreq ifr = { 0 };
	int fd, one = 1;

	/* Protocol 0: this socket receives nothing. */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, PROG ": packet socket: %s%s\n", strerror(errno),
			errno == EPERM ? " (needs CAP_NET_RAW: run as root)" : "");
		return -1;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", o->packet_if);
	if (ioctl(fd, SIOCGIFINDEX, &ifr)) {
		fprintf(stderr, PROG ": --packet %s: no such interface in this network "
			"namespace\n", o->packet_if);
		goto fail;
	}
	sll.sll_ifindex = ifr.ifr_ifindex;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr)) {
		fprintf(stderr, PROG ": --packet %s: cannot read its MAC address: %s\n",
			o->packet_if, strerror(errno));
		goto fail;
	}
	memcpy(src_mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		fprintf(stderr, PROG ": --packet %s: %s\n", o->packet_if, strerror(errno));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/* Sends frames [0, n) of a batch; waits out a full device for up to a
 * second, as send_packet does. */
static int send_batch(int fd, struct mmsghdr *msgs, unsigned int n)
{
	const struct timespec ms = { .tv_nsec = 1000000 };
	unsigned int done = 0;
	int tries = 1000;

	while (done < n) {
		int r = sendmmsg(fd, msgs + done, n - done, 0);

		if (r > 0) {
			done += r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == ENOBUFS || errno == EAGAIN) && --tries > 0) {
			nanosleep(&ms, NULL);
			continue;
		}
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct flood_opts o;
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t sslen;
	union {
		struct syn4 v4;
		struct syn6 v6;
		uint8_t raw[sizeof(struct syn6) + 8];	/* room for --hbh */
	} pkt;
	static uint8_t frames[BATCH][sizeof(struct ether_header) + sizeof(pkt)];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	uint8_t src_mac[ETH_ALEN];
	unsigned int nb = 0;
	unsigned long i;
	uint64_t start;
	uint32_t ts_off;
	int fd, ret;

	parse_args(argc, argv, &o);
	ret = lab_has_default_route();
	if (ret) {
		if (ret > 0)
			fprintf(stderr, PROG ": refusing to send: this network namespace "
				"has a default route\n");
		return 1;
	}
	rnd_seed();
	fd = o.packet_if ? open_packet(&o, src_mac) : open_raw(o.family);
	if (fd < 0)
		return 1;
	memset(msgs, 0, sizeof(msgs));
	for (unsigned int k = 0; k < BATCH; k++) {
		struct ether_header *eh = (struct ether_header *)frames[k];

		memcpy(eh->ether_dhost, o.dst_mac, ETH_ALEN);
		memcpy(eh->ether_shost, src_mac, ETH_ALEN);
		eh->ether_type = htons(o.family == AF_INET ? ETHERTYPE_IP : ETHERTYPE_IPV6);
		iov[k].iov_base = frames[k];
		msgs[k].msg_hdr.msg_iov = &iov[k];
		msgs[k].msg_hdr.msg_iovlen = 1;
	}

	/* Raw sockets take the destination port as a protocol: leave it 0. */
	if (o.family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_addr = o.dst.v4;
		sslen = sizeof(*sin);
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = o.dst.v6;
		sslen = sizeof(*sin6);
	}

	ts_off = rnd32();
	start = now_ns();
	for (i = 0; i < o.count; i++) {
		uint32_t tsval = ts_off + (uint32_t)((now_ns() - start) / 1000000);
		uint16_t dport = o.port + i % o.port_span;
		size_t len;

		if (o.rate) {
			/* Absolute deadlines: sleep overshoot does not add up. */
			uint64_t at = start + i * 1000000000ull / o.rate;
			struct timespec ts = { .tv_sec = at / 1000000000ull,
					       .tv_nsec = at % 1000000000ull };

			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
				;
		}
		uint64_t si = i % o.src_count;	/* wraps only with --reuse-sources */

		if (o.family == AF_INET) {
			struct in_addr src = { htonl(ntohl(o.src_first.v4.s_addr) + si) };

			len = build_syn4(&pkt.v4, &o, src, dport, tsval);
		} else {
			struct in6_addr src = o.src_first.v6;

			in6_add(&src, si);
			len = build_syn6(&pkt.v6, &o, &src, dport, tsval);
			if (o.hbh)
				len = add_hbh(pkt.raw, len);
		}
		if (o.packet_if) {
			/* Paced floods go frame by frame, fast ones in batches. */
			memcpy(frames[nb] + sizeof(struct ether_header), &pkt, len);
			iov[nb].iov_len = sizeof(struct ether_header) + len;
			if (++nb < BATCH && !o.rate && i + 1 < o.count)
				continue;
			if (send_batch(fd, msgs, nb)) {
				fprintf(stderr, PROG ": sendmmsg on %s failed after %lu packets: %s\n",
					o.packet_if, i + 1 - nb, strerror(errno));
				close(fd);
				return 1;
			}
			nb = 0;
		} else if (send_packet(fd, &pkt, len, (struct sockaddr *)&ss, sslen)) {
			fprintf(stderr, PROG ": sendto %s failed after %lu packets: %s\n",
				o.to, i, strerror(errno));
			close(fd);
			return 1;
		}
	}
	close(fd);
	printf("sent=%lu\n", o.count);
	return 0;
}
