// SPDX-License-Identifier: GPL-2.0
/*
 * stack.bpf.c - stage 3 of a SYN's path: what the TCP stack did with it.
 *
 * Works without kprobes or fentry (this project's kernels run in lockdown),
 * on tracepoints only (listeners.bpf.c reads the listeners' queues):
 *   skb:kfree_skb             SYNs dropped before a socket, with the reason;
 *                             handshake ACKs dropped with TCP_LISTEN_OVERFLOW
 *   skb:consume_skb           SYNs consumed by a listener in
 *                             tcp_rcv_state_process (queued, cookie or dropped)
 *                             (Linux 6.3+; before, fexit or kprobe on
 *                             tcp_conn_request, where the kernel allows them)
 *   tcp:tcp_retransmit_synack SYN-ACK retransmissions
 *   sock:inet_sock_set_state  handshakes completed (SYN_RECV -> ESTABLISHED)
 *   tcp:tcp_destroy_sock      priming the per-CPU MIB baselines (see below)
 * and the same events in the namespaces forwarded SYNs are followed into
 * (follow.bpf.h).
 *
 * Tracepoints are global: every event is filtered to the watched network
 * namespace (net_cookie) and, where the skb tells it, to the watched
 * interfaces.
 *
 * The listener's verdict.  A SYN that reaches a listener is consumed in
 * tcp_rcv_state_process whatever happened to it, so the skb alone does not
 * say whether it was queued, answered with a cookie, or dropped.  The
 * kernel says it in its MIB counters, which it bumps on the current CPU
 * while it processes the SYN: SyncookiesSent, ListenOverflows (accept queue
 * full), TCPReqQFullDrop (SYN queue full, no cookies), ListenDrops (every
 * listener drop).  The handlers keep, per CPU, the values those counters had
 * after the previous event in this namespace; the difference at the SYN's
 * consume is exactly what the kernel did with it.  Nothing else runs on
 * that CPU in between (softirq), and every other event that moves these
 * counters frees or consumes an skb we also see, which moves the baseline.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>
#include "../include/synacct.h"
#include "../include/bpf/parse.h"
#include "../include/bpf/count.h"
#include "../include/bpf/synack.h"

#define SA_AF_INET	2
#define SA_AF_INET6	10


/* Set by the agent before load. */
const volatile __u64 netns_cookie;
/* tcp_rcv_state_process [start, end): where a listener consumes a SYN. */
const volatile __u64 tcp_rcv_state_process_start;
const volatile __u64 tcp_rcv_state_process_end;
/* sk_stream_kill_queues [start, end): where a closing stream socket's
 * queues are purged (0, 0: not known). */
const volatile __u64 stream_purge_start;
const volatile __u64 stream_purge_end;
const volatile __u32 watched_ifindex[SA_MAX_IFACES];
const volatile __u32 n_watched;
/* Indices of the MIB counters in struct linux_mib, from the running
 * kernel's BTF (the enum is anonymous, so CO-RE cannot relocate it). */
const volatile __u32 mib_idx[SA_VMIB_N];
/* The MIB counters are read in one go from a window of SA_MIB_WIN counters
 * starting at mib_win_lo (set by the agent when the window stays inside
 * struct linux_mib), the ones outside it one by one: fewer helper calls
 * on every SYN a listener consumes. */
const volatile __u32 mib_win_lo;
const volatile __u32 mib_win_ok;
/* Possible CPUs, for priming every CPU's baseline. */
const volatile __u32 nr_cpus;

SA_SLOT_MAPS(stack_counters, struct sa_stack_counters);

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SA_MAX_DROP_KEYS);
	__type(key, struct sa_drop_key);
	__type(value, __u64);
} stack_drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SA_MAX_DROP_KEYS);
	__type(key, struct sa_drop_key);
	__type(value, __u64);
} synack_drops SEC(".maps");

struct mib_baseline {
	__u64 v[SA_VMIB_N];
	__u32 valid;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mib_baseline);
} mib_baseline SEC(".maps");

/* The last SYN-ACK retransmission on this CPU: a client's retransmitted
 * SYN that finds its request sock makes the kernel retransmit the SYN-ACK
 * while it processes that SYN (tcp_check_req); the SYN is then freed. */
struct rtx_mark {
	__u32 isn;
	__u32 port;
	__u32 pending;
	__u32 follow;		/* in a followed namespace (follow.bpf.h) */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rtx_mark);
} rtx_mark SEC(".maps");

/* Set from user space while it primes the baselines (tcp_destroy_sock). */
volatile __u32 priming;

static __always_inline bool watched(__u32 ifindex)
{
	for (int i = 0; i < SA_MAX_IFACES; i++) {
		if (i >= n_watched)
			break;
		if (watched_ifindex[i] == ifindex)
			return true;
	}
	return false;
}

