// SPDX-License-Identifier: GPL-2.0
/*
 * follow.c - the container stage: follow forwarded SYNs into the
 * namespaces that receive them on this host (a container's, behind a
 * veth): find them, have the stack programs count there
 * (include/bpf/follow.h, through the control the stack stage shares), name
 * them, and read the listener's queues there.  Off with --no-follow.
 *
 * Which namespaces: those at the other end of this namespace's links (a
 * veth whose peer is in another namespace: IFLA_LINK_NETNSID), except the
 * watched interfaces (the clients are behind those), whether
 * the SYN leaves through the veth itself (routed, Calico-style) or
 * through a bridge it is a port of (docker0-style).  All of them are
 * followed from the start, before the first SYN (a namespace followed
 * later would miss the SYNs before), and new ones at each reading, up to
 * SA_MAX_FOLLOW; which SYNs count there is decided by flow in BPF
 * (include/bpf/follow.h), so following a namespace no SYN reaches costs
 * nothing but a file descriptor.
 *
 * A namespace id is only a number in this namespace: the namespace itself
 * is found (follow_find.c) by asking the kernel for the id of each candidate (RTM_GETNSID
 * with NETNSA_FD): the named ones in /run/netns (their `ip netns` name),
 * then every process's /proc/PID/ns/net (named by its cgroup, where a
 * container engine puts the container's id, else pid:PID).  The agent
 * holds each followed namespace open, enters it to prime the baselines
 * and to read its listeners' queues (iter/tcp reads the namespace of
 * whoever creates the iterator), and returns to the watched one.
 *
 * A Kubernetes pod's namespace is also named by its pod (follow_find_pod):
 * uid and container id from the cgroup of a process in it, namespace
 * and name from the kubelet's pod log directories (--pods-log-dir).
 */
#define _GNU_SOURCE
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/capability.h>
#include <linux/netlink.h>
#include "counters.h"
#include "escape.h"
#include "follow.h"
#include "log.h"
#include "netns.h"
#include "pods.h"
#include "snapshot.h"
#include "stage.h"

_Static_assert(SA_NETNS_NAME_MAX >= SA_ESC_SIZE(SA_NETNS_NAME_RAW),
	       "an escaped namespace name fits");

/* The ports of one namespace, while a reading is filled in. */
struct fill_ctx {
	struct sa_port_stats *ps[64];
	int n;
};

struct sa_follow {
	const struct sa_follow_ctl *ctl;	/* the stack stage's */
	const struct sa_listener_iter *iter;	/* the listener stage's */
	struct sa_listeners *ls;
	int home;		/* the watched namespace */
	int nl;			/* rtnetlink, in the watched namespace */
	bool verbose;
	bool full_said;
	bool denied_said;
	const char *pods_log_dir;	/* --pods-log-dir */
	int watched[SA_MAX_IFACES];
	int n_watched;
	/* Followed namespaces, then those no longer followed (their names
	 * still label their ports' figures): SA_MAX_FOLLOW of each. */
	struct followed ns[2 * SA_MAX_FOLLOW];
	struct fill_ctx fill[2 * SA_MAX_FOLLOW];	/* by ns[] index */
	int n;
	int n_live;
	/* Namespace ids already looked for and not found (a namespace no
	 * process holds any more), so each is searched for once. */
	int missing[64];
	int n_missing;
};

/* Enter @fd's namespace, learn its cookie and start counting there. */
static int follow_one(struct sa_follow *f, int fd, __u64 *cookie)
{
	int err;

	if (setns(fd, CLONE_NEWNET))
		return -errno;
	err = sa_netns_cookie(cookie);
	if (!err)
		err = f->ctl->here(f->ctl->stack, *cookie);
	if (setns(f->home, CLONE_NEWNET)) {
		/* Stuck in another namespace: nothing read from now on
		 * would be the watched one's. */
		sa_err("cannot return to the watched network namespace: %s",
		       strerror(errno));
		exit(1);
	}
	return err;
}

/* Stop following @e: close it, forget it in BPF; its name stays. */
static void unfollow(struct sa_follow *f, struct followed *e)
{
	if (f->verbose)
		sa_info("no longer following namespace %s", e->raw);
	f->ctl->unfollow(f->ctl->stack, e->cookie);
	close(e->fd);
	e->fd = -1;
	e->nsid = -1;
	f->n_live--;
}

