/* SPDX-License-Identifier: GPL-2.0 */
/*
 * synack_drop.h - SYN-ACKs dropped after TC egress, counted where the
 * stack frees them (kfree_skb, kprobe/stack/drops.bpf.c) or a device refuses
 * them (net_dev_xmit, kprobe/stack/synack.bpf.c).  The map is __weak: the
 * linked object has one copy.
 */
#ifndef SYNACCT_BPF_SYNACK_DROP_H
#define SYNACCT_BPF_SYNACK_DROP_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "../synacct.h"
#include "count.h"
#include "skb.h"
#include "stack.h"
#include "synack.h"
#include "retries.h"

SA_DROP_MAP(synack_drops) __weak;

/*
 * A SYN-ACK that passed TC egress, freed before the device took it
 * (include/bpf/synack.h): count it by the listener's port and the kernel's reason.
 * On a veth the skb may already be in the peer's namespace (its backlog
 * was full), which is why it is recognised by its address and contents,
 * not by the namespace it is freed in.  A retransmission the stack has not
 * counted as sent yet is a failed one, unless tcp_retransmit_synack follows
 * on this CPU (synack_rtx_sent).
 */
static __always_inline void synack_count_drop(struct sa_synack_flight *f,
					      __u64 addr, __u32 reason)
{
	struct sa_synack_last *last;
	struct sa_drop_key key;
	__u32 zero = 0;
	__u64 *cnt;

	key.port = f->port;
	key.reason = reason;
	cnt = sa_drop_counter(&synack_drops, &key, SA_DROP_SYNACK);
	if (cnt)
		(*cnt)++;
	/* The client's next attempt, if any, follows a SYN-ACK lost here. */
	if (f->retry)
		sa_retry_fate(f->retry, SA_RETRY_SYNACK_DROPPED);
	if (f->retrans) {
		/* Still inside its send on its CPU (marked there, for
		 * tcp_retransmit_synack to take back), or never reported sent. */
		last = bpf_map_lookup_percpu_elem(&synack_last, &zero, f->cpu);
		/* + not |: the verifier allows no bitwise operation on an skb
		 * pointer; its low bit is clear. */
		if ((last && __sync_val_compare_and_swap(&last->skb, addr,
							 addr + SA_SYNACK_LAST_DROPPED) == addr) ||
		    !f->sent)
			STACK_INC(f->port, synack_retrans_failed);
	}
	sa_synack_forget(f, addr);
}

static __always_inline bool synack_dropped(struct sk_buff *skb, __u32 reason)
{
	struct sa_synack_flight *f;
	__u64 addr = (__u64)skb;
	struct syn_info si;

	/* A received skb (skb_iif is set on receive, zero until then) is
	 * not one of our SYN-ACKs on its way out: most drops are of those,
	 * and need no lookup.  A SYN-ACK of ours received by the peer's
	 * stack left us; whatever drops it there is the receiver's
	 * business. */
	if (skb->skb_iif)
		return false;
	f = sa_synack_find(addr);
	if (!f)
		return false;
	if (skb_tcp(skb, &si) || si.sport != f->port || si.seq != f->seq ||
	    (si.flags & (SA_TCP_SYN | SA_TCP_ACK)) != (SA_TCP_SYN | SA_TCP_ACK)) {
		/* Delivered, or another skb at a recycled address: the
		 * entry is stale. */
		sa_synack_forget(f, addr);
		return false;
	}
	synack_count_drop(f, addr, reason);
	return true;
}

#endif /* SYNACCT_BPF_SYNACK_DROP_H */
