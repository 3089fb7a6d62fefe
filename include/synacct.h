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

#endif /* SYNACCT_H */
