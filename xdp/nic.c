// SPDX-License-Identifier: GPL-2.0
/*
 * nic.c - loads nic.bpf.c and attaches it to the watched interfaces
 * through libxdp (so `xdp-loader status` shows it), and reads nic_syn.
 * In tc mode (auto's choice) no XDP: the object's TC program is shared
 * with the TC stage, which places it first on clsact ingress (tc/tc.c).
 *
 * synacct only observes: it never replaces an XDP program that is already
 * on an interface, and it detaches only what it attached.
 */
#include <argp.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include "netns.h"
#include "log.h"
#include "pin.h"
#include "snapshot.h"
#include "stage.h"
#include "nic_hook.h"
#include "slot_read.h"
#include "touched.h"
#include "nic.skel.h"

struct nic_link {
	int ifindex;
	char ifname[IF_NAMESIZE];
	enum xdp_attach_mode mode;	/* XDP_MODE_UNSPEC: tc mode */
	char reason[160];	/* why this mode, for the start record and -v */
	__u32 prog_id;		/* synacct's program on the hook */
	struct sa_hook_loss loss;	/* .how 0: still synacct's */
};

struct nic_stage {
	struct nic_bpf *skel;
	struct xdp_program *prog;
	struct nic_link links[SA_MAX_IFACES];
	bool tc;		/* --xdp-mode tc: counted at TC ingress, first */
	int n_links;
	struct sa_xdp_link desc[SA_MAX_IFACES];	/* links, for the start record */
	bool pinned;		/* --pin: leave the program attached on close */
	__u64 *touched;		/* ports_touched, mmapped (agent/sys/touched.h) */
};

static int libxdp_quiet(enum libxdp_print_level level, const char *fmt,
			va_list args)
{
	(void)level; (void)fmt; (void)args;
	return 0;
}

static int libxdp_verbose(enum libxdp_print_level level, const char *fmt,
			  va_list args)
{
	(void)level;
	return vfprintf(stderr, fmt, args);
}

static void nic_stage_close(void *priv);

static int nic_stage_open(void **out, const struct sa_stage_cfg *cfg)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = cfg->btf);
	struct nic_stage *st;
	int err;

	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	libxdp_set_print(cfg->verbose ? libxdp_verbose : libxdp_quiet);

	st->skel = nic_bpf__open_opts(&oo);
	st->pinned = cfg->pin_dir != NULL;
	if (st->skel && st->pinned) {
		err = sa_pin_maps(st->skel->obj, cfg->pin_dir, "xdp");
		if (err) {
			sa_err("cannot pin the XDP maps: %s", sa_strerror(err));
			goto cleanup;
		}
	}
	if (!st->skel || nic_bpf__load(st->skel)) {
		err = -errno;
		sa_err("cannot load the XDP program: %s", sa_strerror(err));
		goto cleanup;
	}
	if (st->pinned) {
		err = sa_pin_maps_commit(st->skel->obj);
		if (err) {
			sa_err("cannot pin the XDP maps in %s: %s", cfg->pin_dir, strerror(-err));
			goto cleanup;
		}
	}
	st->tc = cfg->xdp_mode == SA_XDP_TC;
	if (st->tc) {
		err = sa_registry_share_fd(SA_SHARE_NIC_TC_PROG,
					   bpf_program__fd(st->skel->progs.synacct_nic_tc));
		if (err) {
			sa_err("cannot share the NIC stage's TC program: %s", sa_strerror(err));
			goto cleanup;
		}
		*out = st;
		return 0;
	}
	st->prog = xdp_program__from_fd(bpf_program__fd(st->skel->progs.synacct_xdp));
	err = libxdp_get_error(st->prog);
	if (err) {
		st->prog = NULL;
		sa_err("libxdp cannot use the XDP program: %s", nic_xdp_strerror(err));
		goto cleanup;
	}
	*out = st;
	return 0;

cleanup:
	nic_stage_close(st);
	return err;
}

/* "auto", "native", "skb" or "tc"; -EINVAL otherwise. */
static int xdp_mode_parse(const char *arg, enum sa_xdp_mode *out)
{
	static const char *const names[] = {
		[SA_XDP_AUTO] = "auto", [SA_XDP_NATIVE] = "native", [SA_XDP_SKB] = "skb",
		[SA_XDP_TC] = "tc",
	};

	for (unsigned int i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(arg, names[i])) {
			*out = i;
			return 0;
		}
	}
	return -EINVAL;
}

