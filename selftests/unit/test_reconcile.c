// SPDX-License-Identifier: GPL-2.0
/*
 * test_reconcile.c - reconciliation (agent/analysis/reconcile.c) from hand-built
 * port figures: every equation of the funnel (the gaps, negative ones
 * included), every verdict word for word, which loss wins, what a stage
 * that is off changes, the per-record view and the MIB cross-check.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "reconcile.h"
#include "tap.h"

/* enum skb_drop_reason values of Linux 6.18 (the code finds reasons by
 * name, as the agent's BTF reading names them). */
#define R_NOT_SPECIFIED		2
#define R_NO_SOCKET		3
#define R_TCP_CSUM		10
#define R_NETFILTER_DROP	12
#define R_QDISC_DROP		33
#define R_CPU_BACKLOG		71
#define R_TC_INGRESS		73
#define R_TC_EGRESS		74
#define R_UNNAMED		200

/* Macros, not const objects: clang (make SANITIZE=1) takes no object in
 * a static initializer. */
#define ALL ((struct sa_measured){ .nic = true, .stack = true })
/* Native XDP: the per-CPU backlog lies between XDP and TC. */
#define NATIVE ((struct sa_measured){ .nic = true, .nic_native = true, .stack = true })
/* tc mode: nic_syn is TC ingress's first filter, tc_syn its last: TC's
 * own drops lie between, the per-CPU backlog before both. */
#define TCMODE ((struct sa_measured){ .nic = true, .nic_tc = true, .stack = true })

/* One port's figures: counters by enum, drops by reason, gauges. */
struct fig {
	__u64 c[SA_C_MAX];
	struct sa_drop_count drops[4];
	__u32 n_drops;
	__u64 backlog;
};

/* @ps, cleared, holding counters @c (its heap from the last use freed). */
static void counts_of(struct sa_port_stats *ps, const __u64 *c)
{
	free(ps->c.heap);
	memset(ps, 0, sizeof(*ps));
	for (int i = 0; i < SA_C_MAX; i++)
		if (sa_c_set(ps, i, c[i]))
			abort();
}

static struct sa_port_view view_of(const struct fig *f, struct sa_measured m,
				   int tcp_syncookies)
{
	static struct sa_port_stats ps;
	static struct sa_listener_gauges g;
	struct sa_port_view v = { .port = 8080 };

	counts_of(&ps, f->c);
	ps.drops = (struct sa_drop_count *)f->drops;
	ps.n_drops = f->n_drops;
	g.accept_backlog = f->backlog;
	ps.gauges = &g;
	sa_reconcile_port(&ps, m, tcp_syncookies, &v);
	return v;
}

static const char *gaps(const struct sa_port_view *v)
{
	static char buf[128];

	snprintf(buf, sizeof(buf), "%lld,%lld,%lld,%lld",
		 (long long)v->gap[SA_GAP_nic_to_tc], (long long)v->gap[SA_GAP_tc_to_listener],
		 (long long)v->gap[SA_GAP_at_listener], (long long)v->gap[SA_GAP_synack_sent]);
	return buf;
}

#define F(...) (struct fig){ __VA_ARGS__ }
#define C(name) [SA_C_##name]

/* A case: figures, what the stages measured, the gaps
 * (nic_to_tc,tc_to_listener,at_listener,synack_sent) and the verdict. */
