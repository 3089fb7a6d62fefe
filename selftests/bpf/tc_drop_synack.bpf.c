// SPDX-License-Identifier: GPL-2.0
/* A TC filter that drops every IPv4 SYN-ACK (no VLAN, no IP options),
 * for the test of client retries after SYN-ACKs dropped after synacct's
 * TC egress filter: this kernel has no gact or flower for tc to do it. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("tc")
int drop_synack(struct __sk_buff *skb)
{
	__u8 proto, flags;

	if (skb->protocol != bpf_htons(ETH_P_IP) ||
	    bpf_skb_load_bytes(skb, ETH_HLEN + 9, &proto, 1) || proto != 6 ||
	    bpf_skb_load_bytes(skb, ETH_HLEN + 20 + 13, &flags, 1))
		return TC_ACT_UNSPEC;
	return (flags & 0x12) == 0x12 ? TC_ACT_SHOT : TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";
