// SPDX-License-Identifier: GPL-2.0
/*
 * tc_filters.c - synacct's filters on the clsact hooks as the kernel
 * lists them (an RTM_GETTFILTER dump): whether synacct's places (priority
 * 1, and in tc mode 65535 on ingress; handle 0x5a) are another tool's, what a killed synacct left (removed
 * under the interface's claim), and what a pinned one left (`synacct
 * detach`), with the clsact qdisc it created.
 */
#include <errno.h>
#include <stdio.h>
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
#include "stage.h"
#include "tc_filters.h"

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

const struct tc_place_def sa_tc_places[SA_TC_PLACES] = {
	{ BPF_TC_INGRESS, SA_TC_PRIO },
	{ BPF_TC_INGRESS, SA_TC_PRIO_LAST },
	{ BPF_TC_EGRESS, SA_TC_PRIO },
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
int tc_filters_left(int ifindex)
{
	int n = 0, err;

	err = tc_filter_dump(ifindex, BPF_TC_INGRESS, tc_count_rec, &n);
	if (!err)
		err = tc_filter_dump(ifindex, BPF_TC_EGRESS, tc_count_rec, &n);
	return err ? err : n;
}

struct tc_stale {
	__u32 prio;	/* the place looked at: SA_TC_PRIO or SA_TC_PRIO_LAST */
	bool taken;	/* a filter sits at synacct's priority and handle */
	bool found;	/* ... and it is synacct's */
	__u32 prog_id;
};

/* synacct's filter, as only synacct makes it: cls_bpf at one of its
 * priorities, handle 0x5a, running one of synacct's three TC programs. */
static int tc_find_stale(const struct tc_filter_rec *r, void *ctx)
{
	struct tc_stale *st = ctx;
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int fd;

	if (r->prio != st->prio || r->handle != SA_TC_HANDLE)
		return 0;
	st->taken = true;
	if (strcmp(r->kind, "bpf") || !r->bpf_id)
		return 0;
	fd = bpf_prog_get_fd_by_id(r->bpf_id);
	if (fd < 0)
		return 0;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
	    (!strcmp(info.name, "synacct_tc_in") || !strcmp(info.name, "synacct_tc_eg") ||
	     !strcmp(info.name, "synacct_nic_tc"))) {
		st->found = true;
		st->prog_id = r->bpf_id;
	}
	close(fd);
	return 0;
}

/* Is synacct's place on this hook (priority @prio, handle 0x5a) taken by
 * a filter that is not synacct's? */
bool tc_place_foreign(int ifindex, enum bpf_tc_attach_point where, __u32 prio)
{
	struct tc_stale st = { .prio = prio };

	return !tc_filter_dump(ifindex, where, tc_find_stale, &st) && st.taken && !st.found;
}

/* What a filter dump answers when the interface has no clsact qdisc. */
static bool no_clsact(int err)
{
	return err == -EINVAL || err == -ENOENT || err == -ENODEV;
}

/* Removes the TC filters a synacct that could not detach (SIGKILL) left on
 * @ifindex; the caller holds the interface's claim (agent/sys/claim.c).  A
 * filter at synacct's priority and handle that is not synacct's stays:
 * attaching then fails and says so. */
int tc_remove_stale(int ifindex, char *what, size_t len, int *holder)
{
	int err, removed = 0;

	for (int i = 0; i < SA_TC_PLACES; i++) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = sa_tc_places[i].where);
		LIBBPF_OPTS(bpf_tc_opts, opts, .handle = SA_TC_HANDLE,
			    .priority = sa_tc_places[i].prio);
		struct tc_stale st = { .prio = sa_tc_places[i].prio };

		err = tc_filter_dump(ifindex, sa_tc_places[i].where, tc_find_stale, &st);
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

/* --pin: the qdisc outlives this process; a pinned marker tells `synacct
 * detach` that synacct created it, so it removes it (and only then). */
static void qdisc_mark_name(char *buf, size_t len, const char *ifname)
{
	snprintf(buf, len, "tc_created_clsact_%s", ifname);
}

int tc_qdisc_mark(const char *ifname)
{
	char name[64];
	int fd, err;

	qdisc_mark_name(name, sizeof(name), ifname);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "synacct_mark", 4, 4, 1, NULL);
	if (fd < 0)
		return -errno;
	err = sa_pin_add(fd, name);
	close(fd);
	return err == -EEXIST && sa_pin_exists(name) ? 0 : err;
}