/* The watched namespace's struct net and its per-CPU MIB pointer, learned
 * from the first event in it.  The agent holds a reference to that
 * namespace (it runs in it) for as long as these programs run, so its
 * struct net cannot be freed and its address cannot be reused: once it is
 * known, a namespace is the watched one exactly when its address is this
 * one, with no read at all. */
__u64 watched_net;
__u64 watched_mib;
/* Its loopback device: the device of every local input route in it
 * (ip_route_input_slow), which cannot move to another namespace. */
__u64 watched_lo;

/* @net may come from a probe read (not a BTF pointer): read it the same way. */
static __always_inline bool in_netns(struct net *net)
{
	__u64 addr = (__u64)net;

	if (watched_net)
		return addr == watched_net;
	if (!net || BPF_CORE_READ(net, net_cookie) != netns_cookie)
		return false;
	watched_lo = (__u64)BPF_CORE_READ(net, loopback_dev);
	watched_net = addr;
	return true;
}

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
} cpu_offset SEC(".maps");

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

/* @cpu's value of the watched namespace's MIB counters (@cast: see
 * read_mibs_at). */
static __always_inline int read_mibs(struct net *net, __u32 cpu, __u64 *v, bool cast)
{
	/* Constant for the namespace's lifetime: read once (see watched_net). */
	if (!watched_mib)
		watched_mib = (__u64)BPF_CORE_READ(net, mib.net_statistics);
	return read_mibs_at(watched_mib, cpu, v, cast);
}

/* Move this CPU's baseline to now; with @delta, say what changed.
 * @cast: see read_mibs_at. */
static __always_inline int mib_advance(struct net *net, __u64 *delta, bool cast)
{
	struct mib_baseline *b;
	__u32 zero = 0;
	__u64 now[SA_VMIB_N];
	int was_valid;

	b = bpf_map_lookup_elem(&mib_baseline, &zero);
	if (!b || read_mibs(net, bpf_get_smp_processor_id(), now, cast))
		return -1;
	was_valid = b->valid;
	for (int i = 0; i < SA_VMIB_N; i++) {
		if (delta)
			delta[i] = now[i] - b->v[i];
		b->v[i] = now[i];
	}
	b->valid = 1;
	return was_valid ? 0 : -1;
}

struct syn_info {
	__u16 sport;
	__u16 dport;
	__u32 seq;
	__u8 flags;
	__u8 family;		/* 4 or 6 */
	__u8 doff;		/* TCP header length / 4 */
	/* Behind more IPv6 extension headers than include/bpf/parse.h
	 * walks: unparsed at XDP and TC, never in nic_syn / tc_syn. */
	bool beyond_parser;
	bool have_opt;		/* opt holds the 40 bytes after the TCP header */
	unsigned char *th;	/* the TCP header, in the skb */
	unsigned char opt[40];
};

/* IPv6 extension headers the stack side walks: twice as many as the
 * XDP/TC parser (SA_MAX_EXTHDR), so that a SYN behind more than that
 * one walks is still counted here, and said to be beyond it. */
#define SA_STACK_MAX_EXTHDR	(2 * SA_MAX_EXTHDR)

/* The TCP header of an IPv4/IPv6 skb in the stack.  Headers are read from
 * the network header (set from __netif_receive_skb_core on), walking the
 * same kinds of IPv6 extension headers as the XDP/TC parser (atomic
 * fragments included), up to SA_STACK_MAX_EXTHDR of them: si->beyond_parser
 * says there were more than the parser walks.  @skb is a tp_btf
 * argument: its fields are read directly; the packet bytes in one probe
 * read when there are no IP options or extension headers. */
