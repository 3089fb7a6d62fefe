/* SPDX-License-Identifier: GPL-2.0 */
/*
 * follow.h - the listener stage of forwarded SYNs, in the namespace they
 * were forwarded to (a container's).  It has no program of its own: the
 * stack's programs see every namespace's events and call these for the
 * followed ones.  They are inline, not a linked unit's functions: as
 * separate subprograms their stack frames add to their callers' (736
 * bytes from kfree_skb, over the verifier's 512), where inlined the
 * compiler shares one frame between the two namespaces' paths.
 *
 * Which SYNs: by flow, not by device.  FORWARD (kprobe/stack/forward.bpf.c)
 * records each forwarded SYN's destination after DNAT, its port and its
 * sequence number (the client's ISN, which no NAT rewrites) -> the port
 * the client asked for, in follow_flows.  A SYN consumed, or freed, in a
 * followed namespace whose flow is there is a followed SYN; so is a
 * handshake ACK (sequence ISN + 1) and a child socket (rcv_nxt - 1 = ISN
 * when it turns ESTABLISHED: the ACK's data is queued after the state
 * change).  Source NAT towards the container (masquerade) changes neither.
 *
 * The verdict: as in the watched namespace (mib.h), from the per-CPU MIB
 * deltas around the SYN; each followed namespace keeps its own per-CPU
 * baselines (follow_ns, keyed by its struct net), moved by every event in
 * it.  The agent enters each namespace it follows and closes a socket
 * there with the namespace's cookie in follow_ctl (a map, not a global:
 * programs a pinned synacct left keep their own globals), which creates
 * the entry and primes the baselines: only namespaces the agent chose are
 * followed, at most SA_MAX_FOLLOW.  Entries carry the namespace's cookie,
 * checked on every use: a struct net address reused after a namespace is
 * gone is not mistaken for it.  Ports name their namespace by cookie too,
 * which a restarted agent can find again.
 *
 * The maps and globals are __weak: the linked object has one copy.
 */
#ifndef SYNACCT_BPF_FOLLOW_H
#define SYNACCT_BPF_FOLLOW_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "../synacct.h"
#include "count.h"
#include "skb.h"
#include "mib.h"
#include "rtx.h"

/* Set by the agent before load: follow forwarded SYNs (not --no-follow). */
const volatile __u32 follow_on __weak;

/* A followed namespace: its cookie, its MIB pointer, this CPU's
 * baseline. */
struct follow_base {
	__u64 cookie;
	__u64 mib;
	struct sa_mib_baseline base;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, SA_MAX_FOLLOW);
	__type(key, __u64);		/* struct net address */
	__type(value, struct follow_base);
} follow_ns SEC(".maps") __weak;

/* Set once the first namespace is followed: until then no handler looks. */
volatile __u32 follow_active __weak;

/* This CPU's baseline of a followed namespace, or NULL. */
static __always_inline struct follow_base *follow_base_of(struct net *net)
{
	__u64 addr = (__u64)net;
	struct follow_base *b;

	if (!follow_active)
		return NULL;
	b = bpf_map_lookup_elem(&follow_ns, &addr);
	if (!b || b->cookie != BPF_CORE_READ(net, net_cookie))
		return NULL;
	return b;
}

/* A forwarded SYN as its server sees it, whatever NAT did to the client's
 * address and port. */
struct sa_follow_key {
	__u8 laddr[16];		/* IPv4 in the first 4 */
	__u32 isn;
	__u16 lport;
	__u16 family;		/* AF_INET or AF_INET6 */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SA_MAX_PORTS);
	__type(key, struct sa_follow_key);
	__type(value, __u32);
} follow_flows SEC(".maps") __weak;

/* Published port -> cookie of the namespace its SYNs last reached. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SA_MAX_PORTS);
	__type(key, __u32);
	__type(value, __u64);
} follow_port_ns SEC(".maps") __weak;

/* The cookie of the namespace the agent is priming, 0: none. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} follow_ctl SEC(".maps") __weak;

SA_PORT_MAP(container_counters, struct sa_container_counters);

#define CT_INC(port, field) do {					\
	struct sa_container_counters *__c = sa_port_counters(container_counters, \
				(port), struct sa_container_counters);	\
	if (__c)							\
		__c->field++;						\
} while (0)

/* The flow of an skb that skb_tcp() parsed into @si, as its server sees
 * it: its destination, and @isn (its SYN's sequence). */
