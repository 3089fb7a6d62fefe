// SPDX-License-Identifier: GPL-2.0
/*
 * pin.c - --pin: state in bpffs that outlives the agent (pin.h), and
 * what `synacct detach` (detach.c) removes it with.
 *
 * Each stage pins its maps (<stage>_<map>) and what attaches by fd (the
 * stack's tracepoint links, link_<program>); XDP (netlink, via libxdp)
 * and TC filters stay attached by themselves.  A "meta" map holds a hash
 * of the counter layout, so a synacct with other maps never reads them,
 * and the namespace's cookie: the directory is named by the namespace's
 * inode, which the kernel gives to a new namespace once the old one is
 * gone, while the stack's links go on counting the old one's (they
 * filter on its cookie, which is never reused).
 *
 * Nothing under the pin root follows a link (#21).  bpffs has symlinks
 * and renames: a link planted as /sys/fs/bpf/synacct/<inode> would make
 * a path walk read, and remove, another tool's pins.  So every directory
 * is opened component by component from /sys/fs/bpf with O_DIRECTORY |
 * O_NOFOLLOW, entries are listed, stat'ed and removed relative to that
 * descriptor (fstatat/unlinkat, AT_SYMLINK_NOFOLLOW), and bpf(2), which
 * takes only a path, is given one that cannot be redirected:
 *  - BPF_OBJ_GET: the pin is opened O_PATH | O_NOFOLLOW (a regular bpffs
 *    file, or refused), and the kernel is handed /proc/self/fd/N, a magic
 *    link to exactly that inode.  BPF_OBJ_GET with BPF_F_PATH_FD (Linux
 *    6.5+, not on 6.1) would not do: the kernel looks the name up with
 *    LOOKUP_FOLLOW (kernel/bpf/inode.c bpf_obj_do_get), following a link
 *    in the last component, and a check before it leaves a race.
 *  - BPF_OBJ_PIN: /proc/self/fd/DIRFD/NAME: the directory is the one
 *    opened, and the kernel never follows the name it creates (an
 *    existing link is EEXIST).
 * libbpf's own pinning (bpf_map__set_pin_path) walks paths: maps are
 * reused and pinned here instead (sa_pin_maps, sa_pin_maps_commit).
 *
 * State is synacct's when its meta map says so (name synacct_meta, its
 * shape, the format); it is removed by a --pin start only when its
 * namespace is provably gone: the meta records the namespace's inode and
 * cookie, and the live namespace with that inode (this one) has another
 * cookie.  Live namespaces never share an inode, so the recorded one is
 * dead; a directory renamed under another inode is refused instead.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "counters.h"
#include "log.h"
#include "netns.h"
#include "pin.h"

extern const char *argp_program_version;

int sa_pin_dir(char *buf, size_t len, const char *const *ifnames, int n)
{
	struct stat st;
	size_t used;

	if (stat("/proc/self/ns/net", &st))
		return -errno;
	used = snprintf(buf, len, SA_PIN_ROOT "/%llu/", (unsigned long long)st.st_ino);
	for (int i = 0; i < n && used < len; i++)
		used += snprintf(buf + used, len - used, "%s%s", i ? "+" : "", ifnames[i]);
	return used < len ? 0 : -ENAMETOOLONG;
}

/* FNV-1a over what the maps' layout depends on. */
static __u64 layout_hash(void)
{
	__u64 h = 1469598103934665603ULL;
	char buf[256];

#define MIX(s) for (const char *p = (s); *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ULL
	MIX(argp_program_version);
	MIX("meta: layout, netns cookie, format 1, netns inode");
	for (int i = 0; i < SA_C_MAX; i++) {
		MIX(sa_counters[i].name);
		MIX(sa_stage_names[sa_counters[i].stage]);
	}
	snprintf(buf, sizeof(buf), "%zu/%zu/%zu/%zu/%zu/%d/%d",
		 sizeof(struct sa_nic_counters), sizeof(struct sa_tc_counters),
		 sizeof(struct sa_stack_counters), sizeof(struct sa_drop_key),
		 sizeof(struct sa_prog_counters), SA_MAX_PORTS, SA_MAX_IFACES);
	MIX(buf);
#undef MIX
	return h;
}

/* ---- the pin root, without following links ---- */

