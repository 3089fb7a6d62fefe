/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nic_hook.h - an interface's XDP hook as the NIC stage's loader (xdp/nic.c)
 * sees it (xdp/nic_hook.c).
 */
#ifndef SYNACCT_NIC_HOOK_H
#define SYNACCT_NIC_HOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include <xdp/libxdp.h>
#include "stage.h"

/* libxdp's, libbpf's and errno's codes as text. */
const char *nic_xdp_strerror(int err);
/* The XDP program on @ifindex (any mode) and its @name; 0 if none. */
__u32 nic_prog_present(int ifindex, char *name, size_t namelen);
/* The mode for @ifname under --xdp-mode @req, and why in @reason;
 * XDP_MODE_UNSPEC: no XDP, the NIC stage counts at TC ingress (tc). */
enum xdp_attach_mode nic_choose_mode(const char *ifname, enum sa_xdp_mode req,
				     char *reason, size_t len);
/* synacct's program on @ifindex (a pinned synacct's), or NULL. */
struct xdp_program *nic_ours_attached(int ifindex, enum xdp_attach_mode *mode);
/* Whether @prog counts into @map_fd. */
bool nic_prog_uses_map(struct xdp_program *prog, int map_fd);
/* The stage's remove_stale and detach_pinned (stage.h). */
int nic_remove_stale(int ifindex, char *what, size_t what_len, int *holder);
int nic_detach_pinned(int ifindex, const char *ifname);
/* Is @prog_id, synacct's, still on @ifindex's XDP hook (alone or among
 * libxdp's dispatcher's components)?  0 if so; else SA_LOSS_REMOVED or
 * SA_LOSS_REPLACED, with what is there now in @l; -ENODEV: no such
 * interface here. */
int nic_hook_check(int ifindex, __u32 prog_id, struct sa_hook_loss *l);
/* In the current namespace: detach @prog_id from whichever interface
 * carries it; 1 if one did, 0 if none, -errno. */
int nic_remove_prog(__u32 prog_id);

#endif /* SYNACCT_NIC_HOOK_H */
