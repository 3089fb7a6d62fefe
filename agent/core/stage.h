/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stage.h - what every stage along a SYN's path implements, and the
 * registry that lists them (agent/core/registry.c): the driver's drop
 * counters (xdp/driver/, stage 0), XDP (xdp/), TC (tc/), the
 * TCP stack's tracepoints and the listener iterator (kprobe/), and the
 * namespaces forwarded SYNs reach (kprobe/container/follow.c).  Everything about a
 * stage is behind its ops; main.c, claim.c, pin.c and check.c iterate the
 * registry or ask it, and name no stage's function.  What one stage needs
 * of another (a map, a control) is shared through the registry by name.
 */
#ifndef SYNACCT_STAGE_H
#define SYNACCT_STAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "synacct.h"

struct argp;
struct argp_child;
struct sa_snapshot;
struct sa_port_stats;
struct sa_report_ctx;
struct sa_portset;

/* --xdp-mode; auto (the default) chooses per interface (xdp/nic.c). */
enum sa_xdp_mode {
	SA_XDP_AUTO,		/* TC ingress first (SA_XDP_TC), saying why per interface */
	SA_XDP_NATIVE,		/* native, falling back to skb */
	SA_XDP_SKB,
	SA_XDP_TC,		/* no XDP: the NIC stage counts at TC ingress, first */
};

/* The mode an interface got, and why (the start record's "xdp"). */
struct sa_xdp_link {
	const char *iface;
	const char *mode;	/* "native", "skb" or "tc" */
	const char *reason;
};

/* What the stages say of themselves for the start record (describe). */
struct sa_stage_desc {
	const char *xdp_mode;	/* "native", "skb", "tc" or "none" */
	/* XDP runs in the driver, before the per-CPU backlog: the
	 * reconciler places drops by it (sa_measured.nic_native). */
	bool nic_native;
	/* The NIC stage counts at TC ingress, first; the TC stage's count is
	 * last, so other TC filters' drops are between (sa_measured.nic_tc). */
	bool nic_tc;
	const struct sa_xdp_link *xdp_links;	/* per interface */
	int n_xdp_links;
};

/* What a stage is told when it is opened: the run's facts, and the
 * options, each parsed by the argp child of the stage that owns it. */
struct sa_stage_cfg {
	const char *btf;		/* BTF file for CO-RE, NULL: the kernel's */
	bool verbose;
	int ifindex[SA_MAX_IFACES];	/* the watched interfaces */
	const char *ifname[SA_MAX_IFACES];
	int n_ifaces;
	/* --pin (agent/sys/pin.h): maps and links live in this bpffs directory,
	 * and close leaves every program attached; NULL: no pinning. */
	const char *pin_dir;
	bool xdp;			/* not --no-xdp (xdp/nic.c) */
	enum sa_xdp_mode xdp_mode;
	bool stack;			/* not --no-stack (kprobe/stack/stack.c) */
	/* --listener-hook: auto (or NULL), consume_skb, fexit or kprobe. */
	const char *listener_hook;
	/* Follow forwarded SYNs into the namespaces they reach (not
	 * --no-follow: kprobe/container/follow.c; the stack's programs are told). */
	bool follow;
	/* --pods-log-dir: the kubelet's pod log directories, which name a
	 * followed namespace's pod (kprobe/container/follow.c). */
	const char *pods_log_dir;
};

/* How a hook a stage attached stopped being its own (agent/cmd/health.c). */
enum sa_loss {
	SA_LOSS_REMOVED = 1,	/* nothing of synacct's there any more */
	SA_LOSS_REPLACED,	/* another program sits where synacct's was */
	SA_LOSS_IFACE_DELETED,	/* the interface left this namespace, found nowhere */
	SA_LOSS_IFACE_MOVED,	/* ... into another one, where synacct's hook was removed */
};

/* One hook lost: the stage stops counting on it, and never detaches
 * there (what is there now is not synacct's). */
struct sa_hook_loss {
	enum sa_loss how;
	const char *iface;
	const char *hook;		/* "xdp", "tc_ingress", "tc_egress" */
	char reason[128];		/* what the kernel showed instead */
	__u32 replaced_by;		/* the program there now; 0: none or unknown */
	char replaced_name[16];		/* its name (BPF_OBJ_NAME_LEN) */
};

