/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nat.h - NAT in the watched namespace (DNAT, REDIRECT): count each SYN
 * under the port it arrived for.  The lookups every stack unit makes;
 * kprobe/stack/nat.bpf.c learns the flows.
 *
 * XDP and TC see a SYN before PREROUTING rewrites it, and TC egress sees
 * its SYN-ACK after POSTROUTING un-NATs it: both count the published port.
 * The stack sees the rewritten port.  The conntrack entry holds both:
 * its original tuple's destination is what the client asked for, its
 * reply tuple's source is where NAT sent it.  Where the skb still holds
 * the entry (kfree_skb before TCP), it is read there.  TCP drops it
 * (nf_reset_ct in tcp_v4_rcv/tcp_v6_rcv) before a listener consumes the
 * SYN, and request socks and children never had one; so a netfilter
 * program at LOCAL_IN, last before conntrack confirms, learns each NATed
 * SYN's flow (as the socket will see it) -> published port, in an LRU map
 * the other handlers look up.  Until NAT is seen (nat_seen), they pay one
 * load of a global (and kfree_skb of a SYN one read of skb->_nfct).
 *
 * The maps and nat_seen are __weak: the linked object has one copy.
 */
#ifndef SYNACCT_BPF_NAT_H
#define SYNACCT_BPF_NAT_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "../synacct.h"
#include "count.h"
#include "skb.h"

/* UAPI values (linux/netfilter/nf_conntrack_common.h, netfilter.h). */
#define SA_NFCT_INFOMASK	7UL
#define SA_IP_CT_NEW		2
#define SA_IPS_DST_NAT		(1UL << 5)
#define SA_NF_ACCEPT		1

/* A connection as its socket sees it: after NAT. */
struct sa_flow_key {
	__u8 laddr[16];
	__u8 raddr[16];
	__u16 lport;
	__u16 rport;
	__u32 family;		/* AF_INET or AF_INET6 */
};

/* Flows of NATed SYNs -> the port they arrived for.  LRU: flows whose
 * handshake never completes (listener drops, floods) age out. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SA_MAX_PORTS);
	__type(key, struct sa_flow_key);
	__type(value, __u32);
} nat_flows SEC(".maps") __weak;

/* Published port -> where NAT sends it, for the agent. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SA_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct sa_nat);
} nat_ports SEC(".maps") __weak;

/* Set once the first NATed SYN is seen: until then no handler looks. */
volatile __u32 nat_seen __weak;

/* The skb's conntrack entry, or NULL. */
static __always_inline struct nf_conn *skb_ct(struct sk_buff *skb)
{
	if (!bpf_core_type_exists(struct nf_conn))
		return NULL;
	/* @skb is a tracing program's typed argument: a plain load, not a
	 * probe read (this runs for every SYN a listener consumes). */
	return (struct nf_conn *)(skb->_nfct & ~SA_NFCT_INFOMASK);
}

/* The published port of a DNATed entry, or 0. */
static __always_inline __u16 ct_published_port(struct nf_conn *ct)
{
	if (!bpf_core_type_exists(struct nf_conn) || !ct ||
	    !(BPF_CORE_READ(ct, status) & SA_IPS_DST_NAT))
		return 0;
	return bpf_ntohs(BPF_CORE_READ(ct, tuplehash[0].tuple.dst.u.tcp.port));
}

/* The flow of an IPv4/IPv6 skb, from its (rewritten) headers. */
static __always_inline int skb_flow_key(struct sk_buff *skb, const struct syn_info *si,
					struct sa_flow_key *k)
{
	unsigned char *nh = BPF_CORE_READ(skb, head) + BPF_CORE_READ(skb, network_header);

	__builtin_memset(k, 0, sizeof(*k));
	k->lport = si->dport;
	k->rport = si->sport;
	if (si->family == 4) {
		k->family = SA_AF_INET;
		if (bpf_probe_read_kernel(k->raddr, 4, nh + 12) ||
		    bpf_probe_read_kernel(k->laddr, 4, nh + 16))
			return -1;
	} else {
		k->family = SA_AF_INET6;
		if (bpf_probe_read_kernel(k->raddr, 16, nh + 8) ||
		    bpf_probe_read_kernel(k->laddr, 16, nh + 24))
			return -1;
	}
	return 0;
}

