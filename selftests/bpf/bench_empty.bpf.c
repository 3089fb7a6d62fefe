// SPDX-License-Identifier: GPL-2.0
/* Empty programs at synacct's hooks: the floor that make bench compares
 * synacct's programs with (same hook, same frames, same run). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int bench_empty_xdp(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

SEC("tc")
int bench_empty_tc(struct __sk_buff *skb)
{
	(void)skb;
	return -1;	/* TC_ACT_UNSPEC, as synacct's */
}

SEC("tp_btf/kfree_skb")
int bench_empty_kfree_skb(void *ctx)
{
	(void)ctx;
	return 0;
}

SEC("tp_btf/consume_skb")
int bench_empty_consume_skb(void *ctx)
{
	(void)ctx;
	return 0;
}

SEC("tp_btf/net_dev_xmit")
int bench_empty_dev_xmit(void *ctx)
{
	(void)ctx;
	return 0;
}

/* A netfilter program (Linux 6.4): bench_helper sets its type. */
SEC("netfilter")
int bench_empty_nf(void *ctx)
{
	(void)ctx;
	return 1;	/* NF_ACCEPT */
}

char LICENSE[] SEC("license") = "GPL";
