// SPDX-License-Identifier: GPL-2.0
/*
 * stack.c - loads stack.bpf.c, tells it which namespace and interfaces to
 * watch and where the kernel keeps what it needs (from BTF and kallsyms),
 * and reads the stack-side counters.
 *
 * Must run after the agent entered the watched namespace: the namespace's
 * cookie and the TCP iterator both come from the caller's namespace.
 */
#define _GNU_SOURCE
#include <argp.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/socket.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "log.h"
#include "pin.h"
#include "netns.h"
#include "nf_link.h"
#include "snapshot.h"
#include "stage.h"
#include "stack.skel.h"
#include "../agent/slot_read.h"

#define REASON_PREFIX "SKB_DROP_REASON_"

/* Where the listener's verdict on a SYN is taken, best first. */
enum listener_hook {
	LH_NONE,
	LH_CONSUME_SKB,		/* tp_btf/consume_skb with its location (6.3+) */
	LH_FEXIT,		/* fexit/tcp_conn_request */
	LH_KPROBE,		/* kprobe on tcp_conn_request, consume_skb */
};

static const char *const listener_hook_names[] = {
	[LH_NONE] = "none", [LH_CONSUME_SKB] = "consume_skb",
	[LH_FEXIT] = "fexit", [LH_KPROBE] = "kprobe",
};

struct stack_stage {
	struct stack_bpf *skel;
	const char *pin_dir;	/* --pin */
	/* --pin: links a pinned synacct left, still counting, held here. */
	struct bpf_link *kept[8];
	int n_kept;
	bool nf_kept;		/* ... and netfilter links (nf_links) */
	bool classify;		/* per-CPU MIB baselines available */
	enum listener_hook listener_hook;
	bool nat_hook;		/* netfilter programs and conntrack's BTF */
	int nf_links[4];	/* LOCAL_IN and FORWARD, IPv4 and IPv6; -1: none */
	struct sa_follow_ctl follow;	/* shared while it can follow */
};

static void stack_stage_close(void *priv);

/*
 * [start, end) of kernel functions @name[0..n): a tracepoint's location is
 * a return address inside the caller, not its start.  The end is the
 * nearest symbol address above the start; kallsyms is not sorted on every
 * kernel, so that takes a second pass once the starts are known (one pair
 * of passes for all: the file is large).  0, 0 for one not found (or
 * no kallsyms at all, or its addresses hidden: kptr_restrict).
 */
static void kallsyms_ranges(const char *const *name, int n, __u64 *start, __u64 *end)
{
	char line[512], sym[256];
	unsigned long long addr;
	int found = 0;
	FILE *f;

	for (int i = 0; i < n; i++)
		start[i] = end[i] = 0;
	f = fopen("/proc/kallsyms", "re");
	if (!f)
		return;
	while (found < n && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %*c %255s", &addr, sym) != 2 || !addr)
			continue;
		for (int i = 0; i < n; i++)
			if (!start[i] && !strcmp(sym, name[i])) {
				start[i] = addr;
				found++;
			}
	}
	rewind(f);
	while (found && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx", &addr) != 1)
			continue;
		for (int i = 0; i < n; i++)
			if (start[i] && addr > start[i] && (!end[i] || addr < end[i]))
				end[i] = addr;
	}
	fclose(f);
}

/* Number of arguments of tracepoint @tp in @btf (its btf_trace_ typedef),
 * or -1 when the kernel does not have it. */
static int tp_nargs(const struct btf *btf, const char *tp)
{
	const struct btf_type *t;
	char name[128];
	__s32 id;

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	id = btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
	if (id < 0)
		return -1;
	t = btf__type_by_id(btf, btf__resolve_type(btf, id));
	if (!t || !btf_is_ptr(t))
		return -1;
	t = btf__type_by_id(btf, t->type);
	if (!t || !btf_is_func_proto(t))
		return -1;
	return btf_vlen(t) - 1;	/* the first is the tracepoint's data */
}

