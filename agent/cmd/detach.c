// SPDX-License-Identifier: GPL-2.0
/*
 * detach.c - `synacct detach`: remove what a --pin synacct left attached
 * and pinned (pin.h) for a namespace and its interfaces, or by its
 * directory, also one whose namespace is gone.  Each stage removes its
 * own from the interfaces (the registry, stage.h); the pins go last.
 * Nothing is removed that its meta map does not prove synacct's, and
 * nothing while a live synacct holds the interface but with --force,
 * which stops it first.
 */
#define _GNU_SOURCE
#include <argp.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/stat.h>
#include "claim.h"
#include "log.h"
#include "netns.h"
#include "options.h"
#include "pin.h"
#include "stage.h"

struct detach_opts {
	struct sa_common_opts common;
	const char *ifaces[SA_MAX_IFACES];
	int n_ifaces;
	const char *pin_dir;		/* --pin-dir */
	bool force;			/* --force */
};

enum { OPT_PIN_DIR = 0x500, OPT_FORCE };

static const struct argp_option detach_options[] = {
	{ "iface", 'i', "IFACE", 0, "Interface the pinned synacct watched (repeat as it was given)", 0 },
	{ "pin-dir", OPT_PIN_DIR, "DIR", 0, "Or the directory itself, " SA_PIN_ROOT "/NETNS-INODE/IFACE[+IFACE...] (the namespace may be gone)", 0 },
	{ "force", OPT_FORCE, NULL, 0, "Also while a synacct watches the interface: stop it first (it says so on stderr and exits 1)", 0 },
	{ 0 }
};

/* --pin-dir: SA_PIN_ROOT/<inode>/<iface>[+<iface>...], split into @dir
 * (without a trailing slash), @ino and @ifaces (pointing into @names). */
static int parse_pin_dir(const char *arg, char *dir, size_t len, unsigned long long *ino,
			 char *names, size_t names_len, const char **ifaces, int *n)
{
	size_t l = strlen(arg), root = strlen(SA_PIN_ROOT "/");
	char *p, *end, *save, *name;

	while (l > 1 && arg[l - 1] == '/')
		l--;
	if (l >= len || strncmp(arg, SA_PIN_ROOT "/", root))
		return -EINVAL;
	snprintf(dir, len, "%.*s", (int)l, arg);
	p = dir + root;
	errno = 0;
	*ino = strtoull(p, &end, 10);
	/* One level of interfaces, no "." or ".." */
	if (*p < '0' || *p > '9' || errno || *end != '/' || end[1] == '.' || !end[1] ||
	    strchr(end + 1, '/') || strlen(end + 1) >= names_len)
		return -EINVAL;
	snprintf(names, names_len, "%s", end + 1);
	*n = 0;
	for (name = strtok_r(names, "+", &save); name; name = strtok_r(NULL, "+", &save)) {
		if (*n >= SA_MAX_IFACES || strlen(name) >= IF_NAMESIZE)
			return -EINVAL;
		ifaces[(*n)++] = name;
	}
	return *n ? 0 : -EINVAL;
}

static error_t detach_parse(int key, char *arg, struct argp_state *state)
{
	struct detach_opts *o = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &o->common;
		break;
	case 'i':
		sa_parse_iface(arg, state, o->ifaces, &o->n_ifaces);
		break;
	case OPT_PIN_DIR: {
		char dir[512], names[512];
		const char *ifaces[SA_MAX_IFACES];
		unsigned long long ino;
		int n;

		if (parse_pin_dir(arg, dir, sizeof(dir), &ino, names, sizeof(names), ifaces, &n))
			argp_error(state, "invalid --pin-dir '%s': expected " SA_PIN_ROOT
				   "/NETNS-INODE/IFACE[+IFACE...], as ls " SA_PIN_ROOT
				   "/* shows", arg);
		o->pin_dir = arg;
		break;
	}
	case OPT_FORCE:
		o->force = true;
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s'", arg);
		break;
	case ARGP_KEY_END:
		if (o->pin_dir && (o->n_ifaces || o->common.netns))
			argp_error(state, "--pin-dir names the namespace and the interfaces: "
				   "give it without --netns and --iface");
		if (!o->pin_dir && !o->n_ifaces)
			argp_error(state, "no interface given: use --iface IFACE (or --pin-dir DIR)");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}


/* `synacct detach --force` */
static bool detach_force;

/* No live synacct may hold @ifaces (their locks, agent/sys/claim.c): refuse
 * naming it, or with --force stop it first.  The locks stay taken until
 * exit, so no synacct starts on them meanwhile. */