static __always_inline int skb_tcp(struct sk_buff *skb, struct syn_info *si)
{
	unsigned char *head = skb->head;
	__u16 nhoff = skb->network_header;
	__u16 proto = skb->protocol;
	struct sa_tcphdr *th;
	unsigned char *nh;
	__u32 thoff;
	/* The option bytes come with the headers, for SYNs' cookie figures:
	 * one read.  They are inside the skb's head even when the TCP header
	 * has no options: skb_shared_info follows the data. */
	union {
		struct {
			struct iphdr iph;
			struct sa_tcphdr th;
			unsigned char opt[40];
		} v4;
		struct {
			struct ipv6hdr ip6h;
			struct sa_tcphdr th;
			unsigned char opt[40];
		} v6;
	} h;
	struct sa_tcphdr th_far;
	__u64 nh_at, end;

	/* Cheapest test first: most skbs freed on a host are not IP. */
	if (proto != bpf_htons(SA_ETH_P_IP) && proto != bpf_htons(SA_ETH_P_IPV6))
		return -1;
	si->beyond_parser = false;
	if (nhoff == (__u16)~0U)
		nh = skb->data;
	else
		nh = head + nhoff;
	/* Where the packet ends, from head (data moves as layers pull their
	 * headers, data + len does not): a frame cut short is freed for it,
	 * and the bytes past its end are whatever the buffer held before,
	 * not a TCP header. */
	nh_at = (__u64)nh - (__u64)head;
	end = (__u64)skb->data - (__u64)head + skb->len;

	if (proto == bpf_htons(SA_ETH_P_IP)) {
		if (bpf_probe_read_kernel(&h.v4, sizeof(h.v4), nh))
			return -1;
		if (h.v4.iph.version != 4 || h.v4.iph.ihl < 5 ||
		    h.v4.iph.protocol != SA_IPPROTO_TCP ||
		    (h.v4.iph.frag_off & bpf_htons(0x1fff)))
			return -1;
		thoff = h.v4.iph.ihl * 4;
		th = &h.v4.th;
		si->family = 4;
		if (thoff == sizeof(h.v4.iph))
			__builtin_memcpy(si->opt, h.v4.opt, sizeof(si->opt));
	} else {
		__u8 nexthdr;

		if (bpf_probe_read_kernel(&h.v6, sizeof(h.v6), nh))
			return -1;
		nexthdr = h.v6.ip6h.nexthdr;
		thoff = sizeof(h.v6.ip6h);
		th = &h.v6.th;
		/* The same extension headers as include/bpf/parse.h walks,
		 * further. */
		for (int i = 0; i < SA_STACK_MAX_EXTHDR && nexthdr != SA_IPPROTO_TCP; i++) {
			struct sa_fraghdr eh;

			if (!sa_ipv6_walked(nexthdr))
				return -1;
			if (bpf_probe_read_kernel(&eh, sizeof(eh), nh + thoff))
				return -1;
			/* A real fragment (offset or M set) is not a
			 * segment; an atomic one is the whole packet. */
			if (nexthdr == 44 &&
			    (eh.frag_off & bpf_htons(SA_IP6_FRAG_OFFSET_M)))
				return -1;
			if (i == SA_MAX_EXTHDR)
				si->beyond_parser = true;
			/* A fragment header is 8 bytes; the others say
			 * their length in 8 bytes, less one, where the
			 * fragment header has its reserved byte. */
			thoff += nexthdr == 44 ? sizeof(eh) : (eh.reserved + 1) * 8;
			nexthdr = eh.nexthdr;
		}
		if (nexthdr != SA_IPPROTO_TCP)
			return -1;
		si->family = 6;
		if (thoff == sizeof(h.v6.ip6h))
			__builtin_memcpy(si->opt, h.v6.opt, sizeof(si->opt));
	}
	if (nh_at + thoff + sizeof(struct sa_tcphdr) > end)
		return -1;
	/* IP options or extension headers: the TCP header is further on. */
	si->have_opt = thoff == (si->family == 4 ? sizeof(h.v4.iph) : sizeof(h.v6.ip6h));
	if (!si->have_opt) {
		if (bpf_probe_read_kernel(&th_far, sizeof(th_far), nh + thoff))
			return -1;
		th = &th_far;
	}
	si->sport = bpf_ntohs(th->source);
	si->dport = bpf_ntohs(th->dest);
	si->seq = bpf_ntohl(th->seq);
	si->flags = th->flags;
	si->doff = th->res_doff >> 4;
	si->th = nh + thoff;
	/* As include/bpf/parse.h: a data offset below 5 words, or options
	 * cut short, is a malformed segment, not a SYN. */
	if (si->doff < 5 || nh_at + thoff + si->doff * 4 > end)
		return -1;
	return 0;
}

/* A SYN's MSS and timestamp options, which decide what its cookie can
 * carry: the MSS is quantised into the cookie, and without timestamps
 * there is nowhere to keep window scaling and SACK. */
struct opt_walk {
	/* 40 bytes of options at most; 64 so that "& 63" bounds every index. */
	unsigned char opt[64];
	__u32 i;
	__u32 len;
	__u16 mss;
	bool has_ts;
};

/* One option per call, through bpf_loop: an unrolled walk of 40 bytes of
 * options is more than the verifier will explore. */
static long opt_step(__u32 n, void *ctx)
{
	struct opt_walk *w = ctx;
	__u8 kind, olen;

	(void)n;
	if (w->i >= w->len)
		return 1;
	kind = w->opt[w->i & 63];
	if (kind == 0)			/* end of options */
		return 1;
	if (kind == 1) {		/* NOP */
		w->i++;
		return 0;
	}
	olen = w->opt[(w->i + 1) & 63];
	if (olen < 2 || w->i + olen > w->len)
		return 1;
	if (kind == 2 && olen == 4)
		w->mss = (w->opt[(w->i + 2) & 63] << 8) | w->opt[(w->i + 3) & 63];
	else if (kind == 8 && olen == 10)
		w->has_ts = true;
	w->i += olen;
	return 0;
}

