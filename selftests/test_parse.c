// SPDX-License-Identifier: GPL-2.0
/*
 * test_parse.c - unit test of the shared parser (include/bpf/parse.h) through the
 * three programs that use it: XDP (nic_syn), TC ingress (tc_syn) and TC
 * egress (synack_sent).  Each crafted frame is run once through each
 * program with BPF_PROG_TEST_RUN, and the exact deltas of every counter,
 * summed over all CPUs, are checked, along with the verdict and that the
 * frame comes back unchanged (synacct only observes).
 *
 * Output is TAP, one line per frame and program.  Run as root; -v shows
 * libbpf's debug output.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/types.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "synacct.h"
#include "nic.skel.h"
#include "tc.skel.h"
#include "slots.h"

/* Counter values are read as arrays of __u64, one per field. */
#define NFIELDS(type)	(sizeof(type) / sizeof(__u64))
#define FIELD(type, f)	(offsetof(type, f) / sizeof(__u64))
#define MAX_FIELDS	2
_Static_assert(NFIELDS(struct sa_nic_counters) <= MAX_FIELDS, "fields");
_Static_assert(NFIELDS(struct sa_tc_counters) <= MAX_FIELDS, "fields");
_Static_assert(NFIELDS(struct sa_prog_counters) <= MAX_FIELDS, "fields");
_Static_assert(FIELD(struct sa_tc_counters, synack_sent) == 1, "field names");

#define FRAME_MAX	512
#define DPORT_BASE	10000	/* case i: SYNs to DPORT_BASE + i ... */
#define SPORT_BASE	20000	/* ... from SPORT_BASE + i */

#define TCP_FIN		0x01
#define TCP_SYN		0x02
#define TCP_RST		0x04
#define TCP_ACK		0x10

#define IP6_HOPOPTS	0
#define IP6_ROUTING	43
#define IP6_FRAGMENT	44
#define IP6_DSTOPTS	60

/* include/bpf/parse.h's SA_MAX_VLAN and SA_MAX_EXTHDR, for the cases at and just
 * past them (parse.h is BPF-side only). */
#define MAX_VLAN	2
#define MAX_EXTHDR	4

enum l3 { L3_IPV4, L3_IPV6, L3_ARP };

/* What to put in a frame; zero fields mean "the plain, correct value". */
struct frame_spec {
	__u16 vlan[MAX_VLAN + 1];	/* TPIDs, outermost first; 0 ends */
	enum l3 l3;
	__u8 ihl;		/* IPv4 header length, in words; 0: 5 */
	__u16 frag_off;		/* IPv4 fragment offset field */
	__u8 ext[MAX_EXTHDR + 2];
	__u8 n_ext;		/* IPv6 extension headers, in order */
	bool frag_atomic;	/* fragment headers: offset 0, M clear */
	__u16 frag6;		/* else their offset/M field; 0: offset 0, M set */
	bool udp;		/* UDP instead of TCP */
	__u8 flags;		/* TCP flags */
	bool tcp_opts;		/* MSS, SACK-permitted, TS, NOP, WS */
	__u8 doff;		/* doff to claim; the header stays whole */
};

struct test_case {
	const char *name;
	struct frame_spec spec;
	bool sweep;		/* also every truncation from ETH_HLEN on */
	int syn;		/* want nic_syn and tc_syn deltas */
	int synack;		/* want synack_sent delta */
	int unparsed;		/* want unparsed delta (XDP, TC ingress) */
};

#define SYN_OPTS	.flags = TCP_SYN, .tcp_opts = true
#define QINQ		.vlan = { 0x88a8, 0x8100 }

