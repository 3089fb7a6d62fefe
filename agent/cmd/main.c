// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - synacct: where are my SYNs being lost?
 *
 * Dispatches subcommands; without one it watches: parses options, enters
 * the namespace, opens and attaches every stage along the SYN's path
 * (stage.h), then reads them every interval, reconciles and reports until
 * --duration, SIGINT or SIGTERM; SIGHUP reloads --config (the options
 * that can change while running).  Every path out goes through cleanup,
 * which detaches all that was attached.  Under systemd it says when it
 * is ready, reloading and stopping, and its status (agent/sys/service.c).
 */
#define _GNU_SOURCE
#include <argp.h>
#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "build_info.h"
#include "claim.h"
#include "config.h"
#include "counters.h"
#include "health.h"
#include "http.h"
#include "log.h"
#include "netns.h"
#include "options.h"
#include "pin.h"
#include "reconcile.h"
#include "report.h"
#include "self.h"
#include "service.h"
#include "settle.h"
#include "stage.h"
#include "table.h"

/* Shortest --interval: below it the agent would only read maps. */
#define SA_MIN_INTERVAL_S 0.01

const char *argp_program_version = "synacct " SA_VERSION;

/* --version of every command: the commit and libraries too. */
static void print_version(FILE *f, struct argp_state *state)
{
	(void)state;
	sa_print_version(f);
}
void (*argp_program_version_hook)(FILE *, struct argp_state *) = print_version;

static error_t no_args(int key, char *arg, struct argp_state *state)
{
	if (key != ARGP_KEY_ARG)
		return ARGP_ERR_UNKNOWN;
	argp_error(state, "unexpected argument '%s'", arg);
	return 0;
}

/* `synacct counters`: every quantity, its stage, map field and metric,
 * as the Markdown table docs/design.md holds. */
static int counters_main(int argc, char **argv)
{
	static const struct argp argp = { NULL, no_args, NULL,
		"Lists every quantity synacct reports: its JSON key, stage, BPF map "
		"field, Prometheus metric and meaning, as a Markdown table (the one "
		"in docs/design.md).  Needs no privilege.", NULL, NULL, NULL };
	int err = sa_parse_args(&argp, argc, argv, NULL);

	if (err)
		return err;
	sa_counters_markdown(stdout);
	return fflush(stdout) ? SA_EXIT_RUNTIME : SA_EXIT_OK;
}

/* `synacct verdicts`: every verdict, its severity, meaning, counters and
 * fix, as the Markdown table docs/verdicts.md holds. */
static int verdicts_main(int argc, char **argv)
{
	static const struct argp argp = { NULL, no_args, NULL,
		"Lists every verdict synacct can give a port: its id (JSON verdict.id, "
		"metric label id), severity, stage, meaning, the kernel counters "
		"behind it and what to do, as a Markdown table (the one in "
		"docs/verdicts.md).  Needs no privilege.", NULL, NULL, NULL };
	int err = sa_parse_args(&argp, argc, argv, NULL);

	if (err)
		return err;
	sa_verdicts_markdown(stdout);
	return fflush(stdout) ? SA_EXIT_RUNTIME : SA_EXIT_OK;
}

static const struct sa_command commands[] = {
	{ "check", sa_check_main, "[--netns NS] [--ports LIST] [--json | --sysctl-file]",
	  "audits the namespace's SYN defences once and attaches nothing (see "
	  "'synacct check --help')" },
	{ "counters", counters_main, "",
	  "lists every quantity synacct reports: JSON key, stage, BPF map field, "
	  "Prometheus metric" },
	{ "detach", sa_detach_main, "[--force] [--netns NS] --iface IFACE... | --pin-dir DIR",
	  "removes what --pin left attached and pinned" },
	{ "verdicts", verdicts_main, "",
	  "lists every verdict: id, severity, meaning, kernel counters, what to do" },
};

/* --help's text before the options; the subcommands from commands[]. */
static const char doc[] =
"synacct -- where are my SYNs being lost?\n\n"
"Counts TCP SYNs per destination port at each stage of their path -- the NIC "
"(XDP), TC ingress, the TCP stack, the listener's SYN and accept queues -- "
"and says where they are lost and why."
"\vExamples:\n"
"  synacct --iface eth0                       live table; summary on Ctrl-C\n"
"  synacct -i eth0 --ports 80,443 --json --duration 60\n"
"  synacct --netns web1 --iface veth0         inside an 'ip netns'\n"
"  synacct -i eth0 --quiet --pin --metrics ADDR:PORT   as a daemon\n"
"  synacct --config /etc/synacct/synacct.conf\n"
"  synacct check --netns web1                 audit SYN defences once\n\n"
"Table and colour only on a terminal (not with TERM=dumb; NO_COLOR turns "
"colour off).  synacct(8) and /usr/share/doc/synacct say more.\n\n"
"Exit status: 0 ok, 1 runtime failure, 2 usage error.";