/* A slot for a new namespace: a free one, or the oldest no longer
 * followed. */
static struct followed *new_slot(struct sa_follow *f)
{
	int n_max = sizeof(f->ns) / sizeof(f->ns[0]);

	if (f->n < n_max)
		return &f->ns[f->n++];
	for (int i = 0; i < f->n; i++) {
		if (f->ns[i].fd >= 0)
			continue;
		memmove(&f->ns[i], &f->ns[i + 1], (f->n - i - 1) * sizeof(f->ns[0]));
		return &f->ns[f->n - 1];
	}
	return NULL;
}

/* Follow the namespaces behind this namespace's links that are not
 * followed yet (at most SA_MAX_FOLLOW); @gen: the reading that follows. */
static int follow_scan(struct sa_follow *f, unsigned long gen)
{
	struct peers p = { 0 };
	struct followed e;
	int err;

	/* A followed namespace no process was in yet: its pod, now. */
	for (int j = 0; j < f->n; j++)
		if (f->ns[j].fd >= 0 && !f->ns[j].pod_looked)
			follow_find_pod(&f->ns[j], f->pods_log_dir);
	p.skip = f->watched;
	p.n_skip = f->n_watched;
	err = follow_peer_namespaces(f->nl, &p);
	if (err)
		return err;
	/* A namespace id no link has any more is free to be given to a new
	 * namespace: look for it again then. */
	for (int j = 0; j < f->n_missing; j++) {
		bool linked = false;

		for (int i = 0; i < p.n && !linked; i++)
			linked = p.nsid[i] == f->missing[j];
		if (!linked)
			f->missing[j--] = f->missing[--f->n_missing];
	}
	/* Gone: no link of ours leads there, or nothing but us holds it. */
	for (int j = 0; j < f->n; j++) {
		bool linked = false;

		if (f->ns[j].fd < 0)
			continue;
		for (int i = 0; i < p.n && !linked; i++)
			linked = p.nsid[i] == f->ns[j].nsid;
		if (!linked || !follow_still_held(&f->ns[j]))
			unfollow(f, &f->ns[j]);
	}
	for (int i = 0; i < p.n; i++) {
		struct followed *slot;
		struct stat st;
		bool known = false;
		int fd;

		for (int j = 0; j < f->n && !known; j++)
			known = f->ns[j].fd >= 0 && f->ns[j].nsid == p.nsid[i];
		for (int j = 0; j < f->n_missing && !known; j++)
			known = f->missing[j] == p.nsid[i];
		if (known)
			continue;
		if (f->n_live == SA_MAX_FOLLOW) {
			if (!f->full_said)
				sa_info("following %d namespaces, the most synacct follows; "
					"SYNs forwarded to others count as forwarded only",
					SA_MAX_FOLLOW);
			f->full_said = true;
			break;
		}
		memset(&e, 0, sizeof(e));
		fd = follow_find_namespace(f->nl, p.nsid[i], e.raw, sizeof(e.raw), e.path,
					   sizeof(e.path));
		if (fd < 0) {
			/* Blind, not "nothing there": said once, never silent. */
			if (fd == -EACCES && !f->denied_said)
				sa_warn("cannot open other processes' network namespaces "
					"(/proc/PID/ns/net: permission denied): SYNs forwarded "
					"into namespace id %d are counted as forwarded only; "
					"grant CAP_SYS_PTRACE, or --no-follow", p.nsid[i]);
			f->denied_said |= fd == -EACCES;
			if (f->n_missing < (int)(sizeof(f->missing) / sizeof(f->missing[0])))
				f->missing[f->n_missing++] = p.nsid[i];
			continue;
		}
		err = fstat(fd, &st) ? -errno : follow_one(f, fd, &e.cookie);
		if (err) {
			close(fd);
			sa_err("cannot follow SYNs into namespace %s: %s", e.raw,
			       sa_strerror(err));
			return err;
		}
		sa_tty_str(e.raw, e.name, sizeof(e.name));
		e.dev = st.st_dev;
		e.ino = st.st_ino;
		e.fd = fd;
		e.nsid = p.nsid[i];
		e.since = gen;
		follow_find_pod(&e, f->pods_log_dir);
		slot = new_slot(f);
		if (!slot) {	/* cannot happen: at most SA_MAX_FOLLOW live */
			close(fd);
			continue;
		}
		/* Followed again (its link came back): a new record of it. */
		for (int j = 0; j < f->n; j++)
			if (&f->ns[j] != slot && f->ns[j].fd < 0 && f->ns[j].cookie == e.cookie)
				f->ns[j].cookie = 0;
		*slot = e;
		f->n_live++;
		if (f->verbose)
			sa_info("following forwarded SYNs into namespace %s%s%s%s%s%s%s", e.raw,
				e.pod.uid[0] ? ", pod uid " : "", e.pod.uid,
				e.pod.name[0] ? ", pod " : "", e.pod.ns,
				e.pod.name[0] ? "/" : "", e.pod.name);
	}
	return 0;
}

