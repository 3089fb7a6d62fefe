// SPDX-License-Identifier: GPL-2.0
/*
 * test_reasons.c - subsystem drop reasons (>= 1 << 16) get their names
 * from the subsystems' BTF enums (kprobe/stack/reasons.c).
 *
 * No subsystem that has such reasons (openvswitch, mac80211) can be loaded
 * in the lab kernel, so the test gives the loader what a module's BTF
 * holds: a split BTF on the running kernel's, with an ovs_drop_reason
 * enum built the way the kernel defines it (a "__" marker at the range's
 * base, then the codes) and a flags enum with a 1 << 16 value that must
 * not be taken for a reason.  The subsystem ids come from the running
 * kernel's enum skb_drop_reason_subsys.  TAP output.
 */
#include <stdio.h>
#include <string.h>
#include <linux/types.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "snapshot.h"

static int n_test, n_fail;

static void is(const char *got, const char *want, const char *what)
{
	n_test++;
	if (!strcmp(got, want)) {
		printf("ok %d - %s (%s)\n", n_test, what, got);
		return;
	}
	n_fail++;
	printf("not ok %d - %s\n#   got:  '%s'\n#   want: '%s'\n", n_test, what, got, want);
}

/* Value of enumerator @name in @btf, or -1. */
static long long enum_val(const struct btf *btf, const char *name)
{
	for (__u32 id = 1; id < btf__type_cnt(btf); id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const struct btf_enum *e = btf_enum(t);

		if (!btf_is_enum(t))
			continue;
		for (int i = 0; i < btf_vlen(t); i++, e++)
			if (!strcmp(btf__name_by_offset(btf, e->name_off), name))
				return e->val;
	}
	return -1;
}

int main(void)
{
	struct btf *vmlinux, *mod;
	long long ovs, mac;
	__u32 base;
	char want[64];
	int id;

	libbpf_set_print(NULL);
	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux) {
		printf("1..0 # SKIP kernel: no vmlinux BTF (CONFIG_DEBUG_INFO_BTF off)\n");
		return 0;
	}
	ovs = enum_val(vmlinux, "SKB_DROP_REASON_SUBSYS_OPENVSWITCH");
	mac = enum_val(vmlinux, "SKB_DROP_REASON_SUBSYS_MAC80211_UNUSABLE");
	if (ovs < 0 || mac < 0) {
		printf("1..0 # SKIP kernel: BTF has no subsystem drop reasons (SKB_DROP_REASON_SUBSYS_*)\n");
		return 0;
	}
	base = (__u32)ovs << 16;

	mod = btf__new_empty_split(vmlinux);
	id = btf__add_enum(mod, "ovs_drop_reason", 4);
	btf__add_enum_value(mod, "__OVS_DROP_REASON", base);
	btf__add_enum_value(mod, "OVS_DROP_LAST_ACTION", base + 1);
	btf__add_enum_value(mod, "OVS_DROP_ACTION_ERROR", base + 2);
	btf__add_enum(mod, "ovs_frag_flags", 4);
	btf__add_enum_value(mod, "OVS_FRAG_FLAG_X", 1 << 16);
	if (id < 0) {
		printf("Bail out! cannot build a module BTF\n");
		return 1;
	}

	/* The subsystem names come with vmlinux; the codes with the module. */
	if (sa_subsys_reasons_load(vmlinux) || sa_subsys_reasons_load(mod)) {
		printf("Bail out! sa_subsys_reasons_load failed\n");
		return 1;
	}
	is(sa_subsys_reason_name(base + 1), "OVS_DROP_LAST_ACTION",
	   "openvswitch code 1: the name from its enum");
	is(sa_subsys_reason_name(base + 2), "OVS_DROP_ACTION_ERROR",
	   "openvswitch code 2: the name from its enum");
	is(sa_subsys_reason_name(base + 77), "OPENVSWITCH_77",
	   "openvswitch code without an enumerator: subsystem and code");
	is(sa_subsys_reason_name(base), "OPENVSWITCH_0",
	   "the range marker (__OVS_DROP_REASON) is not a name");
	snprintf(want, sizeof(want), "MAC80211_UNUSABLE_5");
	is(sa_subsys_reason_name(((__u32)mac << 16) + 5), want,
	   "mac80211 (its module not loaded): subsystem and code");
	is(sa_subsys_reason_name(1 << 16) , mac == 1 ? "MAC80211_UNUSABLE_0" : "SUBSYS_1_0",
	   "a flags enum's 1 << 16 is not taken for a reason");
	is(sa_subsys_reason_name(0x7fff0003), "SUBSYS_32767_3",
	   "an unknown subsystem: its id and code");
	/* The real modules' BTF, whatever is loaded here: read without error. */
	n_test++;
	if (sa_subsys_reasons_load_modules(vmlinux)) {
		n_fail++;
		printf("not ok %d - the loaded modules' BTF is read\n", n_test);
	} else {
		printf("ok %d - the loaded modules' BTF is read\n", n_test);
	}

	btf__free(mod);
	btf__free(vmlinux);
	printf("1..%d\n", n_test);
	return n_fail ? 1 : 0;
}
