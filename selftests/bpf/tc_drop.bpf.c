// SPDX-License-Identifier: GPL-2.0
/*
 * Another tool's TC ingress filter, for 15-options.t's tc mode: drops
 * (TC_ACT_SHOT) the IPv4 TCP SYNs from 198.19.0.0/16 (the lab's spoofed
 * sources) and leaves every other frame to the next filter
 * (TC_ACT_UNSPEC), as `tc filter ... u32 match ... action drop` would
 * (this kernel has no act_gact).  The kernel counts its drops on the
 * clsact qdisc (`tc -s qdisc show`).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int tc_drop(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct tcphdr *tcp = (void *)(ip + 1);

	if ((void *)(tcp + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->protocol != IPPROTO_TCP || ip->ihl != 5)
		return TC_ACT_UNSPEC;
	if ((ip->saddr & bpf_htonl(0xffff0000)) == bpf_htonl(0xc6130000) &&
	    tcp->syn && !tcp->ack)
		return TC_ACT_SHOT;
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";
