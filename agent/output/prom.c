// SPDX-License-Identifier: GPL-2.0
/*
 * prom.c - the /metrics page in the Prometheus text format (agent/output/http.c
 * serves it).
 *
 * The main loop renders the page after each reading of the maps and swaps
 * it in under a mutex (the ports' series only when what they are made
 * from changed: after a scan of every port, summing them into "other"
 * each interval was most of an idle synacct's CPU); the server thread only copies the last page out,
 * so it never touches a snapshot the main loop is changing.  Values are
 * the totals the BPF maps hold (not since this process started), so with
 * pinned maps they never go backwards across a restart.
 *
 * Names come from the counter table (include/synacct.h, counters.h):
 * synacct_<key>_total for a counter, synacct_<group>_total{<label>=<key>}
 * for a group, synacct_<name> for a gauge.  Cardinality is bounded: ports
 * with a listener, the --ports selection and the first --metrics-top
 * ports by SYNs have their own port label, for the life of the process;
 * every other port adds into port="other".  Never a source address.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include <net/if.h>
#include "build_info.h"
#include "escape.h"
#include "log.h"
#include "pod.h"
#include "prom.h"

#define SA_PROM_OTHER SA_MAX_PORTS	/* the row of port="other" */

extern const char *argp_program_version;

/* ---- the page ---- */

/* What the page last served for a port's accepted counters. */
struct served {
	__u64 accepted, ct_accepted;
};

struct sa_metrics {
	pthread_mutex_t lock;
	char *page;		/* the last rendering; NULL before the first */
	size_t len;
	/* Ports with a label of their own, kept once given. */
	struct sa_portset labeled;
	unsigned int top, n_top;
	bool other_shown;
	struct served *served;	/* per port, and [SA_PROM_OTHER] */
	/* The ports' series of the last page, and what they were made from
	 * (ports_gen 0: nothing kept). */
	char *ports_part;
	size_t ports_len;
	struct ports_key {
		unsigned long ports_gen;
		struct sa_measured m;
		char lost[512];
		int tcp_syncookies;
		struct sa_portset sel, listeners;
	} key;
};

struct sa_metrics *sa_metrics_new(unsigned int top)
{
	struct sa_metrics *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	/* Pages of it are touched only for ports with a label. */
	p->served = calloc(SA_PROM_OTHER + 1, sizeof(*p->served));
	if (!p->served) {
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	p->top = top;
	return p;
}

void sa_metrics_free(struct sa_metrics *p)
{
	if (!p)
		return;
	pthread_mutex_destroy(&p->lock);
	free(p->page);
	free(p->ports_part);
	free(p->served);
	free(p);
}

int sa_metrics_with_page(struct sa_metrics *p,
			 int (*serve)(const char *page, size_t len, void *ctx), void *ctx)
{
	int ret;

	pthread_mutex_lock(&p->lock);
	ret = serve(p->page, p->len, ctx);
	pthread_mutex_unlock(&p->lock);
	return ret;
}

char *sa_metrics_page(struct sa_metrics *p)
{
	char *page;

	pthread_mutex_lock(&p->lock);
	page = p->page ? strdup(p->page) : NULL;
	pthread_mutex_unlock(&p->lock);
	return page;
}

/* ---- rendering ---- */

/* A name sa_tty_str escaped already (a followed namespace's, follow.c):
 * the exposition format's escaping only. */
static void put_label_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\n') {	/* never after sa_tty_str; still */
			fputs("\\n", f);
			continue;
		}
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		fputc(*s, f);
	}
}

/*
 * A label value: the table's escaping (sa_tty_str: valid UTF-8 kept;
 * C0, DEL and C1 controls, bidi and format controls and invalid bytes as
 * the text \xNN; a backslash as \\, so that \xNN is never ambiguous),
 * then the exposition format's (\\, \", \n).  Prometheus label values
 * are UTF-8: the page stays valid UTF-8 and a name reads as in the table.
 */
static void put_label(FILE *f, const char *s)
{
	char stack[SA_ESC_SIZE(256)], *q = stack;
	size_t n = SA_ESC_SIZE(strlen(s));

	if (n > sizeof(stack)) {
		q = malloc(n);
		if (!q) {
			fputs("?", f);
			return;
		}
	}
	put_label_escaped(f, sa_tty_str(s, q, n));
	if (q != stack)
		free(q);
}