static __always_inline void syn_options(const struct syn_info *si, __u16 *mss,
					bool *has_ts)
{
	struct opt_walk w = {};
	__u32 len = si->doff * 4;
	const unsigned char *o = si->opt;

	*mss = 0;
	*has_ts = false;
	if (len <= 20 || len > 60)
		return;
	if (si->have_opt)
		__builtin_memcpy(w.opt, si->opt, sizeof(si->opt));
	else if (bpf_probe_read_kernel(w.opt, 40, si->th + 20))
		return;
	else
		o = w.opt;
	w.len = len - 20;
	/* The layouts Linux itself sends (tcp_options_write), recognised
	 * whole, so the result is what the walk would give: MSS, SACK_PERM,
	 * TIMESTAMP, NOP, WSCALE; or MSS, NOP, NOP, SACK_PERM, NOP, WSCALE. */
	if (o[0] == 2 && o[1] == 4) {
		if (w.len == 20 && o[4] == 4 && o[5] == 2 && o[6] == 8 && o[7] == 10 &&
		    o[16] == 1 && o[17] == 3 && o[18] == 3) {
			*mss = (o[2] << 8) | o[3];
			*has_ts = true;
			return;
		}
		if (w.len == 12 && o[4] == 1 && o[5] == 1 && o[6] == 4 && o[7] == 2 &&
		    o[8] == 1 && o[9] == 3 && o[10] == 3) {
			*mss = (o[2] << 8) | o[3];
			return;
		}
	}
	bpf_loop(40, opt_step, &w, 0);
	*mss = w.mss;
	*has_ts = w.has_ts;
}

/* Slot of the MSS a cookie encodes for this SYN (see SA_COOKIE_MSS_*). */
static __always_inline __u32 cookie_mss_slot(__u8 family, __u16 mss)
{
	static const __u16 msstab[SA_COOKIE_MSS_N] = SA_COOKIE_MSS_TABLE;
	const __u16 *tab = family == 6 ? msstab + 4 : msstab;
	__u32 slot = 0;

	if (!mss)
		mss = family == 6 ? SA_TCP_MSS_DEFAULT_V6 : SA_TCP_MSS_DEFAULT_V4;
	for (int i = 3; i > 0; i--) {
		if (mss >= tab[i]) {
			slot = i;
			break;
		}
	}
	return (family == 6 ? 4 : 0) + slot;
}

/* The namespace an input skb is in.  By the time TCP consumes a SYN,
 * skb->dev is gone (the field is reused), but the input route is still
 * attached, and its device (loopback for local delivery) is in the same
 * namespace; unless the SYN went through the listener's backlog (below). */
static __always_inline struct net *skb_net(struct sk_buff *skb)
{
	struct net_device *dev = skb->dev;
	unsigned long refdst;
	struct dst_entry *dst;

	if (dev)
		return dev->nd_net.net;
	refdst = skb->_skb_refdst & ~1UL;	/* SKB_DST_NOREF */
	if (!refdst) {
		/* A segment that waited in its socket's backlog while a task
		 * owned the socket (an accept(), synacct's own iterator): TCP
		 * dropped its route there (tcp_add_backlog), and that task
		 * processes the backlog at release_sock, in its own context:
		 * the socket's namespace is the task's. */
		struct task_struct *task = bpf_get_current_task_btf();

		return BPF_CORE_READ(task, nsproxy, net_ns);
	}
	dst = (struct dst_entry *)refdst;
	dev = BPF_CORE_READ(dst, dev);
	/* A local route of the watched namespace: no second read. */
	if (watched_lo && (__u64)dev == watched_lo)
		return (struct net *)watched_net;
	return BPF_CORE_READ(dev, nd_net.net);
}

static __always_inline bool is_syn(const struct syn_info *si)
{
	return (si->flags & (SA_TCP_SYN | SA_TCP_ACK)) == SA_TCP_SYN;
}

/* Was this SYN (counted under @port) a retransmission that its request
 * sock answered?  @follow: in a followed namespace. */
static __always_inline bool rtx_match(const struct syn_info *si, __u32 port, bool follow)
{
	struct rtx_mark *m;
	__u32 zero = 0;

	m = bpf_map_lookup_elem(&rtx_mark, &zero);
	if (!m || !m->pending)
		return false;
	m->pending = 0;
	return m->port == port && m->isn == si->seq && m->follow == follow;
}

#include "nat.bpf.h"
#include "follow.bpf.h"
#include "forward.bpf.h"

#define STACK_INC(port, field) do {					\
	struct sa_stack_counters *__c = sa_slot_counters(stack_counters, \
				(port), struct sa_stack_counters);	\
	if (__c)							\
		__c->field++;						\
} while (0)

/* A SYN counted in a stage of the tc_to_listener equation (listener_syn,
 * syn_to_request_sock, stack_drops, forwarded) that XDP and TC could not
 * parse: the agent sets it off against that gap (agent/reconcile.c). */
#define BEYOND_PARSER_INC(si) do {					\
	if ((si)->beyond_parser)					\
		STACK_INC((si)->dport, syn_beyond_parser);		\
} while (0)

static __always_inline void count_cookie(struct sa_stack_counters *c,
					 const struct syn_info *si)
{
	bool has_ts;
	__u16 mss;
	__u32 slot;

	c->syncookies_sent++;
	syn_options(si, &mss, &has_ts);
	if (!has_ts)
		c->syncookies_no_ts++;
	slot = cookie_mss_slot(si->family, mss);
	if (slot < SA_COOKIE_MSS_N)
		(&c->syncookies_mss_0)[slot]++;
}

