/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snapshot.h - one reading of every stage's maps, kept sparse (one entry
 * per port seen), and differences of two readings: an interval is
 * now - previous, the totals are now - start.
 */
#ifndef SYNACCT_SNAPSHOT_H
#define SYNACCT_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <linux/types.h>
#include "counters.h"
#include "mib.h"

/*
 * Queue age (#24 item 3, kprobe/listeners): how long the oldest
 * connection of the port's accept queues has waited, and the half-open
 * requests by age since their first SYN-ACK and by SYN-ACK
 * retransmissions.  Gauges too: the state when read.  Bucket i of a
 * histogram holds what is <= its bound and above bound i-1 (the last:
 * above every bound); the outputs make them cumulative.
 */
#define SA_HALF_OPEN_AGE_BOUNDS { 1, 3, 7, 15, 31, 63 }	/* seconds: 1 s SYN-ACK RTO, doubling */
#define SA_HALF_OPEN_AGE_N	7
/* An accept queue whose head waited this long is not drained: verdict
 * accept_queue_stalled (and the alert SynacctAcceptQueueStalled). */
#define SA_ACCEPT_QUEUE_STALLED_US 10000000
#define SA_HALF_OPEN_RETRANS_BOUNDS { 0, 1, 2, 3, 4, 5 }	/* tcp_synack_retries: 5 by default */
#define SA_HALF_OPEN_RETRANS_N	7
struct sa_queue_age {
	/* 1: the age was measured (the kernel's HZ is known and a listener
	 * was read); accept_queue_oldest_age_us 0 then means an empty queue. */
	__u64 accept_queue_age_known;
	__u64 accept_queue_oldest_age_us;
	__u64 half_open;		/* requests read, timed or not */
	__u64 half_open_untimed;	/* of those, no SYN-ACK sent yet (snt_synack 0) */
	__u64 half_open_age[SA_HALF_OPEN_AGE_N];	/* timed ones */
	__u64 half_open_age_sum_us;
	__u64 half_open_retrans[SA_HALF_OPEN_RETRANS_N];
	__u64 half_open_retrans_sum;
};

/* Listener state at the moment of reading: gauges, not counters. */
struct sa_listener_gauges {
#define SA_GAUGE_FIELD(name, help) __u64 name;
	SA_GAUGES(SA_GAUGE_FIELD)
#undef SA_GAUGE_FIELD
	struct sa_queue_age qa;
};

/* A listener record's queue age (@hz: the kernel's, 0 unknown) and a
 * half-open request's, into @qa; the sum of two ports' into @sum. */
void sa_queue_age_add_listener(struct sa_queue_age *qa, const struct sa_listener *l,
			       unsigned int hz);
void sa_queue_age_add_request(struct sa_queue_age *qa, const struct sa_listener *r);
void sa_queue_age_sum(struct sa_queue_age *sum, const struct sa_queue_age *qa);

/* One stack_drops entry of a port: kept sparse, since a port sees one or
 * two reasons and a port scan touches every port. */
struct sa_drop_count {
	__u32 reason;
	__u64 n;
};

/* In sa_drop_count.reason, SA_DROP_SYNACK (include/synacct.h): a
 * SYN-ACK dropped after TC egress (JSON synack_drops). */

/* A port's counters, sparse: only those not zero are held, packed in
 * counter order.  A port scan touches every port with two of the forty
 * (nic_syn, tc_syn), so those fit inline; a listening port's spill to
 * the heap.  Read with sa_c(), written with sa_c_set() and sa_c_add(). */
#define SA_COUNTS_INLINE 2
struct sa_counts {
	__u64 held;		/* bit c: counter c is held (not zero) */
	__u64 *heap;		/* the values when more than inline; else NULL */
	__u64 inl[SA_COUNTS_INLINE];
};

struct sa_port_stats {
	struct sa_counts c;
	struct sa_drop_count *drops;	/* stack_drops by reason */
	__u32 n_drops;
	/* Output interface of the port's last forwarded SYN, 0: none. */
	__u32 fwd_ifindex;
	/* Its listeners' gauges; NULL: none (most ports: a scan's), read
	 * through sa_g(), made by sa_port_gauges().  Apart, so that a
	 * scanned port's entry is 88 bytes, not 120. */
	struct sa_listener_gauges *gauges;
	/* Derived in a difference: established minus the accept queue's
	 * growth, i.e. what the application took off the queue. */
	__s64 accepted;
	/* Where NAT in the namespace sends this (published) port's SYNs;
	 * NULL: nowhere (most ports). */
	struct sa_nat *nat;
	/* Where its forwarded SYNs are followed to (kprobe/container/follow.c); NULL: not
	 * followed (most ports), read through sa_follow_of(). */
	struct sa_port_follow *follow;
	/* NAT sends another port's SYNs to this port's listener: that port
	 * shows its gauges and the accept queue's growth (kprobe/stack/stack_read.c). */
	bool gauges_lent;
	/* In a difference: the gauges are not what they were in the older
	 * reading (a queue moved, a listener came or went). */
	bool gauges_moved;
};

