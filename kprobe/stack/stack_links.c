// SPDX-License-Identifier: GPL-2.0
/*
 * stack_links.c - the stack stage's links that are not the skeleton's
 * own: the netfilter programs' (LOCAL_IN and FORWARD, IPv4 and IPv6),
 * and with --pin the links a pinned synacct left, kept, and this run's,
 * pinned so that they outlive it.
 */
#include <errno.h>
#include <stdio.h>
#include <bpf/libbpf.h>
#include "log.h"
#include "nf_link.h"
#include "pin.h"
#include "stack.h"

int stack_attach_nat(struct stack_stage *st)
{
	static const __u32 pf[2] = { SA_NFPROTO_IPV4, SA_NFPROTO_IPV6 };
	static const __u32 hook[2] = { SA_NF_INET_LOCAL_IN, SA_NF_INET_FORWARD };
	int prog_fd[2] = {
		bpf_program__fd(st->skel->progs.synacct_nat_in),
		bpf_program__fd(st->skel->progs.synacct_forward),
	};

	for (int i = 0; i < STACK_N_NF_LINKS; i++) {
		char path[64] = "";
		int fd;

		/* --pin: a pinned synacct's netfilter link still counts. */
		if (st->pin_dir) {
			snprintf(path, sizeof(path), "link_netfilter_%d", i);
			fd = sa_pin_get(path);
			if (fd >= 0) {
				st->nf_links[i] = fd;
				st->nf_kept = true;
				continue;
			}
		}
		fd = sa_nf_link(prog_fd[i / 2], pf[i % 2], hook[i / 2]);
		if (fd < 0) {
			sa_err("cannot attach the netfilter program (%s, %s): %s",
			       i / 2 ? "FORWARD" : "LOCAL_IN", i % 2 ? "IPv6" : "IPv4",
			       sa_strerror(fd));
			return fd;
		}
		st->nf_links[i] = fd;
		if (path[0] && (fd = sa_pin_add(fd, path))) {
			sa_err("cannot pin the netfilter link in %s: %s", st->pin_dir,
			       sa_strerror(fd));
			return fd;
		}
	}
	return 0;
}

/* --pin: each program whose link a pinned synacct left is not attached
 * again (it would count twice): its link, still counting into the
 * pinned maps, is held instead. */
int stack_pin_links_keep(struct stack_stage *st)
{
	const struct bpf_object_skeleton *s = st->skel->skeleton;
	char path[512];

	for (int i = 0; st->pin_dir && i < s->prog_cnt; i++) {
		struct bpf_program *prog = *s->progs[i].prog;
		struct bpf_link *link;

		if (!bpf_program__autoload(prog))
			continue;
		/* No pin: attached afresh (quietly: libbpf's bpf_link__open
		 * would warn on every missing one). */
		snprintf(path, sizeof(path), "link_%s", bpf_program__name(prog));
		if (sa_pin_link_open(path, &link))
			continue;
		if (st->n_kept >= (int)(sizeof(st->kept) / sizeof(st->kept[0]))) {
			bpf_link__destroy(link);
			return -E2BIG;
		}
		st->kept[st->n_kept++] = link;
		bpf_program__set_autoattach(prog, false);
	}
	return 0;
}

/* --pin: the links attached now outlive this process. */
int stack_pin_links_new(struct stack_stage *st)
{
	const struct bpf_object_skeleton *s = st->skel->skeleton;
	char path[512];
	int err;

	for (int i = 0; st->pin_dir && i < s->prog_cnt; i++) {
		struct bpf_link *link = *s->progs[i].link;

		if (!link)
			continue;
		snprintf(path, sizeof(path), "link_%s", bpf_program__name(*s->progs[i].prog));
		err = sa_pin_add(bpf_link__fd(link), path);
		if (err)
			return err;
	}
	return 0;
}
