// SPDX-License-Identifier: GPL-2.0
/*
 * follow.c - the container stage: follow forwarded SYNs into the
 * namespaces that receive them on this host (a container's, behind a
 * veth): find them, have the stack programs count there
 * (kprobe/follow.bpf.h, through the control the stack stage shares), name
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
 * (kprobe/follow.bpf.h), so following a namespace no SYN reaches costs
 * nothing but a file descriptor.
 *
 * A namespace id is only a number in this namespace: the namespace itself
 * is found by asking the kernel for the id of each candidate (RTM_GETNSID
 * with NETNSA_FD): the named ones in /run/netns (their `ip netns` name),
 * then every process's /proc/PID/ns/net (named by its cgroup, where a
 * container engine puts the container's id, else pid:PID).  The agent
 * holds each followed namespace open, enters it to prime the baselines
 * and to read its listeners' queues (iter/tcp reads the namespace of
 * whoever creates the iterator), and returns to the watched one.
 */
#define _GNU_SOURCE
#include <argp.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/netlink.h>
#include <linux/net_namespace.h>
#include <linux/rtnetlink.h>
#include "counters.h"
#include "escape.h"
#include "log.h"
#include "netlink.h"
#include "netns.h"
#include "snapshot.h"
#include "stage.h"

_Static_assert(SA_NETNS_NAME_MAX >= SA_ESC_SIZE(SA_NETNS_NAME_RAW),
	       "an escaped namespace name fits");

struct followed {
	__u64 cookie;
	int fd;			/* -1: no longer followed, its name kept */
	int nsid;
	unsigned long since;	/* the first reading it was followed for */
	dev_t dev;		/* the namespace's nsfs inode */
	ino_t ino;
	char path[300];		/* where it was found: still there? */
	/* Its name as found ("pid:%.16s %.256s" at most), for stderr
	 * (log.c escapes it there), and escaped as it entered (escape.h
	 * sa_tty_str) for everything else: verdicts, table, JSON, metrics.
	 * Whoever creates a namespace or a cgroup names it. */
	char raw[SA_NETNS_NAME_RAW];
	char name[SA_NETNS_NAME_MAX];
};

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

struct peers {
	const int *skip;	/* the watched interfaces */
	int n_skip;
	int nsid[SA_MAX_FOLLOW * 4];
	int n;
};

static int link_peer(struct nlmsghdr *h, void *ctx)
{
	struct peers *p = ctx;
	struct ifinfomsg *ifi = NLMSG_DATA(h);
	int len = IFLA_PAYLOAD(h);
	struct rtattr *a;

	if (h->nlmsg_type != RTM_NEWLINK)
		return 0;
	/* SYNs arrive from behind a watched interface: that is where the
	 * clients are, not the servers. */
	for (int i = 0; i < p->n_skip; i++)
		if (p->skip[i] == ifi->ifi_index)
			return 0;
	for (a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		int id;

		if (a->rta_type != IFLA_LINK_NETNSID ||
		    RTA_PAYLOAD(a) < sizeof(int))
			continue;
		memcpy(&id, RTA_DATA(a), sizeof(id));
		for (int i = 0; i < p->n; i++)
			if (p->nsid[i] == id)
				return 0;
		if (id >= 0 && p->n < (int)(sizeof(p->nsid) / sizeof(p->nsid[0])))
			p->nsid[p->n++] = id;
	}
	return 0;
}

/* The ids of the namespaces at the other end of this namespace's links. */
static int peer_namespaces(int nl, struct peers *p)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg ifi;
	} req = {
		.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
		.h.nlmsg_type = RTM_GETLINK,
		.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
	};

	p->n = 0;
	return sa_nl_talk(nl, &req.h, link_peer, p);
}

static int nsid_reply(struct nlmsghdr *h, void *ctx)
{
	int len = h->nlmsg_len - NLMSG_LENGTH(sizeof(struct rtgenmsg));
	struct rtattr *a = (struct rtattr *)((char *)NLMSG_DATA(h) +
					     NLMSG_ALIGN(sizeof(struct rtgenmsg)));

	for (; RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == NETNSA_NSID && RTA_PAYLOAD(a) >= sizeof(int))
			memcpy(ctx, RTA_DATA(a), sizeof(int));
	return 0;
}

/* The id this namespace gives the namespace of @fd; -1: none. */
static int nsid_of(int nl, int fd)
{
	struct {
		struct nlmsghdr h;
		struct rtgenmsg g;
		char pad[3];
		struct rtattr a;
		__u32 fd;
	} req = {
		.h.nlmsg_len = sizeof(req),
		.h.nlmsg_type = RTM_GETNSID,
		.h.nlmsg_flags = NLM_F_REQUEST,
		.g.rtgen_family = AF_UNSPEC,
		.a.rta_len = RTA_LENGTH(sizeof(__u32)),
		.a.rta_type = NETNSA_FD,
		.fd = fd,
	};
	int id = -1;

	if (sa_nl_talk(nl, &req.h, nsid_reply, &id))
		return -1;
	return id;
}

