// SPDX-License-Identifier: GPL-2.0
/*
 * drops.bpf.c - SYNs the stack dropped before a socket took them, with
 * the kernel's reason (stack_drops); handshake ACKs a full accept queue
 * dropped; SYN-ACKs freed after TC egress (include/bpf/synack_drop.h).
 * One program, on skb:kfree_skb.  Linked into the stack object.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "../../include/synacct.h"
#include "../../include/bpf/count.h"
#include "../../include/bpf/skb.h"
#include "../../include/bpf/watch.h"
#include "../../include/bpf/mib.h"
#include "../../include/bpf/stack.h"
#include "../../include/bpf/rtx.h"
#include "../../include/bpf/nat.h"
#include "../../include/bpf/follow.h"
#include "../../include/bpf/synack_drop.h"
#include "../../include/bpf/retries.h"

/* sk_stream_kill_queues [start, end): where a closing stream socket's
 * queues are purged (0, 0: not known).  Set by the agent before load. */
const volatile __u64 stream_purge_start;
const volatile __u64 stream_purge_end;

SA_DROP_MAP(stack_drops);

/*
 * Drops that concern neither a SYN nor a listener, decided from the
 * tracepoint's arguments alone, before the skb is read: most drops on a
 * busy host are of established flows, and each read of a cold skb costs
 * more than the rest of the test (docs/performance.md).
 *
 * The reasons only a connection past its handshake gives, for segments
 * after the SYN: sequence and data checks (tcp_validate_incoming,
 * tcp_data_queue), which every SYN at such a socket leaves earlier, as
 * TCP_INVALID_SYN.  Never a SYN, never a SYN-ACK on its way out, never
 * with a listener's MIB counters moved since the last event (a child's
 * first segment moves them before the child exists, and its state change
 * moves the baseline: inet_sock_set_state).  Resolved against the running
 * kernel's enum: a reason it does not have is not compared.
 *
 * And sk_stream_kill_queues: a TCP socket's receive and error queues at its
 * end.  Data of an established connection; the one SYN that can be there
 * is a Fast Open SYN's clone, whose original the listener already took.
 */
#define SA_ESTABLISHED_REASONS(X)					\
	X(TCP_OLD_DATA) X(TCP_OLD_SEQUENCE) X(TCP_OVERWINDOW)		\
	X(TCP_ZEROWINDOW) X(TCP_OFOMERGE) X(TCP_OFO_DROP)		\
	X(TCP_OFO_QUEUE_PRUNE)

static __always_inline bool past_handshake(__u32 reason, void *location)
{
	__u64 loc = (__u64)location;

#define SA_REASON_IS(name)						\
	if (bpf_core_enum_value_exists(enum skb_drop_reason,		\
				       SKB_DROP_REASON_##name) &&		\
	    reason == bpf_core_enum_value(enum skb_drop_reason,		\
					  SKB_DROP_REASON_##name))	\
		return true;
	SA_ESTABLISHED_REASONS(SA_REASON_IS)
#undef SA_REASON_IS
	return loc >= stream_purge_start && loc < stream_purge_end;
}

/*
 * A copy of a SYN that a socket queued, freed with the socket's queue: a
 * Fast Open SYN's data sits in its child's receive queue as a clone of the
 * SYN (tcp_fastopen_add_skb), owned by the child, and goes when the child
 * does (tcp_disconnect of a child nobody accepted, sk_stream_kill_queues).
 * The SYN itself reached the listener and was counted there.  A SYN in
 * flight is owned by no socket, or by a listener (bpf_sk_assign, TPROXY)
 * or the TIME_WAIT or established socket early demux found: those are
 * counted.  Purges give QUEUE_PURGE, or NOT_SPECIFIED on kernels before it.
 */
static __always_inline bool queued_copy(struct sk_buff *skb, __u32 reason)
{
	struct sock *sk = skb->sk;
	int state;

	if (!sk)
		return false;
	if (bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_QUEUE_PURGE) ?
	    reason != bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_QUEUE_PURGE) :
	    reason != bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_NOT_SPECIFIED))
		return false;
	state = sk->__sk_common.skc_state;
	return state != TCP_LISTEN && state != TCP_NEW_SYN_RECV && state != TCP_TIME_WAIT;
}

