/* SPDX-License-Identifier: GPL-2.0 */
/*
 * retries.bpf.h - the retries stage's part of the TC programs: a client's
 * retransmitted SYN found at ingress, counted by attempt and by what
 * became of the attempt before it; a SYN-ACK leaving at egress written to
 * its SYN's slot (include/bpf/retries.h).  Included by tc/tc.bpf.c, whose
 * programs have already parsed the frame: a program of its own would
 * parse every SYN and SYN-ACK again (why, tc/retries/retries.c).
 */
#ifndef SYNACCT_TC_RETRIES_BPF_H
#define SYNACCT_TC_RETRIES_BPF_H

#include "../../include/synacct.h"
#include "../../include/bpf/count.h"
#include "../../include/bpf/parse.h"
#include "../../include/bpf/retries.h"

SA_SLOT_MAPS(retries_counters, struct sa_retry_counters);

/*
 * While a flood turns the table over faster than clients retry, a slot is
 * a cache miss per SYN that keeps nothing (about 140 ns a SYN on the
 * bench's machine): once this CPU's SYNs have taken SA_RETRY_GATE slots
 * from attempts younger than the horizon in the current window (256
 * jiffies), its later SYNs in that window are counted in
 * syn_retries_untracked and neither looked up nor kept, and their
 * SYN-ACKs leave no fate.
 */
#define SA_RETRY_GATE		(SA_RETRY_TABLE / 2)
/* In jiffies, which the verifier reads inline (bpf_jiffies64): 256, a
 * second at HZ=250, a quarter of one at HZ=1000. */
#define SA_RETRY_WINDOW_SHIFT	8

struct sa_retry_gate {
	__u32 window;
	__u32 taken;		/* young slots taken in it */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sa_retry_gate);
} retry_gate SEC(".maps");

static __always_inline void retry_untracked(__u16 port)
{
	struct sa_retry_counters *c;

	c = sa_slot_counters(retries_counters, port, struct sa_retry_counters);
	if (c)
		c->syn_retries_untracked++;
}

/* The hash of the SYN @pkt (or, @synack, of the SYN the SYN-ACK @pkt
 * answers: the other way round, ISN = its ACK - 1); 0 if the addresses
 * are not in the linear data. */
static __always_inline __u64 retry_hash_pkt(struct __sk_buff *skb, const struct sa_pkt *pkt,
					    bool synack)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u32 off = pkt->l3off;
	__u32 *ip;

	/* Bounded where the verifier sees it (at most 22 bytes: Ethernet
	 * and two VLAN tags), or it grants no range to the pointer. */
	asm volatile("%[o] &= 0x7f" : [o]"+r"(off));
	ip = data + off;
	if (pkt->family == 4) {
		if ((void *)(ip + 5) > data_end)
			return 0;
		return synack ? sa_retry_hash(&ip[4], &ip[3], 1, pkt->dport, pkt->sport,
					      pkt->ack_seq - 1) :
				sa_retry_hash(&ip[3], &ip[4], 1, pkt->sport, pkt->dport, pkt->seq);
	}
	if ((void *)(ip + 10) > data_end)
		return 0;
	return synack ? sa_retry_hash(&ip[6], &ip[2], 4, pkt->dport, pkt->sport, pkt->ack_seq - 1) :
			sa_retry_hash(&ip[2], &ip[6], 4, pkt->sport, pkt->dport, pkt->seq);
}

/* TC ingress, a SYN: a retry of the attempt in its slot, or a new attempt
 * that takes the slot. */
static __always_inline void retry_syn(struct __sk_buff *skb, const struct sa_pkt *pkt)
{
	struct sa_retry_counters *c;
	struct sa_retry_bucket *b;
	struct sa_retry_gate *g;
	__u64 h, key = 0, now, tag, age = 0, oldest = 0, k, a;
	__u32 n, fate, zero = 0, win, way = 0;
	bool found = false;

	win = bpf_jiffies64() >> SA_RETRY_WINDOW_SHIFT;
	g = bpf_map_lookup_elem(&retry_gate, &zero);
	if (!g)
		return;
	if (g->window != win) {
		g->window = win;
		g->taken = 0;
	} else if (g->taken >= SA_RETRY_GATE) {
		retry_untracked(pkt->dport);
		return;
	}
	h = retry_hash_pkt(skb, pkt, false);
	b = h ? sa_retry_bucket(h) : NULL;
	if (!b)
		return;
	tag = sa_retry_tag(h);
	now = (bpf_ktime_get_coarse_ns() >> SA_RETRY_TIME_SHIFT) & SA_RETRY_TIME_MASK;
	/* Its own slot, or the one to take: an empty one, else the oldest. */
	for (int i = 0; i < SA_RETRY_WAYS; i++) {
		k = *(volatile __u64 *)&b->slot[i];
		a = k ? (now - (k >> 8)) & SA_RETRY_TIME_MASK : SA_RETRY_TIME_MASK + 1;
		if ((k >> 32 << 32) == tag) {
			way = i;
			key = k;
			age = a;
			found = true;
			break;
		}
		if (a > oldest) {
			oldest = a;
			way = i;
		}
	}
	if (way >= SA_RETRY_WAYS)
		return;
	if (!found) {
		if (oldest < SA_RETRY_HORIZON) {
			g->taken++;
			retry_untracked(pkt->dport);
		}
		b->slot[way] = tag | now << 8;
		return;
	}
	n = (key >> 4) & 0xf;
	fate = key & 0xf;
	c = sa_slot_counters(retries_counters, pkt->dport, struct sa_retry_counters);
	if (c) {
		c->syn_retries++;
		(&c->syn_retry_attempt_1)[n < 2 ? n : 2]++;
		if (fate < SA_RETRY_FATES)
			(&c->syn_retry_after_unseen)[fate]++;
		/* 2^20 ns units to ms: x 1.048576, as x 1099512 / 2^20. */
		c->syn_retry_wait_millis += age * 1099512 >> 20;
	}
	if (n < 15)
		n++;
	b->slot[way] = tag | now << 8 | n << 4 | SA_RETRY_UNSEEN;
}

/* TC egress, a SYN-ACK: its SYN's attempt was answered, and the answer
 * left; the hash, for the SYN-ACK's record in flight (synack.h), so that
 * a drop after this hook can say so instead (0: no slot is its). */
static __always_inline __u64 retry_synack(struct __sk_buff *skb, const struct sa_pkt *pkt)
{
	struct sa_retry_gate *g;
	__u32 zero = 0;
	__u64 h;

	/* Not while the gate is shut: its SYN was not kept either (the
	 * SYN-ACK leaves on its SYN's CPU, right after it). */
	g = bpf_map_lookup_elem(&retry_gate, &zero);
	if (!g || (g->taken >= SA_RETRY_GATE &&
		   g->window == bpf_jiffies64() >> SA_RETRY_WINDOW_SHIFT))
		return 0;
	h = retry_hash_pkt(skb, pkt, true);

	if (h)
		sa_retry_fate(h, SA_RETRY_SYNACK_LEFT);
	return h;
}

#endif /* SYNACCT_TC_RETRIES_BPF_H */
