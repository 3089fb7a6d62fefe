/* SPDX-License-Identifier: GPL-2.0 */
/*
 * agent.h - what the agent's parts share: the per-port statistics every
 * stage fills in, the stage loaders' interface, options and output.
 */
#ifndef SYNACCT_AGENT_H
#define SYNACCT_AGENT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/types.h>
#include "synacct.h"

#define SA_EXIT_OK	0
#define SA_EXIT_RUNTIME	1
#define SA_EXIT_USAGE	2

#define SA_MAX_IFACES	16

/*
 * Per-port counters, in funnel order.  The name given to X() is the name of
 * the quantity everywhere: struct field in include/synacct.h, JSON key,
 * table column.
 */
#define SA_PORT_COUNTERS(X)	\
	X(nic_syn)		\
	X(tc_syn)		\
	X(synack_sent)

enum sa_counter {
#define SA_ENUM(name) SA_C_##name,
	SA_PORT_COUNTERS(SA_ENUM)
#undef SA_ENUM
	SA_C_MAX
};

extern const char *const sa_counter_names[SA_C_MAX];

struct sa_port_stats {
	__u64 c[SA_C_MAX];
};

/* A snapshot of every stage's maps: sparse, one entry per port seen. */
struct sa_snapshot {
	struct sa_port_stats *port[SA_MAX_PORTS];
	__u64 nic_unparsed;
	__u64 tc_unparsed;
};

struct sa_snapshot *sa_snapshot_new(void);
void sa_snapshot_free(struct sa_snapshot *s);
void sa_snapshot_clear(struct sa_snapshot *s);
struct sa_port_stats *sa_snapshot_port(struct sa_snapshot *s, __u32 port);
/* out = a - b, field by field (ports missing in b count from zero). */
void sa_snapshot_diff(struct sa_snapshot *out, const struct sa_snapshot *a,
		      const struct sa_snapshot *b);
void sa_snapshot_copy(struct sa_snapshot *dst, const struct sa_snapshot *src);
bool sa_port_stats_zero(const struct sa_port_stats *ps);

/*
 * Read a per-CPU hash keyed by port whose value is @nfields __u64 counters,
 * summing the CPUs, and add each value into snapshot counter first + i.
 */
int sa_read_port_map(int map_fd, unsigned int nfields, enum sa_counter first,
		     struct sa_snapshot *snap);
/* Sum over CPUs of the one-entry per-CPU array parse_counters. */
int sa_read_unparsed(int map_fd, __u64 *out);

/* Stage 1: XDP (xdp/nic.c). */
struct nic_stage;
/* @btf: kernel BTF file for CO-RE, NULL for the running kernel's. */
int nic_stage_open(struct nic_stage **out, bool verbose, const char *btf);
int nic_stage_attach(struct nic_stage *st, int ifindex, const char *ifname,
		     bool force_skb);
int nic_stage_read(struct nic_stage *st, struct sa_snapshot *snap);
const char *nic_stage_mode(struct nic_stage *st);
void nic_stage_close(struct nic_stage *st);

/* Stage 2: TC (tc/tc.c). */
struct tc_stage;
int tc_stage_open(struct tc_stage **out, const char *btf);
int tc_stage_attach(struct tc_stage *st, int ifindex, const char *ifname);
int tc_stage_read(struct tc_stage *st, struct sa_snapshot *snap);
void tc_stage_close(struct tc_stage *st);

/* Ports: --ports parsing and listener discovery (agent/ports.c). */
struct sa_portset {
	__u64 bits[SA_MAX_PORTS / 64];
	bool any;		/* nothing given: every port */
};

int sa_portset_parse(struct sa_portset *ps, const char *spec);
static inline bool sa_portset_has(const struct sa_portset *ps, __u32 port)
{
	return ps->any || (ps->bits[port / 64] >> (port % 64)) & 1;
}
static inline void sa_portset_add(struct sa_portset *ps, __u32 port)
{
	ps->bits[port / 64] |= 1ULL << (port % 64);
}
/* Ports with a TCP listener in the current network namespace. */
int sa_listening_ports(struct sa_portset *out);

/* Network namespace (agent/netns.c). */
int sa_netns_enter(const char *name_or_path, char *err, size_t errlen);

/* Output (agent/report.c). */
struct sa_report_ctx {
	const char *netns;
	const char **ifaces;
	int n_ifaces;
	bool json;
	bool tty;
	bool no_xdp;
	const char *xdp_mode;	/* "native" or "skb" */
	double interval_s;
};

/* Which ports a record shows: the --ports selection, narrowed to ports
 * that saw traffic since start or have a listener. */
void sa_select_ports(const struct sa_portset *sel,
		     const struct sa_snapshot *total,
		     const struct sa_portset *listeners,
		     struct sa_portset *out);

void sa_report_start(const struct sa_report_ctx *rc);
void sa_report_interval(const struct sa_report_ctx *rc,
			const struct sa_snapshot *delta,
			const struct sa_snapshot *total,
			const struct sa_portset *shown, double elapsed_s);
void sa_report_summary(const struct sa_report_ctx *rc,
		       const struct sa_snapshot *total,
		       const struct sa_portset *shown, double elapsed_s);

void sa_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sa_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* SYNACCT_AGENT_H */
