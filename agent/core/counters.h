/* SPDX-License-Identifier: GPL-2.0 */
/*
 * counters.h - the agent's view of the counter table in include/synacct.h:
 * one enum entry per counter, and for each its stage, JSON key and help,
 * all generated from the table.  Gauges (listener state) and the figures
 * the reconciler derives are listed here too, so that every quantity the
 * agent prints has one definition.
 */
#ifndef SYNACCT_COUNTERS_H
#define SYNACCT_COUNTERS_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>
#include "synacct.h"

enum sa_stage_id {
	SA_STAGE_NIC,
	SA_STAGE_TC,
	SA_STAGE_STACK,
	SA_STAGE_CONTAINER,
	SA_STAGE_LOST,		/* counts_lost, added over the objects */
	SA_STAGE_RETRIES,	/* client retries (tc/retries/) */
	SA_STAGE_MAX
};

enum sa_counter {
#define SA_ENUM(stage, name, group, key, help) SA_C_##name,
	SA_COUNTERS(SA_ENUM)
#undef SA_ENUM
	SA_C_MAX
};

struct sa_counter_def {
	const char *name;	/* struct field, SA_C_<name> */
	enum sa_stage_id stage;
	const char *group;	/* "" top level, "hidden", or the JSON object */
	const char *key;	/* JSON key, metric name or label value */
	const char *help;
};

extern const struct sa_counter_def sa_counters[SA_C_MAX];
/* First counter of each stage and how many it has: a stage's map value is
 * that many consecutive __u64 (static asserts in counters.c). */
extern const enum sa_counter sa_stage_first[SA_STAGE_MAX];
extern const unsigned int sa_stage_ncounters[SA_STAGE_MAX];
extern const char *const sa_stage_names[SA_STAGE_MAX];

/* Label name of a group's metric family ("cause" for listen_drops), or
 * NULL for a group without one. */
const char *sa_group_label(const char *group);
/* Whether a group prints only its keys that are not zero. */
bool sa_group_sparse(const char *group);
/* Counter @c's metric: synacct_<key>_total, or for a grouped counter
 * synacct_<group>_total{<label>="<key>"}; a container row's is its
 * twin's family with netns="NS"; -1 for a hidden one. */
int sa_counter_metric(enum sa_counter c, char *buf, size_t len);
/* The host counter (stack stage) that container row @c counts the same
 * quantity as: listener_syn, listen_drops.other for listen_drop_other,
 * ...; -1 for none (stack_drops: a family by reason on the host) and for
 * a row that is not the container's. */
int sa_container_twin(enum sa_counter c);
/* Every quantity as the Markdown table of docs/design.md. */
void sa_counters_markdown(FILE *f);

static inline bool sa_counter_top_level(enum sa_counter c)
{
	return !sa_counters[c].group[0];
}

/*
 * Per-port gauges: listener state when read (iter/tcp), summed over the
 * listening sockets of the port.  X(name, help); name = JSON key = metric
 * synacct_<name>.
 */
#define SA_GAUGES(X)							\
	X(listeners, "listening sockets on the port")			\
	X(syn_queue_len, "request socks in the SYN queue (icsk_accept_queue.qlen)") \
	X(accept_queue_len, "connections waiting in the accept queue (sk_ack_backlog)") \
	X(accept_backlog, "accept queue limit (sk_max_ack_backlog); the last seen after the listener closed") \
	X(listener_sk_drops, "the listening sockets' own drop counter (sk_drops: every packet the kernel dropped for them, SYNs and handshake ACKs, since they started listening)")

/*
 * Figures the reconciler derives per port (agent/analysis/reconcile.c).
 * X(name, group, key, metric, help): group and key as in the counter
 * table; metric as Prometheus has it (sums are sum() of a family there).
 * The gaps are apart, in sa_gaps[].
 */
#define SA_DERIVED(X)							\
	X(accepted, , accepted, "synacct_accepted_total",		\
	  "connections the application took off the accept queue: established minus the queue's growth") \
	X(stack_drops_total, , stack_drops, "sum(synacct_stack_drops_total)", \
	  "the table's stack_drops column: SYNs freed before a socket, every reason") \
	X(listen_drops_total, , listen_drops, "sum(synacct_listen_drops_total)", \
	  "the table's listen_drops column: SYNs dropped at the listener, every cause") \
	X(ct_accepted, container, accepted, "synacct_accepted_total{netns=\"NS\"}", \
	  "connections the application in the followed namespace took off its accept queue")

