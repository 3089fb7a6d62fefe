// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - synacct: where are my SYNs being lost?
 *
 * Parses options, enters the namespace, attaches every stage along the
 * SYN's path (XDP, TC; the stack side comes later), then reads the
 * counters every interval and reports them until --duration, SIGINT or
 * SIGTERM.  Every path out goes through cleanup, which detaches all that
 * was attached.
 */
#define _GNU_SOURCE
#include <argp.h>
#include <errno.h>
#include <math.h>
#include <net/if.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "agent.h"

#define SA_DEFAULT_BTF "/sys/kernel/btf/vmlinux"
#define SA_MAX_HOOKS 16

const char *argp_program_version = "synacct 0.1";

static const char doc[] =
"synacct -- where are my SYNs being lost?\n\n"
"Counts TCP SYNs per destination port at each stage of their path -- the NIC "
"(XDP), TC ingress, the TCP stack, the listener's SYN and accept queues -- "
"and says where they are lost and why.\n\n"
"  synacct check [--netns NAME|PATH] [--ports LIST] [--json]\n"
"    audits the namespace's SYN defences once and attaches nothing (see\n"
"    'synacct check --help').\n\n"
"Exit status: 0 ok, 1 runtime failure, 2 usage error.";

enum {
	OPT_NO_XDP = 0x100,
	OPT_XDP_MODE,
	OPT_BTF,
	OPT_NO_STACK,
};

static const struct argp_option options[] = {
	{ "iface", 'i', "IFACE", 0, "Interface to watch (repeatable)", 0 },
	{ "netns", 'n', "NAME|PATH", 0, "Network namespace: an 'ip netns' name or a path such as /proc/PID/ns/net", 0 },
	{ "ports", 'p', "LIST", 0, "Ports to report, e.g. 80,443,8000-8100 (default: ports that saw SYNs or have a listener)", 0 },
	{ "interval", 'I', "SEC", 0, "Seconds between reports (default 1)", 0 },
	{ "duration", 'd', "SEC", 0, "Stop after SEC seconds (default: run until SIGINT/SIGTERM)", 0 },
	{ "json", 'j', NULL, 0, "One JSON object per line instead of a table", 0 },
	{ "no-xdp", OPT_NO_XDP, NULL, 0, "Do not attach XDP (nic_syn is then null)", 0 },
	{ "no-stack", OPT_NO_STACK, NULL, 0, "Do not attach the stack-side tracepoints (stack figures are then null)", 0 },
	{ "xdp-mode", OPT_XDP_MODE, "MODE", 0, "native (default, falls back to skb) or skb", 0 },
	{ "btf", OPT_BTF, "FILE", 0, "Kernel BTF to use (default " SA_DEFAULT_BTF ")", 0 },
	{ "verbose", 'v', NULL, 0, "Print libbpf/libxdp debug output and the hooks used", 0 },
	{ 0 }
};

struct sa_opts {
	const char *ifaces[SA_MAX_IFACES];
	int n_ifaces;
	const char *netns;
	struct sa_portset ports;
	double interval_s;
	double duration_s;
	bool json;
	bool no_xdp;
	bool no_stack;
	bool xdp_skb;
	bool verbose;
	const char *btf;
};

