/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stage.h - what every stage along a SYN's path implements: XDP (xdp/),
 * TC (tc/), the TCP stack's tracepoints and the listener iterator
 * (kprobe/).  main.c opens, attaches, reads and detaches them in a loop,
 * in the order of sa_stages[], and knows nothing else about them.
 */
#ifndef SYNACCT_STAGE_H
#define SYNACCT_STAGE_H

#include <stdbool.h>
#include "synacct.h"

struct sa_snapshot;
struct sa_port_stats;

/* --xdp-mode; auto (the default) chooses per interface (xdp/nic.c). */
enum sa_xdp_mode {
	SA_XDP_AUTO,		/* generic (skb) XDP, saying why per interface */
	SA_XDP_NATIVE,		/* native, falling back to skb */
	SA_XDP_SKB,
};

/* The mode an interface got, and why (the start record's "xdp"). */
struct sa_xdp_link {
	const char *iface;
	const char *mode;	/* "native" or "skb" */
	const char *reason;
};

/* What a stage is told when it is opened. */
struct sa_stage_cfg {
	const char *btf;		/* BTF file for CO-RE, NULL: the kernel's */
	bool verbose;
	int ifindex[SA_MAX_IFACES];	/* the watched interfaces */
	const char *ifname[SA_MAX_IFACES];
	int n_ifaces;
	enum sa_xdp_mode xdp_mode;
	/* --pin (agent/pin.h): maps and links live in this bpffs directory,
	 * and close leaves every program attached; NULL: no pinning. */
	const char *pin_dir;
	/* --listener-hook: auto (or NULL), consume_skb, fexit or kprobe. */
	const char *listener_hook;
	/* Follow forwarded SYNs into the namespaces they reach (not
	 * --no-follow; agent/follow.c). */
	bool follow;
};

struct sa_stage_ops {
	const char *name;
	/* Load the programs (nothing attached yet); errors are printed. */
	int (*open)(void **st, const struct sa_stage_cfg *cfg);
	/* Attach to the watched interfaces / hooks. */
	int (*attach)(void *st, const struct sa_stage_cfg *cfg);
	/* Add this stage's counters to @snap. */
	int (*read)(void *st, struct sa_snapshot *snap);
	/* Add one port's counters to @ps (drops: every reason, also those
	 * @ps does not list yet); NULL for a stage without per-port counters. */
	int (*read_port)(void *st, __u32 port, struct sa_port_stats *ps);
	/* The hooks in use, for -v and the records' "hooks". */
	int (*hooks)(void *st, const char **names, int max);
	/* Detach what was attached and free; NULL is a no-op. */
	void (*close)(void *st);
};

extern const struct sa_stage_ops sa_nic_stage;		/* xdp/nic.c */
extern const struct sa_stage_ops sa_tc_stage;		/* tc/tc.c */
extern const struct sa_stage_ops sa_stack_stage;	/* kprobe/stack.c */
extern const struct sa_stage_ops sa_listener_stage;	/* kprobe/listeners.c */

/* The maps in which TC egress records the SYN-ACKs leaving
 * (include/bpf/synack.h), for the stack stage to share; -ENOENT when the
 * TC stage is not open (tc/tc.c). */
int sa_tc_synack_maps(int *flight_fd, int *last_fd);

/* Follow forwarded SYNs into the caller's current namespace, whose
 * cookie is @cookie; -EOPNOTSUPP without the netfilter hooks or with
 * --no-follow (kprobe/stack.c). */
int sa_stack_follow_here(void *stack, __u64 cookie);
bool sa_stack_can_follow(void *stack);
void sa_stack_unfollow(void *stack, __u64 cookie);

/* The XDP attach mode in use, "native" or "skb" (xdp/nic.c). */
const char *sa_nic_mode(void *nic);
/* Each interface's mode and why; returns how many. */
int sa_nic_links(void *nic, struct sa_xdp_link *out, int max);
/* "auto", "native" or "skb"; -EINVAL otherwise. */
int sa_xdp_mode_parse(const char *arg, enum sa_xdp_mode *out);

/* The listeners of the caller's namespace, one record each, from the TCP
 * iterator (kprobe/listeners.c): also used by `synacct check`. */
struct sa_listeners;
int sa_listeners_open(struct sa_listeners **out, const char *btf);
/* Calls @fn for each listening socket; stops at the first non-zero
 * return and passes it on. */
int sa_listeners_read(struct sa_listeners *ls,
		      int (*fn)(const struct sa_listener *l, void *ctx),
		      void *ctx);
void sa_listeners_close(struct sa_listeners *ls);

#endif /* SYNACCT_STAGE_H */