static const struct rcase {
	const char *what;
	struct fig f;
	struct sa_measured m;
	const char *gaps;
	const char *verdict;
} cases[] = {
	{ "healthy",
	  F(.c = { C(nic_syn) = 100, C(tc_syn) = 100, C(listener_syn) = 100,
		   C(syn_queued) = 100, C(established) = 100, C(synack_sent) = 100 }),
	  ALL, "0,0,0,0", "no loss" },
	{ "no SYNs", F(.c = { 0 }), ALL, "0,0,0,0", "no SYNs" },
	/* TC's hooks went (agent/cmd/health.c): tc_syn stopped, which is no
	 * loss between XDP and TC nor after TC, and the verdict says so. */
	{ "TC hooks lost: no gap involves TC",
	  F(.c = { C(nic_syn) = 40, C(tc_syn) = 20, C(listener_syn) = 20, C(syn_queued) = 20,
		   C(established) = 20, C(synack_sent) = 10 }),
	  ((struct sa_measured){ .nic = true, .stack = true, .tc_lost = true,
				 .lost = "tc_ingress, tc_egress on eth0 lost at T (clsact qdisc deleted)" }),
	  "0,0,0,0", "tc_ingress, tc_egress on eth0 lost at T (clsact qdisc deleted); since "
	  "then, where synacct still counts: no loss" },
	{ "TC hooks lost, stack stage off: no loss between XDP and TC",
	  F(.c = { C(nic_syn) = 40, C(tc_syn) = 20 }),
	  ((struct sa_measured){ .nic = true, .tc_lost = true, .lost = "tc lost" }),
	  "0,0,0,0", "tc lost; since then, where synacct still counts: stack stage off: no "
	  "verdict beyond TC" },
	{ "SYN cookies",
	  F(.c = { C(nic_syn) = 200, C(tc_syn) = 200, C(listener_syn) = 200, C(syn_queued) = 17,
		   C(syncookies_sent) = 183, C(synack_sent) = 200 }),
	  ALL, "0,0,0,0", "no loss; 183 SYNs answered with SYN cookies" },
	{ "retransmitted SYNs answered from their request sock",
	  F(.c = { C(nic_syn) = 12, C(tc_syn) = 12, C(listener_syn) = 10, C(syn_to_request_sock) = 2,
		   C(syn_queued) = 10, C(synack_sent) = 12, C(synack_retrans) = 2 }),
	  ALL, "0,0,0,0", "no loss" },
	{ "accept queue full (SYNs)",
	  F(.c = { C(nic_syn) = 30, C(tc_syn) = 30, C(listener_syn) = 30, C(syn_queued) = 5,
		   C(listen_drop_accept_queue_full) = 25, C(synack_sent) = 5 }, .backlog = 4),
	  ALL, "0,0,0,0",
	  "accept queue full (backlog 4): the application is not accepting fast enough; "
	  "25 SYNs dropped at the listener" },
	{ "accept queue full (handshake ACKs)",
	  F(.c = { C(nic_syn) = 6, C(tc_syn) = 6, C(listener_syn) = 6, C(syn_queued) = 3,
		   C(syncookies_sent) = 3, C(synack_sent) = 6, C(ack_dropped_accept_full) = 3 },
	    .backlog = 2),
	  ALL, "0,0,0,0",
	  "accept queue full at handshake completion (backlog 2): the application is not "
	  "accepting fast enough; 3 handshake ACKs dropped" },
	{ "accept queue full (both)",
	  F(.c = { C(nic_syn) = 30, C(tc_syn) = 30, C(listener_syn) = 30, C(syn_queued) = 10,
		   C(listen_drop_accept_queue_full) = 20, C(synack_sent) = 10,
		   C(ack_dropped_accept_full) = 4 }, .backlog = 4),
	  ALL, "0,0,0,0",
	  "accept queue full (backlog 4): the application is not accepting fast enough; "
	  "20 SYNs dropped at the listener, 4 handshake ACKs dropped" },
	{ "SYN queue full",
	  F(.c = { C(nic_syn) = 200, C(tc_syn) = 200, C(listener_syn) = 200, C(syn_queued) = 17,
		   C(listen_drop_syn_queue_full) = 183, C(synack_sent) = 17 }),
	  ALL, "0,0,0,0",
	  "SYN queue full without SYN cookies: 183 SYNs dropped at the listener; enable "
	  "net.ipv4.tcp_syncookies or raise the backlog" },
	{ "listener drop, other",
	  F(.c = { C(nic_syn) = 10, C(tc_syn) = 10, C(listener_syn) = 10, C(syn_queued) = 7,
		   C(listen_drop_other) = 3, C(synack_sent) = 7 }),
	  ALL, "0,0,0,0", "listener dropped 3 SYNs (ListenDrops without a full queue)" },
	{ "forwarded to a container, SYN-ACKs back through the host",
	  F(.c = { C(nic_syn) = 20, C(tc_syn) = 20, C(forwarded) = 20, C(synack_sent) = 22,
		   C(synack_forwarded) = 22 }),
	  ALL, "0,0,0,0",
	  "no loss here; 20 SYNs forwarded (this namespace does not see whether their server took them)" },
	{ "forwarded and local at once, a forward-path drop",
	  F(.c = { C(nic_syn) = 13, C(tc_syn) = 13, C(forwarded) = 5, C(listener_syn) = 6,
		   C(syn_queued) = 6, C(synack_sent) = 11, C(synack_forwarded) = 5 },
	    .drops = { { R_NETFILTER_DROP, 2 } }, .n_drops = 1),
	  ALL, "0,0,0,0", "firewall: netfilter dropped 2 SYNs (NETFILTER_DROP)" },
	{ "forwarded SYNs not counted as such: the gap says so",
	  F(.c = { C(nic_syn) = 8, C(tc_syn) = 8, C(forwarded) = 3, C(synack_sent) = 8,
		   C(synack_forwarded) = 3 }),
	  ALL, "0,5,0,5", "5 SYNs unexplained between TC and the listener" },
	{ "closed port",
	  F(.c = { C(nic_syn) = 20, C(tc_syn) = 20 }, .drops = { { R_NO_SOCKET, 20 } }, .n_drops = 1),
	  ALL, "0,0,0,0", "no listener: 20 SYNs to a closed port (NO_SOCKET)" },
	{ "firewall",
	  F(.c = { C(nic_syn) = 10, C(tc_syn) = 10 }, .drops = { { R_NETFILTER_DROP, 10 } }, .n_drops = 1),
	  ALL, "0,0,0,0", "firewall: netfilter dropped 10 SYNs (NETFILTER_DROP)" },
	{ "bad checksum",
	  F(.c = { C(nic_syn) = 50, C(tc_syn) = 50 }, .drops = { { R_TCP_CSUM, 50 } }, .n_drops = 1),
	  ALL, "0,0,0,0",
	  "bad TCP checksum: 50 SYNs dropped (TCP_CSUM); check the NIC's checksum offload or the path" },
	{ "CPU backlog, between XDP and TC",
	  F(.c = { C(nic_syn) = 100, C(tc_syn) = 60, C(listener_syn) = 60, C(syn_queued) = 60,
		   C(synack_sent) = 60 }, .drops = { { R_CPU_BACKLOG, 40 } }, .n_drops = 1),
	  NATIVE, "0,0,0,0",
	  "CPU backlog full: 40 SYNs dropped between XDP and TC (CPU_BACKLOG); raise "
	  "net.core.netdev_max_backlog" },
	{ "CPU backlog, before generic XDP and TC",
	  F(.c = { C(nic_syn) = 60, C(tc_syn) = 60, C(listener_syn) = 60, C(syn_queued) = 60,
		   C(synack_sent) = 60 }, .drops = { { R_CPU_BACKLOG, 40 } }, .n_drops = 1),
	  ALL, "0,0,0,0",
	  "CPU backlog full: 40 SYNs dropped before XDP and TC (CPU_BACKLOG); raise "
	  "net.core.netdev_max_backlog" },
	{ "tc mode: another TC filter's drops, between nic_syn and tc_syn",
	  F(.c = { C(nic_syn) = 100, C(tc_syn) = 70, C(listener_syn) = 70, C(syn_queued) = 70,
		   C(synack_sent) = 70 }, .drops = { { R_TC_INGRESS, 30 } }, .n_drops = 1),
	  TCMODE, "0,0,0,0", "stack drop: 30 SYNs dropped before a socket (TC_INGRESS)" },
	{ "tc mode: CPU backlog before both, TC's drops between, one unexplained",
	  F(.c = { C(nic_syn) = 100, C(tc_syn) = 69, C(listener_syn) = 69, C(syn_queued) = 69,
		   C(synack_sent) = 69 }, .drops = { { R_TC_INGRESS, 30 }, { R_CPU_BACKLOG, 5 } },
		   .n_drops = 2),
	  TCMODE, "1,0,0,0", "stack drop: 30 SYNs dropped before a socket (TC_INGRESS)" },
	{ "TC's drops outside tc mode: after tc_syn (TC counts first)",
	  F(.c = { C(nic_syn) = 100, C(tc_syn) = 100, C(listener_syn) = 70, C(syn_queued) = 70,
		   C(synack_sent) = 70 }, .drops = { { R_TC_INGRESS, 30 } }, .n_drops = 1),
	  ALL, "0,0,0,0", "stack drop: 30 SYNs dropped before a socket (TC_INGRESS)" },
	{ "tc mode: TC_EGRESS is not TC ingress's",
	  F(.c = { C(nic_syn) = 100, C(tc_syn) = 100, C(listener_syn) = 70, C(syn_queued) = 70,
		   C(synack_sent) = 70 }, .drops = { { R_TC_EGRESS, 30 } }, .n_drops = 1),
	  TCMODE, "0,0,0,0", "stack drop: 30 SYNs dropped before a socket (TC_EGRESS)" },
	{ "another reason",
	  F(.c = { C(nic_syn) = 4, C(tc_syn) = 4 }, .drops = { { R_NOT_SPECIFIED, 4 } }, .n_drops = 1),
	  ALL, "0,0,0,0", "stack drop: 4 SYNs dropped before a socket (NOT_SPECIFIED)" },
	{ "a reason this kernel's BTF did not name",
	  F(.c = { C(nic_syn) = 4, C(tc_syn) = 4 }, .drops = { { R_UNNAMED, 4 } }, .n_drops = 1),
	  ALL, "0,0,0,0", "stack drop: 4 SYNs dropped before a socket (REASON_200)" },
	{ "unexplained between XDP and TC",
	  F(.c = { C(nic_syn) = 10, C(tc_syn) = 7, C(listener_syn) = 7, C(syn_queued) = 7,
		   C(synack_sent) = 7 }),
	  ALL, "3,0,0,0", "3 SYNs unexplained between XDP and TC" },
	{ "unexplained between TC and the listener",
	  F(.c = { C(nic_syn) = 10, C(tc_syn) = 10, C(listener_syn) = 6, C(syn_queued) = 6,
		   C(synack_sent) = 6 }),
	  ALL, "0,4,0,0", "4 SYNs unexplained between TC and the listener" },
	{ "unexplained at the listener",
	  F(.c = { C(nic_syn) = 10, C(tc_syn) = 10, C(listener_syn) = 10, C(syn_queued) = 8,
		   C(synack_sent) = 8 }),
	  ALL, "0,0,2,0", "2 SYNs unexplained at the listener" },
	/* The smallest loss is a loss: one SYN missing at any gap has its
	 * verdict (a threshold of > 1 would call it "no loss"). */
	{ "one SYN unexplained between XDP and TC",
	  F(.c = { C(nic_syn) = 10, C(tc_syn) = 9, C(listener_syn) = 9, C(syn_queued) = 9,
		   C(synack_sent) = 9 }),
	  ALL, "1,0,0,0", "1 SYNs unexplained between XDP and TC" },
	{ "one SYN unexplained between TC and the listener",
	  F(.c = { C(nic_syn) = 10, C(tc_syn) = 10, C(listener_syn) = 9, C(syn_queued) = 9,
		   C(synack_sent) = 9 }),
	  ALL, "0,1,0,0", "1 SYNs unexplained between TC and the listener" },
	{ "one SYN unexplained at the listener",
	  F(.c = { C(nic_syn) = 10, C(tc_syn) = 10, C(listener_syn) = 10, C(syn_queued) = 9,
		   C(synack_sent) = 9 }),
	  ALL, "0,0,1,0", "1 SYNs unexplained at the listener" },
	{ "one SYN-ACK lost on the way out",
	  F(.c = { C(nic_syn) = 5, C(tc_syn) = 5, C(listener_syn) = 5, C(syn_queued) = 5,
		   C(synack_sent) = 4 }),
	  ALL, "0,0,0,-1",
	  "SYN-ACKs lost on the way out: 1 of them never reached TC egress (an output "
	  "firewall rule, or a full qdisc?); clients retransmit their SYNs" },
	{ "one SYN-ACK at TC egress unaccounted for",
	  F(.c = { C(nic_syn) = 5, C(tc_syn) = 5, C(listener_syn) = 5, C(syn_queued) = 5,
		   C(synack_sent) = 6 }),
	  ALL, "0,0,0,1", "1 SYN-ACKs at TC egress that the stack did not account for" },
	{ "unclassified at the listener (a CPU without a MIB baseline)",
	  F(.c = { C(nic_syn) = 10, C(tc_syn) = 10, C(listener_syn) = 10, C(syn_queued) = 7,
		   C(listener_unclassified) = 3, C(synack_sent) = 7 }),
	  ALL, "0,0,3,0", "3 SYNs unexplained at the listener" },
	{ "SYN-ACKs lost on the way out (negative synack_sent gap)",
	  F(.c = { C(nic_syn) = 5, C(tc_syn) = 5, C(listener_syn) = 5, C(syn_queued) = 5,
		   C(synack_sent) = 2 }),
	  ALL, "0,0,0,-3",
	  "SYN-ACKs lost on the way out: 3 of them never reached TC egress (an output "
	  "firewall rule, or a full qdisc?); clients retransmit their SYNs" },
	{ "SYN-ACKs the stack did not account for",
	  F(.c = { C(nic_syn) = 5, C(tc_syn) = 5, C(listener_syn) = 5, C(syn_queued) = 5,
		   C(synack_sent) = 8 }),
	  ALL, "0,0,0,3", "3 SYN-ACKs at TC egress that the stack did not account for" },
	{ "SYN-ACKs dropped after TC egress: first ones, and retransmissions that failed",
	  F(.c = { C(nic_syn) = 100, C(tc_syn) = 100, C(listener_syn) = 100, C(syn_queued) = 100,
		   C(synack_sent) = 160, C(synack_retrans) = 40, C(synack_retrans_failed) = 20 },
	    .drops = { { R_QDISC_DROP | SA_DROP_SYNACK, 45 }, { R_CPU_BACKLOG | SA_DROP_SYNACK, 5 } },
	    .n_drops = 2),
	  ALL, "0,0,0,0",
	  "SYN-ACKs dropped after TC egress: 50 (QDISC_DROP 45, CPU_BACKLOG 5) by the egress "
	  "qdisc, the device or the veth peer's backlog; 20 were failed retransmissions; "
	  "clients retransmit their SYNs" },
	{ "a failed retransmission the drops do not explain",
	  F(.c = { C(nic_syn) = 10, C(tc_syn) = 10, C(listener_syn) = 10, C(syn_queued) = 10,
		   C(synack_sent) = 13, C(synack_retrans) = 2 }),
	  ALL, "0,0,0,1", "1 SYN-ACKs at TC egress that the stack did not account for" },
	{ "negative gaps are not losses",
	  F(.c = { C(nic_syn) = 5, C(tc_syn) = 8, C(listener_syn) = 7, C(syn_to_request_sock) = 2,
		   C(syn_queued) = 9, C(synack_sent) = 9 }),
	  ALL, "-3,-1,-2,0", "no loss" },
	{ "the biggest loss names the stage",
	  F(.c = { C(nic_syn) = 14, C(tc_syn) = 14, C(listener_syn) = 9,
		   C(listen_drop_syn_queue_full) = 9 }, .drops = { { R_NO_SOCKET, 5 } }, .n_drops = 1),
	  ALL, "0,0,0,0",
	  "SYN queue full without SYN cookies: 9 SYNs dropped at the listener; enable "
	  "net.ipv4.tcp_syncookies or raise the backlog" },
	{ "a tie: the stage first on the SYN's path",
	  F(.c = { C(nic_syn) = 10, C(tc_syn) = 10, C(listener_syn) = 5,
		   C(listen_drop_accept_queue_full) = 5 }, .drops = { { R_NO_SOCKET, 5 } }, .n_drops = 1,
	    .backlog = 1),
	  ALL, "0,0,0,0", "no listener: 5 SYNs to a closed port (NO_SOCKET)" },
	{ "XDP off: no nic_to_tc gap",
	  F(.c = { C(nic_syn) = 0, C(tc_syn) = 10, C(listener_syn) = 10, C(syn_queued) = 10,
		   C(synack_sent) = 10 }),
	  { .nic = false, .stack = true }, "0,0,0,0", "no loss" },
	{ "stack stage off: SYNs lost between XDP and TC",
	  F(.c = { C(nic_syn) = 10, C(tc_syn) = 7, C(listener_syn) = 99 }),
	  { .nic = true, .stack = false }, "3,0,0,0", "3 SYNs lost between XDP and TC" },
	/* SYNs behind more IPv6 extension headers than XDP/TC parse: unparsed
	 * there, counted from the stack on; said, never unexplained. */
	{ "SYNs beyond the parser's limits",
	  F(.c = { C(nic_syn) = 10, C(tc_syn) = 10, C(listener_syn) = 13,
		   C(syn_beyond_parser) = 5, C(syn_queued) = 13, C(synack_sent) = 13 },
	    .drops = { { R_NO_SOCKET, 2 } }, .n_drops = 1),
	  ALL, "0,0,0,0",
	  "no listener: 2 SYNs to a closed port (NO_SOCKET); 5 SYNs beyond the XDP/TC "
	  "parser's limits (more than 4 IPv6 extension headers): counted from the stack on, "
	  "unparsed at XDP and TC" },
	{ "SYNs beyond the parser's limits, nothing lost",
	  F(.c = { C(nic_syn) = 0, C(tc_syn) = 0, C(listener_syn) = 4,
		   C(syn_beyond_parser) = 4, C(syn_queued) = 4, C(synack_sent) = 4 }),
	  ALL, "0,0,0,0",
	  "no loss; 4 SYNs beyond the XDP/TC parser's limits (more than 4 IPv6 extension "
	  "headers): counted from the stack on, unparsed at XDP and TC" },
	{ "stack stage off, nothing lost before TC",
	  F(.c = { C(nic_syn) = 10, C(tc_syn) = 10, C(listener_syn) = 1 },
	    .drops = { { R_NO_SOCKET, 10 } }, .n_drops = 1),
	  { .nic = true, .stack = false }, "0,0,0,0", "stack stage off: no verdict beyond TC" },
	{ "stack stage and XDP off",
	  F(.c = { C(nic_syn) = 0, C(tc_syn) = 10 }),
	  { .nic = false, .stack = false }, "0,0,0,0", "stack stage off: no verdict beyond TC" },
};

