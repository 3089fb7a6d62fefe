// SPDX-License-Identifier: GPL-2.0
/*
 * test_percpu.c - the sum over CPUs of a per-CPU map's entry
 * (agent/core/percpu.h): each field sums its own value on every CPU, in the
 * layout a lookup returns (CPU after CPU), adds to what the sum held,
 * and writes nothing past the fields it was given.
 */
#include <string.h>
#include "percpu.h"
#include "tap.h"

void suite_percpu(void)
{
	/* 3 CPUs of 2 fields: CPU c's field i is 10^(c+1) * (i+1). */
	const __u64 vals[] = { 10, 20, 100, 200, 1000, 2000 };
	const __u64 one[] = { 7, 0, 5, 11 };
	const __u64 big[] = { ~0ULL, 2 };
	__u64 sum[3] = { 0, 0, 42 };

	sa_percpu_sum(vals, 3, 2, sum);
	is_int(sum[0], 1110, "field 0: its value on each CPU, summed");
	is_int(sum[1], 2220, "field 1: its own, not field 0's");
	is_int(sum[2], 42, "nothing written past the fields given");

	sa_percpu_sum(vals, 3, 2, sum);
	ok(sum[0] == 2220 && sum[1] == 4440, "a second entry adds to the sum");

	sa_percpu_sum(vals, 0, 2, sum);
	ok(sum[0] == 2220 && sum[1] == 4440, "no CPU: nothing added");

	memset(sum, 0, sizeof(sum));
	sa_percpu_sum(one, 4, 1, sum);
	is_int(sum[0], 23, "one field: one value per CPU");
	is_int(sum[1], 0, "one field: the next left alone");

	/* Counters are unsigned: a sum wraps as the BPF side's would. */
	memset(sum, 0, sizeof(sum));
	sa_percpu_sum(big, 2, 1, sum);
	ok(sum[0] == 1, "a sum past 2^64 wraps (2^64 - 1 + 2 = 1)");
}
