/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mib.h - the listener's verdict on a SYN, from the kernel's MIB counters:
 * the window they are read through and the verdict ladder, written once
 * for the watched namespace and the followed ones (follow.h).
 *
 * A SYN that reaches a listener is consumed in tcp_rcv_state_process
 * whatever happened to it, so the skb alone does not say whether it was
 * queued, answered with a cookie, or dropped.  The kernel says it in its
 * MIB counters, which it bumps on the current CPU while it processes the
 * SYN: SyncookiesSent, ListenOverflows (accept queue full),
 * TCPReqQFullDrop (SYN queue full, no cookies), ListenDrops (every
 * listener drop).  The handlers keep, per CPU and per namespace, the
 * values those counters had after the previous event in it; the
 * difference at the SYN's consume is exactly what the kernel did with it.
 * Nothing else runs on that CPU in between (softirq), and every other
 * event that moves these counters frees or consumes an skb we also see,
 * which moves the baseline.
 *
 * The globals and maps are __weak: every unit that includes this header
 * defines them, and libbpf's linker keeps one copy in the linked object.
 */
#ifndef SYNACCT_BPF_MIB_H
#define SYNACCT_BPF_MIB_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "../synacct.h"

/* Indices of the MIB counters in struct linux_mib, from the running
 * kernel's BTF (the enum is anonymous, so CO-RE cannot relocate it). */
const volatile __u32 mib_idx[SA_VMIB_N] __weak;
/* The MIB counters are read in one go from a window of SA_MIB_WIN counters
 * starting at mib_win_lo (set by the agent when the window stays inside
 * struct linux_mib), the ones outside it one by one: fewer helper calls
 * on every SYN a listener consumes. */
const volatile __u32 mib_win_lo __weak;
const volatile __u32 mib_win_ok __weak;
/* Possible CPUs, for priming every CPU's baseline. */
const volatile __u32 nr_cpus __weak;

/*
 * This CPU's offset into the per-CPU area, to find this CPU's copy of a
 * __percpu pointer such as net->mib.net_statistics.  Neither
 * __per_cpu_offset nor this_cpu_off is in kallsyms on every kernel, so it
 * is measured on a per-CPU array of our own: its kernel struct keeps the
 * __percpu pointer of element 0, and a lookup returns this CPU's copy; the
 * difference is the offset.  Cached per CPU.
 */
struct cpu_offset {
	__u64 off;
	__u32 valid;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cpu_offset);
} cpu_offset SEC(".maps") __weak;

static __always_inline int cpu_offset_of(__u32 cpu, __u64 *off)
{
	struct cpu_offset *co;
	void *volatile map = &cpu_offset;
	void *volatile val;
	__u64 map_addr, val_addr, pptr;
	__u32 zero = 0;

	/* This CPU's through the inlined lookup, another's through the helper. */
	co = cpu == bpf_get_smp_processor_id() ?
	     bpf_map_lookup_elem(&cpu_offset, &zero) :
	     bpf_map_lookup_percpu_elem(&cpu_offset, &zero, cpu);
	if (!co)
		return -1;
	if (co->valid) {
		*off = co->off;
		return 0;
	}
	val = co;
	/* Addresses as plain numbers: copy the pointers' bytes. */
	if (bpf_probe_read_kernel(&map_addr, sizeof(map_addr), (void *)&map) ||
	    bpf_probe_read_kernel(&val_addr, sizeof(val_addr), (void *)&val) ||
	    bpf_probe_read_kernel(&pptr, sizeof(pptr), (void *)(map_addr +
				  bpf_core_field_offset(struct bpf_array, pptrs))))
		return -1;
	co->off = val_addr - pptr;
	co->valid = 1;
	*off = co->off;
	return 0;
}

/* Linux 6.2+; only the consume_skb program asks for it (@cast below), and
 * that program loads on 6.3+ only (stack.c): older kernels never see the
 * call. */
extern void *bpf_rdonly_cast(const void *obj__ign, __u32 btf_id) __ksym __weak;

/*
 * @cpu's value of the MIB counters at @mib (a namespace's
 * mib.net_statistics).  @cast: with plain loads, the address cast to
 * struct linux_mib, read-only, whose loads the JIT guards as a probe read
 * does but without its helper call (two of them otherwise: the window and
 * the counters outside it).  The indices are constants to the verifier (a
 * frozen read-only map), so every load has a fixed offset.
 */
