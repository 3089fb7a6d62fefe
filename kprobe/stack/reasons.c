// SPDX-License-Identifier: GPL-2.0
/*
 * reasons.c - names of the subsystem drop reasons, the kfree_skb reasons
 * at or above 1 << 16 (SKB_DROP_REASON_SUBSYS_SHIFT): the upper 16 bits
 * name a subsystem (enum skb_drop_reason_subsys: mac80211, openvswitch),
 * the lower its own code, defined by the subsystem in its own enum
 * (ovs_drop_reason, mac80211_drop_reason).  Those enums live in the
 * subsystem's BTF, a module's when it is a module: every enum named
 * *_drop_reason in vmlinux and the loaded modules' BTF is read.  A reason
 * whose enum is not found is named after its subsystem and code.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include <bpf/btf.h>
#include "snapshot.h"

#define SUBSYS_PREFIX	"SKB_DROP_REASON_SUBSYS_"

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/* Reads the subsystem ids (vmlinux) and every subsystem reason enum in
 * @btf; only the types @btf adds to its base are walked. */
int sa_subsys_reasons_load(const struct btf *btf)
{
	const struct btf *base = btf__base_btf(btf);
	__u32 first = base ? btf__type_cnt(base) : 1;
	__u32 n = btf__type_cnt(btf);
	int err;

	for (__u32 id = first; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const char *tname = btf__name_by_offset(btf, t->name_off);
		const struct btf_enum *e;

		if (!btf_is_enum(t) || !tname)
			continue;
		e = btf_enum(t);
		if (!strcmp(tname, "skb_drop_reason_subsys")) {
			for (int i = 0; i < btf_vlen(t); i++, e++) {
				const char *name = btf__name_by_offset(btf, e->name_off);
				__u32 v = e->val;

				if (!name || strncmp(name, SUBSYS_PREFIX, strlen(SUBSYS_PREFIX)))
					continue;
				sa_subsys_name_set(v, name + strlen(SUBSYS_PREFIX));
			}
			continue;
		}
		/* The core enum is read by stack.c. */
		if (!has_suffix(tname, "_drop_reason") || !strcmp(tname, "skb_drop_reason"))
			continue;
		for (int i = 0; i < btf_vlen(t); i++, e++) {
			const char *name = btf__name_by_offset(btf, e->name_off);
			__u32 v = e->val;

			/* __OVS_DROP_REASON and the like mark a range. */
			if (!name || name[0] == '_' || (v >> SA_SUBSYS_SHIFT) == 0)
				continue;
			err = sa_subsys_reason_add(v, name);
			if (err)
				return err;
		}
	}
	return 0;
}

/* The loaded modules' BTF, split on the running kernel's @vmlinux. */
int sa_subsys_reasons_load_modules(const struct btf *vmlinux)
{
	struct dirent *de;
	DIR *d = opendir("/sys/kernel/btf");
	int err = 0;

	if (!d)
		return 0;
	while (!err && (de = readdir(d))) {
		char path[300];
		struct btf *mod;

		if (de->d_name[0] == '.' || !strcmp(de->d_name, "vmlinux"))
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/btf/%s", de->d_name);
		mod = btf__parse_split(path, (struct btf *)vmlinux);
		if (!mod)
			continue;
		err = sa_subsys_reasons_load(mod);
		btf__free(mod);
	}
	closedir(d);
	return err;
}
