/* SPDX-License-Identifier: GPL-2.0 */
/*
 * parse.h - the one TCP header parser, shared by the XDP program
 * (xdp/nic.bpf.c) and the TC programs (tc/tc.bpf.c), so that nic_syn and
 * tc_syn are counted by exactly the same rules.
 *
 * It walks Ethernet, up to SA_MAX_VLAN VLAN tags (802.1Q, 802.1ad), IPv4
 * (with options) or IPv6 (with up to SA_MAX_EXTHDR hop-by-hop / routing /
 * destination-options headers and atomic fragment headers) down to the TCP
 * header, and reports the ports and flags.  Every read is bounds-checked
 * against data_end.  A frame whose headers go on beyond those limits (a
 * third tag, a fifth extension header) is one the parser could not parse:
 * SA_PARSE_BAD, counted as unparsed, never silently passed over.
 */
#ifndef SYNACCT_PARSE_H
#define SYNACCT_PARSE_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "../synacct.h"

#define SA_ETH_P_IP	0x0800
#define SA_ETH_P_IPV6	0x86DD
#define SA_ETH_P_8021Q	0x8100
#define SA_ETH_P_8021AD	0x88A8
#define SA_IPPROTO_TCP	6

/* SA_MAX_VLAN, SA_MAX_EXTHDR: include/synacct.h (the agent names them). */

#define SA_TCP_FIN	0x01
#define SA_TCP_SYN	0x02
#define SA_TCP_RST	0x04
#define SA_TCP_ACK	0x10

enum sa_parse_result {
	SA_PARSE_BAD = -1,	/* truncated, malformed, or headers beyond the
				 * limits above: counted as unparsed */
	SA_PARSE_OTHER = 0,	/* parsed, but not a TCP segment we can see */
	SA_PARSE_TCP = 1,	/* pkt->sport/dport/flags are valid */
};

struct sa_pkt {
	__u16 sport;		/* host byte order */
	__u16 dport;
	__u32 seq;		/* host byte order */
	__u32 ack_seq;		/* host byte order */
	__u8 flags;		/* TCP flags byte 13: CWR..FIN */
	__u8 family;		/* 4 or 6 */
	__u16 l3off;		/* the IP header's offset from the frame's start */
};

/* TCP header fields we read, laid out as on the wire (RFC 9293). */
struct sa_tcphdr {
	__be16 source;
	__be16 dest;
	__be32 seq;
	__be32 ack_seq;
	__u8 res_doff;		/* doff in the high nibble */
	__u8 flags;
	__be16 window;
	__sum16 check;
	__be16 urg_ptr;
};

struct sa_vlanhdr {
	__be16 tci;
	__be16 proto;
};

/* IPv6 fragment header (RFC 8200 4.5). */
struct sa_fraghdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;	/* offset << 3 | 2 reserved bits | M */
	__be32 identification;
};
#define SA_IP6_FRAG_OFFSET_M	0xfff9	/* the offset and M bits */

/* The IPv6 headers the parser walks past (fragment: when atomic). */
static __always_inline int sa_ipv6_walked(__u8 nexthdr)
{
	return nexthdr == 0 || nexthdr == 43 || nexthdr == 60 || nexthdr == 44;
}

static __always_inline int sa_parse_tcphdr(void *cur, void *data_end,
					   struct sa_pkt *pkt)
{
	struct sa_tcphdr *th = cur;
	__u32 len;

	if ((void *)(th + 1) > data_end)
		return SA_PARSE_BAD;
	len = (th->res_doff >> 4) * 4;
	if (len < sizeof(*th))
		return SA_PARSE_BAD;
	/* The options must be there too: a SYN cut inside its options is
	 * not a segment the stack would accept. */
	if (cur + len > data_end)
		return SA_PARSE_BAD;
	pkt->sport = bpf_ntohs(th->source);
	pkt->dport = bpf_ntohs(th->dest);
	pkt->seq = bpf_ntohl(th->seq);
	pkt->ack_seq = bpf_ntohl(th->ack_seq);
	pkt->flags = th->flags;
	return SA_PARSE_TCP;
}

static __always_inline int sa_parse_ipv4(void *cur, void *data_end,
					 struct sa_pkt *pkt)
{
	struct iphdr *iph = cur;
	__u32 hlen;

	if ((void *)(iph + 1) > data_end)
		return SA_PARSE_BAD;
	hlen = iph->ihl * 4;
	if (hlen < sizeof(*iph))
		return SA_PARSE_BAD;
	if (cur + hlen > data_end)
		return SA_PARSE_BAD;
	pkt->family = 4;
	if (iph->protocol != SA_IPPROTO_TCP)
		return SA_PARSE_OTHER;
	/* A non-first fragment carries no TCP header. */
	if (iph->frag_off & bpf_htons(0x1fff))
		return SA_PARSE_OTHER;
	return sa_parse_tcphdr(cur + hlen, data_end, pkt);
}

static __always_inline int sa_parse_ipv6(void *cur, void *data_end,
					 struct sa_pkt *pkt)
{
	struct ipv6hdr *ip6h = cur;
	__u8 nexthdr;
	int i;

