/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stack.h - the stack stage's loader, shared by its files: stack.c (open,
 * attach, close, options), stack_probe.c (the hooks and devices this
 * kernel and namespace give it), stack_links.c (netfilter and pinned
 * links), stack_read.c (the map readers), stack_follow.c (the control the
 * container stage follows namespaces with).
 */
#ifndef SYNACCT_STACK_H
#define SYNACCT_STACK_H

#include <stdbool.h>
#include <linux/types.h>
#include "stage.h"
#include "stack.skel.h"

/* Where the listener's verdict on a SYN is taken, best first. */
enum listener_hook {
	LH_NONE,
	LH_CONSUME_SKB,		/* tp_btf/consume_skb with its location (6.3+) */
	LH_FEXIT,		/* fexit/tcp_conn_request */
	LH_KPROBE,		/* kprobe on tcp_conn_request, consume_skb */
};

extern const char *const stack_listener_hook_names[];

/* The skeleton's programs: what sizes the stage's lists of them. */
#define STACK_N_PROGS (sizeof(((struct stack_bpf *)0)->progs) / sizeof(struct bpf_program *))

/* Netfilter links: two programs, two families each. */
#define STACK_N_NF_LINKS (2 * 2)

struct stack_stage {
	struct stack_bpf *skel;
	const char *pin_dir;	/* --pin */
	/* --pin: links a pinned synacct left, still counting, held here:
	 * at most one per program of the skeleton. */
	struct bpf_link *kept[sizeof(((struct stack_bpf *)0)->links) / sizeof(struct bpf_link *)];
	int n_kept;
	bool nf_kept;		/* ... and netfilter links (nf_links) */
	bool classify;		/* per-CPU MIB baselines available */
	enum listener_hook listener_hook;
	bool nat_hook;		/* netfilter programs and conntrack's BTF */
	/* The netfilter programs (nat_in at LOCAL_IN, forward at FORWARD),
	 * each for IPv4 and IPv6; -1: none. */
	int nf_links[STACK_N_NF_LINKS];
	/* Each one's program when attached, and how it stopped being
	 * synacct's (health: stack_nf_check). */
	__u32 nf_prog[STACK_N_NF_LINKS];
	struct sa_hook_loss nf_loss[STACK_N_NF_LINKS];
	struct sa_follow_ctl follow;	/* shared while it can follow */
	__u64 *touched;		/* ports_touched, mmapped (agent/sys/touched.h) */
	__u64 keys_lost;	/* drop_keys_lost when last read */
};

struct btf;

/* stack_probe.c: set the skeleton up for what the kernel has (before
 * load); the VLAN devices on the watched interfaces; the hooks in use. */
int stack_find_listener_hook(struct stack_stage *st, const struct btf *btf,
			     const char *want_name);
void stack_find_nat_hook(struct stack_stage *st, const struct btf *btf, bool verbose);
void stack_find_verdict_mibs(struct stack_stage *st, const struct btf *btf);
void stack_load_reason_names(const struct btf *btf);
int stack_add_vlan_devices(int *ifindex, int n, bool verbose);
int stack_stage_hooks(void *priv, const char **names, int max);

/* stack_links.c */
int stack_attach_nat(struct stack_stage *st);
int stack_pin_links_keep(struct stack_stage *st);
int stack_pin_links_new(struct stack_stage *st);
void stack_nf_check(struct stack_stage *st, int i);

/* stack_read.c */
int stack_stage_read(void *priv, struct sa_snapshot *snap);
int stack_stage_read_port(void *priv, __u32 port, struct sa_port_stats *ps);
int stack_stage_touched(void *priv, struct sa_portset *ports);
int stack_stage_read_ports(void *priv, struct sa_snapshot *snap,
			   const struct sa_snapshot *last, struct sa_portset *ports);

/* stack_follow.c */
int stack_destroy_a_socket(void);
bool stack_can_follow(const struct stack_stage *st);
int stack_follow_here(void *priv, __u64 cookie);
void stack_unfollow(void *priv, __u64 cookie);

#endif /* SYNACCT_STACK_H */
