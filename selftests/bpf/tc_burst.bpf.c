// SPDX-License-Identifier: GPL-2.0
/*
 * A burst into the receiving CPU's backlog, for stage 0's lab test
 * (selftests/t/64-driver.t).  On TC egress of a veth, each IPv4 TCP SYN
 * goes out BURST_COPIES more times (bpf_clone_redirect to the same
 * device); every other frame passes alone.  TC egress runs with bottom
 * halves off, so the copies reach the peer's netif_rx one after another
 * with nothing draining the backlog between them: with
 * net.core.netdev_max_backlog below the burst, the kernel drops the rest
 * there (softnet_stat dropped, the peer's rx_dropped).  The copies carry
 * a mark and pass untouched (the program sees them too).
 *
 * A redirected skb keeps skb->redirected across the veth, and generic
 * XDP passes such skbs unseen (netif_receive_generic_xdp): the test runs
 * synacct with --no-xdp, TC ingress being the first hook that counts.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define BURST_COPIES	15
#define BURST_MARK	0x5a0b

SEC("tc")
int tc_burst(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct tcphdr *tcp;

	if (skb->mark == BURST_MARK || (void *)(ip + 1) > end ||
	    eth->h_proto != bpf_htons(ETH_P_IP) || ip->protocol != IPPROTO_TCP ||
	    ip->ihl != 5)
		return TC_ACT_OK;
	tcp = (void *)(ip + 1);
	if ((void *)(tcp + 1) > end || !tcp->syn || tcp->ack)
		return TC_ACT_OK;
	skb->mark = BURST_MARK;
	for (int i = 0; i < BURST_COPIES; i++)
		bpf_clone_redirect(skb, skb->ifindex, 0);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
