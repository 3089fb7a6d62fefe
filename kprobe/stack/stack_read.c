// SPDX-License-Identifier: GPL-2.0
/*
 * stack_read.c - the stack stage's readings: the per-port counters (and
 * the container's, counted by the same programs in followed namespaces),
 * the drops by reason, SYN-ACK drops, counts lost, program counters, and
 * the attributes NAT and following give a port.
 */
#include <errno.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "snapshot.h"
#include "stack.h"
#include "slot_read.h"
#include "touched.h"

/* stack_drops, or synack_drops with @flag SA_DROP_SYNACK: every
 * {port, reason} entry into the snapshot's ports. */
static int read_drops(int fd, __u32 flag, struct sa_snapshot *snap)
{
	int ncpu = libbpf_num_possible_cpus();
	struct sa_drop_key key, next, *prev = NULL;
	__u64 *vals;
	int err = 0;

	vals = calloc(ncpu, sizeof(__u64));
	if (!vals)
		return -ENOMEM;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		struct sa_port_stats *ps;
		__u64 *cnt;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, vals))
			continue;
		ps = sa_snapshot_port(snap, key.port);
		cnt = ps ? sa_port_drop(ps, key.reason | flag) : NULL;
		if (!cnt) {
			err = -ENOMEM;
			break;
		}
		sa_percpu_sum(vals, ncpu, 1, cnt);
	}
	free(vals);
	return err;
}

/* Where NAT sent each published port (nat_ports): attributes, not
 * counters; the port's entry is created so a mapping shows even before
 * its first figure. */
static int read_nat(struct stack_stage *st, struct sa_snapshot *snap)
{
	int fd = bpf_map__fd(st->skel->maps.nat_ports);
	__u32 key, next, *prev = NULL;
	struct sa_nat nat;

	if (!st->nat_hook)
		return 0;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		struct sa_port_stats *ps;

		key = next;
		prev = &key;
		if (key >= SA_MAX_PORTS || bpf_map_lookup_elem(fd, &key, &nat))
			continue;
		ps = sa_snapshot_port(snap, key);
		if (!ps || !sa_port_nat(ps))
			return -ENOMEM;
		*ps->nat = nat;
		/* A local listener (REDIRECT, DNAT to this host): its queues
		 * are the published port's; read after the listeners. */
		if (nat.to_port != key && snap->port[nat.to_port] &&
		    sa_g(snap->port[nat.to_port])->listeners) {
			if (!sa_port_gauges(ps))
				return -ENOMEM;
			*ps->gauges = *snap->port[nat.to_port]->gauges;
			snap->port[nat.to_port]->gauges_lent = true;
		}
	}
	fd = bpf_map__fd(st->skel->maps.fwd_ifindex);
	prev = NULL;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		struct sa_port_stats *ps;
		__u32 ifindex;

		key = next;
		prev = &key;
		if (key >= SA_MAX_PORTS || bpf_map_lookup_elem(fd, &key, &ifindex))
			continue;
		ps = sa_snapshot_port(snap, key);
		if (!ps)
			return -ENOMEM;
		ps->fwd_ifindex = ifindex;
	}
	return 0;
}

/* Which followed namespace each port's SYNs reached (follow_port_ns). */
static int read_follow(struct stack_stage *st, struct sa_snapshot *snap)
{
	int fd = bpf_map__fd(st->skel->maps.follow_port_ns);
	__u32 key, next, *prev = NULL;
	__u64 cookie;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		struct sa_port_stats *ps;

		key = next;
		prev = &key;
		if (key >= SA_MAX_PORTS || bpf_map_lookup_elem(fd, &key, &cookie))
			continue;
		ps = sa_snapshot_port(snap, key);
		if (!ps || !sa_port_follow(ps))
			return -ENOMEM;
		ps->follow->cookie = cookie;
	}
	return 0;
}

/* The stack's per-port counters' slot maps (include/bpf/count.h). */
static struct sa_slot_fds stack_fds(struct stack_stage *st)
{
	return sa_slot_fds(st->skel->maps.stack_counters_slot,
			   st->skel->maps.stack_counters_port,
			   st->skel->maps.stack_counters, st->skel->maps.stack_counters_more);
}

/* Every key of drop map @fd whose port is in @ports, given to that port
 * in @snap at 0 (its reason | @flag): one walk of the keys, no value. */
static int seed_keys(int fd, __u32 flag, struct sa_snapshot *snap,
		     const struct sa_portset *ports)
{
	struct sa_drop_key key, next, *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		struct sa_port_stats *ps;

		key = next;
		prev = &key;
		if (key.port >= SA_MAX_PORTS || !sa_portset_has(ports, key.port))
			continue;
		ps = sa_snapshot_port(snap, key.port);
		if (!ps || !sa_port_drop(ps, key.reason | flag))
			return -ENOMEM;
	}
	return 0;
}

/* The drop keys created since the last reading (drop_keys_new): each
 * given to its port in @snap, at 0, and the port added to @ports (NULL:
 * a whole reading, which finds them all: only emptied).  When keys were
 * lost to a full queue since (a scan of more ports than it holds in one
 * interval), one walk of the drop maps' keys gives the ports of @ports
 * theirs: a reading of those ports stays exact without a whole reading,
 * which would hold a second copy of every port known. */