/* HELP text: \ and newline escaped. */
static void put_help(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void family(FILE *f, const char *name, const char *suffix,
		   const char *type, const char *help)
{
	fprintf(f, "# HELP synacct_%s%s ", name, suffix);
	put_help(f, help);
	fprintf(f, "\n# TYPE synacct_%s%s %s\n", name, suffix, type);
}

struct row {
	__u32 port;			/* SA_PROM_OTHER: port="other" */
	const struct sa_port_stats *ps;
	struct served *served;
	struct sa_port_view v;		/* reconciled once: gaps, cookie mode, verdict */
};

static void sample_start(FILE *f, const char *name, const char *suffix,
			 const struct row *r)
{
	if (r->port == SA_PROM_OTHER)
		fprintf(f, "synacct_%s%s{port=\"other\"", name, suffix);
	else
		fprintf(f, "synacct_%s%s{port=\"%u\"", name, suffix, r->port);
}

static void sample_u64(FILE *f, const char *name, const char *suffix,
		       const struct row *r, const char *label, const char *value,
		       __u64 v)
{
	sample_start(f, name, suffix, r);
	if (label) {
		fprintf(f, ",%s=\"", label);
		put_label(f, value);
		fputc('"', f);
	}
	fprintf(f, "} %llu\n", (unsigned long long)v);
}

/*
 * The listener stage in the namespace a port's forwarded SYNs reach (a
 * container's) counts the same quantities as the host's: its series are
 * in the host's families, with a netns label (the name of
 * synacct_container_info), so that sum by (port) adds the listeners
 * wherever the SYNs went.  The stage is keyed by the port the client
 * asked for, the same port label; NULL: the port is not followed.
 */
static const char *ct_netns(const struct row *r)
{
	const struct sa_port_follow *fw = sa_follow_of(r->ps);

	if (!fw->cookie)
		return NULL;
	return fw->netns ? fw->netns : "?";
}

/*
 * A followed namespace's pod (agent/core/pod.h), after its netns label:
 * pod_uid, and pod_namespace and pod where the kubelet's log directory
 * names it (kube_pod_info's uid, namespace and pod: docs/metrics.md has
 * the join); with @container, container_id.  None when not a pod's: a
 * namespace's series are then as they were.  A function of the netns
 * label, so no series more.
 */
static void put_pod(FILE *f, const struct sa_pod *pod, bool container)
{
	if (!pod)
		return;
	if (pod->uid[0]) {
		/* Hex digits and dashes only (pod.c). */
		fprintf(f, ",pod_uid=\"%s\"", pod->uid);
		if (pod->name[0]) {
			/* Escaped where they entered, as the netns label. */
			fputs(",pod_namespace=\"", f);
			put_label_escaped(f, pod->ns);
			fputs("\",pod=\"", f);
			put_label_escaped(f, pod->name);
			fputc('"', f);
		}
	}
	if (container && pod->container_id[0])
		fprintf(f, ",container_id=\"%s\"", pod->container_id);
}

/* A series of a followed namespace: @label=@value (or none), netns, and
 * its pod's labels. */
static void sample_ct(FILE *f, const char *name, const char *suffix, const struct row *r,
		      const char *label, const char *value, __u64 v)
{
	sample_start(f, name, suffix, r);
	if (label) {
		fprintf(f, ",%s=\"", label);
		put_label(f, value);
		fputc('"', f);
	}
	fputs(",netns=\"", f);
	/* Escaped where it entered, as for the table and JSON. */
	put_label_escaped(f, ct_netns(r));
	fputc('"', f);
	put_pod(f, sa_follow_of(r->ps)->pod, false);
	fprintf(f, "} %llu\n", (unsigned long long)v);
}

/* One histogram of the queue age: cumulative _bucket rows, _sum, _count. */
static void histogram(FILE *f, const char *name, const struct row *r, const __u64 *b,
		      int n, const char *const *le, double sum, __u64 count)
{
	__u64 cum = 0;

	for (int i = 0; i < n; i++) {
		cum += b[i];
		sample_u64(f, name, "_bucket", r, "le", le[i], cum);
	}
	sample_start(f, name, "_sum", r);
	fprintf(f, "} %.6f\n", sum);
	sample_u64(f, name, "_count", r, NULL, NULL, count);
}

/* Queue age (kprobe/listeners): the accept queue head's wait where
 * measured, the half-open requests' age and SYN-ACK retransmissions. */
static void queue_age(FILE *f, const struct row *rows, size_t n)
{
	static const char *const age_le[] = { "1", "3", "7", "15", "31", "63", "+Inf" };
	static const char *const rt_le[] = { "0", "1", "2", "3", "4", "5", "+Inf" };

	family(f, "accept_queue_oldest_age_seconds", "", "gauge",
	       "how long the oldest connection in the port's accept queues has waited since its handshake completed (0: empty); absent where the kernel's HZ is unknown");
	for (size_t r = 0; r < n; r++) {
		const struct sa_queue_age *qa = &sa_g(rows[r].ps)->qa;

		if (!qa->accept_queue_age_known)
			continue;
		sample_start(f, "accept_queue_oldest_age_seconds", "", &rows[r]);
		fprintf(f, "} %.6f\n", qa->accept_queue_oldest_age_us / 1e6);
	}
	family(f, "half_open_age_seconds", "", "histogram",
	       "half-open requests (SYN_RECV) when read, by time since their first SYN-ACK");
	for (size_t r = 0; r < n; r++) {
		const struct sa_queue_age *qa = &sa_g(rows[r].ps)->qa;

		if (!sa_g(rows[r].ps)->listeners && !qa->half_open)
			continue;
		histogram(f, "half_open_age_seconds", &rows[r], qa->half_open_age,
			  SA_HALF_OPEN_AGE_N, age_le, qa->half_open_age_sum_us / 1e6,
			  qa->half_open - qa->half_open_untimed);
	}
	family(f, "half_open_synack_retrans", "", "histogram",
	       "half-open requests (SYN_RECV) when read, by SYN-ACK retransmissions so far");
	for (size_t r = 0; r < n; r++) {
		const struct sa_queue_age *qa = &sa_g(rows[r].ps)->qa;

		if (!sa_g(rows[r].ps)->listeners && !qa->half_open)
			continue;
		histogram(f, "half_open_synack_retrans", &rows[r], qa->half_open_retrans,
			  SA_HALF_OPEN_RETRANS_N, rt_le, (double)qa->half_open_retrans_sum,
			  qa->half_open);
	}
}

/* The container's row of the host's counter @host, or -1. */
static int ct_row(int host)
{
	for (int j = 0; j < SA_C_MAX; j++)
		if (sa_container_twin(j) == host)
			return j;
	return -1;
}

/* The help of a derived figure of @group ("": top level) whose key is
 * @key, or NULL. */
static const char *derived_help(const char *group, const char *key)
{
#define SA_DERIVED_HELP(name, g, k, metric, help) if (!strcmp(#g, group) && !strcmp(#k, key)) return help;
	SA_DERIVED(SA_DERIVED_HELP)
#undef SA_DERIVED_HELP
	return NULL;
}

/* Counters of the table: top level, then each group as one family. */
static void render_counters(FILE *f, struct sa_measured m, const struct row *rows,
			    size_t n)
{
	const char *done[SA_C_MAX];
	int n_done = 0;

	for (int i = 0; i < SA_C_MAX; i++) {
		const struct sa_counter_def *d = &sa_counters[i];
		int ct = sa_stage_measured(m, SA_STAGE_CONTAINER) ? ct_row(i) : -1;

		if (!sa_counter_top_level(i) || !sa_stage_measured(m, d->stage))
			continue;
		family(f, d->key, "_total", "counter", d->help);
		for (size_t r = 0; r < n; r++)
			sample_u64(f, d->key, "_total", &rows[r], NULL, NULL, sa_c(rows[r].ps, i));
		for (size_t r = 0; r < n && ct >= 0; r++)
			if (ct_netns(&rows[r]))
				sample_ct(f, d->key, "_total", &rows[r], NULL, NULL,
					  sa_c(rows[r].ps, ct));
	}

	for (int i = 0; i < SA_C_MAX; i++) {
		const struct sa_counter_def *d = &sa_counters[i];
		const char *label = sa_group_label(d->group);
		const char *help = NULL;
		char buf[1024];
		bool seen = false;

		if (sa_counter_top_level(i) || !label || !sa_stage_measured(m, d->stage))
			continue;
		for (int k = 0; k < n_done; k++)
			seen |= !strcmp(done[k], d->group);
		if (seen)
			continue;
		done[n_done++] = d->group;
		{
			/* The group's rows say what it holds. */
			size_t used = snprintf(buf, sizeof(buf), "by %s:", label);

			for (int j = i; j < SA_C_MAX && used < sizeof(buf); j++)
				if (!strcmp(sa_counters[j].group, d->group))
					used += snprintf(buf + used, sizeof(buf) - used,
							 "%s %s", j == i ? "" : ";",
							 sa_counters[j].help);
			help = buf;
		}
		family(f, d->group, "_total", "counter", help);
		for (size_t r = 0; r < n; r++) {
			/* Only ports whose SYNs reach a followed namespace
			 * have figures there. */
			if (d->stage == SA_STAGE_CONTAINER && !sa_follow_of(rows[r].ps)->cookie)
				continue;
			/* Keys that repeat in a group (MSS 1440 for IPv4 and
			 * IPv6) are one label value: their rows add up. */
			for (int j = i; j < SA_C_MAX; j++) {
				__u64 v = 0;
				bool first = true;

				if (strcmp(sa_counters[j].group, d->group))
					continue;
				for (int k = i; k < j && first; k++)
					if (!strcmp(sa_counters[k].group, d->group) &&
					    !strcmp(sa_counters[k].key, sa_counters[j].key))
						first = false;
				if (!first)
					continue;
				for (int k = j; k < SA_C_MAX; k++)
					if (!strcmp(sa_counters[k].group, d->group) &&
					    !strcmp(sa_counters[k].key, sa_counters[j].key))
						v += sa_c(rows[r].ps, k);
				if (v || !sa_group_sparse(d->group))
					sample_u64(f, d->group, "_total", &rows[r], label,
						   sa_counters[j].key, v);
			}
		}
		/* The followed namespace's, by the same label (listen_drops). */
		for (int j = i; j < SA_C_MAX && sa_stage_measured(m, SA_STAGE_CONTAINER); j++) {
			int ct = strcmp(sa_counters[j].group, d->group) ? -1 : ct_row(j);

			for (size_t r = 0; r < n && ct >= 0; r++)
				if (ct_netns(&rows[r]))
					sample_ct(f, d->group, "_total", &rows[r], label,
						  sa_counters[j].key, sa_c(rows[r].ps, ct));
		}
	}
}

/* The figures the reconciler derives, the stack's drops by reason, and
 * the listeners' gauges. */
static void render_stack(FILE *f, const struct sa_report_ctx *rc,
			 const struct row *rows, size_t n)
{
	const char *reason_label = sa_group_label("stack_drops");
	const char *gap_label = sa_group_label("unexplained");
	char help[2048];
	size_t used;

	/* One map holds both, apart by SA_DROP_SYNACK in the reason. */
	family(f, "stack_drops", "_total", "counter",
	       "SYNs freed before a socket took them, by the kernel's drop reason");
	for (size_t r = 0; r < n; r++)
		for (__u32 i = 0; i < rows[r].ps->n_drops; i++)
			if (rows[r].ps->drops[i].n &&
			    !(rows[r].ps->drops[i].reason & SA_DROP_SYNACK))
				sample_u64(f, "stack_drops", "_total", &rows[r], reason_label,
					   sa_reason_name(rows[r].ps->drops[i].reason),
					   rows[r].ps->drops[i].n);
	/* The followed namespace counts them, but not by reason. */
	for (size_t r = 0; r < n && rc->m.follow; r++)
		if (ct_netns(&rows[r]))
			sample_ct(f, "stack_drops", "_total", &rows[r], NULL, NULL,
				  sa_c(rows[r].ps, SA_C_ct_stack_drops));
	family(f, "synack_drops", "_total", "counter",
	       "SYN-ACKs dropped after TC egress saw them, by the kernel's drop reason");
	for (size_t r = 0; r < n; r++)
		for (__u32 i = 0; i < rows[r].ps->n_drops; i++)
			if (rows[r].ps->drops[i].n &&
			    (rows[r].ps->drops[i].reason & SA_DROP_SYNACK))
				sample_u64(f, "synack_drops", "_total", &rows[r],
					   sa_group_label("synack_drops"),
					   sa_reason_name(rows[r].ps->drops[i].reason &
							  ~SA_DROP_SYNACK),
					   rows[r].ps->drops[i].n);

	family(f, "accepted", "_total", "counter", derived_help("", "accepted"));
	for (size_t r = 0; r < n; r++)
		sample_u64(f, "accepted", "_total", &rows[r], NULL, NULL,
			   sa_accepted_total(&rows[r].served->accepted,
					     sa_c(rows[r].ps, SA_C_established), sa_g(rows[r].ps)));
	for (size_t r = 0; r < n && rc->m.follow; r++)
		if (ct_netns(&rows[r]))
			sample_ct(f, "accepted", "_total", &rows[r], NULL, NULL,
				  sa_accepted_total(&rows[r].served->ct_accepted,
						    sa_c(rows[r].ps, SA_C_ct_established),
						    &sa_follow_of(rows[r].ps)->cg));

#define SA_GAUGE_PROM(name, h)						\
	family(f, #name, "", "gauge", h);				\
	for (size_t r = 0; r < n; r++)					\
		sample_u64(f, #name, "", &rows[r], NULL, NULL, sa_g(rows[r].ps)->name); \
	for (size_t r = 0; r < n && rc->m.follow; r++)			\
		if (ct_netns(&rows[r]))					\
			sample_ct(f, #name, "", &rows[r], NULL, NULL,	\
				  sa_follow_of(rows[r].ps)->cg.name);
	SA_GAUGES(SA_GAUGE_PROM)
#undef SA_GAUGE_PROM

	queue_age(f, rows, n);

	family(f, "cookie_mode", "", "gauge",
	       "1 while the port answers with SYN cookies (cookies sent, or tcp_syncookies=2)");
	for (size_t r = 0; r < n; r++)
		sample_u64(f, "cookie_mode", "", &rows[r], NULL, NULL, rows[r].v.cookie_mode);

	used = snprintf(help, sizeof(help),
			"SYNs no stage accounts for, by %s (signed; 0 when the funnel adds up):",
			gap_label);
	for (int g = 0; g < SA_GAP_MAX && used < sizeof(help); g++) {
		char eq[512];

		sa_gap_equation(g, eq, sizeof(eq));
		used += snprintf(help + used, sizeof(help) - used, " %s = %s;",
				 sa_gaps[g].key, eq);
	}
	family(f, "unexplained", "", "gauge", help);
	/* Every gap of sa_gaps[] that is measured. */
	for (size_t r = 0; r < n; r++)
		for (int g = 0; g < SA_GAP_MAX; g++) {
			if (!sa_gap_measured(g, rc->m))
				continue;
			sample_start(f, "unexplained", "", &rows[r]);
			fprintf(f, ",%s=\"%s\"} %lld\n", gap_label, sa_gaps[g].key,
				(long long)rows[r].v.gap[g]);
		}

	family(f, "verdict", "", "gauge",
	       "1 for each port's verdict: its stable id (the JSON verdict.id) and "
	       "severity (ok, info, warning, critical); the text is in the JSON");
	for (size_t r = 0; r < n; r++) {
		sample_start(f, "verdict", "", &rows[r]);
		fprintf(f, ",id=\"%s\",severity=\"%s\"} 1\n",
			sa_verdicts[rows[r].v.verdict.id].id,
			sa_severity_names[sa_verdict_severity(&rows[r].v.verdict)]);
	}
}

/* Where a port's SYNs go when they are not for a local listener (JSON
 * "nat" and "forwarded_via"): info series, one per port that has them. */
static void render_paths(FILE *f, struct sa_measured m, const struct row *rows, size_t n)
{
	char addr[INET6_ADDRSTRLEN], ifname[IF_NAMESIZE + 16];

	family(f, "nat_info", "", "gauge",
	       "1 for a port whose SYNs NAT in the watched namespace sends to to_addr:to_port "
	       "(conntrack's reply tuple); the port's figures are the published port's");
	for (size_t r = 0; r < n; r++) {
		const struct sa_port_stats *ps = rows[r].ps;

		if (rows[r].port == SA_PROM_OTHER || !ps->nat)
			continue;
		sa_nat_addr(ps->nat, addr, sizeof(addr));
		sample_start(f, "nat_info", "", &rows[r]);
		fprintf(f, ",to_addr=\"%s\",to_port=\"%u\"} 1\n", addr, ps->nat->to_port);
	}
	if (!m.follow)
		goto forwarded;
	family(f, "container_info", "", "gauge",
	       "1 for a port whose forwarded SYNs reach a followed namespace: its name "
	       "(ip netns name, or pid:PID and cgroup), the port they are sent to there, "
	       "and its pod and container where a process in it has a pod's or a "
	       "container's cgroup");
	for (size_t r = 0; r < n; r++) {
		const struct sa_port_stats *ps = rows[r].ps;

		if (rows[r].port == SA_PROM_OTHER || !sa_follow_of(ps)->cookie)
			continue;
		sample_start(f, "container_info", "", &rows[r]);
		fputs(",netns=\"", f);
		/* Escaped where it entered, as for the table and JSON. */
		put_label_escaped(f, sa_follow_of(ps)->netns ? sa_follow_of(ps)->netns : "?");
		fprintf(f, "\",to_port=\"%u\"", sa_follow_of(ps)->port);
		put_pod(f, sa_follow_of(ps)->pod, true);
		fputs("} 1\n", f);
	}
forwarded:
	family(f, "forwarded_via_info", "", "gauge",
	       "1 for a port whose SYNs the namespace routes on: the interface its last "
	       "forwarded SYN left by");
	for (size_t r = 0; r < n; r++)
		if (rows[r].port != SA_PROM_OTHER &&
		    sa_fwd_iface(rows[r].ps, ifname, sizeof(ifname)))
			sample_u64(f, "forwarded_via_info", "", &rows[r], "iface", ifname, 1);
}

/* One series of stage 0 per watched interface. */
static void driver_iface_family(FILE *f, const struct sa_driver *d, const char *name,
				size_t off, const char *help)
{
	family(f, name, "_total", "counter", help);
	for (int i = 0; i < d->n_ifaces; i++) {
		fprintf(f, "synacct_%s_total{iface=\"", name);
		put_label(f, d->iface[i].name);
		fprintf(f, "\"} %llu\n",
			(unsigned long long)*(const __u64 *)((const char *)&d->iface[i] + off));
	}
}

/* Stage 0 (xdp/driver/): the kernel's own counters, as read (since the
 * interface was created, since boot for the CPUs'). */
static void render_driver(FILE *f, const struct sa_driver *d)
{
	driver_iface_family(f, d, "driver_rx_dropped",
			    offsetof(struct sa_driver_iface, rx_dropped),
			    "frames the interface dropped on receive (stats64 rx_dropped; on a backlog path the CPU backlog's drops too)");
	driver_iface_family(f, d, "driver_rx_missed_errors",
			    offsetof(struct sa_driver_iface, rx_missed_errors),
			    "frames the NIC missed: its receive ring was full (stats64 rx_missed_errors)");
	driver_iface_family(f, d, "driver_rx_fifo_errors",
			    offsetof(struct sa_driver_iface, rx_fifo_errors),
			    "frames lost to the NIC's receive FIFO overrunning (stats64 rx_fifo_errors)");
	family(f, "driver_queue_drops", "_total", "counter",
	       "the driver's per-RX-queue drop counters (ethtool -S names: rx_queue_N_*, rxN_* naming a drop, discard or miss, not XDP's)");
	for (int i = 0; i < d->n_ifaces; i++)
		for (int q = 0; q < d->iface[i].n_q; q++) {
			fputs("synacct_driver_queue_drops_total{iface=\"", f);
			put_label(f, d->iface[i].name);
			fputs("\",counter=\"", f);
			put_label(f, d->iface[i].q[q].name);
			fprintf(f, "\"} %llu\n", (unsigned long long)d->iface[i].q[q].n);
		}
	family(f, "softnet_dropped", "_total", "counter",
	       "frames dropped because the CPU's backlog was full (net.core.netdev_max_backlog; /proc/net/softnet_stat), by CPU");
	for (__u32 c = 0; c < d->n_cpus; c++)
		fprintf(f, "synacct_softnet_dropped_total{cpu=\"%u\"} %llu\n", d->cpu[c].cpu,
			(unsigned long long)d->cpu[c].dropped);
	family(f, "softnet_time_squeeze", "_total", "counter",
	       "times the CPU's receive softirq ran out of budget or time with work left (/proc/net/softnet_stat), by CPU");
	for (__u32 c = 0; c < d->n_cpus; c++)
		fprintf(f, "synacct_softnet_time_squeeze_total{cpu=\"%u\"} %llu\n", d->cpu[c].cpu,
			(unsigned long long)d->cpu[c].time_squeeze);
}

/* What has no port: the parsers' failures, the namespace's MIBs and
 * setting, the hooks. */
static void render_host(FILE *f, const struct sa_report_ctx *rc,
			const struct sa_snapshot *abs)
{
	char ifaces[SA_MAX_IFACES * 17] = "";

	if (rc->m.nic) {
		family(f, "nic_unparsed", "_total", "counter",
		       "frames XDP could not parse (truncated, IHL < 5, doff < 5, or headers beyond its limits: a third VLAN tag, a fifth IPv6 extension header)");
		fprintf(f, "synacct_nic_unparsed_total %llu\n", (unsigned long long)abs->nic_unparsed);
	}
	family(f, "tc_unparsed", "_total", "counter",
	       "frames TC ingress could not parse (truncated, IHL < 5, doff < 5, or headers beyond its limits: a third VLAN tag, a fifth IPv6 extension header)");
	fprintf(f, "synacct_tc_unparsed_total %llu\n", (unsigned long long)abs->tc_unparsed);

	family(f, "update_failed", "_total", "counter",
	       "counts lost: a counter map entry could not be created (the map was full), by stage");
	if (rc->m.nic)
		fprintf(f, "synacct_update_failed_total{stage=\"nic\"} %llu\n",
			(unsigned long long)abs->nic_update_failed);
	fprintf(f, "synacct_update_failed_total{stage=\"tc\"} %llu\n",
		(unsigned long long)abs->tc_update_failed);
	if (rc->m.stack)
		fprintf(f, "synacct_update_failed_total{stage=\"stack\"} %llu\n",
			(unsigned long long)abs->stack_update_failed);

	if (rc->m.stack) {
		family(f, "missed_runs", "_total", "counter",
		       "runs of the stack stage's tracing programs the kernel skipped "
		       "(fired again on a CPU where the program was running)");
		fprintf(f, "synacct_missed_runs_total %llu\n",
			(unsigned long long)abs->missed_runs);
	}

	family(f, "mib", "_total", "counter",
	       "the watched namespace's own TCP counters, by nstat name (since the namespace was created)");
	for (int i = 0; i < SA_MIB_MAX; i++)
		fprintf(f, "synacct_mib_total{counter=\"%s\"} %llu\n", sa_mib_names[i],
			(unsigned long long)abs->mib[i]);

	if (abs->tcp_syncookies >= 0) {
		family(f, "tcp_syncookies", "", "gauge",
		       "net.ipv4.tcp_syncookies of the watched namespace (0 off, 1 on overflow, 2 always)");
		fprintf(f, "synacct_tcp_syncookies %d\n", abs->tcp_syncookies);
	}

	if (abs->driver.read)
		render_driver(f, &abs->driver);

	family(f, "hooks_info", "", "gauge", "the hooks synacct counts with, one series each");
	for (int i = 0; i < rc->n_hooks; i++) {
		fputs("synacct_hooks_info{hook=\"", f);
		put_label(f, rc->hooks[i]);
		fputs("\"} 1\n", f);
	}

	family(f, "stage_up", "", "gauge", "1 while a stage's hooks on an interface are "
	       "synacct's, 0 from when one was removed or replaced");
	for (int i = 0; i < rc->n_stage_up; i++) {
		fputs("synacct_stage_up{stage=\"", f);
		put_label(f, rc->stage_up[i].stage);
		fputs("\",iface=\"", f);
		put_label(f, rc->stage_up[i].iface);
		fprintf(f, "\"} %d\n", rc->stage_up[i].up);
	}

	for (int i = 0; i < rc->n_ifaces; i++) {
		if (i)
			strcat(ifaces, ",");
		strncat(ifaces, rc->ifaces[i], 16);
	}
	family(f, "info", "", "gauge", "what this synacct watches: version, namespace, interfaces, XDP mode");
	fputs("synacct_info{version=\"", f);
	put_label(f, argp_program_version);
	fputs("\",netns=\"", f);
	put_label(f, rc->netns ? rc->netns : "");
	fputs("\",ifaces=\"", f);
	put_label(f, ifaces);
	fputs("\",xdp_mode=\"", f);
	put_label(f, rc->xdp_mode);
	fputs("\"} 1\n", f);

	if (rc->build) {
		const struct sa_build_info *b = rc->build;

		family(f, "build_info", "", "gauge",
		       "1; the version, the commit built from, the running kernel and "
		       "the libbpf and libxdp versions");
		fputs("synacct_build_info{version=\"", f);
		put_label(f, b->version);
		fputs("\",commit=\"", f);
		put_label(f, b->commit);
		fputs("\",kernel=\"", f);
		put_label(f, b->kernel);
		fputs("\",libbpf=\"", f);
		put_label(f, b->libbpf);
		fputs("\",libxdp=\"", f);
		put_label(f, b->libxdp);
		fputs("\"} 1\n", f);
	}

	/* When the reading began, not when the page was made: whatever
	 * happened before this time is in the figures, so a scraper (or a
	 * test) needs one page past a moment, not two. */
	family(f, "last_read_timestamp_seconds", "", "gauge",
	       "when synacct began the reading of the counters this page shows (Unix time)");
	fprintf(f, "synacct_last_read_timestamp_seconds %lld.%03ld\n",
		(long long)abs->read_at.tv_sec, abs->read_at.tv_nsec / 1000000);

	/* What synacct costs, under the names every exporter uses, so that
	 * the dashboards made for those work on synacct too. */
	if (rc->self) {
		fputs("# HELP process_cpu_seconds_total synacct's user and system CPU time\n"
		      "# TYPE process_cpu_seconds_total counter\n", f);
		fprintf(f, "process_cpu_seconds_total %.2f\n", rc->self->cpu_seconds);
		fputs("# HELP process_resident_memory_bytes synacct's resident memory\n"
		      "# TYPE process_resident_memory_bytes gauge\n", f);
		fprintf(f, "process_resident_memory_bytes %llu\n", rc->self->resident_bytes);
		fputs("# HELP process_start_time_seconds when synacct started (Unix time)\n"
		      "# TYPE process_start_time_seconds gauge\n", f);
		fprintf(f, "process_start_time_seconds %.2f\n", rc->self->start_time);
	}
}

struct cand {
	__u64 syns;
	__u32 port;
};

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->syns != y->syns)
		return x->syns > y->syns ? -1 : 1;
	return x->port < y->port ? -1 : x->port > y->port;
}

/* A port gets a label of its own.  One that has counted something was
 * in "other", which drops by its figures (a reset Prometheus sees once):
 * "other"'s accepted starts again from what it is now. */
static void label(struct sa_metrics *p, __u32 port, bool seen)
{
	sa_portset_add(&p->labeled, port);
	if (seen)
		p->served[SA_PROM_OTHER] = (struct served){ 0 };
}

/* Give labels to listening ports, --ports and the busiest ports up to
 * --metrics-top; labels once given are kept, so a port's series never
 * moves back into "other". */
static int choose_ports(struct sa_metrics *p, const struct sa_snapshot *abs,
			const struct sa_portset *sel, const struct sa_portset *listeners)
{
	struct cand *c = NULL;
	size_t n = 0, cap = 0;

	for (__u32 port = 0; port < SA_MAX_PORTS; port++) {
		const struct sa_port_stats *ps = abs->port[port];
		bool seen = ps && !sa_port_stats_zero(ps);

		if (!sa_portset_has(sel, port) || sa_portset_has(&p->labeled, port))
			continue;
		if (sa_portset_has(listeners, port) || (seen && !sel->any)) {
			label(p, port, seen);
			continue;
		}
		if (!seen || p->n_top >= p->top)
			continue;
		if (n == cap) {
			struct cand *nc = realloc(c, (cap = cap ? 2 * cap : 256) * sizeof(*c));

			if (!nc) {
				free(c);
				return -ENOMEM;
			}
			c = nc;
		}
		c[n++] = (struct cand){ sa_port_syns(ps), port };
	}
	if (n)	/* qsort(NULL, 0) is undefined behaviour */
		qsort(c, n, sizeof(*c), cand_cmp);
	for (size_t i = 0; i < n && p->n_top < p->top; i++, p->n_top++)
		label(p, c[i].port, true);
	free(c);
	return 0;
}

static const struct sa_port_stats zero_stats;

/* What the ports' series are made from, for @abs: ports_gen 0 when the
 * reading keeps none. */
static void ports_key(struct ports_key *k, const struct sa_report_ctx *rc,
		      const struct sa_snapshot *abs, const struct sa_portset *sel,
		      const struct sa_portset *listeners)
{
	memset(k, 0, sizeof(*k));
	k->ports_gen = abs->ports_gen;
	/* Field by field: a struct's padding is not its value. */
	k->m.nic = rc->m.nic;
	k->m.nic_native = rc->m.nic_native;
	k->m.stack = rc->m.stack;
	k->m.follow = rc->m.follow;
	k->m.tc_lost = rc->m.tc_lost;
	/* m.lost: its text, below. */
	snprintf(k->lost, sizeof(k->lost), "%s", rc->m.lost ? rc->m.lost : "");
	k->tcp_syncookies = abs->tcp_syncookies;
	k->sel = *sel;
	k->listeners = *listeners;
}

/* Every port's series into @f: labels chosen, rows reconciled. */
static int render_ports(struct sa_metrics *p, FILE *f, const struct sa_report_ctx *rc,
			const struct sa_snapshot *abs, const struct sa_portset *sel,
			const struct sa_portset *listeners)
{
	struct sa_port_stats other = { 0 };
	struct row *rows = NULL;
	size_t n = 0, cap = 0;
	int err;

	err = choose_ports(p, abs, sel, listeners);
	for (__u32 port = 0; port < SA_MAX_PORTS && !err; port++) {
		const struct sa_port_stats *ps = abs->port[port];

		if (!sa_portset_has(sel, port))
			continue;
		if (!sa_portset_has(&p->labeled, port)) {
			if (ps && !sa_port_stats_zero(ps)) {
				err = sa_port_stats_add(&other, ps);
				p->other_shown = true;
			}
			continue;
		}
		if (n == cap) {
			struct row *nr = realloc(rows, (cap = cap ? 2 * cap : 256) * sizeof(*rows));

			if (!nr) {
				err = -ENOMEM;
				break;
			}
			rows = nr;
		}
		rows[n++] = (struct row){ port, ps ? ps : &zero_stats, &p->served[port],
					  { .port = port } };
	}
	/* "other", once it has counted something, stays: its counters only
	 * grow (but drop when one of its ports gets a label of its own). */
	if (!err && p->other_shown) {
		struct row *nr = realloc(rows, (n + 1) * sizeof(*rows));

		if (nr) {
			rows = nr;
			rows[n++] = (struct row){ SA_PROM_OTHER, &other,
						  &p->served[SA_PROM_OTHER], { 0 } };
		} else {
			err = -ENOMEM;
		}
	}
	/* Reconciled once per row (reconcile.c): gaps, cookie mode, verdict. */
	for (size_t r = 0; r < n && !err && rc->m.stack; r++)
		sa_reconcile_port(rows[r].ps, rc->m, abs->tcp_syncookies, &rows[r].v);
	if (!err) {
		render_counters(f, rc->m, rows, n);
		if (rc->m.stack) {
			render_stack(f, rc, rows, n);
			render_paths(f, rc->m, rows, n);
		}
	}
	free(rows);
	sa_port_stats_release(&other);
	return err;
}

int sa_metrics_update(struct sa_metrics *p, const struct sa_report_ctx *rc,
		      const struct sa_snapshot *abs, const struct sa_portset *sel,
		      const struct sa_portset *listeners)
{
	struct ports_key *k = malloc(sizeof(*k));
	size_t len = 0;
	char *page = NULL;
	FILE *f = NULL;
	int err = k ? 0 : -ENOMEM;

	/* The ports' series again only when what they come from changed. */
	if (!err)
		ports_key(k, rc, abs, sel, listeners);
	if (!err && (!k->ports_gen || !p->ports_part || memcmp(k, &p->key, sizeof(*k)))) {
		char *part = NULL;
		size_t part_len = 0;

		free(p->ports_part);
		p->ports_part = NULL;
		f = open_memstream(&part, &part_len);
		err = f ? render_ports(p, f, rc, abs, sel, listeners) : -errno;
		if (f && fclose(f) && !err)
			err = -ENOMEM;
		if (err) {
			free(part);
		} else {
			p->ports_part = part;
			p->ports_len = part_len;
			p->key = *k;
		}
	}
	free(k);
	if (!err) {
		f = open_memstream(&page, &len);
		if (!f)
			err = -errno;
	}
	if (!err) {
		fwrite(p->ports_part, 1, p->ports_len, f);
		render_host(f, rc, abs);
		if (fclose(f))
			err = -ENOMEM;
	}
	if (err) {
		free(page);
		sa_err("cannot render the metrics: %s", strerror(-err));
		return err;
	}
	pthread_mutex_lock(&p->lock);
	free(p->page);
	p->page = page;
	p->len = len;
	pthread_mutex_unlock(&p->lock);
	return 0;
}
