/* SPDX-License-Identifier: GPL-2.0 */
/*
 * synacct.h - the one header shared by the BPF programs and the agent.
 *
 * Counter layouts, keyed by TCP port, one struct per stage of a SYN's path.
 * Every field name here is the name of the quantity everywhere else: the
 * JSON key, the metric label, the docs.  Only fixed-width types, so the
 * layout is the same for clang -target bpf and for gcc.
 */
#ifndef SYNACCT_H
#define SYNACCT_H

/* Ports are the map key: one entry per destination (SYN) or source
 * (SYN-ACK) port.  65536 entries means a map can never be full. */
#define SA_MAX_PORTS 65536
/* include/bpf/count.h's ports_touched: a bit per port. */
#define SA_PORTS_TOUCHED_WORDS (SA_MAX_PORTS / 64)
/* The shared parser's limits (include/bpf/parse.h): VLAN tags, and IPv6
 * hop-by-hop / routing / destination-options / atomic fragment headers.
 * A frame beyond them is unparsed at XDP and TC; the stack side walks
 * further and counts such SYNs in syn_beyond_parser. */
#define SA_MAX_VLAN	2
#define SA_MAX_EXTHDR	4
/* Interfaces one synacct watches (XDP, TC and the stack stage's filter). */
#define SA_MAX_IFACES 16

/*
 * The MSS values a SYN cookie can encode: the kernel's msstab in
 * net/ipv4/syncookies.c and net/ipv6/syncookies.c (unchanged since 2013;
 * static, so not readable from BTF or kallsyms).  A cookie carries the
 * largest entry not above the client's MSS (the smallest one below all).
 * Slots 0-3 are IPv4, 4-7 IPv6: the syncookies_mss_* counters below.
 */
#define SA_COOKIE_MSS_N 8
/* The MSS the kernel assumes when a SYN carries none. */
#define SA_TCP_MSS_DEFAULT_V4 536
#define SA_TCP_MSS_DEFAULT_V6 1220

/*
 * THE COUNTER TABLE: every per-port counter, defined once, in the order of
 * a SYN's path.  Everything else is generated from it: the BPF map value
 * structs below, the agent's enum and names, the stage each counter
 * belongs to, its JSON key, its table column and its metric name.
 *
 *   X(stage, name, group, key, help)
 *
 *   stage  NIC, TC, STACK, CONTAINER or LOST: the map it lives in
 *          (nic_counters, tc_counters, stack_counters,
 *          container_counters, counts_lost), one struct field per row
 *   name   the struct field and the agent's SA_C_<name>
 *   group  empty: a top-level JSON key and metric synacct_<key>_total;
 *          otherwise the JSON object the key is nested in and the metric
 *          family synacct_<group>_total{<label>="<key>"} (label names in
 *          SA_GROUP_LABELS); "hidden": internal, never printed
 *   key    the JSON key (top level, or inside group)
 *   help   what it counts, for docs, --help and the metric's HELP line
 */
#define SA_NIC_COUNTERS(X)						\
	X(NIC, nic_syn, , nic_syn,					\
	  "SYNs (SYN set, ACK clear) seen by the NIC stage, per destination port: XDP (at the driver in native mode; generic, the default, runs on the skb just before TC), or with --xdp-mode tc TC ingress's first filter")

#define SA_TC_COUNTERS(X)						\
	X(TC, tc_syn, , tc_syn,						\
	  "SYNs seen by TC ingress, after XDP (in tc mode its last filter, after other tools')")				\
	X(TC, synack_sent, , synack_sent,				\
	  "SYN-ACKs seen by TC egress, per source port: queued, cookie and retransmitted")