static const struct test_case cases[] = {
	{ "ipv4 syn, 40-byte tcp header", { SYN_OPTS }, true, 1, 0, 0 },
	{ "ipv4 syn, 20-byte tcp header", { .flags = TCP_SYN }, false, 1, 0, 0 },
	{ "ipv6 syn", { .l3 = L3_IPV6, SYN_OPTS }, true, 1, 0, 0 },
	{ "802.1q ipv4 syn", { .vlan = { 0x8100 }, SYN_OPTS }, true, 1, 0, 0 },
	{ "802.1q ipv6 syn", { .vlan = { 0x8100 }, .l3 = L3_IPV6, SYN_OPTS },
	  false, 1, 0, 0 },
	{ "qinq ipv4 syn", { QINQ, SYN_OPTS }, false, 1, 0, 0 },
	{ "qinq ipv6 syn", { QINQ, .l3 = L3_IPV6, SYN_OPTS }, false, 1, 0, 0 },
	/* The parser stops after MAX_VLAN tags: a frame it cannot see
	 * into, which it says: unparsed, never silently passed over. */
	{ "three vlan tags, syn", { .vlan = { 0x88a8, 0x8100, 0x8100 },
	  SYN_OPTS }, false, 0, 0, 1 },
	{ "three vlan tags, arp", { .vlan = { 0x8100, 0x8100, 0x8100 },
	  .l3 = L3_ARP }, false, 0, 0, 1 },
	{ "ipv4 syn with 12 bytes of ip options", { .ihl = 8, SYN_OPTS },
	  true, 1, 0, 0 },
	{ "ipv6 hbh+routing+dstopts syn", { .l3 = L3_IPV6,
	  .ext = { IP6_HOPOPTS, IP6_ROUTING, IP6_DSTOPTS }, .n_ext = 3,
	  SYN_OPTS }, true, 1, 0, 0 },
	/* The parser walks MAX_EXTHDR extension headers: that many are
	 * seen through; one more is, like a third VLAN tag, unparsed. */
	{ "ipv6 4 extension headers syn", { .l3 = L3_IPV6,
	  .ext = { IP6_HOPOPTS, IP6_DSTOPTS, IP6_ROUTING, IP6_DSTOPTS },
	  .n_ext = 4, SYN_OPTS }, false, 1, 0, 0 },
	{ "ipv6 5 extension headers syn", { .l3 = L3_IPV6,
	  .ext = { IP6_HOPOPTS, IP6_DSTOPTS, IP6_ROUTING, IP6_DSTOPTS,
	  IP6_DSTOPTS }, .n_ext = 5, SYN_OPTS }, false, 0, 0, 1 },
	{ "ipv6 6 extension headers syn", { .l3 = L3_IPV6,
	  .ext = { IP6_HOPOPTS, IP6_DSTOPTS, IP6_ROUTING, IP6_DSTOPTS,
	  IP6_DSTOPTS, IP6_DSTOPTS }, .n_ext = 6, SYN_OPTS }, false, 0, 0, 1 },
	{ "ipv6 5 extension headers udp", { .l3 = L3_IPV6,
	  .ext = { IP6_HOPOPTS, IP6_DSTOPTS, IP6_ROUTING, IP6_DSTOPTS,
	  IP6_DSTOPTS }, .n_ext = 5, .udp = true }, false, 0, 0, 1 },
	/* An atomic fragment (offset 0, M clear: RFC 6946) is the whole
	 * packet, which the kernel takes as is: walked through, and it
	 * counts among the extension headers. */
	{ "ipv6 atomic fragment syn", { .l3 = L3_IPV6,
	  .ext = { IP6_FRAGMENT }, .n_ext = 1, .frag_atomic = true,
	  SYN_OPTS }, true, 1, 0, 0 },
	{ "ipv6 hbh+atomic fragment+dstopts syn", { .l3 = L3_IPV6,
	  .ext = { IP6_HOPOPTS, IP6_FRAGMENT, IP6_DSTOPTS }, .n_ext = 3,
	  .frag_atomic = true, SYN_OPTS }, false, 1, 0, 0 },
	{ "ipv6 atomic fragment syn+ack", { .l3 = L3_IPV6,
	  .ext = { IP6_FRAGMENT }, .n_ext = 1, .frag_atomic = true,
	  .flags = TCP_SYN | TCP_ACK, .tcp_opts = true }, false, 0, 1, 0 },
	{ "ipv6 4 headers + atomic fragment syn", { .l3 = L3_IPV6,
	  .ext = { IP6_HOPOPTS, IP6_DSTOPTS, IP6_ROUTING, IP6_DSTOPTS,
	  IP6_FRAGMENT }, .n_ext = 5, .frag_atomic = true, SYN_OPTS },
	  false, 0, 0, 1 },
	/* The two reserved bits do not make a fragment (the kernel masks
	 * offset and M only). */
	{ "ipv6 atomic fragment, reserved bits set, syn", { .l3 = L3_IPV6,
	  .ext = { IP6_FRAGMENT }, .n_ext = 1, .frag6 = 0x0006, SYN_OPTS },
	  false, 1, 0, 0 },
	/* Real fragments are left to the stack to reassemble: a first
	 * (offset 0, M), a last (offset 1, M clear). */
	{ "ipv6 last fragment syn", { .l3 = L3_IPV6,
	  .ext = { IP6_FRAGMENT }, .n_ext = 1, .frag6 = 0x0008, SYN_OPTS },
	  false, 0, 0, 0 },
	{ "ipv6 fragment header syn", { .l3 = L3_IPV6,
	  .ext = { IP6_FRAGMENT }, .n_ext = 1, SYN_OPTS }, false, 0, 0, 0 },
	{ "ipv6 hbh+fragment header syn", { .l3 = L3_IPV6,
	  .ext = { IP6_HOPOPTS, IP6_FRAGMENT }, .n_ext = 2, SYN_OPTS },
	  false, 0, 0, 0 },
	/* Only a first fragment carries the TCP header. */
	{ "ipv4 first fragment syn", { .frag_off = 0x2000, SYN_OPTS },
	  false, 1, 0, 0 },
	{ "ipv4 non-first fragment syn", { .frag_off = 0x2000 | 185,
	  SYN_OPTS }, false, 0, 0, 0 },
	{ "ipv4 syn+ack", { .flags = TCP_SYN | TCP_ACK, .tcp_opts = true },
	  false, 0, 1, 0 },
	{ "ipv6 syn+ack", { .l3 = L3_IPV6, .flags = TCP_SYN | TCP_ACK,
	  .tcp_opts = true }, false, 0, 1, 0 },
	{ "qinq ipv6 syn+ack", { QINQ, .l3 = L3_IPV6,
	  .flags = TCP_SYN | TCP_ACK, .tcp_opts = true }, false, 0, 1, 0 },
	{ "ipv4 ack", { .flags = TCP_ACK }, false, 0, 0, 0 },
	{ "ipv4 rst", { .flags = TCP_RST }, false, 0, 0, 0 },
	/* The rule is "SYN set, ACK clear", whatever else is set. */
	{ "ipv4 syn+fin", { .flags = TCP_SYN | TCP_FIN }, false, 1, 0, 0 },
	{ "ipv4 syn+ack+fin", { .flags = TCP_SYN | TCP_ACK | TCP_FIN },
	  false, 0, 1, 0 },
	{ "ipv4 udp", { .udp = true }, false, 0, 0, 0 },
	{ "ipv6 udp", { .l3 = L3_IPV6, .udp = true }, false, 0, 0, 0 },
	{ "arp", { .l3 = L3_ARP }, false, 0, 0, 0 },
	/* Malformed so that only the IHL / doff check stops a count: the
	 * TCP header follows the 16-byte IPv4 header, and a 16-byte doff
	 * is followed by 20 bytes. */
	{ "ipv4 ihl 4 syn", { .ihl = 4, SYN_OPTS }, false, 0, 0, 1 },
	{ "ipv4 doff 4 syn", { .flags = TCP_SYN, .doff = 4 }, false, 0, 0, 1 },
	{ "ipv6 doff 4 syn", { .l3 = L3_IPV6, .flags = TCP_SYN, .doff = 4 },
	  false, 0, 0, 1 },
};

