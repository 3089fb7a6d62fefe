// SPDX-License-Identifier: GPL-2.0
/*
 * stack_probe.c - what this kernel and namespace give the stack stage,
 * decided before its programs load: where listener verdicts come from,
 * whether NAT and forwarded SYNs are seen (netfilter programs, conntrack's
 * BTF), where the verdict MIBs sit, the drop reasons' names, the VLAN
 * devices on the watched interfaces; and the hooks that makes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "log.h"
#include "nf_link.h"
#include "probe.h"
#include "snapshot.h"
#include "stack.h"

#define REASON_PREFIX "SKB_DROP_REASON_"

const char *const stack_listener_hook_names[] = {
	[LH_NONE] = "none", [LH_CONSUME_SKB] = "consume_skb",
	[LH_FEXIT] = "fexit", [LH_KPROBE] = "kprobe",
};

/* Drop reason names come from the running kernel: values move between
 * kernel versions, so no table is compiled in. */
void stack_load_reason_names(const struct btf *btf)
{
	__s32 id = btf__find_by_name_kind(btf, "skb_drop_reason", BTF_KIND_ENUM);
	const struct btf_type *t;
	const struct btf_enum *e;

	if (id < 0)
		return;
	t = btf__type_by_id(btf, id);
	e = btf_enum(t);
	for (int i = 0; i < btf_vlen(t); i++, e++) {
		const char *name = btf__name_by_offset(btf, e->name_off);
		__u32 val = e->val;	/* SKB_DROP_REASON_SUBSYS_MASK is "negative" */

		if (val >= SA_MAX_REASONS || !name)
			continue;
		if (!strncmp(name, REASON_PREFIX, strlen(REASON_PREFIX)))
			name += strlen(REASON_PREFIX);
		free(sa_reason_names[val]);
		sa_reason_names[val] = strdup(name);
	}
	if (!sa_reason_names[SA_REASON_XMIT_DROP])
		sa_reason_names[SA_REASON_XMIT_DROP] = strdup("NETDEV_XMIT_DROP");
}

/*
 * Where to take the listener's verdict: consume_skb's location (6.3+) is
 * a tracepoint and works under lockdown; before 6.3, fexit or a kprobe on
 * tcp_conn_request where the kernel allows them.  Without any, SYNs that
 * reach listeners show as unexplained.  --listener-hook (@want, NULL or
 * "auto": the best there is) asks for one, and it is an error when the
 * kernel does not give it.  Loads only the chosen programs.
 */
