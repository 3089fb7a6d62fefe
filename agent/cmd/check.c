// SPDX-License-Identifier: GPL-2.0
/*
 * check.c - `synacct check`: a one-shot audit of a namespace's defences
 * against SYN floods and connection bursts.
 *
 * It sits beside the data path rather than on it: it attaches nothing to
 * traffic.  It reads the sysctls that decide what the listener does with
 * a SYN (cookies, queue limits, what happens on overflow), lists every TCP
 * listener with its queues as they are right now (the TCP iterator of
 * kprobe/listeners/listeners.c, which reads each listener's SYN-queue length: ss
 * lists the request socks but not that count per listener) and
 * the process that owns it, and turns both into findings, each with a fix.
 *
 * Exit status: 0 nothing at warning level or above, 3 warnings or worse,
 * 2 usage error, 1 runtime failure.
 */
#define _GNU_SOURCE
#include <argp.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include "escape.h"
#include "log.h"
#include "mib.h"
#include "options.h"
#include "ports.h"
#include "report.h"
#include "stage.h"

/* net.core.somaxconn's default since Linux 5.4, and glibc's SOMAXCONN: a
 * backlog equal to it is most likely listen(fd, SOMAXCONN) or -1, a
 * request for "the most there is", not a small limit cut further. */
#define SA_SOMAXCONN_DEFAULT	4096

/* Where --sysctl-file's output is meant to go. */
#define SA_SYSCTL_FILE	"/etc/sysctl.d/60-synacct.conf"

/* ---- settings ---- */

enum sa_setting {
	SET_SYNCOOKIES,
	SET_MAX_SYN_BACKLOG,
	SET_SOMAXCONN,
	SET_ABORT_ON_OVERFLOW,
	SET_SYNACK_RETRIES,
	SET_TIMESTAMPS,
	SET_NETDEV_MAX_BACKLOG,
	SET_MAX
};

static const struct {
	const char *name;
	/* Global sysctls are not visible inside a network namespace other
	 * than the initial one: they are read before entering it. */
	bool global;
} settings_def[SET_MAX] = {
	[SET_SYNCOOKIES]	 = { "net.ipv4.tcp_syncookies", false },
	[SET_MAX_SYN_BACKLOG]	 = { "net.ipv4.tcp_max_syn_backlog", false },
	[SET_SOMAXCONN]		 = { "net.core.somaxconn", false },
	[SET_ABORT_ON_OVERFLOW]	 = { "net.ipv4.tcp_abort_on_overflow", false },
	[SET_SYNACK_RETRIES]	 = { "net.ipv4.tcp_synack_retries", false },
	[SET_TIMESTAMPS]	 = { "net.ipv4.tcp_timestamps", false },
	[SET_NETDEV_MAX_BACKLOG] = { "net.core.netdev_max_backlog", true },
};

struct sa_setting_val {
	bool have;		/* false: the kernel has no such sysctl */
	/* A global sysctl /proc/sys does not show here: outside the initial
	 * namespace (synacct itself in a container), net.core's globals are
	 * hidden, not missing from the kernel. */
	bool hidden;
	long value;
};

/* Reads the sysctls of one scope from /proc/sys, which follows the
 * calling thread's network namespace. */
static int read_settings(struct sa_setting_val *v, bool global)
{
	for (int i = 0; i < SET_MAX; i++) {
		int err;

		if (settings_def[i].global != global)
			continue;
		err = sa_sysctl_read(settings_def[i].name, &v[i].value);
		if (err == -ENOENT) {	/* e.g. CONFIG_SYN_COOKIES=n */
			v[i].hidden = global;
			continue;
		}
		if (err) {
			sa_err("cannot read sysctl %s: %s", settings_def[i].name,
			       sa_strerror(err));
			return err;
		}
		v[i].have = true;
	}
	return 0;
}