/* Value of enumerator @name in any enum of @btf, or -1. */
static long long btf_enum_value(const struct btf *btf, const char *name)
{
	__u32 n = btf__type_cnt(btf);

	for (__u32 id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const struct btf_enum *e;

		if (!btf_is_enum(t))
			continue;
		e = btf_enum(t);
		for (int i = 0; i < btf_vlen(t); i++, e++)
			if (!strcmp(btf__name_by_offset(btf, e->name_off), name))
				return e->val;
	}
	return -1;
}

/* Drop reason names come from the running kernel: values move between
 * kernel versions, so no table is compiled in. */
static void load_reason_names(const struct btf *btf)
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
 * Give every CPU a MIB baseline: closing a fresh TCP socket in the
 * namespace fires tcp_destroy_sock, whose program (while `priming` is set)
 * reads every CPU's current values.  Until a CPU has a baseline, SYNs
 * consumed on it are counted as listener_unclassified.
 */
/* Open and close a TCP socket in the caller's namespace: its
 * tcp_destroy_sock is what the priming program waits for. */
static int destroy_a_socket(void)
{
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static int prime_baselines(struct stack_stage *st)
{
	int err;

	st->skel->bss->priming = 1;
	err = destroy_a_socket();
	st->skel->bss->priming = 0;
	return err;
}

/* Can this kernel load an fexit program on @func?  Lockdown refuses
 * tracing programs at load (EPERM); so does a kernel without BPF
 * trampolines.  A two-instruction program, as bcc's libbpf-tools probe. */
static bool fexit_can_load(const char *func)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts,
		    .expected_attach_type = BPF_TRACE_FEXIT);
	struct btf *vmlinux;
	int id, fd;

	/* The kernel's own BTF, whatever --btf says: attach ids are its. */
	vmlinux = btf__load_vmlinux_btf();
	if (libbpf_get_error(vmlinux))
		return false;
	id = btf__find_by_name_kind(vmlinux, func, BTF_KIND_FUNC);
	btf__free(vmlinux);
	if (id <= 0)
		return false;
	opts.attach_btf_id = id;
	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, NULL, "GPL", insns,
			   sizeof(insns) / sizeof(insns[0]), &opts);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* Does this kernel have kprobes (CONFIG_KPROBES: the kprobe PMU)?  The
 * function to put one on must be in kallsyms too (the caller's @listed). */
static bool kprobe_can_attach(bool listed)
{
	return listed && !access("/sys/bus/event_source/devices/kprobe/type", F_OK);
}

/*
 * Where to take the listener's verdict: consume_skb's location (6.3+) is
 * a tracepoint and works under lockdown; before 6.3, fexit or a kprobe on
 * tcp_conn_request where the kernel allows them.  Without any, SYNs that
 * reach listeners show as unexplained.  --listener-hook (@want, NULL or
 * "auto": the best there is) asks for one, and it is an error when the
 * kernel does not give it.  Loads only the chosen programs.
 */
static int find_listener_hook(struct stack_stage *st, const struct btf *btf,
			      const char *want_name)
{
	const char *why[LH_KPROBE + 1] = {};
	bool ok[LH_KPROBE + 1] = {};
	/* Code ranges the programs test a location against: a listener's
	 * SYN (consume_skb), and where a stream socket's queues are purged,
	 * which kfree_skb leaves alone (stack.bpf.c, past_handshake); and the
	 * function a kprobe would go on.  One read of kallsyms for all. */
	static const char *const code[] = { "tcp_rcv_state_process",
					     "sk_stream_kill_queues",
					     "tcp_conn_request" };
	__u64 start[3], end[3];
	int want = -1;

	for (int h = LH_CONSUME_SKB; h <= LH_KPROBE; h++)
		if (want_name && !strcmp(want_name, listener_hook_names[h]))
			want = h;
	if (want_name && want < 0 && strcmp(want_name, "auto")) {
		sa_err("unknown listener hook '%s': auto, consume_skb, fexit or kprobe", want_name);
		return -EINVAL;
	}

	kallsyms_ranges(code, 3, start, end);
	if (tp_nargs(btf, "consume_skb") < 2)
		why[LH_CONSUME_SKB] = "its consume_skb tracepoint has no location (Linux 6.3+)";
	else if (!start[0] || !end[0])
		why[LH_CONSUME_SKB] = "tcp_rcv_state_process not in /proc/kallsyms (kptr_restrict?)";
	else
		ok[LH_CONSUME_SKB] = true;
	if (want < 0 ? !ok[LH_CONSUME_SKB] : want == LH_FEXIT) {
		ok[LH_FEXIT] = fexit_can_load("tcp_conn_request");
		if (!ok[LH_FEXIT])
			why[LH_FEXIT] = "it refuses an fexit program on tcp_conn_request (lockdown?)";
	}
	if (want < 0 ? !ok[LH_CONSUME_SKB] && !ok[LH_FEXIT] : want == LH_KPROBE) {
		ok[LH_KPROBE] = kprobe_can_attach(start[2] && end[2]);
		if (!ok[LH_KPROBE])
			why[LH_KPROBE] = "it has no kprobes, or no tcp_conn_request in /proc/kallsyms";
	}

	st->listener_hook = LH_NONE;
	if (want >= 0) {
		if (!ok[want]) {
			sa_err("--listener-hook %s: this kernel cannot give it: %s; "
			       "use --listener-hook auto", listener_hook_names[want], why[want]);
			return -EOPNOTSUPP;
		}
		st->listener_hook = want;
	} else {
		for (int h = LH_KPROBE; h >= LH_CONSUME_SKB; h--)
			if (ok[h])
				st->listener_hook = h;
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
static void find_nat_hook(struct stack_stage *st, const struct btf *btf, bool verbose)
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

static int attach_nat(struct stack_stage *st)
{
	static const __u32 pf[2] = { SA_NFPROTO_IPV4, SA_NFPROTO_IPV6 };
	static const __u32 hook[2] = { SA_NF_INET_LOCAL_IN, SA_NF_INET_FORWARD };
	int prog_fd[2] = {
		bpf_program__fd(st->skel->progs.synacct_nat_in),
		bpf_program__fd(st->skel->progs.synacct_forward),
	};

	for (int i = 0; i < 4; i++) {
		char path[64] = "";
		int fd;

		/* --pin: a pinned synacct's netfilter link still counts. */
		if (st->pin_dir) {
			snprintf(path, sizeof(path), "link_netfilter_%d", i);
			fd = sa_pin_get(path);
			if (fd >= 0) {
				st->nf_links[i] = fd;
				st->nf_kept = true;
				continue;
			}
		}
		fd = sa_nf_link(prog_fd[i / 2], pf[i % 2], hook[i / 2]);
		if (fd < 0) {
			sa_err("cannot attach the netfilter program (%s, %s): %s",
			       i / 2 ? "FORWARD" : "LOCAL_IN", i % 2 ? "IPv6" : "IPv4",
			       sa_strerror(fd));
			return fd;
		}
		st->nf_links[i] = fd;
		if (path[0] && (fd = sa_pin_add(fd, path))) {
			sa_err("cannot pin the netfilter link in %s: %s", st->pin_dir,
			       sa_strerror(fd));
			return fd;
		}
	}
	return 0;
}

/* The indices of the verdict MIBs (SA_VERDICT_MIBS) in struct linux_mib:
 * the enum is anonymous, so they come from BTF by name. */
static void find_verdict_mibs(struct stack_stage *st, const struct btf *btf)
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
		long long v = btf_enum_value(btf, names[i]);

		if (v < 0)
			st->classify = false;
		st->skel->rodata->mib_idx[i] = v < 0 ? 0 : v;
	}
	/* One read for the counters that sit close together (stack.bpf.c). */
	{
		long long max = btf_enum_value(btf, "__LINUX_MIB_MAX");
		__u32 lo = st->skel->rodata->mib_idx[0];

		for (int i = 1; i < SA_VMIB_N; i++)
			if (st->skel->rodata->mib_idx[i] < lo)
				lo = st->skel->rodata->mib_idx[i];
		st->skel->rodata->mib_win_lo = lo;
		st->skel->rodata->mib_win_ok = max > 0 && lo + SA_MIB_WIN <= max;
	}
}

/*
 * For tests only: SYNACCT_TEST_STACK_MAP_ENTRIES=N loads stack_counters and
 * stack_drops with room for N entries, so that a scan of more ports than
 * that fills them and the counts lost show as update_failed
 * (selftests/t/62-losses.t).  Not an option: nobody wants it in production.
 */
static int test_map_entries(struct stack_bpf *skel)
{
	const char *v = getenv("SYNACCT_TEST_STACK_MAP_ENTRIES");
	unsigned long n;
	char *end;
	int err;

	if (!v)
		return 0;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || end == v || *end || n < 1 || n > SA_MAX_DROP_KEYS) {
		sa_err("invalid SYNACCT_TEST_STACK_MAP_ENTRIES: expected a number "
		       "from 1 to %u", SA_MAX_DROP_KEYS);
		return -EINVAL;
	}
	/* No slots (count.h): every port in the per-port hash, as big as
	 * said. */
	err = bpf_map__set_max_entries(skel->maps.stack_counters_port, 1);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.stack_counters, 1);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.stack_counters_more, n);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.stack_drops, n);
	return err;
}

