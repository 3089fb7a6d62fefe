// SPDX-License-Identifier: GPL-2.0
/*
 * test_prom.c - the /metrics page (agent/output/prom.c) rendered from hand-made
 * readings: synacct_accepted_total is established minus the accept queue,
 * read a moment apart, and a reading that gives less than the last must
 * not take the counter back (per port, for the container's too); the
 * "other" row starts again when one of its ports gets a label of its own;
 * the series of a labelled family (unexplained by gap, stack_drops by
 * reason) carry their label; synacct_build_info, and the reading's time.
 */
#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include "build_info.h"
#include "escape.h"
#include "pod.h"
#include "prom.h"
#include "tap.h"

/* main.c's, which the unit tests do not link. */
const char *argp_program_version = "synacct unit";

/* The value of series @s ("name{labels}") on @page, or -1 if absent. */
static long long value_of(const char *page, const char *s)
{
	size_t len = strlen(s);

	for (const char *l = page; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (!strncmp(l, s, len) && l[len] == ' ')
			return strtoll(l + len + 1, NULL, 10);
	return -1;
}

/* Is @s valid UTF-8?  glibc's iconv decides (it refuses invalid
 * sequences with EILSEQ), not synacct's own escaper. */
static bool valid_utf8(const char *s)
{
	iconv_t cd = iconv_open("UTF-8", "UTF-8");
	size_t in = strlen(s), outlen = in;
	char *out = malloc(outlen + 1), *ip = (char *)s, *op = out;
	bool valid;

	if (cd == (iconv_t)-1 || !out) {
		diag("iconv_open UTF-8: %s", strerror(errno));
		free(out);
		return false;
	}
	valid = iconv(cd, &ip, &in, &op, &outlen) != (size_t)-1 && !in;
	if (!valid)
		diag("invalid UTF-8 at byte %zu: %.20s", (size_t)(ip - s), ip);
	iconv_close(cd);
	free(out);
	return valid;
}

/* The line of @page that starts with @prefix, copied to @buf ("" if none). */
static const char *line_of(const char *page, const char *prefix, char *buf, size_t len)
{
	size_t n = strlen(prefix);

	buf[0] = '\0';
	for (const char *l = page; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (!strncmp(l, prefix, n)) {
			snprintf(buf, len, "%.*s", (int)strcspn(l, "\n"), l);
			break;
		}
	return buf;
}

struct fixture {
	struct sa_metrics *p;
	struct sa_report_ctx rc;
	struct sa_snapshot *s;
	struct sa_portset sel, listeners;
	char *page;
};

/* Render @f's snapshot; the page in f->page. */
static bool render(struct fixture *f)
{
	free(f->page);
	f->page = NULL;
	if (sa_metrics_update(f->p, &f->rc, f->s, &f->sel, &f->listeners))
		return false;
	f->page = sa_metrics_page(f->p);
	return f->page != NULL;
}

static void set(struct sa_port_stats *ps, __u64 established, __u64 queue)
{
	if (sa_c_set(ps, SA_C_established, established))
		diag("out of memory");	/* the values checked then differ */
	sa_port_gauges(ps)->accept_queue_len = queue;
}

void suite_prom(void)
{
	static const char *const hooks[] = { "xdp", "iter/tcp" };
	static const char *const ifaces[] = { "eth0" };
	struct fixture f = {
		.rc = { .ifaces = ifaces, .n_ifaces = 1, .hooks = hooks, .n_hooks = 2,
			.xdp_mode = "skb",
			.m = { .nic = true, .stack = true, .follow = true } },
	};
	struct sa_port_stats *web, *ctr, *a, *b;
	struct sa_port_follow *fw;
	__u64 *drop;
	char *reason3;

	/* No --metrics-top: only the listening ports have a label. */
	f.s = sa_snapshot_new();
	f.p = sa_metrics_new(0);
	if (!ok(f.s && f.p, "a metrics page, no port by SYNs labelled"))
		goto cleanup;
	f.sel.any = true;
	sa_portset_parse(&f.listeners, "8080,8081");
	ok(sa_metrics_page(f.p) == NULL, "no page before the first reading");

	web = sa_snapshot_port(f.s, 8080);
	ctr = sa_snapshot_port(f.s, 8081);
	fw = sa_port_follow(ctr);
	if (!ok(web && ctr && fw, "ports 8080, 8081 (followed into a container)"))
		goto cleanup;
	fw->cookie = 1;
	fw->netns = "ctr";
	fw->port = 80;

	set(web, 10, 3);
	sa_c_set(ctr, SA_C_ct_established, 6);
	sa_c_set(ctr, SA_C_ct_listen_drop_other, 2);
	fw->cg.accept_queue_len = 1;
	if (!ok(render(&f), "render a reading"))
		goto cleanup;
	is_int(value_of(f.page, "synacct_accepted_total{port=\"8080\"}"), 7,
	       "accepted: established 10 - accept queue 3");
	is_int(value_of(f.page, "synacct_accepted_total{port=\"8081\",netns=\"ctr\"}"), 5,
	       "container accepted: established 6 - accept queue 1");
	/* The container's series are in the host's families, with netns. */
	is_int(value_of(f.page, "synacct_established_total{port=\"8081\",netns=\"ctr\"}"), 6,
	       "the container's established: synacct_established_total with netns");
	is_int(value_of(f.page, "synacct_established_total{port=\"8081\"}"), 0,
	       "... apart from the host's of the same port");
	is_int(value_of(f.page, "synacct_accept_queue_len{port=\"8081\",netns=\"ctr\"}"), 1,
	       "... and its accept queue: synacct_accept_queue_len with netns");
	is_int(value_of(f.page, "synacct_listen_drops_total{port=\"8081\",cause=\"other\",netns=\"ctr\"}"), 2,
	       "container.listen_drops.other: listen_drops_total, cause=\"other\", with netns");
	ok(!strstr(f.page, "synacct_established_total{port=\"8080\",netns="),
	   "a port not followed: no netns series");

	/* The queue read before the counters: one connection completed in
	 * between shows in the queue only now. */
	set(web, 10, 4);
	fw->cg.accept_queue_len = 2;
	render(&f);
	is_int(value_of(f.page, "synacct_accepted_total{port=\"8080\"}"), 7,
	       "a reading giving 10 - 4 = 6: accepted stays 7, never back");
	is_int(value_of(f.page, "synacct_accepted_total{port=\"8081\",netns=\"ctr\"}"), 5,
	       "... the container's too (6 - 2 = 4: stays 5)");
	is_int(value_of(f.page, "synacct_accept_queue_len{port=\"8080\"}"), 4,
	       "... while the queue gauge is the reading's, 4");

	set(web, 13, 4);
	sa_c_set(ctr, SA_C_ct_established, 9);
	render(&f);
	is_int(value_of(f.page, "synacct_accepted_total{port=\"8080\"}"), 9,
	       "then established 13 - queue 4: accepted 9, up again");
	is_int(value_of(f.page, "synacct_accepted_total{port=\"8081\",netns=\"ctr\"}"), 7,
	       "... the container's 9 - 2 = 7");

	/* Ports without a label add into "other" (--metrics-top 0). */
	a = sa_snapshot_port(f.s, 9000);
	b = sa_snapshot_port(f.s, 9001);
	if (!ok(a && b, "ports 9000, 9001"))
		goto cleanup;
	set(a, 5, 0);
	set(b, 3, 0);
	/* Three counters: "other" holds them on the heap (snapshot.h). */
	sa_c_set(a, SA_C_nic_syn, 20);
	sa_c_set(a, SA_C_tc_syn, 20);
	sa_c_set(b, SA_C_nic_syn, 4);
	render(&f);
	is_int(value_of(f.page, "synacct_accepted_total{port=\"other\"}"), 8,
	       "other: 9000 and 9001, 5 + 3");
	is_int(value_of(f.page, "synacct_nic_syn_total{port=\"other\"}"), 24,
	       "... nic_syn 20 + 4");
	/* 9001 gets a listener, and a label: "other" is 9000 alone, a reset
	 * Prometheus sees once, not a counter held at 8. */
	sa_portset_add(&f.listeners, 9001);
	set(a, 6, 0);
	render(&f);
	is_int(value_of(f.page, "synacct_accepted_total{port=\"9001\"}"), 3,
	       "9001 with a label of its own: 3");
	is_int(value_of(f.page, "synacct_accepted_total{port=\"other\"}"), 6,
	       "other drops to 9000's 6 (a reset), not held at 8");
	set(a, 6, 1);
	render(&f);
	is_int(value_of(f.page, "synacct_accepted_total{port=\"other\"}"), 6,
	       "... and from there never back (6 - 1 = 5: stays 6)");

	/* A labelled family's series each carry their label: a gap by its
	 * name, a drop by its reason's name (set here: the names are global,
	 * and the unit tests before this one may have set others).
	 * 10 SYNs at XDP, 7 at TC, 2 dropped after TC (reason 3). */
	reason3 = sa_reason_names[3];
	sa_reason_names[3] = "NO_SOCKET";
	sa_c_set(web, SA_C_nic_syn, 10);
	sa_c_set(web, SA_C_tc_syn, 7);
	drop = sa_port_drop(web, 3);
	if (!ok(drop != NULL, "a drop reason on 8080"))
		goto cleanup;
	*drop = 2;
	render(&f);
	is_int(value_of(f.page, "synacct_unexplained{port=\"8080\",gap=\"nic_to_tc\"}"), 3,
	       "unexplained, gap=\"nic_to_tc\": 10 - 7");
	is_int(value_of(f.page, "synacct_unexplained{port=\"8080\",gap=\"tc_to_listener\"}"), 5,
	       "unexplained, gap=\"tc_to_listener\": 7 - 2 dropped");
	is_int(value_of(f.page, "synacct_stack_drops_total{port=\"8080\",reason=\"NO_SOCKET\"}"), 2,
	       "stack_drops_total, reason=\"NO_SOCKET\": 2");
	/* The verdict as data: one series per port, its id and severity
	 * (the page's own reconciliation of the totals: 5 > 2, the gap). */
	is_int(value_of(f.page, "synacct_verdict{port=\"8080\",id=\"unexplained_tc_to_listener\","
			"severity=\"warning\"}"), 1,
	       "verdict: port 8080, the gap after TC, a warning");
	{
		int n = 0;

		for (const char *q = f.page; (q = strstr(q, "\nsynacct_verdict{port=\"8080\"")); q++)
			n++;
		is_int(n, 1, "verdict: one series for port 8080");
	}
	sa_reason_names[3] = reason3;

	/* What this synacct is, and when the page's reading began: the
	 * reading's own time, to the millisecond below it (not when the page
	 * was made), so that an event before it is in the figures. */
	{
		static const struct sa_build_info build = {
			"0.1", "0123456789ab-dirty", "6.18.0-1-amd64", "1.1", "1.3.1",
		};
		char line[512];

		f.rc.build = &build;
		f.s->read_at = (struct timespec){ 1700000000, 123999999 };
		render(&f);
		is_str(line_of(f.page, "synacct_build_info{", line, sizeof(line)),
		       "synacct_build_info{version=\"0.1\",commit=\"0123456789ab-dirty\","
		       "kernel=\"6.18.0-1-amd64\",libbpf=\"1.1\",libxdp=\"1.3.1\"} 1",
		       "synacct_build_info: version, commit, kernel, libbpf, libxdp");
		is_str(line_of(f.page, "synacct_last_read_timestamp_seconds ", line, sizeof(line)),
		       "synacct_last_read_timestamp_seconds 1700000000.123",
		       "last_read_timestamp: the reading's start, ms rounded down");
		f.rc.build = NULL;
		render(&f);
		ok(!strstr(f.page, "synacct_build_info"), "no build info given: no series");
	}

	/* What synacct costs, under the names every exporter uses. */
	{
		static const struct sa_self self = { 12.345, 19922944, 1700000000.5 };
		char line[256];

		f.rc.self = &self;
		render(&f);
		is_str(line_of(f.page, "process_cpu_seconds_total ", line, sizeof(line)),
		       "process_cpu_seconds_total 12.35", "process_cpu_seconds_total: user + system");
		is_str(line_of(f.page, "process_resident_memory_bytes ", line, sizeof(line)),
		       "process_resident_memory_bytes 19922944", "process_resident_memory_bytes");
		is_str(line_of(f.page, "process_start_time_seconds ", line, sizeof(line)),
		       "process_start_time_seconds 1700000000.50", "process_start_time_seconds");
		ok(strstr(f.page, "# TYPE process_cpu_seconds_total counter\n") != NULL,
		   "process_cpu_seconds_total is a counter");
		f.rc.self = NULL;
		render(&f);
		ok(!strstr(f.page, "process_"), "no figures of its own given: no process_ series");
	}

	/* A reading that keeps ports_gen: the ports' series are made again
	 * only when it changes (or what else they come from does); the
	 * host's figures every time. */
	{
		f.s->ports_gen = 7;
		sa_c_set(web, SA_C_nic_syn, 20);
		render(&f);
		is_int(value_of(f.page, "synacct_nic_syn_total{port=\"8080\"}"), 20,
		       "ports_gen 7: the page made from the reading");
		sa_c_set(web, SA_C_nic_syn, 21);
		f.s->mib[0] = 1234;
		render(&f);
		is_int(value_of(f.page, "synacct_nic_syn_total{port=\"8080\"}"), 20,
		       "ports_gen still 7: the ports' series kept (the reading says none changed)");
		ok(strstr(f.page, " 1234\n") != NULL, "... the host's figures made again (a MIB 1234)");
		f.s->ports_gen = 8;
		render(&f);
		is_int(value_of(f.page, "synacct_nic_syn_total{port=\"8080\"}"), 21,
		       "ports_gen 8: the ports' series made again");
		sa_c_set(web, SA_C_nic_syn, 22);
		f.rc.m.tc_lost = true;
		render(&f);
		is_int(value_of(f.page, "synacct_nic_syn_total{port=\"8080\"}"), 22,
		       "what is measured changed (TC lost): made again");
		f.rc.m.tc_lost = false;
		f.s->ports_gen = 0;
		f.s->mib[0] = 0;
	}

	/* Names others chose, hostile: invalid UTF-8, an escape sequence, a
	 * quote, a backslash, a newline, and valid UTF-8 (é) that stays.
	 * docs/metrics.md "Label values": the table's escaping (\xNN, \\),
	 * then the exposition format's (\\, \"). */
	{
		static const char *const bad_ifaces[] = { "e0\xff\x1b" };
		char line[1024], esc[SA_ESC_SIZE(64)];

		f.rc.netns = "ns\xff\x1b[2J\"q\\b\nx\xc3\xa9";
		f.rc.ifaces = bad_ifaces;
		/* A followed namespace's name is escaped where it enters. */
		fw->netns = sa_tty_str("ct\xfe\xc2\x9b", esc, sizeof(esc));
		if (!ok(render(&f), "render with hostile names"))
			goto cleanup;
		ok(valid_utf8(f.page), "the page is valid UTF-8 (iconv)");
		is_str(line_of(f.page, "synacct_info{", line, sizeof(line)),
		       "synacct_info{version=\"synacct unit\","
		       "netns=\"ns\\\\xff\\\\x1b[2J\\\"q\\\\\\\\b\\\\x0ax\xc3\xa9\","
		       "ifaces=\"e0\\\\xff\\\\x1b\",xdp_mode=\"skb\"} 1",
		       "synacct_info: \\xNN for invalid bytes and controls, \\\\ for \\, \\\" for \", é kept");
		is_str(line_of(f.page, "synacct_container_info{", line, sizeof(line)),
		       "synacct_container_info{port=\"8081\",netns=\"ct\\\\xfe\\\\xc2\\\\x9b\","
		       "to_port=\"80\"} 1",
		       "synacct_container_info: the followed namespace's name as the table shows it");
	}

	/* Its pod: labels after netns, the names escaped as the netns label
	 * (where they entered, then the exposition format's); container_id
	 * on the info series only. */
	{
		static struct sa_pod pod = { .uid = "0b7a9c4e-5f1d-4c1a-9e8b-2a3c4d5e6f70",
					     .container_id = "3f2a1b0c9d8e" };
		char line[1024];

		sa_tty_str("shop", pod.ns, sizeof(pod.ns));
		sa_tty_str("w\"e\\b\x1b\xff\xc3\xa9", pod.name, sizeof(pod.name));
		fw->netns = "ctr";
		fw->pod = &pod;
		if (!ok(render(&f), "render with a pod"))
			goto cleanup;
		ok(valid_utf8(f.page), "the page is valid UTF-8 (iconv)");
		is_str(line_of(f.page, "synacct_container_info{", line, sizeof(line)),
		       "synacct_container_info{port=\"8081\",netns=\"ctr\",to_port=\"80\","
		       "pod_uid=\"0b7a9c4e-5f1d-4c1a-9e8b-2a3c4d5e6f70\",pod_namespace=\"shop\","
		       "pod=\"w\\\"e\\\\\\\\b\\\\x1b\\\\xff\xc3\xa9\",container_id=\"3f2a1b0c9d8e\"} 1",
		       "synacct_container_info: pod_uid, pod_namespace, pod (escaped), container_id");
		is_int(value_of(f.page, "synacct_established_total{port=\"8081\",netns=\"ctr\","
				"pod_uid=\"0b7a9c4e-5f1d-4c1a-9e8b-2a3c4d5e6f70\",pod_namespace=\"shop\","
				"pod=\"w\\\"e\\\\\\\\b\\\\x1b\\\\xff\xc3\xa9\"}"), 9,
		       "the container's established: its pod's labels after netns");
		is_int(value_of(f.page, "synacct_listen_drops_total{port=\"8081\",cause=\"other\","
				"netns=\"ctr\",pod_uid=\"0b7a9c4e-5f1d-4c1a-9e8b-2a3c4d5e6f70\","
				"pod_namespace=\"shop\",pod=\"w\\\"e\\\\\\\\b\\\\x1b\\\\xff\xc3\xa9\"}"), 2,
		       "... listen_drops with cause, then netns and the pod");
		pod.name[0] = pod.ns[0] = '\0';
		render(&f);
		is_str(line_of(f.page, "synacct_container_info{", line, sizeof(line)),
		       "synacct_container_info{port=\"8081\",netns=\"ctr\",to_port=\"80\","
		       "pod_uid=\"0b7a9c4e-5f1d-4c1a-9e8b-2a3c4d5e6f70\",container_id=\"3f2a1b0c9d8e\"} 1",
		       "no log directory for it: pod_uid and container_id, no pod_namespace or pod");
		fw->pod = NULL;
	}

cleanup:
	free(f.page);
	sa_metrics_free(f.p);
	sa_snapshot_free(f.s);
}