#define SA_COOKIE_MSS_COUNTERS(X)					\
	X(STACK, syncookies_mss_0, syncookies_mss, 536, "cookies encoding MSS 536 (IPv4)")	\
	X(STACK, syncookies_mss_1, syncookies_mss, 1300, "cookies encoding MSS 1300 (IPv4)")	\
	X(STACK, syncookies_mss_2, syncookies_mss, 1440, "cookies encoding MSS 1440 (IPv4)")	\
	X(STACK, syncookies_mss_3, syncookies_mss, 1460, "cookies encoding MSS 1460 (IPv4)")	\
	X(STACK, syncookies_mss_4, syncookies_mss, 1220, "cookies encoding MSS 1220 (IPv6)")	\
	X(STACK, syncookies_mss_5, syncookies_mss, 1420, "cookies encoding MSS 1420 (IPv6)")	\
	X(STACK, syncookies_mss_6, syncookies_mss, 1440, "cookies encoding MSS 1440 (IPv6)")	\
	X(STACK, syncookies_mss_7, syncookies_mss, 8940, "cookies encoding MSS 8940 (IPv6)")

#define SA_STACK_COUNTERS(X)						\
	X(STACK, forwarded, , forwarded,				\
	  "SYNs the namespace routed onward (past its FORWARD hook): an outcome, not a loss") \
	X(STACK, listener_syn, , listener_syn,				\
	  "SYNs consumed by a listening socket")			\
	X(STACK, syn_beyond_parser, , syn_beyond_parser,		\
	  "SYNs the stack counted (listener_syn, syn_to_request_sock, stack_drops, forwarded) behind more IPv6 extension headers than the XDP/TC parser walks: in nic_unparsed and tc_unparsed, not in nic_syn or tc_syn") \
	X(STACK, syn_queued, , syn_queued,				\
	  "SYNs at the listener that created a request sock (queued)")		\
	X(STACK, syncookies_sent, , syncookies_sent,			\
	  "SYNs at the listener answered with a SYN cookie (SyncookiesSent)")		\
	X(STACK, listen_drop_accept_queue_full, listen_drops, accept_queue_full, \
	  "SYNs the listener dropped: accept queue full (ListenOverflows)") \
	X(STACK, listen_drop_syn_queue_full, listen_drops, syn_queue_full, \
	  "SYNs the listener dropped: SYN queue full, no cookies (TCPReqQFullDrop)") \
	X(STACK, listen_drop_other, listen_drops, other,		\
	  "SYNs the listener dropped for another reason (ListenDrops only)") \
	X(STACK, listener_unclassified, hidden, listener_unclassified,	\
	  "SYNs at the listener on a CPU with no MIB baseline yet (shows as unexplained.at_listener)") \
	X(STACK, syn_to_request_sock, , syn_to_request_sock,		\
	  "retransmitted SYNs answered from their existing request sock") \
	X(STACK, synack_retrans, , synack_retrans,			\
	  "SYN-ACK retransmissions (tcp_retransmit_synack)")		\
	X(STACK, synack_forwarded, , synack_forwarded,			\
	  "SYN-ACKs routed back through the namespace out of a watched interface") \
	X(STACK, synack_retrans_failed, , synack_retrans_failed,	\
	  "SYN-ACK retransmissions dropped after TC egress before the send returned: failed, so not in synack_retrans") \
	X(STACK, established, , established,				\
	  "handshakes completed into the accept queue (SYN_RECV -> ESTABLISHED)") \
	X(STACK, ack_dropped_accept_full, , ack_dropped_accept_full,	\
	  "handshake ACKs dropped because the accept queue was full")	\
	X(STACK, syncookies_recv, , syncookies_recv,			\
	  "cookie ACKs validated (SyncookiesRecv)")			\
	X(STACK, syncookies_failed, , syncookies_failed,		\
	  "cookie ACKs that failed validation (SyncookiesFailed)")	\
	X(STACK, syncookies_no_ts, , syncookies_no_ts,			\
	  "cookies sent to clients without TCP timestamps: no window scaling, no SACK") \
	SA_COOKIE_MSS_COUNTERS(X)

