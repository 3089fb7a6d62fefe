// SPDX-License-Identifier: GPL-2.0
/*
 * stack_follow.c - the control the stack stage shares with the container
 * stage (struct sa_follow_ctl): have its programs count in a namespace
 * the agent has entered, or no longer.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "stack.h"

/* Open and close a TCP socket in the caller's namespace: its
 * tcp_destroy_sock is what the priming program waits for. */
int stack_destroy_a_socket(void)
{
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* Forwarded SYNs are seen at netfilter's FORWARD hook: following them
 * needs the netfilter programs, and not --no-follow. */
bool stack_can_follow(const struct stack_stage *st)
{
	return st->nat_hook && st->skel->rodata->follow_on;
}

/*
 * Follow forwarded SYNs into the namespace the caller is in now (the
 * agent enters it), whose cookie is @cookie: closing a socket there
 * creates its per-CPU MIB baselines (include/bpf/follow.h), as prime_baselines
 * does for the watched one.
 */
int stack_follow_here(void *priv, __u64 cookie)
{
	struct stack_stage *st = priv;
	__u32 zero = 0;
	__u64 none = 0;
	int ctl, err;

	ctl = bpf_map__fd(st->skel->maps.follow_ctl);
	if (bpf_map_update_elem(ctl, &zero, &cookie, BPF_ANY))
		return -errno;
	err = stack_destroy_a_socket();
	bpf_map_update_elem(ctl, &zero, &none, BPF_ANY);
	return err;
}

/* Stop following the namespace whose cookie is @cookie. */
void stack_unfollow(void *priv, __u64 cookie)
{
	struct stack_stage *st = priv;
	int fd, ncpu = libbpf_num_possible_cpus();
	__u64 key, *prev = NULL;
	void *vals;

	fd = bpf_map__fd(st->skel->maps.follow_ns);
	vals = calloc(ncpu, bpf_map__value_size(st->skel->maps.follow_ns));
	if (!vals)
		return;
	/* The value's first field is the cookie, in every CPU's copy;
	 * a per-CPU value is laid out 8-byte aligned per CPU. */
	while (bpf_map_get_next_key(fd, prev, &key) == 0) {
		if (!bpf_map_lookup_elem(fd, &key, vals) && *(__u64 *)vals == cookie) {
			bpf_map_delete_elem(fd, &key);
			break;
		}
		prev = &key;
	}
	free(vals);
}