static int take_new_keys(struct stack_stage *st, struct sa_snapshot *snap,
			 struct sa_portset *ports)
{
	int fd = bpf_map__fd(st->skel->maps.drop_keys_new);
	__u64 lost = 0;
	struct sa_drop_key k;
	__u32 zero = 0;
	bool walk = false;

	if (bpf_map_lookup_elem(bpf_map__fd(st->skel->maps.drop_keys_lost), &zero, &lost))
		return -errno;
	if (lost != st->keys_lost) {
		st->keys_lost = lost;
		walk = ports != NULL;
	}
	while (!bpf_map_lookup_and_delete_elem(fd, NULL, &k)) {
		struct sa_port_stats *ps;

		if (!ports || k.port >= SA_MAX_PORTS)
			continue;
		sa_portset_add(ports, k.port);
		ps = sa_snapshot_port(snap, k.port);
		if (!ps || !sa_port_drop(ps, k.reason))
			return -ENOMEM;
	}
	if (errno != ENOENT)
		return -errno;
	/* After the queue is emptied: a key lost before is in the maps. */
	if (walk) {
		int err = seed_keys(bpf_map__fd(st->skel->maps.stack_drops), 0, snap, ports);

		if (!err)
			err = seed_keys(bpf_map__fd(st->skel->maps.synack_drops),
					SA_DROP_SYNACK, snap, ports);
		return err;
	}
	return 0;
}

int stack_stage_touched(void *priv, struct sa_portset *ports)
{
	struct stack_stage *st = priv;

	return sa_touched_take(bpf_map__fd(st->skel->maps.ports_touched), &st->touched, ports);
}

int stack_stage_read(void *priv, struct sa_snapshot *snap)
{
	struct stack_stage *st = priv;
	int err;

	/* Before the walks: a key queued after them is read again. */
	err = take_new_keys(st, snap, NULL);
	if (err)
		return err;

	/* The namespaces SYNs are forwarded to are downstream: first. */
	err = sa_read_port_map(bpf_map__fd(st->skel->maps.container_counters),
			       SA_STAGE_CONTAINER, snap);
	if (!err)
		err = read_follow(st, snap);
	if (!err) {
		struct sa_slot_fds f = stack_fds(st);

		err = sa_read_slot_maps(&f, SA_STAGE_STACK, snap);
	}
	if (!err)
		err = read_drops(bpf_map__fd(st->skel->maps.stack_drops), 0, snap);
	if (!err)
		err = read_drops(bpf_map__fd(st->skel->maps.synack_drops),
				 SA_DROP_SYNACK, snap);
	if (!err)
		err = sa_read_port_map(bpf_map__fd(st->skel->maps.counts_lost),
				       SA_STAGE_LOST, snap);
	if (!err)
		err = sa_read_prog_counters(bpf_map__fd(st->skel->maps.prog_counters),
					    NULL, &snap->stack_update_failed);
	if (!err)
		err = sa_read_missed_runs(st->skel->obj, &snap->missed_runs);
	if (!err)
		err = read_nat(st, snap);
	return err;
}

/* Add drop map @fd's count of (@port, @reason) to @ps's reason @reason |
 * @flag, creating it there if the map has one. */
static int add_drop(int fd, __u32 port, __u32 reason, __u32 flag,
		    struct sa_port_stats *ps, __u64 *vals, int ncpu)
{
	struct sa_drop_key key = { .port = port, .reason = reason };
	__u64 *cnt;

	if (bpf_map_lookup_elem(fd, &key, vals))
		return errno == ENOENT ? 0 : -errno;
	cnt = sa_port_drop(ps, reason | flag);
	if (!cnt)
		return -ENOMEM;
	sa_percpu_sum(vals, ncpu, 1, cnt);
	return 0;
}

int stack_stage_read_port(void *priv, __u32 port, struct sa_port_stats *ps)
{
	struct stack_stage *st = priv;
	int fd = bpf_map__fd(st->skel->maps.stack_drops);
	int synack_fd = bpf_map__fd(st->skel->maps.synack_drops);
	int ncpu = libbpf_num_possible_cpus();
	__u64 *vals;
	int err;

	/* The namespace SYNs are forwarded to, then the drops: downstream
	 * of the listener's counts. */
	err = sa_read_port_entry(bpf_map__fd(st->skel->maps.container_counters),
				 SA_STAGE_CONTAINER, port, ps);
	if (err)
		return err;
	vals = calloc(ncpu, sizeof(__u64));
	if (!vals)
		return -ENOMEM;
	/* Every reason the kernel names, not only those @ps lists: a SYN
	 * caught at the reading between TC and its drop has no entry in the
	 * reading yet (a scanned port's first NO_SOCKET). */
	for (__u32 r = 0; r < SA_MAX_REASONS && !err; r++) {
		if (!sa_reason_names[r])
			continue;
		err = add_drop(fd, port, r, 0, ps, vals, ncpu);
		if (!err)
			err = add_drop(synack_fd, port, r, SA_DROP_SYNACK, ps, vals, ncpu);
	}
	/* And the reasons it lists that have no name here (a subsystem's). */
	for (__u32 i = 0; i < ps->n_drops && !err; i++) {
		__u32 r = ps->drops[i].reason;

		if ((r & ~SA_DROP_SYNACK) >= SA_MAX_REASONS ||
		    !sa_reason_names[r & ~SA_DROP_SYNACK])
			err = add_drop(r & SA_DROP_SYNACK ? synack_fd : fd, port,
				       r & ~SA_DROP_SYNACK, r & SA_DROP_SYNACK, ps, vals, ncpu);
	}
	free(vals);
	if (err)
		return err;
	{
		struct sa_slot_fds f = stack_fds(st);

		err = sa_read_slot_entry(&f, SA_STAGE_STACK, port, ps);
	}
	if (!err)
		err = sa_read_port_entry(bpf_map__fd(st->skel->maps.counts_lost),
					 SA_STAGE_LOST, port, ps);
	return err;
}

