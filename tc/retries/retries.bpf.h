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
	struct sa_retry_slot *s;
	__u64 h, key, now, tag;
	__u32 n, fate;

	h = retry_hash_pkt(skb, pkt, false);
	s = h ? sa_retry_slot(h) : NULL;
	if (!s)
		return;
	tag = h & SA_RETRY_TAG_MASK;
	key = *(volatile __u64 *)&s->key;
	now = bpf_ktime_get_coarse_ns();
	if ((key & SA_RETRY_TAG_MASK) != tag) {
		if (key && now - s->at < SA_RETRY_HORIZON_NS) {
			c = sa_slot_counters(retries_counters, pkt->dport, struct sa_retry_counters);
			if (c)
				c->syn_retries_untracked++;
		}
		s->at = now;
		s->key = tag;
		return;
	}
	n = (key >> 8) & 0xff;
	fate = key & 0xff;
	c = sa_slot_counters(retries_counters, pkt->dport, struct sa_retry_counters);
	if (c) {
		c->syn_retries++;
		(&c->syn_retry_attempt_1)[n < 2 ? n : 2]++;
		if (fate < SA_RETRY_FATES)
			(&c->syn_retry_after_unseen)[fate]++;
		c->syn_retry_wait_millis += (now - s->at) / 1000000;
	}
	if (n < 255)
		n++;
	s->at = now;
	s->key = tag | (__u64)n << 8 | SA_RETRY_UNSEEN;
}

/* TC egress, a SYN-ACK: its SYN's attempt was answered, and the answer
 * left; the hash, for the SYN-ACK's record in flight (synack.h), so that
 * a drop after this hook can say so instead (0: no slot is its). */
static __always_inline __u64 retry_synack(struct __sk_buff *skb, const struct sa_pkt *pkt)
{
	__u64 h = retry_hash_pkt(skb, pkt, true);

	if (h)
		sa_retry_fate(h, SA_RETRY_SYNACK_LEFT);
	return h;
}

#endif /* SYNACCT_TC_RETRIES_BPF_H */