/*
 * A SYN-ACK that passed TC egress, freed before the device took it
 * (tc/synack.h): count it by the listener's port and the kernel's reason.
 * On a veth the skb may already be in the peer's namespace (its backlog
 * was full), which is why it is recognised by its address and contents,
 * not by the namespace it is freed in.  A retransmission the stack has not
 * counted as sent yet is a failed one, unless tcp_retransmit_synack follows
 * on this CPU (synack_rtx_sent).
 */
static __always_inline void synack_count_drop(struct sa_synack_flight *f,
					      __u64 addr, __u32 reason)
{
	struct sa_synack_last *last;
	struct sa_drop_key key;
	__u32 zero = 0;
	__u64 *cnt;

	key.port = f->port;
	key.reason = reason;
	cnt = sa_map_counters(synack_drops, &key, __u64, key.port);
	if (cnt)
		(*cnt)++;
	if (f->retrans) {
		/* Still inside its send on its CPU (marked there, for
		 * tcp_retransmit_synack to take back), or never reported sent. */
		last = bpf_map_lookup_percpu_elem(&synack_last, &zero, f->cpu);
		/* + not |: the verifier allows no bitwise operation on an skb
		 * pointer; its low bit is clear. */
		if ((last && __sync_val_compare_and_swap(&last->skb, addr,
							 addr + SA_SYNACK_LAST_DROPPED) == addr) ||
		    !f->sent)
			STACK_INC(f->port, synack_retrans_failed);
	}
	sa_synack_forget(f, addr);
}

static __always_inline bool synack_dropped(struct sk_buff *skb, __u32 reason)
{
	struct sa_synack_flight *f;
	__u64 addr = (__u64)skb;
	struct syn_info si;

	/* A received skb (skb_iif is set on receive, zero until then) is
	 * not one of our SYN-ACKs on its way out: most drops are of those,
	 * and need no lookup.  A SYN-ACK of ours received by the peer's
	 * stack left us; whatever drops it there is the receiver's
	 * business. */
	if (skb->skb_iif)
		return false;
	f = sa_synack_find(addr);
	if (!f)
		return false;
	if (skb_tcp(skb, &si) || si.sport != f->port || si.seq != f->seq ||
	    (si.flags & (SA_TCP_SYN | SA_TCP_ACK)) != (SA_TCP_SYN | SA_TCP_ACK)) {
		/* Delivered, or another skb at a recycled address: the
		 * entry is stale. */
		sa_synack_forget(f, addr);
		return false;
	}
	synack_count_drop(f, addr, reason);
	return true;
}

/* tcp_retransmit_synack: the retransmission on this CPU went out, as far
 * as the stack knows.  If it was dropped after TC egress already, that
 * drop was not a failure after all; if not, a later drop will not be. */
static __always_inline void synack_rtx_sent(const struct request_sock *req,
					    __u32 port)
{
	struct sa_synack_last *last;
	struct sa_synack_flight *f;
	struct sa_stack_counters *c;
	__u32 zero = 0;
	__u64 skb;

	last = bpf_map_lookup_elem(&synack_last, &zero);
	if (!last || !last->skb || last->port != port ||
	    last->seq != BPF_CORE_READ((struct tcp_request_sock *)req, snt_isn))
		return;
	/* Sent before the record goes: a drop on another CPU that finds
	 * the record unmarked then sees it sent. */
	skb = last->skb;
	if (!(skb & SA_SYNACK_LAST_DROPPED)) {
		f = sa_synack_find(skb);
		if (f)
			f->sent = 1;
	}
	skb = __sync_lock_test_and_set(&last->skb, 0);
	if (skb & SA_SYNACK_LAST_DROPPED) {
		/* The failure may have been counted on another CPU: this
		 * CPU's copy may go below zero, the sum is what counts. */
		c = sa_slot_lookup(stack_counters, port, struct sa_stack_counters);
		if (c)
			c->synack_retrans_failed--;
	}
}

/*
 * Drops that concern neither a SYN nor a listener, decided from the
 * tracepoint's arguments alone, before the skb is read: most drops on a
 * busy host are of established flows, and each read of a cold skb costs
 * more than the rest of the test (docs/performance.md).
 *
 * The reasons only a connection past its handshake gives, for segments
 * after the SYN: sequence and data checks (tcp_validate_incoming,
 * tcp_data_queue), which every SYN at such a socket leaves earlier, as
 * TCP_INVALID_SYN.  Never a SYN, never a SYN-ACK on its way out, never
 * with a listener's MIB counters moved since the last event (a child's
 * first segment moves them before the child exists, and its state change
 * moves the baseline: inet_sock_set_state).  Resolved against the running
 * kernel's enum: a reason it does not have is not compared.
 *
 * And sk_stream_kill_queues: a TCP socket's receive and error queues at its
 * end.  Data of an established connection; the one SYN that can be there
 * is a Fast Open SYN's clone, whose original the listener already took.
 */
