// SPDX-License-Identifier: GPL-2.0
/*
 * listeners.bpf.c - the listeners' queues, which is where SYNs wait and
 * are dropped: for every listening TCP socket of the namespace the
 * iterator is created in, its SYN-queue length (ss lists request socks,
 * `ss -tn state syn-recv`, but not a listener's count of them),
 * accept-queue length and limit, drops, address and inode.
 *
 * An iterator attaches to no traffic: `synacct check` uses it too.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "../../include/synacct.h"

#define SA_AF_INET 2

/* Listening sockets of the namespace the iterator was created in. */
SEC("iter/tcp")
int synacct_listeners(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct seq_file *seq = ctx->meta->seq;
	struct sa_listener l = {};
	struct tcp_sock *tp;
	struct sock *sk;

	if (!skc || skc->skc_state != TCP_LISTEN)
		return 0;
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp)
		return 0;
	sk = (struct sock *)tp;
	l.port = skc->skc_num;
	l.family = skc->skc_family;
	l.accept_queue_len = sk->sk_ack_backlog;
	l.accept_backlog = sk->sk_max_ack_backlog;
	l.syn_queue_len = tp->inet_conn.icsk_accept_queue.qlen.counter;
	l.listener_sk_drops = sk->sk_drops.counter;
	l.inode = sk->sk_socket ? BPF_CORE_READ(sk, sk_socket, file, f_inode, i_ino) : 0;
	if (l.family == SA_AF_INET)
		__builtin_memcpy(l.addr, &skc->skc_rcv_saddr, 4);
	else
		BPF_CORE_READ_INTO(&l.addr, skc, skc_v6_rcv_saddr.in6_u.u6_addr8);
	bpf_seq_write(seq, &l, sizeof(l));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