enum sa_derived {
#define SA_DERIVED_ENUM(name, group, key, metric, help) SA_D_##name,
	SA_DERIVED(SA_DERIVED_ENUM)
#undef SA_DERIVED_ENUM
	SA_D_MAX
};
/* Each derived figure's JSON key (within its group). */
extern const char *const sa_derived_keys[SA_D_MAX];

/*
 * The gaps of the funnel's equations: JSON unexplained.<key>, metric
 * synacct_unexplained{gap="<key>"}.  A gap is the sum of its terms, each
 * a counter of the table or the port's SYN drops on one side of TC, with
 * its sign; what is left of it once the port's lost counts (counts_lost)
 * are set off is unexplained.  reconcile.c computes them and names them in
 * verdicts, settle.c tells SYNs in flight across them from SYNs lost, the
 * docs' table and the lab's check list are printed from them
 * (synacct counters).
 */
enum sa_gap {
	SA_GAP_nic_to_tc,
	SA_GAP_tc_to_listener,
	SA_GAP_at_listener,
	SA_GAP_synack_sent,
	SA_GAP_to_container,
	SA_GAP_at_container_listener,
	SA_GAP_MAX
};

/* Terms besides the counters (enum sa_counter). */
enum sa_term {
	/* SYNs the stack dropped between XDP and TC (the per-CPU backlog),
	 * with native XDP only: with generic XDP they are before both. */
	SA_T_drops_before_tc = SA_C_MAX,
	/* SYNs the stack dropped after TC ingress: every other reason. */
	SA_T_drops_after_tc,
};

#define SA_GAP_MAX_TERMS	8

struct sa_gap_term {
	int sign;		/* +1 or -1; 0 ends the list */
	int term;		/* enum sa_counter or enum sa_term */
};

struct sa_gap_def {
	const char *key;
	/* The stage whose figures it needs: SA_STAGE_NIC (XDP attached),
	 * SA_STAGE_STACK, or SA_STAGE_CONTAINER (a namespace followed all
	 * along: forwarded SYNs before that were never counted there). */
	enum sa_stage_id stage;
	bool synack;		/* counts SYN-ACKs, not SYNs */
	/* The counter a SYN in flight across the gap was counted by last,
	 * taken off by settle.c, with that of the gap it passed before;
	 * -1: not settled. */
	int upstream;
	/* The verdict for a positive gap: printf of (long long gap, the
	 * followed namespace's name or @nowhere). */
	const char *lost;
	const char *nowhere;
	const char *note;	/* added to the equation in the docs, or NULL */
	struct sa_gap_term terms[SA_GAP_MAX_TERMS];
};

extern const struct sa_gap_def sa_gaps[SA_GAP_MAX];
/* A term's name: its JSON key ("listen_drops.other", "container.syn_queued")
 * or what it stands for. */
const char *sa_term_name(int term, char *buf, size_t len);
/* A counter's JSON key, as a path ("listen_drops.other",
 * "container.listen_drops.other"): the container's listener counters
 * take the host listener's keys (sa_container_twin). */
const char *sa_counter_json_key(enum sa_counter c, char *buf, size_t len);
/* Gap @g's equation, e.g. "nic_syn - tc_syn - ...", with its note. */
void sa_gap_equation(enum sa_gap g, char *buf, size_t len);
/* The gap whose equation subtracts @g's upstream counter (the gap a SYN
 * crossed before @g's), or -1. */
int sa_gap_before(enum sa_gap g);

enum sa_gauge {
#define SA_GAUGE_ENUM(name, help) SA_G_##name,
	SA_GAUGES(SA_GAUGE_ENUM)
#undef SA_GAUGE_ENUM
	SA_G_MAX
};
extern const char *const sa_gauge_keys[SA_G_MAX];

#endif /* SYNACCT_COUNTERS_H */
