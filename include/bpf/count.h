/* SPDX-License-Identifier: GPL-2.0 */
/*
 * count.h - add to a per-port, per-CPU counter from any synacct BPF
 * program.  Per-CPU maps: no atomics on the packet path.
 *
 * The maps defined here are __weak: in an object linked from several
 * units that include this header (the stack's), libbpf's linker keeps one
 * copy of each.
 */
#ifndef SYNACCT_COUNT_H
#define SYNACCT_COUNT_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "../synacct.h"

#define SA_PROG_MAP(name)						\
	struct {							\
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);		\
		__uint(max_entries, 1);					\
		__type(key, __u32);					\
		__type(value, struct sa_prog_counters);			\
	} name SEC(".maps") __weak

/* Every object that counts per port has its own prog_counters. */
SA_PROG_MAP(prog_counters);

/*
 * The ports whose figures changed since the agent last looked: a bit per
 * port, SA_PORTS_TOUCHED_WORDS words, mmapped by the agent, which takes
 * them word by word with an atomic exchange (agent/sys/touched.c) and reads
 * only those ports again.  Every object that counts per port has its own.
 * A port is marked when its counters are found, just before the program
 * adds to them: the agent reads a marked port once more at the reading
 * after, which finds the add that came after its reading.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, SA_PORTS_TOUCHED_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} ports_touched SEC(".maps") __weak;

/* Mark @port touched; the atomic only when its bit is clear (a busy
 * port's word stays in every CPU's cache, read only). */
static __always_inline void sa_touch(__u32 port)
{
	__u32 w = (port % SA_MAX_PORTS) / 64;
	__u64 bit = 1ULL << (port % 64), *word;

	word = bpf_map_lookup_elem(&ports_touched, &w);
	if (word && !(*(volatile __u64 *)word & bit))
		__sync_fetch_and_or(word, bit);
}

/* This CPU's entry for @key in the per-CPU hash @map, created zeroed on
 * first use; NULL when it cannot be created (the map is full, or no
 * memory for a non-preallocated entry).  If two CPUs race to create it,
 * BPF_NOEXIST loses on one of them and the second lookup finds the
 * winner's entry. */
#define sa_map_lookup_or_init(map, key, type) ({			\
	type *__val = bpf_map_lookup_elem(&(map), (key));		\
	if (!__val) {							\
		type __zero;						\
		__builtin_memset(&__zero, 0, sizeof(__zero));		\
		bpf_map_update_elem(&(map), (key), &__zero, BPF_NOEXIST); \
		__val = bpf_map_lookup_elem(&(map), (key));		\
	}								\
	__val;								\
})

/* Counts lost, by the port they were for (include/synacct.h,
 * SA_LOST_COUNTERS).  Not preallocated: it costs nothing until a count is
 * lost, and never fills (one entry per port at most). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SA_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct sa_lost_counters);
} counts_lost SEC(".maps") __weak;

static __always_inline void sa_count_unparsed(void)
{
	__u32 zero = 0;
	struct sa_prog_counters *pc = bpf_map_lookup_elem(&prog_counters, &zero);

	if (pc)
		pc->unparsed++;
}

/* A map update that failed with no port to blame (a followed
 * namespace's entry): the object's total only. */
static __always_inline void sa_count_update_failed_noport(void)
{
	__u32 zero = 0;
	struct sa_prog_counters *pc = bpf_map_lookup_elem(&prog_counters, &zero);

	if (pc)
		pc->update_failed++;
}

/* A count of @port that could not be kept: said out loud by the agent
 * ("counter map full"), and the port's gaps up to it never read as
 * unexplained.  Only on the failure path: nothing on the packet path. */
static __always_inline void sa_count_update_failed(__u32 port)
{
	struct sa_lost_counters *l;

	sa_count_update_failed_noport();
	l = sa_map_lookup_or_init(counts_lost, &port, struct sa_lost_counters);
	if (l)
		l->counts_lost++;
	sa_touch(port);
}

/* This CPU's counters for @key (a count of @port) in the per-CPU hash
 * @map, created on first use; when the entry cannot be created (a scan
 * wider than its max_entries), the count is lost and counted as such. */
#define sa_map_counters(map, key, type, port) ({			\
	type *__cnt = sa_map_lookup_or_init(map, key, type);		\
	if (!__cnt)							\
		sa_count_update_failed(port);				\
	else								\
		sa_touch(port);						\
	__cnt;								\
})

#define sa_port_counters(map, port, type) ({				\
	__u32 __key = (port);						\
	sa_map_counters(map, &__key, type, __key);			\
})

