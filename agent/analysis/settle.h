/* SPDX-License-Identifier: GPL-2.0 */
/*
 * settle.h - telling SYNs in flight from SYNs lost.  The stages are read
 * one after another while traffic flows, so a reading can catch SYNs
 * between two hooks: counted upstream, not yet downstream.  They are not
 * lost, and must not be called unexplained.
 */
#ifndef SYNACCT_SETTLE_H
#define SYNACCT_SETTLE_H

#include "ports.h"
#include "reconcile.h"

/* Re-read one port's counters from every stage, downstream first, into
 * @ps (its drop reasons are given, at 0). */
typedef int (*sa_reread_fn)(void *ctx, __u32 port, struct sa_port_stats *ps);

/*
 * Settle @cur, a reading taken after @prev (itself settled): for each
 * port whose gaps moved since @prev, re-read the port a few times; the
 * smallest gap of each equation is what persists, the rest was in flight
 * and is taken off the upstream figures of @cur, to be counted in the
 * next reading instead, which must read those ports (added to @again)
 * even when nothing marks them touched.  Returns the number of ports
 * whose gaps moved, or -errno.
 */
int sa_settle(struct sa_snapshot *cur, const struct sa_snapshot *prev,
	      struct sa_measured m, sa_reread_fn reread, void *ctx,
	      struct sa_portset *again);

#endif /* SYNACCT_SETTLE_H */