#define SA_ESTABLISHED_REASONS(X)					\
	X(TCP_OLD_DATA) X(TCP_OLD_SEQUENCE) X(TCP_OVERWINDOW)		\
	X(TCP_ZEROWINDOW) X(TCP_OFOMERGE) X(TCP_OFO_DROP)		\
	X(TCP_OFO_QUEUE_PRUNE)

static __always_inline bool past_handshake(__u32 reason, void *location)
{
	__u64 loc = (__u64)location;

#define SA_REASON_IS(name)						\
	if (bpf_core_enum_value_exists(enum skb_drop_reason,		\
				       SKB_DROP_REASON_##name) &&		\
	    reason == bpf_core_enum_value(enum skb_drop_reason,		\
					  SKB_DROP_REASON_##name))	\
		return true;
	SA_ESTABLISHED_REASONS(SA_REASON_IS)
#undef SA_REASON_IS
	return loc >= stream_purge_start && loc < stream_purge_end;
}

/*
 * A copy of a SYN that a socket queued, freed with the socket's queue: a
 * Fast Open SYN's data sits in its child's receive queue as a clone of the
 * SYN (tcp_fastopen_add_skb), owned by the child, and goes when the child
 * does (tcp_disconnect of a child nobody accepted, sk_stream_kill_queues).
 * The SYN itself reached the listener and was counted there.  A SYN in
 * flight is owned by no socket, or by a listener (bpf_sk_assign, TPROXY)
 * or the TIME_WAIT or established socket early demux found: those are
 * counted.  Purges give QUEUE_PURGE, or NOT_SPECIFIED on kernels before it.
 */
static __always_inline bool queued_copy(struct sk_buff *skb, __u32 reason)
{
	struct sock *sk = skb->sk;
	int state;

	if (!sk)
		return false;
	if (bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_QUEUE_PURGE) ?
	    reason != bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_QUEUE_PURGE) :
	    reason != bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_NOT_SPECIFIED))
		return false;
	state = sk->__sk_common.skc_state;
	return state != TCP_LISTEN && state != TCP_NEW_SYN_RECV && state != TCP_TIME_WAIT;
}

/* A drop past_handshake did not rule out (kfree_skb below). */
static __noinline int kfree_skb_other(struct sk_buff *skb, __u32 reason)
{
	struct syn_info si;
	struct sa_drop_key key;
	__u64 d[SA_VMIB_N], *cnt;
	bool have_delta;
	struct net *net;

	if (synack_dropped(skb, reason))
		return 0;
	/* Only received packets are ours to count, or move the MIB
	 * baseline: a SYN-ACK an output rule drops while its SYN is being
	 * processed must not take that SYN's delta (its SyncookiesSent). */
	if (!skb->skb_iif || queued_copy(skb, reason))
		return 0;
	net = skb_net(skb);
	if (!in_netns(net)) {
		struct follow_base *b = follow_base_of(net);

		if (b)
			follow_free(b, skb);
		return 0;
	}
	if (skb_tcp(skb, &si))
		return 0;
	/* Drops may come with MIB updates (ListenOverflows on the ACK
	 * path): move the baseline, and see what moved. */
	have_delta = !mib_advance(net, d, false);
	if (!watched(skb->skb_iif))
		return 0;
	nat_unmap_skb(skb, &si);

	if (!is_syn(&si)) {
		/* A handshake ACK that found the accept queue full: the
		 * kernel frees it as TCP_LISTEN_OVERFLOW on the request sock
		 * path, but as NO_SOCKET on the SYN cookie path; both bump
		 * ListenOverflows on this CPU, which is what we go by. */
		if (!have_delta || !(si.flags & SA_TCP_ACK))
			return 0;
		if (d[SA_VMIB_OVERFLOWS])
			STACK_INC(si.dport, ack_dropped_accept_full);
		/* A cookie ACK validated, then dropped (accept queue full),
		 * or one whose cookie did not check out. */
		if (d[SA_VMIB_COOKIES_RECV])
			STACK_INC(si.dport, syncookies_recv);
		if (d[SA_VMIB_COOKIES_FAILED])
			STACK_INC(si.dport, syncookies_failed);
		return 0;
	}
	if (rtx_match(&si, si.dport, false)) {
		STACK_INC(si.dport, syn_to_request_sock);
		BEYOND_PARSER_INC(&si);
		return 0;
	}
	key.port = si.dport;
	key.reason = reason;
	cnt = sa_map_counters(stack_drops, &key, __u64, key.port);
	if (cnt)
		(*cnt)++;
	BEYOND_PARSER_INC(&si);
	return 0;
}

/*
 * Most drops on a busy host are established flows' (past_handshake), in
 * process context with cold caches.  Their test and its return stay in
 * the program's first lines; the rest is a function of its own, whose
 * code would otherwise put the shared return a few kilobytes further, on
 * a cache line of its own (+170 ns per drop during bulk TCP).
 */