static void ports(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct rcase *k = &cases[i];
		struct sa_port_view v = view_of(&k->f, k->m, 1);
		__u64 drops = 0, pre_tc = 0;

		is_str(gaps(&v), k->gaps, "%s: unexplained nic_to_tc,tc_to_listener,at_listener,synack_sent",
		       k->what);
		is_str(v.verdict.text, k->verdict, "%s: verdict", k->what);
		for (__u32 d = 0; d < k->f.n_drops; d++) {
			if (k->f.drops[d].reason & SA_DROP_SYNACK)
				continue;
			drops += k->f.drops[d].n;
			if (k->f.drops[d].reason == R_CPU_BACKLOG)
				pre_tc += k->f.drops[d].n;
		}
		ok(v.stack_drops == drops && v.pre_tc_drops == pre_tc &&
		   v.listen_drops == k->f.c[SA_C_listen_drop_accept_queue_full] +
				     k->f.c[SA_C_listen_drop_syn_queue_full] +
				     k->f.c[SA_C_listen_drop_other],
		   "%s: stack_drops %llu, of them before TC %llu, listen_drops %llu", k->what,
		   (unsigned long long)v.stack_drops, (unsigned long long)v.pre_tc_drops,
		   (unsigned long long)v.listen_drops);
		ok(v.port == 8080 && v.ps != NULL, "%s: the view keeps its port and figures", k->what);
	}
}

