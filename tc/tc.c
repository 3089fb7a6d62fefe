// SPDX-License-Identifier: GPL-2.0
/*
 * tc.c - attaches tc.bpf.c to the clsact hooks of the watched interfaces
 * and reads tc_syn / synack_sent.
 *
 * In tc mode (--xdp-mode tc, auto's choice) it also places the NIC
 * stage's TC program (xdp/nic.bpf.c, shared as SA_SHARE_NIC_TC_PROG)
 * first on ingress, at priority 1, and its own ingress filter last, at
 * 65535: nic_syn is TC's first look, tc_syn its last, and what other
 * tools' TC filters drop or redirect is the difference.
 *
 * Other tools' qdiscs and filters stay as they are: synacct adds its own
 * filters (handle SA_TC_HANDLE), removes exactly those on exit, and
 * removes the clsact qdisc only if it created it and nothing else is on
 * it by then.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "claim.h"
#include "netns.h"
#include "log.h"
#include "pin.h"
#include "snapshot.h"
#include "stage.h"
#include "tc_filters.h"
#include "slot_read.h"
#include "touched.h"
#include "tc.skel.h"

struct tc_filter {
	const char *name;		/* the hook, as health reports its loss */
	struct bpf_tc_hook hook;
	struct bpf_tc_opts opts;
	bool attached;
	__u32 prog_id;			/* synacct's program in the filter */
	struct sa_hook_loss loss;	/* .how 0: still synacct's */
};

struct tc_link {
	int ifindex;
	char ifname[IF_NAMESIZE];
	bool created_qdisc;
	struct tc_filter nic, in, eg;	/* nic: tc mode only */
};

struct tc_stage {
	struct tc_bpf *skel;
	struct tc_link links[SA_MAX_IFACES];
	int n_links;
	bool pinned;		/* --pin: filters replace, and stay on close */
	const char *pin_dir;
	__u64 *touched;		/* ports_touched, mmapped (agent/sys/touched.h) */
	struct sa_retries_maps retries;	/* shared: SA_SHARE_RETRIES */
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
	/* Client retries are found by these programs (tc/retries/): their
	 * maps, for the retries stage and the stack object. */
	st->retries = (struct sa_retries_maps){
		.table = bpf_map__fd(st->skel->maps.retry_table),
		.slot = bpf_map__fd(st->skel->maps.retries_counters_slot),
		.port = bpf_map__fd(st->skel->maps.retries_counters_port),
		.vals = bpf_map__fd(st->skel->maps.retries_counters),
		.more = bpf_map__fd(st->skel->maps.retries_counters_more),
	};
	err = sa_registry_share(SA_SHARE_RETRIES, &st->retries);
	if (err) {
		sa_err("cannot share the retry maps: %s", sa_strerror(err));
		tc_stage_close(st);
		return err;
	}
	*out = st;
	return 0;
}

static __u32 tc_prog_id(int prog_fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(prog_fd, &info, &len) ? 0 : info.id;
}

static int tc_filter_add(struct tc_filter *f, const char *name, int ifindex,
			 const char *ifname, enum bpf_tc_attach_point where, __u32 prio,
			 int prog_fd, bool pinned)
{
	const char *hook = where == BPF_TC_INGRESS ? "ingress" : "egress";
	int err;

	memset(f, 0, sizeof(*f));
	f->name = name;
	f->hook.sz = sizeof(f->hook);
	f->hook.ifindex = ifindex;
	f->hook.attach_point = where;
	f->opts.sz = sizeof(f->opts);
	f->opts.handle = SA_TC_HANDLE;
	f->opts.priority = prio;
	f->opts.prog_fd = prog_fd;
	/* --pin: take the place of a pinned synacct's filter in one step
	 * (its program counts into the same pinned map until then); never
	 * another tool's that sits at synacct's priority and handle. */
	if (pinned && !tc_place_foreign(ifindex, where, prio))
		f->opts.flags = BPF_TC_F_REPLACE;
	err = bpf_tc_attach(&f->hook, &f->opts);
	/* Priority 1 is where synacct counts SYNs before any other filter
	 * can drop them: it never moves behind them, even if the kernel
	 * would pick a free priority.  A synacct left over from a killed
	 * run was removed by the claim; what is there now is not synacct's.
	 * In tc mode tc_syn's place is the last: the same refusal. */
	if (err && prio == SA_TC_PRIO_LAST && (err == -EEXIST || err == -EINVAL))
		sa_err("TC ingress priority %d on %s holds another tool's filter; in tc "
		       "mode synacct counts tc_syn last, at priority %d, and does not "
		       "move in front of other filters: move that filter to another "
		       "priority (tc filter show dev %s ingress), or use --xdp-mode skb",
		       SA_TC_PRIO_LAST, ifname, SA_TC_PRIO_LAST, ifname);
	else if (err == -EEXIST)
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
	f->prog_id = tc_prog_id(prog_fd);
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

static int tc_attach_one(struct tc_stage *st, int ifindex, const char *ifname)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	struct tc_link *l;
	int err, nic_fd;

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
		err = tc_qdisc_mark(ifname);
		if (err) {
			sa_err("cannot pin in %s that synacct created the clsact qdisc of %s: %s",
			       st->pin_dir, ifname, sa_strerror(err));
			return err;
		}
	}

	/* tc mode: the NIC stage's count first, then the filters of
	 * other tools, then tc_syn's. */
	nic_fd = sa_registry_fd(SA_SHARE_NIC_TC_PROG);
	err = 0;	/* not the qdisc's -EEXIST */
	if (nic_fd >= 0)
		err = tc_filter_add(&l->nic, "tc_ingress_first", ifindex, ifname,
				    BPF_TC_INGRESS, SA_TC_PRIO, nic_fd, st->pinned);
	if (!err)
		err = tc_filter_add(&l->in, "tc_ingress", ifindex, ifname, BPF_TC_INGRESS,
				    nic_fd >= 0 ? SA_TC_PRIO_LAST : SA_TC_PRIO,
				    bpf_program__fd(st->skel->progs.synacct_tc_in), st->pinned);
	if (!err)
		err = tc_filter_add(&l->eg, "tc_egress", ifindex, ifname, BPF_TC_EGRESS,
				    SA_TC_PRIO, bpf_program__fd(st->skel->progs.synacct_tc_eg),
				    st->pinned);
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

