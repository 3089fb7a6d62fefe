// SPDX-License-Identifier: GPL-2.0
/*
 * nat.bpf.c - NAT in the watched namespace: learn, at LOCAL_IN, the flow
 * of each SYN that DNAT or REDIRECT sent to this host and the port it
 * arrived for, which the other stack units look up to count it there
 * (include/bpf/nat.h says why).  Linked into the stack object.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "../../include/synacct.h"
#include "../../include/bpf/count.h"
#include "../../include/bpf/skb.h"
#include "../../include/bpf/watch.h"
#include "../../include/bpf/nat.h"

/*
 * LOCAL_IN, IPv4 and IPv6, last before conntrack confirms: SYNs that
 * DNAT or REDIRECT sent to this host, after every filter let them
 * through.  Cheapest test first: only a new, unanswered connection
 * (IP_CT_NEW) whose entry was DNATed goes further.
 */
SEC("netfilter")
int synacct_nat_in(struct bpf_nf_ctx *ctx)
{
	struct sk_buff *skb = ctx->skb;
	struct sa_flow_key k;
	struct syn_info si;
	struct nf_conn *ct;
	unsigned long nfct;
	__u32 published;

	if (!bpf_core_type_exists(struct nf_conn))
		return SA_NF_ACCEPT;
	/* A netfilter program's skb is a trusted pointer: a plain load, no
	 * helper call, on every packet. */
	nfct = skb->_nfct;
	if ((nfct & SA_NFCT_INFOMASK) != SA_IP_CT_NEW)
		return SA_NF_ACCEPT;
	ct = (struct nf_conn *)(nfct & ~SA_NFCT_INFOMASK);
	if (!(BPF_CORE_READ(ct, status) & SA_IPS_DST_NAT) ||
	    !watched(BPF_CORE_READ(skb, skb_iif)) ||
	    skb_tcp(skb, &si) || !is_syn(&si))
		return SA_NF_ACCEPT;

	published = bpf_ntohs(BPF_CORE_READ(ct, tuplehash[0].tuple.dst.u.tcp.port));
	ct_reply_key(ct, si.family == 4 ? SA_AF_INET : SA_AF_INET6, &k);
	/* Without its flow, the SYN's later events count under the port NAT
	 * sent it to: a count of the published port lost. */
	if (bpf_map_update_elem(&nat_flows, &k, &published, BPF_ANY))
		sa_count_update_failed(published);
	nat_record(published, &k);
	nat_seen = 1;
	return SA_NF_ACCEPT;
}

char LICENSE[] SEC("license") = "GPL";