/* SYN-ACKs dropped after TC egress: TC egress records them in maps of its
 * own object, shared through the registry; the stack object's handlers
 * use the same maps.  Without the TC stage they stay the stack object's
 * own, empty. */
static int share_synack_maps(struct stack_bpf *skel)
{
	int flight = sa_registry_fd(SA_SHARE_SYNACK_FLIGHT);
	int last = sa_registry_fd(SA_SHARE_SYNACK_LAST);
	int err;

	if (flight < 0 || last < 0)
		return 0;
	err = bpf_map__reuse_fd(skel->maps.synack_flight, flight);
	if (!err)
		err = bpf_map__reuse_fd(skel->maps.synack_last, last);
	if (err)
		sa_err("cannot share the SYN-ACK maps with the stack programs: %s",
		       sa_strerror(err));
	return err;
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
static int add_vlan_devices(int *ifindex, int n, bool verbose)
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

static const char no_cookie[] =
	"cannot read the network namespace cookie (SO_NETNS_COOKIE, Linux 5.14+): %s";

/* The programs count the watched namespace's SYNs by its cookie. */
static int stack_stage_prereq(const struct sa_stage_cfg *cfg, char *why, size_t len)
{
	__u64 cookie;
	int err = sa_netns_cookie(&cookie);

	(void)cfg;
	if (err)
		snprintf(why, len, no_cookie, sa_strerror(err));
	return err;
}

static bool stack_can_follow(const struct stack_stage *st);
static int stack_follow_here(void *priv, __u64 cookie);
static void stack_unfollow(void *priv, __u64 cookie);

static int stack_stage_open(void **out, const struct sa_stage_cfg *cfg)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = cfg->btf);
	struct stack_stage *st;
	struct btf *btf = NULL;
	int watched[SA_MAX_IFACES], n_watched;
	__u64 cookie;
	int err;

	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	for (int i = 0; i < 4; i++)
		st->nf_links[i] = -1;

	err = sa_netns_cookie(&cookie);
	if (err) {
		sa_err(no_cookie, sa_strerror(err));
		goto cleanup;
	}
	btf = cfg->btf ? btf__parse(cfg->btf, NULL) : btf__load_vmlinux_btf();
	err = libbpf_get_error(btf);
	if (err) {
		btf = NULL;
		sa_err("cannot read kernel BTF: %s", sa_strerror(err));
		goto cleanup;
	}

	st->skel = stack_bpf__open_opts(&oo);
	if (!st->skel) {
		err = -errno;
		sa_err("cannot open the stack programs: %s", sa_strerror(err));
		goto cleanup;
	}
	st->skel->rodata->netns_cookie = cookie;
	for (int i = 0; i < cfg->n_ifaces; i++)
		watched[i] = cfg->ifindex[i];
	n_watched = add_vlan_devices(watched, cfg->n_ifaces, cfg->verbose);
	for (int i = 0; i < n_watched; i++)
		st->skel->rodata->watched_ifindex[i] = watched[i];
	st->skel->rodata->n_watched = n_watched;
	st->skel->rodata->nr_cpus = libbpf_num_possible_cpus();
	st->skel->rodata->follow_on = cfg->follow;
	err = find_listener_hook(st, btf, cfg->listener_hook);
	if (err)
		goto cleanup;
	find_nat_hook(st, btf, cfg->verbose);
	find_verdict_mibs(st, btf);
	load_reason_names(btf);
	/* Subsystem reasons: their enums are in the modules' BTF, which
	 * only the running kernel's BTF can be the base of. */
	if (sa_subsys_reasons_load(btf) ||
	    (!cfg->btf && sa_subsys_reasons_load_modules(btf)))
		sa_info("cannot read the subsystem drop reasons' names: they show "
			"as SUBSYSTEM_CODE");
	err = test_map_entries(st->skel);
	if (!err)
		err = share_synack_maps(st->skel);
	if (err)
		goto cleanup;
	/* libbpf parses the kernel's BTF again for each object it loads:
	 * one copy at a time keeps the agent's peak RSS down. */
	btf__free(btf);
	btf = NULL;
	st->pin_dir = cfg->pin_dir;
	if (st->pin_dir) {
		err = sa_pin_maps(st->skel->obj, st->pin_dir, "stack");
		if (err) {
			sa_err("cannot pin the stack maps: %s", sa_strerror(err));
			goto cleanup;
		}
	}

	err = stack_bpf__load(st->skel);
	if (err) {
		sa_err("cannot load the stack programs: %s%s", sa_strerror(err),
		       cfg->verbose ? "" : " (run with -v for the verifier log)");
		goto cleanup;
	}
	if (st->pin_dir) {
		err = sa_pin_maps_commit(st->skel->obj);
		if (err) {
			sa_err("cannot pin the stack maps in %s: %s", st->pin_dir,
			       strerror(-err));
			goto cleanup;
		}
	}
	if (stack_can_follow(st)) {
		st->follow = (struct sa_follow_ctl){ st, stack_follow_here, stack_unfollow };
		err = sa_registry_share(SA_SHARE_FOLLOW, &st->follow);
		if (err) {
			sa_err("cannot share the follow control: %s", sa_strerror(err));
			goto cleanup;
		}
	}
	*out = st;
	return 0;

