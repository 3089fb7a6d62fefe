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

/* Stage 1, XDP on the watched interface(s): map nic_counters. */
struct sa_nic_counters {
	__u64 nic_syn;		/* SYN set, ACK clear, per destination port */
};

/* Stage 2, TC clsact on the watched interface(s): map tc_counters.
 * tc_syn is counted at ingress (after XDP), synack_sent at egress, per
 * source port (the listener's port). */
struct sa_tc_counters {
	__u64 tc_syn;
	__u64 synack_sent;
};

/* Per-program counters that have no port: frames the shared parser could
 * not parse (truncated, IHL < 5, doff < 5).  Map parse_counters, a
 * one-entry per-CPU array in each of the XDP and TC objects. */
struct sa_parse_counters {
	__u64 unparsed;
};

/*
 * The MSS values a SYN cookie can encode: the kernel's msstab in
 * net/ipv4/syncookies.c and net/ipv6/syncookies.c (unchanged since 2013;
 * static, so not readable from BTF or kallsyms).  A cookie carries the
 * largest entry not above the client's MSS (the smallest one below all).
 * Slots 0-3 are IPv4, 4-7 IPv6.
 */
#define SA_COOKIE_MSS_V4 { 536, 1300, 1440, 1460 }
#define SA_COOKIE_MSS_V6 { 1220, 1420, 1440, 8940 }
#define SA_COOKIE_MSS_N 8
/* The MSS the kernel assumes when a SYN carries none. */
#define SA_TCP_MSS_DEFAULT_V4 536
#define SA_TCP_MSS_DEFAULT_V6 1220

/*
 * Stage 3, the TCP stack (kprobe/stack.bpf.c): map stack_counters.
 * Counted from tracepoints and filtered to the watched interfaces in the
 * watched network namespace.  The listener's verdict on each SYN is read
 * from the kernel's own per-CPU MIB counters around that SYN, so it
 * agrees with nstat by construction.
 */
struct sa_stack_counters {
	__u64 listener_syn;		/* SYNs consumed by a listening socket */
	__u64 syn_queued;		/* ... that created a request sock */
	__u64 syncookies_sent;		/* ... answered with a SYN cookie */
	__u64 listen_drop_accept_queue_full;	/* ... dropped: ListenOverflows */
	__u64 listen_drop_syn_queue_full;	/* ... dropped: TCPReqQFullDrop */
	__u64 listen_drop_other;	/* ... dropped: ListenDrops only */
	__u64 listener_unclassified;	/* ... no per-CPU MIB baseline yet */
	__u64 syn_to_request_sock;	/* SYN for an existing request sock */
	__u64 synack_retrans;		/* tcp:tcp_retransmit_synack */
	__u64 established;		/* SYN_RECV -> ESTABLISHED children */
	__u64 ack_dropped_accept_full;	/* handshake ACK found accept queue full */
	__u64 syncookies_recv;		/* cookie ACKs validated (SyncookiesRecv) */
	__u64 syncookies_failed;	/* cookie ACKs that failed (SyncookiesFailed) */
	__u64 syncookies_no_ts;		/* cookie SYN-ACKs to clients without TCP
					 * timestamps: no window scaling, no SACK */
	__u64 syncookies_mss[SA_COOKIE_MSS_N];	/* cookies by encoded MSS */
};

/* SYNs freed (not consumed) before a socket took them: map stack_drops,
 * key {port, reason}, the kernel's enum skb_drop_reason value (its name
 * comes from the running kernel's BTF, never from a compiled-in table). */
struct sa_drop_key {
	__u32 port;
	__u32 reason;
};

#define SA_MAX_DROP_KEYS (4 * SA_MAX_PORTS)	/* a port scan: every port x a few reasons */

/* One record per listening socket from the TCP iterator (iter/tcp). */
struct sa_listener {
	__u64 inode;			/* socket inode, to find its process */
	__u32 port;
	__u32 family;			/* AF_INET or AF_INET6 */
	__u32 accept_queue_len;		/* sk_ack_backlog */
	__u32 accept_backlog;		/* sk_max_ack_backlog */
	__u32 syn_queue_len;		/* icsk_accept_queue.qlen */
	__u32 drops;			/* sk_drops */
	__u8 addr[16];			/* bound address, IPv4 in the first 4 */
};

#endif /* SYNACCT_H */