/*
 * The listener stage of forwarded SYNs in the namespace they were
 * forwarded to (a container's, found from the output device), counted
 * under the port the client asked for on the watched interface
 * (include/bpf/follow.h).  The same quantities as the stack stage's rows
 * of the same key, measured there; JSON object "container", metrics: the
 * stack stage's family of the same quantity with a netns label
 * (sa_container_twin, docs/metrics.md).
 */
#define SA_CONTAINER_COUNTERS(X)					\
	X(CONTAINER, ct_listener_syn, container, listener_syn,		\
	  "forwarded SYNs consumed by a listening socket in the namespace they were forwarded to") \
	X(CONTAINER, ct_syn_queued, container, syn_queued,		\
	  "of those, queued (request sock created)")			\
	X(CONTAINER, ct_syncookies_sent, container, syncookies_sent,	\
	  "of those, answered with a SYN cookie")			\
	X(CONTAINER, ct_accept_queue_full, container, accept_queue_full, \
	  "of those, dropped: accept queue full (ListenOverflows)")	\
	X(CONTAINER, ct_syn_queue_full, container, syn_queue_full,	\
	  "of those, dropped: SYN queue full, no cookies (TCPReqQFullDrop)") \
	X(CONTAINER, ct_listen_drop_other, container, listen_drop_other, \
	  "of those, dropped for another reason (ListenDrops only)")	\
	X(CONTAINER, ct_unclassified, hidden, ct_unclassified,		\
	  "forwarded SYNs at a listener on a CPU with no MIB baseline yet (shows as unexplained.at_container_listener)") \
	X(CONTAINER, ct_syn_to_request_sock, container, syn_to_request_sock, \
	  "forwarded retransmitted SYNs answered from their request sock there") \
	X(CONTAINER, ct_stack_drops, container, stack_drops,		\
	  "forwarded SYNs freed in that namespace before a socket took them (any reason)") \
	X(CONTAINER, ct_established, container, established,		\
	  "handshakes of forwarded SYNs completed into the accept queue there") \
	X(CONTAINER, ct_ack_dropped_accept_full, container, ack_dropped_accept_full, \
	  "handshake ACKs dropped there because the accept queue was full") \
	X(CONTAINER, ct_syncookies_recv, container, syncookies_recv,	\
	  "cookie ACKs validated there (SyncookiesRecv)")

/*
 * Counts lost, per port: every BPF object (XDP, TC, stack) counts in its
 * own map counts_lost, by the port the lost count was for, each count it
 * could not keep (a full map, no memory for an entry); the agent adds the
 * three.  A gap of a port no larger than this is explained by it
 * (agent/analysis/reconcile.c), never unexplained.  The total of each object is
 * prog_counters.update_failed.
 */
#define SA_LOST_COUNTERS(X)						\
	X(LOST, counts_lost, , counts_lost,				\
	  "counts of this port lost: a map entry could not be created (the map was full, or no memory); its figures are incomplete by as much")

/*
 * Client retries (tc/retries/): a SYN at TC ingress that repeats an
 * earlier SYN's addresses, ports and initial sequence number is the
 * client's retransmission of it (include/bpf/retries.h).  Counted by the
 * attempt it is and by what became of the attempt before it, as far as
 * synacct saw: syn_retries_after's rows are in enum sa_retry_fate's
 * order (the BPF side indexes them).  Map retries_counters, in the TC object.
 */