#define N_CASES		(sizeof(cases) / sizeof(cases[0]))

/* ---- frame builder ----
 * Headers sit in the frame at any alignment, so each is filled in as an
 * aligned local and copied in; fields filled in later (lengths) are
 * copied again. */

struct builder {
	__u8 *buf;
	size_t len;
};

/* Append @n bytes, @hdr or zeros if NULL; return where they start. */
static __u8 *push(struct builder *b, const void *hdr, size_t n)
{
	__u8 *p = b->buf + b->len;

	b->len += n;
	if (b->len > FRAME_MAX) {
		fprintf(stderr, "frame builder: FRAME_MAX too small\n");
		abort();
	}
	if (hdr)
		memcpy(p, hdr, n);
	else
		memset(p, 0, n);
	return p;
}

static void put_be16(__u8 *p, __u16 v)
{
	__be16 n = htons(v);

	memcpy(p, &n, sizeof(n));
}

/* The Internet checksum of @hdr, in host order. */
static __u16 ip_csum(const __u8 *hdr, size_t len)
{
	__u32 sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += hdr[i] << 8 | hdr[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

static __u16 l3_ethertype(const struct frame_spec *s)
{
	switch (s->l3) {
	case L3_IPV4:
		return ETH_P_IP;
	case L3_IPV6:
		return ETH_P_IPV6;
	default:
		return ETH_P_ARP;
	}
}

static void put_l2(struct builder *b, const struct frame_spec *s)
{
	static const __u8 macs[2 * ETH_ALEN] = {
		0x02, 0, 0, 0, 0, 0x02,		/* destination */
		0x02, 0, 0, 0, 0, 0x01,		/* source */
	};
	int i;

	push(b, macs, sizeof(macs));
	for (i = 0; i <= MAX_VLAN && s->vlan[i]; i++) {
		put_be16(push(b, NULL, 2), s->vlan[i]);	/* TPID */
		put_be16(push(b, NULL, 2), 100 + i);	/* TCI: VID only */
	}
	put_be16(push(b, NULL, 2), l3_ethertype(s));
}

static void put_l4(struct builder *b, const struct frame_spec *s,
		   __u16 sport, __u16 dport)
{
	static const __u8 tcp_opts[20] = {
		2, 4, 0x05, 0xb4,		/* MSS 1460 */
		4, 2,				/* SACK permitted */
		8, 10, 0, 0, 0, 1, 0, 0, 0, 0,	/* timestamps */
		1,				/* NOP */
		3, 3, 7,			/* window scale */
	};
	size_t opt_len = s->tcp_opts ? sizeof(tcp_opts) : 0;
	struct udphdr uh = {
		.source = htons(sport),
		.dest = htons(dport),
		.len = htons(sizeof(uh) + 8),
	};
	struct tcphdr th = {
		.source = htons(sport),
		.dest = htons(dport),
		.seq = htonl(1000),
		.ack_seq = htonl(s->flags & TCP_ACK ? 2000 : 0),
		.doff = s->doff ? s->doff : (sizeof(th) + opt_len) / 4,
		.window = htons(64240),
	};

	if (s->udp) {
		push(b, &uh, sizeof(uh));
		push(b, NULL, 8);			/* payload */
		return;
	}
	((__u8 *)&th)[13] = s->flags;	/* all flags at once, not bitfields */
	push(b, &th, sizeof(th));
	push(b, tcp_opts, opt_len);
}

/* The header is ihl words long: past 20 bytes, options; short of 20, the
 * fields that do not fit are cut off and L4 follows at once. */
static void put_ipv4(struct builder *b, const struct frame_spec *s,
		     __u16 sport, __u16 dport)
{
	size_t start = b->len, hlen = (s->ihl ? s->ihl : 5) * 4;
	size_t fixed = hlen < sizeof(struct iphdr) ? hlen : sizeof(struct iphdr);
	struct iphdr ip = {
		.version = 4,
		.ihl = hlen / 4,
		.ttl = 64,
		.protocol = s->udp ? IPPROTO_UDP : IPPROTO_TCP,
		.frag_off = htons(s->frag_off),
		.saddr = htonl(0x0a000001),
		.daddr = htonl(0x0a000002),
	};
	__u8 *hdr = push(b, NULL, hlen);

	if (hlen > fixed) {
		memset(hdr + fixed, 1, hlen - fixed);	/* NOPs ... */
		hdr[hlen - 1] = 0;			/* ... end of list */
	}
	put_l4(b, s, sport, dport);
	ip.tot_len = htons(b->len - start);
	memcpy(hdr, &ip, fixed);
	if (fixed == sizeof(ip))	/* a checksum for whole headers */
		put_be16(hdr + offsetof(struct iphdr, check),
			 ip_csum(hdr, hlen));
}

/* Extension header sizes differ, so that the parser's length arithmetic
 * is exercised: hbh 8 bytes, routing 24, destination options 16. */
static void put_ipv6_ext(struct builder *b, __u8 type, __u8 next, bool atomic,
			  __u16 frag6)
{
	__u8 hdrlen = type == IP6_ROUTING ? 2 : type == IP6_DSTOPTS ? 1 : 0;
	__u8 *eh = push(b, NULL, (hdrlen + 1) * 8);

	eh[0] = next;
	if (type == IP6_FRAGMENT) {
		/* offset 0 and M clear (atomic), as given, or offset 0, M */
		put_be16(eh + 2, atomic ? 0 : frag6 ? frag6 : 1);
		eh[7] = 42;		/* identification */
		return;
	}
	eh[1] = hdrlen;
	if (type == IP6_ROUTING)
		return;			/* type 0, segments left 0 */
	eh[2] = 1;			/* PadN over the rest */
	eh[3] = (hdrlen + 1) * 8 - 4;
}

static void put_ipv6(struct builder *b, const struct frame_spec *s,
		     __u16 sport, __u16 dport)
{
	__u8 l4 = s->udp ? IPPROTO_UDP : IPPROTO_TCP;
	struct ipv6hdr ip6 = {
		.version = 6,
		.nexthdr = s->n_ext ? s->ext[0] : l4,
		.hop_limit = 64,
		.saddr.s6_addr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 },
		.daddr.s6_addr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 },
	};
	__u8 *hdr = push(b, NULL, sizeof(ip6));
	int i;

	for (i = 0; i < s->n_ext; i++)
		put_ipv6_ext(b, s->ext[i],
			     i + 1 < s->n_ext ? s->ext[i + 1] : l4,
			     s->frag_atomic, s->frag6);
	put_l4(b, s, sport, dport);
	ip6.payload_len = htons(b->buf + b->len - hdr - sizeof(ip6));
	memcpy(hdr, &ip6, sizeof(ip6));
}