/* What a stage can say of itself now: at start with -v, and every
 * interval, when agent/cmd/health.c checks that its hooks are still its own. */
struct sa_stage_health {
	bool attached;		/* its programs are on their hooks */
	char detail[160];	/* what else it knows: modes, counts */
	/* Every hook lost so far, in the order they were found lost. */
#define SA_MAX_LOST (2 * SA_MAX_IFACES)
	struct sa_hook_loss lost[SA_MAX_LOST];
	int n_lost;
};

/* The TCP listeners of the caller's namespace, one record each, from the
 * TCP iterator: the listener stage's, offered to the others and to
 * `synacct check` (sa_registry_listeners). */
struct sa_listeners;
struct sa_listener_iter {
	int (*open)(struct sa_listeners **out, const char *btf);
	/* Calls @fn for each listening socket; stops at the first non-zero
	 * return and passes it on. */
	int (*read)(struct sa_listeners *ls,
		    int (*fn)(const struct sa_listener *l, void *ctx), void *ctx);
	void (*close)(struct sa_listeners *ls);
};

/* What the stack stage shares while it can follow forwarded SYNs
 * (SA_SHARE_FOLLOW): count in the caller's current namespace, whose
 * cookie is @cookie, or no longer. */
struct sa_follow_ctl {
	void *stack;
	int (*here)(void *stack, __u64 cookie);
	void (*unfollow)(void *stack, __u64 cookie);
};

/* Names under which stages share with each other (sa_registry_share). */
#define SA_SHARE_SYNACK_FLIGHT	"synack_flight"	/* fd: TC egress's SYN-ACK maps */
#define SA_SHARE_SYNACK_LAST	"synack_last"	/* (include/bpf/synack.h) */
#define SA_SHARE_FOLLOW		"follow"	/* struct sa_follow_ctl */
#define SA_SHARE_RETRIES	"retries"	/* struct sa_retries_maps */
/* fd: the NIC stage's TC program (--xdp-mode tc), which the TC stage
 * places first on each interface's clsact ingress. */
#define SA_SHARE_NIC_TC_PROG	"nic_tc_prog"

/* What TC shares while it is open (SA_SHARE_RETRIES): the maps its
 * programs keep client retries in (tc/retries/), for the retries stage to
 * read and the stack object to write fates into. */
struct sa_retries_maps {
	int table;			/* retry_table */
	int slot, port, vals, more;	/* retries_counters' slot maps */
};

struct sa_stage_ops {
	const char *name;
	/* The counters it measures: a bit per enum sa_stage_id
	 * (agent/core/counters.h).  While the stage is off they read as null. */
	unsigned int measures;
	/* Its options: an argp child whose input is the struct sa_stage_cfg
	 * (NULL: none); it sets their defaults on ARGP_KEY_INIT. */
	const struct argp *argp;
	/* Asked for (not --no-...)?  NULL: always. */
	bool (*enabled)(const struct sa_stage_cfg *cfg);
	/* What it needs of the kernel, of the privileges and of the stages
	 * before it: 0, or -errno with the reason in @why.  Unmet, an
	 * @optional stage stays off (-v says why; -EPERM, a privilege the
	 * user can grant, is said always); any other ends the run with @why. */
	int (*prereq)(const struct sa_stage_cfg *cfg, char *why, size_t len);
	bool optional;
	/* Load the programs (nothing attached yet); errors are printed. */
	int (*open)(void **st, const struct sa_stage_cfg *cfg);
	/* Attach to the watched interfaces / hooks. */
	int (*attach)(void *st, const struct sa_stage_cfg *cfg);
	/* Before an interval's reading, number @gen (NULL: nothing). */
	int (*refresh)(void *st, unsigned long gen);
	/* Add this stage's counters to @snap (NULL: none). */
	int (*read)(void *st, struct sa_snapshot *snap);
	/* Take the ports its programs marked touched since the last call
	 * (include/bpf/count.h, agent/sys/touched.h) into @ports; NULL: none. */
	int (*touched)(void *st, struct sa_portset *ports);
	/* As read, but the per-port figures of the ports in @ports only
	 * (the others are as they were); it may add ports to @ports (drop
	 * keys found new).  @last is the reading before (the drop reasons
	 * each port had).  -EAGAIN: only a whole reading is exact now.
	 * NULL: read is used. */
	int (*read_ports)(void *st, struct sa_snapshot *snap,
			  const struct sa_snapshot *last, struct sa_portset *ports);
	/* Add one port's counters to @ps (drops: every reason, also those
	 * @ps does not list yet); NULL for a stage without per-port counters. */
	int (*read_port)(void *st, __u32 port, struct sa_port_stats *ps);
	/* After every stage has read: what needs the others' figures. */
	int (*complete)(void *st, struct sa_snapshot *snap);
	/* The hooks in use, for -v and the records' "hooks": how many it
	 * has, of which at most @max are written to @names (the run asks
	 * with @max 0 first, then makes room: no fixed limit). */
	int (*hooks)(void *st, const char **names, int max);
	/* Checks its hooks on the kernel (agent/cmd/health.c, every interval):
	 * a hook found lost stays lost, and close leaves it alone. */
	int (*health)(void *st, struct sa_stage_health *h);
	/* Its part of the start record; @st NULL when the stage is off. */
	void (*describe)(void *st, struct sa_stage_desc *d);
	/* Remove what a synacct killed before it could detach left on
	 * @ifindex (the caller holds the interface's claim): what it
	 * removed in @what ("" nothing); -EBUSY if a live process holds it
	 * (its pid in *holder). */
	int (*remove_stale)(int ifindex, char *what, size_t len, int *holder);
	/* `synacct detach`: what a pinned synacct left on @ifindex. */
	int (*detach_pinned)(int ifindex, const char *ifname);
	/* What it offers the others and `synacct check` (NULL: nothing). */
	const struct sa_listener_iter *listeners;
	/* Detach what was attached (unless pinned) and free. */
	void (*close)(void *st);
};