static int nic_attach_one(struct nic_stage *st, int ifindex, const char *ifname,
			  enum sa_xdp_mode req, bool verbose)
{
	struct nic_link *l;
	char other[BPF_OBJ_NAME_LEN + 1];
	struct xdp_program *kept = NULL;
	enum xdp_attach_mode mode;
	__u32 id;
	int err;

	if (st->n_links >= SA_MAX_IFACES)
		return -E2BIG;
	if (st->tc) {
		/* The TC stage attaches the filter (it owns the order on
		 * clsact ingress); this stage says where it counts. */
		l = &st->links[st->n_links++];
		l->ifindex = ifindex;
		snprintf(l->ifname, sizeof(l->ifname), "%s", ifname);
		l->mode = XDP_MODE_UNSPEC;
		nic_choose_mode(ifname, req, l->reason, sizeof(l->reason));
		if (verbose)
			sa_info("nic stage on %s: TC ingress, first filter: %s", ifname, l->reason);
		return 0;
	}
	/* --pin: a pinned synacct's program still counts into the pinned
	 * map this one reads; it stays, and no SYN goes uncounted. */
	if (st->pinned && (kept = nic_ours_attached(ifindex, &mode)) &&
	    nic_prog_uses_map(kept, bpf_map__fd(st->skel->maps.nic_counters))) {
		l = &st->links[st->n_links++];
		l->prog_id = xdp_program__id(kept);
		xdp_program__close(kept);
		l->ifindex = ifindex;
		snprintf(l->ifname, sizeof(l->ifname), "%s", ifname);
		l->mode = mode;
		snprintf(l->reason, sizeof(l->reason),
			 "--pin: the pinned synacct's program, kept (it never stopped counting)");
		return 0;
	}
	if (st->pinned && kept)
		xdp_program__close(kept);	/* not the pinned one: refused below */
	id = nic_prog_present(ifindex, other, sizeof(other));
	if (id && !strcmp(other, "synacct_xdp")) {
		/* Our own program: a synacct that could not clean up
		 * (SIGKILL) left it, or another synacct is running. */
		sa_err("interface %s already has synacct's XDP program (id %u): another "
		       "synacct is watching it, or one was killed before it could "
		       "detach; if none is running, remove it with "
		       "'ip link set dev %s xdp off' or run with --no-xdp",
		       ifname, id, ifname);
		return -EBUSY;
	}
	if (id) {
		sa_err("interface %s already has an XDP program (id %u, name %s) "
		       "attached by another tool; synacct never replaces it: "
		       "remove it (xdp-loader unload %s --all) or run with --no-xdp",
		       ifname, id, other, ifname);
		return -EBUSY;
	}

	l = &st->links[st->n_links];
	l->ifindex = ifindex;
	snprintf(l->ifname, sizeof(l->ifname), "%s", ifname);
	l->mode = nic_choose_mode(ifname, req, l->reason, sizeof(l->reason));
	/* Where bpffs is mounted, libxdp first tries its multi-program
	 * dispatcher, which kernels in lockdown refuse (freplace), and falls
	 * back to attaching the program alone: libbpf's warnings about that
	 * load ("try raising ulimit -l") would only mislead.  -v shows them. */
	sa_log_libbpf_mute(true);
	err = xdp_program__attach(st->prog, ifindex, l->mode, 0);
	if (err && l->mode == XDP_MODE_NATIVE) {
		sa_info("native XDP not available on %s (%s); using SKB mode",
			ifname, nic_xdp_strerror(err));
		snprintf(l->reason, sizeof(l->reason),
			 "native requested, but the driver refused it (%s)",
			 nic_xdp_strerror(err));
		l->mode = XDP_MODE_SKB;
		err = xdp_program__attach(st->prog, ifindex, l->mode, 0);
	}
	sa_log_libbpf_mute(false);
	if (err) {
		sa_err("cannot attach XDP program to %s: %s", ifname,
		       nic_xdp_strerror(err));
		return err;
	}
	l->prog_id = xdp_program__id(st->prog);
	if (verbose)
		sa_info("xdp on %s: %s mode: %s", ifname,
			l->mode == XDP_MODE_SKB ? "skb" : "native", l->reason);
	st->n_links++;
	return 0;
}

static int nic_stage_attach(void *priv, const struct sa_stage_cfg *cfg)
{
	struct nic_stage *st = priv;
	int err = 0;

	for (int i = 0; i < cfg->n_ifaces && !err; i++)
		err = nic_attach_one(st, cfg->ifindex[i], cfg->ifname[i],
				     cfg->xdp_mode, cfg->verbose);
	return err;
}

