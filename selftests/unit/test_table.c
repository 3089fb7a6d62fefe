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
#include "pod.h"
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

	out = summary_of(&rc, &v);
	ok(out && !strstr(out, "before XDP/TC"), "stage 0 off: no line for it");
	free(out);

	/* Stage 0 dropped: its verdict, the record's, above the funnel. */
	s->driver.read = true;
	s->driver.n_ifaces = 1;
	snprintf(s->driver.iface[0].name, sizeof(s->driver.iface[0].name), "eth0");
	s->driver.iface[0].rx_missed_errors = 4;
	s->driver.cpu = calloc(2, sizeof(*s->driver.cpu));
	if (!ok(s->driver.cpu != NULL, "two CPUs"))
		goto cleanup;
	s->driver.n_cpus = 2;
	s->driver.cpu[0] = (struct sa_softnet_cpu){ .cpu = 0, .time_squeeze = 2 };
	s->driver.cpu[1] = (struct sa_softnet_cpu){ .cpu = 1, .dropped = 7 };
	sa_view_free(&v);
	if (!ok(sa_view_build(&v, s, rc.m, &shown, false) == 0 && v.driver.text,
		"stage 0 dropped: the record has its verdict"))
		goto cleanup;
	is_str(sa_verdicts[v.driver.id].id, "driver_drops", "stage 0's verdict id");
	is_int(v.driver.n, 7, "stage 0's verdict count: softnet dropped");
	is_str(v.driver.text, "lost before XDP and TC, not attributable to a port: CPU backlog "
	       "full, 7 dropped (cpu1 7); raise net.core.netdev_max_backlog; eth0 rx_dropped 0, "
	       "rx_missed_errors 4, rx_fifo_errors 0, queue drops 0", "stage 0's verdict text");
	out = summary_of(&rc, &v);
	ok(out && strstr(out, "\nbefore XDP/TC => " RED "lost before XDP and TC") &&
	   strstr(out, "before XDP/TC") < strstr(out, "no loss"),
	   "stage 0: one line in red above the funnel");
	free(out);

	rc.color = false;
	out = summary_of(&rc, &v);
	ok(out && !strchr(out, '\033'), "without colour: no escape sequence");
	ok(out && strstr(out, "in netns unexplained port 8080:  listener_syn 0"),
	   "a namespace no pod's: 'in netns NAME port N:' then its figures");
	free(out);

	/* A pod's: its namespace/name (escaped where they entered), uid and
	 * the container id as docker ps shows it. */
	{
		static struct sa_pod pod = {
			.uid = "0b7a9c4e-5f1d-4c1a-9e8b-2a3c4d5e6f70",
			.container_id = "3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a",
		};

		sa_tty_str("shop", pod.ns, sizeof(pod.ns));
		sa_tty_str("web\x1b[2J\xff", pod.name, sizeof(pod.name));
		fw->pod = &pod;
		out = summary_of(&rc, &v);
		ok(out && strstr(out, "in netns unexplained port 8080:  pod shop/web\\x1b[2J\\xff  "
				 "pod_uid 0b7a9c4e-5f1d-4c1a-9e8b-2a3c4d5e6f70  "
				 "container_id 3f2a1b0c9d8e  listener_syn 0"),
		   "a pod's: 'pod NS/NAME  pod_uid UID  container_id ID12' after the namespace");
		ok(out && !strchr(out, '\033') && !strchr(out, '\xff'), "... no ESC, no invalid byte");
		free(out);
		fw->pod = NULL;
	}

	/* On an 80-column terminal the line wraps at its spaces. */
	rc.width = 80;
	out = summary_of(&rc, &v);
	{
		int widest = 0, col = 0, lines = 0;

		for (const char *c = out ? strstr(out, "before XDP/TC") : NULL; c && *c; c++) {
			if (*c == '\n') {
				lines++;
				if (strncmp(c + 1, "      ", 6))
					break;	/* the line's continuation only */
				col = 0;
				continue;
			}
			if (++col > widest)
				widest = col;
		}
		ok(out && widest <= 80 && lines >= 2,
		   "stage 0's line at 80 columns: wrapped (%d lines, widest %d)", lines, widest);
		if (out && (widest > 80 || lines < 2))
			diag("%s", out);
	}
	free(out);
cleanup:
	sa_view_free(&v);
	sa_snapshot_free(s);
}
