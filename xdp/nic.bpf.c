// SPDX-License-Identifier: GPL-2.0
/*
 * nic.bpf.c - stage 1 of a SYN's path: the driver.
 *
 * Counts SYNs (SYN set, ACK clear) per destination port as XDP sees them,
 * before anything in the stack can drop them.  Observes only: every frame
 * gets XDP_PASS, unchanged.
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

char LICENSE[] SEC("license") = "GPL";
