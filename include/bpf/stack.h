/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stack.h - the stack's per-port counters (struct sa_stack_counters),
 * added to by every unit of the stack object: drops, listener verdicts,
 * SYN-ACKs, handshakes, forwarding.  The maps are __weak (count.h): the
 * linked object has one copy.
 */
#ifndef SYNACCT_BPF_STACK_H
#define SYNACCT_BPF_STACK_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "../synacct.h"
#include "count.h"
#include "skb.h"

SA_SLOT_MAPS(stack_counters, struct sa_stack_counters);

/* A per-CPU count for each (port, kernel reason): stack_drops (SYNs) and
 * synack_drops (SYN-ACKs after TC egress, include/bpf/synack_drop.h). */
#define SA_DROP_MAP(name)						\
	struct {							\
		__uint(type, BPF_MAP_TYPE_PERCPU_HASH);			\
		__uint(map_flags, BPF_F_NO_PREALLOC);			\
		__uint(max_entries, SA_MAX_DROP_KEYS);			\
		__type(key, struct sa_drop_key);			\
		__type(value, __u64);					\
	} name SEC(".maps")

/*
 * A drop key created in stack_drops or synack_drops (reason |
 * SA_DROP_SYNACK for the latter) goes into this queue, so that the agent
 * reads a touched port's drops by key instead of walking both maps
 * (agent/sys/touched.c).  A key the queue has no room for is counted in
 * drop_keys_lost, and the agent then walks the maps once.
 */
struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, SA_DROP_KEYS_NEW);
	__type(value, struct sa_drop_key);
} drop_keys_new SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} drop_keys_lost SEC(".maps") __weak;

/* The count of drop key @key in @map (@flag: 0 or SA_DROP_SYNACK),
 * created on first use and then queued for the agent; NULL (the count
 * lost, and counted as such) when it cannot be created.  The key is
 * queued before its port is marked touched: an agent that takes the mark
 * finds the key. */
static __always_inline __u64 *sa_drop_counter(void *map, struct sa_drop_key *key,
					     __u32 flag)
{
	__u64 *cnt = bpf_map_lookup_elem(map, key), zero = 0, *lost;
	struct sa_drop_key q;
	__u32 z = 0;

	if (!cnt) {
		if (!bpf_map_update_elem(map, key, &zero, BPF_NOEXIST)) {
			q.port = key->port;
			q.reason = key->reason | flag;
			if (bpf_map_push_elem(&drop_keys_new, &q, 0)) {
				lost = bpf_map_lookup_elem(&drop_keys_lost, &z);
				if (lost)
					__sync_fetch_and_add(lost, 1);
			}
		}
		cnt = bpf_map_lookup_elem(map, key);
	}
	if (cnt)
		sa_touch(key->port);
	else
		sa_count_update_failed(key->port);
	return cnt;
}

#define STACK_INC(port, field) do {					\
	struct sa_stack_counters *__c = sa_slot_counters(stack_counters, \
				(port), struct sa_stack_counters);	\
	if (__c)							\
		__c->field++;						\
} while (0)

/* A SYN counted in a stage of the tc_to_listener equation (listener_syn,
 * syn_to_request_sock, stack_drops, forwarded) that XDP and TC could not
 * parse: the agent sets it off against that gap (agent/analysis/reconcile.c). */
#define BEYOND_PARSER_INC(si) do {					\
	if ((si)->beyond_parser)					\
		STACK_INC((si)->dport, syn_beyond_parser);		\
} while (0)

#endif /* SYNACCT_BPF_STACK_H */
