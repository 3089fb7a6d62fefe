// SPDX-License-Identifier: GPL-2.0
/*
 * lab_probe.c - ask the kernel, not synacct: whether it loads an fexit
 * program (the fact selftests/lib/lab.sh's lab_kernel_has decides a skip
 * on: lockdown, a kernel without BPF trampolines, an LSM: whatever the
 * reason, the load says it), and whether a TCP port is free (lab.sh's
 * lab_free_port; the QEMU guests of selftests/vm have no python3).
 *
 *   lab_probe fexit BTF_ID    load a two-instruction fexit program on the
 *                             vmlinux function of BTF id BTF_ID (bpftool
 *                             btf dump gives it); prints "loads" or
 *                             "refused: <errno text>"
 *   lab_probe bind PORT       bind TCP sockets to PORT on 0.0.0.0 and on
 *                             [::] (IPv6 only; skipped where the kernel
 *                             has no IPv6); prints "free" or
 *                             "taken: <errno text>"
 *
 * Exits 0 (loads, free) or 1 (refused, taken); 2 on a usage error.  Raw
 * system calls: no libbpf, nothing to link.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* bind_free PORT: 0 when both wildcard binds succeed. */
static int bind_free(const char *arg)
{
	struct sockaddr_in in4 = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT };
	char *end;
	long port = strtol(arg, &end, 10);
	int one = 1, fd, err = 0;

	if (*end || port <= 0 || port > 65535) {
		fprintf(stderr, "lab_probe: bad port '%s'\n", arg);
		return 2;
	}
	in4.sin_port = htons(port);
	in6.sin6_port = htons(port);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&in4, sizeof(in4)))
		err = errno;
	if (fd >= 0)
		close(fd);
	if (!err) {
		fd = socket(AF_INET6, SOCK_STREAM, 0);
		if (fd < 0) {
			if (errno != EAFNOSUPPORT)
				err = errno;
		} else {
			if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) ||
			    bind(fd, (struct sockaddr *)&in6, sizeof(in6)))
				err = errno;
			close(fd);
		}
	}
	if (err) {
		printf("taken: %s\n", strerror(err));
		return 1;
	}
	printf("free\n");
	return 0;
}

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

	if (argc == 3 && !strcmp(argv[1], "bind"))
		return bind_free(argv[2]);
	if (argc != 3 || strcmp(argv[1], "fexit")) {
		fprintf(stderr, "usage: lab_probe fexit BTF_ID | lab_probe bind PORT\n");
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