static char *help_filter(int key, const char *text, void *input)
{
	char *out = NULL, *more;
	size_t len;
	FILE *f;

	(void)input;
	if (key != ARGP_KEY_HELP_PRE_DOC || !text)
		return (char *)text;
	f = open_memstream(&out, &len);
	if (!f)
		return (char *)text;
	fprintf(f, "%s\n\n", text);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const char *s = commands[i].summary;
		int x = 4;

		fprintf(f, "  synacct %s%s%s\n   ", commands[i].name,
			commands[i].usage[0] ? " " : "", commands[i].usage);
		/* Indented under its usage line, wrapped before argp would. */
		while (*s) {
			int n = strcspn(s, " ");

			if (x + 1 + n > 76) {
				fprintf(f, "\n   ");
				x = 4;
			}
			x += fprintf(f, " %.*s", n, s);
			s += n + (s[n] == ' ');
		}
		fprintf(f, ".\n");
	}
	if (fclose(f))
		return (char *)text;
	/* argp wraps the text itself; drop the last newline it would add to. */
	more = out;
	if (len && more[len - 1] == '\n')
		more[len - 1] = '\0';
	return more;
}

enum { OPT_JSON_ALL_PORTS = 0x500, OPT_PIN };

static const struct argp_option options[] = {
	{ "iface", 'i', "IFACE", 0, "Interface to watch (repeatable)", 0 },
	{ "interval", 'I', "SEC", 0, "Seconds between reports (default 1, at least 0.01)", 0 },
	{ "duration", 'd', "SEC", 0, "Stop after SEC seconds (default: run until SIGINT/SIGTERM)", 0 },
	{ "json-all-ports", OPT_JSON_ALL_PORTS, NULL, 0, "With --json, a row for every port in every record, however long; by default an interval record stays within 256 KiB and the summary within 1 MiB, the ports beyond added up into one row \"port\":\"other\" (losses first, then listeners, then the most SYNs are kept)", 0 },
	{ "quiet", 'q', NULL, 0, "No table and no JSON (a daemon serving --metrics)", 0 },
	{ "pin", OPT_PIN, NULL, 0, "Keep programs and counters in bpffs (" "/sys/fs/bpf/synacct/NETNS-INODE/IFACE" "): they stay attached and counting after synacct exits, and a restarted synacct continues the same totals; 'synacct detach' removes them", 0 },
	{ 0 }
};

struct sa_watch_opts {
	struct sa_common_opts common;
	const char *ifaces[SA_MAX_IFACES];
	int n_ifaces;
	double interval_s;
	double duration_s;
	bool json_all_ports;
	bool quiet;		/* --quiet: no table, no JSON */
	bool pin;		/* --pin (agent/sys/pin.h) */
	struct sa_prom_opts prom;
	/* The stages' options (their argp children) and what they are told. */
	struct sa_stage_cfg stage;
};

/* How many argp children the stages have (sa_watch_main). */
static int n_stage_argps;

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct sa_watch_opts *o = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &o->common;
		for (int i = 0; i < n_stage_argps; i++)
			state->child_inputs[1 + i] = &o->stage;
		state->child_inputs[1 + n_stage_argps] = &o->prom;
		break;
	case 'i':
		sa_parse_iface(arg, state, o->ifaces, &o->n_ifaces);
		break;
	case 'I':
		o->interval_s = sa_parse_seconds(arg, state, "interval", SA_MIN_INTERVAL_S);
		break;
	case 'd':
		o->duration_s = sa_parse_seconds(arg, state, "duration", 1e-3);
		break;
	case OPT_JSON_ALL_PORTS:
		o->json_all_ports = true;
		break;
	case 'q':
		o->quiet = true;
		break;
	case OPT_PIN:
		o->pin = true;
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s'", arg);
		break;
	case ARGP_KEY_END:
		/* A config entry checked alone names no interface. */
		if (!o->n_ifaces && !sa_config_checking)
			argp_error(state, "no interface given: use --iface IFACE");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t winch;
static volatile sig_atomic_t reload;

/* SIGHUP: reload --config (run). */
static void on_hup(int sig)
{
	(void)sig;
	reload = 1;
}

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* `synacct detach --force` (agent/sys/pin.c) tells a running synacct with
 * SIGUSR1 that it is about to remove its hooks: it stops rather than go
 * on with frozen figures, saying so (run). */
static volatile sig_atomic_t forced_by;

static void on_force(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	forced_by = si->si_pid;
	stop_signal = sig;
}