/* Forwarded SYNs followed into a container's namespace (follow.h). */
static void containers(void)
{
	static const struct {
		const char *what;
		struct fig f;
		bool whole;		/* followed since before the record began */
		const char *gaps;	/* to_container,at_container_listener */
		const char *verdict;
	} cc[] = {
		{ "followed, every SYN queued there",
		  F(.c = { C(nic_syn) = 20, C(tc_syn) = 20, C(forwarded) = 20, C(synack_sent) = 20,
			   C(synack_forwarded) = 20, C(ct_listener_syn) = 20, C(ct_syn_queued) = 20,
			   C(ct_established) = 20 }),
		  true, "0,0",
		  "no loss; 20 SYNs forwarded to namespace web1 (port 80), 20 of them queued "
		  "there, 0 answered with cookies" },
		{ "the container's accept queue full",
		  F(.c = { C(nic_syn) = 30, C(tc_syn) = 30, C(forwarded) = 30, C(synack_sent) = 5,
			   C(synack_forwarded) = 5, C(ct_listener_syn) = 30, C(ct_syn_queued) = 5,
			   C(ct_accept_queue_full) = 25, C(ct_established) = 5 }),
		  true, "0,0",
		  "accept queue full in namespace web1 (port 80, backlog 4): the application "
		  "there is not accepting fast enough; 25 forwarded SYNs dropped at its "
		  "listener, 0 handshake ACKs dropped" },
		{ "the container's SYN queue full",
		  F(.c = { C(nic_syn) = 200, C(tc_syn) = 200, C(forwarded) = 200, C(synack_sent) = 16,
			   C(synack_forwarded) = 16, C(ct_listener_syn) = 200, C(ct_syn_queued) = 16,
			   C(ct_syn_queue_full) = 184 }),
		  true, "0,0",
		  "SYN queue full without SYN cookies in namespace web1 (port 80): 184 forwarded "
		  "SYNs dropped at its listener; enable net.ipv4.tcp_syncookies there or raise "
		  "the backlog" },
		{ "no listener in the container",
		  F(.c = { C(nic_syn) = 5, C(tc_syn) = 5, C(forwarded) = 5, C(ct_stack_drops) = 5 }),
		  true, "0,0",
		  "5 forwarded SYNs dropped in namespace web1 before a socket took them (no "
		  "listener on port 80 there, or a firewall rule)" },
		{ "forwarded SYNs that never reached the container",
		  F(.c = { C(nic_syn) = 10, C(tc_syn) = 10, C(forwarded) = 10, C(synack_sent) = 7,
			   C(synack_forwarded) = 7, C(ct_listener_syn) = 7, C(ct_syn_queued) = 7 }),
		  true, "3,0", "3 forwarded SYNs unexplained between this namespace and web1" },
		{ "the same, the namespace followed during the record: no gap",
		  F(.c = { C(nic_syn) = 10, C(tc_syn) = 10, C(forwarded) = 10, C(synack_sent) = 7,
			   C(synack_forwarded) = 7, C(ct_listener_syn) = 7, C(ct_syn_queued) = 7 }),
		  false, "0,0",
		  "no loss; 10 SYNs forwarded to namespace web1 (port 80), 7 of them queued "
		  "there, 0 answered with cookies" },
		{ "unclassified at the container's listener",
		  F(.c = { C(nic_syn) = 10, C(tc_syn) = 10, C(forwarded) = 10, C(synack_sent) = 8,
			   C(synack_forwarded) = 8, C(ct_listener_syn) = 10, C(ct_syn_queued) = 8,
			   C(ct_unclassified) = 2 }),
		  true, "0,2", "2 forwarded SYNs unexplained at the listener in web1" },
	};

	for (size_t i = 0; i < sizeof(cc) / sizeof(cc[0]); i++) {
		static struct sa_port_stats ps;
		static struct sa_port_follow fo;
		struct sa_port_view v = { .port = 8080 };
		char g[64];

		counts_of(&ps, cc[i].f.c);
		fo = (struct sa_port_follow){ .cookie = 4242, .netns = "web1", .port = 80,
					      .whole = cc[i].whole, .cg.accept_backlog = 4 };
		ps.follow = &fo;
		sa_reconcile_port(&ps, ALL, 1, &v);
		snprintf(g, sizeof(g), "%lld,%lld", (long long)v.gap[SA_GAP_to_container],
			 (long long)v.gap[SA_GAP_at_container_listener]);
		is_str(g, cc[i].gaps, "%s: unexplained to_container,at_container_listener",
		       cc[i].what);
		is_str(v.verdict.text, cc[i].verdict, "%s: verdict", cc[i].what);
		is_str(gaps(&v), "0,0,0,0", "%s: the host's own gaps", cc[i].what);
	}
}