static void put_arp(struct builder *b)
{
	static const __u8 request[28] = {
		0, 1, 0x08, 0, 6, 4, 0, 1,	/* ethernet/ipv4 request */
		0x02, 0, 0, 0, 0, 0x01, 10, 0, 0, 1,
		0, 0, 0, 0, 0, 0, 10, 0, 0, 2,
	};

	push(b, request, sizeof(request));
}

/* Build case @i's frame into @buf (FRAME_MAX bytes); return its length. */
static size_t build_frame(size_t i, __u8 *buf)
{
	const struct frame_spec *s = &cases[i].spec;
	__u16 sport = SPORT_BASE + i, dport = DPORT_BASE + i;
	struct builder b = { .buf = buf };

	put_l2(&b, s);
	switch (s->l3) {
	case L3_IPV4:
		put_ipv4(&b, s, sport, dport);
		break;
	case L3_IPV6:
		put_ipv6(&b, s, sport, dport);
		break;
	case L3_ARP:
		put_arp(&b);
		break;
	}
	return b.len;
}

/* ---- programs under test and their counters ---- */

enum counts { COUNTS_SYN, COUNTS_SYNACK };

struct prog_ut {
	const char *name;
	int prog_fd;
	struct sa_slot_fds counters;	/* the slot maps (include/bpf/count.h) */
	int parse_fd;		/* prog_counters PERCPU_ARRAY */
	unsigned int nfields;	/* __u64s in a counters value */
	const char *fields[MAX_FIELDS];	/* their names, in order */
	unsigned int field;	/* the one this program adds to */
	enum counts counts;
	bool by_sport;		/* keyed by source port, not destination */
	bool counts_unparsed;
	bool is_skb;		/* TC: an skb test_run */
	__u32 retval;
	const char *retval_name;
};