static const char *link_mode(const struct nic_link *l)
{
	return l->mode == XDP_MODE_UNSPEC ? "tc" : l->mode == XDP_MODE_SKB ? "skb" : "native";
}

/* The NIC stage's mode in use: "native", "skb", "tc" or "none". */
static const char *nic_mode(const struct nic_stage *st)
{
	if (!st || !st->n_links)
		return "none";
	return link_mode(&st->links[0]);
}

/* The mode and its reason per interface, and whether XDP runs before
 * the per-CPU backlog (native): the reconciler places drops by it. */
static void nic_stage_describe(void *priv, struct sa_stage_desc *d)
{
	struct nic_stage *st = priv;
	int n = st ? st->n_links : 0;

	for (int i = 0; i < n; i++) {
		st->desc[i].iface = st->links[i].ifname;
		st->desc[i].mode = link_mode(&st->links[i]);
		st->desc[i].reason = st->links[i].reason;
	}
	d->xdp_mode = nic_mode(st);
	d->nic_native = st && !strcmp(d->xdp_mode, "native");
	d->nic_tc = st && st->tc;
	d->xdp_links = st ? st->desc : NULL;
	d->n_xdp_links = n;
}

/* In a namespace the interface may have moved to: synacct's program
 * goes from there (nic_remove_prog). */
static int remove_moved(void *prog_id)
{
	return nic_remove_prog(*(__u32 *)prog_id);
}

/* Is @l's hook still synacct's?  Once not, it stays lost. */
static void nic_link_check(struct nic_link *l)
{
	int err;

	if (l->loss.how)
		return;
	err = nic_hook_check(l->ifindex, l->prog_id, &l->loss);
	if (err == -ENODEV) {
		err = sa_netns_each(remove_moved, &l->prog_id);
		l->loss.how = err > 0 ? SA_LOSS_IFACE_MOVED : SA_LOSS_IFACE_DELETED;
		snprintf(l->loss.reason, sizeof(l->loss.reason), "%s",
			 err > 0 ? "interface moved to another namespace; synacct's XDP "
			 "program removed there" : "interface deleted");
	} else if (err > 0) {
		l->loss.how = err;
	}
	/* Another error (memory, a netlink hiccup) says nothing lost. */
	if (!l->loss.how)
		return;
	l->loss.iface = l->ifname;
	l->loss.hook = "xdp";
}

static int nic_stage_health(void *priv, struct sa_stage_health *h)
{
	struct nic_stage *st = priv;

	/* tc mode: the filter is on the TC stage's hook, which watches it
	 * and reports its loss as hook tc_ingress_first. */
	for (int i = 0; i < st->n_links && !st->tc; i++) {
		nic_link_check(&st->links[i]);
		if (st->links[i].loss.how && h->n_lost < SA_MAX_LOST)
			h->lost[h->n_lost++] = st->links[i].loss;
	}
	h->attached = st->n_links > 0 && !h->n_lost;
	snprintf(h->detail, sizeof(h->detail), "%s mode on %d interface%s", nic_mode(st),
		 st->n_links, st->n_links == 1 ? "" : "s");
	return 0;
}

/* The counters' slot maps (include/bpf/count.h). */
static struct sa_slot_fds nic_fds(struct nic_stage *st)
{
	return sa_slot_fds(st->skel->maps.nic_counters_slot, st->skel->maps.nic_counters_port,
			   st->skel->maps.nic_counters, st->skel->maps.nic_counters_more);
}

static int nic_stage_read(void *priv, struct sa_snapshot *snap)
{
	struct nic_stage *st = priv;
	struct sa_slot_fds f = nic_fds(st);
	int err;

	err = sa_read_slot_maps(&f, SA_STAGE_NIC, snap);
	if (!err)
		err = sa_read_port_map(bpf_map__fd(st->skel->maps.counts_lost),
				       SA_STAGE_LOST, snap);
	if (err)
		return err;
	return sa_read_prog_counters(bpf_map__fd(st->skel->maps.prog_counters),
				     &snap->nic_unparsed, &snap->nic_update_failed);
}

static int nic_stage_read_port(void *priv, __u32 port, struct sa_port_stats *ps)
{
	struct nic_stage *st = priv;
	struct sa_slot_fds f = nic_fds(st);
	int err;

	err = sa_read_slot_entry(&f, SA_STAGE_NIC, port, ps);
	if (!err)
		err = sa_read_port_entry(bpf_map__fd(st->skel->maps.counts_lost),
					 SA_STAGE_LOST, port, ps);
	return err;
}

