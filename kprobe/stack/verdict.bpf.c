// SPDX-License-Identifier: GPL-2.0
/*
 * verdict.bpf.c - SYNs a listener took, and what it did with each: queued
 * (syn_queued), answered with a cookie, or dropped (accept queue full,
 * SYN queue full, other), from the MIB counters it moved on its CPU
 * (include/bpf/mib.h).  Linked into the stack object.
 *
 *   skb:consume_skb           at its location in tcp_rcv_state_process
 *                             (Linux 6.3+); before, fexit or kprobe on
 *                             tcp_conn_request, where the kernel allows
 *                             them (the loader picks one, kprobe/stack/stack.c)
 *   tcp:tcp_destroy_sock      priming every CPU's MIB baseline
 *
 * consume_skb also ends a retransmitted SYN its request sock answered
 * (include/bpf/rtx.h).
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
#include "../../include/bpf/retries.h"

/* tcp_rcv_state_process [start, end): where a listener consumes a SYN.
 * Set by the agent before load. */
const volatile __u64 tcp_rcv_state_process_start;
const volatile __u64 tcp_rcv_state_process_end;

/* Set from user space while it primes the baselines (tcp_destroy_sock). */
volatile __u32 priming;

/* A SYN's MSS and timestamp options, which decide what its cookie can
 * carry: the MSS is quantised into the cookie, and without timestamps
 * there is nowhere to keep window scaling and SACK. */
struct opt_walk {
	/* 40 bytes of options at most; 64 so that "& 63" bounds every index. */
	unsigned char opt[64];
	__u32 i;
	__u32 len;
	__u16 mss;
	bool has_ts;
};

/* One option per call, through bpf_loop: an unrolled walk of 40 bytes of
 * options is more than the verifier will explore. */
static long opt_step(__u32 n, void *ctx)
{
	struct opt_walk *w = ctx;
	__u8 kind, olen;

	(void)n;
	if (w->i >= w->len)
		return 1;
	kind = w->opt[w->i & 63];
	if (kind == 0)			/* end of options */
		return 1;
	if (kind == 1) {		/* NOP */
		w->i++;
		return 0;
	}
	olen = w->opt[(w->i + 1) & 63];
	if (olen < 2 || w->i + olen > w->len)
		return 1;
	if (kind == 2 && olen == 4)
		w->mss = (w->opt[(w->i + 2) & 63] << 8) | w->opt[(w->i + 3) & 63];
	else if (kind == 8 && olen == 10)
		w->has_ts = true;
	w->i += olen;
	return 0;
}

static __always_inline void syn_options(const struct syn_info *si, __u16 *mss,
					bool *has_ts)
{
	struct opt_walk w = {};
	__u32 len = si->doff * 4;
	const unsigned char *o = si->opt;

	*mss = 0;
	*has_ts = false;
	if (len <= 20 || len > 60)
		return;
	if (si->have_opt)
		__builtin_memcpy(w.opt, si->opt, sizeof(si->opt));
	else if (bpf_probe_read_kernel(w.opt, 40, si->th + 20))
		return;
	else
		o = w.opt;
	w.len = len - 20;
	/* The layouts Linux itself sends (tcp_options_write), recognised
	 * whole, so the result is what the walk would give: MSS, SACK_PERM,
	 * TIMESTAMP, NOP, WSCALE; or MSS, NOP, NOP, SACK_PERM, NOP, WSCALE. */
	if (o[0] == 2 && o[1] == 4) {
		if (w.len == 20 && o[4] == 4 && o[5] == 2 && o[6] == 8 && o[7] == 10 &&
		    o[16] == 1 && o[17] == 3 && o[18] == 3) {
			*mss = (o[2] << 8) | o[3];
			*has_ts = true;
			return;
		}
		if (w.len == 12 && o[4] == 1 && o[5] == 1 && o[6] == 4 && o[7] == 2 &&
		    o[8] == 1 && o[9] == 3 && o[10] == 3) {
			*mss = (o[2] << 8) | o[3];
			return;
		}
	}
	bpf_loop(40, opt_step, &w, 0);
	*mss = w.mss;
	*has_ts = w.has_ts;
}

