// SPDX-License-Identifier: GPL-2.0
/*
 * reconcile.c - puts the stages side by side for each port and says where
 * SYNs are lost.
 *
 * The funnel, with what each stage loses (the gaps' rows, sa_gaps[] in
 * counters.c, hold these equations):
 *   nic_syn      = tc_syn + drops between XDP and TC + unexplained.nic_to_tc
 *   tc_syn       = listener_syn + syn_to_request_sock + stack drops after TC
 *                  + forwarded + unexplained.tc_to_listener
 *                  - syn_beyond_parser (SYNs the stack saw behind more
 *                  headers than the XDP/TC parser walks: unparsed there)
 *   listener_syn = syn_queued + syncookies_sent + listen_drops
 *                  + unexplained.at_listener
 *   synack_sent  = syn_queued + syncookies_sent + synack_retrans
 *                  + synack_forwarded + synack_retrans_failed
 *                  (+ unexplained.synack_sent, a mismatch)
 * synack_sent counts at TC egress; a SYN-ACK can still be dropped after it
 * (qdisc, device, veth peer: synack_drops).  A first SYN-ACK dropped there
 * was counted as queued or cookie, a retransmission dropped after the send
 * returned as synack_retrans; one dropped before it returned failed, and
 * the stack never counted it: synack_retrans_failed.
 * and where forwarded SYNs reach a followed namespace (a container's):
 *   forwarded    = container.listener_syn + container.syn_to_request_sock
 *                  + container.stack_drops + unexplained.to_container
 *   container.listener_syn = its syn_queued + syncookies_sent + listen drops
 *                  + unexplained.at_container_listener
 * Every unexplained figure is computed, never assumed: a non-zero one means
 * a hook missed something, and says between which stages.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "reconcile.h"

/* Drop reasons that happen before TC ingress: the per-CPU backlog (RPS /
 * netif_rx), after native XDP but before generic XDP. */
static bool reason_before_tc(__u32 reason)
{
	static int cpu_backlog = -2;

	if (cpu_backlog == -2)
		cpu_backlog = sa_reason_id("CPU_BACKLOG");
	return cpu_backlog >= 0 && reason == (__u32)cpu_backlog;
}

/* Drop reasons of TC ingress itself (a filter's TC_ACT_SHOT, a chain or
 * cookie error): in tc mode between nic_syn's filter and tc_syn's. */
static bool reason_tc_ingress(__u32 reason)
{
	const char *name = sa_reason_name(reason);

	return !strncmp(name, "TC_", 3) && strcmp(name, "TC_EGRESS");
}

#define C(name) ((__s64)sa_c(ps, SA_C_##name))

const char *const sa_severity_names[SA_SEV_MAX] = {
	[SA_SEV_OK] = "ok",
	[SA_SEV_INFO] = "info",
	[SA_SEV_WARNING] = "warning",
	[SA_SEV_CRITICAL] = "critical",
};