struct snapshot {
	__u64 port[MAX_FIELDS];		/* at the program's port */
	__u64 total[MAX_FIELDS];	/* over all ports */
	__u64 unparsed;
};

static int ncpus;
static __u64 *percpu;		/* ncpus * MAX_FIELDS, one lookup's values */
static bool verbose;

/* Add the per-CPU values of @key in @fd to @sum; a missing key adds 0. */
static int add_percpu(int fd, const void *key, unsigned int nfields,
		      __u64 *sum)
{
	unsigned int cpu, f;
	int err;

	err = bpf_map_lookup_elem(fd, key, percpu);
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	for (cpu = 0; cpu < (unsigned int)ncpus; cpu++)
		for (f = 0; f < nfields; f++)
			sum[f] += percpu[cpu * nfields + f];
	return 0;
}

static int add_total(__u32 port, const __u64 *sum, void *ctx)
{
	struct snapshot *s = ctx;

	(void)port;
	for (unsigned int f = 0; f < MAX_FIELDS; f++)
		s->total[f] += sum[f];
	return 0;
}

static int take_snapshot(const struct prog_ut *p, __u32 port,
			 struct snapshot *s)
{
	__u32 zero = 0;
	int err;

	memset(s, 0, sizeof(*s));
	err = sa_slot_read_port(&p->counters, port, p->nfields, s->port);
	if (err)
		return err;
	/* The total catches a count that went to the wrong port. */
	err = sa_slot_foreach(&p->counters, p->nfields, add_total, s);
	if (err)
		return err;
	{
		__u64 pc[NFIELDS(struct sa_prog_counters)] = {};

		err = add_percpu(p->parse_fd, &zero, NFIELDS(struct sa_prog_counters), pc);
		s->unparsed = pc[FIELD(struct sa_prog_counters, unparsed)];
		return err;
	}
}