/* ---- the registry (agent/core/registry.c) ---- */

#define SA_MAX_STAGES 8

/* The stages, along the SYN's path (the order and why: registry.c). */
extern const struct sa_stage_ops *const sa_stages[];
extern const int sa_n_stages;

/* The stages of one run. */
struct sa_run {
	void *st[SA_MAX_STAGES];	/* NULL: off */
	/* Every stage's hooks, and those still synacct's (health.c). */
	const char **hooks, **hooks_up;
	int n_hooks;
};

/* The stages' argp children, in order, into @out (room for
 * SA_MAX_STAGES); how many. */
int sa_stages_argp(struct argp_child *out);

/* Open, attach and list the hooks of every stage enabled; errors are
 * printed. */
int sa_run_open(struct sa_run *r, const struct sa_stage_cfg *cfg);
/* Before a reading (refresh), the reading (downstream first, then
 * complete), one port again for settling; close detaches all. */
int sa_run_refresh(struct sa_run *r, unsigned long gen);
int sa_run_read(struct sa_run *r, struct sa_snapshot *snap);
int sa_run_read_port(struct sa_run *r, __u32 port, struct sa_port_stats *ps);
/* Every stage's touched ports, taken, into @ports; a reading of @ports
 * (which may grow) with the stages' figures that have no port, @last the
 * reading before: -EAGAIN when a whole reading is needed (sa_run_read). */
int sa_run_touched(struct sa_run *r, struct sa_portset *ports);
int sa_run_read_ports(struct sa_run *r, struct sa_snapshot *snap,
		      const struct sa_snapshot *last, struct sa_portset *ports);
/* Which counters are measured, each stage's part of the start record,
 * and with @verbose each one's health on stderr. */
void sa_run_describe(struct sa_run *r, struct sa_report_ctx *rc, bool verbose);
void sa_run_close(struct sa_run *r);

/* Every stage's leftovers of a killed synacct on @ifindex, described
 * in @what ("" none). */
int sa_stages_remove_stale(int ifindex, char *what, size_t len, int *holder);
/* What a pinned synacct left on @ifindex, stage by stage; the first
 * failure is returned (said on stderr). */
int sa_stages_detach_pinned(int ifindex, const char *ifname);
/* The TCP listener iterator (the listener stage's). */
const struct sa_listener_iter *sa_registry_listeners(void);

/* Shared between stages by name while the sharer is open: a descriptor
 * or an object.  -ENOENT / NULL when nothing is shared under @name. */
int sa_registry_share_fd(const char *name, int fd);
int sa_registry_fd(const char *name);
int sa_registry_share(const char *name, const void *obj);
const void *sa_registry_get(const char *name);
void sa_registry_withdraw(const char *name);

#endif /* SYNACCT_STAGE_H */