/* One port's NAT mapping, forwarding interface and followed namespace, as
 * read_nat and read_follow give them. */
static int read_port_attrs(struct stack_stage *st, struct sa_snapshot *snap, __u32 port,
			   struct sa_port_stats *ps)
{
	struct sa_nat nat;
	__u32 ifindex;
	__u64 cookie;

	if (!bpf_map_lookup_elem(bpf_map__fd(st->skel->maps.follow_port_ns), &port, &cookie)) {
		if (!sa_port_follow(ps))
			return -ENOMEM;
		ps->follow->cookie = cookie;
	}
	if (!st->nat_hook)
		return 0;
	if (!bpf_map_lookup_elem(bpf_map__fd(st->skel->maps.nat_ports), &port, &nat)) {
		if (!sa_port_nat(ps))
			return -ENOMEM;
		*ps->nat = nat;
		if (nat.to_port != port && nat.to_port < SA_MAX_PORTS &&
		    snap->port[nat.to_port] && sa_g(snap->port[nat.to_port])->listeners) {
			if (!sa_port_gauges(ps))
				return -ENOMEM;
			*ps->gauges = *snap->port[nat.to_port]->gauges;
			snap->port[nat.to_port]->gauges_lent = true;
		}
	}
	if (!bpf_map_lookup_elem(bpf_map__fd(st->skel->maps.fwd_ifindex), &port, &ifindex))
		ps->fwd_ifindex = ifindex;
	return 0;
}

/* The drops of @ps's reasons (given: the last reading's and the keys
 * found new) for @port. */
static int read_known_drops(struct stack_stage *st, __u32 port, struct sa_port_stats *ps,
			    __u64 *vals, int ncpu)
{
	int fd = bpf_map__fd(st->skel->maps.stack_drops);
	int synack_fd = bpf_map__fd(st->skel->maps.synack_drops);
	__u32 n = ps->n_drops;
	int err = 0;

	for (__u32 i = 0; i < n && !err; i++) {
		__u32 r = ps->drops[i].reason;

		ps->drops[i].n = 0;
		err = add_drop(r & SA_DROP_SYNACK ? synack_fd : fd, port, r & ~SA_DROP_SYNACK,
			       r & SA_DROP_SYNACK, ps, vals, ncpu);
	}
	return err;
}

int stack_stage_read_ports(void *priv, struct sa_snapshot *snap,
			   const struct sa_snapshot *last, struct sa_portset *ports)
{
	struct stack_stage *st = priv;
	struct sa_slot_fds f = stack_fds(st);
	int ncpu = libbpf_num_possible_cpus();
	int cfd = bpf_map__fd(st->skel->maps.container_counters);
	int lfd = bpf_map__fd(st->skel->maps.counts_lost);
	__u64 *vals;
	int err;

	err = take_new_keys(st, snap, ports);
	if (err)
		return err;
	if (ncpu < 0)
		return ncpu;
	vals = calloc(ncpu, sizeof(__u64));
	if (!vals)
		return -ENOMEM;
	/* Port by port, downstream first as in stack_stage_read. */
	sa_portset_for_each(ports, p) {
		struct sa_port_stats *ps = sa_snapshot_port(snap, p);

		err = ps ? sa_port_seed_drops(ps, sa_snapshot_get(last, p)) : -ENOMEM;
		if (!err)
			err = sa_read_port_entry(cfd, SA_STAGE_CONTAINER, p, ps);
		if (!err)
			err = read_known_drops(st, p, ps, vals, ncpu);
		if (!err)
			err = sa_read_slot_entry(&f, SA_STAGE_STACK, p, ps);
		if (!err)
			err = sa_read_port_entry(lfd, SA_STAGE_LOST, p, ps);
		if (!err)
			err = read_port_attrs(st, snap, p, ps);
		if (err)
			break;
	}
	free(vals);
	if (!err)
		err = sa_read_prog_counters(bpf_map__fd(st->skel->maps.prog_counters),
					    NULL, &snap->stack_update_failed);
	if (!err)
		err = sa_read_missed_runs(st->skel->obj, &snap->missed_runs);
	return err;
}