SEC("tp_btf/kfree_skb")
int BPF_PROG(synacct_kfree_skb, struct sk_buff *skb, void *location,
	     enum skb_drop_reason reason)	/* rx_sk (6.11+) not needed */
{
	if (past_handshake(reason, location))
		return 0;
	return kfree_skb_other(skb, reason);
}

/* A SYN a listener took, and its verdict from this CPU's MIB difference
 * @d (@err: no baseline yet): one counter lookup for both. */
static __always_inline void count_verdict(const struct syn_info *si, int err,
					  const __u64 *d)
{
	struct sa_stack_counters *c;

	c = sa_slot_counters(stack_counters, si->dport, struct sa_stack_counters);
	if (!c)
		return;
	c->listener_syn++;
	if (si->beyond_parser)
		c->syn_beyond_parser++;
	if (err)
		c->listener_unclassified++;
	else if (d[SA_VMIB_COOKIES])
		count_cookie(c, si);
	else if (d[SA_VMIB_OVERFLOWS])
		c->listen_drop_accept_queue_full++;
	else if (d[SA_VMIB_REQQFULLDROP])
		c->listen_drop_syn_queue_full++;
	else if (d[SA_VMIB_LISTENDROPS])
		c->listen_drop_other++;
	else
		c->syn_queued++;
}

SEC("tp_btf/consume_skb")
int BPF_PROG(synacct_consume_skb, struct sk_buff *skb, void *location)
{
	struct syn_info si;
	struct net *net;
	__u32 iif;
	__u64 d[SA_VMIB_N];
	bool at_listener;
	__u32 zero = 0;
	int err;
	struct rtx_mark *m;

	/* consume_skb is hot (every transmitted skb): decide on the
	 * location, or a pending SYN-ACK retransmission, before anything. */
	at_listener = (__u64)location >= tcp_rcv_state_process_start &&
		      (__u64)location < tcp_rcv_state_process_end;
	if (!at_listener) {
		m = bpf_map_lookup_elem(&rtx_mark, &zero);
		if (!m || !m->pending)
			return 0;
	}
	net = skb_net(skb);
	if (!in_netns(net)) {
		struct follow_base *b = follow_base_of(net);

		if (b && at_listener)
			follow_listener(b, skb);
		else if (b)
			follow_rtx_consumed(skb);
		return 0;
	}
	if (skb_tcp(skb, &si) || !is_syn(&si))
		return 0;
	iif = skb->skb_iif;
	nat_unmap_skb(skb, &si);

	if (!at_listener) {
		if (watched(iif) && rtx_match(&si, si.dport, false)) {
			STACK_INC(si.dport, syn_to_request_sock);
			BEYOND_PARSER_INC(&si);
		}
		return 0;
	}

	/* Every SYN consumed by a listener in this namespace moves the
	 * baseline, watched interface or not. */
	err = mib_advance(net, d, true);
	if (!watched(iif))
		return 0;

	count_verdict(&si, err, d);
	return 0;
}

/*
 * Listener verdicts where consume_skb has no location (before Linux 6.3):
 * tcp_conn_request handles every SYN a listener takes (tcp_v4_conn_request
 * and tcp_v6_conn_request both call it) and bumps the MIB counters that
 * say what became of it; the SYN is consumed right after, with nothing in
 * between that moves those counters, so the classification is the
 * consume_skb handler's.  User space loads one form (stack.c):
 *   fexit/tcp_conn_request   classifies at the return, with typed arguments;
 *   kprobe/tcp_conn_request  marks the skb on this CPU, and the one-argument
 *                            consume_skb program below classifies it when
 *                            it is consumed (a kprobe's pointers are not
 *                            typed, so the skb is read where they are).
 * Both end in listener_verdict().
 */
static __always_inline int listener_verdict(struct net *net, struct sk_buff *skb)
{
	struct syn_info si;
	__u64 d[SA_VMIB_N];
	__u32 iif;
	int err;

	if (!in_netns(net)) {
		struct follow_base *b = follow_base_of(net);

		if (b)
			follow_listener(b, skb);
		return 0;
	}
	if (skb_tcp(skb, &si) || !is_syn(&si))
		return 0;
	iif = skb->skb_iif;
	nat_unmap_skb(skb, &si);
	/* Every SYN a listener in this namespace handled moves the
	 * baseline, watched interface or not. */
	err = mib_advance(net, d, false);
	if (!watched(iif))
		return 0;

	count_verdict(&si, err, d);
	return 0;
}

SEC("fexit/tcp_conn_request")
int BPF_PROG(synacct_conn_request_fexit, struct request_sock_ops *rsk_ops,
	     const struct tcp_request_sock_ops *af_ops, struct sock *sk,
	     struct sk_buff *skb, int ret)
{
	return listener_verdict(sk->__sk_common.skc_net.net, skb);
}

