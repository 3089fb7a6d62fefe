/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pin.h - --pin: the programs and counters of one watched namespace and
 * interface set live in bpffs, under /sys/fs/bpf/synacct/<netns inode>/
 * <iface>[+<iface>...]/, so they outlive the agent: a synacct killed and
 * started again continues the same totals, and the programs count while
 * no agent runs.  The meta map holds the namespace's cookie: an inode is
 * reused once its namespace is gone, a cookie never.  `synacct detach`
 * removes them (--pin-dir: by directory, its namespace gone or not).
 */
#ifndef SYNACCT_PIN_H
#define SYNACCT_PIN_H

#include <stdbool.h>
#include <stddef.h>

#define SA_PIN_ROOT "/sys/fs/bpf/synacct"

struct bpf_object;

/* The directory of the current network namespace and @ifnames. */
int sa_pin_dir(char *buf, size_t len, const char *const *ifnames, int n);
/*
 * Make @dir ready: new (*reuse = false) or left by a compatible synacct
 * (*reuse = true).  State of an incompatible synacct is refused with an
 * error naming `synacct detach` (@netns, @ifnames for the command).  0, or
 * the exit status after the one-line error.
 */
int sa_pin_prepare(const char *dir, const char *netns, const char *const *ifnames,
		   int n, bool *reuse);
/* Was @dir pinned in the current network namespace (its cookie)? */
bool sa_pin_ours(const char *dir);
/* Before load: each map of @obj is pinned as <dir>/<prefix>_<map>, or
 * reuses the one pinned there (libbpf checks its layout). */
int sa_pin_maps(struct bpf_object *obj, const char *dir, const char *prefix);

int sa_detach_main(int argc, char **argv);	/* `synacct detach` */

#endif /* SYNACCT_PIN_H */
