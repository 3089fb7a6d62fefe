// SPDX-License-Identifier: GPL-2.0
/*
 * nic_hook.c - what is on an interface's XDP hook, and what synacct puts
 * there: another tool's program (never replaced), synacct's own left by a
 * killed run (removed under the interface's claim) or by a pinned one
 * (kept, or removed by `synacct detach`), and the mode a new attach gets.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include "claim.h"
#include "log.h"
#include "nic_hook.h"
#include "nic.skel.h"

/* libxdp_strerror: libxdp's own codes, libbpf's (LIBBPF_ERRNO__*, from
 * 4000, which strerror() calls "Unknown error 4001") and errno's. */
const char *nic_xdp_strerror(int err)
{
	static __thread char buf[2][128];
	static __thread unsigned int next;
	char *b = buf[next++ % 2];

	libxdp_strerror(err, b, 128);
	return b;
}

/* Name of the XDP program already on @ifindex (any mode), or 0 if none. */
__u32 nic_prog_present(int ifindex, char *name, size_t namelen)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), id;
	int fd;

	if (bpf_xdp_query(ifindex, 0, &q))
		return 0;
	id = q.prog_id ? q.prog_id :
	     q.drv_prog_id ? q.drv_prog_id :
	     q.skb_prog_id ? q.skb_prog_id : q.hw_prog_id;
	snprintf(name, namelen, "?");
	if (!id)
		return 0;
	fd = bpf_prog_get_fd_by_id(id);
	if (fd >= 0) {
		if (!bpf_obj_get_info_by_fd(fd, &info, &len))
			snprintf(name, namelen, "%s", info.name);
		close(fd);
	}
	return id;
}

/* The driver's name and whether it sits on a bus (PCI, USB, platform...):
 * software devices (veth, bridge, bond, vxlan, tun...) report no bus. */
static int iface_driver(const char *ifname, char *drv, size_t len, bool *on_bus)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr = {};
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&info;
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		err = -errno;
	close(fd);
	if (err)
		return err;
	snprintf(drv, len, "%.*s", (int)sizeof(info.driver), info.driver);
	*on_bus = info.bus_info[0] && strcmp(info.bus_info, "N/A");
	return 0;
}

/*
 * auto picks generic (skb) XDP everywhere; docs/design.md has the reasons.
 * On veth and other software devices native XDP reroutes every frame
 * through the driver's XDP path (veth: its own NAPI ring), which slows
 * bulk traffic and changes timing.  On NICs a native attach makes many
 * drivers rebuild their rings (ixgbe, i40e, mlx5, igc...): frames are lost
 * while they do.  --xdp-mode tc counts the NIC stage at TC ingress, first
 * among the filters, with no XDP at all (XDP_MODE_UNSPEC).
 */
enum xdp_attach_mode nic_choose_mode(const char *ifname, enum sa_xdp_mode req,
				     char *reason, size_t len)
{
	char drv[sizeof(((struct ethtool_drvinfo *)0)->driver) + 1] = "?";
	bool on_bus = false;

	if (req == SA_XDP_NATIVE) {
		snprintf(reason, len, "native requested (--xdp-mode native)");
		return XDP_MODE_NATIVE;
	}
	if (req == SA_XDP_SKB) {
		snprintf(reason, len, "skb requested (--xdp-mode skb)");
		return XDP_MODE_SKB;
	}
	if (req == SA_XDP_TC) {
		snprintf(reason, len, "tc requested (--xdp-mode tc)");
		return XDP_MODE_UNSPEC;
	}
	if (iface_driver(ifname, drv, sizeof(drv), &on_bus))
		snprintf(reason, len, "auto: driver unknown; generic XDP never "
			 "reconfigures the device");
	else if (!on_bus)
		snprintf(reason, len, "auto: %s is a software device; native XDP "
			 "would move every frame onto its XDP path and slow it",
			 drv);
	else
		snprintf(reason, len, "auto: NIC driver %s; a native attach can "
			 "make the driver rebuild its rings (frames lost); "
			 "--xdp-mode native to choose it", drv);
	return XDP_MODE_SKB;
}