static double parse_seconds(const char *arg, struct argp_state *state,
			    const char *what, bool zero_ok)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || v < 0 ||
	    (!zero_ok && v == 0) || v > 31536000)
		argp_error(state, "invalid %s '%s': expected a positive number of seconds",
			   what, arg);
	return v;
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct sa_opts *o = state->input;

	switch (key) {
	case 'i':
		if (o->n_ifaces >= SA_MAX_IFACES)
			argp_error(state, "at most %d interfaces", SA_MAX_IFACES);
		if (!*arg || strlen(arg) >= IF_NAMESIZE)
			argp_error(state, "invalid interface name '%s'", arg);
		for (int i = 0; i < o->n_ifaces; i++)
			if (!strcmp(o->ifaces[i], arg))
				argp_error(state, "interface %s given twice", arg);
		o->ifaces[o->n_ifaces++] = arg;
		break;
	case 'n':
		o->netns = arg;
		break;
	case 'p':
		if (sa_portset_parse(&o->ports, arg))
			argp_error(state, "invalid port list '%s': expected e.g. 80,443,8000-8100", arg);
		break;
	case 'I':
		o->interval_s = parse_seconds(arg, state, "interval", false);
		break;
	case 'd':
		o->duration_s = parse_seconds(arg, state, "duration", false);
		break;
	case 'j':
		o->json = true;
		break;
	case 'v':
		o->verbose = true;
		break;
	case OPT_NO_XDP:
		o->no_xdp = true;
		break;
	case OPT_NO_STACK:
		o->no_stack = true;
		break;
	case OPT_XDP_MODE:
		if (!strcmp(arg, "skb"))
			o->xdp_skb = true;
		else if (strcmp(arg, "native"))
			argp_error(state, "invalid --xdp-mode '%s': native or skb", arg);
		break;
	case OPT_BTF:
		o->btf = arg;
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s'", arg);
		break;
	case ARGP_KEY_END:
		if (!o->n_ifaces)
			argp_error(state, "no interface given: use --iface IFACE");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list args)
{
	(void)level;
	return vfprintf(stderr, fmt, args);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Sleep until monotonic time @t or a stop signal, whichever comes first. */
static void sleep_until(double t)
{
	struct timespec ts = {
		.tv_sec = (time_t)t,
		.tv_nsec = (long)((t - (time_t)t) * 1e9),
	};

	while (!stop_signal &&
	       clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

struct sa_stages {
	struct nic_stage *nic;
	struct tc_stage *tc;
	struct stack_stage *stack;
};

static int read_all(struct sa_stages *stg, struct sa_snapshot *snap)
{
	int err = 0;

	sa_snapshot_clear(snap);
	if (stg->nic)
		err = nic_stage_read(stg->nic, snap);
	if (!err)
		err = tc_stage_read(stg->tc, snap);
	if (!err && stg->stack)
		err = stack_stage_read(stg->stack, snap);
	if (!err)
		err = sa_mib_read(snap->mib);
	snap->tcp_syncookies = sa_sysctl_syncookies();
	if (err)
		sa_err("cannot read counters: %s", strerror(-err));
	return err;
}

/* Ports with a listener: from the iterator's reading when the stack stage
 * made one (no second walk of every socket), else from /proc/net/tcp. */
static void listening_ports(const struct sa_snapshot *snap, struct sa_portset *out)
{
	if (!snap->n_listeners) {
		sa_listening_ports(out);
		return;
	}
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < snap->n_listeners; i++)
		sa_portset_add(out, snap->listeners[i].port);
}

/* An interface that vanished (veth deleted, container gone) ends the run. */
static int check_ifaces(const int *ifindex, const char **names, int n)
{
	char buf[IF_NAMESIZE];

	for (int i = 0; i < n; i++) {
		if (!if_indextoname(ifindex[i], buf)) {
			sa_err("interface %s disappeared; stopping", names[i]);
			return -ENODEV;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct argp argp = { options, parse_opt, NULL, doc, NULL, NULL, NULL };
	struct sa_opts o = { .interval_s = 1.0, .ports.any = true };
	struct sa_snapshot *base = NULL, *prev = NULL, *cur = NULL;
	struct sa_snapshot *delta = NULL, *total = NULL;
	struct sa_portset *listeners = NULL, *shown = NULL;
	struct sa_report_ctx rc = {};
	struct sa_stages stg = {};
	int ifindex[SA_MAX_IFACES];
	const char *hooks[SA_MAX_HOOKS];
	int n_hooks = 0;
	double t0, next, end;
	struct sigaction sa = { .sa_handler = on_signal };
	int exit_code = SA_EXIT_RUNTIME;
	bool vanished = false;
	char errbuf[512];
	int err;

	/* A subcommand with its own options: "synacct check ..." */
	if (argc > 1 && !strcmp(argv[1], "check")) {
		static char check_name[] = "synacct check";

		argv[1] = check_name;
		return sa_check_main(argc - 1, argv + 1);
	}

	/* Usage errors exit 2: argp_err_exit_status is what argp_error uses. */
	argp_err_exit_status = SA_EXIT_USAGE;
	if (argp_parse(&argp, argc, argv, 0, NULL, &o))
		return SA_EXIT_USAGE;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (o.verbose)
		libbpf_set_print(libbpf_print);
	else
		libbpf_set_print(NULL);

	if (!sa_have_privileges(true, o.netns != NULL)) {
		sa_err("insufficient privileges: synacct needs root, or CAP_BPF, "
		       "CAP_PERFMON and CAP_NET_ADMIN (plus CAP_SYS_ADMIN for --netns)");
		return SA_EXIT_RUNTIME;
	}
	if (access(o.btf ? o.btf : SA_DEFAULT_BTF, R_OK)) {
		if (o.btf)
			sa_err("cannot read BTF file %s: %s", o.btf, strerror(errno));
		else
			sa_err("kernel has no BTF (%s is missing): synacct needs a kernel "
			       "built with CONFIG_DEBUG_INFO_BTF=y, or --btf FILE", SA_DEFAULT_BTF);
		return SA_EXIT_RUNTIME;
	}

	if (o.netns) {
		err = sa_netns_enter(o.netns, errbuf, sizeof(errbuf));
		if (err) {
			sa_err("%s", errbuf);
			return err == -ENOENT ? SA_EXIT_USAGE : SA_EXIT_RUNTIME;
		}
	}
	for (int i = 0; i < o.n_ifaces; i++) {
		ifindex[i] = if_nametoindex(o.ifaces[i]);
		if (!ifindex[i]) {
			sa_err("interface %s not found in network namespace %s; "
			       "list interfaces with 'ip link'%s", o.ifaces[i],
			       o.netns ? o.netns : "(current)",
			       o.netns ? " inside it" : "");
			return SA_EXIT_USAGE;
		}
	}

	base = sa_snapshot_new();
	prev = sa_snapshot_new();
	cur = sa_snapshot_new();
	delta = sa_snapshot_new();
	total = sa_snapshot_new();
	listeners = calloc(1, sizeof(*listeners));
	shown = calloc(1, sizeof(*shown));
	if (!base || !prev || !cur || !delta || !total || !listeners || !shown) {
		sa_err("out of memory");
		goto cleanup;
	}

	if (!o.no_xdp) {
		if (nic_stage_open(&stg.nic, o.verbose, o.btf))
			goto cleanup;
		for (int i = 0; i < o.n_ifaces; i++)
			if (nic_stage_attach(stg.nic, ifindex[i], o.ifaces[i], o.xdp_skb))
				goto cleanup;
	}
	if (tc_stage_open(&stg.tc, o.btf))
		goto cleanup;
	for (int i = 0; i < o.n_ifaces; i++)
		if (tc_stage_attach(stg.tc, ifindex[i], o.ifaces[i]))
			goto cleanup;

	if (!o.no_stack &&
	    stack_stage_open(&stg.stack, o.btf, ifindex, o.n_ifaces, o.verbose))
		goto cleanup;

	if (!o.no_xdp)
		hooks[n_hooks++] = strcmp(nic_stage_mode(stg.nic), "skb") ? "xdp" : "xdp_skb";
	hooks[n_hooks++] = "tc_ingress";
	hooks[n_hooks++] = "tc_egress";
	if (stg.stack)
		n_hooks += stack_stage_hooks(stg.stack, hooks + n_hooks,
					     SA_MAX_HOOKS - n_hooks);
	rc.hooks = hooks;
	rc.n_hooks = n_hooks;
	rc.stack = stg.stack != NULL;
	rc.netns = o.netns;
	rc.ifaces = o.ifaces;
	rc.n_ifaces = o.n_ifaces;
	rc.json = o.json;
	rc.tty = isatty(STDOUT_FILENO);
	rc.no_xdp = o.no_xdp;
	rc.xdp_mode = stg.nic ? nic_stage_mode(stg.nic) : "none";
	rc.interval_s = o.interval_s;
	if (o.verbose)
		for (int i = 0; i < n_hooks; i++)
			sa_info("hook: %s", hooks[i]);

	if (read_all(&stg, base))
		goto cleanup;
	sa_snapshot_copy(prev, base);
	sa_report_start(&rc);

	t0 = now_s();
	end = o.duration_s > 0 ? t0 + o.duration_s : INFINITY;
	for (next = t0 + o.interval_s; !stop_signal; next += o.interval_s) {
		struct sa_snapshot *tmp;

		sleep_until(next < end ? next : end);
		if (stop_signal)
			break;
		/* A vanished interface ends the run, with the summary of
		 * what was counted until then. */
		if (check_ifaces(ifindex, o.ifaces, o.n_ifaces)) {
			vanished = true;
			break;
		}
		if (read_all(&stg, cur))
			goto cleanup;
		rc.tcp_syncookies = cur->tcp_syncookies;
		listening_ports(cur, listeners);
		/* JSON reports the interval's deltas, the table totals: make
		 * only the one needed, and free it after, so that a scan of
		 * every port costs three snapshots, not five. */
		if (o.json) {
			sa_snapshot_diff(delta, cur, prev);
			sa_select_ports(&o.ports, delta, listeners, shown);
			sa_report_interval(&rc, delta, NULL, shown, now_s() - t0);
			sa_snapshot_clear(delta);
		} else {
			rc.now = cur;
			rc.before = prev;
			sa_snapshot_diff(total, cur, base);
			sa_select_ports(&o.ports, total, listeners, shown);
			sa_report_interval(&rc, NULL, total, shown, now_s() - t0);
			sa_snapshot_clear(total);
		}
		if (ferror(stdout)) {
			sa_err("cannot write output: %s", strerror(errno));
			goto cleanup;
		}
		tmp = prev; prev = cur; cur = tmp;
		if (now_s() >= end - 1e-6)
			break;
		/* A stalled machine: skip the ticks already missed rather
		 * than report them back to back. */
		if (now_s() > next + o.interval_s)
			next = now_s();
	}

	/* The summary counts up to this moment: read once more. */
	if (read_all(&stg, cur))
		goto cleanup;
	sa_snapshot_diff(total, cur, base);
	rc.tcp_syncookies = cur->tcp_syncookies;
	listening_ports(cur, listeners);
	sa_select_ports(&o.ports, total, listeners, shown);
	sa_report_summary(&rc, total, shown, now_s() - t0);
	exit_code = ferror(stdout) || vanished ? SA_EXIT_RUNTIME : SA_EXIT_OK;

cleanup:
	stack_stage_close(stg.stack);
	tc_stage_close(stg.tc);
	nic_stage_close(stg.nic);
	sa_snapshot_free(base);
	sa_snapshot_free(prev);
	sa_snapshot_free(cur);
	sa_snapshot_free(delta);
	sa_snapshot_free(total);
	free(listeners);
	free(shown);
	return exit_code;
}