/* The funnel's equations, checked on every case above that has the stack
 * stage: each gap is exactly what is left of its equation. */
static void equations(void)
{
	bool all = true;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct rcase *k = &cases[i];
		struct sa_port_view v = view_of(&k->f, k->m, 1);
		const __u64 *c = k->f.c;
		__s64 after_tc = (__s64)(v.stack_drops - v.pre_tc_drops -
					 v.tc_hook_drops * k->m.nic_tc);

		/* Lost TC hooks take TC's equations out (the cases above
		 * hold their gaps at 0). */
		if (!k->m.stack || k->m.tc_lost)
			continue;
		all &= (__s64)c[SA_C_nic_syn] * k->m.nic ==
		       (__s64)c[SA_C_tc_syn] * k->m.nic + (__s64)v.pre_tc_drops * k->m.nic_native +
		       (__s64)v.tc_hook_drops * k->m.nic_tc +
		       v.gap[SA_GAP_nic_to_tc];
		all &= (__s64)c[SA_C_tc_syn] + (__s64)c[SA_C_syn_beyond_parser] ==
		       (__s64)c[SA_C_listener_syn] +
		       (__s64)c[SA_C_syn_to_request_sock] + after_tc +
		       (__s64)c[SA_C_forwarded] + v.gap[SA_GAP_tc_to_listener];
		all &= (__s64)c[SA_C_listener_syn] == (__s64)c[SA_C_syn_queued] +
		       (__s64)c[SA_C_syncookies_sent] + (__s64)v.listen_drops +
		       v.gap[SA_GAP_at_listener];
		all &= (__s64)c[SA_C_synack_sent] == (__s64)c[SA_C_syn_queued] +
		       (__s64)c[SA_C_syncookies_sent] + (__s64)c[SA_C_synack_retrans] +
		       (__s64)c[SA_C_synack_forwarded] + (__s64)c[SA_C_synack_retrans_failed] +
		       v.gap[SA_GAP_synack_sent];
		if (!all) {
			diag("equations fail for '%s'", k->what);
			break;
		}
	}
	ok(all, "every case: nic = tc + drops between native XDP and TC + gap; tc + beyond the parser = "
	   "listener + request sock + "
	   "drops after TC + forwarded + gap; listener = queued + cookies + listen drops + gap; "
	   "synack_sent = queued + cookies + retrans + synack_forwarded + failed retrans + gap");
}