static int tc_stage_touched(void *priv, struct sa_portset *ports)
{
	struct tc_stage *st = priv;

	return sa_touched_take(bpf_map__fd(st->skel->maps.ports_touched), &st->touched, ports);
}

static int tc_stage_read_ports(void *priv, struct sa_snapshot *snap,
			       const struct sa_snapshot *last, struct sa_portset *ports)
{
	struct tc_stage *st = priv;
	struct sa_slot_fds f = tc_fds(st);
	int err;

	(void)last;
	err = sa_read_slot_ports(&f, bpf_map__fd(st->skel->maps.counts_lost), SA_STAGE_TC,
				 snap, ports);
	if (err)
		return err;
	return sa_read_prog_counters(bpf_map__fd(st->skel->maps.prog_counters),
				     &snap->tc_unparsed, &snap->tc_update_failed);
}

/* In a namespace the interface may have moved to: synacct's filters go
 * from there (tc_remove_prog). */
static int remove_moved(void *f)
{
	struct tc_filter *tf = f;

	return tc_remove_prog(tf->hook.attach_point, tf->opts.priority, tf->prog_id);
}

/* Is @f still synacct's filter?  Once not, it stays lost, and close
 * leaves its place alone. */
static void tc_filter_check(struct tc_link *l, struct tc_filter *f)
{
	bool qdisc_gone = false;
	int how;

	if (!f->attached || f->loss.how)
		return;
	how = tc_hook_check(l->ifindex, f->hook.attach_point, f->opts.priority, f->prog_id, &f->loss,
			    &qdisc_gone);
	if (how == -ENODEV) {
		how = sa_netns_each(remove_moved, f) > 0 ? SA_LOSS_IFACE_MOVED :
							   SA_LOSS_IFACE_DELETED;
		snprintf(f->loss.reason, sizeof(f->loss.reason), "%s",
			 how == SA_LOSS_IFACE_MOVED ? "interface moved to another "
			 "namespace; synacct's TC filter removed there" :
			 "interface deleted");
	}
	/* Another error (memory, a netlink hiccup) says nothing lost. */
	if (how <= 0)
		return;
	f->loss.how = how;
	f->loss.iface = l->ifname;
	f->loss.hook = f->name;
	f->attached = false;
	/* A qdisc deleted is not synacct's to delete again, nor is one
	 * another tool creates since. */
	if (qdisc_gone)
		l->created_qdisc = false;
}

static int tc_stage_health(void *priv, struct sa_stage_health *h)
{
	struct tc_stage *st = priv;
	int n = 0, want = 0;

	for (int i = 0; i < st->n_links; i++) {
		struct tc_link *l = &st->links[i];
		struct tc_filter *fs[] = { &l->nic, &l->in, &l->eg };

		for (int j = 0; j < 3; j++) {
			/* Never attached (the nic filter outside tc mode). */
			if (!fs[j]->name)
				continue;
			tc_filter_check(l, fs[j]);
			if (fs[j]->loss.how && h->n_lost < SA_MAX_LOST)
				h->lost[h->n_lost++] = fs[j]->loss;
			n += fs[j]->attached;
			want++;
		}
	}
	h->attached = n > 0 && n == want;
	snprintf(h->detail, sizeof(h->detail), "%d filter%s on %d interface%s", n,
		 n == 1 ? "" : "s", st->n_links, st->n_links == 1 ? "" : "s");
	return 0;
}

static int tc_stage_hooks(void *priv, const char **names, int max)
{
	static const char *const hooks[] = { "tc_ingress", "tc_egress" };
	int n = sizeof(hooks) / sizeof(hooks[0]);

	(void)priv;
	for (int i = 0; i < n && i < max; i++)
		names[i] = hooks[i];
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
		tc_filter_del(&l->nic, l->ifname);
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
	if (sa_registry_get(SA_SHARE_RETRIES) == &st->retries)
		sa_registry_withdraw(SA_SHARE_RETRIES);
	sa_touched_unmap(st->touched);
	tc_bpf__destroy(st->skel);
	free(st);
}

const struct sa_stage_ops sa_tc_stage = {
	.name = "tc",
	.measures = 1u << SA_STAGE_TC | 1u << SA_STAGE_LOST,
	.open = tc_stage_open,
	.attach = tc_stage_attach,
	.read = tc_stage_read,
	.read_port = tc_stage_read_port,
	.touched = tc_stage_touched,
	.read_ports = tc_stage_read_ports,
	.hooks = tc_stage_hooks,
	.health = tc_stage_health,
	.remove_stale = tc_remove_stale,
	.detach_pinned = tc_detach_pinned,
	.close = tc_stage_close,
};
