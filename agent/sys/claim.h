/* SPDX-License-Identifier: GPL-2.0 */
/*
 * claim.h - one synacct per interface (agent/sys/claim.c): a lock held for the
 * run; under it, what a dead run left attached is removed.
 */
#ifndef SYNACCT_CLAIM_H
#define SYNACCT_CLAIM_H

#include <stdbool.h>
#include <linux/types.h>

/* Claim @ifindex before anything is attached to it: refuses (said on
 * stderr) a non-Ethernet interface (-EPROTONOSUPPORT) or one a live
 * synacct watches (-EBUSY). */
int sa_iface_claim(int ifindex, const char *ifname);
/* The clsact qdisc on @ifindex was created by the dead run replaced. */
bool sa_iface_clsact_inherited(int ifindex);
/* This run created the clsact qdisc on @ifindex: recorded for a next run. */
void sa_iface_note_clsact(int ifindex);
void sa_iface_release_all(void);
/* `synacct detach`: takes @ifindex's lock (released by
 * sa_iface_release_all) so no synacct starts meanwhile; -EBUSY with the
 * live holder's pid in *pid.  @stop (--force): SIGUSR1 to the holder
 * first, then up to 10 s for it to exit. */
int sa_iface_lock(int ifindex, int *pid, bool stop);

/* The PID of another process holding BPF program @prog_id, 0 if none:
 * such leftovers are not stale (-EBUSY, the holder in *holder). */
int sa_prog_holder(__u32 prog_id);

#endif /* SYNACCT_CLAIM_H */
