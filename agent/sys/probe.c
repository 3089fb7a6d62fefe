// SPDX-License-Identifier: GPL-2.0
/*
 * probe.c - what the running kernel has, asked once per question, for any
 * stage that chooses its hooks by it (as libbpf-tools' trace_helpers):
 * code ranges from kallsyms, tracepoint arguments and enum values from
 * BTF, whether an fexit program loads, whether kprobes attach.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "probe.h"

/*
 * [start, end) of kernel functions @name[0..n): a tracepoint's location is
 * a return address inside the caller, not its start.  The end is the
 * nearest symbol address above the start; kallsyms is not sorted on every
 * kernel, so that takes a second pass once the starts are known (one pair
 * of passes for all: the file is large).  0, 0 for one not found (or
 * no kallsyms at all, or its addresses hidden: kptr_restrict).
 */
void sa_kallsyms_ranges(const char *const *name, int n, __u64 *start, __u64 *end)
{
	char line[512], sym[256];
	unsigned long long addr;
	int found = 0;
	FILE *f;

	for (int i = 0; i < n; i++)
		start[i] = end[i] = 0;
	f = fopen("/proc/kallsyms", "re");
	if (!f)
		return;
	while (found < n && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %*c %255s", &addr, sym) != 2 || !addr)
			continue;
		for (int i = 0; i < n; i++)
			if (!start[i] && !strcmp(sym, name[i])) {
				start[i] = addr;
				found++;
			}
	}
	rewind(f);
	while (found && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx", &addr) != 1)
			continue;
		for (int i = 0; i < n; i++)
			if (start[i] && addr > start[i] && (!end[i] || addr < end[i]))
				end[i] = addr;
	}
	fclose(f);
}

bool sa_kallsyms_hidden(void)
{
	char line[512], type;
	unsigned long long addr;
	bool hidden = false;
	FILE *f;

	f = fopen("/proc/kallsyms", "re");
	if (!f)
		return false;
	/* Per-CPU symbols sit at 0 even when shown: the first text symbol
	 * decides. */
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c", &addr, &type) != 2 || (type != 'T' && type != 't'))
			continue;
		hidden = !addr;
		break;
	}
	fclose(f);
	return hidden;
}

/* Number of arguments of tracepoint @tp in @btf (its btf_trace_ typedef),
 * or -1 when the kernel does not have it. */
int sa_tp_nargs(const struct btf *btf, const char *tp)
{
	const struct btf_type *t;
	char name[128];
	__s32 id;

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	id = btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
	if (id < 0)
		return -1;
	t = btf__type_by_id(btf, btf__resolve_type(btf, id));
	if (!t || !btf_is_ptr(t))
		return -1;
	t = btf__type_by_id(btf, t->type);
	if (!t || !btf_is_func_proto(t))
		return -1;
	return btf_vlen(t) - 1;	/* the first is the tracepoint's data */
}

/* Value of enumerator @name in any enum of @btf, or -1. */
long long sa_btf_enum_value(const struct btf *btf, const char *name)
{
	__u32 n = btf__type_cnt(btf);

	for (__u32 id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const struct btf_enum *e;

		if (!btf_is_enum(t))
			continue;
		e = btf_enum(t);
		for (int i = 0; i < btf_vlen(t); i++, e++)
			if (!strcmp(btf__name_by_offset(btf, e->name_off), name))
				return e->val;
	}
	return -1;
}

/* Can this kernel load an fexit program on @func?  Lockdown refuses
 * tracing programs at load (EPERM); so does a kernel without BPF
 * trampolines.  A two-instruction program, as bcc's libbpf-tools probe. */
bool sa_fexit_can_load(const char *func)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts,
		    .expected_attach_type = BPF_TRACE_FEXIT);
	struct btf *vmlinux;
	int id, fd;

	/* The kernel's own BTF, whatever --btf says: attach ids are its. */
	vmlinux = btf__load_vmlinux_btf();
	if (libbpf_get_error(vmlinux))
		return false;
	id = btf__find_by_name_kind(vmlinux, func, BTF_KIND_FUNC);
	btf__free(vmlinux);
	if (id <= 0)
		return false;
	opts.attach_btf_id = id;
	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, NULL, "GPL", insns,
			   sizeof(insns) / sizeof(insns[0]), &opts);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* Does this kernel have kprobes (CONFIG_KPROBES: the kprobe PMU)?  The
 * function to put one on must be in kallsyms too (the caller's @listed). */
bool sa_kprobe_can_attach(bool listed)
{
	return listed && !access("/sys/bus/event_source/devices/kprobe/type", F_OK);
}
