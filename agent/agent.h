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
#define SA_PORT_COUNTERS(X)				\
	X(nic_syn, true)				\
	X(tc_syn, true)					\
	X(synack_sent, true)				\
	X(listener_syn, true)				\
	X(syn_queued, true)				\
	X(syncookies_sent, true)			\
	X(listen_drop_accept_queue_full, false)		\
	X(listen_drop_syn_queue_full, false)		\
	X(listen_drop_other, false)			\
	X(listener_unclassified, false)			\
	X(syn_to_request_sock, true)			\
	X(synack_retrans, true)				\
	X(established, true)				\
	X(ack_dropped_accept_full, true)		\
	X(syncookies_recv, true)			\
	X(syncookies_failed, true)			\
	X(syncookies_no_ts, true)			\
	X(syncookies_mss_0, false)			\
	X(syncookies_mss_1, false)			\
	X(syncookies_mss_2, false)			\
	X(syncookies_mss_3, false)			\
	X(syncookies_mss_4, false)			\
	X(syncookies_mss_5, false)			\
	X(syncookies_mss_6, false)			\
	X(syncookies_mss_7, false)

/* The second X() argument: printed as a top-level key of a port object
 * (the others appear nested: listen_drops.*, unexplained.at_listener). */

enum sa_counter {
#define SA_ENUM(name, flat) SA_C_##name,
	SA_PORT_COUNTERS(SA_ENUM)
#undef SA_ENUM
	SA_C_MAX
};

extern const char *const sa_counter_names[SA_C_MAX];
extern const bool sa_counter_flat[SA_C_MAX];

/* enum skb_drop_reason values we keep per port (6.18 has 128). */
#define SA_MAX_REASONS 256

/* Listener state at the moment of reading (iter/tcp): gauges, not
 * counters, summed over the listening sockets of the port. */
struct sa_listener_gauges {
	__u32 listeners;
	__u32 syn_queue_len;
	__u32 accept_queue_len;
	__u32 accept_backlog;	/* the last one seen if the listener closed */
	__u64 drops;		/* sk_drops, cumulative */
};

/* One stack_drops entry of a port: kept sparse, since a port sees one or
 * two reasons and a port scan touches every port. */
struct sa_drop_count {
	__u32 reason;
	__u64 n;
};

struct sa_port_stats {
	__u64 c[SA_C_MAX];
	struct sa_drop_count *drops;	/* stack_drops by reason */
	__u32 n_drops;
	struct sa_listener_gauges g;
	/* Derived in a difference: established minus the accept queue's
	 * growth, i.e. what the application took off the queue. */
	__s64 accepted;
};

/*
 * The watched namespace's own MIB counters (nstat names), read from
 * /proc/net/{netstat,snmp}: the independent cross-check for the per-port
 * sums.
 */
#define SA_MIB_COUNTERS(X)				\
	X(TcpExtListenOverflows, "TcpExt", "ListenOverflows")	\
	X(TcpExtListenDrops, "TcpExt", "ListenDrops")		\
	X(TcpExtSyncookiesSent, "TcpExt", "SyncookiesSent")	\
	X(TcpExtSyncookiesRecv, "TcpExt", "SyncookiesRecv")	\
	X(TcpExtSyncookiesFailed, "TcpExt", "SyncookiesFailed")	\
	X(TcpExtTCPReqQFullDrop, "TcpExt", "TCPReqQFullDrop")	\
	X(TcpExtTCPReqQFullDoCookies, "TcpExt", "TCPReqQFullDoCookies") \
	X(TcpExtTCPSynRetrans, "TcpExt", "TCPSynRetrans")	\
	X(TcpPassiveOpens, "Tcp", "PassiveOpens")

enum sa_mib_counter {
#define SA_MIB_ENUM(name, group, field) SA_MIB_##name,
	SA_MIB_COUNTERS(SA_MIB_ENUM)
#undef SA_MIB_ENUM
	SA_MIB_MAX
};

extern const char *const sa_mib_names[SA_MIB_MAX];
int sa_mib_read(__u64 *mib);
/* A sysctl of the current namespace by dotted name; -errno on failure. */
int sa_sysctl_read(const char *name, long *value);
/* net.ipv4.tcp_syncookies of the current namespace, or -1. */
int sa_sysctl_syncookies(void);

/* A snapshot of every stage's maps: sparse, one entry per port seen. */
struct sa_snapshot {
	struct sa_port_stats *port[SA_MAX_PORTS];
	__u64 nic_unparsed;
	__u64 tc_unparsed;
	__u64 mib[SA_MIB_MAX];
	int tcp_syncookies;	/* the namespace's setting when read, -1 unknown */
	/* Every listening socket when read (iter/tcp), per socket. */
	struct sa_listener *listeners;
	size_t n_listeners;
};

