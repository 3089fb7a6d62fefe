// SPDX-License-Identifier: GPL-2.0
/*
 * pin.c - --pin and `synacct detach`: state in bpffs that outlives the
 * agent (pin.h).
 *
 * Each stage pins its maps (<stage>_<map>) and what attaches by fd (the
 * stack's tracepoint links, link_<program>); XDP (netlink, via libxdp)
 * and TC filters stay attached by themselves.  A "meta" map holds a hash
 * of the counter layout, so a synacct with other maps never reads them.
 */
#define _GNU_SOURCE
#include <argp.h>
#include <dirent.h>
#include <errno.h>
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

int sa_pin_prepare(const char *dir, const char *netns, const char *const *ifnames,
		   int n, bool *reuse)
{
	char path[512];
	__u64 want = layout_hash(), have = 0;
	struct statfs fs;
	__u32 zero = 0;
	int fd, err;

	detach_hint(hint, sizeof(hint), netns, ifnames, n);
	if (statfs("/sys/fs/bpf", &fs) || fs.f_type != BPF_FS_MAGIC) {
		sa_err("--pin needs bpffs on /sys/fs/bpf: mount -t bpf bpf /sys/fs/bpf");
		return SA_EXIT_RUNTIME;
	}
	snprintf(path, sizeof(path), "%s/meta", dir);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		err = bpf_map_lookup_elem(fd, &zero, &have);
		close(fd);
		if (err || have != want) {
			sa_err("%s was pinned by an incompatible synacct (layout %llx, this one "
			       "%llx): remove it with '%s', then start again", dir,
			       (unsigned long long)have, (unsigned long long)want, hint);
			return SA_EXIT_RUNTIME;
		}
		*reuse = true;
		return 0;
	}
	if (!access(dir, F_OK)) {
		sa_err("%s holds no synacct state that this synacct knows (no meta): "
		       "remove it with '%s', then start again", dir, hint);
		return SA_EXIT_RUNTIME;
	}
	err = mkdir_p(dir);
	fd = err ? err : bpf_map_create(BPF_MAP_TYPE_ARRAY, "synacct_meta", sizeof(__u32),
					sizeof(__u64), 1, NULL);
	if (fd < 0 || bpf_map_update_elem(fd, &zero, &want, 0) || bpf_obj_pin(fd, path)) {
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
};

static const struct argp_option detach_options[] = {
	{ "iface", 'i', "IFACE", 0, "Interface the pinned synacct watched (repeat as it was given)", 0 },
	{ 0 }
};

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
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s'", arg);
		break;
	case ARGP_KEY_END:
		if (!o->n_ifaces)
			argp_error(state, "no interface given: use --iface IFACE");
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

int sa_detach_main(int argc, char **argv)
{
	static const struct argp_child children[] = {
		{ &sa_common_argp, 0, NULL, 0 }, { 0 }
	};
	static const struct argp argp = {
		detach_options, detach_parse, NULL,
		"Remove what `synacct --pin` left attached and pinned for a namespace "
		"and its interfaces: the XDP program, the TC filters, the stack's "
		"tracepoint links and the counters (under " SA_PIN_ROOT ").",
		children, NULL, NULL
	};
	struct detach_opts o = { 0 };
	char dir[512];
	int err, ret = SA_EXIT_OK;

	err = sa_parse_args(&argp, argc, argv, &o);
	if (!err)
		err = sa_check_privileges(&o.common, true, true, "synacct detach");
	if (!err)
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
	for (int i = 0; i < o.n_ifaces; i++) {
		int ifindex = if_nametoindex(o.ifaces[i]);

		/* A vanished interface took its XDP and TC programs along. */
		if (!ifindex)
			continue;
		if (sa_nic_detach_pinned(ifindex, o.ifaces[i]) ||
		    sa_tc_detach_pinned(ifindex, o.ifaces[i], dir))
			ret = SA_EXIT_RUNTIME;
	}
	err = remove_pins(dir);
	if (err) {
		sa_err("cannot remove %s: %s", dir, strerror(-err));
		ret = SA_EXIT_RUNTIME;
	}
	return ret;
}