static int add_gauges(const struct sa_listener *l, void *ctx)
{
	struct fill_ctx *c = ctx;

	for (int i = 0; i < c->n; i++)
		if (c->ps[i]->follow->port == l->port)
			sa_gauges_add(&c->ps[i]->follow->cg, l);
	return 0;
}

/* After a reading: name each port's namespace, and read the queues of
 * its listener there. */
static int follow_fill(void *priv, struct sa_snapshot *snap)
{
	struct sa_follow *f = priv;
	int err = 0;

	if (!f->n)
		return 0;
	for (int i = 0; i < f->n; i++)
		f->fill[i].n = 0;
	/* One pass over the ports: name each followed one's namespace and
	 * gather them by namespace. */
	for (__u32 p = 0; p < SA_MAX_PORTS; p++) {
		struct sa_port_stats *ps = snap->port[p];
		struct fill_ctx *c;
		int i;

		if (!ps || !ps->follow)
			continue;
		for (i = 0; i < f->n && f->ns[i].cookie != ps->follow->cookie; i++)
			;
		if (i == f->n)
			continue;
		ps->follow->netns = f->ns[i].name;
		ps->follow->pod = f->ns[i].pod.uid[0] || f->ns[i].pod.container_id[0] ?
				  &f->ns[i].pod : NULL;
		ps->follow->since = f->ns[i].since;
		ps->follow->port = ps->nat ? ps->nat->to_port : p;
		/* A reading's own gaps, for settling (a difference decides
		 * again, snapshot.c). */
		ps->follow->whole = true;
		/* Queues for the first 64 ports (a published port each) of
		 * a namespace: the counters for all. */
		c = &f->fill[i];
		if (c->n < (int)(sizeof(c->ps) / sizeof(c->ps[0])))
			c->ps[c->n++] = ps;
	}
	/* Then each namespace that has ports, once: its listeners' queues. */
	for (int i = 0; i < f->n && !err; i++) {
		if (!f->fill[i].n || f->ns[i].fd < 0)
			continue;
		if (setns(f->ns[i].fd, CLONE_NEWNET))
			return -errno;
		err = f->iter->read(f->ls, add_gauges, &f->fill[i]);
		if (setns(f->home, CLONE_NEWNET)) {
			sa_err("cannot return to the watched network namespace: %s",
			       strerror(errno));
			exit(1);
		}
	}
	return err;
}

static void follow_close(void *priv);

/* Followed through the stack stage's programs, which it shares only when
 * they can (netfilter's FORWARD hook) and are told to (not --no-follow). */
static int follow_prereq(const struct sa_stage_cfg *cfg, char *why, size_t len)
{
	(void)cfg;
	if (!sa_registry_get(SA_SHARE_FOLLOW)) {
		snprintf(why, len, "the stack stage cannot follow forwarded SYNs (it is off, or "
			 "this kernel has no netfilter BPF programs or conntrack's BTF)");
		return -EOPNOTSUPP;
	}
	/* Entering the namespaces SYNs are forwarded to is setns(2). */
	if (!sa_have_cap(CAP_SYS_ADMIN)) {
		snprintf(why, len, "following forwarded SYNs into the namespaces that "
			 "receive them needs CAP_SYS_ADMIN (setns): their figures are "
			 "null (\"container\"); grant it, or run with --no-follow");
		return -EPERM;
	}
	return 0;
}

enum { OPT_NO_FOLLOW = 0x220, OPT_PODS_LOG_DIR };