/* How long a request sock keeps its SYN-queue slot when no ACK comes:
 * the SYN-ACK timer starts at 1 s (TCP_TIMEOUT_INIT) and doubles up to
 * 120 s (TCP_RTO_MAX), once per retry, plus the last wait. */
static long synack_lifetime_s(long retries)
{
	long t = 0, rto = 1;

	for (long i = 0; i <= retries && i < 256; i++) {
		t += rto;
		rto = rto * 2 > 120 ? 120 : rto * 2;
	}
	return t;
}

static void setting_meaning(enum sa_setting s, long v, char *buf, size_t len)
{
	switch (s) {
	case SET_SYNCOOKIES:
		snprintf(buf, len, "%s", v == 0 ?
			 "off: once a listener's SYN queue is full, new SYNs are dropped" :
			 v == 1 ?
			 "on when a listener's SYN queue is full: the overflow is answered with cookies" :
			 "always: every SYN is answered with a cookie, the SYN queue is not used");
		break;
	case SET_MAX_SYN_BACKLOG:
		snprintf(buf, len, "only with tcp_syncookies=0: SYNs from unknown peers are "
			 "dropped once a SYN queue holds more than %ld (3/4 of this)",
			 v - (v >> 2));
		break;
	case SET_SOMAXCONN:
		snprintf(buf, len, "listen() backlogs above %ld are cut to %ld "
			 "(an accept queue holds backlog + 1)", v, v);
		break;
	case SET_ABORT_ON_OVERFLOW:
		snprintf(buf, len, "%s", v ?
			 "a handshake ACK that finds the accept queue full is answered with a reset" :
			 "a handshake ACK that finds the accept queue full is dropped; the client retries");
		break;
	case SET_SYNACK_RETRIES:
		snprintf(buf, len, "SYN-ACK retransmissions: an unanswered request holds "
			 "its SYN-queue slot about %ld s", synack_lifetime_s(v));
		break;
	case SET_TIMESTAMPS:
		snprintf(buf, len, "%s", v == 0 ?
			 "off: connections made by SYN cookie lose window scaling and SACK" :
			 v == 1 ? "on, with a random offset per connection" :
			 "on, without random offsets");
		break;
	case SET_NETDEV_MAX_BACKLOG:
		snprintf(buf, len, "packets a CPU queues from the NICs before it drops "
			 "them; global, the same in every namespace");
		break;
	case SET_MAX:
		break;
	}
}

/* ---- listeners ---- */

struct sa_check_listener {
	struct sa_listener l;
	int pid;		/* 0: no visible process holds the socket */
	char comm[17];		/* TASK_COMM_LEN + 1 */
};

struct sa_listener_list {
	struct sa_check_listener *v;
	size_t n, cap;
	const struct sa_portset *ports;
};

static int collect_listener(const struct sa_listener *l, void *ctx)
{
	struct sa_listener_list *ll = ctx;

	if (!sa_portset_has(ll->ports, l->port))
		return 0;
	if (ll->n == ll->cap) {
		size_t cap = ll->cap ? ll->cap * 2 : 16;
		void *v = reallocarray(ll->v, cap, sizeof(*ll->v));

		if (!v)
			return -ENOMEM;
		ll->v = v;
		ll->cap = cap;
	}
	ll->v[ll->n++] = (struct sa_check_listener){ .l = *l };
	return 0;
}

/* Stable output: by port, IPv4 before IPv6, then by address. */
static int listener_cmp(const void *a, const void *b)
{
	const struct sa_listener *x = &((const struct sa_check_listener *)a)->l;
	const struct sa_listener *y = &((const struct sa_check_listener *)b)->l;

	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	if (x->family != y->family)
		return x->family == AF_INET ? -1 : 1;
	return memcmp(x->addr, y->addr, sizeof(x->addr));
}

static void read_comm(int pid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "re");
	if (!f || !fgets(buf, len, f))
		snprintf(buf, len, "?");
	else
		buf[strcspn(buf, "\n")] = '\0';
	if (f)
		fclose(f);
}

