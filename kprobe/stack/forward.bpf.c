// SPDX-License-Identifier: GPL-2.0
/*
 * forward.bpf.c - SYNs the watched namespace routes onward (to a
 * container's veth, a bridge, another host): an outcome, not a loss.
 * Linked into the stack object.
 *
 * A netfilter program at FORWARD, IPv4 and IPv6, late (after the filter
 * chains: a SYN a FORWARD rule drops is a kfree_skb with its reason, not
 * forwarded) counts `forwarded` under the port the client asked for (the
 * conntrack entry's original destination when DNAT applied), remembers
 * the output interface and, with DNAT, the destination; and counts the
 * SYN-ACKs the server sends back through the namespace out of a watched
 * interface (`synack_forwarded`), which TC egress counts in synack_sent.
 * The hook runs only for forwarded packets; cheapest test first.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "../../include/synacct.h"
#include "../../include/bpf/count.h"
#include "../../include/bpf/skb.h"
#include "../../include/bpf/watch.h"
#include "../../include/bpf/stack.h"
#include "../../include/bpf/nat.h"
#include "../../include/bpf/follow.h"

#define SA_IP_CT_ESTABLISHED_REPLY	3
#define SA_IPS_ASSURED			(1UL << 2)

/* Published port -> output interface of its last forwarded SYN. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SA_MAX_PORTS);
	__type(key, __u32);
	__type(value, __u32);
} fwd_ifindex SEC(".maps");

static __always_inline void fwd_syn(struct sk_buff *skb, const struct nf_hook_state *state,
				    struct nf_conn *ct, const struct syn_info *si)
{
	struct sa_stack_counters *c;
	struct sa_flow_key k;
	__u32 port = si->dport, out, *old;

	if (!watched(BPF_CORE_READ(skb, skb_iif)))
		return;
	if (bpf_core_type_exists(struct nf_conn) && ct &&
	    (BPF_CORE_READ(ct, status) & SA_IPS_DST_NAT)) {
		port = bpf_ntohs(BPF_CORE_READ(ct, tuplehash[0].tuple.dst.u.tcp.port));
		ct_reply_key(ct, si->family == 4 ? SA_AF_INET : SA_AF_INET6, &k);
		nat_record(port, &k);
	}
	c = sa_slot_counters(stack_counters, port, struct sa_stack_counters);
	if (c) {
		c->forwarded++;
		if (si->beyond_parser)
			c->syn_beyond_parser++;
	}
	follow_learn(skb, si, port);
	out = BPF_CORE_READ(state, out, ifindex);
	old = bpf_map_lookup_elem(&fwd_ifindex, &port);
	if (!old || *old != out) {
		if (bpf_map_update_elem(&fwd_ifindex, &port, &out, BPF_ANY))
			sa_count_update_failed(port);
		else
			sa_touch(port);
	}
}

static __always_inline void fwd_synack(const struct nf_hook_state *state,
				       struct nf_conn *ct, const struct syn_info *si)
{
	struct sa_stack_counters *c;
	__u32 port = si->sport;

	/* Only those TC egress will count. */
	if (!watched(BPF_CORE_READ(state, out, ifindex)))
		return;
	if (bpf_core_type_exists(struct nf_conn) && ct &&
	    (BPF_CORE_READ(ct, status) & SA_IPS_DST_NAT))
		port = bpf_ntohs(BPF_CORE_READ(ct, tuplehash[0].tuple.dst.u.tcp.port));
	c = sa_slot_counters(stack_counters, port, struct sa_stack_counters);
	if (c)
		c->synack_forwarded++;
}

SEC("netfilter")
int synacct_forward(struct bpf_nf_ctx *ctx)
{
	struct sk_buff *skb = ctx->skb;
	struct nf_conn *ct = NULL;
	unsigned long nfct;
	struct syn_info si;
	__u32 ctinfo;

	/* A netfilter program's skb is a trusted pointer: a plain load, no
	 * helper call, on every packet. */
	nfct = skb->_nfct;
	ctinfo = nfct & SA_NFCT_INFOMASK;
	if (nfct && bpf_core_type_exists(struct nf_conn)) {
		/* With conntrack: only a connection's first packets (not
		 * yet answered) and its answers before the handshake ends. */
		if (ctinfo != SA_IP_CT_NEW && ctinfo != SA_IP_CT_ESTABLISHED_REPLY)
			return SA_NF_ACCEPT;
		ct = (struct nf_conn *)(nfct & ~SA_NFCT_INFOMASK);
		if (ctinfo == SA_IP_CT_ESTABLISHED_REPLY &&
		    (BPF_CORE_READ(ct, status) & SA_IPS_ASSURED))
			return SA_NF_ACCEPT;
	}
	if (skb_tcp(skb, &si))
		return SA_NF_ACCEPT;
	if (is_syn(&si))
		fwd_syn(skb, ctx->state, ct, &si);
	else if ((si.flags & (SA_TCP_SYN | SA_TCP_ACK)) == (SA_TCP_SYN | SA_TCP_ACK))
		fwd_synack(ctx->state, ct, &si);
	return SA_NF_ACCEPT;
}

char LICENSE[] SEC("license") = "GPL";