static int nic_stage_touched(void *priv, struct sa_portset *ports)
{
	struct nic_stage *st = priv;

	return sa_touched_take(bpf_map__fd(st->skel->maps.ports_touched), &st->touched, ports);
}

static int nic_stage_read_ports(void *priv, struct sa_snapshot *snap,
				const struct sa_snapshot *last, struct sa_portset *ports)
{
	struct nic_stage *st = priv;
	struct sa_slot_fds f = nic_fds(st);
	int err;

	(void)last;
	err = sa_read_slot_ports(&f, bpf_map__fd(st->skel->maps.counts_lost), SA_STAGE_NIC,
				 snap, ports);
	if (err)
		return err;
	return sa_read_prog_counters(bpf_map__fd(st->skel->maps.prog_counters),
				     &snap->nic_unparsed, &snap->nic_update_failed);
}

static int nic_stage_hooks(void *priv, const char **names, int max)
{
	const char *mode = nic_mode(priv);

	if (max >= 1)
		names[0] = !strcmp(mode, "tc") ? "tc_ingress_first" :
			   strcmp(mode, "skb") ? "xdp" : "xdp_skb";
	return 1;
}

static void nic_stage_close(void *priv)
{
	struct nic_stage *st = priv;

	if (!st)
		return;
	for (int i = st->pinned || st->tc ? -1 : st->n_links - 1; i >= 0; i--) {
		struct nic_link *l = &st->links[i];
		int err;

		/* What is there now is not synacct's to remove. */
		if (l->loss.how)
			continue;
		err = xdp_program__detach(st->prog, l->ifindex, l->mode, 0);
		/* An interface that vanished since the last check took its
		 * program with it. */
		if (err && err != -ENODEV)
			sa_err("cannot detach XDP program from %s: %s",
			       l->ifname, nic_xdp_strerror(err));
	}
	if (st->tc && st->skel &&
	    sa_registry_fd(SA_SHARE_NIC_TC_PROG) == bpf_program__fd(st->skel->progs.synacct_nic_tc))
		sa_registry_withdraw(SA_SHARE_NIC_TC_PROG);
	sa_touched_unmap(st->touched);
	xdp_program__close(st->prog);
	nic_bpf__destroy(st->skel);
	free(st);
}

enum { OPT_NO_XDP = 0x200, OPT_XDP_MODE };

static const struct argp_option nic_options[] = {
	{ "no-xdp", OPT_NO_XDP, NULL, 0, "No NIC stage: neither XDP nor its TC ingress count (nic_syn is then null)", 0 },
	{ "xdp-mode", OPT_XDP_MODE, "MODE", 0, "auto (default: generic XDP, which never reconfigures the device), tc (nic_syn counted at TC ingress, first filter), native (XDP; falls back to skb) or skb (generic XDP)", 0 },
	{ 0 }
};

static error_t nic_parse(int key, char *arg, struct argp_state *state)
{
	struct sa_stage_cfg *cfg = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		cfg->xdp = true;
		cfg->xdp_mode = SA_XDP_AUTO;
		break;
	case OPT_NO_XDP:
		cfg->xdp = false;
		break;
	case OPT_XDP_MODE:
		if (xdp_mode_parse(arg, &cfg->xdp_mode))
			argp_error(state, "invalid --xdp-mode '%s': auto, tc, native or skb", arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp nic_argp = { nic_options, nic_parse, NULL, NULL, NULL, NULL, NULL };

static bool nic_stage_enabled(const struct sa_stage_cfg *cfg)
{
	return cfg->xdp;
}

const struct sa_stage_ops sa_nic_stage = {
	.name = "xdp",
	.measures = 1u << SA_STAGE_NIC | 1u << SA_STAGE_LOST,
	.argp = &nic_argp,
	.enabled = nic_stage_enabled,
	.open = nic_stage_open,
	.attach = nic_stage_attach,
	.read = nic_stage_read,
	.read_port = nic_stage_read_port,
	.touched = nic_stage_touched,
	.read_ports = nic_stage_read_ports,
	.hooks = nic_stage_hooks,
	.health = nic_stage_health,
	.describe = nic_stage_describe,
	.remove_stale = nic_remove_stale,
	.detach_pinned = nic_detach_pinned,
	.close = nic_stage_close,
};