/* Not preallocated: a per-CPU hash sized for every port would take
 * SA_MAX_PORTS x value size x CPUs up front (hundreds of MB on a large
 * machine); entries are allocated for the ports that see traffic. */
#define SA_PORT_MAP(name, val_type)						\
	struct {							\
		__uint(type, BPF_MAP_TYPE_PERCPU_HASH);			\
		__uint(map_flags, BPF_F_NO_PREALLOC);			\
		__uint(max_entries, SA_MAX_PORTS);			\
		__type(key, __u32);					\
		__type(value, val_type);					\
	} name SEC(".maps") __weak


/*
 * The per-SYN counters (XDP, TC, the stack's): a hash lookup per SYN costs
 * as much as the rest of the program, so the first SA_SLOTS ports that see
 * traffic get a slot in a per-CPU array, found through a plain array
 * indexed by port (both lookups are inlined by the verifier); later ports
 * fall back to the per-CPU hash.  SA_SLOT_MAPS(name, type) defines:
 *   name_slot  ARRAY[65536] port -> slot (0: none yet, SA_SLOT_HASH: in name_more)
 *   name_port  ARRAY[SA_SLOTS + 1] slot -> port + 1 (0: unused); entry 0
 *              is the next slot to hand out
 *   name       PERCPU_ARRAY[SA_SLOTS + 1] the counters, by slot
 *   name_more  PERCPU_HASH by port, as SA_PORT_MAP
 * A slot's port is written before the slot is published (compare and swap
 * on name_slot), so a reader that finds a slot finds its port; a slot lost
 * to a race keeps its port and counts nothing.  agent/sys/slots.h reads them.
 */
#define SA_SLOT_MAPS(name, val_type)					\
	struct {							\
		__uint(type, BPF_MAP_TYPE_ARRAY);			\
		__uint(max_entries, SA_MAX_PORTS);			\
		__type(key, __u32);					\
		__type(value, __u32);					\
	} name##_slot SEC(".maps") __weak;			\
	struct {							\
		__uint(type, BPF_MAP_TYPE_ARRAY);			\
		__uint(max_entries, SA_SLOTS + 1);			\
		__type(key, __u32);					\
		__type(value, __u32);					\
	} name##_port SEC(".maps") __weak;			\
	struct {							\
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);		\
		__uint(max_entries, SA_SLOTS + 1);			\
		__type(key, __u32);					\
		__type(value, val_type);				\
	} name SEC(".maps") __weak;					\
	SA_PORT_MAP(name##_more, val_type)

/* First SYN for @port: hand out a slot, or send the port to the hash. */
static __always_inline __u32 sa_slot_claim(void *port_map, __u32 *slot, __u32 port)
{
	__u32 zero = 0, *next, *owner, s = SA_SLOT_HASH, old;

	next = bpf_map_lookup_elem(port_map, &zero);
	if (next) {
		s = __sync_fetch_and_add(next, 1) + 1;
		owner = s <= SA_SLOTS ? bpf_map_lookup_elem(port_map, &s) : NULL;
		if (owner)
			*owner = port + 1;
		else
			s = SA_SLOT_HASH;
	}
	old = __sync_val_compare_and_swap(slot, 0, s);
	return old ? old : s;
}

/* This CPU's counters for @port in the slot maps @name. */
#define sa_slot_counters(name, port, type) ({				\
	__u32 __port = (port), __s;					\
	__u32 *__slot = bpf_map_lookup_elem(&name##_slot, &__port);	\
	type *__v = NULL;						\
	if (__slot) {							\
		__s = *(volatile __u32 *)__slot;			\
		if (!__s)						\
			__s = sa_slot_claim(&name##_port, __slot, __port); \
		if (__s != SA_SLOT_HASH) {				\
			__v = bpf_map_lookup_elem(&name, &__s);		\
			sa_touch(__port);				\
		} else {						\
			__v = sa_port_counters(name##_more, __port, type); \
		}							\
	}								\
	__v;								\
})

/* The same, without creating anything: NULL if @port has no counters
 * (the port is not marked touched: the caller does, before it adds). */
#define sa_slot_lookup(name, port, type) ({				\
	__u32 __port = (port), __s;					\
	__u32 *__slot = bpf_map_lookup_elem(&name##_slot, &__port);	\
	type *__v = NULL;						\
	if (__slot) {							\
		__s = *(volatile __u32 *)__slot;			\
		if (__s == SA_SLOT_HASH)				\
			__v = bpf_map_lookup_elem(&name##_more, &__port); \
		else if (__s)						\
			__v = bpf_map_lookup_elem(&name, &__s);		\
	}								\
	__v;								\
})

#endif /* SYNACCT_COUNT_H */
