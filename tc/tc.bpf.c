// SPDX-License-Identifier: GPL-2.0
/*
 * tc.bpf.c - stage 2 of a SYN's path: TC clsact, after XDP.
 *
 * Ingress counts SYNs per destination port with the same parser as XDP,
 * so nic_syn - tc_syn is exactly what was lost between the two hooks.
 * Egress counts SYN-ACKs per source port: every SYN-ACK the stack sends,
 * queued, cookie or retransmitted.
 *
 * Both return TC_ACT_UNSPEC: the verdict is left to whatever filter comes
 * next, so synacct never changes what other tools' filters do.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_core_read.h>
#include "../include/synacct.h"
#include "../include/bpf/parse.h"
#include "../include/bpf/count.h"
#include "../include/bpf/synack.h"
#include "retries/retries.bpf.h"

#define SA_TC_ACT_UNSPEC (-1)

SA_SLOT_MAPS(tc_counters, struct sa_tc_counters);

SEC("tc")
int synacct_tc_in(struct __sk_buff *skb)
{
	struct sa_tc_counters *c;
	struct sa_pkt pkt = {};
	int ret;

	ret = sa_parse_skb(skb, &pkt);
	if (ret == SA_PARSE_BAD) {
		sa_count_unparsed();
		return SA_TC_ACT_UNSPEC;
	}
	if (ret != SA_PARSE_TCP || !sa_is_syn(&pkt))
		return SA_TC_ACT_UNSPEC;

	c = sa_slot_counters(tc_counters, pkt.dport, struct sa_tc_counters);
	if (c)
		c->tc_syn++;
	retry_syn(skb, &pkt);
	return SA_TC_ACT_UNSPEC;
}

/* A slot for the SYN-ACK at @addr leaving at @now: a free one, its own
 * (an earlier skb at this address left unseen), or a stale one. */
static __always_inline struct sa_synack_flight *synack_claim(__u64 addr, __u64 now)
{
	struct sa_synack_bucket *b = sa_synack_bucket(addr);
	struct sa_synack_flight *f;
	__u64 old;

	if (!b)
		return NULL;
	for (int i = 0; i < SA_SYNACK_WAYS; i++) {
		f = &b->slot[i];
		old = f->skb;
		if (old && old != addr &&
		    (__s64)(now - f->since) < (__s64)SA_SYNACK_STALE_NS)
			continue;
		/* Another CPU may claim the same slot at the same time. */
		if (__sync_val_compare_and_swap(&f->skb, old, addr) == old)
			return f;
	}
	return NULL;
}

/*
 * Remember a SYN-ACK leaving, so that the stack object can count it if it
 * is dropped after this hook (include/bpf/synack.h).  A retransmission is
 * a SYN-ACK whose request sock already sent one: tcp_make_synack stamps
 * the first one's send time into snt_synack, later ones carry a later
 * time.
 */
static __always_inline void synack_track(struct __sk_buff *ctx,
					 const struct sa_pkt *pkt, __u64 retry)
{
	/* A TC program's context is the kernel's sk_buff itself (the
	 * verifier rewrites __sk_buff fields into it): its address is the
	 * skb's, and its fields are read as such (bpf_cast_to_kern_ctx would
	 * need Linux 6.3). */
	__u64 addr = (__u64)ctx;
	/* tcp_make_synack stamps every SYN-ACK with the monotonic clock. */
	__u64 now = ctx->tstamp ?: bpf_ktime_get_ns();
	struct tcp_request_sock *req = NULL;
	struct sa_synack_flight *f;
	struct sa_synack_last *last;
	struct bpf_sock *sk;
	__u32 zero = 0;
	__u8 retrans = 0;

	/* Cookie SYN-ACKs have no socket: never retransmitted.  Read
	 * through the context and a BTF pointer, not bpf_probe_read. */
	sk = ctx->sk;
	if (sk && sk->state == TCP_NEW_SYN_RECV)
		req = bpf_skc_to_tcp_request_sock(sk);
	if (req)
		retrans = req->snt_synack != ctx->tstamp / 1000;
	f = synack_claim(addr, now);
	if (!f) {
		sa_count_update_failed(pkt->sport);
		return;
	}
	f->since = now;
	f->port = pkt->sport;
	f->seq = pkt->seq;
	f->retrans = retrans;
	f->sent = 0;
	f->cpu = bpf_get_smp_processor_id();
	f->retry = retry;
	if (!retrans)
		return;
	last = bpf_map_lookup_elem(&synack_last, &zero);
	if (last) {
		last->port = pkt->sport;
		last->seq = pkt->seq;
		last->skb = addr;
	}
}

SEC("tc")
int synacct_tc_eg(struct __sk_buff *skb)
{
	struct sa_tc_counters *c;
	struct sa_pkt pkt = {};

	/* Egress frames are ours: unparsable ones are not worth a counter. */
	if (sa_parse_skb(skb, &pkt) != SA_PARSE_TCP || !sa_is_synack(&pkt))
		return SA_TC_ACT_UNSPEC;

	c = sa_slot_counters(tc_counters, pkt.sport, struct sa_tc_counters);
	if (c)
		c->synack_sent++;
	synack_track(skb, &pkt, retry_synack(skb, &pkt));
	return SA_TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";
