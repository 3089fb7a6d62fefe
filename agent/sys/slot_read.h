/* SPDX-License-Identifier: GPL-2.0 */
/*
 * slot_read.h - the agent's readers of the XDP, TC and stack slot maps
 * (include/bpf/count.h, agent/sys/slots.h) into snapshots, as map_read.h's
 * sa_read_port_map / sa_read_port_entry do for a plain per-port hash
 * (included here: a stage reads both kinds).
 */
#ifndef SYNACCT_SLOT_READ_H
#define SYNACCT_SLOT_READ_H

#include "counters.h"
#include "map_read.h"
#include "snapshot.h"
#include "slots.h"

/* Add every port's counters of @stage to @snap. */
int sa_read_slot_maps(const struct sa_slot_fds *f, enum sa_stage_id stage,
		      struct sa_snapshot *snap);
/* Add one port's counters of @stage to @ps. */
int sa_read_slot_entry(const struct sa_slot_fds *f, enum sa_stage_id stage,
		       __u32 port, struct sa_port_stats *ps);

/* For each port of @ports: its counters of @stage and its counts lost
 * in @lost_fd (counts_lost; -1: none), into @snap's entry (created). */
struct sa_portset;
int sa_read_slot_ports(const struct sa_slot_fds *f, int lost_fd, enum sa_stage_id stage,
		       struct sa_snapshot *snap, const struct sa_portset *ports);

#endif /* SYNACCT_SLOT_READ_H */
