/* SPDX-License-Identifier: GPL-2.0 */
/*
 * synack.h - SYN-ACKs between TC egress and the wire, shared by the TC
 * object (which sees them leave) and the stack object (which sees them
 * freed).  The agent loads tc.bpf.c first and hands these two maps to
 * stack.bpf.c (bpf_map__reuse_fd), so both objects use the same ones.
 *
 * After TC egress a SYN-ACK can still be dropped: by the qdisc, by the
 * device, or, on a veth, by the peer's backlog or ring.  The listener does
 * not know of a first SYN-ACK lost there; a retransmission dropped before
 * dev_queue_xmit returns is a failed retransmission (no TCPSynRetrans, no
 * tcp_retransmit_synack), one dropped later was counted as sent.
 */
#ifndef SYNACCT_SYNACK_H
#define SYNACCT_SYNACK_H

/* One SYN-ACK in flight, keyed by its skb's address: the skb is the same
 * from TC egress to the driver (on a veth, into the peer's backlog). */
struct sa_synack_flight {
	__u32 port;		/* source port: the listener's */
	__u32 seq;		/* its sequence number, to recognise the skb */
	__u8 retrans;		/* not the request sock's first SYN-ACK */
	__u8 sent;		/* the stack counted this retransmission */
};

/* Enough for every SYN-ACK a qdisc can hold; a stale entry (an skb that
 * left by a path we do not see) is evicted, and never matches another
 * SYN-ACK's skb: the port and sequence number must match too. */
#define SA_SYNACK_FLIGHT_ENTRIES 16384

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SA_SYNACK_FLIGHT_ENTRIES);
	__type(key, __u64);
	__type(value, struct sa_synack_flight);
} synack_flight SEC(".maps");

/* The last retransmitted SYN-ACK to pass TC egress on this CPU.  TC egress
 * runs inside the retransmission's dev_queue_xmit, so when
 * tcp_retransmit_synack fires on this CPU for the same request sock, this
 * is the SYN-ACK it speaks of. */
struct sa_synack_last {
	__u64 skb;
	__u32 port;
	__u32 seq;
	__u32 dropped;		/* counted as a failed retransmission */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sa_synack_last);
} synack_last SEC(".maps");

#endif /* SYNACCT_SYNACK_H */
