/* SPDX-License-Identifier: GPL-2.0 */
/*
 * skb.h - the TCP header of an skb in the stack, for the tracing and
 * netfilter programs (the XDP and TC programs parse frames with parse.h,
 * by the same rules).
 */
#ifndef SYNACCT_BPF_SKB_H
#define SYNACCT_BPF_SKB_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "../synacct.h"
#include "parse.h"

/* Address families (linux/socket.h), as sockets and flow keys say them. */
#define SA_AF_INET	2
#define SA_AF_INET6	10

struct syn_info {
	__u16 sport;
	__u16 dport;
	__u32 seq;
	__u8 flags;
	__u8 family;		/* 4 or 6 */
	__u8 doff;		/* TCP header length / 4 */
	/* Behind more IPv6 extension headers than parse.h
	 * walks: unparsed at XDP and TC, never in nic_syn / tc_syn. */
	bool beyond_parser;
	bool have_opt;		/* opt holds the 40 bytes after the TCP header */
	unsigned char *th;	/* the TCP header, in the skb */
	unsigned char opt[40];
};

/* IPv6 extension headers the stack side walks: twice as many as the
 * XDP/TC parser (SA_MAX_EXTHDR), so that a SYN behind more than that
 * one walks is still counted here, and said to be beyond it. */
#define SA_STACK_MAX_EXTHDR	(2 * SA_MAX_EXTHDR)

/* The TCP header of an IPv4/IPv6 skb in the stack.  Headers are read from
 * the network header (set from __netif_receive_skb_core on), walking the
 * same kinds of IPv6 extension headers as the XDP/TC parser (atomic
 * fragments included), up to SA_STACK_MAX_EXTHDR of them: si->beyond_parser
 * says there were more than the parser walks.  @skb is a tp_btf
 * argument: its fields are read directly; the packet bytes in one probe
 * read when there are no IP options or extension headers. */
static __always_inline int skb_tcp(struct sk_buff *skb, struct syn_info *si)
{
	unsigned char *head = skb->head;
	__u16 nhoff = skb->network_header;
	__u16 proto = skb->protocol;
	struct sa_tcphdr *th;
	unsigned char *nh;
	__u32 thoff;
	/* The option bytes come with the headers, for SYNs' cookie figures:
	 * one read.  They are inside the skb's head even when the TCP header
	 * has no options: skb_shared_info follows the data. */
	union {
		struct {
			struct iphdr iph;
			struct sa_tcphdr th;
			unsigned char opt[40];
		} v4;
		struct {
			struct ipv6hdr ip6h;
			struct sa_tcphdr th;
			unsigned char opt[40];
		} v6;
	} h;
	struct sa_tcphdr th_far;
	__u64 nh_at, end;

	/* Cheapest test first: most skbs freed on a host are not IP. */
	if (proto != bpf_htons(SA_ETH_P_IP) && proto != bpf_htons(SA_ETH_P_IPV6))
		return -1;
	si->beyond_parser = false;
	if (nhoff == (__u16)~0U)
		nh = skb->data;
	else
		nh = head + nhoff;
	/* Where the packet ends, from head (data moves as layers pull their
	 * headers, data + len does not): a frame cut short is freed for it,
	 * and the bytes past its end are whatever the buffer held before,
	 * not a TCP header. */
	nh_at = (__u64)nh - (__u64)head;
	end = (__u64)skb->data - (__u64)head + skb->len;

	if (proto == bpf_htons(SA_ETH_P_IP)) {
		if (bpf_probe_read_kernel(&h.v4, sizeof(h.v4), nh))
			return -1;
		if (h.v4.iph.version != 4 || h.v4.iph.ihl < 5 ||
		    h.v4.iph.protocol != SA_IPPROTO_TCP ||
		    (h.v4.iph.frag_off & bpf_htons(0x1fff)))
			return -1;
		thoff = h.v4.iph.ihl * 4;
		th = &h.v4.th;
		si->family = 4;
		if (thoff == sizeof(h.v4.iph))
			__builtin_memcpy(si->opt, h.v4.opt, sizeof(si->opt));
	} else {
		__u8 nexthdr;

		if (bpf_probe_read_kernel(&h.v6, sizeof(h.v6), nh))
			return -1;
		nexthdr = h.v6.ip6h.nexthdr;
		thoff = sizeof(h.v6.ip6h);
		th = &h.v6.th;
		/* The same extension headers as parse.h walks,
		 * further. */
		for (int i = 0; i < SA_STACK_MAX_EXTHDR && nexthdr != SA_IPPROTO_TCP; i++) {
			struct sa_fraghdr eh;

			if (!sa_ipv6_walked(nexthdr))
				return -1;
			if (bpf_probe_read_kernel(&eh, sizeof(eh), nh + thoff))
				return -1;
			/* A real fragment (offset or M set) is not a
			 * segment; an atomic one is the whole packet. */
			if (nexthdr == 44 &&
			    (eh.frag_off & bpf_htons(SA_IP6_FRAG_OFFSET_M)))
				return -1;
			if (i == SA_MAX_EXTHDR)
				si->beyond_parser = true;
			/* A fragment header is 8 bytes; the others say
			 * their length in 8 bytes, less one, where the
			 * fragment header has its reserved byte. */
			thoff += nexthdr == 44 ? sizeof(eh) : (eh.reserved + 1) * 8;
			nexthdr = eh.nexthdr;
		}
		if (nexthdr != SA_IPPROTO_TCP)
			return -1;
		si->family = 6;
		if (thoff == sizeof(h.v6.ip6h))
			__builtin_memcpy(si->opt, h.v6.opt, sizeof(si->opt));
	}
	if (nh_at + thoff + sizeof(struct sa_tcphdr) > end)
		return -1;
	/* IP options or extension headers: the TCP header is further on. */
	si->have_opt = thoff == (si->family == 4 ? sizeof(h.v4.iph) : sizeof(h.v6.ip6h));
	if (!si->have_opt) {
		if (bpf_probe_read_kernel(&th_far, sizeof(th_far), nh + thoff))
			return -1;
		th = &th_far;
	}
	si->sport = bpf_ntohs(th->source);
	si->dport = bpf_ntohs(th->dest);
	si->seq = bpf_ntohl(th->seq);
	si->flags = th->flags;
	si->doff = th->res_doff >> 4;
	si->th = nh + thoff;
	/* As parse.h: a data offset below 5 words, or options
	 * cut short, is a malformed segment, not a SYN. */
	if (si->doff < 5 || nh_at + thoff + si->doff * 4 > end)
		return -1;
	return 0;
}

static __always_inline bool is_syn(const struct syn_info *si)
{
	return (si->flags & (SA_TCP_SYN | SA_TCP_ACK)) == SA_TCP_SYN;
}

#endif /* SYNACCT_BPF_SKB_H */