static int detach_locks(const char *const *ifaces, int n)
{
	for (int i = 0; i < n; i++) {
		int ifindex = if_nametoindex(ifaces[i]), pid = 0, err;

		if (!ifindex)
			continue;
		err = sa_iface_lock(ifindex, &pid, false);
		if (err == -EBUSY && !detach_force) {
			sa_err("interface %s is watched by a running synacct (pid %d): stop "
			       "it first, or use 'synacct detach --force', which stops it",
			       ifaces[i], pid);
			return SA_EXIT_RUNTIME;
		}
		if (err == -EBUSY) {
			sa_info("stopping the synacct watching %s (pid %d): --force", ifaces[i],
				pid);
			err = sa_iface_lock(ifindex, &pid, true);
			if (err == -EBUSY) {
				sa_err("the synacct watching %s (pid %d) did not stop: not "
				       "detaching", ifaces[i], pid);
				return SA_EXIT_RUNTIME;
			}
		}
		if (err)
			sa_info("cannot lock interface %s (%s): not checked for a running "
				"synacct", ifaces[i], strerror(-err));
	}
	return SA_EXIT_OK;
}

/* What --pin left in @dir for @ifaces of the current namespace: the XDP
 * programs and TC filters on the interfaces, then every pin; only when
 * @dir is a directory (no link) whose meta map is synacct's, and with
 * @own, pinned in this namespace (its cookie). */
static int detach_dir(const char *dir, const char *const *ifaces, int n, bool own)
{
	int err, dirfd, ret = SA_EXIT_OK;
	unsigned long long now;
	struct sa_pin_meta m;

	dirfd = sa_pin_opendir(dir);
	if (dirfd < 0) {
		sa_err("cannot use %s: %s; not touching it", dir, sa_pin_opendir_problem(dirfd));
		return SA_EXIT_RUNTIME;
	}
	err = sa_pin_meta_read(dirfd, &m);
	if (err) {
		sa_err("%s holds no synacct state (%s): not removing it", dir, sa_pin_meta_problem(err));
		close(dirfd);
		return SA_EXIT_RUNTIME;
	}
	if (own && (sa_netns_cookie(&now) || now != m.cookie)) {
		/* Moved here from another namespace's inode (bpffs renames) */
		sa_err("%s was pinned in another network namespace (inode %llu, cookie "
		       "%llu), not this one: not removing it here; 'synacct detach "
		       "--pin-dir %s' finds that namespace, or knows it gone", dir,
		       (unsigned long long)m.inode, (unsigned long long)m.cookie, dir);
		close(dirfd);
		return SA_EXIT_RUNTIME;
	}
	ret = detach_locks(ifaces, n);
	if (ret) {
		close(dirfd);
		return ret;
	}
	sa_pin_use_dir(dirfd);
	for (int i = 0; i < n; i++) {
		int ifindex = if_nametoindex(ifaces[i]);

		/* A vanished interface took its XDP and TC programs along. */
		if (!ifindex)
			continue;
		if (sa_stages_detach_pinned(ifindex, ifaces[i]))
			ret = SA_EXIT_RUNTIME;
	}
	err = sa_pin_remove(dirfd, dir);
	if (err) {
		sa_err("cannot remove %s: %s", dir, strerror(-err));
		ret = SA_EXIT_RUNTIME;
	}
	sa_pin_use_dir(-1);
	close(dirfd);
	return ret;
}

/* A descriptor of the live network namespace whose inode is @ino, or -1:
 * one mounted somewhere this mount namespace sees (ip netns's
 * /run/netns/NAME, a container runtime's), or a process's. */
