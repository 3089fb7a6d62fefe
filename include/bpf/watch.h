/* SPDX-License-Identifier: GPL-2.0 */
/*
 * watch.h - which events are the watched namespace's and interfaces'.
 * Tracepoints are global: every stack unit filters on the namespace
 * (net_cookie) and, where the skb tells it, on the watched interfaces.
 *
 * The globals are __weak: every unit that includes this header defines
 * them, and libbpf's linker keeps one copy in the linked object.
 */
#ifndef SYNACCT_BPF_WATCH_H
#define SYNACCT_BPF_WATCH_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "../synacct.h"

/* Set by the agent before load. */
const volatile __u64 netns_cookie __weak;
const volatile __u32 watched_ifindex[SA_MAX_IFACES] __weak;
const volatile __u32 n_watched __weak;

/* The watched namespace's struct net, learned from the first event in it.
 * The agent holds a reference to that namespace (it runs in it) for as
 * long as these programs run, so its struct net cannot be freed and its
 * address cannot be reused: once it is known, a namespace is the watched
 * one exactly when its address is this one, with no read at all. */
__u64 watched_net __weak;
/* Its loopback device: the device of every local input route in it
 * (ip_route_input_slow), which cannot move to another namespace. */
__u64 watched_lo __weak;

static __always_inline bool watched(__u32 ifindex)
{
	for (int i = 0; i < SA_MAX_IFACES; i++) {
		if (i >= n_watched)
			break;
		if (watched_ifindex[i] == ifindex)
			return true;
	}
	return false;
}

/* @net may come from a probe read (not a BTF pointer): read it the same way. */
static __always_inline bool in_netns(struct net *net)
{
	__u64 addr = (__u64)net;

	if (watched_net)
		return addr == watched_net;
	if (!net || BPF_CORE_READ(net, net_cookie) != netns_cookie)
		return false;
	watched_lo = (__u64)BPF_CORE_READ(net, loopback_dev);
	watched_net = addr;
	return true;
}

/* The namespace an input skb is in.  By the time TCP consumes a SYN,
 * skb->dev is gone (the field is reused), but the input route is still
 * attached, and its device (loopback for local delivery) is in the same
 * namespace; unless the SYN went through the listener's backlog (below).
 * @skb is a tracing program's typed argument. */
static __always_inline struct net *skb_net(struct sk_buff *skb)
{
	struct net_device *dev = skb->dev;
	unsigned long refdst;
	struct dst_entry *dst;

	if (dev)
		return dev->nd_net.net;
	refdst = skb->_skb_refdst & ~1UL;	/* SKB_DST_NOREF */
	if (!refdst) {
		/* A segment that waited in its socket's backlog while a task
		 * owned the socket (an accept(), synacct's own iterator): TCP
		 * dropped its route there (tcp_add_backlog), and that task
		 * processes the backlog at release_sock, in its own context:
		 * the socket's namespace is the task's. */
		struct task_struct *task = bpf_get_current_task_btf();

		return BPF_CORE_READ(task, nsproxy, net_ns);
	}
	dst = (struct dst_entry *)refdst;
	dev = BPF_CORE_READ(dst, dev);
	/* A local route of the watched namespace: no second read. */
	if (watched_lo && (__u64)dev == watched_lo)
		return (struct net *)watched_net;
	return BPF_CORE_READ(dev, nd_net.net);
}

#endif /* SYNACCT_BPF_WATCH_H */
