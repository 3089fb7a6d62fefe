// SPDX-License-Identifier: GPL-2.0
/*
 * report.c - what synacct prints: JSON lines (one object per record,
 * through json-c) or a table for people, live on a terminal.
 *
 * Key names are a public interface: they are the counter names of
 * SA_PORT_COUNTERS, so the same word names a quantity in the BPF maps,
 * the JSON and the docs.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <json-c/json.h>
#include "agent.h"

/* Errors and notices alike: one line on stderr, named for the tool. */
static void vmsg(const char *fmt, va_list ap)
{
	fputs("synacct: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void sa_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void sa_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void sa_select_ports(const struct sa_portset *sel,
		     const struct sa_snapshot *total,
		     const struct sa_portset *listeners,
		     struct sa_portset *out)
{
	memset(out, 0, sizeof(*out));
	for (__u32 p = 0; p < SA_MAX_PORTS; p++) {
		bool seen = total->port[p] && !sa_port_stats_zero(total->port[p]);

		if (!sa_portset_has(sel, p))
			continue;
		if (seen || sa_portset_has(listeners, p))
			sa_portset_add(out, p);
	}
}

/* Ports in the table, most SYNs first when there are more: a screenful
 * live, more in the summary; --json always has them all. */
#define SA_TABLE_LIVE_ROWS	12
#define SA_TABLE_SUMMARY_ROWS	50

static const struct sa_port_stats sa_zero_stats;

static const struct sa_port_stats *stats_of(const struct sa_snapshot *s,
					    __u32 port)
{
	return s->port[port] ? s->port[port] : &sa_zero_stats;
}

static void now_iso8601(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

/* The quantity is not measured (its stage is off): null, not 0. */
static bool counter_measured(const struct sa_report_ctx *rc, int i)
{
	if (i == SA_C_nic_syn)
		return !rc->no_xdp;
	if (i >= SA_C_listener_syn)
		return rc->stack;
	return true;
}

/* ---- JSON ---- */

static struct json_object *json_header(const struct sa_report_ctx *rc,
				       const char *type)
{
	struct json_object *o = json_object_new_object();
	struct json_object *ifs = json_object_new_array();
	char ts[64];

	now_iso8601(ts, sizeof(ts));
	json_object_object_add(o, "type", json_object_new_string(type));
	json_object_object_add(o, "time", json_object_new_string(ts));
	json_object_object_add(o, "netns", rc->netns ?
			       json_object_new_string(rc->netns) : NULL);
	for (int i = 0; i < rc->n_ifaces; i++)
		json_object_array_add(ifs, json_object_new_string(rc->ifaces[i]));
	json_object_object_add(o, "ifaces", ifs);
	return o;
}

static struct json_object *json_hooks(const struct sa_report_ctx *rc)
{
	struct json_object *a = json_object_new_array();

	for (int i = 0; i < rc->n_hooks; i++)
		json_object_array_add(a, json_object_new_string(rc->hooks[i]));
	return a;
}

static struct json_object *ju64(__u64 v)
{
	return json_object_new_uint64(v);
}

/* The MSS values the port's cookies encoded: {"1460": n, ...}, IPv4 and
 * IPv6 slots merged by value. */
static struct json_object *json_cookie_mss(const struct sa_port_stats *ps)
{
	static const __u16 v4[] = SA_COOKIE_MSS_V4, v6[] = SA_COOKIE_MSS_V6;
	struct json_object *o = json_object_new_object();
	__u64 merged[SA_COOKIE_MSS_N] = { 0 };
	__u16 tab[SA_COOKIE_MSS_N];

	_Static_assert(sizeof(v4) + sizeof(v6) == sizeof(tab), "two tables of four");
	memcpy(tab, v4, sizeof(v4));
	memcpy(tab + 4, v6, sizeof(v6));
	for (int i = 0; i < SA_COOKIE_MSS_N; i++) {
		int first = i;

		for (int j = 0; j < i; j++)
			if (tab[j] == tab[i]) {
				first = j;
				break;
			}
		merged[first] += ps->c[SA_C_syncookies_mss_0 + i];
	}
	for (int i = 0; i < SA_COOKIE_MSS_N; i++) {
		char key[8];

		if (!merged[i])
			continue;
		snprintf(key, sizeof(key), "%u", tab[i]);
		json_object_object_add(o, key, ju64(merged[i]));
	}
	return o;
}

static struct json_object *json_port(const struct sa_report_ctx *rc, __u32 port,
				     const struct sa_port_stats *ps)
{
	struct json_object *o = json_object_new_object();
	struct json_object *ld, *sd, *un;
	struct sa_port_view v;

	sa_reconcile_port(ps, !rc->no_xdp, rc->stack, &v);
	json_object_object_add(o, "port", json_object_new_int(port));
	for (int i = 0; i < SA_C_MAX; i++)
		if (sa_counter_flat[i])
			json_object_object_add(o, sa_counter_names[i],
				counter_measured(rc, i) ? ju64(ps->c[i]) : NULL);
	if (!rc->stack) {
		json_object_object_add(o, "verdict", json_object_new_string(v.verdict));
		return o;
	}

	ld = json_object_new_object();
	json_object_object_add(ld, "accept_queue_full",
			       ju64(ps->c[SA_C_listen_drop_accept_queue_full]));
	json_object_object_add(ld, "syn_queue_full",
			       ju64(ps->c[SA_C_listen_drop_syn_queue_full]));
	json_object_object_add(ld, "other", ju64(ps->c[SA_C_listen_drop_other]));
	json_object_object_add(o, "listen_drops", ld);

	sd = json_object_new_object();
	for (__u32 i = 0; i < ps->n_drops; i++)
		if (ps->drops[i].n)
			json_object_object_add(sd, sa_reason_name(ps->drops[i].reason),
					       ju64(ps->drops[i].n));
	json_object_object_add(o, "stack_drops", sd);

	json_object_object_add(o, "syncookies_mss", json_cookie_mss(ps));
	json_object_object_add(o, "cookie_mode", json_object_new_boolean(
		ps->c[SA_C_syncookies_sent] > 0 || rc->tcp_syncookies == 2));
	json_object_object_add(o, "accepted", json_object_new_int64(ps->accepted));
	json_object_object_add(o, "listeners", ju64(ps->g.listeners));
	json_object_object_add(o, "syn_queue_len", ju64(ps->g.syn_queue_len));
	json_object_object_add(o, "accept_queue_len", ju64(ps->g.accept_queue_len));
	json_object_object_add(o, "accept_backlog", ju64(ps->g.accept_backlog));
	json_object_object_add(o, "listener_drops", ju64(ps->g.drops));

	un = json_object_new_object();
	json_object_object_add(un, "nic_to_tc", rc->no_xdp ? NULL :
			       json_object_new_int64(v.unexplained_nic_to_tc));
	json_object_object_add(un, "tc_to_listener",
			       json_object_new_int64(v.unexplained_tc_to_listener));
	json_object_object_add(un, "at_listener",
			       json_object_new_int64(v.unexplained_at_listener));
	json_object_object_add(un, "synack_sent",
			       json_object_new_int64(v.unexplained_synack_sent));
	json_object_object_add(o, "unexplained", un);
	json_object_object_add(o, "verdict", json_object_new_string(v.verdict));
	return o;
}

void sa_listener_addr(const struct sa_listener *l, char *buf, size_t len)
{
	if (!inet_ntop(l->family == AF_INET ? AF_INET : AF_INET6, l->addr, buf, len))
		snprintf(buf, len, "?");
}

struct json_object *sa_json_listener(const struct sa_listener *l)
{
	struct json_object *o = json_object_new_object();
	char addr[INET6_ADDRSTRLEN];

	sa_listener_addr(l, addr, sizeof(addr));
	json_object_object_add(o, "addr", json_object_new_string(addr));
	json_object_object_add(o, "port", json_object_new_int(l->port));
	json_object_object_add(o, "family", json_object_new_string(
			       l->family == AF_INET ? "ipv4" : "ipv6"));
	json_object_object_add(o, "inode", json_object_new_uint64(l->inode));
	json_object_object_add(o, "accept_backlog", json_object_new_int64(l->accept_backlog));
	json_object_object_add(o, "syn_queue_len", json_object_new_int64(l->syn_queue_len));
	json_object_object_add(o, "accept_queue_len", json_object_new_int64(l->accept_queue_len));
	json_object_object_add(o, "listener_drops", json_object_new_int64(l->drops));
	return o;
}

/* The listening sockets of the shown ports, one object each. */
static struct json_object *json_listeners(const struct sa_snapshot *s,
					  const struct sa_portset *shown)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < s->n_listeners; i++)
		if (sa_portset_has(shown, s->listeners[i].port))
			json_object_array_add(a, sa_json_listener(&s->listeners[i]));
	return a;
}

