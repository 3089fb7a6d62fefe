// SPDX-License-Identifier: GPL-2.0
/*
 * slot_read.c - XDP, TC and stack counters, read from their slot maps into
 * the agent's snapshots (see agent/sys/slot_read.h).
 */
#include <errno.h>
#include "ports.h"
#include "slot_read.h"

_Static_assert(SA_C_MAX <= SA_SLOT_MAX_FIELDS, "a stage's counters fit the readers' buffers");

struct slot_add_ctx {
	struct sa_snapshot *snap;
	enum sa_stage_id stage;
};

static int slot_add(__u32 port, const __u64 *sum, void *ctx)
{
	struct slot_add_ctx *c = ctx;
	struct sa_port_stats *ps = sa_snapshot_port(c->snap, port);
	enum sa_counter first = sa_stage_first[c->stage];

	if (!ps)
		return -ENOMEM;
	for (unsigned int i = 0; i < sa_stage_ncounters[c->stage]; i++)
		if (sa_c_add(ps, first + i, sum[i]))
			return -ENOMEM;
	return 0;
}

int sa_read_slot_maps(const struct sa_slot_fds *f, enum sa_stage_id stage,
		      struct sa_snapshot *snap)
{
	struct slot_add_ctx ctx = { snap, stage };

	return sa_slot_foreach(f, sa_stage_ncounters[stage], slot_add, &ctx);
}

int sa_read_slot_entry(const struct sa_slot_fds *f, enum sa_stage_id stage,
		       __u32 port, struct sa_port_stats *ps)
{
	unsigned int n = sa_stage_ncounters[stage];
	enum sa_counter first = sa_stage_first[stage];
	__u64 sum[SA_SLOT_MAX_FIELDS];
	int err;

	if (n > sizeof(sum) / sizeof(sum[0]))
		return -EINVAL;
	err = sa_slot_read_port(f, port, n, sum);
	if (err)
		return err;
	for (unsigned int i = 0; i < n; i++)
		if (sa_c_add(ps, first + i, sum[i]))
			return -ENOMEM;
	return 0;
}

int sa_read_slot_ports(const struct sa_slot_fds *f, int lost_fd, enum sa_stage_id stage,
		       struct sa_snapshot *snap, const struct sa_portset *ports)
{
	int err = 0;

	sa_portset_for_each(ports, p) {
		struct sa_port_stats *ps = sa_snapshot_port(snap, p);

		err = ps ? sa_read_slot_entry(f, stage, p, ps) : -ENOMEM;
		if (!err && lost_fd >= 0)
			err = sa_read_port_entry(lost_fd, SA_STAGE_LOST, p, ps);
		if (err)
			break;
	}
	return err;
}
