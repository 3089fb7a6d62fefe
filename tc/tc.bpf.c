// SPDX-License-Identifier: GPL-2.0
/*
 * tc.bpf.c - stage 2 of a SYN's path: TC clsact, after XDP.
 *
 * Ingress counts SYNs per destination port with the same parser as XDP,
 * so nic_syn - tc_syn is exactly what was lost between the two hooks.
 * Egress counts SYN-ACKs per source port: every SYN-ACK the stack sends,
 * queued, cookie or retransmitted.
 *
 * Both return TC_ACT_UNSPEC: the verdict is left to whatever filter comes
 * next, so synacct never changes what other tools' filters do.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "../include/synacct.h"
#include "../include/bpf/parse.h"
#include "../include/bpf/count.h"

#define SA_TC_ACT_UNSPEC (-1)
/* Enough linear bytes for two VLAN tags, IPv6 with extension headers and
 * a TCP header with options. */
#define SA_PULL_LEN 256

SA_SLOT_MAPS(tc_counters, struct sa_tc_counters);
SA_PARSE_MAP(parse_counters);

/* Parse @skb; pull headers into the linear area first if they are not
 * there (the parser needs direct packet access). */
static __always_inline int sa_parse_skb(struct __sk_buff *skb,
					struct sa_pkt *pkt)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u32 linear = data_end - data;
	int ret;

	ret = sa_parse(data, data_end, pkt);
	if (ret != SA_PARSE_BAD || linear >= skb->len || linear >= SA_PULL_LEN)
		return ret;

	if (bpf_skb_pull_data(skb, skb->len < SA_PULL_LEN ? skb->len : SA_PULL_LEN))
		return SA_PARSE_BAD;
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	return sa_parse(data, data_end, pkt);
}

SEC("tc")
int synacct_tc_in(struct __sk_buff *skb)
{
	struct sa_tc_counters *c;
	struct sa_pkt pkt = {};
	int ret;

	ret = sa_parse_skb(skb, &pkt);
	if (ret == SA_PARSE_BAD) {
		sa_count_unparsed(&parse_counters);
		return SA_TC_ACT_UNSPEC;
	}
	if (ret != SA_PARSE_TCP || !sa_is_syn(&pkt))
		return SA_TC_ACT_UNSPEC;

	c = sa_slot_counters(tc_counters, pkt.dport, struct sa_tc_counters);
	if (c)
		c->tc_syn++;
	return SA_TC_ACT_UNSPEC;
}

SEC("tc")
int synacct_tc_eg(struct __sk_buff *skb)
{
	struct sa_tc_counters *c;
	struct sa_pkt pkt = {};

	/* Egress frames are ours: unparsable ones are not worth a counter. */
	if (sa_parse_skb(skb, &pkt) != SA_PARSE_TCP || !sa_is_synack(&pkt))
		return SA_TC_ACT_UNSPEC;

	c = sa_slot_counters(tc_counters, pkt.sport, struct sa_tc_counters);
	if (c)
		c->synack_sent++;
	return SA_TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";
