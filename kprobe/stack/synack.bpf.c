// SPDX-License-Identifier: GPL-2.0
/*
 * synack.bpf.c - SYN-ACKs after TC egress: retransmissions
 * (synack_retrans, and the failed ones: synack_retrans_failed), and the
 * device taking or refusing the ones TC egress saw leave
 * (include/bpf/synack.h, synack_drop.h).  Linked into the stack object.
 *
 *   tcp:tcp_retransmit_synack  SYN-ACK retransmissions
 *   net:net_dev_xmit           the device took a tracked SYN-ACK
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "../../include/synacct.h"
#include "../../include/bpf/count.h"
#include "../../include/bpf/watch.h"
#include "../../include/bpf/stack.h"
#include "../../include/bpf/rtx.h"
#include "../../include/bpf/nat.h"
#include "../../include/bpf/follow.h"
#include "../../include/bpf/synack.h"
#include "../../include/bpf/synack_drop.h"

/* tcp_retransmit_synack: the retransmission on this CPU went out, as far
 * as the stack knows.  If it was dropped after TC egress already, that
 * drop was not a failure after all; if not, a later drop will not be. */
static __always_inline void synack_rtx_sent(const struct request_sock *req,
					    __u32 port)
{
	struct sa_synack_last *last;
	struct sa_synack_flight *f;
	struct sa_stack_counters *c;
	__u32 zero = 0;
	__u64 skb;

	last = bpf_map_lookup_elem(&synack_last, &zero);
	if (!last || !last->skb || last->port != port ||
	    last->seq != BPF_CORE_READ((struct tcp_request_sock *)req, snt_isn))
		return;
	/* Sent before the record goes: a drop on another CPU that finds
	 * the record unmarked then sees it sent. */
	skb = last->skb;
	if (!(skb & SA_SYNACK_LAST_DROPPED)) {
		f = sa_synack_find(skb);
		if (f)
			f->sent = 1;
	}
	skb = __sync_lock_test_and_set(&last->skb, 0);
	if (skb & SA_SYNACK_LAST_DROPPED) {
		/* The failure may have been counted on another CPU: this
		 * CPU's copy may go below zero, the sum is what counts. */
		c = sa_slot_lookup(stack_counters, port, struct sa_stack_counters);
		if (c) {
			sa_touch(port);
			c->synack_retrans_failed--;
		}
	}
}

SEC("tp_btf/tcp_retransmit_synack")
int BPF_PROG(synacct_synack_retrans, const struct sock *sk,
	     const struct request_sock *req)
{
	struct net *net = BPF_CORE_READ(sk, __sk_common.skc_net.net);
	__u32 port;

	if (!in_netns(net)) {
		if (follow_base_of(net))
			follow_synack_retrans(req);
		return 0;
	}
	port = BPF_CORE_READ(req, __req_common.skc_num);
	port = nat_unmap_sk(&req->__req_common, BPF_CORE_READ(req, rsk_ops, family),
			    port, false);
	STACK_INC(port, synack_retrans);
	synack_rtx_sent(req, port);

	rtx_mark_set(BPF_CORE_READ((struct tcp_request_sock *)req, rcv_isn), port, false);
	return 0;
}

/* A watched device took an skb (or refused it, rc NET_XMIT_DROP): a
 * tracked SYN-ACK's way through this host ends here.  NETDEV_TX_BUSY
 * means it goes back to the qdisc, still ours. */
SEC("tp_btf/net_dev_xmit")
int BPF_PROG(synacct_dev_xmit, struct sk_buff *skb, int rc,
	     struct net_device *dev, unsigned int len)
{
	struct sa_synack_flight *f;
	__u64 addr = (__u64)skb;
	struct sock *sk = skb->sk;

	/* Most of what a device sends belongs to a connection past its
	 * handshake (data, ACKs), which sends no SYN-ACK: a SYN-ACK's skb
	 * has no socket (a cookie), its request sock, or a Fast Open or
	 * simultaneous-open child in SYN_RECV (tcp_make_synack). */
	if (sk && sk->__sk_common.skc_state != TCP_NEW_SYN_RECV &&
	    sk->__sk_common.skc_state != TCP_SYN_RECV)
		return 0;
	if (rc == NETDEV_TX_BUSY || !watched(dev->ifindex) ||
	    !in_netns(dev->nd_net.net))
		return 0;
	f = sa_synack_find(addr);
	if (!f)
		return 0;
	/* Refused, and not freed through kfree_skb (that would have
	 * counted it and ended the record): a driver that frees what it
	 * refuses as consumed. */
	if (rc != NETDEV_TX_OK)
		synack_count_drop(f, addr, SA_REASON_XMIT_DROP);
	else
		sa_synack_forget(f, addr);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
