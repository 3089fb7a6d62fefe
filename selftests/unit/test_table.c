// SPDX-License-Identifier: GPL-2.0
/*
 * test_table.c - the table's verdict colour (agent/output/table.c) is the
 * verdict's severity (agent/analysis/reconcile.h), never a word of its text: a
 * loss is red, a gap no stage explains yellow, no loss green, nothing to
 * judge uncoloured; and a loss in a namespace named "unexplained" is
 * still red.  Also each verdict as reconcile.c returns it: id, severity,
 * stage and the figure it is about.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ports.h"
#include "reconcile.h"
#include "report.h"
#include "table.h"
#include "tap.h"

#define GREEN	"\033[32m"
#define YELLOW	"\033[33m"
#define RED	"\033[31m"

static void do_summary(const void *rc, const void *v)
{
	sa_table_summary(rc, v, 1.0);
}

static char *summary_of(const struct sa_report_ctx *rc, const struct sa_view *v)
{
	return tap_capture(do_summary, rc, v);
}

/* The port of @v whose number is @port. */
static const struct sa_verdict *verdict_of(const struct sa_view *v, __u32 port)
{
	for (size_t i = 0; i < v->n_ports; i++)
		if (v->ports[i].port == port)
			return &v->ports[i].verdict;
	return NULL;
}

/* Port @port's verdict is "ID SEVERITY STAGE N" (@want). */
static void verdict_is(const struct sa_view *v, __u32 port, const char *want)
{
	const struct sa_verdict *k = verdict_of(v, port);
	char got[128] = "-";

	if (k)
		snprintf(got, sizeof(got), "%s %s %s %llu", sa_verdicts[k->id].id,
			 sa_severity_names[sa_verdict_severity(k)],
			 sa_stage_names[sa_verdicts[k->id].stage], (unsigned long long)k->n);
	is_str(got, want, "port %u: verdict id, severity, stage, figure", port);
}

void suite_table(void)
{
	struct sa_report_ctx rc = {
		.color = true, .m = { .nic = true, .stack = true, .follow = true },
		.xdp_mode = "native", .interval_s = 1,
	};
	struct sa_snapshot *s = sa_snapshot_new();
	struct sa_portset shown;
	struct sa_port_stats *p;
	struct sa_port_follow *fw;
	struct sa_view v = { 0 };
	char *out;

	if (!ok(s != NULL, "a snapshot"))
		return;
	p = sa_snapshot_port(s, 80);		/* no loss */
	sa_c_set(p, SA_C_nic_syn, 4);
	sa_c_set(p, SA_C_tc_syn, 4);
	sa_c_set(p, SA_C_listener_syn, 4);
	sa_c_set(p, SA_C_syn_queued, 4);
	sa_c_set(p, SA_C_synack_sent, 4);
	p = sa_snapshot_port(s, 81);		/* 5 SYNs no stage explains */
	sa_c_set(p, SA_C_nic_syn, 5);
	sa_c_set(p, SA_C_tc_syn, 5);
	p = sa_snapshot_port(s, 82);		/* a loss: the accept queue */
	sa_c_set(p, SA_C_nic_syn, 6);
	sa_c_set(p, SA_C_tc_syn, 6);
	sa_c_set(p, SA_C_listener_syn, 6);
	sa_c_set(p, SA_C_listen_drop_accept_queue_full, 6);
	sa_port_gauges(p)->accept_backlog = 2;
	p = sa_snapshot_port(s, 83);		/* a loss where a word says otherwise */
	fw = sa_port_follow(p);
	if (!ok(fw != NULL, "port 83 followed into a namespace"))
		goto cleanup;
	fw->cookie = 1;
	fw->netns = "unexplained";
	fw->port = 8080;
	sa_c_set(p, SA_C_nic_syn, 3);
	sa_c_set(p, SA_C_tc_syn, 3);
	sa_c_set(p, SA_C_forwarded, 3);
	sa_c_set(p, SA_C_ct_stack_drops, 3);
	p = sa_snapshot_port(s, 84);		/* an idle listener */
	sa_port_gauges(p)->listeners = 1;
	sa_portset_parse(&shown, "80-84");
	if (!ok(sa_view_build(&v, s, rc.m, &shown, false) == 0 && v.n_ports == 5,
		"a view of ports 80-84"))
		goto cleanup;

	verdict_is(&v, 80, "no_loss ok stack 0");
	verdict_is(&v, 81, "unexplained_tc_to_listener warning stack 5");
	verdict_is(&v, 82, "accept_queue_full critical stack 6");
	verdict_is(&v, 83, "container_stack_drop critical container 3");
	verdict_is(&v, 84, "no_syns info tc 0");

	out = summary_of(&rc, &v);
	ok(out && strstr(out, "=> " GREEN "no loss"), "no loss: green");
	ok(out && strstr(out, "=> " YELLOW "5 SYNs unexplained between TC and the listener"),
	   "a gap no stage explains: yellow");
	ok(out && strstr(out, "=> " RED "accept queue full"), "a loss: red");
	ok(out && strstr(out, "=> " RED "3 forwarded SYNs dropped in namespace unexplained"),
	   "a loss in a namespace named 'unexplained': red (severity, not words)");
	ok(out && strstr(out, "=> no SYNs"), "no SYNs: no colour");
	free(out);

	rc.color = false;
	out = summary_of(&rc, &v);
	ok(out && !strchr(out, '\033'), "without colour: no escape sequence");
	free(out);
cleanup:
	sa_view_free(&v);
	sa_snapshot_free(s);
}