cleanup:
	btf__free(btf);
	stack_stage_close(st);
	return err;
}

/* --pin: each program whose link a pinned synacct left is not attached
 * again (it would count twice): its link, still counting into the
 * pinned maps, is held instead. */
static int pin_links_keep(struct stack_stage *st)
{
	const struct bpf_object_skeleton *s = st->skel->skeleton;
	char path[512];

	for (int i = 0; st->pin_dir && i < s->prog_cnt; i++) {
		struct bpf_program *prog = *s->progs[i].prog;
		struct bpf_link *link;

		if (!bpf_program__autoload(prog))
			continue;
		/* No pin: attached afresh (quietly: libbpf's bpf_link__open
		 * would warn on every missing one). */
		snprintf(path, sizeof(path), "link_%s", bpf_program__name(prog));
		if (sa_pin_link_open(path, &link))
			continue;
		if (st->n_kept >= (int)(sizeof(st->kept) / sizeof(st->kept[0]))) {
			bpf_link__destroy(link);
			return -E2BIG;
		}
		st->kept[st->n_kept++] = link;
		bpf_program__set_autoattach(prog, false);
	}
	return 0;
}

/* --pin: the links attached now outlive this process. */
static int pin_links_new(struct stack_stage *st)
{
	const struct bpf_object_skeleton *s = st->skel->skeleton;
	char path[512];
	int err;

	for (int i = 0; st->pin_dir && i < s->prog_cnt; i++) {
		struct bpf_link *link = *s->progs[i].link;

		if (!link)
			continue;
		snprintf(path, sizeof(path), "link_%s", bpf_program__name(*s->progs[i].prog));
		err = sa_pin_add(bpf_link__fd(link), path);
		if (err)
			return err;
	}
	return 0;
}

