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
/* Ports with a TCP listener in the current network namespace. */
int sa_listening_ports(struct sa_portset *out);

#endif /* SYNACCT_PORTS_H */
