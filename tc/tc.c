// SPDX-License-Identifier: GPL-2.0
/*
 * tc.c - attaches tc.bpf.c to the clsact hooks of the watched interfaces
 * and reads tc_syn / synack_sent.
 *
 * Other tools' qdiscs and filters stay as they are: synacct adds its own
 * two filters (handle SA_TC_HANDLE), removes exactly those on exit, and
 * removes the clsact qdisc only if it created it and nothing else is on
 * it by then.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "claim.h"
#include "log.h"
#include "netlink.h"
#include "pin.h"
#include "snapshot.h"
#include "stage.h"
#include "../agent/slot_read.h"
#include "tc.skel.h"

/* "SA" in hex, so `tc filter show` makes the owner recognisable. */
#define SA_TC_HANDLE 0x5a
/* Run before other filters at the default priority, so that tc_syn counts
 * SYNs before another tool's filter can drop them. */
#define SA_TC_PRIO 1

struct tc_filter {
	struct bpf_tc_hook hook;
	struct bpf_tc_opts opts;
	bool attached;
};

struct tc_link {
	int ifindex;
	char ifname[IF_NAMESIZE];
	bool created_qdisc;
	struct tc_filter in, eg;
};

struct tc_stage {
	struct tc_bpf *skel;
	struct tc_link links[SA_MAX_IFACES];
	int n_links;
	bool pinned;		/* --pin: filters replace, and stay on close */
	const char *pin_dir;
};

static void tc_stage_close(void *priv);

static int tc_stage_open(void **out, const struct sa_stage_cfg *cfg)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = cfg->btf);
	struct tc_stage *st;
	int err;

	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;

	st->skel = tc_bpf__open_opts(&oo);
	st->pinned = cfg->pin_dir != NULL;
	st->pin_dir = cfg->pin_dir;
	err = st->skel ? 0 : -errno;
	if (!err && st->pinned)
		err = sa_pin_maps(st->skel->obj, cfg->pin_dir, "tc");
	if (!err)
		err = tc_bpf__load(st->skel);
	if (!err && st->pinned)
		err = sa_pin_maps_commit(st->skel->obj);
	if (err) {
		sa_err("cannot load the TC programs: %s", sa_strerror(err));
		tc_bpf__destroy(st->skel);
		free(st);
		return err;
	}
	/* TC egress records the SYN-ACKs leaving in these maps; the stack
	 * stage's handlers count their fate into the same ones. */
	err = sa_registry_share_fd(SA_SHARE_SYNACK_FLIGHT,
				   bpf_map__fd(st->skel->maps.synack_flight));
	if (!err)
		err = sa_registry_share_fd(SA_SHARE_SYNACK_LAST,
					   bpf_map__fd(st->skel->maps.synack_last));
	if (err) {
		sa_err("cannot share the SYN-ACK maps: %s", sa_strerror(err));
		tc_stage_close(st);
		return err;
	}
	*out = st;
	return 0;
}

static bool tc_place_foreign(int ifindex, enum bpf_tc_attach_point where);

static int tc_filter_add(struct tc_filter *f, int ifindex, const char *ifname,
			 enum bpf_tc_attach_point where, int prog_fd, bool pinned)
{
	const char *hook = where == BPF_TC_INGRESS ? "ingress" : "egress";
	int err;

