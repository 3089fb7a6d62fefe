/* SPDX-License-Identifier: GPL-2.0 */
/*
 * count.h - add to a per-port, per-CPU counter from any synacct BPF
 * program.  Per-CPU maps: no atomics on the packet path.
 */
#ifndef SYNACCT_COUNT_H
#define SYNACCT_COUNT_H

/* Return this CPU's counters for @port in the per-CPU hash @map, creating
 * the entry on first use.  The maps have SA_MAX_PORTS entries, one per
 * possible port, so creation cannot fail for lack of room; if two CPUs
 * race to create it, BPF_NOEXIST loses on one of them and the second
 * lookup finds the winner's entry. */
#define sa_port_counters(map, port, type) ({				\
	__u32 __key = (port);						\
	type *__val = bpf_map_lookup_elem(&(map), &__key);		\
	if (!__val) {							\
		type __zero = {};					\
		bpf_map_update_elem(&(map), &__key, &__zero, BPF_NOEXIST); \
		__val = bpf_map_lookup_elem(&(map), &__key);		\
	}								\
	__val;								\
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
	} name SEC(".maps")

#define SA_PARSE_MAP(name)						\
	struct {							\
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);		\
		__uint(max_entries, 1);					\
		__type(key, __u32);					\
		__type(value, struct sa_parse_counters);		\
	} name SEC(".maps")

static __always_inline void sa_count_unparsed(void *map)
{
	__u32 zero = 0;
	struct sa_parse_counters *pc = bpf_map_lookup_elem(map, &zero);

	if (pc)
		pc->unparsed++;
}

#endif /* SYNACCT_COUNT_H */
