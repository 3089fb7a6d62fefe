/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tc_filters.h - the TC stage's filters as the kernel lists them
 * (tc/tc_filters.c), for its loader tc/tc.c.
 */
#ifndef SYNACCT_TC_FILTERS_H
#define SYNACCT_TC_FILTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <bpf/libbpf.h>

/* "SA" in hex, so `tc filter show` makes the owner recognisable. */
#define SA_TC_HANDLE 0x5a
/* Run before other filters at the default priority, so that tc_syn counts
 * SYNs before another tool's filter can drop them. */
#define SA_TC_PRIO 1

/* Is synacct's place on this hook taken by a filter not synacct's? */
bool tc_place_foreign(int ifindex, enum bpf_tc_attach_point where);
/* Filters on @ifindex's clsact qdisc, both hooks; -errno if unknown. */
int tc_filters_left(int ifindex);
/* --pin: pins the mark that synacct created @ifname's clsact qdisc. */
int tc_qdisc_mark(const char *ifname);
/* The stage's remove_stale and detach_pinned (stage.h). */
int tc_remove_stale(int ifindex, char *what, size_t len, int *holder);
int tc_detach_pinned(int ifindex, const char *ifname);

#endif /* SYNACCT_TC_FILTERS_H */