/* synacct's XDP program on @ifindex, alone or in libxdp's dispatcher
 * (a pinned synacct's, still counting), or NULL; @mode its mode. */
struct xdp_program *nic_ours_attached(int ifindex, enum xdp_attach_mode *mode)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p, *found = NULL;

	if (libxdp_get_error(mp))
		return NULL;
	*mode = xdp_multiprog__attach_mode(mp);
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (p && !strcmp(xdp_program__name(p), "synacct_xdp"))
			found = xdp_program__from_id(xdp_program__id(p));
	}
	for (p = xdp_multiprog__next_prog(NULL, mp); p && !found;
	     p = xdp_multiprog__next_prog(p, mp))
		if (!strcmp(xdp_program__name(p), "synacct_xdp"))
			found = xdp_program__from_id(xdp_program__id(p));
	xdp_multiprog__close(mp);
	return libxdp_get_error(found) ? NULL : found;
}

/* `synacct detach`: synacct's program on @ifindex, in its mode. */
int nic_detach_pinned(int ifindex, const char *ifname)
{
	enum xdp_attach_mode mode;
	struct xdp_program *p = nic_ours_attached(ifindex, &mode);
	int err;

	if (!p)
		return 0;
	err = xdp_program__detach(p, ifindex, mode, 0);
	xdp_program__close(p);
	if (err)
		sa_err("cannot detach synacct's XDP program from %s: %s", ifname, nic_xdp_strerror(err));
	return err;
}

/* Whether @prog counts into @map_fd: a pinned synacct's program does;
 * one a synacct without --pin left (killed) has a map of its own. */
bool nic_prog_uses_map(struct xdp_program *prog, int map_fd)
{
	struct bpf_prog_info info = {};
	struct bpf_map_info minfo = {};
	/* As many maps as the skeleton's program has: one with more is
	 * not of this layout (the kernel says how many it has). */
	__u32 ids[sizeof(((struct nic_bpf *)0)->maps) / sizeof(struct bpf_map *)];
	__u32 len = sizeof(info), mlen = sizeof(minfo), n = sizeof(ids) / sizeof(ids[0]);

	if (bpf_obj_get_info_by_fd(map_fd, &minfo, &mlen))
		return false;
	info.nr_map_ids = n;
	info.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(xdp_program__fd(prog), &info, &len))
		return false;
	for (__u32 i = 0; i < info.nr_map_ids && i < n; i++)
		if (ids[i] == minfo.id)
			return true;
	return false;
}

/* A synacct that could not detach (SIGKILL) left its program on
 * @ifindex: remove it, in each mode it is attached in.  The caller holds
 * the interface's claim (agent/sys/claim.c), so no live synacct owns it.  The
 * replace flag with the old program makes the kernel detach exactly the
 * program looked at, never one attached meanwhile. */
int nic_remove_stale(int ifindex, char *what, size_t what_len, int *holder)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	static const __u32 modes[] = { XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE };
	int err;

	err = bpf_xdp_query(ifindex, 0, &q);
	if (err)
		return err == -ENODEV ? 0 : err;
	for (int i = 0; i < 2; i++) {
		__u32 id = i == 0 ? q.drv_prog_id : q.skb_prog_id;
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd;

		if (!id)
			continue;
		fd = bpf_prog_get_fd_by_id(id);
		if (fd < 0)
			continue;	/* gone meanwhile */
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
		    !strcmp(info.name, "synacct_xdp")) {
			LIBBPF_OPTS(bpf_xdp_attach_opts, ao, .old_prog_fd = fd);

			*holder = sa_prog_holder(id);
			err = *holder ? -EBUSY : bpf_xdp_detach(ifindex, modes[i], &ao);
			if (!err)
				snprintf(what, what_len, "XDP program id %u", id);
		}
		close(fd);
		if (err)
			return err;
	}
	return 0;
}