	if ((void *)(ip6h + 1) > data_end)
		return SA_PARSE_BAD;
	pkt->family = 6;
	nexthdr = ip6h->nexthdr;
	cur = ip6h + 1;

#pragma unroll
	for (i = 0; i < SA_MAX_EXTHDR; i++) {
		struct ipv6_opt_hdr *eh = cur;

		switch (nexthdr) {
		case 0:		/* hop-by-hop options */
		case 43:	/* routing */
		case 60:	/* destination options */
			if ((void *)(eh + 1) > data_end)
				return SA_PARSE_BAD;
			nexthdr = eh->nexthdr;
			cur += (eh->hdrlen + 1) * 8;
			break;
		case 44: {	/* fragment */
			struct sa_fraghdr *fh = cur;

			if ((void *)(fh + 1) > data_end)
				return SA_PARSE_BAD;
			/* Offset 0 and M clear: an atomic fragment (RFC
			 * 6946), the whole packet, which the kernel takes
			 * as is (ipv6_frag_rcv).  A real fragment is held
			 * for reassembly: not a segment here. */
			if (fh->frag_off & bpf_htons(SA_IP6_FRAG_OFFSET_M))
				return SA_PARSE_OTHER;
			nexthdr = fh->nexthdr;
			cur = fh + 1;
			break;
		}
		case SA_IPPROTO_TCP:
			return sa_parse_tcphdr(cur, data_end, pkt);
		default:	/* any other header ends parsing */
			return SA_PARSE_OTHER;
		}
	}
	if (nexthdr == SA_IPPROTO_TCP)
		return sa_parse_tcphdr(cur, data_end, pkt);
	/* One more header the loop would have walked: beyond the limit. */
	if (sa_ipv6_walked(nexthdr))
		return SA_PARSE_BAD;
	return SA_PARSE_OTHER;
}

/* Parse one Ethernet frame [data, data_end).  @tags_out: VLAN tags the
 * frame had that are no longer in its data (TC: the outermost one, which
 * the stack moved into skb->vlan_tci before TC ingress), counted against
 * SA_MAX_VLAN as if they were. */
static __always_inline int sa_parse_tags(void *data, void *data_end,
					 struct sa_pkt *pkt, __u32 tags_out)
{
	struct ethhdr *eth = data;
	void *cur = eth + 1;
	__u16 proto;
	int i;

	if (cur > data_end)
		return SA_PARSE_BAD;
	proto = bpf_ntohs(eth->h_proto);

#pragma unroll
	for (i = 0; i < SA_MAX_VLAN; i++) {
		struct sa_vlanhdr *vh = cur;

		if (proto != SA_ETH_P_8021Q && proto != SA_ETH_P_8021AD)
			break;
		if (i + tags_out >= SA_MAX_VLAN)
			break;		/* one tag too many: below */
		if ((void *)(vh + 1) > data_end)
			return SA_PARSE_BAD;
		proto = bpf_ntohs(vh->proto);
		cur = vh + 1;
	}
	/* A tag beyond SA_MAX_VLAN: not a frame the parser can see into. */
	if (proto == SA_ETH_P_8021Q || proto == SA_ETH_P_8021AD)
		return SA_PARSE_BAD;

	pkt->l3off = cur - data;
	if (proto == SA_ETH_P_IP)
		return sa_parse_ipv4(cur, data_end, pkt);
	if (proto == SA_ETH_P_IPV6)
		return sa_parse_ipv6(cur, data_end, pkt);
	return SA_PARSE_OTHER;
}

static __always_inline int sa_parse(void *data, void *data_end,
				    struct sa_pkt *pkt)
{
	return sa_parse_tags(data, data_end, pkt, 0);
}

static __always_inline int sa_is_syn(const struct sa_pkt *pkt)
{
	return (pkt->flags & (SA_TCP_SYN | SA_TCP_ACK)) == SA_TCP_SYN;
}

static __always_inline int sa_is_synack(const struct sa_pkt *pkt)
{
	return (pkt->flags & (SA_TCP_SYN | SA_TCP_ACK)) ==
	       (SA_TCP_SYN | SA_TCP_ACK);
}

/* Enough linear bytes for two VLAN tags, IPv6 with extension headers and
 * a TCP header with options. */
#define SA_PULL_LEN 256

/* Parse @skb; pull headers into the linear area first if they are not
 * there (the parser needs direct packet access).  A VLAN tag in the skb's
 * metadata (the outermost: the stack moves it there before TC ingress;
 * on egress, one the device will insert) counts against the parser's
 * limit as if it were in the data, as XDP sees it: a frame with three
 * tags is unparsed at both. */
static __always_inline int sa_parse_skb(struct __sk_buff *skb,
					struct sa_pkt *pkt)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u32 linear = data_end - data;
	__u32 tags_out = skb->vlan_present ? 1 : 0;
	int ret;

	ret = sa_parse_tags(data, data_end, pkt, tags_out);
	if (ret != SA_PARSE_BAD || linear >= skb->len || linear >= SA_PULL_LEN)
		return ret;

	if (bpf_skb_pull_data(skb, skb->len < SA_PULL_LEN ? skb->len : SA_PULL_LEN))
		return SA_PARSE_BAD;
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	return sa_parse_tags(data, data_end, pkt, tags_out);
}

#endif /* SYNACCT_PARSE_H */