/* The kernel keeps no owner for a socket: the owner is whichever process
 * has a descriptor for it, found as /proc/PID/fd/N -> socket:[inode].
 * /proc is the host's (setns changes only the network namespace), so a
 * process in any namespace is found.  Several processes can share one
 * listener (a forking server): the lowest PID, usually the parent, is
 * named.  Processes whose fd directory we may not read stay unnamed. */
static void find_owners(struct sa_listener_list *ll)
{
	struct dirent *pe, *fe;
	DIR *proc, *fds;

	if (!ll->n)
		return;
	proc = opendir("/proc");
	if (!proc)
		return;
	while ((pe = readdir(proc))) {
		char path[300];
		int pid;

		if (!isdigit((unsigned char)pe->d_name[0]))
			continue;
		pid = atoi(pe->d_name);
		snprintf(path, sizeof(path), "/proc/%d/fd", pid);
		fds = opendir(path);
		if (!fds)
			continue;
		while ((fe = readdir(fds))) {
			char link[64];
			unsigned long long ino;
			ssize_t n;

			n = readlinkat(dirfd(fds), fe->d_name, link, sizeof(link) - 1);
			if (n <= 0)
				continue;
			link[n] = '\0';
			if (sscanf(link, "socket:[%llu]", &ino) != 1)
				continue;
			for (size_t i = 0; i < ll->n; i++) {
				struct sa_check_listener *cl = &ll->v[i];

				if (cl->l.inode != ino || (cl->pid && cl->pid < pid))
					continue;
				cl->pid = pid;
				read_comm(pid, cl->comm, sizeof(cl->comm));
			}
		}
		closedir(fds);
	}
	closedir(proc);
}

/* ---- findings ---- */

enum sa_severity { SEV_INFO, SEV_WARNING, SEV_CRITICAL };
static const char *const severity_names[] = { "info", "warning", "critical" };

struct sa_finding {
	enum sa_severity severity;
	const char *id;
	const struct sa_check_listener *listener;	/* NULL: namespace-wide */
	char message[512];
	char fix[512];
	/* A fix that is a sysctl: its name and value, for --sysctl-file. */
	const char *sysctl;
	long sysctl_value;
};

struct sa_check {
	const char *netns;
	struct sa_setting_val set[SET_MAX];
	struct sa_listener_list ll;
	struct sa_finding *f;
	size_t nf, capf;
	bool oom;
};

static struct sa_finding *finding_add(struct sa_check *c, enum sa_severity sev,
				      const char *id,
				      const struct sa_check_listener *cl)
{
	struct sa_finding *f;

	if (c->nf == c->capf) {
		size_t cap = c->capf ? c->capf * 2 : 16;
		void *v = reallocarray(c->f, cap, sizeof(*c->f));

		if (!v) {
			c->oom = true;
			return NULL;
		}
		c->f = v;
		c->capf = cap;
	}
	f = &c->f[c->nf++];
	*f = (struct sa_finding){ .severity = sev, .id = id, .listener = cl };
	return f;
}

#define FMT(buf, ...) snprintf(buf, sizeof(buf), __VA_ARGS__)

/* The command that sets a sysctl where this check looked: in the
 * namespace it was given. */
#define SA_NS_PREFIX_SIZE	(SA_ESC_SIZE(PATH_MAX) + 32)

/* What runs a command in the namespace checked ("" for synacct's own). */
static void ns_prefix(const struct sa_check *c, char *prefix, size_t len)
{
	char q[SA_ESC_SIZE(PATH_MAX)];

	prefix[0] = '\0';
	/* The name is whatever the namespace's creator chose: quoted. */
	if (c->netns && strchr(c->netns, '/'))
		snprintf(prefix, len, "nsenter --net=%s ", sa_shell_str(c->netns, q, sizeof(q)));
	else if (c->netns)
		snprintf(prefix, len, "ip netns exec %s ", sa_shell_str(c->netns, q, sizeof(q)));
}