static int stack_stage_attach(void *priv, const struct sa_stage_cfg *cfg)
{
	struct stack_stage *st = priv;
	int err;

	(void)cfg;
	err = pin_links_keep(st);
	if (!err)
		err = stack_bpf__attach(st->skel);
	if (err) {
		sa_err("cannot attach the stack programs: %s", sa_strerror(err));
		return err;
	}
	if (st->nat_hook) {
		err = attach_nat(st);
		if (err)
			return err;
	}
	err = pin_links_new(st);
	if (err) {
		sa_err("cannot pin the stack tracepoints' links in %s: %s", st->pin_dir,
		       sa_strerror(err));
		return err;
	}
	/* The pinned programs' baselines are primed and kept up already. */
	if (st->n_kept || st->nf_kept)
		return 0;
	err = prime_baselines(st);
	if (err)
		sa_err("cannot prime the per-CPU MIB baselines: %s", sa_strerror(err));
	return err;
}

static int stack_stage_hooks(void *priv, const char **names, int max)
{
	struct stack_stage *st = priv;
	const char *all[12];
	int n = 0, k = 0;

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
	for (int i = 0; i < k && n < max; i++)
		names[n++] = all[i];
	return n;
}

/* stack_drops, or synack_drops with @flag SA_DROP_SYNACK: every
 * {port, reason} entry into the snapshot's ports. */
