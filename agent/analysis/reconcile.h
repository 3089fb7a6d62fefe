/* SPDX-License-Identifier: GPL-2.0 */
/*
 * reconcile.h - the stages side by side, per port: what the figures add
 * up to, the gaps between stages (sa_gaps[], counters.h), and the verdict
 * that says where SYNs are lost, as data (id, severity, figure) and as a
 * sentence.  Made once per record and rendered by JSON and the table; the
 * metrics page reconciles its rows of absolute totals with the same
 * sa_reconcile_port.  No output decides anything on its own.
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
	/* TC's hooks went from under synacct (agent/cmd/health.c): tc_syn and
	 * synack_sent no longer count every SYN and SYN-ACK.  (A lost XDP
	 * hook turns nic off.) */
	bool tc_lost;
	/* Which hooks went, when, and what replaced them (agent/cmd/health.c),
	 * said in every verdict; NULL: none. */
	const char *lost;
};

/* Does gap @g have a term TC counts (tc_syn, synack_sent)? */
static inline bool sa_gap_needs_tc(enum sa_gap g)
{
	for (const struct sa_gap_term *t = sa_gaps[g].terms; t->sign; t++)
		if (t->term < SA_C_MAX && sa_counters[t->term].stage == SA_STAGE_TC)
			return true;
	return false;
}

/* Is gap @g a figure with these stages?  The gap between XDP and TC
 * needs XDP; a gap with a term TC counts needs TC's hooks (not lost); the
 * others are always reported (0 without their stage). */
static inline bool sa_gap_measured(enum sa_gap g, struct sa_measured m)
{
	if (sa_gaps[g].stage == SA_STAGE_NIC && !m.nic)
		return false;
	return !m.tc_lost || !sa_gap_needs_tc(g);
}

/* Does a stage that is attached measure the counters of @stage? */
static inline bool sa_stage_measured(struct sa_measured m, enum sa_stage_id stage)
{
	return stage == SA_STAGE_NIC ? m.nic : stage == SA_STAGE_STACK ? m.stack :
	       stage == SA_STAGE_CONTAINER ? m.stack && m.follow :
	       stage == SA_STAGE_TC ? !m.tc_lost : true;
}

/* How a verdict reads: the table's colour, the metric's label. */
enum sa_verdict_level {
	SA_SEV_OK,		/* no loss */
	SA_SEV_INFO,		/* nothing to judge: no SYNs, a stage off */
	SA_SEV_WARNING,		/* SYNs no stage accounts for */
	SA_SEV_CRITICAL,	/* SYNs (or SYN-ACKs, counts) lost, and where */
	SA_SEV_MAX
};
extern const char *const sa_severity_names[SA_SEV_MAX];

/*
 * Every verdict: X(id, severity, stage).  id is stable (JSON verdict_id,
 * metric synacct_verdict{id=...}); the text says the figures.  The
 * unexplained_* rows are sa_gaps[]'s, in its order.
 */
#define SA_VERDICTS(X)							\
	X(lost_nic_to_tc, CRITICAL, NIC)				\
	X(stack_off, INFO, TC)						\
	X(no_listener, CRITICAL, STACK)					\
	X(firewall, CRITICAL, STACK)					\
	X(bad_checksum, CRITICAL, STACK)				\
	X(cpu_backlog, CRITICAL, STACK)					\
	X(stack_drop, CRITICAL, STACK)					\
	X(synack_dropped, CRITICAL, TC)					\
	X(accept_queue_full, CRITICAL, STACK)				\
	X(syn_queue_full, CRITICAL, STACK)				\
	X(listen_drop_other, CRITICAL, STACK)				\
	X(container_accept_queue_full, CRITICAL, CONTAINER)		\
	X(container_syn_queue_full, CRITICAL, CONTAINER)		\
	X(container_listen_drop_other, CRITICAL, CONTAINER)		\
	X(container_stack_drop, CRITICAL, CONTAINER)			\
	X(unexplained_nic_to_tc, WARNING, NIC)				\
	X(unexplained_tc_to_listener, WARNING, STACK)			\
	X(unexplained_at_listener, WARNING, STACK)			\
	X(unexplained_synack_sent, CRITICAL, STACK)			\
	X(unexplained_to_container, WARNING, CONTAINER)			\
	X(unexplained_at_container_listener, WARNING, CONTAINER)	\
	X(synack_lost, CRITICAL, STACK)					\
	X(counts_lost, CRITICAL, LOST)					\
	X(no_syns, INFO, TC)						\
	X(no_loss_cookies, OK, STACK)					\
	X(no_loss_container, OK, CONTAINER)				\
	X(no_loss_forwarded, OK, STACK)					\
	X(no_loss, OK, STACK)

enum sa_verdict_id {
#define SA_VERDICT_ENUM(id, sev, stage) SA_V_##id,
	SA_VERDICTS(SA_VERDICT_ENUM)
#undef SA_VERDICT_ENUM
	SA_V_MAX
};

struct sa_verdict_def {
	const char *id;
	enum sa_verdict_level severity;
	enum sa_stage_id stage;		/* where the SYNs it names are */
};
extern const struct sa_verdict_def sa_verdicts[SA_V_MAX];

/* What reconciliation says of a port. */
struct sa_verdict {
	enum sa_verdict_id id;
	__u64 n;		/* the figure it is about (SYNs lost, ...) */
	/* From sa_reconcile_port: valid until its next call on this thread;
	 * in a view (sa_view_build), the view's own copy. */
	const char *text;
};

static inline enum sa_verdict_level sa_verdict_severity(const struct sa_verdict *v)
{
	return sa_verdicts[v->id].severity;
}

struct sa_port_view {
	__u32 port;
	const struct sa_port_stats *ps;	/* the figures (inside the snapshot) */
	/* Derived (SA_DERIVED in counters.h). */
	__u64 stack_drops;	/* every reason */
	__u64 pre_tc_drops;	/* reasons that happen between XDP and TC */
	__u64 listen_drops;	/* every cause */
	/* sa_gaps[]'s; the followed namespace's are 0 when none is
	 * followed all along. */
	__s64 gap[SA_GAP_MAX];
	__u64 synack_drops;	/* SYN-ACKs dropped after TC egress, every reason */
	bool cookie_mode;	/* cookies sent, or tcp_syncookies=2 */
	struct sa_verdict verdict;
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
/* Accepted since the maps were created, for a page of absolute totals:
 * what entered the accept queue (@established) minus what is in it now,
 * never below 0 (sockets queued before the maps existed were never
 * counted in), and never less than served before (@last): a counter. */
__u64 sa_accepted_total(__u64 *last, __u64 established,
			const struct sa_listener_gauges *g);
/* Compare the per-port sums of @total with its namespace MIB deltas;
 * names of the mismatching figures go to @bad (comma separated). */
bool sa_reconcile_mib(const struct sa_snapshot *total, char *bad, size_t badlen);

#endif /* SYNACCT_RECONCILE_H */