/* A followed namespace's name: as found, at most this long ("pid:PID
 * cgroup"), then escaped for display (escape.h: 4 bytes a byte at most). */
#define SA_NETNS_NAME_RAW	280
#define SA_NETNS_NAME_MAX	(4 * SA_NETNS_NAME_RAW + 4)

struct sa_pod;

/* A port whose forwarded SYNs reach a followed namespace (a container's). */
struct sa_port_follow {
	__u64 cookie;		/* the namespace's */
	/* Its name, escaped where it entered (kprobe/container/follow.c): safe for a
	 * terminal, valid UTF-8 for JSON. */
	const char *netns;
	/* Its pod and container (agent/core/pod.h), escaped as the name;
	 * NULL: neither known. */
	const struct sa_pod *pod;
	__u32 port;		/* where the SYNs are sent there */
	/* The first reading it was followed for; in a difference, whether
	 * it was followed all along (only then are forwarded SYNs it does
	 * not show unexplained). */
	unsigned long since;
	bool whole;
	struct sa_listener_gauges cg;	/* that listener's, there */
	__s64 accepted;		/* in a difference: taken off its queue */
};

extern const struct sa_port_follow sa_no_follow;
extern const struct sa_listener_gauges sa_no_gauges;

static inline const struct sa_listener_gauges *sa_g(const struct sa_port_stats *ps)
{
	return ps->gauges ? ps->gauges : &sa_no_gauges;
}

static inline const struct sa_port_follow *sa_follow_of(const struct sa_port_stats *ps)
{
	return ps->follow ? ps->follow : &sa_no_follow;
}

static inline const __u64 *sa_counts_vals(const struct sa_counts *k)
{
	return k->heap ? k->heap : k->inl;
}

static inline unsigned int sa_counts_n(const struct sa_counts *k)
{
	return __builtin_popcountll(k->held);
}

/* What synacct itself costs (agent/sys/self.c): the process_* metrics. */
struct sa_self {
	double cpu_seconds;		/* user + system, since start */
	unsigned long long resident_bytes;
	double start_time;		/* Unix seconds */
};

/* Counter @c of the port, 0 when not held. */
static inline __u64 sa_c(const struct sa_port_stats *ps, enum sa_counter c)
{
	__u64 bit = 1ULL << c;

	if (!(ps->c.held & bit))
		return 0;
	return sa_counts_vals(&ps->c)[__builtin_popcountll(ps->c.held & (bit - 1))];
}

/* The SYNs a port saw: the largest of nic_syn, tc_syn and listener_syn
 * (a stage may be off).  What ranks ports for --metrics-top and for the
 * rows a bounded JSON record keeps. */
static inline __u64 sa_port_syns(const struct sa_port_stats *ps)
{
	__u64 n = sa_c(ps, SA_C_nic_syn);

	if (sa_c(ps, SA_C_tc_syn) > n)
		n = sa_c(ps, SA_C_tc_syn);
	if (sa_c(ps, SA_C_listener_syn) > n)
		n = sa_c(ps, SA_C_listener_syn);
	return n;
}

/* Set counter @c (0 lets it go); -ENOMEM when it needs room there is not. */
int sa_c_set(struct sa_port_stats *ps, enum sa_counter c, __u64 v);

static inline int sa_c_add(struct sa_port_stats *ps, enum sa_counter c, __u64 v)
{
	return v ? sa_c_set(ps, c, sa_c(ps, c) + v) : 0;
}

/* Free what the entry holds (counters, drops, follow record, NAT
 * mapping), leaving it zeroed; the entry itself is the caller's. */
void sa_port_stats_release(struct sa_port_stats *ps);

/* The port's NAT mapping, created zeroed; NULL without memory. */
struct sa_nat *sa_port_nat(struct sa_port_stats *ps);

/* The port's gauges, created zeroed; NULL without memory. */
struct sa_listener_gauges *sa_port_gauges(struct sa_port_stats *ps);

/* The port's follow record, created zeroed; NULL without memory. */
struct sa_port_follow *sa_port_follow(struct sa_port_stats *ps);