int stack_find_listener_hook(struct stack_stage *st, const struct btf *btf,
			     const char *want_name)
{
	const char *why[LH_KPROBE + 1] = {};
	bool ok[LH_KPROBE + 1] = {};
	/* Code ranges the programs test a location against: a listener's
	 * SYN (consume_skb), and where a stream socket's queues are purged,
	 * which kfree_skb leaves alone (drops.bpf.c, past_handshake); and the
	 * function a kprobe would go on.  One read of kallsyms for all. */
	static const char *const code[] = { "tcp_rcv_state_process",
					     "sk_stream_kill_queues",
					     "tcp_conn_request" };
	__u64 start[3], end[3];
	bool hidden = false;
	int want = -1;

	/* The option's parser (stack.c) took only these names and "auto". */
	for (int h = LH_CONSUME_SKB; h <= LH_KPROBE; h++)
		if (want_name && !strcmp(want_name, stack_listener_hook_names[h]))
			want = h;

	sa_kallsyms_ranges(code, 3, start, end);
	if (sa_tp_nargs(btf, "consume_skb") < 2)
		why[LH_CONSUME_SKB] = "its consume_skb tracepoint has no location (Linux 6.3+)";
	else if ((!start[0] || !end[0]) && (hidden = sa_kallsyms_hidden()))
		why[LH_CONSUME_SKB] = "/proc/kallsyms hides its addresses from synacct, "
				      "which lacks CAP_SYSLOG";
	else if (!start[0] || !end[0])
		why[LH_CONSUME_SKB] = "tcp_rcv_state_process not in /proc/kallsyms";
	else
		ok[LH_CONSUME_SKB] = true;
	if (want < 0 ? !ok[LH_CONSUME_SKB] : want == LH_FEXIT) {
		ok[LH_FEXIT] = sa_fexit_can_load("tcp_conn_request");
		if (!ok[LH_FEXIT])
			why[LH_FEXIT] = "it refuses an fexit program on tcp_conn_request (lockdown?)";
	}
	if (want < 0 ? !ok[LH_CONSUME_SKB] && !ok[LH_FEXIT] : want == LH_KPROBE) {
		ok[LH_KPROBE] = sa_kprobe_can_attach(start[2] && end[2]);
		if (!ok[LH_KPROBE])
			why[LH_KPROBE] = "it has no kprobes, or no tcp_conn_request in /proc/kallsyms";
	}

	st->listener_hook = LH_NONE;
	if (want >= 0) {
		if (!ok[want]) {
			sa_err("--listener-hook %s: this kernel cannot give it: %s; "
			       "use --listener-hook auto", stack_listener_hook_names[want], why[want]);
			return -EOPNOTSUPP;
		}
		st->listener_hook = want;
	} else {
		for (int h = LH_KPROBE; h >= LH_CONSUME_SKB; h--)
			if (ok[h])
				st->listener_hook = h;
		/* Not a fact of the kernel but a privilege missing: refuse
		 * rather than call every SYN at a listener unexplained. */
		if (st->listener_hook == LH_NONE && hidden) {
			sa_err("the listener's verdicts need the addresses /proc/kallsyms hides "
			       "from a process without CAP_SYSLOG: give synacct CAP_SYSLOG "
			       "(systemd: AmbientCapabilities=CAP_SYSLOG), or use --no-stack");
			return -EPERM;
		}
		if (st->listener_hook == LH_NONE)
			sa_info("this kernel gives no listener verdicts: %s, and %s, and %s: "
				"SYNs reaching listeners will show as unexplained",
				why[LH_CONSUME_SKB], why[LH_FEXIT], why[LH_KPROBE]);
	}
	bpf_program__set_autoload(st->skel->progs.synacct_consume_skb,
				  st->listener_hook == LH_CONSUME_SKB);
	bpf_program__set_autoload(st->skel->progs.synacct_conn_request_fexit,
				  st->listener_hook == LH_FEXIT);
	bpf_program__set_autoload(st->skel->progs.synacct_conn_request_kprobe,
				  st->listener_hook == LH_KPROBE);
	bpf_program__set_autoload(st->skel->progs.synacct_conn_request_consumed,
				  st->listener_hook == LH_KPROBE);
	/* Its map only with it: nothing unused is created, or pinned. */
	bpf_map__set_autocreate(st->skel->maps.conn_request_skb,
				st->listener_hook == LH_KPROBE);
	st->skel->rodata->tcp_rcv_state_process_start = start[0];
	st->skel->rodata->tcp_rcv_state_process_end = end[0];
	st->skel->rodata->stream_purge_start = start[1];
	st->skel->rodata->stream_purge_end = end[1];
	return 0;
}

/*
 * NAT needs conntrack's types (built in, or the nf_conntrack module's BTF,
 * which libbpf loads for CO-RE) and netfilter programs (Linux 6.4).
 * Without them NATed ports show their SYNs split between the published
 * and the target port; the start record's hooks (no netfilter/...) and
 * -v say why.  Not said unasked: a host without NAT loses nothing, and an
 * error must stay the one line on stderr.
 */
void stack_find_nat_hook(struct stack_stage *st, const struct btf *btf, bool verbose)
{
	struct bpf_program *progs[] = {
		st->skel->progs.synacct_nat_in, st->skel->progs.synacct_forward,
	};
	bool ct = btf__find_by_name_kind(btf, "nf_conn", BTF_KIND_STRUCT) > 0 ||
		  access("/sys/kernel/btf/nf_conntrack", R_OK) == 0;
	bool nf = btf__find_by_name_kind(btf, "bpf_nf_ctx", BTF_KIND_STRUCT) > 0;

	st->nat_hook = ct && nf;
	if (!st->nat_hook) {
		if (verbose)
			sa_info("%s: SYNs that NAT (DNAT, REDIRECT) sends to another port "
				"will show under both ports, forwarded SYNs as unexplained", !nf ?
				"this kernel has no netfilter BPF programs (Linux 6.4+)" :
				"conntrack's BTF not found (nf_conntrack not loaded?)");
		for (int i = 0; i < 2; i++)
			bpf_program__set_autoload(progs[i], false);
		return;
	}
	for (int i = 0; i < 2; i++) {
		bpf_program__set_type(progs[i], SA_PROG_TYPE_NETFILTER);
		bpf_program__set_expected_attach_type(progs[i], SA_ATTACH_NETFILTER);
	}
}

/* The indices of the verdict MIBs (SA_VERDICT_MIBS) in struct linux_mib:
 * the enum is anonymous, so they come from BTF by name. */