	memset(f, 0, sizeof(*f));
	f->hook.sz = sizeof(f->hook);
	f->hook.ifindex = ifindex;
	f->hook.attach_point = where;
	f->opts.sz = sizeof(f->opts);
	f->opts.handle = SA_TC_HANDLE;
	f->opts.priority = SA_TC_PRIO;
	f->opts.prog_fd = prog_fd;
	/* --pin: take the place of a pinned synacct's filter in one step
	 * (its program counts into the same pinned map until then); never
	 * another tool's that sits at synacct's priority and handle. */
	if (pinned && !tc_place_foreign(ifindex, where))
		f->opts.flags = BPF_TC_F_REPLACE;
	err = bpf_tc_attach(&f->hook, &f->opts);
	/* Priority 1 is where synacct counts SYNs before any other filter
	 * can drop them: it never moves behind them, even if the kernel
	 * would pick a free priority.  A synacct left over from a killed
	 * run was removed by the claim; what is there now is not synacct's. */
	if (err == -EEXIST)
		sa_err("TC %s filter priority %d handle 0x%x on %s is taken by another "
		       "tool's filter; synacct counts first, at priority %d, and does "
		       "not move behind other filters: remove that filter (tc filter "
		       "show dev %s %s)", hook, SA_TC_PRIO, SA_TC_HANDLE, ifname,
		       SA_TC_PRIO, ifname, hook);
	else if (err == -EINVAL)
		sa_err("TC %s priority %d on %s holds another tool's filter of another "
		       "kind or protocol; synacct counts first, at priority %d, and does "
		       "not move behind other filters: move that filter to another "
		       "priority (tc filter show dev %s %s)", hook, SA_TC_PRIO, ifname,
		       SA_TC_PRIO, ifname, hook);
	else if (err)
		sa_err("cannot attach TC %s filter to %s: %s", hook, ifname,
		       sa_strerror(err));
	if (err)
		return err;
	f->attached = true;
	return 0;
}

/*
 * Every filter on one clsact hook, as the kernel lists them (`tc filter
 * show`): an RTM_GETTFILTER dump over netlink, since libbpf can only ask
 * about one handle and priority at a time.  @fn gets each record; a record
 * with handle 0 stands for a priority (a tcf_proto) itself.
 */
struct tc_filter_rec {
	__u32 prio;
	__u32 handle;
	char kind[16];
	__u32 bpf_id;		/* cls_bpf: the program's id, else 0 */
};

static void tc_parse_rec(struct tcmsg *t, int len, struct tc_filter_rec *r)
{
	struct rtattr *a = (struct rtattr *)((char *)t + NLMSG_ALIGN(sizeof(*t)));

	memset(r, 0, sizeof(*r));
	r->prio = TC_H_MAJ(t->tcm_info) >> 16;
	r->handle = t->tcm_handle;
	len -= NLMSG_ALIGN(sizeof(*t));
	for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == TCA_KIND) {
			snprintf(r->kind, sizeof(r->kind), "%.*s",
				 (int)RTA_PAYLOAD(a), (char *)RTA_DATA(a));
		} else if (a->rta_type == TCA_OPTIONS) {
			struct rtattr *o = RTA_DATA(a);
			int olen = RTA_PAYLOAD(a);

			for (; RTA_OK(o, olen); o = RTA_NEXT(o, olen))
				if (o->rta_type == TCA_BPF_ID &&
				    RTA_PAYLOAD(o) >= sizeof(__u32))
					memcpy(&r->bpf_id, RTA_DATA(o), sizeof(__u32));
		}
	}
}

struct tc_dump_ctx {
	int (*fn)(const struct tc_filter_rec *r, void *ctx);
	void *ctx;
};

static int tc_dump_one(struct nlmsghdr *nh, void *ctx)
{
	struct tc_dump_ctx *dc = ctx;
	struct tc_filter_rec r;

	if (nh->nlmsg_type != RTM_NEWTFILTER ||
	    nh->nlmsg_len < NLMSG_LENGTH(sizeof(struct tcmsg)))
		return 0;
	tc_parse_rec(NLMSG_DATA(nh), nh->nlmsg_len - NLMSG_HDRLEN, &r);
	return dc->fn(&r, dc->ctx);
}

static int tc_filter_dump(int ifindex, enum bpf_tc_attach_point where,
			  int (*fn)(const struct tc_filter_rec *r, void *ctx),
			  void *ctx)
{
	struct {
		struct nlmsghdr nh;
		struct tcmsg t;
	} req = {
		.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct tcmsg)),
		.nh.nlmsg_type = RTM_GETTFILTER,
		.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		.t.tcm_family = AF_UNSPEC,
		.t.tcm_ifindex = ifindex,
		.t.tcm_parent = TC_H_MAKE(TC_H_CLSACT, where == BPF_TC_INGRESS ?
					  TC_H_MIN_INGRESS : TC_H_MIN_EGRESS),
	};
	struct tc_dump_ctx dc = { fn, ctx };
	int fd, err;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	err = sa_nl_talk(fd, &req.nh, tc_dump_one, &dc);
	close(fd);
	return err;
}