static int read_drops(int fd, __u32 flag, struct sa_snapshot *snap)
{
	int ncpu = libbpf_num_possible_cpus();
	struct sa_drop_key key, next, *prev = NULL;
	__u64 *vals;
	int err = 0;

	vals = calloc(ncpu, sizeof(__u64));
	if (!vals)
		return -ENOMEM;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		struct sa_port_stats *ps;
		__u64 *cnt;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, vals))
			continue;
		ps = sa_snapshot_port(snap, key.port);
		cnt = ps ? sa_port_drop(ps, key.reason | flag) : NULL;
		if (!cnt) {
			err = -ENOMEM;
			break;
		}
		for (int cpu = 0; cpu < ncpu; cpu++)
			*cnt += vals[cpu];
	}
	free(vals);
	return err;
}

/* Where NAT sent each published port (nat_ports): attributes, not
 * counters; the port's entry is created so a mapping shows even before
 * its first figure. */
static int read_nat(struct stack_stage *st, struct sa_snapshot *snap)
{
	int fd = bpf_map__fd(st->skel->maps.nat_ports);
	__u32 key, next, *prev = NULL;
	struct sa_nat nat;

	if (!st->nat_hook)
		return 0;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		struct sa_port_stats *ps;

		key = next;
		prev = &key;
		if (key >= SA_MAX_PORTS || bpf_map_lookup_elem(fd, &key, &nat))
			continue;
		ps = sa_snapshot_port(snap, key);
		if (!ps || !sa_port_nat(ps))
			return -ENOMEM;
		*ps->nat = nat;
		/* A local listener (REDIRECT, DNAT to this host): its queues
		 * are the published port's; read after the listeners. */
		if (nat.to_port != key && snap->port[nat.to_port] &&
		    snap->port[nat.to_port]->g.listeners) {
			ps->g = snap->port[nat.to_port]->g;
			snap->port[nat.to_port]->gauges_lent = true;
		}
	}
	fd = bpf_map__fd(st->skel->maps.fwd_ifindex);
	prev = NULL;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		struct sa_port_stats *ps;
		__u32 ifindex;

		key = next;
		prev = &key;
		if (key >= SA_MAX_PORTS || bpf_map_lookup_elem(fd, &key, &ifindex))
			continue;
		ps = sa_snapshot_port(snap, key);
		if (!ps)
			return -ENOMEM;
		ps->fwd_ifindex = ifindex;
	}
	return 0;
}

/* Which followed namespace each port's SYNs reached (follow_port_ns). */
static int read_follow(struct stack_stage *st, struct sa_snapshot *snap)
{
	int fd = bpf_map__fd(st->skel->maps.follow_port_ns);
	__u32 key, next, *prev = NULL;
	__u64 cookie;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		struct sa_port_stats *ps;

		key = next;
		prev = &key;
		if (key >= SA_MAX_PORTS || bpf_map_lookup_elem(fd, &key, &cookie))
			continue;
		ps = sa_snapshot_port(snap, key);
		if (!ps || !sa_port_follow(ps))
			return -ENOMEM;
		ps->follow->cookie = cookie;
	}
	return 0;
}

