/* SPDX-License-Identifier: GPL-2.0 */
/*
 * percpu.h - the sum over CPUs of a per-CPU BPF map's entry: the one
 * place every reader of such a map (agent/sys/map_read.c, agent/sys/slots.h,
 * kprobe/stack/stack.c) adds CPUs up.  Pure: no libbpf, unit-tested.
 */
#ifndef SYNACCT_PERCPU_H
#define SYNACCT_PERCPU_H

#include <linux/types.h>

/* Add to @sum[i], for each of the @nfields counters, its value on each of
 * @ncpu CPUs.  @vals is the entry as a lookup returns it: one copy per
 * possible CPU, each @nfields __u64 (8-byte values need no padding). */
static inline void sa_percpu_sum(const __u64 *vals, int ncpu, unsigned int nfields,
				 __u64 *sum)
{
	for (int cpu = 0; cpu < ncpu; cpu++)
		for (unsigned int i = 0; i < nfields; i++)
			sum[i] += vals[(unsigned long)cpu * nfields + i];
}

#endif /* SYNACCT_PERCPU_H */