static int tc_count_rec(const struct tc_filter_rec *r, void *ctx)
{
	(void)r;
	(*(int *)ctx)++;
	return 0;
}

/* Filters left on the clsact qdisc of @ifindex, both hooks; -errno if the
 * kernel could not say (then the qdisc must stay). */
static int tc_filters_left(int ifindex)
{
	int n = 0, err;

	err = tc_filter_dump(ifindex, BPF_TC_INGRESS, tc_count_rec, &n);
	if (!err)
		err = tc_filter_dump(ifindex, BPF_TC_EGRESS, tc_count_rec, &n);
	return err ? err : n;
}

struct tc_stale {
	bool taken;	/* a filter sits at synacct's priority and handle */
	bool found;	/* ... and it is synacct's */
	__u32 prog_id;
};

/* synacct's filter, as only synacct makes it: cls_bpf at priority 1,
 * handle 0x5a, running one of synacct's two TC programs. */
static int tc_find_stale(const struct tc_filter_rec *r, void *ctx)
{
	struct tc_stale *st = ctx;
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int fd;

	if (r->prio != SA_TC_PRIO || r->handle != SA_TC_HANDLE)
		return 0;
	st->taken = true;
	if (strcmp(r->kind, "bpf") || !r->bpf_id)
		return 0;
	fd = bpf_prog_get_fd_by_id(r->bpf_id);
	if (fd < 0)
		return 0;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
	    (!strcmp(info.name, "synacct_tc_in") || !strcmp(info.name, "synacct_tc_eg"))) {
		st->found = true;
		st->prog_id = r->bpf_id;
	}
	close(fd);
	return 0;
}

/* Is synacct's place on this hook (priority 1, handle 0x5a) taken by a
 * filter that is not synacct's? */
static bool tc_place_foreign(int ifindex, enum bpf_tc_attach_point where)
{
	struct tc_stale st = {};

	return !tc_filter_dump(ifindex, where, tc_find_stale, &st) && st.taken && !st.found;
}

/* What a filter dump answers when the interface has no clsact qdisc. */
static bool no_clsact(int err)
{
	return err == -EINVAL || err == -ENOENT || err == -ENODEV;
}

/* Removes the TC filters a synacct that could not detach (SIGKILL) left on
 * @ifindex; the caller holds the interface's claim (agent/claim.c).  A
 * filter at synacct's priority and handle that is not synacct's stays:
 * attaching then fails and says so. */
static int tc_remove_stale(int ifindex, char *what, size_t len, int *holder)
{
	static const enum bpf_tc_attach_point where[] = { BPF_TC_INGRESS, BPF_TC_EGRESS };
	int err, removed = 0;

	for (int i = 0; i < 2; i++) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = where[i]);
		LIBBPF_OPTS(bpf_tc_opts, opts, .handle = SA_TC_HANDLE,
			    .priority = SA_TC_PRIO);
		struct tc_stale st = {};

		err = tc_filter_dump(ifindex, where[i], tc_find_stale, &st);
		/* No clsact qdisc: nothing to remove. */
		if (no_clsact(err))
			break;
		if (err)
			return err;
		if (!st.found)
			continue;
		*holder = sa_prog_holder(st.prog_id);
		if (*holder)
			return -EBUSY;
		err = bpf_tc_detach(&hook, &opts);
		if (err && err != -ENOENT)
			return err;
		removed++;
	}
	if (removed)
		snprintf(what, len, "%d TC filter%s", removed, removed > 1 ? "s" : "");
	return 0;
}

static void tc_filter_del(struct tc_filter *f, const char *ifname)
{
	int err;

	if (!f->attached)
		return;
	/* bpf_tc_detach wants only handle and priority set. */
	f->opts.prog_fd = 0;
	f->opts.prog_id = 0;
	f->opts.flags = 0;
	err = bpf_tc_detach(&f->hook, &f->opts);
	if (err && err != -ENODEV && err != -ENOENT && err != -EINVAL)
		sa_err("cannot remove synacct TC filter from %s: %s", ifname,
		       sa_strerror(err));
	f->attached = false;
}

/* --pin: the qdisc outlives this process; a pinned marker tells `synacct
 * detach` that synacct created it, so it removes it (and only then). */