/* ---- one assertion group: one frame through one program ---- */

struct diag {
	char text[1024];
	size_t len;
};

static void check(struct diag *d, const char *what, long long got,
		  long long want)
{
	if (got == want || d->len >= sizeof(d->text))
		return;
	d->len += snprintf(d->text + d->len, sizeof(d->text) - d->len,
			   "# %s: got %lld want %lld\n", what, got, want);
}

/* Newer kernels' skb test_run (net/bpf/test_run.c: upstream 12bec2bd4b76,
 * "bpf: reject short IPv4/IPv6 inputs in bpf_prog_test_run_skb", 2026, also in stable)
 * refuses, with EINVAL, a frame whose Ethernet type is IPv4 or IPv6 but
 * that is too short for that header, so TC cannot be shown those cuts.
 * XDP still is, and the VLAN sweep shows TC the same parser paths. */
static bool skb_run_refuses(const struct prog_ut *p, const __u8 *frame,
			    size_t len)
{
	__u16 proto = frame[12] << 8 | frame[13];

	return p->is_skb &&
	       ((proto == ETH_P_IP && len < ETH_HLEN + sizeof(struct iphdr)) ||
		(proto == ETH_P_IPV6 &&
		 len < ETH_HLEN + sizeof(struct ipv6hdr)));
}

/* Run @frame, cut to @len of its @full_len bytes, through @p; print one
 * TAP line.  Return 0 if it passed, 1 if not, < 0 if counters could not be
 * read (then nothing later can be trusted). */