/* The descriptor of the current --pin directory (sa_pin_prepare) or of
 * the one `synacct detach` works on; -1: none. */
static int cur_dirfd = -1;

/*
 * Opens @dir (SA_PIN_ROOT/...) one component at a time from /sys/fs/bpf,
 * O_DIRECTORY | O_NOFOLLOW each, creating the missing ones (0700) with
 * @create.  -ELOOP: a component is a symbolic link; -ENOTDIR: not a
 * directory; -EXDEV: /sys/fs/bpf is not bpffs; -EINVAL: not under the
 * root.
 */
static int pin_opendir(const char *dir, bool create)
{
	const char *root = "/sys/fs/bpf/";
	char buf[512], *name, *save;
	struct statfs fs;
	int fd, next;

	if (strncmp(dir, root, strlen(root)) || strlen(dir) >= sizeof(buf))
		return -EINVAL;
	fd = open("/sys/fs/bpf", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstatfs(fd, &fs) || fs.f_type != BPF_FS_MAGIC) {
		close(fd);
		return -EXDEV;
	}
	snprintf(buf, sizeof(buf), "%s", dir + strlen(root));
	for (name = strtok_r(buf, "/", &save); name; name = strtok_r(NULL, "/", &save)) {
		if (!strcmp(name, ".") || !strcmp(name, "..")) {
			close(fd);
			return -EINVAL;
		}
		if (create && mkdirat(fd, name, 0700) && errno != EEXIST) {
			next = -errno;
			close(fd);
			return next;
		}
		next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0) {
			struct stat st;

			next = -errno;
			/* O_NOFOLLOW | O_DIRECTORY on a link: ENOTDIR or ELOOP */
			if (!fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) && S_ISLNK(st.st_mode))
				next = -ELOOP;
			close(fd);
			return next;
		}
		close(fd);
		fd = next;
	}
	return fd;
}

/* A path for bpf(2) that reaches pin @name in @dirfd and nothing else:
 * /proc/self/fd/N of an O_PATH | O_NOFOLLOW descriptor, returned (the
 * caller closes it).  -ENOENT; -ELOOP: a link; -EINVAL: not a pin. */
static int pin_path(int dirfd, const char *name, char *path, size_t len)
{
	struct stat st = {};
	int fd;

	fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		bool link = S_ISLNK(st.st_mode);

		close(fd);
		return link ? -ELOOP : -EINVAL;
	}
	snprintf(path, len, "/proc/self/fd/%d", fd);
	return fd;
}

static int pin_get_at(int dirfd, const char *name)
{
	char path[64];
	int pfd, fd;

	pfd = pin_path(dirfd, name, path, sizeof(path));
	if (pfd < 0)
		return pfd;
	fd = bpf_obj_get(path);
	if (fd < 0)
		fd = -errno;
	close(pfd);
	return fd;
}

static int pin_add_at(int fd, int dirfd, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dirfd, name);
	return bpf_obj_pin(fd, path) ? -errno : 0;
}

int sa_pin_get(const char *name)
{
	return cur_dirfd < 0 ? -EBADF : pin_get_at(cur_dirfd, name);
}

int sa_pin_add(int fd, const char *name)
{
	return cur_dirfd < 0 ? -EBADF : pin_add_at(fd, cur_dirfd, name);
}

bool sa_pin_exists(const char *name)
{
	struct stat st;

	return cur_dirfd >= 0 && !fstatat(cur_dirfd, name, &st, AT_SYMLINK_NOFOLLOW) &&
	       S_ISREG(st.st_mode);
}

int sa_pin_link_open(const char *name, struct bpf_link **out)
{
	char path[64];
	struct bpf_link *link;
	int pfd, err = 0;

	*out = NULL;
	pfd = cur_dirfd < 0 ? -EBADF : pin_path(cur_dirfd, name, path, sizeof(path));
	if (pfd < 0)
		return pfd;
	link = bpf_link__open(path);
	err = libbpf_get_error(link);
	if (!err)
		*out = link;
	close(pfd);
	return err;
}

int sa_pin_opendir(const char *dir)
{
	return pin_opendir(dir, false);
}

void sa_pin_use_dir(int dirfd)
{
	cur_dirfd = dirfd;
}

