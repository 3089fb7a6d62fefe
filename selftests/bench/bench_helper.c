// SPDX-License-Identifier: GPL-2.0
/*
 * bench_helper.c - what make bench needs that no Debian tool does:
 *
 *   bench_helper testrun NIC_OBJ TC_OBJ EMPTY_OBJ
 *     synacct's XDP and TC programs against empty programs at the same hook,
 *     on the same frames, in one run: BPF_PROG_TEST_RUN with many repeats
 *     (the kernel's own per-run average), alternating synacct and empty,
 *     the minimum of several rounds.  One line per frame and hook:
 *       HOOK FRAME synacct_ns EMPTY_ns
 *
 *   bench_helper hold EMPTY_OBJ
 *     turns on BPF run-time statistics (BPF_ENABLE_STATS: held by a file
 *     descriptor, counted by the kernel, so the kernel.bpf_stats_enabled
 *     sysctl is left alone), attaches the empty tp_btf programs (kfree_skb,
 *     consume_skb), prints their ids and "ready", then waits for SIGTERM:
 *     the floor for the per-SYN figures of synacct's tracepoint programs
 *     under the same flood.
 *
 *   bench_helper floor EMPTY_OBJ IFACE [HOOK,...]
 *     attaches empty programs at every hook synacct uses (SYNACCT_HOOKS),
 *     or those listed (xdp, tc, nf, kfree_skb, consume_skb, net_dev_xmit;
 *     tcx: TC both ways through TCX links, Linux 6.6+), in the current
 *     namespace (generic XDP and TC on IFACE), prints "ready", waits for
 *     SIGTERM: the cost of the hooks alone.
 *
 *   bench_helper listen PORT N
 *     N listening TCP sockets on ports PORT .. PORT+N-1 (IPv4 and IPv6),
 *     prints "ready", waits for SIGTERM: a host with many listeners.
 *
 * Exit status: 0 ok, 1 runtime failure, 2 usage error.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "../../kprobe/stack/nf_link.h"

/* Many short rounds: the minimum is the run least disturbed by the rest
 * of the machine (TEST_RUN's clock keeps running if the VM is descheduled). */
#define REPEAT	100000
#define ROUNDS	15

struct frame {
	const char *name;
	unsigned char data[128];
	size_t len;
};

/* An IPv4 frame to 198.18.0.1:8080 (a SYN-ACK from it) with @flags and
 * @optlen bytes of TCP options laid out as Linux's own SYN (MSS,
 * SACK_PERM, TS, NOP, WSCALE); UDP when @udp. */
static void build(struct frame *f, const char *name, int udp, __u8 flags, int optlen)
{
	struct ethhdr *eth = (void *)f->data;
	struct iphdr *ip = (void *)(eth + 1);
	static const unsigned char opts[20] = {
		2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7,
	};
	size_t l4;

	memset(f, 0, sizeof(*f));
	f->name = name;
	eth->h_proto = htons(ETH_P_IP);
	memset(eth->h_dest, 0x02, ETH_ALEN);
	memset(eth->h_source, 0x04, ETH_ALEN);
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->saddr = htonl(0xc6130001);	/* 198.19.0.1 */
	ip->daddr = htonl(0xc6120001);	/* 198.18.0.1 */
	if (udp) {
		struct udphdr *uh = (void *)(ip + 1);

		ip->protocol = IPPROTO_UDP;
		uh->source = htons(40000);
		uh->dest = htons(53);
		uh->len = htons(sizeof(*uh) + 32);
		l4 = sizeof(*uh) + 32;
	} else {
		struct tcphdr *th = (void *)(ip + 1);

		ip->protocol = IPPROTO_TCP;
		/* A SYN-ACK leaves the listener's port. */
		th->source = htons(flags == 0x12 ? 8080 : 40000);
		th->dest = htons(flags == 0x12 ? 40000 : 8080);
		th->seq = htonl(12345);
		th->doff = (sizeof(*th) + optlen) / 4;
		((__u8 *)th)[13] = flags;
		th->window = htons(64240);
		memcpy(th + 1, opts, optlen);
		l4 = sizeof(*th) + optlen + (udp ? 0 : 32 * !(flags & 0x02));
	}
	ip->tot_len = htons(sizeof(*ip) + l4);
	f->len = sizeof(*eth) + sizeof(*ip) + l4;
}

static int prog_fd(struct bpf_object *obj, const char *name)
{
	struct bpf_program *p = bpf_object__find_program_by_name(obj, name);

	return p ? bpf_program__fd(p) : -1;
}