static int run_one(const struct prog_ut *p, size_t i, const __u8 *frame,
		   size_t len, size_t full_len, int testno)
{
	const struct test_case *tc = &cases[i];
	bool cut = len < full_len;
	int want = cut ? 0 : p->counts == COUNTS_SYN ? tc->syn : tc->synack;
	int want_unparsed = !p->counts_unparsed ? 0 : cut ? 1 : tc->unparsed;
	__u32 port = p->by_sport ? SPORT_BASE + i : DPORT_BASE + i;
	struct snapshot before, after;
	struct diag d = { .len = 0 };
	__u8 out[FRAME_MAX];
	char what[64], where[64] = "", desc[192];
	unsigned int f;
	int err;
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = frame,
		.data_size_in = len,
		.data_out = out,
		.data_size_out = sizeof(out),
		.repeat = 1,
	);

	if (cut)
		snprintf(where, sizeof(where), " cut to %zu/%zu bytes", len,
			 full_len);
	snprintf(desc, sizeof(desc), "%s %s%s: %s +%d, unparsed +%d, %s",
		 p->name, tc->name, where, p->fields[p->field], want,
		 want_unparsed,
		 p->retval_name);

	err = take_snapshot(p, port, &before);
	if (err)
		goto read_error;
	err = bpf_prog_test_run_opts(p->prog_fd, &opts);
	if (err == -EINVAL && skb_run_refuses(p, frame, len)) {
		printf("ok %d - %s # SKIP kernel: bpf_prog_test_run_skb refuses (EINVAL) "
		       "a frame shorter than its IP header (12bec2bd4b76, in stable kernels)\n",
		       testno, desc);
		return 0;
	}
	if (err) {
		d.len = snprintf(d.text, sizeof(d.text),
				 "# bpf_prog_test_run_opts: %s\n",
				 strerror(-err));
		goto print;
	}

	err = take_snapshot(p, port, &after);
	if (err)
		goto read_error;
	check(&d, "verdict", opts.retval, p->retval);
	snprintf(what, sizeof(what), "%s at port %u", p->fields[p->field],
		 port);
	check(&d, what, after.port[p->field] - before.port[p->field], want);
	for (f = 0; f < p->nfields; f++) {
		snprintf(what, sizeof(what), "%s over all ports", p->fields[f]);
		check(&d, what, after.total[f] - before.total[f],
		      f == p->field ? want : 0);
	}
	check(&d, "unparsed", after.unparsed - before.unparsed,
	      want_unparsed);
	/* synacct only observes: the frame must come back as it went in. */
	check(&d, "frame size out", opts.data_size_out, len);
	check(&d, "frame out differs from frame in",
	      opts.data_size_out == len && memcmp(out, frame, len), 0);

print:
	printf("%sok %d - %s\n%s", d.len ? "not " : "", testno, desc, d.text);
	return d.len ? 1 : 0;

read_error:
	printf("Bail out! reading %s counters: %s\n", p->name, strerror(-err));
	return err;
}

/* ---- main ---- */

