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
 * SYNs before another tool's filter can drop them; in tc mode (the NIC
 * stage counts at TC ingress) that place is nic_syn's filter, and
 * tc_syn's goes last, at the highest priority, so that what other
 * filters drop or redirect falls between the two counts. */
#define SA_TC_PRIO 1
#define SA_TC_PRIO_LAST 0xffff

/* Every place synacct may hold: the hook and the priority (handle
 * SA_TC_HANDLE), for what a killed or pinned synacct left. */
struct tc_place_def {
	enum bpf_tc_attach_point where;
	__u32 prio;
};
#define SA_TC_PLACES 3
extern const struct tc_place_def sa_tc_places[SA_TC_PLACES];

/* Is synacct's place @prio on this hook taken by a filter not synacct's? */
bool tc_place_foreign(int ifindex, enum bpf_tc_attach_point where, __u32 prio);
/* Filters on @ifindex's clsact qdisc, both hooks; -errno if unknown. */
int tc_filters_left(int ifindex);
/* --pin: pins the mark that synacct created @ifname's clsact qdisc. */
int tc_qdisc_mark(const char *ifname);
/* The stage's remove_stale and detach_pinned (stage.h). */
int tc_remove_stale(int ifindex, char *what, size_t len, int *holder);
int tc_detach_pinned(int ifindex, const char *ifname);
struct sa_hook_loss;
/* Is synacct's filter on @where of @ifindex at @prio still there, running
 * @prog_id?  0 if so; else SA_LOSS_REMOVED (@qdisc_gone: with the clsact
 * qdisc) or SA_LOSS_REPLACED, with what is there now in @l; -ENODEV: no
 * such interface here. */
int tc_hook_check(int ifindex, enum bpf_tc_attach_point where, __u32 prio, __u32 prog_id,
		  struct sa_hook_loss *l, bool *qdisc_gone);
/* In the current namespace: remove the filter running @prog_id on
 * @where of whichever interface has it; 1 if one did, 0 if none. */
int tc_remove_prog(enum bpf_tc_attach_point where, __u32 prio, __u32 prog_id);

#endif /* SYNACCT_TC_FILTERS_H */