/* @name's program in @obj, attached where its section says; NULL with
 * errno set if it cannot be. */
static struct bpf_link *attach_named(struct bpf_object *obj, const char *name)
{
	struct bpf_program *p = bpf_object__find_program_by_name(obj, name);

	if (!p) {
		errno = ENOENT;
		return NULL;
	}
	return bpf_program__attach(p);
}

/* @hooks: every program; else only the packet programs (testrun). */
static struct bpf_object *load(const char *path, bool hooks)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_program *p;

	if (!obj) {
		fprintf(stderr, "bench_helper: cannot open %s: %s\n", path, strerror(errno));
		return NULL;
	}
	bpf_object__for_each_program(p, obj) {
		bool nf = !strcmp(bpf_program__name(p), "bench_empty_nf");

		if (!hooks && (nf || bpf_program__type(p) == BPF_PROG_TYPE_TRACING))
			bpf_program__set_autoload(p, false);
		else if (nf) {
			bpf_program__set_type(p, SA_PROG_TYPE_NETFILTER);
			bpf_program__set_expected_attach_type(p, SA_ATTACH_NETFILTER);
		}
	}
	if (bpf_object__load(obj)) {
		fprintf(stderr, "bench_helper: cannot load %s: %s\n", path, strerror(errno));
		bpf_object__close(obj);
		return NULL;
	}
	return obj;
}

/* Average ns per run of @fd on @f, over REPEAT runs.  At TC (@tc) the
 * skb carries a send time, as every SYN-ACK tcp_make_synack builds does:
 * without it synacct's egress program would read the clock instead, which
 * it never does for a real SYN-ACK. */
static int run_ns(int fd, const struct frame *f, bool tc, __u32 *ns)
{
	unsigned char out[256];
	struct __sk_buff ctx = {};
	struct timespec now;
	LIBBPF_OPTS(bpf_test_run_opts, o,
		.data_in = f->data, .data_size_in = f->len,
		.data_out = out, .data_size_out = sizeof(out),
		.repeat = REPEAT);
	int err;

	if (tc) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		ctx.tstamp = now.tv_sec * 1000000000ULL + now.tv_nsec;
		o.ctx_in = &ctx;
		o.ctx_size_in = sizeof(ctx);
	}
	err = bpf_prog_test_run_opts(fd, &o);
	if (err)
		return err;
	*ns = o.duration;
	return 0;
}