static void cookie_mode(void)
{
	struct fig none = F(.c = { C(tc_syn) = 3 });
	struct fig sent = F(.c = { C(syncookies_sent) = 1 });

	ok(!view_of(&none, ALL, 1).cookie_mode, "cookie_mode: no cookies sent, tcp_syncookies=1: off");
	ok(!view_of(&none, ALL, -1).cookie_mode, "cookie_mode: tcp_syncookies unknown: off");
	ok(view_of(&none, ALL, 2).cookie_mode, "cookie_mode: tcp_syncookies=2: on, cookies or not");
	ok(view_of(&sent, ALL, 0).cookie_mode, "cookie_mode: a cookie sent: on, whatever the setting");
}

/* A snapshot for the record-level view. */
static struct sa_snapshot *record(void)
{
	struct sa_snapshot *s = sa_snapshot_new();
	struct sa_port_stats *p;

	if (!s)
		return NULL;
	p = sa_snapshot_port(s, 80);		/* traffic */
	sa_c_set(p, SA_C_nic_syn, 4);
	sa_c_set(p, SA_C_tc_syn, 4);
	sa_c_set(p, SA_C_listener_syn, 4);
	sa_c_set(p, SA_C_syn_queued, 4);
	sa_c_set(p, SA_C_synack_sent, 4);
	sa_c_set(p, SA_C_established, 4);
	sa_c_set(p, SA_C_syncookies_sent, 3);
	sa_c_set(p, SA_C_listen_drop_accept_queue_full, 2);
	sa_c_set(p, SA_C_ack_dropped_accept_full, 1);
	sa_c_set(p, SA_C_listen_drop_syn_queue_full, 4);
	sa_c_set(p, SA_C_listen_drop_other, 5);
	sa_c_add(p, SA_C_listener_syn, 3 + 2 + 4 + 5);
	sa_c_add(p, SA_C_synack_sent, 3);
	p = sa_snapshot_port(s, 443);		/* an idle listener whose queue moved */
	sa_port_gauges(p)->listeners = 1;
	p->gauges_moved = true;
	p = sa_snapshot_port(s, 8080);		/* an idle listener, queues as before */
	sa_port_gauges(p)->listeners = 1;
	p = sa_snapshot_port(s, 9000);		/* traffic, not selected */
	sa_c_set(p, SA_C_tc_syn, 2);
	sa_c_set(p, SA_C_established, 2);
	sa_c_set(p, SA_C_syncookies_sent, 1);
	s->tcp_syncookies = 1;
	/* The namespace's MIBs as the per-port sums make them. */
	s->mib[SA_MIB_TcpExtSyncookiesSent] = 3 + 1;
	s->mib[SA_MIB_TcpExtListenOverflows] = 2 + 1;
	s->mib[SA_MIB_TcpExtTCPReqQFullDrop] = 4;
	s->mib[SA_MIB_TcpExtListenDrops] = 2 + 4 + 5 + 1;
	s->mib[SA_MIB_TcpPassiveOpens] = 4 + 2;
	return s;
}

static const char *view_ports(const struct sa_view *v)
{
	static char buf[256];
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < v->n_ports && off < sizeof(buf); i++)
		off += snprintf(buf + off, sizeof(buf) - off, "%s%u", i ? "," : "", v->ports[i].port);
	return buf;
}

