/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rtx.h - a retransmitted SYN that its request sock answered.  A client's
 * retransmitted SYN that finds its request sock makes the kernel
 * retransmit the SYN-ACK while it processes that SYN (tcp_check_req); the
 * SYN is then freed or consumed, not taken by the listener.
 * tcp_retransmit_synack marks it on this CPU (kprobe/stack/synack.bpf.c, and
 * follow.h in a followed namespace); the free or consume that follows
 * checks the mark (syn_to_request_sock).  The map is __weak: the linked
 * object has one copy.
 */
#ifndef SYNACCT_BPF_RTX_H
#define SYNACCT_BPF_RTX_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "skb.h"

/* The last SYN-ACK retransmission on this CPU. */
struct rtx_mark {
	__u32 isn;
	__u32 port;
	__u32 pending;
	__u32 follow;		/* in a followed namespace (follow.h) */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rtx_mark);
} rtx_mark SEC(".maps") __weak;

/* Mark a SYN-ACK retransmission of the request sock whose client's ISN
 * is @isn, counted under @port.  Only a retransmission inside packet
 * processing (softirq receiving a SYN) can belong to a SYN; a timer's
 * mark is cleared by the next consume or free that checks it. */
static __always_inline void rtx_mark_set(__u32 isn, __u32 port, bool follow)
{
	struct rtx_mark *m;
	__u32 zero = 0;

	m = bpf_map_lookup_elem(&rtx_mark, &zero);
	if (m) {
		m->isn = isn;
		m->port = port;
		m->follow = follow;
		m->pending = 1;
	}
}

/* Was this SYN (counted under @port) a retransmission that its request
 * sock answered?  @follow: in a followed namespace. */
static __always_inline bool rtx_match(const struct syn_info *si, __u32 port, bool follow)
{
	struct rtx_mark *m;
	__u32 zero = 0;

	m = bpf_map_lookup_elem(&rtx_mark, &zero);
	if (!m || !m->pending)
		return false;
	m->pending = 0;
	return m->port == port && m->isn == si->seq && m->follow == follow;
}

/* Is a SYN-ACK retransmission waiting for its SYN on this CPU? */
static __always_inline bool rtx_pending(void)
{
	struct rtx_mark *m;
	__u32 zero = 0;

	m = bpf_map_lookup_elem(&rtx_mark, &zero);
	return m && m->pending;
}

#endif /* SYNACCT_BPF_RTX_H */