static void detach_hint(char *buf, size_t len, const char *netns,
			const char *const *ifnames, int n)
{
	size_t used = snprintf(buf, len, "synacct detach%s%s", netns ? " --netns " : "",
			       netns ? netns : "");

	for (int i = 0; i < n && used < len; i++)
		used += snprintf(buf + used, len - used, " --iface %s", ifnames[i]);
}

/* `synacct detach ...` for this namespace and these interfaces. */
static char hint[256];

/* The meta map's entries: the layout hash, the namespace's cookie, the
 * format of the state (SA_PIN_FORMAT), the namespace's inode. */
enum { META_LAYOUT, META_NETNS_COOKIE, META_FORMAT, META_NETNS_INODE, META_MAX };
#define SA_PIN_FORMAT 1
#define META_NAME "synacct_meta"

/* What @dirfd's meta map says.  -ENOENT: no meta; -ELOOP: a link;
 * -EPROTO: a meta that is not synacct's (name, type, shape). */
int sa_pin_meta_read(int dirfd, struct sa_pin_meta *m)
{
	struct bpf_map_info info = {};
	__u64 *v[META_MAX] = { &m->layout, &m->cookie, &m->format, &m->inode };
	__u32 len = sizeof(info);
	int fd, err = 0;

	memset(m, 0, sizeof(*m));
	fd = pin_get_at(dirfd, "meta");
	if (fd < 0)
		return fd == -EINVAL ? -EPROTO : fd;
	/* Format 0 (before #21) had the first two entries. */
	if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.type != BPF_MAP_TYPE_ARRAY ||
	    info.key_size != sizeof(__u32) || info.value_size != sizeof(__u64) ||
	    info.max_entries < 2 || info.max_entries > META_MAX || strcmp(info.name, META_NAME))
		err = -EPROTO;
	for (__u32 key = 0; !err && key < info.max_entries; key++)
		if (bpf_map_lookup_elem(fd, &key, v[key]))
			err = -EPROTO;
	close(fd);
	return err;
}

const char *sa_pin_meta_problem(int err)
{
	return err == -ENOENT ? "no meta" : err == -ELOOP ? "its meta is a symbolic link" :
	       err == -EPROTO ? "its meta is not synacct's" : strerror(-err);
}

const char *sa_pin_opendir_problem(int err)
{
	return err == -ELOOP || err == -ENOTDIR ?
		"a symbolic link or not a directory: synacct follows no link under " SA_PIN_ROOT :
		err == -EXDEV ? "/sys/fs/bpf is not bpffs" : strerror(-err);
}

bool sa_pin_ours(const char *dir)
{
	unsigned long long now;
	struct sa_pin_meta m;
	int fd = pin_opendir(dir, false);
	bool ours;

	if (fd < 0)
		return false;
	ours = !sa_pin_meta_read(fd, &m) && !sa_netns_cookie(&now) && m.cookie == now;
	close(fd);
	return ours;
}