static __always_inline int read_mibs_at(__u64 mib, __u32 cpu, __u64 *v, bool cast)
{
	const struct linux_mib *m;
	__u64 win[SA_MIB_WIN];
	unsigned long base;
	__u64 off;

	if (cpu_offset_of(cpu, &off))
		return -1;
	base = mib + off;
	if (cast) {
		m = bpf_rdonly_cast((void *)base, bpf_core_type_id_kernel(struct linux_mib));
		for (int i = 0; i < SA_VMIB_N; i++)
			v[i] = m->mibs[mib_idx[i]];
		return 0;
	}
	if (mib_win_ok &&
	    bpf_probe_read_kernel(win, sizeof(win),
				  (void *)(base + mib_win_lo * sizeof(unsigned long))))
		return -1;
	for (int i = 0; i < SA_VMIB_N; i++) {
		__u32 w = mib_idx[i] - mib_win_lo;

		if (mib_win_ok && w < SA_MIB_WIN)
			v[i] = win[w];
		else if (bpf_probe_read_kernel(&v[i], sizeof(v[i]),
					       (void *)(base + mib_idx[i] * sizeof(unsigned long))))
			return -1;
	}
	return 0;
}

/* One CPU's baseline in one namespace: the counters after its last event. */
struct sa_mib_baseline {
	__u64 v[SA_VMIB_N];
	__u32 valid;
};

/* Move this CPU's baseline @b of the counters at @mib to now, and say
 * what changed in @delta; -1 when there was no baseline to compare with
 * (the delta then means nothing).  @cast: see read_mibs_at. */
static __always_inline int sa_mib_advance(__u64 mib, struct sa_mib_baseline *b,
					  __u64 *delta, bool cast)
{
	__u64 now[SA_VMIB_N];
	int was_valid;

	if (read_mibs_at(mib, bpf_get_smp_processor_id(), now, cast))
		return -1;
	was_valid = b->valid;
	for (int i = 0; i < SA_VMIB_N; i++) {
		delta[i] = now[i] - b->v[i];
		b->v[i] = now[i];
	}
	b->valid = 1;
	return was_valid ? 0 : -1;
}

/* What the listener did with a SYN. */
enum sa_verdict {
	SA_VERDICT_UNCLASSIFIED,	/* no baseline yet */
	SA_VERDICT_COOKIE,		/* answered with a SYN cookie */
	SA_VERDICT_ACCEPT_QUEUE_FULL,	/* dropped: accept queue full */
	SA_VERDICT_SYN_QUEUE_FULL,	/* dropped: SYN queue full, no cookies */
	SA_VERDICT_DROP_OTHER,		/* dropped, for another reason */
	SA_VERDICT_QUEUED,		/* a request sock in the SYN queue */
};

/* The verdict on a SYN from its CPU's MIB delta @d around it (@err: no
 * baseline, from sa_mib_advance), first match in this order. */
static __always_inline enum sa_verdict sa_listener_verdict(int err, const __u64 *d)
{
	if (err)
		return SA_VERDICT_UNCLASSIFIED;
	if (d[SA_VMIB_COOKIES])
		return SA_VERDICT_COOKIE;
	if (d[SA_VMIB_OVERFLOWS])
		return SA_VERDICT_ACCEPT_QUEUE_FULL;
	if (d[SA_VMIB_REQQFULLDROP])
		return SA_VERDICT_SYN_QUEUE_FULL;
	if (d[SA_VMIB_LISTENDROPS])
		return SA_VERDICT_DROP_OTHER;
	return SA_VERDICT_QUEUED;
}

/*
 * The watched namespace's baselines: one per CPU.  The agent primes every
 * CPU's (tcp_destroy_sock, kprobe/stack/verdict.bpf.c); from then on each event
 * there moves its CPU's.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sa_mib_baseline);
} mib_baseline SEC(".maps") __weak;

/* The watched namespace's per-CPU MIB pointer, learned from its first
 * event: constant for the namespace's lifetime (see watch.h), read once. */
__u64 watched_mib __weak;

static __always_inline __u64 watched_mib_of(struct net *net)
{
	if (!watched_mib)
		watched_mib = (__u64)BPF_CORE_READ(net, mib.net_statistics);
	return watched_mib;
}

/* sa_mib_advance on this CPU's baseline of the watched namespace @net. */
static __always_inline int mib_advance(struct net *net, __u64 *delta, bool cast)
{
	struct sa_mib_baseline *b;
	__u32 zero = 0;

	b = bpf_map_lookup_elem(&mib_baseline, &zero);
	if (!b)
		return -1;
	return sa_mib_advance(watched_mib_of(net), b, delta, cast);
}

#endif /* SYNACCT_BPF_MIB_H */