#define SA_RETRY_COUNTERS(X)						\
	X(RETRIES, syn_retries, , syn_retries,				\
	  "client SYN retransmissions at TC ingress: SYNs that repeat an earlier SYN's flow (source, destination, both ports) and ISN") \
	X(RETRIES, syn_retry_attempt_1, syn_retry_attempt, 1,		\
	  "of those, the client's first retry of that SYN")		\
	X(RETRIES, syn_retry_attempt_2, syn_retry_attempt, 2,		\
	  "of those, its second retry")					\
	X(RETRIES, syn_retry_attempt_3, syn_retry_attempt, 3+,		\
	  "of those, its third retry or later")				\
	X(RETRIES, syn_retry_after_unseen, syn_retries_after, unseen,	\
	  "retries whose previous attempt passed TC ingress and then no hook of synacct saw it again (lost where no hook sees, a NATed port's SYN, the stack stage off)") \
	X(RETRIES, syn_retry_after_netfilter_drop, syn_retries_after, netfilter_drop, \
	  "retries whose previous attempt the stack freed before a socket, as NETFILTER_DROP") \
	X(RETRIES, syn_retry_after_stack_drop_other, syn_retries_after, stack_drop_other, \
	  "retries whose previous attempt the stack freed before a socket, for another reason (stack_drops has the port's reasons)") \
	X(RETRIES, syn_retry_after_accept_queue_full, syn_retries_after, accept_queue_full, \
	  "retries whose previous attempt the listener dropped: accept queue full") \
	X(RETRIES, syn_retry_after_syn_queue_full, syn_retries_after, syn_queue_full, \
	  "retries whose previous attempt the listener dropped: SYN queue full, no cookies") \
	X(RETRIES, syn_retry_after_listen_drop_other, syn_retries_after, listen_drop_other, \
	  "retries whose previous attempt the listener dropped for another reason") \
	X(RETRIES, syn_retry_after_synack_dropped, syn_retries_after, synack_dropped, \
	  "retries whose previous attempt was answered, and its last SYN-ACK dropped after TC egress") \
	X(RETRIES, syn_retry_after_synack_left, syn_retries_after, synack_left, \
	  "retries whose previous attempt was answered, and its last SYN-ACK left through TC egress (lost on the path, or late)") \
	X(RETRIES, syn_retry_wait_millis, , syn_retry_wait_millis,		\
	  "milliseconds between each retry and the attempt before it, summed: the wait the retries added (a lower bound: docs/design.md)") \
	X(RETRIES, syn_retries_untracked, , syn_retries_untracked,	\
	  "SYNs the retry table could not keep: one that took the slot of an attempt younger than 64 s (a retry of that one goes uncounted), or one not looked up while a flood turns the table over (this CPU's SYNs took 8192 such slots in the last 256 jiffies)")

#define SA_COUNTERS(X) SA_NIC_COUNTERS(X) SA_TC_COUNTERS(X) SA_STACK_COUNTERS(X) \
	SA_CONTAINER_COUNTERS(X) SA_LOST_COUNTERS(X) SA_RETRY_COUNTERS(X)

/* The label of each group's metric family; sparse: only the keys that
 * are not zero are printed (a port sees one or two MSS values).  The
 * container's rows are in the stack stage's families instead. */
#define SA_GROUP_LABELS(X)						\
	X(listen_drops, cause, 0)					\
	X(syncookies_mss, mss, 1)					\
	X(stack_drops, reason, 1)					\
	X(synack_drops, reason, 1)					\
	X(syn_retry_attempt, attempt, 1)				\
	X(syn_retries_after, previous, 1)				\
	X(unexplained, gap, 0)

/* The MSS table as the BPF side needs it, from the rows above. */
#define SA_MSS_VALUE(stage, name, group, key, help) key,
#define SA_COOKIE_MSS_TABLE { SA_COOKIE_MSS_COUNTERS(SA_MSS_VALUE) }

#define SA_STRUCT_FIELD(stage, name, group, key, help) __u64 name;

/* XDP and TC count into per-CPU arrays of SA_SLOTS slots, one per port
 * that saw traffic, and into a per-port hash beyond (include/bpf/count.h). */
#define SA_SLOTS	1024
#define SA_SLOT_HASH	0xffffffffU

/* Stage 1, XDP on the watched interface(s): map nic_counters. */
struct sa_nic_counters {
	SA_NIC_COUNTERS(SA_STRUCT_FIELD)
};

/* Stage 2, TC clsact on the watched interface(s): map tc_counters.
 * tc_syn is counted at ingress (after XDP), synack_sent at egress, per
 * source port (the listener's port). */
