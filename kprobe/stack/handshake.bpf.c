// SPDX-License-Identifier: GPL-2.0
/*
 * handshake.bpf.c - handshakes completed (SYN_RECV -> ESTABLISHED, on
 * sock:inet_sock_set_state), and the cookies validated by their ACKs
 * (syncookies_recv).  Linked into the stack object.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "../../include/synacct.h"
#include "../../include/bpf/count.h"
#include "../../include/bpf/watch.h"
#include "../../include/bpf/stack.h"
#include "../../include/bpf/mib.h"
#include "../../include/bpf/nat.h"
#include "../../include/bpf/follow.h"

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(synacct_set_state, const struct sock *sk, const int oldstate,
	     const int newstate)
{
	__u64 d[SA_VMIB_N] = {};
	bool have_delta;
	struct net *net;
	__u32 port;

	if (oldstate != TCP_SYN_RECV || newstate != TCP_ESTABLISHED)
		return 0;
	if (BPF_CORE_READ(sk, sk_protocol) != SA_IPPROTO_TCP)
		return 0;
	net = BPF_CORE_READ(sk, __sk_common.skc_net.net);
	if (!in_netns(net)) {
		struct follow_base *b = follow_base_of(net);

		if (b)
			follow_established(b, sk);
		return 0;
	}
	/* The handshake's ACK may have carried a cookie, validated on this
	 * CPU just before the child was created. */
	have_delta = !mib_advance(net, d, false);
	if (!watched(BPF_CORE_READ(sk, sk_rx_dst_ifindex)))
		return 0;
	port = BPF_CORE_READ(sk, __sk_common.skc_num);
	port = nat_unmap_sk(&sk->__sk_common, BPF_CORE_READ(sk, __sk_common.skc_family),
			    port, true);
	STACK_INC(port, established);
	if (have_delta && d[SA_VMIB_COOKIES_RECV])
		STACK_INC(port, syncookies_recv);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
