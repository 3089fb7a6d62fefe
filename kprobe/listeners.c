// SPDX-License-Identifier: GPL-2.0
/*
 * listeners.c - loads listeners.bpf.c and lists the TCP listeners of the
 * caller's network namespace (create after setns).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "agent.h"
#include "listeners.skel.h"

struct sa_listeners {
	struct listeners_bpf *skel;
};

int sa_listeners_open(struct sa_listeners **out, const char *btf)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = btf);
	struct sa_listeners *ls;
	int err;

	ls = calloc(1, sizeof(*ls));
	if (!ls)
		return -ENOMEM;
	ls->skel = listeners_bpf__open_opts(&oo);
	if (!ls->skel || listeners_bpf__load(ls->skel) ||
	    listeners_bpf__attach(ls->skel)) {
		err = -errno;
		sa_err("cannot load the TCP listener iterator: %s", strerror(-err));
		sa_listeners_close(ls);
		return err;
	}
	*out = ls;
	return 0;
}

int sa_listeners_read(struct sa_listeners *ls,
		      int (*fn)(const struct sa_listener *l, void *ctx),
		      void *ctx)
{
	struct sa_listener l;
	ssize_t n;
	int fd, err = 0;

	fd = bpf_iter_create(bpf_link__fd(ls->skel->links.synacct_listeners));
	if (fd < 0)
		return -errno;
	while (!err && (n = read(fd, &l, sizeof(l))) == sizeof(l))
		err = fn(&l, ctx);
	if (!err && n < 0)
		err = -errno;
	close(fd);
	return err;
}

void sa_listeners_close(struct sa_listeners *ls)
{
	if (!ls)
		return;
	listeners_bpf__destroy(ls->skel);
	free(ls);
}