/* Slot of the MSS a cookie encodes for this SYN (see SA_COOKIE_MSS_*). */
static __always_inline __u32 cookie_mss_slot(__u8 family, __u16 mss)
{
	static const __u16 msstab[SA_COOKIE_MSS_N] = SA_COOKIE_MSS_TABLE;
	const __u16 *tab = family == 6 ? msstab + 4 : msstab;
	__u32 slot = 0;

	if (!mss)
		mss = family == 6 ? SA_TCP_MSS_DEFAULT_V6 : SA_TCP_MSS_DEFAULT_V4;
	for (int i = 3; i > 0; i--) {
		if (mss >= tab[i]) {
			slot = i;
			break;
		}
	}
	return (family == 6 ? 4 : 0) + slot;
}

static __always_inline void count_cookie(struct sa_stack_counters *c,
					 const struct syn_info *si)
{
	bool has_ts;
	__u16 mss;
	__u32 slot;

	c->syncookies_sent++;
	syn_options(si, &mss, &has_ts);
	if (!has_ts)
		c->syncookies_no_ts++;
	slot = cookie_mss_slot(si->family, mss);
	if (slot < SA_COOKIE_MSS_N)
		(&c->syncookies_mss_0)[slot]++;
}

/* A SYN a listener took, and its verdict from this CPU's MIB difference
 * @d (@err: no baseline yet): one counter lookup for both. */
static __always_inline void count_verdict(struct sk_buff *skb, const struct syn_info *si,
					  int err, const __u64 *d)
{
	struct sa_stack_counters *c;
	__u8 fate = SA_RETRY_UNSEEN;

	c = sa_slot_counters(stack_counters, si->dport, struct sa_stack_counters);
	if (!c)
		return;
	c->listener_syn++;
	if (si->beyond_parser)
		c->syn_beyond_parser++;
	switch (sa_listener_verdict(err, d)) {
	case SA_VERDICT_UNCLASSIFIED:
		c->listener_unclassified++;
		break;
	case SA_VERDICT_COOKIE:
		count_cookie(c, si);
		break;
	case SA_VERDICT_ACCEPT_QUEUE_FULL:
		c->listen_drop_accept_queue_full++;
		fate = SA_RETRY_ACCEPT_QUEUE_FULL;
		break;
	case SA_VERDICT_SYN_QUEUE_FULL:
		c->listen_drop_syn_queue_full++;
		fate = SA_RETRY_SYN_QUEUE_FULL;
		break;
	case SA_VERDICT_DROP_OTHER:
		c->listen_drop_other++;
		fate = SA_RETRY_LISTEN_DROP_OTHER;
		break;
	case SA_VERDICT_QUEUED:
		c->syn_queued++;
		break;
	}
	/* A SYN the listener dropped: what its client's retry, if any,
	 * follows (include/bpf/retries.h).  Answered ones are told by
	 * their SYN-ACK at TC egress. */
	if (fate != SA_RETRY_UNSEEN)
		sa_retry_fate_skb(skb, si, fate);
}

SEC("tp_btf/consume_skb")
int BPF_PROG(synacct_consume_skb, struct sk_buff *skb, void *location)
{
	struct syn_info si;
	struct net *net;
	__u32 iif;
	__u64 d[SA_VMIB_N];
	bool at_listener;
	int err;

	/* consume_skb is hot (every transmitted skb): decide on the
	 * location, or a pending SYN-ACK retransmission, before anything. */
	at_listener = (__u64)location >= tcp_rcv_state_process_start &&
		      (__u64)location < tcp_rcv_state_process_end;
	if (!at_listener && !rtx_pending())
		return 0;
	net = skb_net(skb);
	if (!in_netns(net)) {
		struct follow_base *b = follow_base_of(net);

		if (b && at_listener)
			follow_listener(b, skb);
		else if (b)
			follow_rtx_consumed(skb);
		return 0;
	}
	if (skb_tcp(skb, &si) || !is_syn(&si))
		return 0;
	iif = skb->skb_iif;
	nat_unmap_skb(skb, &si);

	if (!at_listener) {
		if (watched(iif) && rtx_match(&si, si.dport, false)) {
			STACK_INC(si.dport, syn_to_request_sock);
			BEYOND_PARSER_INC(&si);
		}
		return 0;
	}

	/* Every SYN consumed by a listener in this namespace moves the
	 * baseline, watched interface or not. */
	err = mib_advance(net, d, true);
	if (!watched(iif))
		return 0;

	count_verdict(skb, &si, err, d);
	return 0;
}