int sa_pin_prepare(const char *dir, const char *netns, const char *const *ifnames,
		   int n, bool *reuse)
{
	__u64 want = layout_hash();
	unsigned long long cookie;
	struct statfs fs;
	struct stat ns;
	struct sa_pin_meta m;
	__u32 key;
	int fd, dirfd, err;

	detach_hint(hint, sizeof(hint), netns, ifnames, n);
	if (statfs("/sys/fs/bpf", &fs) || fs.f_type != BPF_FS_MAGIC) {
		sa_err("--pin needs bpffs on /sys/fs/bpf: mount -t bpf bpf /sys/fs/bpf");
		return SA_EXIT_RUNTIME;
	}
	err = sa_netns_cookie(&cookie);
	if (!err && stat("/proc/self/ns/net", &ns))
		err = -errno;
	if (err) {
		sa_err("cannot read the network namespace's cookie (Linux 5.14+): %s",
		       strerror(-err));
		return SA_EXIT_RUNTIME;
	}
	dirfd = pin_opendir(dir, false);
	if (dirfd < 0 && dirfd != -ENOENT) {
		sa_err("cannot use %s: %s; synacct made no such thing there: remove it, "
		       "then start again", dir, sa_pin_opendir_problem(dirfd));
		return SA_EXIT_RUNTIME;
	}
	if (dirfd >= 0) {
		err = sa_pin_meta_read(dirfd, &m);
		if (err == -ENOENT || err == -ELOOP || err == -EPROTO) {
			/* Not synacct's: neither a start nor `synacct detach`
			 * removes it. */
			sa_err("%s holds no synacct state (%s): synacct removes only what it "
			       "pinned; move it away, then start again", dir,
			       sa_pin_meta_problem(err));
			close(dirfd);
			return SA_EXIT_RUNTIME;
		}
		if (err || m.layout != want) {
			sa_err("%s was pinned by an incompatible synacct (layout %llx, this one "
			       "%llx): remove it with '%s', then start again", dir,
			       (unsigned long long)m.layout, (unsigned long long)want, hint);
			close(dirfd);
			return SA_EXIT_RUNTIME;
		}
		if (m.cookie == cookie) {
			cur_dirfd = dirfd;
			*reuse = true;
			return 0;
		}
		if (m.inode != ns.st_ino) {
			/* Moved here (bpffs renames): whose it is, and whether
			 * that namespace lives, nothing here proves. */
			sa_err("%s holds the state of another network namespace (inode %llu, "
			       "cookie %llu; this one is inode %llu): not removing it; "
			       "'synacct detach --pin-dir %s' removes it, then start again",
			       dir, (unsigned long long)m.inode, (unsigned long long)m.cookie,
			       (unsigned long long)ns.st_ino, dir);
			close(dirfd);
			return SA_EXIT_RUNTIME;
		}
		/* The namespace that pinned this had this one's inode: live
		 * namespaces never share one, so it is gone, and its state
		 * counts nothing of this one. */
		sa_info("%s was pinned in a network namespace that no longer exists "
		       "(cookie %llu; this one, which has its inode now, is %llu): "
		       "removing its programs and counters, counting afresh", dir,
		       (unsigned long long)m.cookie, cookie);
		err = sa_pin_remove(dirfd, dir);
		close(dirfd);
		if (err) {
			sa_err("cannot remove %s: %s", dir, strerror(-err));
			return SA_EXIT_RUNTIME;
		}
	}
	dirfd = pin_opendir(dir, true);
	if (dirfd < 0) {
		sa_err("cannot make %s: %s", dir, sa_pin_opendir_problem(dirfd));
		return SA_EXIT_RUNTIME;
	}
	m = (struct sa_pin_meta){ want, cookie, SA_PIN_FORMAT, ns.st_ino };
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, META_NAME, sizeof(__u32), sizeof(__u64),
			    META_MAX, NULL);
	err = fd < 0 ? -errno : 0;
	for (key = 0; !err && key < META_MAX; key++) {
		__u64 v[META_MAX] = { m.layout, m.cookie, m.format, m.inode };

		if (bpf_map_update_elem(fd, &key, &v[key], 0))
			err = -errno;
	}
	if (!err)
		err = pin_add_at(fd, dirfd, "meta");
	if (fd >= 0)
		close(fd);
	if (err) {
		sa_err("cannot pin synacct's state in %s: %s", dir, strerror(-err));
		close(dirfd);
		return SA_EXIT_RUNTIME;
	}
	cur_dirfd = dirfd;
	*reuse = false;
	return 0;
}

bool sa_pin_holds(const char *ifname, char *dir, size_t len)
{
	const char *one[1] = { ifname };
	char base[512], *slash;
	struct dirent *de;
	bool found = false;
	DIR *d;
	int fd;

	/* SA_PIN_ROOT/<inode>/ of this namespace */
	if (sa_pin_dir(base, sizeof(base), one, 1) || !(slash = strrchr(base, '/')))
		return false;
	*slash = '\0';
	fd = pin_opendir(base, false);
	if (fd < 0)
		return false;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return false;
	}
	while (!found && (de = readdir(d))) {
		char *save, *name, set[NAME_MAX + 1];

		snprintf(set, sizeof(set), "%s", de->d_name);
		for (name = strtok_r(set, "+", &save); name && !found;
		     name = strtok_r(NULL, "+", &save))
			found = !strcmp(name, ifname);
		if (found) {
			snprintf(dir, len, "%s/%s", base, de->d_name);
			found = sa_pin_ours(dir);
		}
	}
	closedir(d);
	return found;
}

/* Maps sa_pin_maps left to pin after load (libbpf's pin paths walk
 * paths, so synacct reuses and pins them itself). */
