/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ports.h - sets of ports: the --ports selection, the listening ports,
 * the ports a record shows.
 */
#ifndef SYNACCT_PORTS_H
#define SYNACCT_PORTS_H

#include <stdbool.h>
#include <linux/types.h>
#include "synacct.h"

struct sa_portset {
	__u64 bits[SA_MAX_PORTS / 64];
	bool any;		/* nothing given: every port */
};

/* "80,443,8000-8100"; -EINVAL on anything else. */
int sa_portset_parse(struct sa_portset *ps, const char *spec);
static inline bool sa_portset_has(const struct sa_portset *ps, __u32 port)
{
	return ps->any || (ps->bits[port / 64] >> (port % 64)) & 1;
}
static inline void sa_portset_add(struct sa_portset *ps, __u32 port)
{
	ps->bits[port / 64] |= 1ULL << (port % 64);
}
/* The first port of @ps (its bits, not any) from @from on; -1: none. */
static inline int sa_portset_next(const struct sa_portset *ps, __u32 from)
{
	for (__u32 w = from / 64; w < SA_MAX_PORTS / 64; w++) {
		__u64 b = ps->bits[w];

		if (w == from / 64)
			b &= ~0ULL << (from % 64);
		if (b)
			return w * 64 + __builtin_ctzll(b);
	}
	return -1;
}
#define sa_portset_for_each(ps, p)					\
	for (int p = sa_portset_next(ps, 0); p >= 0; p = sa_portset_next(ps, p + 1))
/* Ports with a TCP listener in the current network namespace. */
int sa_listening_ports(struct sa_portset *out);

#endif /* SYNACCT_PORTS_H */