const struct sa_verdict_def sa_verdicts[SA_V_MAX] = {
#define SA_VERDICT_DEF(id, sev, stage, meaning, counters, fix) \
	[SA_V_##id] = { #id, SA_SEV_##sev, SA_STAGE_##stage, meaning, counters, fix },
	SA_VERDICTS(SA_VERDICT_DEF)
#undef SA_VERDICT_DEF
};

/* The unexplained_* verdicts are the gaps', in their order. */
#define SA_GAP_VERDICT(g) ((enum sa_verdict_id)(SA_V_unexplained_nic_to_tc + (g)))
_Static_assert(SA_V_unexplained_at_container_listener - SA_V_unexplained_nic_to_tc ==
	       SA_GAP_at_container_listener - SA_GAP_nic_to_tc,
	       "one unexplained_* verdict per gap, in sa_gaps[]'s order");

/* A port's verdict is written here, and sa_port_view.verdict.text points at
 * it until the next port's; a view keeps its own copies.  Room for the
 * longest text and a followed namespace's escaped name, so that a
 * verdict is never cut (in the middle of a UTF-8 sequence). */
/* What missed runs add to a verdict (missed_runs). */
#define MISSED_LEN	160
/* What SYNs beyond the parser's limits add (beyond_parser). */
#define BEYOND_LEN	160
#define VERDICT_LEN	(256 + SA_NETNS_NAME_MAX + MISSED_LEN + BEYOND_LEN)

static __thread char verdict_buf[VERDICT_LEN];

/* A loss candidate for the verdict: the biggest one names the stage. */
struct loss {
	enum sa_verdict_id id;
	__u64 n;
	char text[VERDICT_LEN];
};

static void vconsider(struct loss *best, enum sa_verdict_id id, __u64 n,
		      const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

static void vconsider(struct loss *best, enum sa_verdict_id id, __u64 n,
		      const char *fmt, va_list ap)
{
	if (!n || n <= best->n)
		return;
	best->id = id;
	best->n = n;
	vsnprintf(best->text, sizeof(best->text), fmt, ap);
}

static void consider(struct loss *best, enum sa_verdict_id id, __u64 n,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void consider(struct loss *best, enum sa_verdict_id id, __u64 n,
		     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vconsider(best, id, n, fmt, ap);
	va_end(ap);
}

/* A gap's verdict: its row's text, of (long long, const char *). */
static void consider_gap(struct loss *best, enum sa_gap g, __u64 n, ...)
{
	va_list ap;

	va_start(ap, n);
	vconsider(best, SA_GAP_VERDICT(g), n, sa_gaps[g].lost, ap);
	va_end(ap);
}

static void reason_loss(struct loss *best, __u32 r, __u64 n, struct sa_measured m)
{
	const char *name = sa_reason_name(r);

	if (!strcmp(name, "NO_SOCKET"))
		consider(best, SA_V_no_listener, n, "no listener: %llu SYNs to a closed port (NO_SOCKET)",
			 (unsigned long long)n);
	else if (!strcmp(name, "NETFILTER_DROP"))
		consider(best, SA_V_firewall, n, "firewall: netfilter dropped %llu SYNs (NETFILTER_DROP)",
			 (unsigned long long)n);
	else if (!strcmp(name, "TCP_CSUM"))
		consider(best, SA_V_bad_checksum, n, "bad TCP checksum: %llu SYNs dropped (TCP_CSUM); "
			 "check the NIC's checksum offload or the path", (unsigned long long)n);
	else if (!strcmp(name, "CPU_BACKLOG"))
		consider(best, SA_V_cpu_backlog, n, "CPU backlog full: %llu SYNs dropped %s (CPU_BACKLOG); "
			 "raise net.core.netdev_max_backlog", (unsigned long long)n,
			 m.nic_native ? "between XDP and TC" : "before XDP and TC");
	else
		consider(best, SA_V_stack_drop, n, "stack drop: %llu SYNs dropped before a socket (%s)",
			 (unsigned long long)n, name);
}

/* A gap no larger than the counts the port lost is those counts; beyond
 * them, the rest is unexplained.  One lost count moves a gap by one at
 * most (a lost tc_syn moves two gaps, each by one): each gap is set
 * against the whole of counts_lost. */
static __s64 beyond_lost(__s64 gap, __u64 lost)
{
	if (gap > 0)
		return (__u64)gap > lost ? gap - (__s64)lost : 0;
	return (__u64)-gap > lost ? gap + (__s64)lost : 0;
}

/* A term of a gap's equation (sa_gaps[]), as it stands in @ps. */
static __s64 term_value(const struct sa_port_stats *ps, struct sa_measured m,
			const struct sa_port_view *v, int term)
{
	switch (term) {
	case SA_T_drops_before_tc:
		return m.nic_native ? (__s64)v->pre_tc_drops :
		       m.nic_tc ? (__s64)v->tc_hook_drops : 0;
	case SA_T_drops_after_tc:
		return (__s64)(v->stack_drops - v->pre_tc_drops -
			       (m.nic_tc ? v->tc_hook_drops : 0));
	default:
		return (__s64)sa_c(ps, term);
	}
}

/* Does @ps have figures for gap @g?  Forwarded SYNs before their
 * namespace was followed were never counted there: its gaps only when it
 * was followed all along. */
static bool gap_computed(enum sa_gap g, const struct sa_port_stats *ps,
			 struct sa_measured m)
{
	/* TC's hooks lost (agent/cmd/health.c): its counts stopped. */
	if (!sa_gap_measured(g, m))
		return false;
	switch (sa_gaps[g].stage) {
	case SA_STAGE_NIC:
		return m.nic;
	case SA_STAGE_CONTAINER:
		return m.stack && sa_follow_of(ps)->whole;
	default:
		return m.stack;
	}
}

/* The stage gaps: each unexplained figure is what is left of one
 * equation of the funnel, once the port's lost counts are set off. */
void sa_reconcile_gaps(const struct sa_port_stats *ps, struct sa_measured m,
		       struct sa_port_view *v)
{
	__u64 lost = sa_c(ps, SA_C_counts_lost);

	for (__u32 i = 0; i < ps->n_drops; i++) {
		if (ps->drops[i].reason & SA_DROP_SYNACK) {
			v->synack_drops += ps->drops[i].n;
			continue;
		}
		v->stack_drops += ps->drops[i].n;
		if (reason_before_tc(ps->drops[i].reason))
			v->pre_tc_drops += ps->drops[i].n;
		else if (reason_tc_ingress(ps->drops[i].reason))
			v->tc_hook_drops += ps->drops[i].n;
	}
	v->listen_drops = sa_c(ps, SA_C_listen_drop_accept_queue_full) +
			  sa_c(ps, SA_C_listen_drop_syn_queue_full) +
			  sa_c(ps, SA_C_listen_drop_other);
	for (int g = 0; g < SA_GAP_MAX; g++) {
		const struct sa_gap_term *t = sa_gaps[g].terms;
		__s64 gap = 0;

		if (!gap_computed(g, ps, m))
			continue;
		for (int i = 0; i < SA_GAP_MAX_TERMS && t[i].sign; i++)
			gap += t[i].sign * term_value(ps, m, v, t[i].term);
		v->gap[g] = beyond_lost(gap, lost);
	}
}

/* SYN-ACKs dropped after TC egress, with the kernel's reasons, e.g.
 * "QDISC_DROP 30, CPU_BACKLOG 2". */
static void synack_losses(const struct sa_port_stats *ps, __u64 n,
			  struct loss *best)
{
	char reasons[160] = "";
	size_t used = 0;

	if (!n)
		return;
	for (__u32 i = 0; i < ps->n_drops; i++) {
		const struct sa_drop_count *d = &ps->drops[i];

		if (!(d->reason & SA_DROP_SYNACK) || !d->n || used >= sizeof(reasons))
			continue;
		used += snprintf(reasons + used, sizeof(reasons) - used, "%s%s %llu",
				 used ? ", " : "", sa_reason_name(d->reason & ~SA_DROP_SYNACK),
				 (unsigned long long)d->n);
	}
	consider(best, SA_V_synack_dropped, n, "SYN-ACKs dropped after TC egress: %llu (%s) by the egress "
		 "qdisc, the device or the veth peer's backlog; %llu were failed "
		 "retransmissions; clients retransmit their SYNs", (unsigned long long)n,
		 reasons, (unsigned long long)sa_c(ps, SA_C_synack_retrans_failed));
}

/* Losses at the listener: one cause (a full queue), named once. */
static void listener_losses(const struct sa_port_stats *ps, struct loss *best)
{
	__u64 aq_syn = sa_c(ps, SA_C_listen_drop_accept_queue_full);
	__u64 aq_ack = sa_c(ps, SA_C_ack_dropped_accept_full);

	/* One cause, two symptoms: SYNs dropped at the listener and
	 * handshake ACKs dropped at completion (counted per packet, so
	 * client retransmissions count again). */
	if (aq_syn && aq_ack)
		consider(best, SA_V_accept_queue_full, aq_syn + aq_ack,
			 "accept queue full (backlog %llu): the application is not "
			 "accepting fast enough; %llu SYNs dropped at the listener, "
			 "%llu handshake ACKs dropped",
			 (unsigned long long)sa_g(ps)->accept_backlog,
			 (unsigned long long)aq_syn, (unsigned long long)aq_ack);
	else if (aq_syn)
		consider(best, SA_V_accept_queue_full, aq_syn,
			 "accept queue full (backlog %llu): the application is not "
			 "accepting fast enough; %llu SYNs dropped at the listener",
			 (unsigned long long)sa_g(ps)->accept_backlog,
			 (unsigned long long)aq_syn);
	else
		consider(best, SA_V_accept_queue_full, aq_ack,
			 "accept queue full at handshake completion (backlog %llu): the "
			 "application is not accepting fast enough; %llu handshake ACKs "
			 "dropped", (unsigned long long)sa_g(ps)->accept_backlog,
			 (unsigned long long)aq_ack);
	consider(best, SA_V_syn_queue_full, sa_c(ps, SA_C_listen_drop_syn_queue_full),
		 "SYN queue full without SYN cookies: %llu SYNs dropped at the "
		 "listener; enable net.ipv4.tcp_syncookies or raise the backlog",
		 (unsigned long long)sa_c(ps, SA_C_listen_drop_syn_queue_full));
	consider(best, SA_V_listen_drop_other, sa_c(ps, SA_C_listen_drop_other),
		 "listener dropped %llu SYNs (ListenDrops without a full queue)",
		 (unsigned long long)sa_c(ps, SA_C_listen_drop_other));
}

/* Losses in the namespace forwarded SYNs reach, named after it. */
static void container_losses(const struct sa_port_stats *ps, struct loss *best)
{
	const char *ns = sa_follow_of(ps)->netns ? sa_follow_of(ps)->netns : "?";
	__u64 aq_syn = sa_c(ps, SA_C_ct_accept_queue_full);
	__u64 aq_ack = sa_c(ps, SA_C_ct_ack_dropped_accept_full);

	if (!sa_follow_of(ps)->cookie)
		return;
	consider(best, SA_V_container_accept_queue_full, aq_syn + aq_ack,
		 "accept queue full in namespace %s (port %u, backlog %llu): the "
		 "application there is not accepting fast enough; %llu forwarded SYNs "
		 "dropped at its listener, %llu handshake ACKs dropped", ns,
		 sa_follow_of(ps)->port, (unsigned long long)sa_follow_of(ps)->cg.accept_backlog,
		 (unsigned long long)aq_syn, (unsigned long long)aq_ack);
	consider(best, SA_V_container_syn_queue_full, sa_c(ps, SA_C_ct_syn_queue_full),
		 "SYN queue full without SYN cookies in namespace %s (port %u): %llu "
		 "forwarded SYNs dropped at its listener; enable net.ipv4.tcp_syncookies "
		 "there or raise the backlog", ns, sa_follow_of(ps)->port,
		 (unsigned long long)sa_c(ps, SA_C_ct_syn_queue_full));
	consider(best, SA_V_container_listen_drop_other, sa_c(ps, SA_C_ct_listen_drop_other),
		 "the listener in namespace %s (port %u) dropped %llu forwarded SYNs "
		 "(ListenDrops without a full queue)", ns, sa_follow_of(ps)->port,
		 (unsigned long long)sa_c(ps, SA_C_ct_listen_drop_other));
	consider(best, SA_V_container_stack_drop, sa_c(ps, SA_C_ct_stack_drops),
		 "%llu forwarded SYNs dropped in namespace %s before a socket took "
		 "them (no listener on port %u there, or a firewall rule)",
		 (unsigned long long)sa_c(ps, SA_C_ct_stack_drops), ns, sa_follow_of(ps)->port);
}

/* Unexplained figures are losses too, and name the stage gap: the SYN
 * gaps first, then the SYN-ACKs'. */
static void unexplained_losses(const struct sa_port_view *v, struct loss *best)
{
	const char *ns = sa_follow_of(v->ps)->netns;
	__s64 synack = v->gap[SA_GAP_synack_sent];

	for (int g = 0; g < SA_GAP_MAX; g++)
		if (!sa_gaps[g].synack && v->gap[g] > 0)
			consider_gap(best, g, v->gap[g], (long long)v->gap[g],
				     ns ? ns : sa_gaps[g].nowhere);
	/* SYN-ACKs the stack sent (queued, cookie, retransmitted) that TC
	 * egress never saw were dropped on their way out. */
	if (synack < 0)
		consider(best, SA_V_synack_lost, -synack,
			 "SYN-ACKs lost on the way out: %lld of them never reached TC "
			 "egress (an output firewall rule, or a full qdisc?); clients "
			 "retransmit their SYNs", (long long)-synack);
	else if (synack > 0)
		consider_gap(best, SA_GAP_synack_sent, synack, (long long)synack, "");
}

/* Not a loss, but SYNs XDP and TC did not count (unparsed there): said
 * after the verdict, so that a port's nic_syn below the kernel's figure
 * is explained. */
static void beyond_parser(const struct sa_port_stats *ps)
{
	size_t len = strlen(verdict_buf);

	if (!sa_c(ps, SA_C_syn_beyond_parser))
		return;
	snprintf(verdict_buf + len, sizeof(verdict_buf) - len,
		 "; %llu SYNs beyond the XDP/TC parser's limits (more than %d IPv6 "
		 "extension headers): counted from the stack on, unparsed at XDP and TC",
		 (unsigned long long)sa_c(ps, SA_C_syn_beyond_parser), SA_MAX_EXTHDR);
}

/* The port's verdict, when no loss is the biggest. */
static void say(struct sa_port_view *v, enum sa_verdict_id id, __u64 n,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void say(struct sa_port_view *v, enum sa_verdict_id id, __u64 n,
		const char *fmt, ...)
{
	va_list ap;

	v->verdict.id = id;
	v->verdict.n = n;
	va_start(ap, fmt);
	vsnprintf(verdict_buf, sizeof(verdict_buf), fmt, ap);
	va_end(ap);
}

static void verdict(const struct sa_port_stats *ps, struct sa_measured m,
		    struct sa_port_view *v)
{
	struct loss best = { 0 };

	if (!m.stack) {
		if (m.nic && !m.tc_lost && C(nic_syn) > C(tc_syn))
			say(v, SA_V_lost_nic_to_tc, C(nic_syn) - C(tc_syn),
			    "%lld SYNs lost between XDP and TC",
			    (long long)(C(nic_syn) - C(tc_syn)));
		else
			say(v, SA_V_stack_off, 0, "stack stage off: no verdict beyond TC");
		return;
	}
	for (__u32 i = 0; i < ps->n_drops; i++)
		if (!(ps->drops[i].reason & SA_DROP_SYNACK))
			reason_loss(&best, ps->drops[i].reason, ps->drops[i].n, m);
	synack_losses(ps, v->synack_drops, &best);
	listener_losses(ps, &best);
	container_losses(ps, &best);
	unexplained_losses(v, &best);
	consider(&best, SA_V_counts_lost, sa_c(ps, SA_C_counts_lost),
		 "counter map full: %llu counts of this port lost (a map entry could "
		 "not be created); its figures are incomplete by as much",
		 (unsigned long long)sa_c(ps, SA_C_counts_lost));

	if (best.n)
		say(v, best.id, best.n, "%s", best.text);
	else if (sa_g(ps)->qa.accept_queue_oldest_age_us >= SA_ACCEPT_QUEUE_STALLED_US)
		say(v, SA_V_accept_queue_stalled, sa_g(ps)->accept_queue_len,
		    "accept queue not drained: its oldest connection waited %.1f s "
		    "(%llu waiting, backlog %llu); the application is not accepting",
		    sa_g(ps)->qa.accept_queue_oldest_age_us / 1e6,
		    (unsigned long long)sa_g(ps)->accept_queue_len,
		    (unsigned long long)sa_g(ps)->accept_backlog);
	else if (!C(nic_syn) && !C(tc_syn) && !C(listener_syn))
		say(v, SA_V_no_syns, 0, "no SYNs");
	else if (C(syncookies_sent))
		say(v, SA_V_no_loss_cookies, C(syncookies_sent),
		    "no loss; %llu SYNs answered with SYN cookies",
		    (unsigned long long)sa_c(ps, SA_C_syncookies_sent));
	else if (C(forwarded) && sa_follow_of(ps)->cookie)
		say(v, SA_V_no_loss_container, C(forwarded),
		    "no loss; %llu SYNs forwarded to namespace %s (port %u), "
		    "%llu of them queued there, %llu answered with cookies",
		    (unsigned long long)sa_c(ps, SA_C_forwarded),
		    sa_follow_of(ps)->netns ? sa_follow_of(ps)->netns : "?", sa_follow_of(ps)->port,
		    (unsigned long long)sa_c(ps, SA_C_ct_syn_queued),
		    (unsigned long long)sa_c(ps, SA_C_ct_syncookies_sent));
	else if (C(forwarded))
		say(v, SA_V_no_loss_forwarded, C(forwarded),
		    "no loss here; %llu SYNs forwarded (this namespace does not "
		    "see whether their server took them)",
		    (unsigned long long)sa_c(ps, SA_C_forwarded));
	else
		say(v, SA_V_no_loss, 0, "no loss");
	beyond_parser(ps);
}

void sa_reconcile_port(const struct sa_port_stats *ps, struct sa_measured m,
		       int tcp_syncookies, struct sa_port_view *v)
{
	__u32 port = v->port;

	memset(v, 0, sizeof(*v));
	v->port = port;
	v->ps = ps;
	v->verdict.text = verdict_buf;
	v->cookie_mode = sa_c(ps, SA_C_syncookies_sent) > 0 || tcp_syncookies == 2;
	sa_reconcile_gaps(ps, m, v);
	verdict(ps, m, v);
	/* A hook gone: what the stages still attached say, after which
	 * hook went (agent/cmd/health.c). */
	if (m.lost) {
		char rest[VERDICT_LEN];
		size_t n;

		snprintf(rest, sizeof(rest), "%s", verdict_buf);
		n = snprintf(verdict_buf, sizeof(verdict_buf), "%s; since then, where "
			     "synacct still counts: ", m.lost);
		if (n < sizeof(verdict_buf))
			snprintf(verdict_buf + n, sizeof(verdict_buf) - n, "%s", rest);
	}
}

/* Runs of the stack's programs the kernel skipped have no port: a gap
 * left in a record that has them may be those, which the verdict adds to
 * what it names.  (Counts lost to a full map have their port,
 * counts_lost, and are set off in the gaps.) */
static void missed_runs(const struct sa_snapshot *s, struct sa_port_view *v)
{
	bool gap = false;
	size_t len;

	for (int g = 0; g < SA_GAP_MAX; g++)
		gap |= v->gap[g] != 0;
	if (!gap || !s->missed_runs)
		return;
	len = strlen(verdict_buf);
	snprintf(verdict_buf + len, sizeof(verdict_buf) - len,
		 "; synacct's stack programs missed %llu runs (the kernel skips a "
		 "tracing program that fires again on a CPU where it is running): "
		 "this port's figures may be incomplete",
		 (unsigned long long)s->missed_runs);
}

/* The view's copy of @text: the last one kept when they are the same
 * (ports come in order, and neighbours mostly say the same), else a new
 * one.  NULL without memory. */
static const char *keep_verdict(struct sa_view *v, const char *text)
{
	char **grown, *copy;

	if (v->n_verdicts && !strcmp(v->verdicts[v->n_verdicts - 1], text))
		return v->verdicts[v->n_verdicts - 1];
	for (size_t i = 0; i < v->n_verdicts && i < 8; i++)
		if (!strcmp(v->verdicts[i], text))
			return v->verdicts[i];
	grown = realloc(v->verdicts, (v->n_verdicts + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	v->verdicts = grown;
	copy = strdup(text);
	if (!copy)
		return NULL;
	v->verdicts[v->n_verdicts++] = copy;
	return copy;
}

/* Stage 0's verdict: what it dropped, where.  rx_dropped and the
 * backlog's drops are the same frames on a backlog path (the kernel
 * counts both), so each figure is said, never a sum of the two. */
static int driver_verdict(struct sa_view *v, const struct sa_driver *d)
{
	char text[1024];
	size_t len;

	v->driver.id = SA_V_MAX;
	if (!d->read || !sa_driver_dropped(d))
		return 0;
	len = snprintf(text, sizeof(text), "lost before XDP and TC, not attributable to a port:");
	if (sa_softnet_dropped(d)) {
		len += snprintf(text + len, sizeof(text) - len,
				" CPU backlog full, %llu dropped (",
				(unsigned long long)sa_softnet_dropped(d));
		for (__u32 c = 0, n = 0; c < d->n_cpus && len < sizeof(text); c++)
			if (d->cpu[c].dropped)
				len += snprintf(text + len, sizeof(text) - len, "%scpu%u %llu",
						n++ ? ", " : "", d->cpu[c].cpu,
						(unsigned long long)d->cpu[c].dropped);
		if (len < sizeof(text))
			len += snprintf(text + len, sizeof(text) - len,
					"); raise net.core.netdev_max_backlog");
	}
	for (int i = 0; i < d->n_ifaces && len < sizeof(text); i++) {
		const struct sa_driver_iface *f = &d->iface[i];

		if (!f->rx_dropped && !f->rx_missed_errors && !f->rx_fifo_errors &&
		    !sa_driver_queue_drops(f))
			continue;
		len += snprintf(text + len, sizeof(text) - len,
				"%s %s rx_dropped %llu, rx_missed_errors %llu, rx_fifo_errors %llu, "
				"queue drops %llu", len && text[len - 1] != ':' ? ";" : "",
				f->name, (unsigned long long)f->rx_dropped,
				(unsigned long long)f->rx_missed_errors,
				(unsigned long long)f->rx_fifo_errors,
				(unsigned long long)sa_driver_queue_drops(f));
	}
	v->driver.id = SA_V_driver_drops;
	v->driver.n = sa_softnet_dropped(d);
	v->driver.text = keep_verdict(v, text);
	return v->driver.text ? 0 : -ENOMEM;
}

int sa_view_build(struct sa_view *v, const struct sa_snapshot *s,
		  struct sa_measured m, const struct sa_portset *shown,
		  bool active)
{
	size_t n = 0;

	memset(v, 0, sizeof(*v));
	v->snap = s;
	v->m = m;
	for (__u32 p = 0; p < SA_MAX_PORTS; p++)
		if (sa_portset_has(shown, p))
			n++;
	v->ports = calloc(n ? n : 1, sizeof(*v->ports));
	if (!v->ports)
		return -ENOMEM;
	for (__u32 p = 0; p < SA_MAX_PORTS; p++) {
		const struct sa_port_stats *ps = sa_snapshot_get(s, p);
		struct sa_port_view *pv = &v->ports[v->n_ports];

		if (!sa_portset_has(shown, p))
			continue;
		/* An interval shows what moved in it: an idle listener's
		 * port only when its queues did (a host with a thousand
		 * listeners would otherwise repeat them all every second). */
		if (active && sa_port_stats_zero(ps) && !ps->gauges_moved)
			continue;
		pv->port = p;
		sa_reconcile_port(ps, m, s->tcp_syncookies, pv);
		missed_runs(s, pv);
		pv->verdict.text = keep_verdict(v, pv->verdict.text);
		if (!pv->verdict.text) {
			sa_view_free(v);
			return -ENOMEM;
		}
		v->n_ports++;
	}
	if (driver_verdict(v, &s->driver)) {
		sa_view_free(v);
		return -ENOMEM;
	}
	v->consistent = sa_reconcile_mib(s, v->inconsistent, sizeof(v->inconsistent));
	return 0;
}

void sa_view_free(struct sa_view *v)
{
	for (size_t i = 0; i < v->n_verdicts; i++)
		free(v->verdicts[i]);
	free(v->verdicts);
	free(v->ports);
	memset(v, 0, sizeof(*v));
}

__u64 sa_accepted_total(__u64 *last, __u64 established,
			const struct sa_listener_gauges *g)
{
	__u64 v = established > g->accept_queue_len ? established - g->accept_queue_len : 0;

	/* The queue is read before the counters: a connection completed in
	 * between is in established but not yet in the queue, and the next
	 * reading gives one less.  A counter does not go back. */
	if (v > *last)
		*last = v;
	return *last;
}

bool sa_reconcile_mib(const struct sa_snapshot *total, char *bad, size_t badlen)
{
	__u64 sum[SA_C_MAX] = { 0 };
	struct {
		const char *name;
		__u64 ours;
		__u64 mib;
	} checks[5];
	bool ok = true;
	size_t used = 0;

	for (__u32 p = 0; p < SA_MAX_PORTS; p++) {
		const struct sa_port_stats *ps = total->port[p];

		if (!ps)
			continue;
		for (int i = 0; i < SA_C_MAX; i++)
			sum[i] += sa_c(ps, i);
	}
	checks[0] = (typeof(checks[0])){ "TcpExtSyncookiesSent",
		sum[SA_C_syncookies_sent], total->mib[SA_MIB_TcpExtSyncookiesSent] };
	checks[1] = (typeof(checks[0])){ "TcpExtListenOverflows",
		sum[SA_C_listen_drop_accept_queue_full] + sum[SA_C_ack_dropped_accept_full],
		total->mib[SA_MIB_TcpExtListenOverflows] };
	checks[2] = (typeof(checks[0])){ "TcpExtTCPReqQFullDrop",
		sum[SA_C_listen_drop_syn_queue_full], total->mib[SA_MIB_TcpExtTCPReqQFullDrop] };
	checks[3] = (typeof(checks[0])){ "TcpExtListenDrops",
		sum[SA_C_listen_drop_accept_queue_full] + sum[SA_C_listen_drop_syn_queue_full] +
		sum[SA_C_listen_drop_other] + sum[SA_C_ack_dropped_accept_full],
		total->mib[SA_MIB_TcpExtListenDrops] };
	checks[4] = (typeof(checks[0])){ "TcpPassiveOpens",
		sum[SA_C_established], total->mib[SA_MIB_TcpPassiveOpens] };

	if (badlen)
		bad[0] = '\0';
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		if (checks[i].ours == checks[i].mib)
			continue;
		ok = false;
		if (used < badlen)
			used += snprintf(bad + used, badlen - used, "%s%s",
					 used ? "," : "", checks[i].name);
	}
	return ok;
}

void sa_verdicts_markdown(FILE *f)
{
	fprintf(f, "| id | severity | stage | meaning | kernel counters | what to do |\n");
	fprintf(f, "|---|---|---|---|---|---|\n");
	for (int i = 0; i < SA_V_MAX; i++) {
		const struct sa_verdict_def *d = &sa_verdicts[i];

		fprintf(f, "| `%s` | %s | %s | %s | %s | %s |\n", d->id,
			sa_severity_names[d->severity], sa_stage_names[d->stage],
			d->meaning, d->counters, d->fix);
	}
}