static int print_libbpf(enum libbpf_print_level level, const char *fmt,
			va_list args)
{
	if (level == LIBBPF_DEBUG && !verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

/* Lengths a case is run at: every cut from ETH_HLEN (the smallest frame
 * test_run takes) for a sweep, else only the full frame. */
static size_t first_len(size_t i, size_t full_len)
{
	return cases[i].sweep ? ETH_HLEN : full_len;
}

static int plan(size_t n_progs)
{
	__u8 frame[FRAME_MAX];
	size_t i, len;
	int n = 0;

	for (i = 0; i < N_CASES; i++) {
		len = build_frame(i, frame);
		n += (len - first_len(i, len) + 1) * n_progs;
	}
	return n;
}

/* A load that fails for lack of privileges (EPERM) skips; any other
 * failure, the verifier's EACCES or EINVAL included, is a bug in the
 * programs or the test and must fail. */
static int load_failed(const char *what)
{
	int err = errno;

	if (err == EPERM) {
		printf("1..0 # SKIP root: loading %s: %s (needs CAP_BPF and CAP_NET_ADMIN)\n",
		       what, strerror(err));
		return 0;
	}
	printf("Bail out! loading %s: %s (run with -v for the verifier log)\n",
	       what, strerror(err));
	return 1;
}

int main(int argc, char **argv)
{
	struct nic_bpf *nic = NULL;
	struct tc_bpf *tc = NULL;
	__u8 frame[FRAME_MAX];
	size_t i, p, len, full_len;
	int ret = 1, failed = 0, testno = 0, err;

	verbose = argc > 1 && !strcmp(argv[1], "-v");
	libbpf_set_print(print_libbpf);

	if (geteuid() != 0) {
		printf("1..0 # SKIP root: loading BPF programs needs root\n");
		return 0;
	}
	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0) {
		printf("Bail out! libbpf_num_possible_cpus: %s\n",
		       strerror(-ncpus));
		return 1;
	}
	percpu = calloc(ncpus * MAX_FIELDS, sizeof(*percpu));
	if (!percpu) {
		printf("Bail out! out of memory\n");
		return 1;
	}

	nic = nic_bpf__open_and_load();
	if (!nic) {
		ret = load_failed("nic_bpf (xdp/nic.bpf.c)");
		goto cleanup;
	}
	tc = tc_bpf__open_and_load();
	if (!tc) {
		ret = load_failed("tc_bpf (tc/tc.bpf.c)");
		goto cleanup;
	}

	const struct prog_ut progs[] = {
		{
			.name = "xdp",
			.prog_fd = bpf_program__fd(nic->progs.synacct_xdp),
			.counters = sa_slot_fds(nic->maps.nic_counters_slot,
						nic->maps.nic_counters_port,
						nic->maps.nic_counters,
						nic->maps.nic_counters_more),
			.parse_fd = bpf_map__fd(nic->maps.prog_counters),
			.nfields = NFIELDS(struct sa_nic_counters),
			.fields = { "nic_syn" },
			.field = FIELD(struct sa_nic_counters, nic_syn),
			.counts = COUNTS_SYN,
			.counts_unparsed = true,
			.retval = XDP_PASS,
			.retval_name = "XDP_PASS",
		}, {
			.name = "tc ingress",
			.prog_fd = bpf_program__fd(tc->progs.synacct_tc_in),
			.counters = sa_slot_fds(tc->maps.tc_counters_slot,
						tc->maps.tc_counters_port,
						tc->maps.tc_counters,
						tc->maps.tc_counters_more),
			.parse_fd = bpf_map__fd(tc->maps.prog_counters),
			.nfields = NFIELDS(struct sa_tc_counters),
			.fields = { "tc_syn", "synack_sent" },
			.field = FIELD(struct sa_tc_counters, tc_syn),
			.counts = COUNTS_SYN,
			.counts_unparsed = true,
			.is_skb = true,
			.retval = (__u32)TC_ACT_UNSPEC,
			.retval_name = "TC_ACT_UNSPEC",
		}, {
			/* Egress never counts unparsed frames: they are
			 * the host's own. */
			.name = "tc egress",
			.prog_fd = bpf_program__fd(tc->progs.synacct_tc_eg),
			.counters = sa_slot_fds(tc->maps.tc_counters_slot,
						tc->maps.tc_counters_port,
						tc->maps.tc_counters,
						tc->maps.tc_counters_more),
			.parse_fd = bpf_map__fd(tc->maps.prog_counters),
			.nfields = NFIELDS(struct sa_tc_counters),
			.fields = { "tc_syn", "synack_sent" },
			.field = FIELD(struct sa_tc_counters, synack_sent),
			.counts = COUNTS_SYNACK,
			.by_sport = true,
			.is_skb = true,
			.retval = (__u32)TC_ACT_UNSPEC,
			.retval_name = "TC_ACT_UNSPEC",
		},
	};
	const size_t n_progs = sizeof(progs) / sizeof(progs[0]);

	printf("1..%d\n", plan(n_progs));
	for (i = 0; i < N_CASES; i++) {
		full_len = build_frame(i, frame);
		for (len = first_len(i, full_len); len <= full_len; len++) {
			for (p = 0; p < n_progs; p++) {
				err = run_one(&progs[p], i, frame, len,
					      full_len, ++testno);
				if (err < 0)
					goto cleanup;
				failed += err;
			}
		}
	}
	printf("# %d passed, %d failed\n", testno - failed, failed);
	ret = failed ? 1 : 0;

cleanup:
	tc_bpf__destroy(tc);
	nic_bpf__destroy(nic);
	free(percpu);
	return ret;
}
