/* SPDX-License-Identifier: GPL-2.0 */
/*
 * slots.h - user space's side of include/bpf/count.h's slot maps: read
 * every port's counters, summed over CPUs, from the slots and the overflow
 * hash.  Shared by the agent (xdp/nic.c, tc/tc.c, kprobe/stack/stack.c) and the
 * parser tests (selftests/test_parse.c; test_fuzz.c reads the maps on its
 * own, as an independent oracle).
 */
#ifndef SYNACCT_SLOTS_H
#define SYNACCT_SLOTS_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "percpu.h"
#include "synacct.h"

/* Counters per slot at most (the stack's are the most). */
#define SA_SLOT_MAX_FIELDS 64

struct sa_slot_fds {
	int slot;	/* name_slot: port -> slot */
	int port;	/* name_port: slot -> port + 1 */
	int vals;	/* name: counters by slot */
	int more;	/* name_more: counters by port */
};

static inline struct sa_slot_fds sa_slot_fds(const struct bpf_map *slot,
					      const struct bpf_map *port,
					      const struct bpf_map *vals,
					      const struct bpf_map *more)
{
	return (struct sa_slot_fds){ bpf_map__fd(slot), bpf_map__fd(port),
				     bpf_map__fd(vals), bpf_map__fd(more) };
}

/* Add @key's per-CPU values in @fd (@nfields __u64 each) to @sum; a missing
 * key adds nothing.  @buf holds ncpus * nfields values. */
static inline int sa_slot_add(int fd, __u32 key, unsigned int nfields, int ncpus,
			      __u64 *buf, __u64 *sum)
{
	if (bpf_map_lookup_elem(fd, &key, buf))
		return errno == ENOENT ? 0 : -errno;
	sa_percpu_sum(buf, ncpus, nfields, sum);
	return 0;
}

/* Sum over CPUs of @port's counters into @sum (zeros if none). */
static inline int sa_slot_read_port(const struct sa_slot_fds *f, __u32 port,
				    unsigned int nfields, __u64 *sum)
{
	int ncpus = libbpf_num_possible_cpus();
	__u32 slot = 0;
	__u64 *buf;
	int err;

	memset(sum, 0, nfields * sizeof(*sum));
	if (ncpus < 0)
		return ncpus;
	if (bpf_map_lookup_elem(f->slot, &port, &slot))
		return -errno;
	if (!slot)
		return 0;
	buf = calloc((size_t)ncpus * nfields, sizeof(*buf));
	if (!buf)
		return -ENOMEM;
	err = slot == SA_SLOT_HASH ? sa_slot_add(f->more, port, nfields, ncpus, buf, sum) :
				     sa_slot_add(f->vals, slot, nfields, ncpus, buf, sum);
	free(buf);
	return err;
}

/* Call @fn(port, sums, ctx) for every port with counters: the slots in
 * use, then the overflow hash.  A port may come twice (a slot lost to a
 * race holds zeros): @fn adds. */
static inline int sa_slot_foreach(const struct sa_slot_fds *f, unsigned int nfields,
				  int (*fn)(__u32 port, const __u64 *sum, void *ctx),
				  void *ctx)
{
	int ncpus = libbpf_num_possible_cpus();
	__u32 zero = 0, next = 0, key, nkey, *prev = NULL;
	__u64 *buf, sum[SA_SLOT_MAX_FIELDS];
	int err = 0;

	if (ncpus < 0)
		return ncpus;
	if (nfields > sizeof(sum) / sizeof(sum[0]))
		return -EINVAL;
	buf = calloc((size_t)ncpus * nfields, sizeof(*buf));
	if (!buf)
		return -ENOMEM;
	if (bpf_map_lookup_elem(f->port, &zero, &next)) {
		err = -errno;
		goto out;
	}
	for (__u32 s = 1; s <= next && s <= SA_SLOTS; s++) {
		__u32 port1 = 0;

		/* 0: handed out, not yet owned; nothing counted in it. */
		if (bpf_map_lookup_elem(f->port, &s, &port1) || !port1)
			continue;
		memset(sum, 0, sizeof(sum));
		err = sa_slot_add(f->vals, s, nfields, ncpus, buf, sum);
		if (!err)
			err = fn(port1 - 1, sum, ctx);
		if (err)
			goto out;
	}
	/* Hash entries are never deleted: one get_next_key walk sees each. */
	while (bpf_map_get_next_key(f->more, prev, &nkey) == 0) {
		key = nkey;
		prev = &key;
		memset(sum, 0, sizeof(sum));
		err = sa_slot_add(f->more, key, nfields, ncpus, buf, sum);
		if (!err)
			err = fn(key, sum, ctx);
		if (err)
			goto out;
	}
out:
	free(buf);
	return err;
}

#endif /* SYNACCT_SLOTS_H */