/* The skb tcp_conn_request took last on this CPU (kprobe form). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} conn_request_skb SEC(".maps");

SEC("kprobe/tcp_conn_request")
int BPF_KPROBE(synacct_conn_request_kprobe, struct request_sock_ops *rsk_ops,
	       const struct tcp_request_sock_ops *af_ops, struct sock *sk,
	       struct sk_buff *skb)
{
	__u32 zero = 0;
	__u64 *mark;

	mark = bpf_map_lookup_elem(&conn_request_skb, &zero);
	if (mark)
		*mark = (__u64)skb;
	return 0;
}

/* consume_skb's first argument only: it has no location before 6.3. */
SEC("tp_btf/consume_skb")
int BPF_PROG(synacct_conn_request_consumed, struct sk_buff *skb)
{
	__u32 zero = 0;
	__u64 *mark;

	mark = bpf_map_lookup_elem(&conn_request_skb, &zero);
	if (!mark || *mark != (__u64)skb)
		return 0;
	*mark = 0;
	return listener_verdict(skb_net(skb), skb);
}

SEC("tp_btf/tcp_retransmit_synack")
int BPF_PROG(synacct_synack_retrans, const struct sock *sk,
	     const struct request_sock *req)
{
	struct rtx_mark *m;
	__u32 zero = 0, port;

	struct net *net = BPF_CORE_READ(sk, __sk_common.skc_net.net);

	if (!in_netns(net)) {
		if (follow_base_of(net))
			follow_synack_retrans(req);
		return 0;
	}
	port = BPF_CORE_READ(req, __req_common.skc_num);
	port = nat_unmap_sk(&req->__req_common, BPF_CORE_READ(req, rsk_ops, family),
			    port, false);
	STACK_INC(port, synack_retrans);
	synack_rtx_sent(req, port);

	m = bpf_map_lookup_elem(&rtx_mark, &zero);
	if (m) {
		m->isn = BPF_CORE_READ((struct tcp_request_sock *)req, rcv_isn);
		m->port = port;
		m->follow = 0;
		/* Only a retransmission inside packet processing (softirq
		 * receiving a SYN) can belong to a SYN; a timer's mark is
		 * cleared by the next consume or free that checks it. */
		m->pending = 1;
	}
	return 0;
}

/* A watched device took an skb (or refused it, rc NET_XMIT_DROP): a
 * tracked SYN-ACK's way through this host ends here.  NETDEV_TX_BUSY
 * means it goes back to the qdisc, still ours. */
SEC("tp_btf/net_dev_xmit")
int BPF_PROG(synacct_dev_xmit, struct sk_buff *skb, int rc,
	     struct net_device *dev, unsigned int len)
{
	struct sa_synack_flight *f;
	__u64 addr = (__u64)skb;
	struct sock *sk = skb->sk;

	/* Most of what a device sends belongs to a connection past its
	 * handshake (data, ACKs), which sends no SYN-ACK: a SYN-ACK's skb
	 * has no socket (a cookie), its request sock, or a Fast Open or
	 * simultaneous-open child in SYN_RECV (tcp_make_synack). */
	if (sk && sk->__sk_common.skc_state != TCP_NEW_SYN_RECV &&
	    sk->__sk_common.skc_state != TCP_SYN_RECV)
		return 0;
	if (rc == NETDEV_TX_BUSY || !watched(dev->ifindex) ||
	    !in_netns(dev->nd_net.net))
		return 0;
	f = sa_synack_find(addr);
	if (!f)
		return 0;
	/* Refused, and not freed through kfree_skb (that would have
	 * counted it and ended the record): a driver that frees what it
	 * refuses as consumed. */
	if (rc != NETDEV_TX_OK)
		synack_count_drop(f, addr, SA_REASON_XMIT_DROP);
	else
		sa_synack_forget(f, addr);
	return 0;
}

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

struct prime_ctx {
	struct net *net;
};

/* Start @cpu's baseline from its current values, unless its own traffic
 * already did. */
static long prime_cpu(__u32 cpu, void *ctx)
{
	struct prime_ctx *pc = ctx;
	struct mib_baseline *b;
	__u32 zero = 0;

	b = bpf_map_lookup_percpu_elem(&mib_baseline, &zero, cpu);
	if (b && !b->valid && !read_mibs(pc->net, cpu, b->v, false))
		b->valid = 1;
	return 0;
}

/* The agent closes a fresh TCP socket in the watched namespace while
 * `priming` is set: from wherever that runs, give every CPU a baseline
 * (other CPUs' per-CPU copies are reachable from any CPU, so this works
 * even when the agent may not run on all of them). */
SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(synacct_prime, struct sock *sk)
{
	struct prime_ctx pc;

	pc.net = BPF_CORE_READ(sk, __sk_common.skc_net.net);
	if (priming) {
		if (in_netns(pc.net))
			bpf_loop(nr_cpus, prime_cpu, &pc, 0);
	} else if (follow_on) {
		follow_prime(pc.net);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
