// SPDX-License-Identifier: GPL-2.0
/*
 * map_read.c - the stages' plain per-CPU maps (a per-port hash of
 * counters, prog_counters) and their programs' recursion misses, read
 * through libbpf into the agent's snapshots; slot_read.c reads the slot
 * maps.  The snapshot itself (snapshot.c) is plain C.
 */
#include <errno.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "map_read.h"
#include "percpu.h"

/* A lookup buffer for one entry of a stage's per-CPU port map. */
static __u64 *port_vals(enum sa_stage_id stage, int *ncpu)
{
	*ncpu = libbpf_num_possible_cpus();
	if (*ncpu < 0)
		return NULL;
	return calloc((size_t)*ncpu * sa_stage_ncounters[stage], sizeof(__u64));
}

/* Add every CPU's counters of one entry to the port's. */
static int port_vals_add(struct sa_port_stats *ps, enum sa_stage_id stage,
			 const __u64 *vals, int ncpu)
{
	unsigned int nfields = sa_stage_ncounters[stage];
	enum sa_counter first = sa_stage_first[stage];
	__u64 sum[SA_C_MAX] = { 0 };

	sa_percpu_sum(vals, ncpu, nfields, sum);
	for (unsigned int i = 0; i < nfields; i++)
		if (sa_c_add(ps, first + i, sum[i]))
			return -ENOMEM;
	return 0;
}

int sa_read_port_map(int map_fd, enum sa_stage_id stage, struct sa_snapshot *snap)
{
	__u32 key, next, *prev = NULL;
	int ncpu, err = 0;
	__u64 *vals = port_vals(stage, &ncpu);

	if (!vals)
		return -ENOMEM;
	/* Entries are never deleted, so a plain get_next_key walk sees
	 * every port exactly once. */
	while (bpf_map_get_next_key(map_fd, prev, &next) == 0) {
		struct sa_port_stats *ps;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(map_fd, &key, vals))
			continue;
		ps = sa_snapshot_port(snap, key);
		err = ps ? port_vals_add(ps, stage, vals, ncpu) : -ENOMEM;
		if (err)
			break;
	}
	free(vals);
	return err;
}

int sa_read_port_entry(int map_fd, enum sa_stage_id stage, __u32 port,
		       struct sa_port_stats *ps)
{
	int ncpu, err = 0;
	__u64 *vals = port_vals(stage, &ncpu);

	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(map_fd, &port, vals))
		err = errno == ENOENT ? 0 : -errno;
	else
		err = port_vals_add(ps, stage, vals, ncpu);
	free(vals);
	return err;
}

/* Summed as an array of __u64, one per field. */
#define PROG_COUNTERS_N (sizeof(struct sa_prog_counters) / sizeof(__u64))
_Static_assert(sizeof(struct sa_prog_counters) == PROG_COUNTERS_N * sizeof(__u64),
	       "sa_prog_counters holds __u64 fields only");

int sa_read_prog_counters(int map_fd, __u64 *unparsed, __u64 *update_failed)
{
	int ncpu = libbpf_num_possible_cpus();
	struct sa_prog_counters *vals, sum = { 0 };
	__u32 zero = 0;
	int err;

	if (ncpu < 0)
		return ncpu;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	err = bpf_map_lookup_elem(map_fd, &zero, vals);
	if (!err) {
		sa_percpu_sum((const __u64 *)vals, ncpu, PROG_COUNTERS_N, (__u64 *)&sum);
		if (unparsed)
			*unparsed += sum.unparsed;
		*update_failed += sum.update_failed;
	}
	free(vals);
	return err ? -errno : 0;
}

int sa_read_missed_runs(const struct bpf_object *obj, __u64 *out)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(prog);

		if (fd < 0)	/* not loaded on this kernel */
			continue;
		if (bpf_obj_get_info_by_fd(fd, &info, &len))
			return -errno;
		*out += info.recursion_misses;
	}
	return 0;
}