static const struct argp_option follow_options[] = {
	{ "no-follow", OPT_NO_FOLLOW, NULL, 0, "Do not follow forwarded SYNs into the namespaces that receive them (containers behind a veth or bridge); \"container\" is then null", 0 },
	{ "pods-log-dir", OPT_PODS_LOG_DIR, "DIR", 0, "The kubelet's pod log directories (<namespace>_<name>_<uid>), which name a followed namespace's pod (default " SA_PODS_LOG_DIR ")", 0 },
	{ 0 }
};

static error_t follow_parse(int key, char *arg, struct argp_state *state)
{
	struct sa_stage_cfg *cfg = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		cfg->follow = true;
		cfg->pods_log_dir = SA_PODS_LOG_DIR;
		break;
	case OPT_NO_FOLLOW:
		cfg->follow = false;
		break;
	case OPT_PODS_LOG_DIR:
		cfg->pods_log_dir = arg;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp follow_argp = { follow_options, follow_parse, NULL, NULL, NULL, NULL, NULL };

static bool follow_enabled(const struct sa_stage_cfg *cfg)
{
	return cfg->follow;
}

/* Call in the watched namespace; the agent stays in it. */
static int follow_open(void **out, const struct sa_stage_cfg *cfg)
{
	struct sa_follow *f = calloc(1, sizeof(*f));
	int err;

	if (!f) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (int i = 0; i < cfg->n_ifaces; i++)
		f->watched[i] = cfg->ifindex[i];
	f->n_watched = cfg->n_ifaces;
	f->ctl = sa_registry_get(SA_SHARE_FOLLOW);
	f->iter = sa_registry_listeners();
	f->verbose = cfg->verbose;
	f->pods_log_dir = cfg->pods_log_dir;
	f->nl = -1;
	f->home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (f->home < 0) {
		err = -errno;
		goto cleanup;
	}
	f->nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (f->nl < 0) {
		err = -errno;
		goto cleanup;
	}
	err = f->iter->open(&f->ls, cfg->btf);
	if (err)
		goto cleanup;
	*out = f;
	return 0;

cleanup:
	sa_err("cannot follow forwarded SYNs: %s (--no-follow does without)",
	       sa_strerror(err));
	follow_close(f);
	return err;
}

/* From before the first reading (number 1): every namespace already
 * behind a link is followed before its first SYN. */
static int follow_attach(void *priv, const struct sa_stage_cfg *cfg)
{
	int err = follow_scan(priv, 1);

	(void)cfg;
	if (err)
		sa_err("cannot follow forwarded SYNs: %s (--no-follow does without)",
		       sa_strerror(err));
	return err;
}

/* Namespaces that appeared since: followed from reading @gen.  One not
 * found now is looked for again at the next. */
static int follow_refresh(void *priv, unsigned long gen)
{
	int err = follow_scan(priv, gen);

	if (err)
		sa_err("cannot look for namespaces to follow: %s", sa_strerror(err));
	return 0;
}

static int follow_health(void *priv, struct sa_stage_health *h)
{
	struct sa_follow *f = priv;

	/* Counted by the stack's programs: attached with them. */
	h->attached = true;
	snprintf(h->detail, sizeof(h->detail), "following %d namespace%s", f->n_live,
		 f->n_live == 1 ? "" : "s");
	return 0;
}

static void follow_close(void *priv)
{
	struct sa_follow *f = priv;

	if (!f)
		return;
	for (int i = 0; i < f->n; i++)
		if (f->ns[i].fd >= 0)
			close(f->ns[i].fd);
	if (f->ls)
		f->iter->close(f->ls);
	if (f->nl >= 0)
		close(f->nl);
	if (f->home >= 0)
		close(f->home);
	free(f);
}

/* Its counters are counted by the stack's programs in the followed
 * namespaces and read with the stack's maps; they measure something
 * only while this stage follows. */
const struct sa_stage_ops sa_container_stage = {
	.name = "container",
	.measures = 1u << SA_STAGE_CONTAINER,
	.argp = &follow_argp,
	.enabled = follow_enabled,
	.prereq = follow_prereq,
	.optional = true,
	.open = follow_open,
	.attach = follow_attach,
	.refresh = follow_refresh,
	.complete = follow_fill,
	.health = follow_health,
	.close = follow_close,
};