/* The stack's per-port counters' slot maps (include/bpf/count.h). */
static struct sa_slot_fds stack_fds(struct stack_stage *st)
{
	return sa_slot_fds(st->skel->maps.stack_counters_slot,
			   st->skel->maps.stack_counters_port,
			   st->skel->maps.stack_counters, st->skel->maps.stack_counters_more);
}

static int stack_stage_read(void *priv, struct sa_snapshot *snap)
{
	struct stack_stage *st = priv;
	int err;

	/* The namespaces SYNs are forwarded to are downstream: first. */
	err = sa_read_port_map(bpf_map__fd(st->skel->maps.container_counters),
			       SA_STAGE_CONTAINER, snap);
	if (!err)
		err = read_follow(st, snap);
	if (!err) {
		struct sa_slot_fds f = stack_fds(st);

		err = sa_read_slot_maps(&f, SA_STAGE_STACK, snap);
	}
	if (!err)
		err = read_drops(bpf_map__fd(st->skel->maps.stack_drops), 0, snap);
	if (!err)
		err = read_drops(bpf_map__fd(st->skel->maps.synack_drops),
				 SA_DROP_SYNACK, snap);
	if (!err)
		err = sa_read_port_map(bpf_map__fd(st->skel->maps.counts_lost),
				       SA_STAGE_LOST, snap);
	if (!err)
		err = sa_read_prog_counters(bpf_map__fd(st->skel->maps.prog_counters),
					    NULL, &snap->stack_update_failed);
	if (!err)
		err = sa_read_missed_runs(st->skel->obj, &snap->missed_runs);
	if (!err)
		err = read_nat(st, snap);
	return err;
}

/* Forwarded SYNs are seen at netfilter's FORWARD hook: following them
 * needs the netfilter programs, and not --no-follow. */
static bool stack_can_follow(const struct stack_stage *st)
{
	return st->nat_hook && st->skel->rodata->follow_on;
}

/*
 * Follow forwarded SYNs into the namespace the caller is in now (the
 * agent enters it), whose cookie is @cookie: closing a socket there
 * creates its per-CPU MIB baselines (follow.bpf.h), as prime_baselines
 * does for the watched one.
 */
static int stack_follow_here(void *priv, __u64 cookie)
{
	struct stack_stage *st = priv;
	__u32 zero = 0;
	__u64 none = 0;
	int ctl, err;

	ctl = bpf_map__fd(st->skel->maps.follow_ctl);
	if (bpf_map_update_elem(ctl, &zero, &cookie, BPF_ANY))
		return -errno;
	err = destroy_a_socket();
	bpf_map_update_elem(ctl, &zero, &none, BPF_ANY);
	return err;
}

/* Stop following the namespace whose cookie is @cookie. */
static void stack_unfollow(void *priv, __u64 cookie)
{
	struct stack_stage *st = priv;
	int fd, ncpu = libbpf_num_possible_cpus();
	__u64 key, *prev = NULL;
	void *vals;

	fd = bpf_map__fd(st->skel->maps.follow_ns);
	vals = calloc(ncpu, bpf_map__value_size(st->skel->maps.follow_ns));
	if (!vals)
		return;
	/* The value's first field is the cookie, in every CPU's copy;
	 * a per-CPU value is laid out 8-byte aligned per CPU. */
	while (bpf_map_get_next_key(fd, prev, &key) == 0) {
		if (!bpf_map_lookup_elem(fd, &key, vals) && *(__u64 *)vals == cookie) {
			bpf_map_delete_elem(fd, &key);
			break;
		}
		prev = &key;
	}
	free(vals);
}

