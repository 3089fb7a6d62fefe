/* SPDX-License-Identifier: GPL-2.0 */
/*
 * map_read.h - libbpf readers of a stage's plain per-CPU maps into the
 * agent's snapshots (agent/sys/map_read.c); slot_read.h reads the slot maps.
 */
#ifndef SYNACCT_MAP_READ_H
#define SYNACCT_MAP_READ_H

#include "counters.h"
#include "snapshot.h"

/* Read a stage's per-CPU hash keyed by port (its counters, in table
 * order), summing the CPUs into the snapshot. */
int sa_read_port_map(int map_fd, enum sa_stage_id stage, struct sa_snapshot *snap);
/* One port of such a map (missing: nothing added). */
int sa_read_port_entry(int map_fd, enum sa_stage_id stage, __u32 port,
		       struct sa_port_stats *ps);
/* Add the sums over CPUs of the one-entry per-CPU array prog_counters
 * (@unparsed may be NULL). */
int sa_read_prog_counters(int map_fd, __u64 *unparsed, __u64 *update_failed);
/* Add the recursion_misses of every loaded program of @obj to @out. */
struct bpf_object;
int sa_read_missed_runs(const struct bpf_object *obj, __u64 *out);

#endif /* SYNACCT_MAP_READ_H */