static void qdisc_mark_name(char *buf, size_t len, const char *ifname)
{
	snprintf(buf, len, "tc_created_clsact_%s", ifname);
}

static int qdisc_mark(const char *dir, const char *ifname)
{
	char name[64];
	int fd, err;

	(void)dir;
	qdisc_mark_name(name, sizeof(name), ifname);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "synacct_mark", 4, 4, 1, NULL);
	if (fd < 0)
		return -errno;
	err = sa_pin_add(fd, name);
	close(fd);
	return err == -EEXIST && sa_pin_exists(name) ? 0 : err;
}

static int tc_attach_one(struct tc_stage *st, int ifindex, const char *ifname)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	struct tc_link *l;
	int err;

	if (st->n_links >= SA_MAX_IFACES)
		return -E2BIG;
	l = &st->links[st->n_links];
	memset(l, 0, sizeof(*l));
	l->ifindex = ifindex;
	snprintf(l->ifname, sizeof(l->ifname), "%s", ifname);

	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		sa_err("cannot create clsact qdisc on %s: %s", ifname,
		       sa_strerror(err));
		return err;
	}
	/* A qdisc that a killed synacct created is this run's to remove. */
	l->created_qdisc = !err || sa_iface_clsact_inherited(ifindex);
	if (!err)
		sa_iface_note_clsact(ifindex);
	st->n_links++;	/* from here on, close undoes what was done */
	if (l->created_qdisc && st->pinned) {
		err = qdisc_mark(st->pin_dir, ifname);
		if (err) {
			sa_err("cannot pin in %s that synacct created the clsact qdisc of %s: %s",
			       st->pin_dir, ifname, sa_strerror(err));
			return err;
		}
	}

	err = tc_filter_add(&l->in, ifindex, ifname, BPF_TC_INGRESS,
			    bpf_program__fd(st->skel->progs.synacct_tc_in), st->pinned);
	if (!err)
		err = tc_filter_add(&l->eg, ifindex, ifname, BPF_TC_EGRESS,
				    bpf_program__fd(st->skel->progs.synacct_tc_eg), st->pinned);
	return err;
}

static int tc_stage_attach(void *priv, const struct sa_stage_cfg *cfg)
{
	int err = 0;

	for (int i = 0; i < cfg->n_ifaces && !err; i++)
		err = tc_attach_one(priv, cfg->ifindex[i], cfg->ifname[i]);
	return err;
}

/* The counters' slot maps (include/bpf/count.h). */
static struct sa_slot_fds tc_fds(struct tc_stage *st)
{
	return sa_slot_fds(st->skel->maps.tc_counters_slot, st->skel->maps.tc_counters_port,
			   st->skel->maps.tc_counters, st->skel->maps.tc_counters_more);
}

static int tc_stage_read(void *priv, struct sa_snapshot *snap)
{
	struct tc_stage *st = priv;
	struct sa_slot_fds f = tc_fds(st);
	int err;

	err = sa_read_slot_maps(&f, SA_STAGE_TC, snap);
	if (!err)
		err = sa_read_port_map(bpf_map__fd(st->skel->maps.counts_lost),
				       SA_STAGE_LOST, snap);
	if (err)
		return err;
	return sa_read_prog_counters(bpf_map__fd(st->skel->maps.prog_counters),
				     &snap->tc_unparsed, &snap->tc_update_failed);
}

static int tc_stage_read_port(void *priv, __u32 port, struct sa_port_stats *ps)
{
	struct tc_stage *st = priv;
	struct sa_slot_fds f = tc_fds(st);
	int err;

	err = sa_read_slot_entry(&f, SA_STAGE_TC, port, ps);
	if (!err)
		err = sa_read_port_entry(bpf_map__fd(st->skel->maps.counts_lost),
					 SA_STAGE_LOST, port, ps);
	return err;
}

static int tc_stage_health(void *priv, struct sa_stage_health *h)
{
	struct tc_stage *st = priv;
	int n = 0;

	for (int i = 0; i < st->n_links; i++)
		n += st->links[i].in.attached + st->links[i].eg.attached;
	h->attached = n > 0 && n == 2 * st->n_links;
	snprintf(h->detail, sizeof(h->detail), "%d filter%s on %d interface%s", n,
		 n == 1 ? "" : "s", st->n_links, st->n_links == 1 ? "" : "s");
	return 0;
}