/* A container engine's name for a process: its cgroup, when not the
 * root one. */
static void proc_name(const char *pid, char *out, size_t len)
{
	char path[300], line[512], *p;
	FILE *f;

	snprintf(out, len, "pid:%.16s", pid);
	snprintf(path, sizeof(path), "/proc/%s/cgroup", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	/* cgroup v2: "0::/system.slice/docker-<id>.scope" */
	while (fgets(line, sizeof(line), f)) {
		p = strstr(line, "::");
		if (!p)
			continue;
		p += 2;
		p[strcspn(p, "\n")] = '\0';
		if (strcmp(p, "/") && strcmp(p, "/init.scope") &&
		    strncmp(p, "/user.slice", 11))
			snprintf(out, len, "pid:%.16s %.256s", pid, p);
		break;
	}
	fclose(f);
}

/* Open the namespace whose id here is @nsid, and name it (and say where
 * it was found, @where); -ENOENT when no named namespace and no process
 * has it. */
static int find_namespace(struct sa_follow *f, int nsid, char *name, size_t len,
			  char *where, size_t where_len)
{
	const char *dirs[] = { "/run/netns", "/proc" };
	struct dirent *de;
	char path[600];
	int fd = -ENOENT;

	for (int d = 0; d < 2 && fd < 0; d++) {
		DIR *dir = opendir(dirs[d]);

		if (!dir)
			continue;
		while (fd < 0 && (de = readdir(dir))) {
			int cand;

			if (de->d_name[0] == '.' ||
			    (d == 1 && (de->d_name[0] < '1' || de->d_name[0] > '9')))
				continue;
			snprintf(path, sizeof(path), d ? "/proc/%s/ns/net" : "%s/%s",
				 d ? de->d_name : dirs[0], d ? "" : de->d_name);
			cand = open(path, O_RDONLY | O_CLOEXEC);
			if (cand < 0)
				continue;
			if (nsid_of(f->nl, cand) != nsid) {
				close(cand);
				continue;
			}
			fd = cand;
			snprintf(where, where_len, "%.290s", path);
			if (d)
				proc_name(de->d_name, name, len);
			else
				snprintf(name, len, "%.256s", de->d_name);
		}
		closedir(dir);
	}
	return fd;
}

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

static bool same_ns(const char *path, const struct followed *e)
{
	struct stat st;

	return !stat(path, &st) && st.st_dev == e->dev && st.st_ino == e->ino;
}

/* Is the namespace still there without us: its name, or a process in it?
 * Holding it open after its container is gone would keep it, and its
 * veth and addresses, alive. */
static bool still_held(struct followed *e)
{
	char path[300];
	struct dirent *de;
	bool held = false;
	DIR *dir;

	if (same_ns(e->path, e))
		return true;
	dir = opendir("/proc");
	while (dir && !held && (de = readdir(dir))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%.16s/ns/net", de->d_name);
		/* (synacct's own threads are in other namespaces then) */
		held = same_ns(path, e);
		if (held)
			snprintf(e->path, sizeof(e->path), "%s", path);
	}
	if (dir)
		closedir(dir);
	return held;
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

	p.skip = f->watched;
	p.n_skip = f->n_watched;
	err = peer_namespaces(f->nl, &p);
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
		if (!linked || !still_held(&f->ns[j]))
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
		fd = find_namespace(f, p.nsid[i], e.raw, sizeof(e.raw), e.path, sizeof(e.path));
		if (fd < 0) {
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
			sa_info("following forwarded SYNs into namespace %s", e.raw);
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
	if (sa_registry_get(SA_SHARE_FOLLOW))
		return 0;
	snprintf(why, len, "the stack stage cannot follow forwarded SYNs (it is off, or "
		 "this kernel has no netfilter BPF programs or conntrack's BTF)");
	return -EOPNOTSUPP;
}

enum { OPT_NO_FOLLOW = 0x220 };

static const struct argp_option follow_options[] = {
	{ "no-follow", OPT_NO_FOLLOW, NULL, 0, "Do not follow forwarded SYNs into the namespaces that receive them (containers behind a veth or bridge); \"container\" is then null", 0 },
	{ 0 }
};

static error_t follow_parse(int key, char *arg, struct argp_state *state)
{
	struct sa_stage_cfg *cfg = state->input;

	(void)arg;
	switch (key) {
	case ARGP_KEY_INIT:
		cfg->follow = true;
		break;
	case OPT_NO_FOLLOW:
		cfg->follow = false;
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