/*
 * Stage 0 (xdp/driver/): what was lost before XDP and TC, which no port
 * can be charged with: per watched interface the driver's own drop
 * counters (rtnetlink stats64, and ethtool's per-queue counters that
 * name drops), per CPU the backlog's (/proc/net/softnet_stat).  Kernel
 * counters, as read; in a difference, what they grew by.
 */
#define SA_DRIVER_QSTATS	32	/* per-queue drop counters kept an interface */
#define SA_DRIVER_QNAME		33	/* ETH_GSTRING_LEN, and its end */
struct sa_driver_qstat {
	char name[SA_DRIVER_QNAME];	/* the driver's ("rx_queue_0_drops") */
	__u64 n;
};

struct sa_driver_iface {
	char name[16];			/* IFNAMSIZ */
	__u64 rx_dropped;		/* struct rtnl_link_stats64's */
	__u64 rx_missed_errors;
	__u64 rx_fifo_errors;
	struct sa_driver_qstat q[SA_DRIVER_QSTATS];
	int n_q;
};

struct sa_softnet_cpu {
	__u32 cpu;
	/* Since boot; the kernel's are 32 bits, made 64 by the stage. */
	__u64 dropped;			/* the backlog was full (netdev_max_backlog) */
	__u64 time_squeeze;		/* net_rx_action ran out of budget or time */
};

struct sa_driver {
	bool read;			/* the stage read them (it is on) */
	struct sa_driver_iface iface[SA_MAX_IFACES];
	int n_ifaces;
	struct sa_softnet_cpu *cpu;	/* by CPU id, online CPUs only */
	__u32 n_cpus;
};

/*
 * One line of /proc/net/softnet_stat, the @nr-th (from 0): its CPU's id,
 * dropped and time_squeeze (32 bits, the kernel's).  Hex columns: 0
 * processed, 1 dropped, 2 time_squeeze, ..., 12 the CPU's id since
 * Linux 5.10 (13 columns on 6.1; 15 on 6.12 and 6.18, with the two queue
 * lengths; a change proposed on netdev adds two more, the kinds of
 * squeeze, column 2 staying their sum); before it the line's number is
 * the id.  Columns beyond are ignored.  Returns the number
 * of columns, or -EPROTO for a line with fewer than 3.
 */
int sa_softnet_parse(const char *line, __u32 nr, __u32 *cpu, __u32 *dropped,
		     __u32 *squeeze);

/* Sums over the CPUs. */
__u64 sa_softnet_dropped(const struct sa_driver *d);
__u64 sa_softnet_squeezed(const struct sa_driver *d);
/* What the interface's driver dropped: its queue counters, its missed
 * and FIFO errors, rx_dropped apart (it also counts backlog drops). */
__u64 sa_driver_queue_drops(const struct sa_driver_iface *i);
/* Whether stage 0 saw anything lost (every drop counter, not squeezes). */
bool sa_driver_dropped(const struct sa_driver *d);

struct sa_snapshot {
	struct sa_port_stats *port[SA_MAX_PORTS];
	unsigned long gen;	/* which reading this is: 1, 2, ... */
	/* When the reading began (CLOCK_REALTIME): what happened before it
	 * is in its figures (synacct_last_read_timestamp_seconds). */
	struct timespec read_at;
	__u64 nic_unparsed;
	__u64 tc_unparsed;
	/* Counts each stage lost to a full counter map (update_failed). */
	__u64 nic_update_failed;
	__u64 tc_update_failed;
	__u64 stack_update_failed;
	/* Runs of the stack stage's tracing programs the kernel skipped: a
	 * program that fires again on a CPU where it is still running (an
	 * interrupt on top of it) is not run (bpf_prog_info.recursion_misses). */
	__u64 missed_runs;
	__u64 mib[SA_MIB_MAX];
	int tcp_syncookies;	/* the namespace's setting when read, -1 unknown */
	/* Every listening socket when read (iter/tcp), per socket. */
	struct sa_listener *listeners;
	size_t n_listeners;
	bool listeners_read;	/* the iterator read them (none may be) */
	struct sa_driver driver;	/* stage 0: no port */

	/* The reading (gen) that last changed a port's figures in this one,
	 * kept by sa_snapshot_merge: what a page made from it is keyed by
	 * (agent/output/prom.c).  0: not kept (every page made afresh). */
	unsigned long ports_gen;
	/* Entries that are another snapshot's (sa_snapshot_diff_moved): not
	 * freed by this one.  A bit per port. */
	__u64 borrowed[SA_MAX_PORTS / 64];
};