struct sa_tc_counters {
	SA_TC_COUNTERS(SA_STRUCT_FIELD)
};

/*
 * Stage 3, the TCP stack (the BPF units of kprobe/): map stack_counters.
 * Counted from tracepoints and filtered to the watched interfaces in the
 * watched network namespace.  The listener's verdict on each SYN is read
 * from the kernel's own per-CPU MIB counters around that SYN, so it
 * agrees with nstat by construction.
 */
struct sa_stack_counters {
	SA_STACK_COUNTERS(SA_STRUCT_FIELD)
};

/* The namespaces forwarded SYNs are followed into (include/bpf/follow.h):
 * map container_counters, by the port the client asked for. */
struct sa_container_counters {
	SA_CONTAINER_COUNTERS(SA_STRUCT_FIELD)
};
/* Counts lost (include/bpf/count.h): map counts_lost of each object. */
struct sa_lost_counters {
	SA_LOST_COUNTERS(SA_STRUCT_FIELD)
};

/* Client retries (tc/retries/): map retries_counters, by destination port. */
struct sa_retry_counters {
	SA_RETRY_COUNTERS(SA_STRUCT_FIELD)
};

/* What became of a SYN attempt, as far as synacct saw (include/bpf/retries.h):
 * the order of syn_retries_after's rows above. */
enum sa_retry_fate {
	SA_RETRY_UNSEEN,
	SA_RETRY_NETFILTER_DROP,
	SA_RETRY_STACK_DROP_OTHER,
	SA_RETRY_ACCEPT_QUEUE_FULL,
	SA_RETRY_SYN_QUEUE_FULL,
	SA_RETRY_LISTEN_DROP_OTHER,
	SA_RETRY_SYNACK_DROPPED,
	SA_RETRY_SYNACK_LEFT,
	SA_RETRY_FATES
};

/* The retry table: buckets of SA_RETRY_WAYS slots, one bucket per
 * (addresses, ports, ISN) hash (include/bpf/retries.h); 128 KiB: larger, a
 * slot is a cache and TLB miss per flood SYN (docs/design.md, "Client
 * retries"). */
#define SA_RETRY_BUCKET_BITS 12
#define SA_RETRY_WAYS 4
#define SA_RETRY_TABLE ((1u << SA_RETRY_BUCKET_BITS) * SA_RETRY_WAYS)
/* A slot younger than this holds an attempt a client may still retry
 * (Linux: tcp_syn_retries 6, the last retry 63 s after the SYN on
 * kernels without tcp_syn_linear_timeouts). */
#define SA_RETRY_HORIZON_NS (64ULL * 1000000000ULL)

/* Namespaces followed at most: each costs the agent a file descriptor
 * and an iterator read per interval. */
#define SA_MAX_FOLLOW 64

/* Per-program counters that have no port: map prog_counters, a one-entry
 * per-CPU array in each of the XDP, TC and stack objects. */
struct sa_prog_counters {
	__u64 unparsed;		/* frames the shared parser could not parse
				 * (truncated, IHL < 5, doff < 5, or headers
				 * beyond SA_MAX_VLAN / SA_MAX_EXTHDR) */
	__u64 update_failed;	/* counts lost: a map entry could not be
				 * created (map full, no memory); per port
				 * in counts_lost */
};

/*
 * The namespace MIB counters whose per-CPU difference around a SYN tells
 * the listener's verdict (include/bpf/mib.h): X(id, LINUX_MIB_ suffix).
 * The agent finds each index in the running kernel's BTF by this name.
 */
#define SA_VERDICT_MIBS(X)						\
	X(COOKIES, SYNCOOKIESSENT)					\
	X(OVERFLOWS, LISTENOVERFLOWS)					\
	X(REQQFULLDROP, TCPREQQFULLDROP)				\
	X(LISTENDROPS, LISTENDROPS)					\
	X(COOKIES_RECV, SYNCOOKIESRECV)					\
	X(COOKIES_FAILED, SYNCOOKIESFAILED)