void stack_find_verdict_mibs(struct stack_stage *st, const struct btf *btf)
{
	static const char *const names[SA_VMIB_N] = {
#define SA_VMIB_NAME(id, mib) [SA_VMIB_##id] = "LINUX_MIB_" #mib,
		SA_VERDICT_MIBS(SA_VMIB_NAME)
#undef SA_VMIB_NAME
	};
	_Static_assert(sizeof(st->skel->rodata->mib_idx) ==
		       SA_VMIB_N * sizeof(st->skel->rodata->mib_idx[0]),
		       "mib_idx holds one index per verdict MIB");

	st->classify = true;
	for (int i = 0; i < SA_VMIB_N; i++) {
		long long v = sa_btf_enum_value(btf, names[i]);

		if (v < 0)
			st->classify = false;
		st->skel->rodata->mib_idx[i] = v < 0 ? 0 : v;
	}
	/* One read for the counters that sit close together (include/bpf/mib.h). */
	{
		long long max = sa_btf_enum_value(btf, "__LINUX_MIB_MAX");
		__u32 lo = st->skel->rodata->mib_idx[0];

		for (int i = 1; i < SA_VMIB_N; i++)
			if (st->skel->rodata->mib_idx[i] < lo)
				lo = st->skel->rodata->mib_idx[i];
		st->skel->rodata->mib_win_lo = lo;
		st->skel->rodata->mib_win_ok = max > 0 && lo + SA_MIB_WIN <= max;
	}
}

/*
 * The VLAN devices stacked on the watched interfaces, VLANs on VLANs
 * included: a tagged SYN reaches the stack on its VLAN device (skb_iif,
 * the socket's rx ifindex), not on the interface XDP and TC watch.  They
 * join the stack stage's interfaces only; XDP and TC already count the
 * tagged frame on the interface below.  From /proc/net/vlan/config, which
 * is the caller's namespace's and exists once 8021q is loaded; devices
 * made after start are not seen.
 */
int stack_add_vlan_devices(int *ifindex, int n, bool verbose)
{
	char line[256], name[IF_NAMESIZE + 1], lower[IF_NAMESIZE + 1];
	bool added = true;
	unsigned int vid;
	FILE *f;

	f = fopen("/proc/net/vlan/config", "re");
	if (!f)
		return n;	/* no 802.1Q in this kernel or namespace */
	while (added) {
		added = false;
		rewind(f);
		while (fgets(line, sizeof(line), f)) {
			int dev, low, i;

			/* "NAME | VID | LOWER"; names hold no whitespace. */
			if (sscanf(line, "%16s | %u | %16s",
				   name, &vid, lower) != 3)
				continue;
			dev = if_nametoindex(name);
			low = if_nametoindex(lower);
			if (!dev || !low)
				continue;
			for (i = 0; i < n && ifindex[i] != low; i++)
				;
			if (i == n)
				continue;
			for (i = 0; i < n && ifindex[i] != dev; i++)
				;
			if (i < n)
				continue;
			if (n == SA_MAX_IFACES) {
				sa_info("VLAN device %s (on %s) not watched by the stack stage: "
					"at most %d interfaces", name, lower, SA_MAX_IFACES);
				continue;
			}
			ifindex[n++] = dev;
			added = true;
			if (verbose)
				sa_info("stack stage also watches VLAN %u device %s (on %s)",
					vid, name, lower);
		}
	}
	fclose(f);
	return n;
}

int stack_stage_hooks(void *priv, const char **names, int max)
{
	struct stack_stage *st = priv;
	/* One name per program at most, and mib_percpu. */
	const char *all[STACK_N_PROGS + 1];
	int k = 0;

	all[k++] = "tp_btf/kfree_skb";
	if (st->listener_hook == LH_CONSUME_SKB)
		all[k++] = "tp_btf/consume_skb";
	else if (st->listener_hook == LH_FEXIT)
		all[k++] = "fexit/tcp_conn_request";
	else if (st->listener_hook == LH_KPROBE) {
		all[k++] = "kprobe/tcp_conn_request";
		all[k++] = "tp_btf/consume_skb";
	}
	all[k++] = "tp_btf/tcp_retransmit_synack";
	all[k++] = "tp_btf/inet_sock_set_state";
	all[k++] = "tp_btf/net_dev_xmit";
	if (st->classify)
		all[k++] = "mib_percpu";
	if (st->nat_hook) {
		all[k++] = "netfilter/local_in";
		all[k++] = "netfilter/forward";
	}
	for (int i = 0; i < k && i < max; i++)
		names[i] = all[i];
	return k;
}
