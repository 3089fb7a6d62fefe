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
#include <linux/types.h>

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
/* Does pinned state of the current namespace (its cookie) name @ifname?
 * Its directory in @dir. */
bool sa_pin_holds(const char *ifname, char *dir, size_t len);
/* Before load: each map of @obj reuses the one pinned as
 * <dir>/<prefix>_<map> (its layout checked), or is pinned there by
 * sa_pin_maps_commit after load. */
int sa_pin_maps(struct bpf_object *obj, const char *dir, const char *prefix);
int sa_pin_maps_commit(struct bpf_object *obj);
/*
 * Pins in the directory sa_pin_prepare made ready (or `synacct detach`
 * works on), by name, never through a symbolic link (pin.c): the object
 * pinned as @name (a new fd; -ENOENT, -ELOOP for a link, -EINVAL for what
 * is not a pin); pin @fd as @name; whether @name is a pin; a pinned link.
 */
int sa_pin_get(const char *name);
int sa_pin_add(int fd, const char *name);
bool sa_pin_exists(const char *name);
struct bpf_link;
int sa_pin_link_open(const char *name, struct bpf_link **out);

/* For `synacct detach` (agent/cmd/detach.c): a pin directory opened without
 * following links (-ELOOP, -ENOTDIR: a link or no directory; -EXDEV: no
 * bpffs) and what its meta map says (-ENOENT: none; -ELOOP: a link;
 * -EPROTO: not synacct's), each problem as text; every pin in it and
 * then the directory removed (unpinning a link detaches its program);
 * the directory sa_pin_get, sa_pin_add and sa_pin_exists work on (-1:
 * none). */
struct sa_pin_meta {
	__u64 layout, cookie, format, inode;
};
int sa_pin_opendir(const char *dir);
int sa_pin_meta_read(int dirfd, struct sa_pin_meta *m);
const char *sa_pin_opendir_problem(int err);
const char *sa_pin_meta_problem(int err);
int sa_pin_remove(int dirfd, const char *dir);
void sa_pin_use_dir(int dirfd);

int sa_detach_main(int argc, char **argv);	/* `synacct detach`: agent/cmd/detach.c */

#endif /* SYNACCT_PIN_H */