static void view(void)
{
	struct sa_snapshot *s = record();
	struct sa_portset shown, all = { .any = true };
	struct sa_view v;

	if (!ok(s != NULL, "a snapshot"))
		return;
	sa_portset_parse(&shown, "80,443,8080");
	is_int(sa_view_build(&v, s, ALL, &shown, false), 0, "sa_view_build, every shown port: 0");
	is_str(view_ports(&v), "80,443,8080", "every shown port, in port order");
	ok(v.n_ports == 3 && v.ports[0].ps == s->port[80], "a port's view points at its figures");
	is_str(v.ports[1].verdict.text, "no SYNs", "the idle listener: no SYNs");
	is_str(v.ports[0].verdict.text,
	       "listener dropped 5 SYNs (ListenDrops without a full queue)",
	       "port 80: the biggest of its losses (other 5 > syn queue 4 > accept queue 2 + 1)");
	ok(v.snap == s && v.m.nic && v.m.stack, "the view keeps its snapshot and stages");
	sa_view_free(&v);
	is_int(v.n_ports, 0, "sa_view_free empties the view");

	is_int(sa_view_build(&v, s, ALL, &shown, true), 0, "sa_view_build, active ports: 0");
	is_str(view_ports(&v), "80,443", "active: ports whose figures or queues moved, not an idle listener (8080)");
	sa_view_free(&v);
	sa_view_build(&v, s, ALL, &all, true);
	is_str(view_ports(&v), "80,443,9000", "every port, active: 80, 443, 9000");
	ok(v.consistent && !v.inconsistent[0], "per-port sums agree with the MIBs: consistent");
	sa_view_free(&v);

	s->mib[SA_MIB_TcpPassiveOpens]++;
	sa_view_build(&v, s, ALL, &all, true);
	ok(!v.consistent, "one MIB off by one: not consistent");
	is_str(v.inconsistent, "TcpPassiveOpens", "... and it is named");
	sa_view_free(&v);

	alloc_fail_after(0);
	is_int(sa_view_build(&v, s, ALL, &all, true), -ENOMEM, "no memory for the view: -ENOMEM");
	alloc_fail_after(-1);
	is_int(v.n_ports, 0, "... and an empty view");
	sa_view_free(&v);
	sa_snapshot_free(s);
}

/* Counts lost to a full map, per port (counts_lost): a port's gaps up to
 * them are those counts, not unexplained, and the verdict says so; beyond
 * them the rest is unexplained.  Runs missed (no port) mark a gap. */
static void lost(void)
{
	struct sa_snapshot *s = sa_snapshot_new();
	struct sa_portset all = { .any = true };
	struct sa_port_stats *a, *b, *c;
	struct sa_view v;

	if (!ok(s != NULL, "a snapshot"))
		return;
	a = sa_snapshot_port(s, 7000);
	b = sa_snapshot_port(s, 7001);
	c = sa_snapshot_port(s, 7002);
	sa_c_set(a, SA_C_nic_syn, 3);
	sa_c_set(a, SA_C_tc_syn, 3);
	sa_c_set(b, SA_C_nic_syn, 3);
	sa_c_set(b, SA_C_tc_syn, 3);
	*sa_port_drop(b, R_NO_SOCKET) = 3;
	sa_view_build(&v, s, ALL, &all, true);
	is_str(v.ports[0].verdict.text, "3 SYNs unexplained between TC and the listener",
	       "nothing lost: a gap is unexplained");
	sa_view_free(&v);
	s->missed_runs = 2;
	sa_view_build(&v, s, ALL, &all, true);
	is_str(v.ports[0].verdict.text, "3 SYNs unexplained between TC and the listener; "
	       "synacct's stack programs missed 2 runs (the kernel skips a "
	       "tracing program that fires again on a CPU where it is running): this port's "
	       "figures may be incomplete", "runs missed: the gap's verdict says so too");
	is_str(v.ports[1].verdict.text, "no listener: 3 SYNs to a closed port (NO_SOCKET)",
	       "runs missed: a port without a gap keeps its verdict");
	sa_view_free(&v);
	s->missed_runs = 0;
	/* The stack lost port 7000's three drops. */
	sa_c_set(a, SA_C_counts_lost, 3);
	sa_view_build(&v, s, ALL, &all, true);
	is_int(v.ports[0].gap[SA_GAP_tc_to_listener], 0, "a gap of 3 with 3 counts lost: 0 unexplained");
	is_str(v.ports[0].verdict.text, "counter map full: 3 counts of this port lost (a map entry "
	       "could not be created); its figures are incomplete by as much",
	       "counts lost: the verdict says so");
	is_str(v.ports[1].verdict.text, "no listener: 3 SYNs to a closed port (NO_SOCKET)",
	       "a port that lost nothing keeps its verdict");
	sa_view_free(&v);
	/* Two lost, a gap of 3: one is unexplained. */
	sa_c_set(a, SA_C_counts_lost, 2);
	sa_view_build(&v, s, ALL, &all, true);
	is_int(v.ports[0].gap[SA_GAP_tc_to_listener], 1, "a gap of 3 with 2 counts lost: 1 unexplained");
	sa_view_free(&v);
	/* TC lost a SYN of port 7002: nic_to_tc +1 and tc_to_listener -1,
	 * each one lost count. */
	sa_c_set(c, SA_C_nic_syn, 5);
	sa_c_set(c, SA_C_tc_syn, 4);
	*sa_port_drop(c, R_NO_SOCKET) = 5;
	sa_c_set(c, SA_C_counts_lost, 1);
	sa_view_build(&v, s, ALL, &all, true);
	is_int(v.ports[2].gap[SA_GAP_nic_to_tc], 0, "tc_syn lost: nic_to_tc 0");
	is_int(v.ports[2].gap[SA_GAP_tc_to_listener], 0, "tc_syn lost: tc_to_listener 0");
	is_str(v.ports[2].verdict.text, "no listener: 5 SYNs to a closed port (NO_SOCKET)",
	       "the bigger loss names the port");
	sa_view_free(&v);
	sa_c_set(c, SA_C_tc_syn, 2);
	sa_view_build(&v, s, ALL, &all, true);
	is_int(v.ports[2].gap[SA_GAP_nic_to_tc], 2, "3 gone between XDP and TC, 1 lost: 2 unexplained");
	is_int(v.ports[2].gap[SA_GAP_tc_to_listener], -2, "... and -3 + 1 after TC");
	sa_view_free(&v);
	sa_snapshot_free(s);
}