/*
 * `synacct detach`: what a pinned synacct left on @ifindex goes, and
 * nothing else.  A filter at synacct's priority and handle is deleted only
 * if it runs synacct's program (as tc_remove_stale checks); the clsact
 * qdisc, which takes every filter on it along, only if synacct created it
 * (the pinned marker) and no other tool's filter is on it now.
 */
int tc_detach_pinned(int ifindex, const char *ifname)
{
	char mark[512];
	int ret = 0, left;

	for (int i = 0; i < SA_TC_PLACES; i++) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = sa_tc_places[i].where);
		LIBBPF_OPTS(bpf_tc_opts, opts, .handle = SA_TC_HANDLE,
			    .priority = sa_tc_places[i].prio);
		struct tc_stale st = { .prio = sa_tc_places[i].prio };
		int err;

		err = tc_filter_dump(ifindex, sa_tc_places[i].where, tc_find_stale, &st);
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

/* What sits at one of synacct's places (handle 0x5a) on a hook. */
struct tc_place {
	__u32 prio;
	bool taken;
	char kind[16];
	__u32 bpf_id;	/* cls_bpf: its program */
};

static int tc_find_place(const struct tc_filter_rec *r, void *ctx)
{
	struct tc_place *p = ctx;

	if (r->prio != p->prio || r->handle != SA_TC_HANDLE)
		return 0;
	p->taken = true;
	snprintf(p->kind, sizeof(p->kind), "%s", r->kind);
	p->bpf_id = r->bpf_id;
	return 0;
}

int tc_hook_check(int ifindex, enum bpf_tc_attach_point where, __u32 prio, __u32 prog_id,
		  struct sa_hook_loss *l, bool *qdisc_gone)
{
	struct tc_place p = { .prio = prio };
	char ifname[IF_NAMESIZE];
	int err, fd;

	/* A dump, not bpf_tc_query: that one asks for a cls_bpf filter and
	 * cannot tell another kind at synacct's place from no clsact. */
	err = tc_filter_dump(ifindex, where, tc_find_place, &p);
	if (!err && p.taken && p.bpf_id == prog_id)
		return 0;
	/* The kernel unlists a device before it shuts its qdiscs down:
	 * listed after the dump, it was there during it. */
	if (!if_indextoname(ifindex, ifname))
		return -ENODEV;
	if (err && !no_clsact(err))
		return err;
	if (!p.taken) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = where);
		LIBBPF_OPTS(bpf_tc_opts, opts, .handle = SA_TC_HANDLE, .priority = prio);

		/* A dump of a hook without clsact lists nothing; a query
		 * names it: "Parent Qdisc doesn't exists" is -EINVAL. */
		*qdisc_gone = err || bpf_tc_query(&hook, &opts) == -EINVAL;
		snprintf(l->reason, sizeof(l->reason), "%s",
			 *qdisc_gone ? "clsact qdisc deleted" : "TC filter removed");
		return SA_LOSS_REMOVED;
	}
	l->replaced_by = p.bpf_id;
	snprintf(l->replaced_name, sizeof(l->replaced_name), "%s", p.bpf_id ? "?" : "");
	fd = p.bpf_id ? bpf_prog_get_fd_by_id(p.bpf_id) : -1;
	if (fd >= 0) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (!bpf_obj_get_info_by_fd(fd, &info, &len))
			snprintf(l->replaced_name, sizeof(l->replaced_name), "%s", info.name);
		close(fd);
	}
	if (p.bpf_id)
		snprintf(l->reason, sizeof(l->reason), "TC filter replaced by one running "
			 "program id %u (%s)", p.bpf_id, l->replaced_name);
	else
		snprintf(l->reason, sizeof(l->reason), "TC filter replaced by another "
			 "tool's %s filter", p.kind);
	return SA_LOSS_REPLACED;
}

int tc_remove_prog(enum bpf_tc_attach_point where, __u32 prio, __u32 prog_id)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	int ret = 0;

	if (!ifs)
		return -errno;
	for (i = ifs; i->if_index && !ret; i++) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = i->if_index, .attach_point = where);
		LIBBPF_OPTS(bpf_tc_opts, opts, .handle = SA_TC_HANDLE, .priority = prio);

		if (bpf_tc_query(&hook, &opts) || opts.prog_id != prog_id)
			continue;
		opts.prog_id = 0;
		opts.flags = 0;
		/* A delete names handle and priority, not the program: a
		 * filter put there in the instant since the query would go. */
		ret = bpf_tc_detach(&hook, &opts) ?: 1;
	}
	if_freenameindex(ifs);
	return ret;
}