static struct to_pin {
	struct bpf_map *map;
	char name[64];
} *to_pin;
static int n_to_pin, cap_to_pin;

int sa_pin_maps(struct bpf_object *obj, const char *dir, const char *prefix)
{
	struct bpf_map *map;
	char name[64];
	int err;

	bpf_object__for_each_map(map, obj) {
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);
		int fd;

		/* .rodata, .bss: each load's own; the programs keep theirs.
		 * A map shared with another stage's object (fd set before
		 * load) is pinned by that stage. */
		if (bpf_map__is_internal(map) || bpf_map__fd(map) >= 0)
			continue;
		snprintf(name, sizeof(name), "%s_%s", prefix, bpf_map__name(map));
		fd = sa_pin_get(name);
		if (fd == -ENOENT) {
			if (n_to_pin == cap_to_pin) {
				int cap = cap_to_pin ? 2 * cap_to_pin : 32;
				struct to_pin *grown = realloc(to_pin, cap * sizeof(*grown));

				if (!grown)
					return -ENOMEM;
				to_pin = grown;
				cap_to_pin = cap;
			}
			to_pin[n_to_pin].map = map;
			snprintf(to_pin[n_to_pin++].name, sizeof(to_pin[0].name), "%s", name);
			continue;
		}
		if (fd < 0) {
			sa_err("%s/%s is not a pinned map of synacct's (%s): remove it with "
			       "'%s', then start again", dir, name,
			       fd == -ELOOP ? "a symbolic link" : strerror(-fd), hint);
			return -EINVAL;
		}
		/* A map of another layout (an older or newer synacct): refuse
		 * it with the way out, rather than use it. */
		err = bpf_obj_get_info_by_fd(fd, &info, &len);
		if (err || info.type != bpf_map__type(map) ||
		    info.key_size != bpf_map__key_size(map) ||
		    info.value_size != bpf_map__value_size(map) ||
		    info.max_entries != bpf_map__max_entries(map) ||
		    info.map_flags != bpf_map__map_flags(map)) {
			close(fd);
			sa_err("%s was pinned by an incompatible synacct (another "
			       "layout of map %s): remove it with '%s', then start "
			       "again", dir, bpf_map__name(map), hint);
			return -EINVAL;
		}
		err = bpf_map__reuse_fd(map, fd);
		close(fd);
		if (err)
			return err;
	}
	return 0;
}

int sa_pin_maps_commit(struct bpf_object *obj)
{
	int err = 0;

	for (int i = 0; i < n_to_pin && !err; i++) {
		struct bpf_map *map = to_pin[i].map;
		bool mine = false;
		struct bpf_map *m;

		bpf_object__for_each_map(m, obj)
			mine = mine || m == map;
		if (!mine)
			continue;
		/* Not created (bpf_map__set_autocreate false): nothing to pin */
		if (bpf_map__fd(map) >= 0)
			err = sa_pin_add(bpf_map__fd(map), to_pin[i].name);
		to_pin[i].map = NULL;
	}
	return err;
}

/* Remove every entry of @dirfd (a link is removed itself, never
 * followed), then @dir and its parents below the root while they are
 * empty, each unlinkat from its parent opened without following links.
 * Unpinning a link detaches its program. */
int sa_pin_remove(int dirfd, const char *dir)
{
	char path[512], *slash;
	struct dirent *de;
	int fd = dup(dirfd), err = 0;
	DIR *d = fd < 0 ? NULL : fdopendir(fd);

	if (!d) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		return err;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (unlinkat(dirfd, de->d_name, 0) && !err)
			err = -errno;
	}
	closedir(d);
	snprintf(path, sizeof(path), "%s", dir);
	while (!err && (slash = strrchr(path, '/')) && slash >= path + strlen(SA_PIN_ROOT)) {
		bool last = !strcmp(path, dir);
		int parent;

		*slash = '\0';
		parent = pin_opendir(path, false);
		if (parent < 0 || unlinkat(parent, slash + 1, AT_REMOVEDIR)) {
			/* @dir itself must go; its parent only if empty */
			if (last)
				err = parent < 0 ? parent : -errno;
			if (parent >= 0)
				close(parent);
			break;
		}
		close(parent);
	}
	return err;
}
