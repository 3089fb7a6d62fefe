// SPDX-License-Identifier: GPL-2.0
/*
 * listeners.bpf.c - the listeners' queues, which is where SYNs wait and
 * are dropped: for every listening TCP socket of the namespace the
 * iterator is created in, its SYN-queue length (ss lists request socks,
 * `ss -tn state syn-recv`, but not a listener's count of them),
 * accept-queue length and limit, drops, address and inode, and the queue
 * age (#24 item 3): how long the accept queue's head has waited, and
 * each half-open request's age and SYN-ACK retransmissions.
 *
 * An iterator attaches to no traffic: `synacct check` uses it too.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "../../include/synacct.h"

#define SA_AF_INET 2

/*
 * The accept queue is FIFO (inet_csk_reqsk_queue_add appends at
 * rskq_accept_tail, accept takes rskq_accept_head), so its head is the
 * connection that has waited longest: no walk, one read.  Its child got
 * lsndtime = tcp_jiffies32 in tcp_create_openreq_child and again when
 * tcp_rcv_state_process moved it to ESTABLISHED; lsndtime changes next
 * when it sends data, which only the application (after accept) makes it
 * do.  The iterator holds the listener's lock (lock_sock_fast), which
 * accept needs to take the head off; reads go through probe reads all the
 * same.
 */
static __always_inline void accept_queue_head(struct tcp_sock *tp,
					      struct sa_listener *l)
{
	struct request_sock *req;
	struct sock *child;

	req = BPF_CORE_READ(tp, inet_conn.icsk_accept_queue.rskq_accept_head);
	if (!req)
		return;
	child = BPF_CORE_READ(req, sk);
	if (!child)
		return;
	l->accept_queue_head = 1;
	l->accept_queue_oldest_jiffies =
		(__u32)bpf_jiffies64() - BPF_CORE_READ((struct tcp_sock *)child, lsndtime);
}

/* A half-open request (TCP_NEW_SYN_RECV): its age since the first SYN-ACK
 * and its SYN-ACK retransmissions.  The iterator walks the established
 * hash, where request socks live, and passes them as sock_common. */
static __always_inline int half_open(struct sock_common *skc,
				     struct seq_file *seq)
{
	struct tcp_request_sock *treq = bpf_skc_to_tcp_request_sock(skc);
	struct sa_listener r = {};
	__u64 sent;

	if (!treq)
		return 0;
	r.record = SA_REC_REQUEST;
	r.port = skc->skc_num;
	r.family = skc->skc_family;
	r.synack_retrans = treq->req.req.num_retrans;
	sent = treq->snt_synack;
	if (sent)
		r.half_open_age_us = bpf_ktime_get_ns() / 1000 - sent;
	bpf_seq_write(seq, &r, sizeof(r));
	return 0;
}

/* Listening sockets of the namespace the iterator was created in, and
 * their half-open requests. */
SEC("iter/tcp")
int synacct_listeners(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct seq_file *seq = ctx->meta->seq;
	struct sa_listener l = {};
	struct tcp_sock *tp;
	struct sock *sk;

	if (!skc)
		return 0;
	if (skc->skc_state == TCP_NEW_SYN_RECV)
		return half_open(skc, seq);
	if (skc->skc_state != TCP_LISTEN)
		return 0;
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp)
		return 0;
	sk = (struct sock *)tp;
	l.record = SA_REC_LISTENER;
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
	accept_queue_head(tp, &l);
	bpf_seq_write(seq, &l, sizeof(l));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
