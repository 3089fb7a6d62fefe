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