enum sa_verdict_mib {
#define SA_VERDICT_MIB_ENUM(id, mib) SA_VMIB_##id,
	SA_VERDICT_MIBS(SA_VERDICT_MIB_ENUM)
#undef SA_VERDICT_MIB_ENUM
	SA_VMIB_N
};

/* The stack programs read the MIB counters they need from one window of
 * this many counters of struct linux_mib (include/bpf/mib.h). */
#define SA_MIB_WIN 24

/* SYNs freed (not consumed) before a socket took them: map stack_drops,
 * key {port, reason}, the kernel's enum skb_drop_reason value (its name
 * comes from the running kernel's BTF, never from a compiled-in table). */
struct sa_drop_key {
	__u32 port;
	__u32 reason;
};

#define SA_MAX_DROP_KEYS (4 * SA_MAX_PORTS)	/* a port scan: every port x a few reasons */
/* In sa_drop_key.reason of the queue drop_keys_new (include/bpf/stack.h)
 * and in the agent's drop counts: a SYN-ACK dropped after TC egress (map
 * synack_drops), not a SYN (stack_drops). */
#define SA_DROP_SYNACK (1u << 31)
/* New keys of stack_drops and synack_drops the agent has not taken yet,
 * at most: beyond, it walks both maps once (agent/sys/touched.c). */
#define SA_DROP_KEYS_NEW 16384

/*
 * Where NAT in the watched namespace sent a port's SYNs (DNAT, REDIRECT):
 * map nat_ports, keyed by the port the SYNs arrived for (the published
 * port), the last mapping seen, from the conntrack entry's reply tuple.
 * Every figure of those SYNs is counted under the published port.
 */
struct sa_nat {
	__u32 to_port;
	__u32 family;			/* AF_INET or AF_INET6 */
	__u8 to_addr[16];		/* IPv4 in the first 4 */
};
/* SYN-ACKs dropped after TC egress: map synack_drops, the same key by
 * source port.  A driver that refuses a SYN-ACK (NET_XMIT_DROP) but frees
 * it as consumed, not through kfree_skb, gives no reason: synacct files it
 * under this one, named NETDEV_XMIT_DROP. */
#define SA_REASON_XMIT_DROP 255

/* What a record of the TCP iterator (iter/tcp) is about: a listening
 * socket, or one half-open request of a listener (TCP_NEW_SYN_RECV, in
 * the established hash the iterator walks). */
#define SA_REC_LISTENER	0
#define SA_REC_REQUEST	1

/* One record per listening socket, and one per half-open request, from
 * the TCP iterator (iter/tcp).  One size for both: the agent reads the
 * iterator in records of this size. */
struct sa_listener {
	__u64 inode;			/* socket inode, to find its process */
	__u32 port;
	__u32 family;			/* AF_INET or AF_INET6 */
	__u32 accept_queue_len;		/* sk_ack_backlog */
	__u32 accept_backlog;		/* sk_max_ack_backlog */
	__u32 syn_queue_len;		/* icsk_accept_queue.qlen */
	__u32 listener_sk_drops;		/* sk_drops */
	__u8 addr[16];			/* bound address, IPv4 in the first 4 */
	__u32 record;			/* SA_REC_LISTENER or SA_REC_REQUEST */
	/* Listener: 1 when a connection waits in the accept queue, and the
	 * jiffies since the oldest one (the queue's head: it is FIFO)
	 * completed its handshake, from the child's lsndtime. */
	__u32 accept_queue_head;
	__u32 accept_queue_oldest_jiffies;
	/* Request: SYN-ACK retransmissions (request_sock.num_retrans). */
	__u32 synack_retrans;
	/* Request: microseconds since its first SYN-ACK (snt_synack, the
	 * CLOCK_MONOTONIC microseconds of tcp_clock_us()); 0: none sent
	 * (snt_synack 0), not timed. */
	__u64 half_open_age_us;
};

#endif /* SYNACCT_H */
