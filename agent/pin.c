// SPDX-License-Identifier: GPL-2.0
/*
 * pin.c - --pin and `synacct detach`: state in bpffs that outlives the
 * agent (pin.h).
 *
 * Each stage pins its maps (<stage>_<map>) and what attaches by fd (the
 * stack's tracepoint links, link_<program>); XDP (netlink, via libxdp)
 * and TC filters stay attached by themselves.  A "meta" map holds a hash
 * of the counter layout, so a synacct with other maps never reads them,
 * and the namespace's cookie: the directory is named by the namespace's
 * inode, which the kernel gives to a new namespace once the old one is
 * gone, while the stack's links go on counting the old one's (they
 * filter on its cookie, which is never reused).
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
#include <sys/vfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "counters.h"
#include "log.h"
#include "netns.h"
#include "options.h"
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
	MIX("meta: layout, netns cookie");
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

static int mkdir_p(const char *path)
{
	char tmp[512];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return mkdir(tmp, 0700) && errno != EEXIST ? -errno : 0;
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

/* The meta map's entries. */
enum { META_LAYOUT, META_NETNS_COOKIE, META_MAX };

/* -ENOENT: no meta; -EPROTO: not the meta this synacct writes. */
static int meta_read(const char *dir, __u64 *layout, __u64 *cookie)
{
	char path[512];
	__u32 key;
	int fd, err;

	snprintf(path, sizeof(path), "%s/meta", dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	key = META_LAYOUT;
	err = bpf_map_lookup_elem(fd, &key, layout);
	key = META_NETNS_COOKIE;
	if (!err)
		err = bpf_map_lookup_elem(fd, &key, cookie);
	close(fd);
	return err ? -EPROTO : 0;
}

bool sa_pin_ours(const char *dir)
{
	unsigned long long now;
	__u64 layout, cookie;

	return !meta_read(dir, &layout, &cookie) && !sa_netns_cookie(&now) &&
	       cookie == now;
}

static int remove_pins(const char *dir);

int sa_pin_prepare(const char *dir, const char *netns, const char *const *ifnames,
		   int n, bool *reuse)
{
	char path[512];
	__u64 want = layout_hash(), have = 0, owner = 0;
	unsigned long long cookie;
	struct statfs fs;
	__u32 key;
	int fd, err;

	detach_hint(hint, sizeof(hint), netns, ifnames, n);
	if (statfs("/sys/fs/bpf", &fs) || fs.f_type != BPF_FS_MAGIC) {
		sa_err("--pin needs bpffs on /sys/fs/bpf: mount -t bpf bpf /sys/fs/bpf");
		return SA_EXIT_RUNTIME;
	}
	err = sa_netns_cookie(&cookie);
	if (err) {
		sa_err("cannot read the network namespace's cookie (Linux 5.14+): %s",
		       strerror(-err));
		return SA_EXIT_RUNTIME;
	}
	snprintf(path, sizeof(path), "%s/meta", dir);
	err = meta_read(dir, &have, &owner);
	if (err != -ENOENT && (err || have != want)) {
		sa_err("%s was pinned by an incompatible synacct (layout %llx, this one "
		       "%llx): remove it with '%s', then start again", dir,
		       (unsigned long long)have, (unsigned long long)want, hint);
		return SA_EXIT_RUNTIME;
	}
	if (!err && owner == cookie) {
		*reuse = true;
		return 0;
	}
	if (!err) {
		/* Live namespaces have distinct inodes: the one that pinned
		 * this is gone, and its state counts nothing of this one. */
		sa_info("%s was pinned in a network namespace that no longer exists "
		       "(cookie %llu; this one, which has its inode now, is %llu): "
		       "removing its programs and counters, counting afresh", dir,
		       (unsigned long long)owner, cookie);
		err = remove_pins(dir);
		if (err) {
			sa_err("cannot remove %s: %s", dir, strerror(-err));
			return SA_EXIT_RUNTIME;
		}
	}
	if (!access(dir, F_OK)) {
		sa_err("%s holds no synacct state that this synacct knows (no meta): "
		       "remove it with '%s', then start again", dir, hint);
		return SA_EXIT_RUNTIME;
	}
	err = mkdir_p(dir);
	fd = err ? err : bpf_map_create(BPF_MAP_TYPE_ARRAY, "synacct_meta", sizeof(__u32),
					sizeof(__u64), META_MAX, NULL);
	key = META_LAYOUT;
	if (fd >= 0 && !bpf_map_update_elem(fd, &key, &want, 0)) {
		key = META_NETNS_COOKIE;
		owner = cookie;
		err = bpf_map_update_elem(fd, &key, &owner, 0);
	} else if (fd >= 0) {
		err = -errno;
	}
	if (fd < 0 || err || bpf_obj_pin(fd, path)) {
		sa_err("cannot pin synacct's state in %s: %s", dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return SA_EXIT_RUNTIME;
	}
	close(fd);
	*reuse = false;
	return 0;
}

int sa_pin_maps(struct bpf_object *obj, const char *dir, const char *prefix)
{
	struct bpf_map *map;
	char path[512];
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
		snprintf(path, sizeof(path), "%s/%s_%s", dir, prefix, bpf_map__name(map));
		/* A map of another layout (an older or newer synacct): refuse
		 * it with the way out, rather than libbpf's EINVAL. */
		fd = bpf_obj_get(path);
		if (fd >= 0) {
			err = bpf_obj_get_info_by_fd(fd, &info, &len);
			close(fd);
			if (!err && (info.type != bpf_map__type(map) ||
				     info.key_size != bpf_map__key_size(map) ||
				     info.value_size != bpf_map__value_size(map) ||
				     info.max_entries != bpf_map__max_entries(map))) {
				sa_err("%s was pinned by an incompatible synacct (another "
				       "layout of map %s): remove it with '%s', then start "
				       "again", dir, bpf_map__name(map), hint);
				return -EINVAL;
			}
		}
		err = bpf_map__set_pin_path(map, path);
		if (err)
			return err;
	}
	return 0;
}

/* ---- synacct detach ---- */

int sa_nic_detach_pinned(int ifindex, const char *ifname);	/* xdp/nic.c */
int sa_tc_detach_pinned(int ifindex, const char *ifname, const char *dir);	/* tc/tc.c */

struct detach_opts {
	struct sa_common_opts common;
	const char *ifaces[SA_MAX_IFACES];
	int n_ifaces;
	const char *pin_dir;		/* --pin-dir */
};

enum { OPT_PIN_DIR = 0x500 };

static const struct argp_option detach_options[] = {
	{ "iface", 'i', "IFACE", 0, "Interface the pinned synacct watched (repeat as it was given)", 0 },
	{ "pin-dir", OPT_PIN_DIR, "DIR", 0, "Or the directory itself, " SA_PIN_ROOT "/NETNS-INODE/IFACE[+IFACE...] (the namespace may be gone)", 0 },
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

/* Remove every pin in @dir, then @dir and its parents up to the root
 * while they are empty.  Unpinning a link detaches its program. */
static int remove_pins(const char *dir)
{
	char path[1024], *slash;
	struct dirent *de;
	DIR *d = opendir(dir);
	int err = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) && !err)
			err = -errno;
	}
	closedir(d);
	if (!err && rmdir(dir))
		err = -errno;
	snprintf(path, sizeof(path), "%s", dir);
	while ((slash = strrchr(path, '/')) && slash > path + strlen(SA_PIN_ROOT)) {
		*slash = '\0';
		if (rmdir(path))
			break;
	}
	return err;
}