struct sa_snapshot *sa_snapshot_new(void);
void sa_snapshot_free(struct sa_snapshot *s);
void sa_snapshot_clear(struct sa_snapshot *s);
struct sa_port_stats *sa_snapshot_port(struct sa_snapshot *s, __u32 port);
/* The port's counter for drop @reason, created at 0; NULL without memory. */
__u64 *sa_port_drop(struct sa_port_stats *ps, __u32 reason);
/* Its value, 0 when the port never saw the reason. */
__u64 sa_port_drop_get(const struct sa_port_stats *ps, __u32 reason);
/* out = a - b, field by field (ports missing in b count from zero). */
void sa_snapshot_diff(struct sa_snapshot *out, const struct sa_snapshot *a,
		      const struct sa_snapshot *b);
void sa_snapshot_copy(struct sa_snapshot *dst, const struct sa_snapshot *src);
int sa_snapshot_add_listener(struct sa_snapshot *s, const struct sa_listener *l);
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

/* The listeners' queues, from a TCP iterator (kprobe/listeners.c). */
struct sa_listeners;
int sa_listeners_open(struct sa_listeners **out, const char *btf);
/* Calls @fn for each listening socket of the caller's namespace; stops at
 * the first non-zero return and passes it on. */
int sa_listeners_read(struct sa_listeners *ls,
		      int (*fn)(const struct sa_listener *l, void *ctx),
		      void *ctx);
void sa_listeners_close(struct sa_listeners *ls);

/* Stage 3: the TCP stack (kprobe/stack.c). */
struct stack_stage;
int stack_stage_open(struct stack_stage **out, const char *btf,
		     const int *ifindex, int n_ifindex, bool verbose);
int stack_stage_read(struct stack_stage *st, struct sa_snapshot *snap);
/* Hooks in use, for -v and the summary's "hooks". */
int stack_stage_hooks(struct stack_stage *st, const char **names, int max);
void stack_stage_close(struct stack_stage *st);

/* enum skb_drop_reason names without the SKB_DROP_REASON_ prefix, from
 * the running kernel's BTF (filled by stack_stage_open). */
extern char *sa_reason_names[SA_MAX_REASONS];
const char *sa_reason_name(__u32 reason);
int sa_reason_id(const char *name);

/* Reconciliation (agent/reconcile.c): what each port's figures add up to,
 * and the sentence that says where SYNs are lost. */
struct sa_port_view {
	bool stack;		/* the stack stage is attached */
	bool nic;		/* the XDP stage is attached */
	__u64 stack_drops;	/* every reason */
	__u64 pre_tc_drops;	/* reasons that happen between XDP and TC */
	__u64 listen_drops;
	__s64 unexplained_nic_to_tc;
	__s64 unexplained_tc_to_listener;
	__s64 unexplained_at_listener;
	__s64 unexplained_synack_sent;
	char verdict[320];
};

void sa_reconcile_port(const struct sa_port_stats *ps, bool nic, bool stack,
		       struct sa_port_view *v);
/* Compare the per-port sums of @total with its namespace MIB deltas;
 * names of the mismatching figures go to @bad (comma separated). */
bool sa_reconcile_mib(const struct sa_snapshot *total, char *bad, size_t badlen);

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

/* Privileges (agent/caps.c): XDP/TC need @net_admin, --netns @setns. */
bool sa_have_privileges(bool net_admin, bool setns);

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
	bool stack;		/* stack stage attached */
	const char *xdp_mode;	/* "native" or "skb" */
	const char **hooks;
	int n_hooks;
	int tcp_syncookies;	/* latest reading, -1 unknown */
	double interval_s;
	/* The last two readings, for rates in the live table. */
	const struct sa_snapshot *now, *before;
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

/* A listener as JSON: addr, port, family, inode and its queues. */
struct json_object;
struct json_object *sa_json_listener(const struct sa_listener *l);
void sa_listener_addr(const struct sa_listener *l, char *buf, size_t len);

void sa_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sa_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* `synacct check` (agent/check.c): a one-shot audit of a namespace's SYN
 * defences.  argv[0] is "synacct check"; returns the exit status, which
 * is SA_EXIT_FINDINGS when a finding is at warning level or above. */
#define SA_EXIT_FINDINGS 3
int sa_check_main(int argc, char **argv);

#endif /* SYNACCT_AGENT_H */