static __always_inline int follow_key_skb(struct sk_buff *skb, const struct syn_info *si,
					  __u32 isn, struct sa_follow_key *k)
{
	unsigned char *nh = skb->head + skb->network_header;

	__builtin_memset(k, 0, sizeof(*k));
	k->family = si->family == 4 ? SA_AF_INET : SA_AF_INET6;
	k->lport = si->dport;
	k->isn = isn;
	return bpf_probe_read_kernel(k->laddr, si->family == 4 ? 4 : 16,
				     nh + (si->family == 4 ? 16 : 24));
}

/* FORWARD: remember a SYN the watched namespace routes onward, counted
 * under @published. */
static __always_inline void follow_learn(struct sk_buff *skb, const struct syn_info *si,
			   __u32 published)
{
	struct sa_follow_key k;

	/* Without its flow, the SYN is not seen where it went. */
	if (follow_on && !follow_key_skb(skb, si, si->seq, &k) &&
	    bpf_map_update_elem(&follow_flows, &k, &published, BPF_ANY))
		sa_count_update_failed(published);
}

/* The published port of a followed skb (@isn: its SYN's sequence), 0 if
 * it is not one. */
static __always_inline __u32 follow_port_skb(struct sk_buff *skb, const struct syn_info *si,
					     __u32 isn)
{
	struct sa_follow_key k;
	__u32 *published;

	if (follow_key_skb(skb, si, isn, &k))
		return 0;
	published = bpf_map_lookup_elem(&follow_flows, &k);
	return published ? *published : 0;
}

/* The same for a request sock or socket: local address and port, and the
 * client's ISN. */
static __always_inline __u32 follow_port_sk(const struct sock_common *skc, __u16 family,
					    __u32 isn, bool forget)
{
	struct sa_follow_key k = {};
	__u32 *published, p;

	if (family == SA_AF_INET6) {
		BPF_CORE_READ_INTO(&k.laddr, skc, skc_v6_rcv_saddr);
		/* ::ffff:a.b.c.d, an IPv4 client of an IPv6 socket */
		if (!*(__u64 *)k.laddr && *(__u32 *)&k.laddr[8] == bpf_htonl(0xffff)) {
			__builtin_memset(k.laddr, 0, sizeof(k.laddr));
			family = SA_AF_INET;
		}
	}
	if (family == SA_AF_INET)
		BPF_CORE_READ_INTO((__u32 *)k.laddr, skc, skc_rcv_saddr);
	k.family = family;
	k.lport = BPF_CORE_READ(skc, skc_num);
	k.isn = isn;
	published = bpf_map_lookup_elem(&follow_flows, &k);
	if (!published)
		return 0;
	p = *published;
	if (forget)
		bpf_map_delete_elem(&follow_flows, &k);
	return p;
}

/* A SYN consumed by a listener in a followed namespace (@b: its
 * follow_base_of()). */
static __always_inline void follow_listener(struct follow_base *b, struct sk_buff *skb)
{
	struct sa_container_counters *c;
	struct syn_info si;
	__u64 d[SA_VMIB_N];
	__u64 cookie, *old;
	__u32 port;
	int err;

	if (skb_tcp(skb, &si) || !is_syn(&si))
		return;
	/* Every SYN a listener there takes moves the baseline. */
	err = sa_mib_advance(b->mib, &b->base, d, false);
	port = follow_port_skb(skb, &si, si.seq);
	if (!port)
		return;
	c = sa_port_counters(container_counters, port, struct sa_container_counters);
	if (!c)
		return;
	c->ct_listener_syn++;
	switch (sa_listener_verdict(err, d)) {
	case SA_VERDICT_UNCLASSIFIED:
		c->ct_unclassified++;
		break;
	case SA_VERDICT_COOKIE:
		c->ct_syncookies_sent++;
		break;
	case SA_VERDICT_ACCEPT_QUEUE_FULL:
		c->ct_accept_queue_full++;
		break;
	case SA_VERDICT_SYN_QUEUE_FULL:
		c->ct_syn_queue_full++;
		break;
	case SA_VERDICT_DROP_OTHER:
		c->ct_listen_drop_other++;
		break;
	case SA_VERDICT_QUEUED:
		c->ct_syn_queued++;
		break;
	}
	cookie = b->cookie;
	old = bpf_map_lookup_elem(&follow_port_ns, &port);
	if (!old || *old != cookie) {
		if (bpf_map_update_elem(&follow_port_ns, &port, &cookie, BPF_ANY))
			sa_count_update_failed(port);
		else
			sa_touch(port);
	}
}

/* A received TCP skb freed in a followed namespace: a forwarded SYN
 * dropped before a socket, or a handshake ACK the listener dropped. */