static int testrun(const char *nic_path, const char *tc_path, const char *empty_path)
{
	struct bpf_object *nic = load(nic_path, false), *tc = load(tc_path, false);
	struct bpf_object *empty = load(empty_path, false);
	struct frame frames[4];
	struct {
		const char *hook;
		int fd, empty_fd;
		bool tc;	/* an skb: run_ns gives it a send time */
	} hooks[3];
	int err = 1;

	if (!nic || !tc || !empty)
		goto cleanup;
	build(&frames[0], "syn", 0, 0x02, 20);
	build(&frames[1], "tcp_ack", 0, 0x10, 0);
	build(&frames[2], "udp", 1, 0, 0);
	build(&frames[3], "synack", 0, 0x12, 20);
	hooks[0].hook = "xdp";
	hooks[0].fd = prog_fd(nic, "synacct_xdp");
	hooks[0].empty_fd = prog_fd(empty, "bench_empty_xdp");
	hooks[0].tc = false;
	hooks[1].hook = "tc_ingress";
	hooks[1].fd = prog_fd(tc, "synacct_tc_in");
	hooks[1].empty_fd = prog_fd(empty, "bench_empty_tc");
	hooks[1].tc = true;
	hooks[2].hook = "tc_egress";
	hooks[2].fd = prog_fd(tc, "synacct_tc_eg");
	hooks[2].empty_fd = prog_fd(empty, "bench_empty_tc");
	hooks[2].tc = true;

	for (int h = 0; h < 3; h++) {
		for (int i = 0; i < 4; i++) {
			__u32 best = ~0U, best_empty = ~0U, ns;

			/* Alternate, so that both see the same machine. */
			for (int r = 0; r < ROUNDS; r++) {
				if (run_ns(hooks[h].fd, &frames[i], hooks[h].tc, &ns))
					goto fail;
				best = ns < best ? ns : best;
				if (run_ns(hooks[h].empty_fd, &frames[i], hooks[h].tc, &ns))
					goto fail;
				best_empty = ns < best_empty ? ns : best_empty;
			}
			printf("%s %s %u %u\n", hooks[h].hook, frames[i].name, best, best_empty);
		}
	}
	err = 0;
	goto cleanup;
fail:
	fprintf(stderr, "bench_helper: BPF_PROG_TEST_RUN: %s\n", strerror(errno));
cleanup:
	bpf_object__close(nic);
	bpf_object__close(tc);
	bpf_object__close(empty);
	return err;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Say "ready" (the caller has set up and printed what it had to) and wait
 * for SIGTERM or SIGINT. */
static void wait_for_stop(void)
{
	printf("ready\n");
	fflush(stdout);
	while (!stop)
		pause();
}

static int hold(const char *empty_path)
{
	static const char *const names[] = { "bench_empty_kfree_skb", "bench_empty_consume_skb" };
	struct bpf_object *obj = load(empty_path, true);
	struct bpf_link *links[2] = {};
	int err = 1, stats_fd;

	if (!obj)
		return 1;
	stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (stats_fd < 0) {
		fprintf(stderr, "bench_helper: BPF_ENABLE_STATS: %s\n", strerror(-stats_fd));
		bpf_object__close(obj);
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	for (int i = 0; i < 2; i++) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		links[i] = attach_named(obj, names[i]);
		if (!links[i]) {
			fprintf(stderr, "bench_helper: cannot attach %s: %s\n", names[i], strerror(errno));
			goto cleanup;
		}
		bpf_obj_get_info_by_fd(prog_fd(obj, names[i]), &info, &len);
		printf("%s %u\n", names[i], info.id);
	}
	wait_for_stop();
	err = 0;
cleanup:
	for (int i = 0; i < 2; i++)
		bpf_link__destroy(links[i]);
	bpf_object__close(obj);
	close(stats_fd);
	return err;
}

/*
 * Empty programs at every hook synacct attaches, the way the kernel runs
 * them, in this namespace: generic XDP on @ifname, TC clsact ingress and
 * egress, netfilter at LOCAL_IN and FORWARD (IPv4, IPv6), and the
 * kfree_skb, consume_skb and net_dev_xmit tracepoints.  What any observer
 * at those hooks costs before its first instruction.  XDP is attached
 * directly, without libxdp's dispatcher: a floor, not synacct's setup.
 */
/* The hooks synacct itself uses: floor's default (tcx is not one). */
#define SYNACCT_HOOKS "xdp,tc,nf,kfree_skb,consume_skb,net_dev_xmit"

/* Is @hook in the comma-separated list @only? */
static bool wanted(const char *only, const char *hook)
{
	size_t n = strlen(hook);

	for (const char *p = only; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (!strncmp(p, hook, n) && (p[n] == ',' || !p[n]))
			return true;
	return false;
}


/* BPF_TCX_INGRESS, BPF_TCX_EGRESS (Linux 6.6), newer than these headers. */
#define SA_ATTACH_TCX_INGRESS	46

/* A TCX link for @prog_fd on @ifindex, ingress or @egress: the fd, or -errno. */
static int tcx_link(int prog_fd, int ifindex, bool egress)
{
	union bpf_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.link_create.prog_fd = prog_fd;
	attr.link_create.target_fd = ifindex;
	attr.link_create.attach_type = SA_ATTACH_TCX_INGRESS + egress;
	fd = syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	return fd < 0 ? -errno : fd;
}

static int floor_hooks(const char *empty_path, const char *ifname, const char *only)
{
	static const char *const tps[][2] = {
		{ "kfree_skb", "bench_empty_kfree_skb" },
		{ "consume_skb", "bench_empty_consume_skb" },
		{ "net_dev_xmit", "bench_empty_dev_xmit" },
	};
	static const __u32 pf[2] = { SA_NFPROTO_IPV4, SA_NFPROTO_IPV6 };
	static const __u32 nf_hook[2] = { SA_NF_INET_LOCAL_IN, SA_NF_INET_FORWARD };
	struct bpf_object *obj = load(empty_path, true);
	int ifindex = if_nametoindex(ifname), nf[4] = { -1, -1, -1, -1 }, tcx[2] = { -1, -1 };
	LIBBPF_OPTS(bpf_tc_hook, tc, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	struct bpf_link *links[3] = {};
	bool xdp = wanted(only, "xdp"), tc_too = wanted(only, "tc"), clsact = false;
	const char *what = NULL;
	int err = 1, e = 0;

	if (!obj)
		return 1;
	if (!ifindex) {
		fprintf(stderr, "bench_helper: floor: no interface %s\n", ifname);
		goto cleanup;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);

	what = "generic XDP";
	if (xdp) {
		e = bpf_xdp_attach(ifindex, prog_fd(obj, "bench_empty_xdp"),
				   XDP_FLAGS_SKB_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
		xdp = !e;
		if (e)
			goto fail;
	}

	what = "the clsact qdisc";
	e = tc_too ? bpf_tc_hook_create(&tc) : 0;
	if (e && e != -EEXIST)
		goto fail;
	clsact = tc_too && !e;
	what = "TC";
	for (int i = 0; i < 2 && tc_too; i++) {
		LIBBPF_OPTS(bpf_tc_opts, o, .prog_fd = prog_fd(obj, "bench_empty_tc"));

		tc.attach_point = i ? BPF_TC_EGRESS : BPF_TC_INGRESS;
		e = bpf_tc_attach(&tc, &o);
		if (e)
			goto fail;
	}
	tc.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
	what = "TCX";
	for (int i = 0; i < 2 && wanted(only, "tcx"); i++) {
		tcx[i] = tcx_link(prog_fd(obj, "bench_empty_tc"), ifindex, i);
		if (tcx[i] < 0) {
			e = tcx[i];
			goto fail;
		}
	}

	what = "netfilter";
	for (int i = 0; i < 4 && wanted(only, "nf"); i++) {
		nf[i] = sa_nf_link(prog_fd(obj, "bench_empty_nf"), pf[i % 2], nf_hook[i / 2]);
		if (nf[i] < 0) {
			e = nf[i];
			goto fail;
		}
	}

	what = "a tracepoint";
	for (int i = 0; i < 3; i++) {
		if (!wanted(only, tps[i][0]))
			continue;
		links[i] = attach_named(obj, tps[i][1]);
		if (!links[i]) {
			e = -errno;
			goto fail;
		}
	}
	wait_for_stop();
	err = 0;
	goto cleanup;
fail:
	fprintf(stderr, "bench_helper: floor: cannot attach %s: %s\n", what, strerror(-e));
cleanup:
	for (int i = 0; i < 3; i++)
		bpf_link__destroy(links[i]);
	for (int i = 0; i < 4; i++)
		if (nf[i] >= 0)
			close(nf[i]);
	for (int i = 0; i < 2; i++)
		if (tcx[i] >= 0)
			close(tcx[i]);
	if (clsact)
		bpf_tc_hook_destroy(&tc);
	if (xdp)
		bpf_xdp_detach(ifindex, XDP_FLAGS_SKB_MODE, NULL);
	bpf_object__close(obj);
	return err;
}

static int listen_many(const char *port_s, const char *n_s)
{
	long port = strtol(port_s, NULL, 10), n = strtol(n_s, NULL, 10);
	int *fds, err = 1, i;

	if (port < 1 || n < 1 || port + n - 1 > 65535) {
		fprintf(stderr, "bench_helper: listen: ports %s + %s out of range\n", port_s, n_s);
		return 2;
	}
	fds = calloc(n, sizeof(*fds));
	if (!fds)
		return 1;
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	for (i = 0; i < n; i++) {
		struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port + i) };
		int zero = 0, one = 1;

		fds[i] = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fds[i] < 0 ||
		    setsockopt(fds[i], IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) ||
		    setsockopt(fds[i], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
		    bind(fds[i], (struct sockaddr *)&a, sizeof(a)) || listen(fds[i], 128)) {
			fprintf(stderr, "bench_helper: listen on port %ld: %s\n", port + i,
				strerror(errno));
			goto cleanup;
		}
	}
	wait_for_stop();
	err = 0;
cleanup:
	for (int k = 0; k < n && k <= i; k++)
		if (fds[k] > 0)
			close(fds[k]);
	free(fds);
	return err;
}

int main(int argc, char **argv)
{
	libbpf_set_print(NULL);
	if (argc == 5 && !strcmp(argv[1], "testrun"))
		return testrun(argv[2], argv[3], argv[4]);
	if (argc == 3 && !strcmp(argv[1], "hold"))
		return hold(argv[2]);
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "floor"))
		return floor_hooks(argv[2], argv[3], argc == 5 ? argv[4] : SYNACCT_HOOKS);
	if (argc == 4 && !strcmp(argv[1], "listen"))
		return listen_many(argv[2], argv[3]);
	fprintf(stderr, "usage: bench_helper testrun NIC_OBJ TC_OBJ EMPTY_OBJ | "
		"hold EMPTY_OBJ | floor EMPTY_OBJ IFACE [HOOK,...] | listen PORT N\n");
	return 2;
}