/* A drop past_handshake did not rule out (kfree_skb below). */
static __noinline int kfree_skb_other(struct sk_buff *skb, __u32 reason)
{
	struct syn_info si;
	struct sa_drop_key key;
	__u64 d[SA_VMIB_N], *cnt;
	bool have_delta;
	struct net *net;
	__u32 iif;

	if (synack_dropped(skb, reason))
		return 0;
	/* Only received packets are ours to count, or move the MIB
	 * baseline: a SYN-ACK an output rule drops while its SYN is being
	 * processed must not take that SYN's delta (its SyncookiesSent).
	 * The per-CPU backlog drops what it receives before skb_iif is set
	 * (when the skb leaves the backlog): its device is where it came in. */
	iif = skb->skb_iif;
	if (!iif && bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_CPU_BACKLOG) &&
	    reason == bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_CPU_BACKLOG))
		iif = BPF_CORE_READ(skb, dev, ifindex);
	if (!iif || queued_copy(skb, reason))
		return 0;
	net = skb_net(skb);
	if (!in_netns(net)) {
		struct follow_base *b = follow_base_of(net);

		if (b)
			follow_free(b, skb);
		return 0;
	}
	if (skb_tcp(skb, &si))
		return 0;
	/* Drops may come with MIB updates (ListenOverflows on the ACK
	 * path): move the baseline, and see what moved. */
	have_delta = !mib_advance(net, d, false);
	if (!watched(iif))
		return 0;
	nat_unmap_skb(skb, &si);

	if (!is_syn(&si)) {
		/* A handshake ACK that found the accept queue full: the
		 * kernel frees it as TCP_LISTEN_OVERFLOW on the request sock
		 * path, but as NO_SOCKET on the SYN cookie path; both bump
		 * ListenOverflows on this CPU, which is what we go by. */
		if (!have_delta || !(si.flags & SA_TCP_ACK))
			return 0;
		if (d[SA_VMIB_OVERFLOWS])
			STACK_INC(si.dport, ack_dropped_accept_full);
		/* A cookie ACK validated, then dropped (accept queue full),
		 * or one whose cookie did not check out. */
		if (d[SA_VMIB_COOKIES_RECV])
			STACK_INC(si.dport, syncookies_recv);
		if (d[SA_VMIB_COOKIES_FAILED])
			STACK_INC(si.dport, syncookies_failed);
		return 0;
	}
	if (rtx_match(&si, si.dport, false)) {
		STACK_INC(si.dport, syn_to_request_sock);
		BEYOND_PARSER_INC(&si);
		return 0;
	}
	key.port = si.dport;
	key.reason = reason;
	cnt = sa_drop_counter(&stack_drops, &key, 0);
	if (cnt)
		(*cnt)++;
	BEYOND_PARSER_INC(&si);
	sa_retry_fate_skb(skb, &si, reason == bpf_core_enum_value(enum skb_drop_reason,
								  SKB_DROP_REASON_NETFILTER_DROP) ?
				    SA_RETRY_NETFILTER_DROP : SA_RETRY_STACK_DROP_OTHER);
	return 0;
}

/*
 * Most drops on a busy host are established flows' (past_handshake), in
 * process context with cold caches.  Their test and its return stay in
 * the program's first lines; the rest is a function of its own, whose
 * code would otherwise put the shared return a few kilobytes further, on
 * a cache line of its own (+170 ns per drop during bulk TCP).
 */
SEC("tp_btf/kfree_skb")
int BPF_PROG(synacct_kfree_skb, struct sk_buff *skb, void *location,
	     enum skb_drop_reason reason)	/* rx_sk (6.11+) not needed */
{
	if (past_handshake(reason, location))
		return 0;
	return kfree_skb_other(skb, reason);
}

char LICENSE[] SEC("license") = "GPL";
