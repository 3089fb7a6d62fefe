/* SPDX-License-Identifier: GPL-2.0 */
/*
 * synack.h - SYN-ACKs between TC egress and the wire, shared by the TC
 * object (which sees them leave) and the stack object (which sees them
 * freed).  The agent loads tc.bpf.c first and hands these two maps to
 * the stack object (bpf_map__reuse_fd), so both objects use the same
 * ones.  They are __weak: the stack object's units that include this
 * header share one copy when linked.
 *
 * After TC egress a SYN-ACK can still be dropped: by the qdisc, by the
 * device, or, on a veth, by the peer's backlog or ring.  The listener does
 * not know of a first SYN-ACK lost there; a retransmission dropped before
 * dev_queue_xmit returns is a failed retransmission (no TCPSynRetrans, no
 * tcp_retransmit_synack), one dropped later was counted as sent.
 */
#ifndef SYNACCT_SYNACK_H
#define SYNACCT_SYNACK_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* One SYN-ACK in flight, keyed by its skb's address: the skb is the same
 * from TC egress to the driver (on a veth, into the peer's backlog). */
struct sa_synack_flight {
	__u64 skb;		/* 0: a free slot */
	__u64 since;		/* when it passed TC egress (coarse ns) */
	__u32 port;		/* source port: the listener's */
	__u32 seq;		/* its sequence number, to recognise the skb */
	__u8 retrans;		/* not the request sock's first SYN-ACK */
	__u8 sent;		/* the stack counted this retransmission */
	__u16 cpu;		/* where it passed TC egress: its synack_last */
	__u64 retry;		/* its SYN's hash in the retry table (retries.h) */
};

/*
 * A fixed table of buckets, each holding a few SYN-ACKs, indexed by a hash
 * of the skb's address: no hash map update on the way out (an LRU hash
 * update and delete cost about 250 ns per SYN-ACK), only an array lookup
 * and a compare-and-swap.  A SYN-ACK spends microseconds here, or as long
 * as a qdisc holds it; an entry older than SA_SYNACK_STALE_NS left by a
 * path no hook sees and is reused.  A bucket whose every slot is younger
 * than that is a count that cannot be kept: update_failed, said out loud.
 */
#define SA_SYNACK_BUCKET_BITS 12
#define SA_SYNACK_BUCKETS (1 << SA_SYNACK_BUCKET_BITS)
#define SA_SYNACK_WAYS 4
#define SA_SYNACK_STALE_NS 2000000000ULL

struct sa_synack_bucket {
	struct sa_synack_flight slot[SA_SYNACK_WAYS];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SA_SYNACK_BUCKETS);
	__type(key, __u32);
	__type(value, struct sa_synack_bucket);
} synack_flight SEC(".maps") __weak;

static __always_inline struct sa_synack_bucket *sa_synack_bucket(__u64 addr)
{
	/* The verifier lets no arithmetic touch an skb pointer (a TC
	 * context, a BTF pointer), but a privileged program may copy its
	 * low half into a number (a 32-bit move), and that is all a bucket
	 * index needs.  A probe read of the whole value cost more than the
	 * rest of the record (22 ns of a SYN-ACK's 57 at TC egress). */
	__u32 lo = (__u32)addr;
	/* Fibonacci hashing: skbs come from one slab, at addresses a
	 * multiple of the object size apart. */
	__u32 i = (lo * 0x9E3779B9U) >> (32 - SA_SYNACK_BUCKET_BITS);

	return bpf_map_lookup_elem(&synack_flight, &i);
}

/* The entry for the SYN-ACK at @addr, or NULL. */
static __always_inline struct sa_synack_flight *sa_synack_find(__u64 addr)
{
	struct sa_synack_bucket *b = sa_synack_bucket(addr);

	if (!b)
		return NULL;
	for (int i = 0; i < SA_SYNACK_WAYS; i++)
		if (b->slot[i].skb == addr)
			return &b->slot[i];
	return NULL;
}

/* Free @f, if it still holds @addr. */
static __always_inline void sa_synack_forget(struct sa_synack_flight *f,
					     __u64 addr)
{
	__sync_val_compare_and_swap(&f->skb, addr, 0);
}

/* The last retransmitted SYN-ACK to pass TC egress on this CPU.  TC egress
 * runs inside the retransmission's dev_queue_xmit, so when
 * tcp_retransmit_synack fires on this CPU for the same request sock, this
 * is the SYN-ACK it speaks of.  A drop on any CPU before that counts it
 * as a failed retransmission and sets the address's low bit (skbs are
 * aligned), in one compare-and-swap: tcp_retransmit_synack, if it still
 * fires, takes the failure back.  The qdisc may be run, and the SYN-ACK
 * dropped (a veth peer's backlog), by another CPU. */
#define SA_SYNACK_LAST_DROPPED 1ULL

struct sa_synack_last {
	__u64 skb;		/* | SA_SYNACK_LAST_DROPPED */
	__u32 port;
	__u32 seq;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sa_synack_last);
} synack_last SEC(".maps") __weak;

#endif /* SYNACCT_SYNACK_H */
