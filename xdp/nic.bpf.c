// SPDX-License-Identifier: GPL-2.0
/*
 * nic.bpf.c - stage 1 of a SYN's path: the driver.
 *
 * Counts SYNs (SYN set, ACK clear) per destination port as XDP sees them,
 * before anything in the stack can drop them.  Observes only: every frame
 * gets XDP_PASS, unchanged.
 *
 * --xdp-mode tc (auto's choice): the same count at TC ingress instead,
 * by synacct_nic_tc, which the TC stage places first among the
 * interface's ingress filters (tc/tc.c): no XDP, so no copy of frames
 * that lack XDP's headroom, and the TC stage's own count goes last.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "../include/synacct.h"
#include "../include/bpf/parse.h"
#include "../include/bpf/count.h"

SA_SLOT_MAPS(nic_counters, struct sa_nic_counters);

SEC("xdp")
int synacct_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct sa_nic_counters *c;
	struct sa_pkt pkt = {};
	int ret;

	ret = sa_parse(data, data_end, &pkt);
	if (ret == SA_PARSE_BAD) {
		sa_count_unparsed();
		return XDP_PASS;
	}
	if (ret != SA_PARSE_TCP || !sa_is_syn(&pkt))
		return XDP_PASS;

	c = sa_slot_counters(nic_counters, pkt.dport, struct sa_nic_counters);
	if (c)
		c->nic_syn++;
	return XDP_PASS;
}

/* TC_ACT_UNSPEC: the next filter decides, as if synacct were not there. */
SEC("tc")
int synacct_nic_tc(struct __sk_buff *skb)
{
	struct sa_nic_counters *c;
	struct sa_pkt pkt = {};
	int ret;

	ret = sa_parse_skb(skb, &pkt);
	if (ret == SA_PARSE_BAD) {
		sa_count_unparsed();
		return -1;
	}
	if (ret != SA_PARSE_TCP || !sa_is_syn(&pkt))
		return -1;

	c = sa_slot_counters(nic_counters, pkt.dport, struct sa_nic_counters);
	if (c)
		c->nic_syn++;
	return -1;
}

char LICENSE[] SEC("license") = "GPL";