/* The name of program @id ("?" if it is gone meanwhile). */
static void prog_name(__u32 id, char *name, size_t len)
{
	struct bpf_prog_info info = {};
	__u32 ilen = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);

	snprintf(name, len, "?");
	if (fd < 0)
		return;
	if (!bpf_obj_get_info_by_fd(fd, &info, &ilen))
		snprintf(name, len, "%s", info.name);
	close(fd);
}

/* Is synacct's program among the components of libxdp's dispatcher on
 * @ifindex?  Else the first component replaced it (0: none). */
static bool in_dispatcher(int ifindex, __u32 prog_id, __u32 *first)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p;
	bool found = false;

	*first = 0;
	if (libxdp_get_error(mp))
		return false;
	for (p = xdp_multiprog__next_prog(NULL, mp); p && !found;
	     p = xdp_multiprog__next_prog(p, mp)) {
		/* libxdp may load its own copy of a component: the name
		 * tells, and the claim keeps other synaccts off this hook. */
		found = xdp_program__id(p) == prog_id ||
			!strcmp(xdp_program__name(p), "synacct_xdp");
		if (!*first)
			*first = xdp_program__id(p);
	}
	xdp_multiprog__close(mp);
	return found;
}

int nic_hook_check(int ifindex, __u32 prog_id, struct sa_hook_loss *l)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	char name[BPF_OBJ_NAME_LEN] = "";
	__u32 ids[3], other = 0;
	int err;

	err = bpf_xdp_query(ifindex, 0, &q);
	if (err)
		return err;
	/* libbpf answers for an interface it cannot find as for one with
	 * no program.  The kernel unlists a device before it takes its
	 * program off: listed after the query, it was there during it. */
	if (!if_indextoname(ifindex, name))
		return -ENODEV;
	ids[0] = q.drv_prog_id;
	ids[1] = q.skb_prog_id;
	ids[2] = q.hw_prog_id;
	for (int i = 0; i < 3; i++) {
		if (ids[i] == prog_id)
			return 0;
		if (!ids[i] || other)
			continue;
		other = ids[i];
		prog_name(other, name, sizeof(name));
		if (!strcmp(name, "xdp_dispatcher")) {
			__u32 first;

			if (in_dispatcher(ifindex, prog_id, &first))
				return 0;
			if (first) {
				other = first;
				prog_name(other, name, sizeof(name));
			}
		}
	}
	l->replaced_by = other;
	snprintf(l->replaced_name, sizeof(l->replaced_name), "%s", other ? name : "");
	if (!other) {
		snprintf(l->reason, sizeof(l->reason), "XDP program removed from the interface");
		return SA_LOSS_REMOVED;
	}
	snprintf(l->reason, sizeof(l->reason), "XDP program replaced by program id %u (%s)",
		 other, name);
	return SA_LOSS_REPLACED;
}

int nic_remove_prog(__u32 prog_id)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	int fd, ret = 0;

	if (!ifs)
		return -errno;
	fd = bpf_prog_get_fd_by_id(prog_id);
	for (i = ifs; fd >= 0 && i->if_index && !ret; i++) {
		LIBBPF_OPTS(bpf_xdp_query_opts, q);
		/* The kernel detaches exactly this program, never one
		 * attached meanwhile. */
		LIBBPF_OPTS(bpf_xdp_attach_opts, ao, .old_prog_fd = fd);

		if (bpf_xdp_query(i->if_index, 0, &q))
			continue;
		if (q.skb_prog_id == prog_id)
			ret = bpf_xdp_detach(i->if_index, XDP_FLAGS_SKB_MODE, &ao) ?: 1;
		else if (q.drv_prog_id == prog_id)
			ret = bpf_xdp_detach(i->if_index, XDP_FLAGS_DRV_MODE, &ao) ?: 1;
	}
	if (fd >= 0)
		close(fd);
	if_freenameindex(ifs);
	return ret;
}