static void json_counts(struct json_object *o, const struct sa_report_ctx *rc,
			const struct sa_snapshot *s)
{
	json_object_object_add(o, "tcp_syncookies", s->tcp_syncookies < 0 ? NULL :
			       json_object_new_int(s->tcp_syncookies));
	json_object_object_add(o, "nic_unparsed", rc->no_xdp ? NULL :
			       json_object_new_uint64(s->nic_unparsed));
	json_object_object_add(o, "tc_unparsed",
			       json_object_new_uint64(s->tc_unparsed));
}

static void json_mib(struct json_object *o, const struct sa_report_ctx *rc,
		     const struct sa_snapshot *s)
{
	struct json_object *m = json_object_new_object();
	char bad[256];
	bool ok;

	for (int i = 0; i < SA_MIB_MAX; i++)
		json_object_object_add(m, sa_mib_names[i], ju64(s->mib[i]));
	json_object_object_add(o, "mib", m);
	if (!rc->stack)
		return;
	ok = sa_reconcile_mib(s, bad, sizeof(bad));
	json_object_object_add(o, "consistent", json_object_new_boolean(ok));
	if (!ok)
		json_object_object_add(o, "inconsistent", json_object_new_string(bad));
}

#define SA_JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

static void json_emit(struct json_object *o)
{
	puts(json_object_to_json_string_ext(o, SA_JSON_FLAGS));
	fflush(stdout);
	json_object_put(o);
}

