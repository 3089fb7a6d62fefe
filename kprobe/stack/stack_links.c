// SPDX-License-Identifier: GPL-2.0
/*
 * stack_links.c - the stack stage's links that are not the skeleton's
 * own: the netfilter programs' (LOCAL_IN and FORWARD, IPv4 and IPv6),
 * and with --pin the links a pinned synacct left, kept, and this run's,
 * pinned so that they outlive it.
 */
#include <errno.h>
#include <stdio.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "log.h"
#include "nf_link.h"
#include "pin.h"
#include "stack.h"

static const __u32 nf_pf[2] = { SA_NFPROTO_IPV4, SA_NFPROTO_IPV6 };
static const __u32 nf_hook[2] = { SA_NF_INET_LOCAL_IN, SA_NF_INET_FORWARD };

/* The program of netfilter link @i (LOCAL_IN or FORWARD). */
static int nf_prog_fd(const struct stack_stage *st, int i)
{
	return bpf_program__fd(i / 2 ? st->skel->progs.synacct_forward :
			       st->skel->progs.synacct_nat_in);
}

/* The program link @fd runs, for the health check to compare with. */
static __u32 nf_prog_id(int fd)
{
	struct sa_nf_link_info info;

	return sa_nf_link_info(fd, &info) ? 0 : info.prog_id;
}

int stack_attach_nat(struct stack_stage *st)
{

	for (int i = 0; i < STACK_N_NF_LINKS; i++) {
		char path[64] = "";
		int fd;

		/* --pin: a pinned synacct's netfilter link still counts. */
		if (st->pin_dir) {
			snprintf(path, sizeof(path), "link_netfilter_%d", i);
			fd = sa_pin_get(path);
			if (fd >= 0) {
				st->nf_links[i] = fd;
				st->nf_prog[i] = nf_prog_id(fd);
				st->nf_kept = true;
				continue;
			}
		}
		fd = sa_nf_link(nf_prog_fd(st, i), nf_pf[i % 2], nf_hook[i / 2]);
		if (fd < 0) {
			sa_err("cannot attach the netfilter program (%s, %s): %s",
			       i / 2 ? "FORWARD" : "LOCAL_IN", i % 2 ? "IPv6" : "IPv4",
			       sa_strerror(fd));
			return fd;
		}
		st->nf_links[i] = fd;
		st->nf_prog[i] = nf_prog_id(fd);
		if (path[0] && (fd = sa_pin_add(fd, path))) {
			sa_err("cannot pin the netfilter link in %s: %s", st->pin_dir,
			       sa_strerror(fd));
			return fd;
		}
	}
	return 0;
}

/*
 * Is netfilter link @i still on its hook, with synacct's program?  Another
 * tool can take it off (`bpftool link detach`: BPF_LINK_DETACH, which the
 * kernel allows netfilter links and refuses the tracepoint and iterator
 * links, EOPNOTSUPP on 6.18) while synacct holds the link, whose info does
 * not change.  The kernel refuses a second hook at a priority taken
 * (EBUSY): a link made at this one's priority is refused while it is on
 * its hook, and made once it is gone, then closed at once (its program is
 * synacct's; nothing else was there).  Once lost, it stays lost.
 */
void stack_nf_check(struct stack_stage *st, int i)
{
	struct sa_hook_loss *l = &st->nf_loss[i];
	struct sa_nf_link_info info;
	const char *family = i % 2 ? "IPv6" : "IPv4";
	int fd;

	if (st->nf_links[i] < 0 || l->how || sa_nf_link_info(st->nf_links[i], &info))
		return;
	if (st->nf_prog[i] && info.prog_id != st->nf_prog[i]) {
		struct bpf_prog_info p = { 0 };
		__u32 len = sizeof(p);
		int pfd = bpf_prog_get_fd_by_id(info.prog_id);

		if (pfd < 0 || bpf_obj_get_info_by_fd(pfd, &p, &len))
			snprintf(p.name, sizeof(p.name), "?");
		if (pfd >= 0)
			close(pfd);
		l->how = SA_LOSS_REPLACED;
		l->replaced_by = info.prog_id;
		snprintf(l->replaced_name, sizeof(l->replaced_name), "%s", p.name);
		snprintf(l->reason, sizeof(l->reason), "netfilter link (%s) given program id %u (%s)",
			 family, info.prog_id, p.name);
	} else {
		fd = sa_nf_link_at(nf_prog_fd(st, i), info.pf, info.hooknum, info.priority);
		if (fd < 0)
			return;		/* -EBUSY: still there; another error says nothing */
		close(fd);
		l->how = SA_LOSS_REMOVED;
		snprintf(l->reason, sizeof(l->reason), "netfilter link (%s) detached by "
			 "another tool", family);
	}
	l->iface = "";
	l->hook = i / 2 ? "netfilter/forward" : "netfilter/local_in";
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
