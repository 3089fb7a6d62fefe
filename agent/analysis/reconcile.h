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
#include <stdio.h>
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
	/* tc mode: nic_syn is TC ingress's first filter, tc_syn its last, so
	 * what TC drops (TC_INGRESS) falls between the two, and a
	 * CPU_BACKLOG drop before both. */
	bool nic_tc;
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
	       stage == SA_STAGE_TC || stage == SA_STAGE_RETRIES ? !m.tc_lost : true;
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
 * Every verdict: X(id, severity, stage, meaning, counters, fix).  id is
 * stable (JSON verdict.id, metric synacct_verdict{id=...}); the text a
 * port gets says its figures; meaning, the kernel counters behind it and
 * what to do are `synacct verdicts`, which docs/verdicts.md holds.  The
 * unexplained_* rows are sa_gaps[]'s, in its order.
 */
#define SA_VERDICTS(X)							\
	X(driver_drops, CRITICAL, NIC,					\
	  "frames were lost before XDP and TC, where no port can be told: "	\
	  "the per-CPU backlog was full, or the driver's ring or queues dropped " \
	  "(stage 0; a record's, not a port's)",			\
	  "`driver.softnet.dropped` (`/proc/net/softnet_stat`), `driver.ifaces[].rx_dropped`, " \
	  "`rx_missed_errors`, `rx_fifo_errors` (`ip -s -s link`), `queue_drops` (`ethtool -S`)", \
	  "backlog: raise net.core.netdev_max_backlog, spread receive work (RSS, " \
	  "RPS); ring: a larger ring (`ethtool -G IFACE rx N`), more queues, or " \
	  "less work per packet before XDP")				\
	X(lost_nic_to_tc, CRITICAL, NIC,				\
	  "with the stack stage off, SYNs XDP counted that TC ingress did not",	\
	  "`nic_syn` - `tc_syn`; `/proc/net/softnet_stat` (dropped)",	\
	  "run without --no-stack to learn the kernel's drop reason; most often "	\
	  "the CPU backlog (raise net.core.netdev_max_backlog) or another tool's "	\
	  "XDP or TC program (`bpftool net show`)")			\
	X(stack_off, INFO, TC,						\
	  "the stack stage is not attached (--no-stack): nothing is judged beyond TC", \
	  "none",							\
	  "run without --no-stack for a verdict on the listener and its queues") \
	X(no_listener, CRITICAL, STACK,					\
	  "SYNs to a port where no socket listens (a closed port, or a port scan)", \
	  "`stack_drops.NO_SOCKET` (kfree_skb reason); `Tcp OutRsts` in nstat", \
	  "start the service, or point the clients at the port it listens on; "	\
	  "`synacct check --ports PORT` lists the listeners")		\
	X(firewall, CRITICAL, STACK,					\
	  "netfilter (nftables, iptables) dropped the SYNs",		\
	  "`stack_drops.NETFILTER_DROP` (kfree_skb reason)",		\
	  "find the rule: `nft list ruleset` (add a counter to the candidates) "	\
	  "or `iptables-save -c`; allow the port if the drop is unintended") \
	X(bad_checksum, CRITICAL, STACK,				\
	  "SYNs dropped for a bad TCP checksum",			\
	  "`stack_drops.TCP_CSUM`; `Tcp InCsumErrors` in nstat",	\
	  "check the NIC's checksum offload (`ethtool -k IFACE`), its driver "	\
	  "and the path (a middlebox rewriting packets)")		\
	X(cpu_backlog, CRITICAL, STACK,					\
	  "the per-CPU input queue was full: SYNs dropped before (generic XDP) " \
	  "or between (native XDP) XDP and TC",				\
	  "`stack_drops.CPU_BACKLOG`; `/proc/net/softnet_stat` (dropped)", \
	  "raise net.core.netdev_max_backlog; spread receive work over more CPUs " \
	  "(RSS queues, RPS)")						\
	X(stack_drop, CRITICAL, STACK,					\
	  "the stack freed SYNs before a socket took them, for another drop reason", \
	  "`stack_drops.REASON` (kfree_skb reason, as the verdict names it)", \
	  "look the reason up in the kernel's enum skb_drop_reason "	\
	  "(include/net/dropreason-core.h); `perf trace -e skb:kfree_skb` shows where") \
	X(synack_dropped, CRITICAL, TC,					\
	  "SYN-ACKs dropped after TC egress, by the egress qdisc, the device or " \
	  "a veth peer's backlog; clients retransmit their SYNs",	\
	  "`synack_drops.REASON` (kfree_skb reason), `synack_retrans_failed`", \
	  "`tc -s qdisc show dev IFACE` for the qdisc's drops; raise its limit, "	\
	  "or net.core.netdev_max_backlog for a veth peer")		\
	X(accept_queue_full, CRITICAL, STACK,				\
	  "the listener's accept queue was full: the application does not call " \
	  "accept() fast enough, so SYNs and handshake ACKs are dropped", \
	  "`listen_drops.accept_queue_full`, `ack_dropped_accept_full`; "	\
	  "`TcpExt ListenOverflows` and `ListenDrops` in nstat",	\
	  "find why the application stalls (CPU, locks, a slow backend); if "	\
	  "bursts are normal, give listen() a larger backlog and raise "	\
	  "net.core.somaxconn with it")					\
	X(syn_queue_full, CRITICAL, STACK,				\
	  "the SYN queue was full and SYN cookies are off: SYNs dropped at the listener", \
	  "`listen_drops.syn_queue_full`; `TcpExt TCPReqQFullDrop` in nstat", \
	  "turn cookies on (net.ipv4.tcp_syncookies=1); raise the listen() "	\
	  "backlog and net.ipv4.tcp_max_syn_backlog")			\
	X(listen_drop_other, CRITICAL, STACK,				\
	  "the listener dropped SYNs with neither queue full (memory, a socket "	\
	  "filter, an LSM)",						\
	  "`listen_drops.other`; `TcpExt ListenDrops` beyond `ListenOverflows` " \
	  "and `TCPReqQFullDrop`",					\
	  "check socket memory (`TcpExt TCPMemoryPressures`, net.ipv4.tcp_mem) " \
	  "and security policies on the listener")			\
	X(container_accept_queue_full, CRITICAL, CONTAINER,		\
	  "forwarded SYNs reached a namespace (a container) whose listener's "	\
	  "accept queue was full",					\
	  "`container.listen_drops.accept_queue_full`, `container.ack_dropped_accept_full`; " \
	  "`TcpExt ListenOverflows` in that namespace",			\
	  "as accept_queue_full, for the application in the namespace the "	\
	  "verdict names (net.core.somaxconn is per namespace)")	\
	X(container_syn_queue_full, CRITICAL, CONTAINER,		\
	  "forwarded SYNs reached a namespace whose listener's SYN queue was "	\
	  "full, with SYN cookies off there",				\
	  "`container.listen_drops.syn_queue_full`; `TcpExt TCPReqQFullDrop` in that namespace", \
	  "turn cookies on in that namespace (`ip netns exec NS sysctl -w "	\
	  "net.ipv4.tcp_syncookies=1`, or the container's sysctls)")	\
	X(container_listen_drop_other, CRITICAL, CONTAINER,		\
	  "the listener in the namespace SYNs were forwarded to dropped them "	\
	  "with neither queue full",					\
	  "`container.listen_drops.other`; `TcpExt ListenDrops` in that namespace", \
	  "as listen_drop_other, in that namespace")			\
	X(container_stack_drop, CRITICAL, CONTAINER,			\
	  "forwarded SYNs were freed in the namespace they reached before a "	\
	  "socket took them",						\
	  "`container.stack_drops`",					\
	  "nothing listens on the mapped port there (`docker port`, `ss -ltn` " \
	  "in the namespace), or a firewall rule there drops them")	\
	X(unexplained_nic_to_tc, WARNING, NIC,				\
	  "SYNs XDP counted that neither TC ingress nor a drop reason accounts for", \
	  "`unexplained.nic_to_tc` = `nic_syn` - `tc_syn` - stack drops between " \
	  "XDP and TC",							\
	  "another program between the two hooks (`bpftool net show dev IFACE`); " \
	  "else report it with the JSON records (docs/design.md, failure modes)") \
	X(unexplained_tc_to_listener, WARNING, STACK,			\
	  "SYNs TC ingress counted that reached no listener, no drop reason "	\
	  "and no forwarding",						\
	  "`unexplained.tc_to_listener` (its equation: `synacct counters`)", \
	  "on kernels before 6.3 without fexit or kprobes the listener is blind " \
	  "(`synacct -v` names the hooks); else report it with the JSON records") \
	X(unexplained_at_listener, WARNING, STACK,			\
	  "SYNs a listener consumed with no outcome counted (queued, cookie, dropped)", \
	  "`unexplained.at_listener` = `listener_syn` - `syn_queued` - "	\
	  "`syncookies_sent` - `listen_drops.*`",			\
	  "report it with the JSON records and the kernel version")	\
	X(unexplained_synack_sent, CRITICAL, STACK,			\
	  "more SYN-ACKs left through TC egress than the stack sent for this port", \
	  "`unexplained.synack_sent` > 0 (`synack_sent` against queued, cookie, " \
	  "retransmitted and forwarded SYN-ACKs)",			\
	  "something else answers SYNs on this port (nft synproxy, a user-space " \
	  "stack, another host's traffic bridged through the interface)") \
	X(unexplained_to_container, WARNING, CONTAINER,			\
	  "forwarded SYNs that never reached a listener, a drop reason or a "	\
	  "forward in the namespace they were sent to",			\
	  "`unexplained.to_container` = `forwarded` - `container.listener_syn` - " \
	  "`container.syn_to_request_sock` - `container.stack_drops`",	\
	  "check the route and the veth into that namespace (`ip -s link`); "	\
	  "else report it with the JSON records")			\
	X(unexplained_at_container_listener, WARNING, CONTAINER,	\
	  "forwarded SYNs a listener in the namespace consumed with no outcome counted", \
	  "`unexplained.at_container_listener`",			\
	  "report it with the JSON records and the kernel version")	\
	X(synack_lost, CRITICAL, STACK,					\
	  "SYN-ACKs the stack sent never reached TC egress; clients retransmit " \
	  "their SYNs",							\
	  "`unexplained.synack_sent` < 0",				\
	  "an output firewall rule (`nft list chain inet filter output`) or a " \
	  "full qdisc before TC")					\
	X(counts_lost, CRITICAL, LOST,					\
	  "a counter map was full: counts of this port were not recorded, so "	\
	  "its figures are short by that much",				\
	  "`counts_lost`, `update_failed`",				\
	  "too many distinct ports (a port scan): watch fewer with --ports, "	\
	  "and restart synacct to start from empty maps")		\
	X(accept_queue_stalled, WARNING, STACK,				\
	  "no SYN lost, but the accept queue is not drained: its oldest "	\
	  "connection has waited 10 s or more since its handshake (the "	\
	  "application is not calling accept()); it overflows next",	\
	  "`accept_queue_oldest_age_seconds` (the queue head's lsndtime, from " \
	  "the TCP iterator), `accept_queue_len`; `ss -ltn` Recv-Q",	\
	  "find why the application stopped accepting: a blocked accept loop, " \
	  "a stopped process, a listener left open by a process that no longer " \
	  "serves it")							\
	X(no_syns, INFO, TC,						\
	  "no SYN arrived for this port in the record",			\
	  "`nic_syn`, `tc_syn`, `listener_syn` all 0",			\
	  "none; if clients should be connecting, check the interface (--iface) " \
	  "and the route to this host")					\
	X(no_loss_cookies, OK, STACK,					\
	  "no loss; some SYNs were answered with SYN cookies (the SYN queue overflowed)", \
	  "`syncookies_sent`; `TcpExt SyncookiesSent` in nstat",	\
	  "none needed; if it lasts without a flood, raise the listen() backlog " \
	  "(docs/syn-cookies.md says what cookies cost)")		\
	X(no_loss_container, OK, CONTAINER,				\
	  "no loss; SYNs were forwarded to a namespace synacct follows, and "	\
	  "taken there",						\
	  "`forwarded`, `container.syn_queued`, `container.syncookies_sent`", \
	  "none")							\
	X(no_loss_forwarded, OK, STACK,					\
	  "no loss here; SYNs were forwarded to a namespace or host synacct "	\
	  "does not follow",						\
	  "`forwarded`",						\
	  "none here; run synacct where they go (or without --no-follow) to see " \
	  "whether the server took them")				\
	X(no_loss, OK, STACK,						\
	  "every SYN is accounted for, none lost",			\
	  "the funnel, gaps all 0",					\
	  "none")

enum sa_verdict_id {
#define SA_VERDICT_ENUM(id, sev, stage, ...) SA_V_##id,
	SA_VERDICTS(SA_VERDICT_ENUM)
#undef SA_VERDICT_ENUM
	SA_V_MAX
};

struct sa_verdict_def {
	const char *id;
	enum sa_verdict_level severity;
	enum sa_stage_id stage;		/* where the SYNs it names are */
	const char *meaning;		/* what it says, in general */
	const char *counters;		/* the kernel counters behind it */
	const char *fix;		/* what to do */
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
	__u64 tc_hook_drops;	/* TC ingress's own drops (tc mode: between) */
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
	/* Stage 0's, of the record (no port): SA_V_driver_drops when it
	 * saw a drop, its text owned by the view; else id SA_V_MAX. */
	struct sa_verdict driver;
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
/* The verdicts as a Markdown table: docs/verdicts.md holds it, and a test
 * compares the two. */
void sa_verdicts_markdown(FILE *f);
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