/* A fix is cut at its buffer's end, as it was before it had a finding's
 * fields to set; the namespace's name in it is at most PATH_MAX. */
static void fix_printf(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fix_printf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

static void fix_sysctl(const struct sa_check *c, struct sa_finding *f,
		       const char *name, long value, const char *then)
{
	char prefix[SA_NS_PREFIX_SIZE];

	ns_prefix(c, prefix, sizeof(prefix));
	fix_printf(f->fix, sizeof(f->fix), "%ssysctl -w %s=%ld%s", prefix, name, value, then);
	f->sysctl = name;
	f->sysctl_value = value;
}

/* What synacct itself shows about a port over time; the interface is the
 * one thing check cannot guess. */
static void fix_watch(const struct sa_check *c, char *buf, size_t len,
		      const char *why, __u32 port)
{
	char q[SA_ESC_SIZE(PATH_MAX)];

	snprintf(buf, len, "%s: synacct%s%s --iface IFACE --ports %u", why,
		 c->netns ? " --netns " : "",
		 c->netns ? sa_shell_str(c->netns, q, sizeof(q)) : "", port);
}

/* "port 80 (0.0.0.0, nginx pid 812)" */
static void listener_name(const struct sa_check_listener *cl, char *buf,
			  size_t len)
{
	char addr[INET6_ADDRSTRLEN], comm[SA_ESC_SIZE(sizeof(cl->comm))];

	/* Any process names itself: escaped once here, so that messages
	 * are safe for the terminal and valid UTF-8 for JSON alike. */
	sa_listener_addr(&cl->l, addr, sizeof(addr));
	if (cl->pid)
		snprintf(buf, len, "port %u (%s, %s pid %d)", cl->l.port, addr,
			 sa_tty_str(cl->comm, comm, sizeof(comm)), cl->pid);
	else
		snprintf(buf, len, "port %u (%s)", cl->l.port, addr);
}

static void settings_findings(struct sa_check *c)
{
	const struct sa_setting_val *s = c->set;
	struct sa_finding *f;

	if (s[SET_SYNCOOKIES].have && s[SET_SYNCOOKIES].value == 0 &&
	    (f = finding_add(c, SEV_WARNING, "syncookies_disabled", NULL))) {
		FMT(f->message, "SYN cookies are off (tcp_syncookies=0): a SYN flood "
		    "fills the SYN queue and legitimate clients' SYNs are dropped");
		fix_sysctl(c, f, settings_def[SET_SYNCOOKIES].name, 1, "");
	}
	if (s[SET_SYNCOOKIES].have && s[SET_SYNCOOKIES].value == 2 &&
	    (f = finding_add(c, SEV_WARNING, "syncookies_always", NULL))) {
		FMT(f->message, "every connection is made by SYN cookie (tcp_syncookies=2): "
		    "the MSS is rounded to one of 4 values, window scaling and SACK "
		    "survive only with timestamps, lost SYN-ACKs are not retransmitted");
		fix_sysctl(c, f, settings_def[SET_SYNCOOKIES].name, 1,
			   " (cookies only when a SYN queue overflows)");
	}
	if (s[SET_TIMESTAMPS].have && s[SET_TIMESTAMPS].value == 0 &&
	    (f = finding_add(c, SEV_WARNING, "timestamps_off", NULL))) {
		FMT(f->message, "TCP timestamps are off (tcp_timestamps=0): a SYN cookie "
		    "keeps window scaling and SACK in the timestamp, so connections "
		    "made by cookie lose both");
		fix_sysctl(c, f, settings_def[SET_TIMESTAMPS].name, 1, "");
	}
	if (s[SET_ABORT_ON_OVERFLOW].have && s[SET_ABORT_ON_OVERFLOW].value &&
	    (f = finding_add(c, SEV_WARNING, "abort_on_overflow", NULL))) {
		FMT(f->message, "tcp_abort_on_overflow=1: when an accept queue is full, "
		    "clients whose handshake completes get a reset instead of a retry, "
		    "so a short burst becomes failed connections");
		fix_sysctl(c, f,
			   settings_def[SET_ABORT_ON_OVERFLOW].name, 0, "");
	}
}

static void listener_findings(struct sa_check *c,
			      const struct sa_check_listener *cl)
{
	const struct sa_setting_val *s = c->set;
	const struct sa_listener *l = &cl->l;
	struct sa_finding *f;
	char who[128];

	listener_name(cl, who, sizeof(who));

	/* The kernel does not keep what listen() asked for, only the result,
	 * min(backlog, somaxconn at the time of listen()): equal to the
	 * current somaxconn is the only trace a clamp leaves. */
	if (s[SET_SOMAXCONN].have && l->accept_backlog == s[SET_SOMAXCONN].value) {
		bool small = s[SET_SOMAXCONN].value < SA_SOMAXCONN_DEFAULT;
		long raise = small ? SA_SOMAXCONN_DEFAULT : s[SET_SOMAXCONN].value * 2;

		f = finding_add(c, small ? SEV_WARNING : SEV_INFO, "backlog_clamped", cl);
		if (!f)
			return;
		FMT(f->message, "%s: backlog %u equals net.core.somaxconn, so listen() "
		    "possibly asked for more and was cut to %u", who,
		    l->accept_backlog, l->accept_backlog);
		fix_sysctl(c, f, settings_def[SET_SOMAXCONN].name,
			   raise, ", then restart the service so it calls listen() again");
	}

	/* The kernel's own tests: sk_acceptq_is_full() and
	 * inet_csk_reqsk_queue_is_full() compare with '>', so a backlog of
	 * B holds B + 1 before it counts as full. */
	if (l->accept_queue_len > l->accept_backlog &&
	    (f = finding_add(c, SEV_CRITICAL, "accept_queue_full", cl))) {
		FMT(f->message, "%s: accept queue full now (%u waiting, backlog %u): "
		    "new SYNs are dropped and handshake ACKs %s", who,
		    l->accept_queue_len, l->accept_backlog,
		    s[SET_ABORT_ON_OVERFLOW].value ? "reset" : "dropped");
		FMT(f->fix, "the application is not calling accept() fast enough: "
		    "find why it is stalled; if bursts are normal, give listen() a "
		    "larger backlog (and raise net.core.somaxconn with it)");
	}
	if (l->syn_queue_len > l->accept_backlog) {
		/* No sysctl: a kernel without CONFIG_SYN_COOKIES, no cookies. */
		bool cookies = s[SET_SYNCOOKIES].have && s[SET_SYNCOOKIES].value;

		f = finding_add(c, cookies ? SEV_WARNING : SEV_CRITICAL,
				"syn_queue_full", cl);
		if (!f)
			return;
		FMT(f->message, "%s: SYN queue full now (%u half-open, backlog %u): "
		    "new SYNs are %s; a SYN flood or clients that never finish "
		    "the handshake", who, l->syn_queue_len, l->accept_backlog,
		    cookies ? "answered with SYN cookies" : "dropped");
		if (cookies)
			fix_watch(c, f->fix, sizeof(f->fix),
				  "see where the SYNs come from and what happens to them", l->port);
		else
			fix_sysctl(c, f,
				   settings_def[SET_SYNCOOKIES].name, 1, "");
	}
	if (l->listener_sk_drops && (f = finding_add(c, SEV_INFO, "listener_drops", cl))) {
		FMT(f->message, "%s: %u packets dropped since it started listening "
		    "(sk_drops)", who, l->listener_sk_drops);
		fix_watch(c, f->fix, sizeof(f->fix), "see where and why", l->port);
	}
}

static enum sa_severity evaluate(struct sa_check *c)
{
	enum sa_severity worst = SEV_INFO;
	struct sa_finding *f;

	settings_findings(c);
	for (size_t i = 0; i < c->ll.n; i++)
		listener_findings(c, &c->ll.v[i]);
	if (!c->ll.n && (f = finding_add(c, SEV_INFO, "no_listeners", NULL))) {
		FMT(f->message, "no TCP listener%s in this namespace",
		    c->ll.ports->any ? "" : " on the selected ports");
		FMT(f->fix, "start the service, or check --ports and --netns");
	}
	for (size_t i = 0; i < c->nf; i++)
		if (c->f[i].severity > worst)
			worst = c->f[i].severity;
	return worst;
}

/* ok below warning: info findings are there to read, not to act on. */
static const char *status_name(enum sa_severity worst)
{
	return worst == SEV_INFO ? "ok" : severity_names[worst];
}

/* ---- output ---- */

static void print_json(const struct sa_check *c, enum sa_severity worst)
{
	struct json_object *o = json_object_new_object();
	struct json_object *set = json_object_new_object();
	struct json_object *ls = json_object_new_array();
	struct json_object *fs = json_object_new_array();

	json_object_object_add(o, "type", sa_json_string("check"));
	json_object_object_add(o, "netns", c->netns ? sa_json_string(c->netns) : NULL);
	for (int i = 0; i < SET_MAX; i++) {
		struct json_object *s = json_object_new_object();
		char meaning[256] = "";

		if (c->set[i].have)
			setting_meaning(i, c->set[i].value, meaning, sizeof(meaning));
		json_object_object_add(s, "value", c->set[i].have ?
				       json_object_new_int64(c->set[i].value) : NULL);
		json_object_object_add(s, "meaning", c->set[i].have ?
				       sa_json_string(meaning) : NULL);
		json_object_object_add(s, "scope", sa_json_string(
				       settings_def[i].global ? "global" : "netns"));
		json_object_object_add(set, settings_def[i].name, s);
	}
	json_object_object_add(o, "settings", set);

	for (size_t i = 0; i < c->ll.n; i++) {
		const struct sa_check_listener *cl = &c->ll.v[i];
		struct json_object *l = sa_json_listener(&cl->l);

		json_object_object_add(l, "pid", cl->pid ? json_object_new_int(cl->pid) : NULL);
		json_object_object_add(l, "comm", cl->pid ? sa_json_string(cl->comm) : NULL);
		json_object_array_add(ls, l);
	}
	json_object_object_add(o, "listeners", ls);

	for (size_t i = 0; i < c->nf; i++) {
		const struct sa_finding *f = &c->f[i];
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "severity", sa_json_string(severity_names[f->severity]));
		json_object_object_add(j, "id", sa_json_string(f->id));
		if (f->listener) {
			char addr[INET6_ADDRSTRLEN];

			sa_listener_addr(&f->listener->l, addr, sizeof(addr));
			json_object_object_add(j, "port", json_object_new_int(f->listener->l.port));
			json_object_object_add(j, "addr", sa_json_string(addr));
		}
		json_object_object_add(j, "message", sa_json_string(f->message));
		json_object_object_add(j, "fix", sa_json_string(f->fix));
		json_object_array_add(fs, j);
	}
	json_object_object_add(o, "findings", fs);
	json_object_object_add(o, "status", sa_json_string(status_name(worst)));

	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static void print_text(const struct sa_check *c, enum sa_severity worst)
{
	char q[SA_ESC_SIZE(PATH_MAX)];

	printf("synacct check  netns %s\n\nSettings\n",
	       c->netns ? sa_tty_str(c->netns, q, sizeof(q)) : "(current)");
	for (int i = 0; i < SET_MAX; i++) {
		char meaning[256];

		if (!c->set[i].have) {
			printf("  %-31s %7s  %s\n", settings_def[i].name, "-",
			       c->set[i].hidden ? "not visible here: a global sysctl, which only "
			       "the host's initial namespace shows" : "not in this kernel");
			continue;
		}
		setting_meaning(i, c->set[i].value, meaning, sizeof(meaning));
		printf("  %-31s %7ld  %s\n", settings_def[i].name, c->set[i].value, meaning);
	}

	printf("\nListeners\n  %-39s %5s %8s %-16s %7s %7s %7s %7s\n", "addr", "port",
	       "pid", "comm", "backlog", "synq", "acceptq", "drops");
	for (size_t i = 0; i < c->ll.n; i++) {
		const struct sa_check_listener *cl = &c->ll.v[i];
		char addr[INET6_ADDRSTRLEN], pid[16] = "-";

		sa_listener_addr(&cl->l, addr, sizeof(addr));
		if (cl->pid)
			snprintf(pid, sizeof(pid), "%d", cl->pid);
		printf("  %-39s %5u %8s %-16s %7u %7u %7u %7u\n", addr, cl->l.port, pid,
		       cl->pid ? sa_tty_str(cl->comm, q, sizeof(q)) : "-", cl->l.accept_backlog,
		       cl->l.syn_queue_len, cl->l.accept_queue_len, cl->l.listener_sk_drops);
	}
	if (!c->ll.n)
		printf("  (none)\n");

	printf("\nFindings\n");
	for (size_t i = 0; i < c->nf; i++) {
		const struct sa_finding *f = &c->f[i];

		printf("  %-8s %s: %s\n  %-8s fix: %s\n", severity_names[f->severity],
		       f->id, f->message, "", f->fix);
	}
	if (!c->nf)
		printf("  (none)\n");
	for (size_t i = 0; i < c->nf; i++) {
		if (!c->f[i].sysctl)
			continue;
		printf("\n  The sysctl fixes as a file for /etc/sysctl.d/ (applied at boot): "
		       "synacct check%s%s --sysctl-file\n", c->netns ? " --netns " : "",
		       c->netns ? sa_shell_str(c->netns, q, sizeof(q)) : "");
		break;
	}
	printf("\nStatus: %s\n", status_name(worst));
}

/* --sysctl-file: the findings' sysctl fixes as a sysctl.d(5) file, each
 * setting once (a clamped backlog on every listener is one somaxconn). */
static void print_sysctl_file(const struct sa_check *c, enum sa_severity worst)
{
	char q[SA_ESC_SIZE(PATH_MAX)];
	size_t n = 0;

	printf("# " SA_SYSCTL_FILE ": the sysctl fixes of 'synacct check%s%s'\n"
	       "# (status %s). systemd-sysctl applies it at boot; now: sysctl -p " SA_SYSCTL_FILE "\n",
	       c->netns ? " --netns " : "", c->netns ? sa_shell_str(c->netns, q, sizeof(q)) : "",
	       status_name(worst));
	if (c->netns) {
		char prefix[SA_NS_PREFIX_SIZE];

		ns_prefix(c, prefix, sizeof(prefix));
		printf("# At boot it sets the host's namespace only: these values are for\n"
		       "# namespace %s, where it applies with: %ssysctl -p " SA_SYSCTL_FILE "\n",
		       sa_shell_str(c->netns, q, sizeof(q)), prefix);
	}
	for (size_t i = 0; i < c->nf; i++) {
		const struct sa_finding *f = &c->f[i];
		bool seen = false;

		if (!f->sysctl)
			continue;
		for (size_t j = 0; j < i; j++)
			seen |= c->f[j].sysctl && !strcmp(c->f[j].sysctl, f->sysctl);
		if (seen)
			continue;
		printf("\n# %s: %s\n%s = %ld\n", f->id, f->message, f->sysctl, f->sysctl_value);
		n++;
	}
	if (!n)
		printf("\n# No finding has a sysctl fix.\n");
}

/* ---- command line ---- */

static const char doc[] =
"synacct check -- audit a network namespace's SYN defences, once\n\n"
"Reports the sysctls that decide what happens to SYNs, every TCP listener "
"with its queues and owner, and findings with a fix for each.  Attaches "
"nothing to traffic."
"\vExamples:\n"
"  synacct check                       this namespace\n"
"  synacct check --netns web1 --ports 80,443\n"
"  synacct check --json | jq '.findings[]'\n"
"  synacct check --sysctl-file > " SA_SYSCTL_FILE "\n\n"
"Exit status: 0 no warning, 3 warnings or critical findings (also with "
"--sysctl-file), 1 runtime failure, 2 usage error.";

struct sa_check_opts {
	struct sa_common_opts common;
	bool sysctl_file;
};

enum { OPT_SYSCTL_FILE = 0x600 };

static const struct argp_option check_options[] = {
	{ "sysctl-file", OPT_SYSCTL_FILE, NULL, 0, "Print the findings' sysctl fixes as a file for /etc/sysctl.d/ instead of the report (e.g. > " SA_SYSCTL_FILE ")", 0 },
	{ 0 }
};

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct sa_check_opts *o = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &o->common;
		break;
	case OPT_SYSCTL_FILE:
		o->sysctl_file = true;
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s'", arg);
		break;
	case ARGP_KEY_END:
		if (o->sysctl_file && o->common.json)
			argp_error(state, "--sysctl-file and --json are two outputs: give one");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

int sa_check_main(int argc, char **argv)
{
	static const struct argp_child children[] = {
		{ &sa_check_common_argp, 0, NULL, 0 }, { 0 }
	};
	static const struct argp argp = { check_options, parse_opt, NULL, doc, children, NULL, NULL };
	struct sa_check_opts o = {};
	struct sa_check c = {};
	const struct sa_listener_iter *iter = sa_registry_listeners();
	struct sa_listeners *ls = NULL;
	enum sa_severity worst;
	int exit_code = SA_EXIT_RUNTIME;
	int err;

	err = sa_parse_args(&argp, argc, argv, &o);
	if (err)
		return err;
	sa_log_libbpf();
	c.netns = o.common.netns;
	c.ll.ports = &o.common.ports;

	err = sa_check_privileges(&o.common, false, false, "synacct check");
	if (err)
		return err;
	err = sa_check_btf(o.common.btf);
	if (err)
		return err;
	if (read_settings(c.set, true))
		return SA_EXIT_RUNTIME;
	err = sa_enter_netns(&o.common);
	if (err)
		return err;
	if (read_settings(c.set, false))
		return SA_EXIT_RUNTIME;

	/* The iterator walks the namespace it is created in: after setns. */
	if (iter->open(&ls, o.common.btf))
		goto cleanup;
	err = iter->read(ls, collect_listener, &c.ll);
	if (err) {
		sa_err("cannot list the TCP listeners: %s", sa_strerror(err));
		goto cleanup;
	}
	if (c.ll.n)	/* qsort(NULL, 0) is undefined behaviour */
		qsort(c.ll.v, c.ll.n, sizeof(*c.ll.v), listener_cmp);
	find_owners(&c.ll);

	worst = evaluate(&c);
	if (c.oom) {
		sa_err("out of memory");
		goto cleanup;
	}
	if (o.common.json)
		print_json(&c, worst);
	else if (o.sysctl_file)
		print_sysctl_file(&c, worst);
	else
		print_text(&c, worst);
	if (fflush(stdout) || ferror(stdout)) {
		sa_err("cannot write output: %s", strerror(errno));
		goto cleanup;
	}
	exit_code = worst >= SEV_WARNING ? SA_EXIT_FINDINGS : SA_EXIT_OK;

cleanup:
	if (ls)
		iter->close(ls);
	free(c.ll.v);
	free(c.f);
	return exit_code;
}