static int netns_by_inode(unsigned long long ino)
{
	char line[4096], want[64], path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	FILE *f;
	DIR *d;
	int fd = -1;

	snprintf(want, sizeof(want), "net:[%llu]", ino);
	f = fopen("/proc/self/mountinfo", "re");
	while (f && fd < 0 && fgets(line, sizeof(line), f)) {
		char root[64], mnt[PATH_MAX], *o = path;

		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT ...: an nsfs mount's
		 * root names the namespace. */
		if (sscanf(line, "%*s %*s %*s %63s %4095s", root, mnt) != 2 || strcmp(root, want))
			continue;
		for (const char *c = mnt; *c && o < path + sizeof(path) - 1; c++) {
			/* mountinfo escapes space, tab, newline, backslash */
			if (c[0] == '\\' && c[1] >= '0' && c[1] <= '3' && c[2] && c[3]) {
				*o++ = (char)((c[1] - '0') << 6 | (c[2] - '0') << 3 | (c[3] - '0'));
				c += 3;
			} else {
				*o++ = *c;
			}
		}
		*o = '\0';
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && (fstat(fd, &st) || st.st_ino != ino)) {
			close(fd);
			fd = -1;
		}
	}
	if (f)
		fclose(f);
	d = fd < 0 ? opendir("/proc") : NULL;
	while (d && fd < 0 && (de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/net", de->d_name);
		if (stat(path, &st) || st.st_ino != ino)
			continue;
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (d)
		closedir(d);
	return fd;
}

/* synacct detach --pin-dir DIR: in the namespace DIR was pinned in if it
 * still exists, as `synacct detach --netns`; if it is gone, it took its
 * interfaces and their XDP and TC programs along, and what is left is
 * the pins (the stack's links, still running, and the maps). */
static int detach_pin_dir(const char *arg)
{
	char dir[512], names[512];
	const char *ifaces[SA_MAX_IFACES];
	unsigned long long ino, now;
	struct sa_pin_meta m;
	bool alive = false;
	int n, fd, err;

	/* Checked by detach_parse. */
	parse_pin_dir(arg, dir, sizeof(dir), &ino, names, sizeof(names), ifaces, &n);
	fd = sa_pin_opendir(dir);
	if (fd == -ENOENT) {
		sa_err("nothing pinned in %s (no such directory)", dir);
		return SA_EXIT_RUNTIME;
	}
	if (fd < 0) {
		sa_err("cannot use %s: %s; not touching it", dir, sa_pin_opendir_problem(fd));
		return SA_EXIT_RUNTIME;
	}
	err = sa_pin_meta_read(fd, &m);
	close(fd);
	if (err) {
		sa_err("%s holds no synacct state (%s): not removing it", dir, sa_pin_meta_problem(err));
		return SA_EXIT_RUNTIME;
	}
	/* The namespace the meta names (format 0: the directory's). */
	fd = netns_by_inode(m.format ? m.inode : ino);
	if (fd >= 0) {
		if (setns(fd, CLONE_NEWNET)) {
			sa_err("cannot enter the network namespace of %s: %s", dir,
			       strerror(errno));
			close(fd);
			return SA_EXIT_RUNTIME;
		}
		close(fd);
		/* The namespace with that inode now may be a newer one:
		 * the cookie says. */
		alive = sa_netns_cookie(&now) || now == m.cookie;
	}
	return alive ? detach_dir(dir, ifaces, n, false) : detach_dir(dir, NULL, 0, false);
}

int sa_detach_main(int argc, char **argv)
{
	static const struct argp_child children[] = {
		{ &sa_detach_common_argp, 0, NULL, 0 }, { 0 }
	};
	static const struct argp argp = {
		detach_options, detach_parse, NULL,
		"Remove what `synacct --pin` left attached and pinned for a namespace "
		"and its interfaces: the XDP program, the TC filters, the stack's "
		"tracepoint links and the counters (under " SA_PIN_ROOT "/NETNS-INODE/"
		"IFACE[+IFACE...]).  --pin-dir names such a directory, also one whose "
		"namespace no longer exists (its stack links still run)."
		"\vExamples:\n"
		"  synacct detach --iface eth0\n"
		"  synacct detach --netns web1 --iface veth0 --force\n"
		"  synacct detach --pin-dir " SA_PIN_ROOT "/4026532511/eth0+eth1\n\n"
		"Exit status: 0 removed, 1 runtime failure (nothing pinned, a synacct "
		"running without --force), 2 usage error.",
		children, NULL, NULL
	};
	struct detach_opts o = { 0 };
	char dir[512];
	int err, fd;

	err = sa_parse_args(&argp, argc, argv, &o);
	if (!err)
		err = sa_check_privileges(&o.common, true, true, "synacct detach");
	if (err)
		return err;
	detach_force = o.force;
	if (o.pin_dir) {
		err = detach_pin_dir(o.pin_dir);
		sa_iface_release_all();
		return err;
	}
	err = sa_enter_netns(&o.common);
	if (err)
		return err;
	if (sa_pin_dir(dir, sizeof(dir), o.ifaces, o.n_ifaces)) {
		sa_err("interface names too long");
		return SA_EXIT_USAGE;
	}
	fd = sa_pin_opendir(dir);
	if (fd == -ENOENT) {
		sa_err("nothing pinned for %s in this namespace (no %s)", o.ifaces[0], dir);
		return SA_EXIT_RUNTIME;
	}
	if (fd >= 0)
		close(fd);
	err = detach_dir(dir, o.ifaces, o.n_ifaces, true);
	sa_iface_release_all();
	return err;
}