/* Count @si under the port its SYN arrived for: from the skb's conntrack
 * entry while it has one, else from the flows learned at LOCAL_IN. */
static __always_inline void nat_unmap_skb(struct sk_buff *skb, struct syn_info *si)
{
	struct sa_flow_key k;
	__u32 *published;
	__u16 port;

	/* Dropped before LOCAL_IN's program saw it: no nat_seen yet. */
	port = ct_published_port(skb_ct(skb));
	if (port) {
		si->dport = port;
		return;
	}
	if (!nat_seen || skb_flow_key(skb, si, &k))
		return;
	published = bpf_map_lookup_elem(&nat_flows, &k);
	if (published)
		si->dport = *published;
}

/* The same for a request sock or a full socket (@req: rsk_ops says the
 * family; an IPv4 connection to an IPv6 listener has an IPv4 request
 * sock but an IPv6 child with a v4-mapped address).  @forget: the
 * handshake is over, drop the flow. */
static __always_inline __u32 nat_unmap_sk(const struct sock_common *skc, __u16 family,
					  __u32 port, bool forget)
{
	struct sa_flow_key k = {};
	__u32 *published, p;

	if (!nat_seen)
		return port;
	if (family == SA_AF_INET6) {
		BPF_CORE_READ_INTO(&k.raddr, skc, skc_v6_daddr);
		/* ::ffff:a.b.c.d */
		if (!*(__u64 *)k.raddr && *(__u32 *)&k.raddr[8] == bpf_htonl(0xffff))
			family = SA_AF_INET;
	}
	if (family == SA_AF_INET) {
		__builtin_memset(k.raddr, 0, sizeof(k.raddr));
		BPF_CORE_READ_INTO((__u32 *)k.raddr, skc, skc_daddr);
		BPF_CORE_READ_INTO((__u32 *)k.laddr, skc, skc_rcv_saddr);
	} else {
		BPF_CORE_READ_INTO(&k.laddr, skc, skc_v6_rcv_saddr);
	}
	k.family = family;
	k.lport = port;
	k.rport = bpf_ntohs(BPF_CORE_READ(skc, skc_dport));
	published = bpf_map_lookup_elem(&nat_flows, &k);
	if (!published)
		return port;
	p = *published;
	if (forget)
		bpf_map_delete_elem(&nat_flows, &k);
	return p;
}

/* The reply tuple of @ct: the connection as its server sees it. */
static __always_inline void ct_reply_key(struct nf_conn *ct, __u32 family,
					 struct sa_flow_key *k)
{
	struct nf_conntrack_tuple *reply = &ct->tuplehash[1].tuple;

	__builtin_memset(k, 0, sizeof(*k));
	k->family = family;
	BPF_CORE_READ_INTO(&k->laddr, reply, src.u3);
	BPF_CORE_READ_INTO(&k->raddr, reply, dst.u3);
	if (family == SA_AF_INET) {
		/* Only the first 4 bytes are the address. */
		__builtin_memset(&k->laddr[4], 0, 12);
		__builtin_memset(&k->raddr[4], 0, 12);
	}
	k->lport = bpf_ntohs(BPF_CORE_READ(reply, src.u.tcp.port));
	k->rport = bpf_ntohs(BPF_CORE_READ(reply, dst.u.tcp.port));
}

/* Where NAT sends @published, for the agent; written only when it
 * changed. */
static __always_inline void nat_record(__u32 published, const struct sa_flow_key *k)
{
	struct sa_nat nat = {}, *old;

	nat.to_port = k->lport;
	nat.family = k->family;
	__builtin_memcpy(nat.to_addr, k->laddr, sizeof(nat.to_addr));
	old = bpf_map_lookup_elem(&nat_ports, &published);
	if (!old || old->to_port != nat.to_port || old->family != nat.family ||
	    ((__u64 *)old->to_addr)[0] != ((__u64 *)nat.to_addr)[0] ||
	    ((__u64 *)old->to_addr)[1] != ((__u64 *)nat.to_addr)[1]) {
		if (bpf_map_update_elem(&nat_ports, &published, &nat, BPF_ANY))
			sa_count_update_failed(published);
		else
			sa_touch(published);
	}
}

#endif /* SYNACCT_BPF_NAT_H */