/*
 * Emit record @o with its "ports" array written port by port, so that a
 * record for tens of thousands of ports (a scan) never exists as one tree
 * in memory.  @active: only ports that moved in @s or have a listener.
 */
static void json_emit_ports(struct json_object *o, const struct sa_report_ctx *rc,
			    const struct sa_snapshot *s,
			    const struct sa_portset *shown, bool active)
{
	const char *head = json_object_to_json_string_ext(o, SA_JSON_FLAGS);
	size_t len = strlen(head);
	bool first = true;

	/* head is "{...}": all but its closing brace, then the ports. */
	fwrite(head, 1, len - 1, stdout);
	fputs(len > 2 ? ",\"ports\":[" : "\"ports\":[", stdout);
	for (__u32 p = 0; p < SA_MAX_PORTS; p++) {
		const struct sa_port_stats *ps = stats_of(s, p);
		struct json_object *po;

		if (!sa_portset_has(shown, p))
			continue;
		if (active && sa_port_stats_zero(ps) && !ps->g.listeners)
			continue;
		po = json_port(rc, p, ps);
		if (!first)
			putchar(',');
		fputs(json_object_to_json_string_ext(po, SA_JSON_FLAGS), stdout);
		json_object_put(po);
		first = false;
	}
	fputs("]}\n", stdout);
	fflush(stdout);
	json_object_put(o);
}

/* ---- table ---- */

static void cell(bool measured, __u64 v)
{
	if (measured)
		printf(" %8llu", (unsigned long long)v);
	else
		printf(" %8s", "-");
}