static int tc_stage_hooks(void *priv, const char **names, int max)
{
	static const char *const hooks[] = { "tc_ingress", "tc_egress" };
	int n = 0;

	(void)priv;
	for (; n < max && n < 2; n++)
		names[n] = hooks[n];
	return n;
}

static void tc_stage_close(void *priv)
{
	struct tc_stage *st = priv;

	if (!st)
		return;
	for (int i = st->pinned ? -1 : st->n_links - 1; i >= 0; i--) {
		struct tc_link *l = &st->links[i];

		tc_filter_del(&l->eg, l->ifname);
		tc_filter_del(&l->in, l->ifname);
		/* Destroying clsact takes every filter on it: another tool may
		 * have added one since synacct created it (a firewall rule
		 * during an incident), so the qdisc goes only when empty. */
		if (l->created_qdisc && tc_filters_left(l->ifindex) == 0) {
			LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = l->ifindex,
				    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
			bpf_tc_hook_destroy(&hook);
		}
	}
	if (sa_registry_fd(SA_SHARE_SYNACK_FLIGHT) == bpf_map__fd(st->skel->maps.synack_flight)) {
		sa_registry_withdraw(SA_SHARE_SYNACK_FLIGHT);
		sa_registry_withdraw(SA_SHARE_SYNACK_LAST);
	}
	tc_bpf__destroy(st->skel);
	free(st);
}

/*
 * `synacct detach`: what a pinned synacct left on @ifindex goes, and
 * nothing else.  A filter at synacct's priority and handle is deleted only
 * if it runs synacct's program (as tc_remove_stale checks); the clsact
 * qdisc, which takes every filter on it along, only if synacct created it
 * (the pinned marker) and no other tool's filter is on it now.
 */
static int tc_detach_pinned(int ifindex, const char *ifname)
{
	static const enum bpf_tc_attach_point where[] = { BPF_TC_INGRESS, BPF_TC_EGRESS };
	char mark[512];
	int ret = 0, left;

	for (int i = 0; i < 2; i++) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = where[i]);
		LIBBPF_OPTS(bpf_tc_opts, opts, .handle = SA_TC_HANDLE, .priority = SA_TC_PRIO);
		struct tc_stale st = {};
		int err;

		err = tc_filter_dump(ifindex, where[i], tc_find_stale, &st);
		/* No clsact qdisc: no filter of synacct's either. */
		if (no_clsact(err))
			return 0;
		if (!err && st.found)
			err = bpf_tc_detach(&hook, &opts);
		if (err && err != -ENOENT) {
			sa_err("cannot remove synacct's TC filter from %s: %s", ifname,
			       sa_strerror(err));
			ret = err;
		}
	}
	qdisc_mark_name(mark, sizeof(mark), ifname);
	if (ret || !sa_pin_exists(mark))
		return ret;
	left = tc_filters_left(ifindex);
	if (left > 0) {
		sa_info("left the clsact qdisc synacct created on %s: other tools' "
			"filters are on it (tc filter show dev %s ingress; ... egress)",
			ifname, ifname);
	} else if (left == 0) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);

		ret = bpf_tc_hook_destroy(&hook);
		if (ret)
			sa_err("cannot remove the clsact qdisc synacct created on %s: %s",
			       ifname, sa_strerror(ret));
	} else {
		sa_err("left the clsact qdisc synacct created on %s: cannot list its "
		       "filters (%s)", ifname, sa_strerror(left));
		ret = left;
	}
	return ret;
}

const struct sa_stage_ops sa_tc_stage = {
	.name = "tc",
	.measures = 1u << SA_STAGE_TC | 1u << SA_STAGE_LOST,
	.open = tc_stage_open,
	.attach = tc_stage_attach,
	.read = tc_stage_read,
	.read_port = tc_stage_read_port,
	.hooks = tc_stage_hooks,
	.health = tc_stage_health,
	.remove_stale = tc_remove_stale,
	.detach_pinned = tc_detach_pinned,
	.close = tc_stage_close,
};