struct sa_snapshot *sa_snapshot_new(void);
void sa_snapshot_free(struct sa_snapshot *s);
void sa_snapshot_clear(struct sa_snapshot *s);
/* The port's entry, created zeroed; NULL without memory. */
struct sa_port_stats *sa_snapshot_port(struct sa_snapshot *s, __u32 port);
/* The port's entry, or a zeroed one when the snapshot has none. */
const struct sa_port_stats *sa_snapshot_get(const struct sa_snapshot *s, __u32 port);
/* The port's counter for drop @reason, created at 0; NULL without memory. */
__u64 *sa_port_drop(struct sa_port_stats *ps, __u32 reason);
/* Its value, 0 when the port never saw the reason. */
__u64 sa_port_drop_get(const struct sa_port_stats *ps, __u32 reason);
bool sa_port_stats_zero(const struct sa_port_stats *ps);
/* Add @ps's counters, drops, gauges and accepted into @sum (a row that
 * stands for several ports: "other"); -ENOMEM. */
int sa_port_stats_add(struct sa_port_stats *sum, const struct sa_port_stats *ps);
/* out = a - b, field by field (ports missing in b count from zero);
 * -ENOMEM, with @out cleared, when memory runs out. */
int sa_snapshot_diff(struct sa_snapshot *out, const struct sa_snapshot *a,
		     const struct sa_snapshot *b);
/* The same, with only the ports whose counters, drops or gauges moved
 * (an interval record: after a port scan, the next intervals do not
 * carry a zero entry for every port scanned).  A port @b has no entry
 * for, whose difference is @a's entry as it is (no listener, no follow
 * record: a scan's new ports), is @a's entry itself, not a copy: @a must
 * not change nor free its entries while @out is in use (moving them to
 * another snapshot, as sa_snapshot_merge does, is fine). */
int sa_snapshot_diff_moved(struct sa_snapshot *out, const struct sa_snapshot *a,
			   const struct sa_snapshot *b);
int sa_snapshot_copy(struct sa_snapshot *dst, const struct sa_snapshot *src);
/* @from holds a reading of some ports only (@ports) and every figure
 * that has no port: move them into @into, a whole reading, which then is
 * the newer one (a port of @ports @from has no entry for goes); @from is
 * left empty.  @into's ports_gen, when kept, becomes @from's gen if a
 * port's figures changed. */
struct sa_portset;
void sa_snapshot_merge(struct sa_snapshot *into, struct sa_snapshot *from,
		       const struct sa_portset *ports);
/* Give @ps each drop reason @last has, at 0 (a reading of one port reads
 * the reasons it lists); -ENOMEM. */
int sa_port_seed_drops(struct sa_port_stats *ps, const struct sa_port_stats *last);
int sa_snapshot_add_listener(struct sa_snapshot *s, const struct sa_listener *l);
/* Add one listening socket's state to a port's gauges. */
void sa_gauges_add(struct sa_listener_gauges *g, const struct sa_listener *l);

/* Counts lost to full counter maps in @s, every stage. */
static inline __u64 sa_update_failed(const struct sa_snapshot *s)
{
	return s->nic_update_failed + s->tc_update_failed + s->stack_update_failed;
}

/* enum skb_drop_reason names without the SKB_DROP_REASON_ prefix, from
 * the running kernel's BTF (filled by the stack stage); agent/core/reason_names.c. */
#define SA_MAX_REASONS 256
extern char *sa_reason_names[SA_MAX_REASONS];
const char *sa_reason_name(__u32 reason);
int sa_reason_id(const char *name);
/* Subsystem drop reasons (>= 1 << 16: mac80211, openvswitch): the upper
 * 16 bits are the subsystem, the lower its own code.  Named from the
 * subsystems' BTF enums (kprobe/stack/reasons.c loads them). */
#define SA_SUBSYS_SHIFT	16
#define SA_SUBSYS_MAX	64	/* subsystem ids named */
struct btf;
int sa_subsys_reasons_load(const struct btf *btf);
int sa_subsys_reasons_load_modules(const struct btf *vmlinux);
/* Name reason @val (a copy of @name is kept); -ENOMEM. */
int sa_subsys_reason_add(__u32 val, const char *name);
/* Name subsystem @id (SKB_DROP_REASON_SUBSYS_ without its prefix). */
void sa_subsys_name_set(__u32 id, const char *name);
const char *sa_subsys_reason_name(__u32 reason);

#endif /* SYNACCT_SNAPSHOT_H */