/*
 * Listener verdicts where consume_skb has no location (before Linux 6.3):
 * tcp_conn_request handles every SYN a listener takes (tcp_v4_conn_request
 * and tcp_v6_conn_request both call it) and bumps the MIB counters that
 * say what became of it; the SYN is consumed right after, with nothing in
 * between that moves those counters, so the classification is the
 * consume_skb handler's.  User space loads one form (stack.c):
 *   fexit/tcp_conn_request   classifies at the return, with typed arguments;
 *   kprobe/tcp_conn_request  marks the skb on this CPU, and the one-argument
 *                            consume_skb program below classifies it when
 *                            it is consumed (a kprobe's pointers are not
 *                            typed, so the skb is read where they are).
 * Both end in listener_verdict().
 */
static __always_inline int listener_verdict(struct net *net, struct sk_buff *skb)
{
	struct syn_info si;
	__u64 d[SA_VMIB_N];
	__u32 iif;
	int err;

	if (!in_netns(net)) {
		struct follow_base *b = follow_base_of(net);

		if (b)
			follow_listener(b, skb);
		return 0;
	}
	if (skb_tcp(skb, &si) || !is_syn(&si))
		return 0;
	iif = skb->skb_iif;
	nat_unmap_skb(skb, &si);
	/* Every SYN a listener in this namespace handled moves the
	 * baseline, watched interface or not. */
	err = mib_advance(net, d, false);
	if (!watched(iif))
		return 0;

	count_verdict(skb, &si, err, d);
	return 0;
}

SEC("fexit/tcp_conn_request")
int BPF_PROG(synacct_conn_request_fexit, struct request_sock_ops *rsk_ops,
	     const struct tcp_request_sock_ops *af_ops, struct sock *sk,
	     struct sk_buff *skb, int ret)
{
	return listener_verdict(sk->__sk_common.skc_net.net, skb);
}

/* The skb tcp_conn_request took last on this CPU (kprobe form). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} conn_request_skb SEC(".maps");

SEC("kprobe/tcp_conn_request")
int BPF_KPROBE(synacct_conn_request_kprobe, struct request_sock_ops *rsk_ops,
	       const struct tcp_request_sock_ops *af_ops, struct sock *sk,
	       struct sk_buff *skb)
{
	__u32 zero = 0;
	__u64 *mark;

	mark = bpf_map_lookup_elem(&conn_request_skb, &zero);
	if (mark)
		*mark = (__u64)skb;
	return 0;
}

/* consume_skb's first argument only: it has no location before 6.3. */
SEC("tp_btf/consume_skb")
int BPF_PROG(synacct_conn_request_consumed, struct sk_buff *skb)
{
	__u32 zero = 0;
	__u64 *mark;

	mark = bpf_map_lookup_elem(&conn_request_skb, &zero);
	if (!mark || *mark != (__u64)skb)
		return 0;
	*mark = 0;
	return listener_verdict(skb_net(skb), skb);
}

struct prime_ctx {
	struct net *net;
};

/* Start @cpu's baseline from its current values, unless its own traffic
 * already did. */
static long prime_cpu(__u32 cpu, void *ctx)
{
	struct prime_ctx *pc = ctx;
	struct sa_mib_baseline *b;
	__u32 zero = 0;

	b = bpf_map_lookup_percpu_elem(&mib_baseline, &zero, cpu);
	if (b && !b->valid && !read_mibs_at(watched_mib_of(pc->net), cpu, b->v, false))
		b->valid = 1;
	return 0;
}

/* The agent closes a fresh TCP socket in the watched namespace while
 * `priming` is set: from wherever that runs, give every CPU a baseline
 * (other CPUs' per-CPU copies are reachable from any CPU, so this works
 * even when the agent may not run on all of them). */
SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(synacct_prime, struct sock *sk)
{
	struct prime_ctx pc;

	pc.net = BPF_CORE_READ(sk, __sk_common.skc_net.net);
	if (priming) {
		if (in_netns(pc.net))
			bpf_loop(nr_cpus, prime_cpu, &pc, 0);
	} else if (follow_on) {
		follow_prime(pc.net);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
