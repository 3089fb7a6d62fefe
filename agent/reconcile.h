/* SPDX-License-Identifier: GPL-2.0 */
/*
 * reconcile.h - the stages side by side, per port: what the figures add
 * up to, the gaps between stages, and the sentence that says where SYNs
 * are lost.  Made once per record, then rendered by every output (table,
 * JSON, metrics).
 */
#ifndef SYNACCT_RECONCILE_H
#define SYNACCT_RECONCILE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "counters.h"
#include "ports.h"
#include "snapshot.h"

/* Which stages measured the figures: one that is off reads as null. */
struct sa_measured {
	bool nic;		/* XDP attached */
	/* Native XDP runs in the driver, before the per-CPU backlog; generic
	 * XDP runs after it, just before TC, so a CPU_BACKLOG drop comes
	 * before both hooks and is in neither nic_syn nor tc_syn. */
	bool nic_native;
	bool stack;		/* stack stage attached */
	bool follow;		/* forwarded SYNs followed (not --no-follow) */
	/* TC's hooks went from under synacct (agent/health.c): tc_syn and
	 * synack_sent no longer count every SYN and SYN-ACK.  (A lost XDP
	 * hook turns nic off.) */
	bool tc_lost;
	/* Which hooks went, when, and what replaced them (agent/health.c),
	 * said in every verdict; NULL: none. */
	const char *lost;
};

/* Is gap @d (one of SA_UNEXPLAINED) a figure with these stages?  The gap
 * between XDP and TC needs both; TC's gaps need TC's hooks; the others
 * are always reported. */
static inline bool sa_gap_measured(enum sa_derived d, struct sa_measured m)
{
	switch (d) {
	case SA_D_unexplained_nic_to_tc:
		return m.nic && !m.tc_lost;
	case SA_D_unexplained_tc_to_listener:
	case SA_D_unexplained_synack_sent:
		return !m.tc_lost;
	default:
		return true;
	}
}

struct sa_port_view {
	__u32 port;
	const struct sa_port_stats *ps;	/* the figures (inside the snapshot) */
	/* Derived (SA_DERIVED in counters.h). */
	__u64 stack_drops;	/* every reason */
	__u64 pre_tc_drops;	/* reasons that happen between XDP and TC */
	__u64 listen_drops;	/* every cause */
	__s64 unexplained_nic_to_tc;
	__s64 unexplained_tc_to_listener;
	__s64 unexplained_at_listener;
	__s64 unexplained_synack_sent;
	/* In the namespace forwarded SYNs reach (agent/follow.c); 0 when none
	 * is followed. */
	__s64 unexplained_to_container;
	__s64 unexplained_at_container_listener;
	__u64 ct_listen_drops;	/* every cause, there */
	__u64 synack_drops;	/* SYN-ACKs dropped after TC egress, every reason */
	bool cookie_mode;	/* cookies sent, or tcp_syncookies=2 */
	/* From sa_reconcile_port: valid until its next call on this thread;
	 * in a view (sa_view_build), the view's own copy. */
	const char *verdict;
};

/* One record's reconciled ports, in port order. */
struct sa_view {
	const struct sa_snapshot *snap;
	struct sa_measured m;
	struct sa_port_view *ports;
	size_t n_ports;
	/* The distinct verdicts the ports point at, owned by the view: a
	 * port scan's thousands of ports say the same few sentences. */
	char **verdicts;
	size_t n_verdicts;
	/* Per-port sums against the namespace MIBs (totals only). */
	bool consistent;
	char inconsistent[256];	/* the nstat names that disagree */
};

/* The derived figures and gaps of @ps only (no verdict): adds to @v. */
void sa_reconcile_gaps(const struct sa_port_stats *ps, struct sa_measured m,
		       struct sa_port_view *v);
void sa_reconcile_port(const struct sa_port_stats *ps, struct sa_measured m,
		       int tcp_syncookies, struct sa_port_view *v);
/* Reconcile the ports of @s in @shown (with @active, only those whose
 * figures or queues moved in @s).  -ENOMEM leaves @v empty. */
int sa_view_build(struct sa_view *v, const struct sa_snapshot *s,
		  struct sa_measured m, const struct sa_portset *shown,
		  bool active);
void sa_view_free(struct sa_view *v);
/* Compare the per-port sums of @total with its namespace MIB deltas;
 * names of the mismatching figures go to @bad (comma separated). */
bool sa_reconcile_mib(const struct sa_snapshot *total, char *bad, size_t badlen);

#endif /* SYNACCT_RECONCILE_H */
