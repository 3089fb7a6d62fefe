/* SPDX-License-Identifier: GPL-2.0 */
/*
 * count.h - add to a per-port, per-CPU counter from any synacct BPF
 * program.  Per-CPU maps: no atomics on the packet path.
 */
#ifndef SYNACCT_COUNT_H
#define SYNACCT_COUNT_H

#define SA_PROG_MAP(name)						\
	struct {							\
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);		\
		__uint(max_entries, 1);					\
		__type(key, __u32);					\
		__type(value, struct sa_prog_counters);			\
	} name SEC(".maps")

/* Every object that counts per port defines its own prog_counters. */
SA_PROG_MAP(prog_counters);

static __always_inline void sa_count_unparsed(void)
{
	__u32 zero = 0;
	struct sa_prog_counters *pc = bpf_map_lookup_elem(&prog_counters, &zero);

	if (pc)
		pc->unparsed++;
}

/* A count that could not be kept: said out loud by the agent ("counter
 * map full"), never left to read as an unexplained gap. */
static __always_inline void sa_count_update_failed(void)
{
	__u32 zero = 0;
	struct sa_prog_counters *pc = bpf_map_lookup_elem(&prog_counters, &zero);

	if (pc)
		pc->update_failed++;
}

/* Return this CPU's counters for @key in the per-CPU hash @map, creating
 * the entry on first use.  If two CPUs race to create it, BPF_NOEXIST
 * loses on one of them and the second lookup finds the winner's entry.
 * When the entry cannot be created (the map is full: a scan wider than
 * its max_entries, or no memory for a non-preallocated entry), the count
 * is lost and counted as such. */
#define sa_map_counters(map, key, type) ({				\
	type *__val = bpf_map_lookup_elem(&(map), (key));		\
	if (!__val) {							\
		type __zero;						\
		__builtin_memset(&__zero, 0, sizeof(__zero));		\
		bpf_map_update_elem(&(map), (key), &__zero, BPF_NOEXIST); \
		__val = bpf_map_lookup_elem(&(map), (key));		\
		if (!__val)						\
			sa_count_update_failed();			\
	}								\
	__val;								\
})

#define sa_port_counters(map, port, type) ({				\
	__u32 __key = (port);						\
	sa_map_counters(map, &__key, type);				\
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


#endif /* SYNACCT_COUNT_H */
