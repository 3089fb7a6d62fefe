/* SPDX-License-Identifier: GPL-2.0 */
/*
 * report.h - what synacct prints: JSON lines, or a table for people that
 * fits their terminal.  Both render the same reconciled view
 * (reconcile.h); key names and column headers come from the counter
 * table.
 */
#ifndef SYNACCT_REPORT_H
#define SYNACCT_REPORT_H

#include <stdbool.h>
#include "reconcile.h"

struct sa_xdp_link;

/* A stage's hooks on one interface: up while they are synacct's
 * (agent/cmd/health.c); synacct_stage_up on /metrics. */
struct sa_stage_up {
	const char *stage;
	const char *iface;
	bool up;
};

struct sa_build_info;

struct sa_report_ctx {
	const char *netns;
	const char *const *ifaces;
	int n_ifaces;
	bool json;
	bool tty;		/* redraw in place */
	bool color;		/* a terminal, and NO_COLOR unset */
	int width;		/* table width; 0: unlimited (not a terminal) */
	struct sa_measured m;
	const char *xdp_mode;	/* "native", "skb", "tc" or "none" */
	const struct sa_xdp_link *xdp_links;	/* per interface, for the start record */
	int n_xdp_links;
	const char *const *hooks;
	int n_hooks;
	const struct sa_stage_up *stage_up;
	int n_stage_up;
	double interval_s;
	/* Version, commit, kernel and libraries (synacct_build_info; NULL:
	 * no such series). */
	const struct sa_build_info *build;
	/* synacct's own CPU, memory and start (process_*; NULL: none). */
	const struct sa_self *self;
	/* Per port, tc_syn over the last interval: the live table's SYN
	 * rates (NULL: none). */
	const __u32 *syn_delta;
	/* --json-all-ports: every port in every record, however long. */
	bool json_all_ports;
};

/* A JSON record's length at most, in bytes, unless --json-all-ports: the
 * ports beyond are added up into one row "other" (report.c). */
#define SA_JSON_INTERVAL_MAX	(256 * 1024)
#define SA_JSON_SUMMARY_MAX	(1024 * 1024)

/* Which ports a record shows: the --ports selection, narrowed to ports
 * that saw traffic in @s or have a listener. */
void sa_select_ports(const struct sa_portset *sel, const struct sa_snapshot *s,
		     const struct sa_portset *listeners, struct sa_portset *out);

void sa_report_start(const struct sa_report_ctx *rc);
/* JSON: @v reconciles the interval's deltas; table: the totals. */
void sa_report_interval(const struct sa_report_ctx *rc, const struct sa_view *v,
			double elapsed_s);
void sa_report_summary(const struct sa_report_ctx *rc, const struct sa_view *v,
		       double elapsed_s);

/* A listener as JSON (addr, port, family, inode, its queues), and its
 * address as text. */
/* The time now as the records print it: UTC, milliseconds. */
void sa_now_iso8601(char *buf, size_t len);

struct json_object;
struct json_object *sa_json_listener(const struct sa_listener *l);
/* Every string a JSON record holds goes through this: sa_json_str's
 * escaping (invalid UTF-8 as the text \xNN), so that the record is valid
 * UTF-8 whatever bytes a name held (NULL when out of memory). */
struct json_object *sa_json_string(const char *s);
void sa_listener_addr(const struct sa_listener *l, char *buf, size_t len);
/* The address NAT sends a published port to ("?" if it cannot be
 * written); @len at least INET6_ADDRSTRLEN. */
void sa_nat_addr(const struct sa_nat *nat, char *buf, size_t len);
/* Where NAT sends a published port: "198.18.0.1:80", "[2001:db8::1]:80". */
void sa_nat_dest(const struct sa_nat *nat, char *buf, size_t len);
/* Output interface of a port's forwarded SYNs; false: none. */
bool sa_fwd_iface(const struct sa_port_stats *ps, char *buf, size_t len);

#endif /* SYNACCT_REPORT_H */
