/* SPDX-License-Identifier: GPL-2.0 */
/*
 * retries.h - the retry table, shared by the TC object (ingress finds a
 * client's retransmitted SYN in it, egress writes that a SYN-ACK left)
 * and the stack object (which writes what became of a SYN: freed before
 * a socket, dropped at the listener, its SYN-ACK dropped after TC).  The
 * agent hands the TC object's table to the stack object
 * (bpf_map__reuse_fd, tc/retries/retries.c); the map is __weak: the
 * stack's units that include this header share one copy when linked.
 *
 * A bucket of slots per hash of (saddr, daddr, sport, dport, ISN): an
 * array lookup and plain stores, no lock, no LRU list to churn under a
 * spoofed flood.  A SYN with no slot of its own in its bucket takes an
 * empty one or the oldest; if that one was younger than
 * SA_RETRY_HORIZON_NS (a retry of it could still come) the loss is
 * counted (syn_retries_untracked).  Stores from
 * several CPUs are not atomic together: a slot is one flow's for about a
 * second between events, and a torn one is one figure of one retry.
 */
#ifndef SYNACCT_BPF_RETRIES_H
#define SYNACCT_BPF_RETRIES_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "../synacct.h"
#include "skb.h"

/*
 * A slot is one __u64, so that the table is small (a cache miss and a TLB
 * miss per flood SYN were most of its cost at 16 bytes a slot and 65 536
 * slots):
 *   63..32  the hash's low 32 bits (never 0: 0 is an empty slot); its top
 *           SA_RETRY_BUCKET_BITS chose the bucket, of SA_RETRY_WAYS slots
 *           in 32 bytes (one cache line): two attempts in one bucket do
 *           not take each other's slot, as they did direct mapped (one
 *           lab run in six lost a retry so)
 *   31..8   when TC ingress saw the attempt: coarse ns >> 20 (1.05 ms
 *           units), 24 bits (wraps after 4.9 hours)
 *    7..4   retries of the attempt seen so far (15 at most)
 *    3..0   its fate (enum sa_retry_fate)
 */
#define SA_RETRY_TIME_SHIFT	20
#define SA_RETRY_TIME_MASK	0xffffffULL
#define SA_RETRY_HORIZON	(SA_RETRY_HORIZON_NS >> SA_RETRY_TIME_SHIFT)

struct sa_retry_bucket {
	__u64 slot[SA_RETRY_WAYS];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1u << SA_RETRY_BUCKET_BITS);
	__type(key, __u32);
	__type(value, struct sa_retry_bucket);
} retry_table SEC(".maps") __weak;

static __always_inline __u64 sa_retry_mix(__u64 h, __u64 v)
{
	h ^= v;
	h *= 0x9E3779B97F4A7C15ULL;
	return h ^ (h >> 29);
}

/* The hash of a SYN's flow and ISN from its addresses as on the wire
 * (@a, @b: source and destination; 1 word each for IPv4, 4 for IPv6),
 * ports and ISN in host order. */
static __always_inline __u64 sa_retry_hash(const __u32 *a, const __u32 *b, int words,
					   __u16 sport, __u16 dport, __u32 isn)
{
	__u64 h = words;

	for (int i = 0; i < 4; i++) {
		if (i >= words)
			break;
		h = sa_retry_mix(h, (__u64)a[i] << 32 | b[i]);
	}
	h = sa_retry_mix(h, (__u64)((__u32)sport << 16 | dport) << 32 | isn);
	h *= 0xD6E8FEB86659FD93ULL;
	return h ^ (h >> 32);
}

/* The tag of hash @h, in a slot's top half. */
static __always_inline __u64 sa_retry_tag(__u64 h)
{
	__u32 t = (__u32)h;

	return (__u64)(t ? t : 1) << 32;
}

static __always_inline struct sa_retry_bucket *sa_retry_bucket(__u64 h)
{
	__u32 i = h >> (64 - SA_RETRY_BUCKET_BITS);

	return bpf_map_lookup_elem(&retry_table, &i);
}

/* What became of the attempt of hash @h: @fate, if a slot is still its. */
static __always_inline void sa_retry_fate(__u64 h, __u8 fate)
{
	struct sa_retry_bucket *b = sa_retry_bucket(h);
	__u64 tag = sa_retry_tag(h), key;

	if (!b)
		return;
	for (int i = 0; i < SA_RETRY_WAYS; i++) {
		key = *(volatile __u64 *)&b->slot[i];
		if ((key >> 32 << 32) == tag) {
			b->slot[i] = (key & ~0xfULL) | fate;
			return;
		}
	}
}

/* The same for a SYN in the stack (@si from skb_tcp): its addresses read
 * again from the network header, only for the rare SYN that is dropped.
 * After DNAT they are no longer the client's: a NATed port's stack fates
 * are not found (its retries show as unseen). */
static __always_inline void sa_retry_fate_skb(struct sk_buff *skb,
					      const struct syn_info *si, __u8 fate)
{
	__u16 nhoff = skb->network_header;
	unsigned char *nh;
	__u32 a[8];

	if (nhoff == (__u16)~0U)
		return;
	nh = skb->head + nhoff;
	if (si->family == 4) {
		if (bpf_probe_read_kernel(a, 8, nh + 12))
			return;
		sa_retry_fate(sa_retry_hash(&a[0], &a[1], 1, si->sport, si->dport, si->seq), fate);
	} else {
		if (bpf_probe_read_kernel(a, 32, nh + 8))
			return;
		sa_retry_fate(sa_retry_hash(&a[0], &a[4], 4, si->sport, si->dport, si->seq), fate);
	}
}

#endif /* SYNACCT_BPF_RETRIES_H */
