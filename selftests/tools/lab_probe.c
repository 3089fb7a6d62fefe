// SPDX-License-Identifier: GPL-2.0
/*
 * lab_probe.c - ask the kernel, not synacct, whether it loads an fexit
 * program: the fact selftests/lib/lab.sh (lab_kernel_has) decides a
 * skip on.  Lockdown, a kernel without BPF trampolines, an LSM: whatever
 * the reason, the load says it.
 *
 *   lab_probe fexit BTF_ID    load a two-instruction fexit program on the
 *                             vmlinux function of BTF id BTF_ID (bpftool
 *                             btf dump gives it)
 *
 * Prints "loads" and exits 0, or "refused: <errno text>" and exits 1;
 * 2 on a usage error.  Raw bpf(2): no libbpf, nothing to link.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr attr;
	char *end;
	long id;
	int fd;

	if (argc != 3 || strcmp(argv[1], "fexit")) {
		fprintf(stderr, "usage: lab_probe fexit BTF_ID\n");
		return 2;
	}
	id = strtol(argv[2], &end, 10);
	if (*end || id <= 0) {
		fprintf(stderr, "lab_probe: bad BTF id '%s'\n", argv[2]);
		return 2;
	}
	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_TRACING;
	attr.expected_attach_type = BPF_TRACE_FEXIT;
	attr.attach_btf_id = id;
	attr.insns = (unsigned long)insns;
	attr.insn_cnt = sizeof(insns) / sizeof(insns[0]);
	attr.license = (unsigned long)"GPL";
	fd = syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	if (fd < 0) {
		printf("refused: %s\n", strerror(errno));
		return 1;
	}
	close(fd);
	printf("loads\n");
	return 0;
}