static int stack_stage_read_port(void *priv, __u32 port, struct sa_port_stats *ps)
{
	struct stack_stage *st = priv;
	int fd = bpf_map__fd(st->skel->maps.stack_drops);
	int synack_fd = bpf_map__fd(st->skel->maps.synack_drops);
	int ncpu = libbpf_num_possible_cpus();
	__u64 *vals;
	int err;

	/* The namespace SYNs are forwarded to, then the drops: downstream
	 * of the listener's counts. */
	err = sa_read_port_entry(bpf_map__fd(st->skel->maps.container_counters),
				 SA_STAGE_CONTAINER, port, ps);
	if (err)
		return err;
	vals = calloc(ncpu, sizeof(__u64));
	if (!vals)
		return -ENOMEM;
	for (__u32 i = 0; i < ps->n_drops; i++) {
		__u32 r = ps->drops[i].reason;
		struct sa_drop_key key = { .port = port, .reason = r & ~SA_DROP_SYNACK };

		if (bpf_map_lookup_elem(r & SA_DROP_SYNACK ? synack_fd : fd, &key, vals))
			continue;
		for (int cpu = 0; cpu < ncpu; cpu++)
			ps->drops[i].n += vals[cpu];
	}
	free(vals);
	{
		struct sa_slot_fds f = stack_fds(st);

		err = sa_read_slot_entry(&f, SA_STAGE_STACK, port, ps);
	}
	if (!err)
		err = sa_read_port_entry(bpf_map__fd(st->skel->maps.counts_lost),
					 SA_STAGE_LOST, port, ps);
	return err;
}

static void stack_stage_close(void *priv)
{
	struct stack_stage *st = priv;

	if (!st)
		return;
	if (sa_registry_get(SA_SHARE_FOLLOW) == &st->follow)
		sa_registry_withdraw(SA_SHARE_FOLLOW);
	for (int i = 0; i < 4; i++)
		if (st->nf_links[i] >= 0)
			close(st->nf_links[i]);
	/* Closing a pinned link's fd leaves it attached. */
	for (int i = 0; i < st->n_kept; i++)
		bpf_link__destroy(st->kept[i]);
	stack_bpf__destroy(st->skel);
	free(st);
}

static int stack_stage_health(void *priv, struct sa_stage_health *h)
{
	struct stack_stage *st = priv;
	const struct bpf_object_skeleton *s = st->skel->skeleton;
	int n = st->n_kept;

	for (int i = 0; i < s->prog_cnt; i++)
		n += *s->progs[i].link != NULL;
	h->attached = n > 0;
	snprintf(h->detail, sizeof(h->detail), "%d link%s (%d kept from --pin), "
		 "listener verdicts from %s", n, n == 1 ? "" : "s", st->n_kept,
		 listener_hook_names[st->listener_hook]);
	return 0;
}

enum { OPT_NO_STACK = 0x210, OPT_LISTENER_HOOK };

static const struct argp_option stack_options[] = {
	{ "no-stack", OPT_NO_STACK, NULL, 0, "Do not attach the stack-side tracepoints (stack figures are then null)", 0 },
	{ "listener-hook", OPT_LISTENER_HOOK, "HOOK", 0, "Where listener verdicts come from: auto (default), consume_skb (6.3+), fexit or kprobe (on tcp_conn_request)", 0 },
	{ 0 }
};

static error_t stack_parse(int key, char *arg, struct argp_state *state)
{
	struct sa_stage_cfg *cfg = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		cfg->stack = true;
		cfg->listener_hook = NULL;
		break;
	case OPT_NO_STACK:
		cfg->stack = false;
		break;
	case OPT_LISTENER_HOOK:
		if (strcmp(arg, "auto") && strcmp(arg, "consume_skb") &&
		    strcmp(arg, "fexit") && strcmp(arg, "kprobe"))
			argp_error(state, "invalid --listener-hook '%s': auto, consume_skb, fexit or kprobe", arg);
		cfg->listener_hook = arg;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp stack_argp = { stack_options, stack_parse, NULL, NULL, NULL, NULL, NULL };

static bool stack_stage_enabled(const struct sa_stage_cfg *cfg)
{
	return cfg->stack;
}

const struct sa_stage_ops sa_stack_stage = {
	.name = "stack",
	.measures = 1u << SA_STAGE_STACK | 1u << SA_STAGE_LOST,
	.argp = &stack_argp,
	.enabled = stack_stage_enabled,
	.prereq = stack_stage_prereq,
	.open = stack_stage_open,
	.attach = stack_stage_attach,
	.read = stack_stage_read,
	.read_port = stack_stage_read_port,
	.hooks = stack_stage_hooks,
	.health = stack_stage_health,
	.close = stack_stage_close,
};