/* Table rows: the ports with the most SYNs when there are more than fit,
 * shown in port order. */
static const struct sa_snapshot *rank_snap;

static int by_syns_desc(const void *a, const void *b)
{
	__u64 x = stats_of(rank_snap, *(const __u32 *)a)->c[SA_C_tc_syn];
	__u64 y = stats_of(rank_snap, *(const __u32 *)b)->c[SA_C_tc_syn];

	if (x != y)
		return x > y ? -1 : 1;
	return *(const __u32 *)a < *(const __u32 *)b ? -1 : 1;
}

static int by_port(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/* @now, @before: the last two readings, for the live SYN rate (NULL in
 * the summary). */
static void table_print(const struct sa_report_ctx *rc,
			const struct sa_snapshot *total,
			const struct sa_portset *shown, size_t max_rows,
			const struct sa_snapshot *now, const struct sa_snapshot *before)
{
	__u32 *ports = malloc(SA_MAX_PORTS * sizeof(*ports));
	size_t n = 0, rows;

	if (!ports)
		return;
	for (__u32 p = 0; p < SA_MAX_PORTS; p++)
		if (sa_portset_has(shown, p))
			ports[n++] = p;
	rows = n;
	if (n > max_rows) {
		rank_snap = total;
		qsort(ports, n, sizeof(*ports), by_syns_desc);
		rows = max_rows;
		qsort(ports, rows, sizeof(*ports), by_port);
	}

	printf("%6s %8s %8s %8s %8s %8s %8s %8s %8s %8s %9s %9s\n",
	       "port", "nic_syn", "tc_syn", "stk_drop", "listener", "queued",
	       "cookie", "lst_drop", "estab", "accepted", "synq", "acceptq");
	for (size_t i = 0; i < rows; i++) {
		__u32 p = ports[i];
		const struct sa_port_stats *ps;
		struct sa_port_view v;
		char q[32];

		ps = stats_of(total, p);
		sa_reconcile_port(ps, !rc->no_xdp, rc->stack, &v);
		printf("%6u", p);
		cell(!rc->no_xdp, ps->c[SA_C_nic_syn]);
		cell(true, ps->c[SA_C_tc_syn]);
		cell(rc->stack, v.stack_drops);
		cell(rc->stack, ps->c[SA_C_listener_syn]);
		cell(rc->stack, ps->c[SA_C_syn_queued]);
		cell(rc->stack, ps->c[SA_C_syncookies_sent]);
		cell(rc->stack, v.listen_drops);
		cell(rc->stack, ps->c[SA_C_established]);
		if (rc->stack)
			printf(" %8lld", (long long)ps->accepted);
		else
			printf(" %8s", "-");
		snprintf(q, sizeof(q), "%u", ps->g.syn_queue_len);
		printf(" %9s", rc->stack ? q : "-");
		snprintf(q, sizeof(q), "%u/%u", ps->g.accept_queue_len, ps->g.accept_backlog);
		printf(" %9s\n", rc->stack ? q : "-");
		printf("%6s   synack_sent %llu", "", (unsigned long long)ps->c[SA_C_synack_sent]);
		if (rc->stack)
			printf(" (retrans %llu)", (unsigned long long)ps->c[SA_C_synack_retrans]);
		if (now && before)
			printf("  now %.1f SYN/s",
			       (stats_of(now, p)->c[SA_C_tc_syn] -
				stats_of(before, p)->c[SA_C_tc_syn]) / rc->interval_s);
		for (__u32 i = 0; i < ps->n_drops; i++)
			if (ps->drops[i].n)
				printf("  %s %llu", sa_reason_name(ps->drops[i].reason),
				       (unsigned long long)ps->drops[i].n);
		if (ps->c[SA_C_syncookies_sent] || ps->c[SA_C_syncookies_recv] ||
		    ps->c[SA_C_syncookies_failed])
			printf("\n%6s   cookies: sent %llu, ACKs validated %llu, failed %llu, "
			       "sent to clients without timestamps %llu", "",
			       (unsigned long long)ps->c[SA_C_syncookies_sent],
			       (unsigned long long)ps->c[SA_C_syncookies_recv],
			       (unsigned long long)ps->c[SA_C_syncookies_failed],
			       (unsigned long long)ps->c[SA_C_syncookies_no_ts]);
		printf("\n%6s   => %s\n", "", v.verdict);
	}
	if (!n)
		printf("   (no SYNs and no listeners on the selected ports yet)\n");
	else if (n > rows)
		printf("   (+%zu more ports left out, those with the fewest SYNs: narrow "
		       "with --ports, or --json for all of them)\n", n - rows);
	free(ports);
}

static void table_header(const struct sa_report_ctx *rc, const char *what,
			 double elapsed_s)
{
	printf("synacct %s  netns %s  iface", what, rc->netns ? rc->netns : "(current)");
	for (int i = 0; i < rc->n_ifaces; i++)
		printf(" %s", rc->ifaces[i]);
	if (rc->no_xdp)
		printf("  (xdp off)");
	else
		printf("  (xdp %s)", rc->xdp_mode);
	printf("  %.0fs   totals since start\n", elapsed_s);
}

/* ---- records ---- */

void sa_report_start(const struct sa_report_ctx *rc)
{
	struct json_object *o;

	if (!rc->json)
		return;
	o = json_header(rc, "start");
	json_object_object_add(o, "hooks", json_hooks(rc));
	json_emit(o);
}

void sa_report_interval(const struct sa_report_ctx *rc,
			const struct sa_snapshot *delta,
			const struct sa_snapshot *total,
			const struct sa_portset *shown, double elapsed_s)
{
	struct json_object *o;

	if (rc->json) {
		o = json_header(rc, "interval");
		json_object_object_add(o, "elapsed_s", json_object_new_double(elapsed_s));
		if (rc->stack)
			json_object_object_add(o, "listeners", json_listeners(delta, shown));
		json_counts(o, rc, delta);
		json_emit_ports(o, rc, delta, shown, true);
		return;
	}
	if (rc->tty)
		fputs("\033[H\033[2J", stdout);	/* redraw in place */
	table_header(rc, "live", elapsed_s);
	table_print(rc, total, shown, SA_TABLE_LIVE_ROWS, rc->now, rc->before);
	if (!rc->tty)
		putchar('\n');
	fflush(stdout);
}

void sa_report_summary(const struct sa_report_ctx *rc,
		       const struct sa_snapshot *total,
		       const struct sa_portset *shown, double elapsed_s)
{
	struct json_object *o;

	if (rc->json) {
		o = json_header(rc, "summary");
		json_object_object_add(o, "duration_s", json_object_new_double(elapsed_s));
		json_object_object_add(o, "hooks", json_hooks(rc));
		if (rc->stack)
			json_object_object_add(o, "listeners", json_listeners(total, shown));
		json_counts(o, rc, total);
		json_mib(o, rc, total);
		json_emit_ports(o, rc, total, shown, false);
		return;
	}
	printf("\n");
	table_header(rc, "summary", elapsed_s);
	table_print(rc, total, shown, SA_TABLE_SUMMARY_ROWS, NULL, NULL);
	printf("unparsed frames: nic %llu, tc %llu\n",
	       (unsigned long long)total->nic_unparsed,
	       (unsigned long long)total->tc_unparsed);
	if (rc->stack) {
		char bad[256];

		printf("namespace MIBs:");
		for (int i = 0; i < SA_MIB_MAX; i++)
			printf(" %s %llu", sa_mib_names[i],
			       (unsigned long long)total->mib[i]);
		if (sa_reconcile_mib(total, bad, sizeof(bad)))
			printf("\n  per-port sums agree with them\n");
		else
			printf("\n  per-port sums DISAGREE on %s (traffic on other "
			       "interfaces of the namespace?)\n", bad);
	}
	fflush(stdout);
}