static __always_inline void follow_free(struct follow_base *b, struct sk_buff *skb)
{
	struct syn_info si;
	__u64 d[SA_VMIB_N];
	bool have_delta;
	__u32 port;

	if (skb_tcp(skb, &si))
		return;
	have_delta = !sa_mib_advance(b->mib, &b->base, d, false);
	if (is_syn(&si)) {
		port = follow_port_skb(skb, &si, si.seq);
		if (!port)
			return;
		if (rtx_match(&si, port, true))
			CT_INC(port, ct_syn_to_request_sock);
		else
			CT_INC(port, ct_stack_drops);
		return;
	}
	if (!have_delta || !(si.flags & SA_TCP_ACK) ||
	    !(d[SA_VMIB_OVERFLOWS] | d[SA_VMIB_COOKIES_RECV]))
		return;
	port = follow_port_skb(skb, &si, si.seq - 1);
	if (!port)
		return;
	if (d[SA_VMIB_OVERFLOWS])
		CT_INC(port, ct_ack_dropped_accept_full);
	if (d[SA_VMIB_COOKIES_RECV])
		CT_INC(port, ct_syncookies_recv);
}

/* A retransmitted SYN consumed (not at a listener) in a followed
 * namespace, after its request sock answered it. */
static __always_inline void follow_rtx_consumed(struct sk_buff *skb)
{
	struct syn_info si;
	__u32 port;

	if (skb_tcp(skb, &si) || !is_syn(&si))
		return;
	port = follow_port_skb(skb, &si, si.seq);
	if (port && rtx_match(&si, port, true))
		CT_INC(port, ct_syn_to_request_sock);
}

/* A handshake completed in a followed namespace. */
static __always_inline void follow_established(struct follow_base *b, const struct sock *sk)
{
	__u64 d[SA_VMIB_N];
	bool have_delta;
	__u32 port, isn;

	have_delta = !sa_mib_advance(b->mib, &b->base, d, false);
	isn = BPF_CORE_READ((struct tcp_sock *)sk, rcv_nxt) - 1;
	port = follow_port_sk(&sk->__sk_common, BPF_CORE_READ(sk, __sk_common.skc_family),
			      isn, true);
	if (!port)
		return;
	CT_INC(port, ct_established);
	if (have_delta && d[SA_VMIB_COOKIES_RECV])
		CT_INC(port, ct_syncookies_recv);
}

/* A SYN-ACK retransmitted in a followed namespace: mark it, as in the
 * watched one, for the retransmitted SYN that may have caused it. */
static __always_inline void follow_synack_retrans(const struct request_sock *req)
{
	__u32 isn, port;

	isn = BPF_CORE_READ((struct tcp_request_sock *)req, rcv_isn);
	port = follow_port_sk(&req->__req_common, BPF_CORE_READ(req, rsk_ops, family),
			      isn, false);
	if (port)
		rtx_mark_set(isn, port, true);
}

/* tcp_destroy_sock in the namespace the agent is priming: create its
 * entry and give every CPU its pointer and a baseline. */
struct follow_prime_ctx {
	__u64 addr;
	__u64 cookie;
	__u64 mib;
};

static long follow_prime_cpu(__u32 cpu, void *ctx)
{
	struct follow_prime_ctx *pc = ctx;
	struct follow_base *b;

	b = bpf_map_lookup_percpu_elem(&follow_ns, &pc->addr, cpu);
	if (!b)
		return 0;
	b->cookie = pc->cookie;
	b->mib = pc->mib;
	if (!read_mibs_at(b->mib, cpu, b->base.v, false))
		b->base.valid = 1;
	return 0;
}

static __always_inline void follow_prime(struct net *net)
{
	struct follow_prime_ctx pc = { .addr = (__u64)net };
	struct follow_base init = {};
	__u32 zero = 0;
	__u64 *want;

	want = bpf_map_lookup_elem(&follow_ctl, &zero);
	if (!want || !*want)
		return;
	pc.cookie = BPF_CORE_READ(net, net_cookie);
	if (pc.cookie != *want)
		return;
	pc.mib = (__u64)BPF_CORE_READ(net, mib.net_statistics);
	if (bpf_map_update_elem(&follow_ns, &pc.addr, &init, BPF_ANY)) {
		sa_count_update_failed_noport();
		return;
	}
	bpf_loop(nr_cpus, follow_prime_cpu, &pc, 0);
	follow_active = 1;
}

#endif /* SYNACCT_BPF_FOLLOW_H */
