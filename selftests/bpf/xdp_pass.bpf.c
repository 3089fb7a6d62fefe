// SPDX-License-Identifier: GPL-2.0
/* "Another tool's" XDP program, for the test that synacct never replaces
 * an XDP program it did not attach. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int other_tool_xdp(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