/* What --pin left in @dir for @ifaces of the current namespace: the XDP
 * programs and TC filters on the interfaces, then every pin. */
static int detach_dir(const char *dir, const char *const *ifaces, int n)
{
	int err, ret = SA_EXIT_OK;

	for (int i = 0; i < n; i++) {
		int ifindex = if_nametoindex(ifaces[i]);

		/* A vanished interface took its XDP and TC programs along. */
		if (!ifindex)
			continue;
		if (sa_nic_detach_pinned(ifindex, ifaces[i]) ||
		    sa_tc_detach_pinned(ifindex, ifaces[i], dir))
			ret = SA_EXIT_RUNTIME;
	}
	err = remove_pins(dir);
	if (err) {
		sa_err("cannot remove %s: %s", dir, strerror(-err));
		ret = SA_EXIT_RUNTIME;
	}
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
	unsigned long long ino;
	__u64 layout, owner;
	bool alive = false;
	int n, fd;

	/* Checked by detach_parse. */
	parse_pin_dir(arg, dir, sizeof(dir), &ino, names, sizeof(names), ifaces, &n);
	if (access(dir, F_OK)) {
		sa_err("nothing pinned in %s (no such directory)", dir);
		return SA_EXIT_RUNTIME;
	}
	fd = netns_by_inode(ino);
	if (fd >= 0) {
		if (setns(fd, CLONE_NEWNET)) {
			sa_err("cannot enter the network namespace of %s: %s", dir,
			       strerror(errno));
			close(fd);
			return SA_EXIT_RUNTIME;
		}
		close(fd);
		/* The namespace with that inode now may be a newer one. */
		alive = meta_read(dir, &layout, &owner) || sa_pin_ours(dir);
	}
	return alive ? detach_dir(dir, ifaces, n) : detach_dir(dir, NULL, 0);
}

int sa_detach_main(int argc, char **argv)
{
	static const struct argp_child children[] = {
		{ &sa_common_argp, 0, NULL, 0 }, { 0 }
	};
	static const struct argp argp = {
		detach_options, detach_parse, NULL,
		"Remove what `synacct --pin` left attached and pinned for a namespace "
		"and its interfaces: the XDP program, the TC filters, the stack's "
		"tracepoint links and the counters (under " SA_PIN_ROOT "/NETNS-INODE/"
		"IFACE[+IFACE...]).  --pin-dir names such a directory, also one whose "
		"namespace no longer exists (its stack links still run).",
		children, NULL, NULL
	};
	struct detach_opts o = { 0 };
	char dir[512];
	int err;

	err = sa_parse_args(&argp, argc, argv, &o);
	if (!err)
		err = sa_check_privileges(&o.common, true, true, "synacct detach");
	if (err)
		return err;
	if (o.pin_dir)
		return detach_pin_dir(o.pin_dir);
	err = sa_enter_netns(&o.common);
	if (err)
		return err;
	if (sa_pin_dir(dir, sizeof(dir), o.ifaces, o.n_ifaces)) {
		sa_err("interface names too long");
		return SA_EXIT_USAGE;
	}
	if (access(dir, F_OK)) {
		sa_err("nothing pinned for %s in this namespace (no %s)", o.ifaces[0], dir);
		return SA_EXIT_RUNTIME;
	}
	return detach_dir(dir, o.ifaces, o.n_ifaces);
}