static void on_winch(int sig)
{
	(void)sig;
	winch = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Sleep until monotonic time @t, a stop signal or a resized terminal. */
static void sleep_until(double t)
{
	struct timespec ts = {
		.tv_sec = (time_t)t,
		.tv_nsec = (long)((t - (time_t)t) * 1e9),
	};

	while (!stop_signal && !winch && !reload &&
	       clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* ---- readings ---- */

struct sa_watch {
	struct sa_watch_opts o;
	struct sa_run run;	/* the stages (stage.h) */
	struct sa_health health;	/* their hooks lost (health.h) */
	struct sa_report_ctx rc;
	/* start, the previous and the current reading, and a difference */
	struct sa_snapshot *base, *prev, *cur, *diff;
	struct sa_portset listeners, shown;
	struct sa_view view;	/* the record being written */
	__u32 *syn_delta;	/* per port: tc_syn over the last interval */
	struct sa_prom *prom;	/* --metrics */
	unsigned long gen;	/* readings so far */
	/* The ports the latest reading read (not whole: only those), and
	 * those the next one reads though nothing marks them: the ports
	 * marked at this one (a mark comes just before its count) and those
	 * settling took SYNs in flight off (settle.h). */
	struct sa_portset ports, again;
	bool whole;
	char pin_dir[512];	/* --pin */
	bool netns_gone;	/* --netns lost its name: the run ends */
	struct sa_self self;	/* what synacct costs (process_* on /metrics) */
	unsigned int n_read;	/* ports the last reading held */
};


/* The page of /metrics from @abs, with what synacct costs read now; a
 * /proc/self that cannot be read leaves the last figures (or none). */
static int prom_update(struct sa_watch *w, const struct sa_snapshot *abs)
{
	if (w->prom && !sa_self_read(&w->self))
		w->rc.self = &w->self;
	return sa_prom_update(w->prom, &w->rc, abs, &w->o.common.ports, &w->listeners);
}

/*
 * One reading, downstream first.  The first of a run is whole (a pinned
 * synacct's maps hold what it counted before); after it, only the ports
 * that moved are read again (marked touched by the BPF programs,
 * agent/sys/touched.h), with those that must be (w->again) and those whose
 * figures come from elsewhere (a NATed port shows its listener's gauges,
 * a followed one the queues of its namespace); every other port keeps its
 * figures.  A whole reading again when a stage says only that is exact
 * (-EAGAIN: a stage that cannot read port by port exactly now).
 */
static int read_all(struct sa_watch *w, struct sa_snapshot *snap,
		    const struct sa_snapshot *last)
{
	struct sa_portset marked = { 0 };
	bool whole = !last->gen;
	int err;

	sa_snapshot_clear(snap);
	snap->gen = ++w->gen;
	clock_gettime(CLOCK_REALTIME, &snap->read_at);
	/* The marks first: a port marked after this is read next time. */
	err = sa_run_touched(&w->run, &marked);
	if (!err && !whole) {
		unsigned int n = 0, known = 0;

		w->ports = w->again;
		for (unsigned int i = 0; i < SA_MAX_PORTS / 64; i++)
			w->ports.bits[i] |= marked.bits[i];
		for (__u32 p = 0; p < SA_MAX_PORTS; p++) {
			if (!last->port[p])
				continue;
			known++;
			/* A listener's port is read again with its queues
			 * (the listener stage reads them all). */
			if (last->port[p]->nat || last->port[p]->follow ||
			    sa_g(last->port[p])->listeners)
				sa_portset_add(&w->ports, p);
		}
		/* Port by port costs a few lookups each; a whole reading walks
		 * each map once.  Once the ports to read are a quarter of
		 * those known (1 000 idle listening ports, say), whole is
		 * cheaper; a scan's burst too (read port by port, a burst of
		 * thousands of ports came out short of SYNs, 65 482 of 65 535
		 * in scan.sh, and kept 2 % of a CPU busy afterwards). */
		for (unsigned int i = 0; i < SA_MAX_PORTS / 64; i++)
			n += __builtin_popcountll(w->ports.bits[i]);
		whole = 4 * n >= known;
	}
	if (!err && !whole) {
		err = sa_run_read_ports(&w->run, snap, last, &w->ports);
		if (err == -EAGAIN) {
			whole = true;
			sa_snapshot_clear(snap);
			clock_gettime(CLOCK_REALTIME, &snap->read_at);
			err = 0;
		}
	}
	if (!err && whole)
		err = sa_run_read(&w->run, snap);
	w->whole = whole;
	w->again = marked;
	w->n_read = 0;
	for (__u32 p = 0; p < SA_MAX_PORTS; p++)
		w->n_read += snap->port[p] != NULL;
	if (!err)
		err = sa_mib_read(snap->mib);
	snap->tcp_syncookies = sa_sysctl_syncookies();
	if (err)
		sa_err("cannot read counters: %s", sa_strerror(err));
	return err;
}

/* The reading just taken into w->cur becomes the latest whole one,
 * w->prev: the ports it read replace theirs, the others stay. */
static void keep_reading(struct sa_watch *w)
{
	struct sa_snapshot *tmp;

	if (w->whole) {
		sa_snapshot_clear(w->prev);
		tmp = w->prev;
		w->prev = w->cur;
		w->cur = tmp;
		w->prev->ports_gen = w->prev->gen;
		return;
	}
	sa_snapshot_merge(w->prev, w->cur, &w->ports);
}

/* One port again, downstream first, for sa_settle(). */
static int reread_port(void *ctx, __u32 port, struct sa_port_stats *ps)
{
	struct sa_watch *w = ctx;

	return sa_run_read_port(&w->run, port, ps);
}

/* A reading, with the SYNs in flight at that moment moved to the next
 * one (settle.h); @prev is the previous settled reading. */
static int read_settled(struct sa_watch *w, struct sa_snapshot *snap,
			const struct sa_snapshot *prev)
{
	int err = read_all(w, snap, prev);

	if (!err)
		err = sa_settle(snap, prev, w->rc.m, reread_port, w, &w->again);
	if (err < 0) {
		sa_err("cannot settle the counters: %s", sa_strerror(err));
		return err;
	}
	return 0;
}

/* Ports with a listener: from the iterator's reading when there is one
 * (no second walk of every socket, also when it found none), else from
 * /proc/net/tcp. */
static int listening_ports(const struct sa_snapshot *snap, struct sa_portset *out)
{
	int err;

	if (!snap->listeners_read) {
		err = sa_listening_ports(out);
		if (err)
			sa_err("cannot list the listening ports: %s", sa_strerror(err));
		return err;
	}
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < snap->n_listeners; i++)
		sa_portset_add(out, snap->listeners[i].port);
	return 0;
}

/* Are the stages' hooks still theirs?  -ENODEV: an interface vanished
 * (veth deleted, container gone), or the namespace lost its name, which
 * ends the run. */
static int check_hooks(struct sa_watch *w)
{
	const char *how;
	int err;

	/* `ip netns del` takes the name only: synacct, in the namespace,
	 * would keep it and its interfaces alive, counting for nobody. */
	if (!w->netns_gone && (how = sa_netns_deleted())) {
		sa_err("network namespace %s deleted (%s %s); stopping, so as not to "
		       "keep it alive", w->o.common.netns, sa_netns_path(), how);
		w->netns_gone = true;
	}
	err = sa_health_check(&w->health, &w->run, &w->rc,
			      w->o.common.json && !w->o.quiet);
	return w->netns_gone ? -ENODEV : err;
}

/* ---- records ---- */

/* Reconcile @s over the selected ports and hand it to the report. */
static int report(struct sa_watch *w, const struct sa_snapshot *s, bool active,
		  bool summary, double elapsed_s)
{
	int err;

	sa_view_free(&w->view);
	sa_select_ports(&w->o.common.ports, s, &w->listeners, &w->shown);
	err = sa_view_build(&w->view, s, w->rc.m, &w->shown, active);
	if (err) {
		sa_err("out of memory");
		return err;
	}
	if (w->o.quiet)
		return 0;
	if (summary)
		sa_report_summary(&w->rc, &w->view, elapsed_s);
	else
		sa_report_interval(&w->rc, &w->view, elapsed_s);
	if (ferror(stdout)) {
		sa_err("cannot write output: %s", strerror(errno));
		return -EIO;
	}
	return 0;
}

/* The live table's SYN rates: each port's tc_syn over the interval, kept
 * so that the older reading can go before the totals are made. */
static int note_rates(struct sa_watch *w)
{
	if (!w->rc.tty || w->o.common.json)
		return 0;
	if (!w->syn_delta) {
		w->syn_delta = calloc(SA_MAX_PORTS, sizeof(*w->syn_delta));
		if (!w->syn_delta)
			return -ENOMEM;
	}
	for (__u32 p = 0; p < SA_MAX_PORTS; p++)
		w->syn_delta[p] = w->cur->port[p] ?
			sa_c(w->cur->port[p], SA_C_tc_syn) -
			sa_c(sa_snapshot_get(w->prev, p), SA_C_tc_syn) : 0;
	w->rc.syn_delta = w->syn_delta;
	return 0;
}

/* The table's totals from the latest reading @now, reported. */
static int report_totals(struct sa_watch *w, const struct sa_snapshot *now,
			 bool summary, double elapsed_s)
{
	int err = sa_snapshot_diff(w->diff, now, w->base);

	if (err == -ENOMEM)
		sa_err("cannot compute the totals: out of memory");
	if (!err)
		err = report(w, w->diff, false, summary, elapsed_s);
	return err;
}

/* A record, once written, is done with: a port scan's thousands of
 * ports are held by the latest reading alone between intervals.  (A
 * resized live table is redrawn from that reading, redraw().) */
static void report_done(struct sa_watch *w)
{
	sa_view_free(&w->view);
	sa_snapshot_clear(w->diff);
}

/* After a reading of many ports (a scan) the heap holds their records
 * freed: give the memory back, so that what stays resident is what the
 * latest reading holds. */
#define SA_TRIM_PORTS 4096
static void trim(struct sa_watch *w)
{
	if (w->n_read >= SA_TRIM_PORTS)
		malloc_trim(0);
}

/* One interval: read, then the interval's deltas (JSON) or the totals
 * (table).  The reading's ports go into the latest whole one as soon as
 * the interval's deltas are made, so that after a scan of every port no
 * more than one snapshot holds them all. */
static int tick(struct sa_watch *w, double elapsed_s)
{
	bool json = w->o.common.json;
	int err;

	err = sa_run_refresh(&w->run, w->gen + 1);
	if (!err)
		err = read_settled(w, w->cur, w->prev);
	if (!err)
		err = listening_ports(w->cur, &w->listeners);
	if (!err)
		err = json ? sa_snapshot_diff_moved(w->diff, w->cur, w->prev) : note_rates(w);
	if (err == -ENOMEM)
		sa_err("cannot compute the interval: out of memory");
	if (!err)
		keep_reading(w);
	/* The reading's copies of the ports it merged are free now: give them
	 * back before the record is made (a scan's peak). */
	trim(w);
	if (!err)
		err = prom_update(w, w->prev);
	if (!err)
		err = json ? report(w, w->diff, true, false, elapsed_s) :
			     report_totals(w, w->prev, false, elapsed_s);
	report_done(w);
	sa_snapshot_clear(w->cur);
	trim(w);
	return err;
}

/* A resized terminal: the last table again, from the latest reading. */
static int redraw(struct sa_watch *w, double elapsed_s)
{
	int err;

	if (w->o.common.json || !w->prev->gen)
		return 0;
	err = report_totals(w, w->prev, false, elapsed_s);
	report_done(w);
	return err;
}

/* The summary counts up to this moment: read once more. */
static int summary(struct sa_watch *w, double elapsed_s)
{
	int err;

	err = read_settled(w, w->cur, w->prev);
	if (!err)
		err = listening_ports(w->cur, &w->listeners);
	if (!err)
		keep_reading(w);
	if (!err)
		err = report_totals(w, w->prev, true, elapsed_s);
	report_done(w);
	return err;
}

/* ---- the service manager ---- */

/* printf onto @buf at *@used, which stays within @len (the text cut). */
static void append(char *buf, size_t len, size_t *used, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*used >= len - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *used, len - *used, fmt, ap);
	va_end(ap);
	*used = n < 0 || (size_t)n >= len - *used ? len - 1 : *used + n;
}

static int count_ports(const struct sa_portset *ps)
{
	int n = 0;

	for (size_t i = 0; i < sizeof(ps->bits) / sizeof(ps->bits[0]); i++)
		n += __builtin_popcountll(ps->bits[i]);
	return n;
}

/* STATUS= for systemctl status: what is watched, the stages up and
 * lost, the interval; sent when it changes (sa_service_status). */
static void service_status(struct sa_watch *w)
{
	char st[512] = "", lost[256] = "";
	size_t used = 0, lused = 0;
	int up = 0, n;

	if (!sa_service_managed())
		return;
	for (int i = 0; i < w->rc.n_stage_up; i++) {
		if (w->rc.stage_up[i].up)
			up++;
		else
			append(lost, sizeof(lost), &lused, "%s%s%s%s", lused ? ", " : "",
			       w->rc.stage_up[i].stage, w->rc.stage_up[i].iface[0] ? " on " : "",
			       w->rc.stage_up[i].iface);
	}
	for (int i = 0; i < w->o.n_ifaces; i++)
		append(st, sizeof(st), &used, "%s%s", i ? "+" : "", w->o.ifaces[i]);
	n = count_ports(&w->listeners);
	append(st, sizeof(st), &used,
	       ": listeners on %d port%s, reporting %s; stages up %d/%d%s%s; every %g s",
	       n, n == 1 ? "" : "s", w->o.common.ports.any ? "all ports" : "--ports",
	       up, w->rc.n_stage_up, lost[0] ? ", lost: " : "", lost, w->o.interval_s);
	sa_service_status(st);
}

/* The options SIGHUP may change: what a reading is taken with, not what
 * was attached or opened (interfaces, namespace, hooks, the metrics
 * socket, pins, the output's format: a restart). */
static const char *const runtime_keys[] = { "interval", "ports", NULL };

static void reload_config(struct sa_watch *w)
{
	struct sa_watch_opts *n = calloc(1, sizeof(*n));
	char changed[256];

	sa_service_reloading();
	if (!n) {
		sa_err("reload: out of memory; the running configuration stays");
	} else {
		n->interval_s = 1.0;
		if (!sa_config_reload(n, runtime_keys, changed, sizeof(changed))) {
			w->o.interval_s = n->interval_s;
			w->rc.interval_s = n->interval_s;
			w->o.common.ports = n->common.ports;
			sa_info("reloaded %s: %s%s", sa_config_file(),
				changed[0] ? "changed " : "no change", changed);
		}
	}
	free(n);
	sa_service_ready();
}

/* One line on start, under a service manager (or with -v): what is
 * watched, with which hooks, how. */
static void log_start(struct sa_watch *w)
{
	char line[1024] = "";
	size_t used = 0;

	if (!sa_service_managed() && !*sa_log_prefix(SA_LOG_INFO) && !w->o.common.verbose)
		return;
	append(line, sizeof(line), &used, "watching");
	for (int i = 0; i < w->o.n_ifaces; i++)
		append(line, sizeof(line), &used, "%s%s", i ? ", " : " ", w->o.ifaces[i]);
	append(line, sizeof(line), &used, " in network namespace %s; hooks:",
	       w->o.common.netns ? w->o.common.netns : "(own)");
	for (int i = 0; i < w->rc.n_hooks; i++)
		append(line, sizeof(line), &used, "%s%s", i ? ", " : " ", w->rc.hooks[i]);
	append(line, sizeof(line), &used, "; mode: %s%s, %s%s, %s",
	       w->o.pin ? "pinned in " : "not pinned",
	       w->o.pin ? w->pin_dir : "",
	       w->o.prom.listen ? "metrics on " : "no metrics",
	       w->o.prom.listen ? w->o.prom.listen : "",
	       w->o.quiet ? "nothing on stdout (--quiet)" :
	       w->o.common.json ? "JSON on stdout" : "table on stdout");
	sa_info("%s", line);
}

/* Report every interval until the duration ends, a signal comes or an
 * interface vanishes (-ENODEV, after which the summary still comes). */
static int run(struct sa_watch *w)
{
	double t0 = now_s(), next, end;
	double interval = w->o.interval_s;
	int err, gone;

	end = w->o.duration_s > 0 ? t0 + w->o.duration_s : INFINITY;
	for (next = t0 + interval; !stop_signal; next += interval) {
		sleep_until(next < end ? next : end);
		if (stop_signal)
			break;
		if (reload) {
			/* The next reading one (new) interval from now. */
			reload = 0;
			reload_config(w);
			interval = w->o.interval_s;
			service_status(w);
			next = now_s();
			continue;
		}
		if (winch) {
			/* A resized terminal: redraw the last table now. */
			winch = 0;
			sa_term_size(&w->rc.width, &(int){ 0 });
			err = redraw(w, now_s() - t0);
			if (err)
				return err;
			next -= interval;
			continue;
		}
		err = check_hooks(w);
		if (err)
			break;
		err = tick(w, now_s() - t0);
		if (err)
			return err;
		service_status(w);
		if (now_s() >= end - 1e-6)
			break;
		/* A stalled machine: skip the ticks already missed rather
		 * than report them back to back. */
		if (now_s() > next + interval)
			next = now_s();
	}
	/* A hook lost in the last interval is left out of the summary too. */
	gone = check_hooks(w);
	err = summary(w, now_s() - t0);
	if (stop_signal == SIGUSR1) {
		/* The summary above is exact up to now; the hooks go next. */
		sa_err("stopping: 'synacct detach --force' (pid %d) is removing this "
		       "synacct's hooks; its figures would be frozen from here on",
		       (int)forced_by);
		return -ECANCELED;
	}
	return err ? err : gone;
}

/* --pin in a namespace deleted under it: no synacct can continue that
 * state (no name reaches the namespace), so it goes as `synacct detach`
 * would take it, while synacct is still in the namespace. */
static int unpin_deleted(struct sa_watch *w)
{
	int dirfd, err, ret = 0;

	dirfd = sa_pin_opendir(w->pin_dir);
	if (dirfd < 0) {
		sa_err("cannot remove %s: %s", w->pin_dir, sa_pin_opendir_problem(dirfd));
		return SA_EXIT_RUNTIME;
	}
	sa_pin_use_dir(dirfd);
	for (int i = 0; i < w->o.stage.n_ifaces; i++)
		if (sa_stages_detach_pinned(w->o.stage.ifindex[i], w->o.stage.ifname[i]))
			ret = SA_EXIT_RUNTIME;
	err = sa_pin_remove(dirfd, w->pin_dir);
	if (err) {
		sa_err("cannot remove %s: %s", w->pin_dir, strerror(-err));
		ret = SA_EXIT_RUNTIME;
	}
	sa_pin_use_dir(-1);
	close(dirfd);
	return ret;
}

/* ---- set-up ---- */

static int resolve_ifaces(struct sa_watch *w)
{
	const char *ns = w->o.common.netns;

	for (int i = 0; i < w->o.n_ifaces; i++) {
		w->o.stage.ifname[i] = w->o.ifaces[i];
		w->o.stage.ifindex[i] = if_nametoindex(w->o.ifaces[i]);
		if (!w->o.stage.ifindex[i]) {
			sa_err("interface %s not found in network namespace %s; "
			       "list interfaces with 'ip link'%s", w->o.ifaces[i],
			       ns ? ns : "(current)", ns ? " inside it" : "");
			return SA_EXIT_USAGE;
		}
	}
	w->o.stage.n_ifaces = w->o.n_ifaces;
	return 0;
}

static void setup_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct sigaction sh = { .sa_handler = on_hup };
	struct sigaction sw = { .sa_handler = on_winch }, old_hup;
	struct sigaction sf = { .sa_sigaction = on_force, .sa_flags = SA_SIGINFO };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&sf.sa_mask);
	sigaction(SIGUSR1, &sf, NULL);
	/* SIGHUP reloads --config; started under nohup (SIGHUP ignored):
	 * stay deaf to it. */
	sigemptyset(&sh.sa_mask);
	if (!sigaction(SIGHUP, NULL, &old_hup) && old_hup.sa_handler != SIG_IGN)
		sigaction(SIGHUP, &sh, NULL);
	sigemptyset(&sw.sa_mask);
	sigaction(SIGWINCH, &sw, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void setup_report(struct sa_watch *w)
{
	struct sa_report_ctx *rc = &w->rc;

	rc->netns = w->o.common.netns;
	rc->ifaces = w->o.ifaces;
	rc->n_ifaces = w->o.n_ifaces;
	rc->json = w->o.common.json;
	rc->json_all_ports = w->o.json_all_ports;
	/* Redraws and colour are escape sequences: only on a terminal
	 * that has them (TERM=dumb has neither; NO_COLOR turns colour off). */
	rc->tty = isatty(STDOUT_FILENO) &&
		  !(getenv("TERM") && !strcmp(getenv("TERM"), "dumb"));
	rc->color = rc->tty && !getenv("NO_COLOR");
	/* The live table redraws in place: one write per frame (every report
	 * flushes at its end), or a terminal shows frames half drawn. */
	if (rc->tty && !rc->json) {
		static char frame[1 << 16];

		fflush(stdout);
		setvbuf(stdout, frame, _IOFBF, sizeof(frame));
	}
	sa_term_size(&rc->width, &(int){ 0 });
	rc->interval_s = w->o.interval_s;
	rc->build = sa_build_info();
	sa_run_describe(&w->run, rc, w->o.common.verbose);
}

static int snapshots_new(struct sa_watch *w)
{
	w->base = sa_snapshot_new();
	w->prev = sa_snapshot_new();
	w->cur = sa_snapshot_new();
	w->diff = sa_snapshot_new();
	if (w->base && w->prev && w->cur && w->diff)
		return 0;
	sa_err("out of memory");
	return -ENOMEM;
}

static void watch_free(struct sa_watch *w)
{
	sa_view_free(&w->view);
	sa_snapshot_free(w->base);
	sa_snapshot_free(w->prev);
	sa_snapshot_free(w->cur);
	sa_snapshot_free(w->diff);
	free(w->syn_delta);
	free(w);
}

int sa_watch_main(int argc, char **argv)
{
	/* The common options, each stage's, the metrics', --config. */
	static struct argp_child children[SA_MAX_STAGES + 4];
	static const struct argp argp = { options, parse_opt, NULL, doc, children,
					  help_filter, NULL };
	struct sa_watch *w = calloc(1, sizeof(*w));
	int exit_code = SA_EXIT_RUNTIME, err;

	if (!w) {
		sa_err("out of memory");
		return SA_EXIT_RUNTIME;
	}
	children[0] = (struct argp_child){ &sa_common_argp, 0, NULL, 0 };
	n_stage_argps = sa_stages_argp(children + 1);
	children[1 + n_stage_argps] =
		(struct argp_child){ &sa_prom_argp, 0, "Metrics and running as a daemon:", 0 };
	children[2 + n_stage_argps] = (struct argp_child){ &sa_config_argp, 0, NULL, 0 };
	w->o.interval_s = 1.0;
	err = sa_config_load(&argp, sizeof(w->o), &argc, &argv);
	if (!err)
		err = sa_parse_args(&argp, argc, argv, &w->o);
	sa_log_libbpf();
	if (!err)
		err = sa_check_privileges(&w->o.common, true, w->o.stage.xdp, "synacct");
	if (!err)
		err = sa_check_btf(w->o.common.btf);
	/* The metrics socket lives where synacct was started, not in --netns. */
	if (!err)
		err = sa_prom_listen(&w->prom, &w->o.prom);
	/* Served from now on: /ready says 503 while the hooks attach. */
	if (!err && sa_prom_start(w->prom))
		err = SA_EXIT_RUNTIME;
	if (!err)
		err = sa_enter_netns(&w->o.common);
	if (!err)
		err = resolve_ifaces(w);
	/* One synacct per interface; a killed one's leftovers go first. */
	for (int i = 0; !err && i < w->o.stage.n_ifaces; i++)
		if (sa_iface_claim(w->o.stage.ifindex[i], w->o.stage.ifname[i]))
			err = SA_EXIT_RUNTIME;
	/* Without --pin, a pinned synacct's programs are not this run's
	 * to replace, nor to count beside. */
	for (int i = 0; !err && !w->o.pin && i < w->o.stage.n_ifaces; i++) {
		char dir[512];

		if (!sa_pin_holds(w->o.stage.ifname[i], dir, sizeof(dir)))
			continue;
		sa_err("interface %s carries the programs of a synacct started with --pin "
		       "(state in %s): start with --pin to continue its counts, or remove "
		       "them with 'synacct detach%s%s --iface %s'", w->o.stage.ifname[i], dir,
		       w->o.common.netns ? " --netns " : "",
		       w->o.common.netns ? w->o.common.netns : "", w->o.stage.ifname[i]);
		err = SA_EXIT_RUNTIME;
	}
	if (err) {
		sa_prom_stop(w->prom);
		sa_iface_release_all();
		watch_free(w);
		return err;
	}
	setup_signals();

	w->o.stage.btf = w->o.common.btf;
	w->o.stage.verbose = w->o.common.verbose;
	if (w->o.pin) {
		bool reuse;

		if (sa_pin_dir(w->pin_dir, sizeof(w->pin_dir), w->o.ifaces, w->o.n_ifaces)) {
			sa_err("interface names too long for a bpffs path");
			goto cleanup;
		}
		exit_code = sa_pin_prepare(w->pin_dir, w->o.common.netns, w->o.ifaces,
					   w->o.n_ifaces, &reuse);
		if (exit_code)
			goto cleanup;
		exit_code = SA_EXIT_RUNTIME;
		w->o.stage.pin_dir = w->pin_dir;
		if (w->o.common.verbose)
			sa_info("%s pinned state in %s", reuse ? "continuing the" : "new", w->pin_dir);
	}
	if (snapshots_new(w) || sa_run_open(&w->run, &w->o.stage))
		goto cleanup;
	setup_report(w);
	sa_health_init(&w->health, &w->run, &w->o.stage, &w->rc);

	if (read_settled(w, w->base, w->prev))
		goto cleanup;
	if (sa_snapshot_copy(w->prev, w->base)) {
		sa_err("cannot keep the first reading: out of memory");
		goto cleanup;
	}
	/* From here the latest reading says when its ports last changed:
	 * /metrics makes their series again only then. */
	w->prev->ports_gen = w->prev->gen;
	/* The listeners for /metrics, and for STATUS= from the start. */
	if ((w->prom || sa_service_managed()) &&
	    (listening_ports(w->base, &w->listeners) ||
	     prom_update(w, w->base)))
		goto cleanup;
	if (!w->o.quiet)
		sa_report_start(&w->rc);
	log_start(w);
	service_status(w);
	sa_service_ready();
	sa_prom_ready(w->prom);
	err = run(w);
	exit_code = err || ferror(stdout) ? SA_EXIT_RUNTIME : SA_EXIT_OK;

cleanup:
	sa_service_stopping();
	sa_prom_stop(w->prom);
	sa_run_close(&w->run);
	if (w->netns_gone && w->o.pin && unpin_deleted(w))
		exit_code = SA_EXIT_RUNTIME;
	sa_iface_release_all();
	watch_free(w);
	return exit_code;
}

int main(int argc, char **argv)
{
	sa_log_journal_setup();
	/* A subcommand with its own options: "synacct check ..." */
	if (argc > 1) {
		for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
			static char name[64];

			if (strcmp(argv[1], commands[i].name))
				continue;
			snprintf(name, sizeof(name), "synacct %s", commands[i].name);
			argv[1] = name;
			return commands[i].main(argc - 1, argv + 1);
		}
	}
	return sa_watch_main(argc, argv);
}