static void mib(void)
{
	static const char *const names[] = {
		"TcpExtSyncookiesSent", "TcpExtListenOverflows", "TcpExtTCPReqQFullDrop",
		"TcpExtListenDrops", "TcpPassiveOpens",
	};
	static const enum sa_mib_counter ids[] = {
		SA_MIB_TcpExtSyncookiesSent, SA_MIB_TcpExtListenOverflows,
		SA_MIB_TcpExtTCPReqQFullDrop, SA_MIB_TcpExtListenDrops, SA_MIB_TcpPassiveOpens,
	};
	struct sa_snapshot *s = record();
	char bad[256], small[12];

	if (!ok(s != NULL, "a snapshot"))
		return;
	ok(sa_reconcile_mib(s, bad, sizeof(bad)) && !bad[0],
	   "sums over every port (9000 too) == MIBs: agree, nothing named");
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		const char *name = names[i];

		s->mib[ids[i]] += 1;
		ok(!sa_reconcile_mib(s, bad, sizeof(bad)), "%s one more than the sums: disagree", name);
		ok(!strcmp(bad, name), "%s: named (%s)", name, bad);
		s->mib[ids[i]] -= 2;
		ok(!sa_reconcile_mib(s, bad, sizeof(bad)), "%s one less than the sums: disagree", name);
		s->mib[ids[i]] += 1;
	}
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		s->mib[ids[i]] = 0;
	ok(!sa_reconcile_mib(s, bad, sizeof(bad)), "every MIB at 0: disagree");
	is_str(bad, "TcpExtSyncookiesSent,TcpExtListenOverflows,TcpExtTCPReqQFullDrop,"
	       "TcpExtListenDrops,TcpPassiveOpens", "... all five named, in order");
	memset(small, 'x', sizeof(small));
	sa_reconcile_mib(s, small, 8);
	ok(strlen(small) < 8 && small[8] == 'x', "a short buffer: cut, not overrun ('%s')", small);
	ok(!sa_reconcile_mib(s, NULL, 0), "no buffer: the answer alone");
	sa_snapshot_free(s);
}

/* Queue age: no loss, an accept queue head that waited 10 s or more is
 * the verdict accept_queue_stalled (its figure the queue's length); less,
 * or a loss, and the verdict is what it was. */
static void stalled(void)
{
	static const struct { __u64 age_us, syn, drop; const char *id, *text; } cc[] = {
		{ 10000000, 0, 0, "accept_queue_stalled",
		  "accept queue not drained: its oldest connection waited 10.0 s (3 waiting, backlog 4); the application is not accepting" },
		{ 9999999, 0, 0, "no_syns", "no SYNs" },
		{ 12000000, 5, 5, "accept_queue_full", NULL },
	};

	for (size_t i = 0; i < sizeof(cc) / sizeof(cc[0]); i++) {
		static struct sa_port_stats ps;
		static struct sa_listener_gauges g;
		struct sa_port_view v = { .port = 8080 };
		__u64 c[SA_C_MAX] = { 0 };

		c[SA_C_nic_syn] = c[SA_C_tc_syn] = c[SA_C_listener_syn] = cc[i].syn;
		c[SA_C_listen_drop_accept_queue_full] = cc[i].drop;
		counts_of(&ps, c);
		ps.gauges = &g;
		g.listeners = 1;
		g.accept_queue_len = 3;
		g.accept_backlog = 4;
		g.qa.accept_queue_age_known = 1;
		g.qa.accept_queue_oldest_age_us = cc[i].age_us;
		sa_reconcile_port(&ps, ALL, 1, &v);
		is_str(sa_verdicts[v.verdict.id].id, cc[i].id, "head waited %llu us, %llu SYNs dropped: verdict %s",
		       (unsigned long long)cc[i].age_us, (unsigned long long)cc[i].drop, cc[i].id);
		if (cc[i].text)
			is_str(v.verdict.text, cc[i].text, "... its text");
		if (i == 0)
			is_int(v.verdict.n, 3, "... its figure: accept_queue_len");
	}
}

/* Every verdict says what it means, which counters are behind it and
 * what to do: docs/verdicts.md is made of these, with no empty cell and
 * nothing that would break its Markdown row. */
static void verdict_docs(void)
{
	int bad = 0;

	for (int i = 0; i < SA_V_MAX; i++) {
		const struct sa_verdict_def *d = &sa_verdicts[i];
		const char *cells[] = { d->meaning, d->counters, d->fix };

		for (size_t c = 0; c < sizeof(cells) / sizeof(cells[0]); c++)
			if (!cells[c] || !*cells[c] || strpbrk(cells[c], "|\n")) {
				diag("verdict %s: cell %zu is '%s'", d->id, c,
				     cells[c] ? cells[c] : "(null)");
				bad++;
			}
	}
	is_int(bad, 0, "every verdict has a meaning, counters and a fix, each one Markdown cell");
}

void suite_reconcile(void)
{
	/* Set before the first reconciliation: the CPU_BACKLOG id is
	 * looked up once. */
	sa_reason_names[R_NOT_SPECIFIED] = "NOT_SPECIFIED";
	sa_reason_names[R_NO_SOCKET] = "NO_SOCKET";
	sa_reason_names[R_TCP_CSUM] = "TCP_CSUM";
	sa_reason_names[R_NETFILTER_DROP] = "NETFILTER_DROP";
	sa_reason_names[R_CPU_BACKLOG] = "CPU_BACKLOG";
	sa_reason_names[R_TC_INGRESS] = "TC_INGRESS";
	sa_reason_names[R_TC_EGRESS] = "TC_EGRESS";
	sa_reason_names[R_QDISC_DROP] = "QDISC_DROP";
	ports();
	containers();
	equations();
	cookie_mode();
	view();
	lost();
	mib();
	verdict_docs();
	stalled();
}
