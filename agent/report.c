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
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include "agent.h"

void sa_err(const char *fmt, ...)
{
	va_list ap;

	fputs("synacct: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void sa_info(const char *fmt, ...)
{
	va_list ap;

	fputs("synacct: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
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
	return !(rc->no_xdp && i == SA_C_nic_syn);
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

	if (!rc->no_xdp)
		json_object_array_add(a, json_object_new_string(
			strcmp(rc->xdp_mode, "skb") ? "xdp" : "xdp_skb"));
	json_object_array_add(a, json_object_new_string("tc_ingress"));
	json_object_array_add(a, json_object_new_string("tc_egress"));
	return a;
}

static struct json_object *json_ports(const struct sa_report_ctx *rc,
				      const struct sa_snapshot *s,
				      const struct sa_portset *shown)
{
	struct json_object *a = json_object_new_array();

	for (__u32 p = 0; p < SA_MAX_PORTS; p++) {
		const struct sa_port_stats *ps;
		struct json_object *o;

		if (!sa_portset_has(shown, p))
			continue;
		ps = stats_of(s, p);
		o = json_object_new_object();
		json_object_object_add(o, "port", json_object_new_int(p));
		for (int i = 0; i < SA_C_MAX; i++)
			json_object_object_add(o, sa_counter_names[i],
				counter_measured(rc, i) ?
				json_object_new_uint64(ps->c[i]) : NULL);
		json_object_array_add(a, o);
	}
	return a;
}

static void json_counts(struct json_object *o, const struct sa_report_ctx *rc,
			const struct sa_snapshot *s)
{
	json_object_object_add(o, "nic_unparsed", rc->no_xdp ? NULL :
			       json_object_new_uint64(s->nic_unparsed));
	json_object_object_add(o, "tc_unparsed",
			       json_object_new_uint64(s->tc_unparsed));
}

static void json_emit(struct json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	fflush(stdout);
	json_object_put(o);
}

/* ---- table ---- */

static void table_print(const struct sa_report_ctx *rc,
			const struct sa_snapshot *delta,
			const struct sa_snapshot *total,
			const struct sa_portset *shown)
{
	int rows = 0;

	printf("%6s", "port");
	for (int i = 0; i < SA_C_MAX; i++)
		printf(" %14s", sa_counter_names[i]);
	if (delta)
		printf(" %12s", "nic_syn/s");
	putchar('\n');

	for (__u32 p = 0; p < SA_MAX_PORTS; p++) {
		const struct sa_port_stats *ps;

		if (!sa_portset_has(shown, p))
			continue;
		ps = stats_of(total, p);
		printf("%6u", p);
		for (int i = 0; i < SA_C_MAX; i++) {
			if (counter_measured(rc, i))
				printf(" %14llu", (unsigned long long)ps->c[i]);
			else
				printf(" %14s", "-");
		}
		if (delta)
			printf(" %12.1f", rc->no_xdp ? 0.0 :
			       stats_of(delta, p)->c[SA_C_nic_syn] / rc->interval_s);
		putchar('\n');
		rows++;
	}
	if (!rows)
		printf("   (no SYNs and no listeners on the selected ports yet)\n");
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
	printf("  %.0fs\n", elapsed_s);
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
		json_object_object_add(o, "ports", json_ports(rc, delta, shown));
		json_counts(o, rc, delta);
		json_emit(o);
		return;
	}
	if (rc->tty)
		fputs("\033[H\033[2J", stdout);	/* redraw in place */
	table_header(rc, "live", elapsed_s);
	table_print(rc, delta, total, shown);
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
		json_object_object_add(o, "ports", json_ports(rc, total, shown));
		json_counts(o, rc, total);
		json_emit(o);
		return;
	}
	printf("\n");
	table_header(rc, "summary", elapsed_s);
	table_print(rc, NULL, total, shown);
	printf("unparsed frames: nic %llu, tc %llu\n",
	       (unsigned long long)total->nic_unparsed,
	       (unsigned long long)total->tc_unparsed);
	fflush(stdout);
}
