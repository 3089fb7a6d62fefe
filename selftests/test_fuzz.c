// SPDX-License-Identifier: GPL-2.0
/*
 * test_fuzz.c - differential fuzz test of the shared parser (include/bpf/parse.h)
 * through the XDP program and both TC programs, with BPF_PROG_TEST_RUN.
 *
 * Random frames (Ethernet, 0-3 VLAN tags of either TPID, IPv4 with any
 * IHL, options and fragment fields, IPv6 with chains of extension headers
 * including fragments, TCP with any data offset and flags, UDP, other
 * protocols), then mutated (bytes flipped, cut short) and, for some, cut
 * at every length, go through each program.  A reference parser written
 * here from the rules in docs/design.md ("Parser") -- byte offsets, no
 * shared code or structs with parse.h -- says what each program must
 * count: nic_syn / tc_syn at the destination port for "SYN set, ACK
 * clear", synack_sent at the source port for SYN+ACK, unparsed for a
 * truncated or malformed frame.  Each frame's counter deltas, verdict and
 * output frame are compared; at the end every counter map must equal the
 * reference's per-port totals (a count at a wrong port shows there).
 *
 *   test_fuzz [--seed N] [--frames N] [-v]
 *
 * The seed is printed first: rerun with it to get the same frames.  TAP.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/types.h>
#include <linux/pkt_cls.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "synacct.h"
#include "nic.skel.h"
#include "tc.skel.h"
#include "../agent/slots.h"

/* Counter values are read as arrays of __u64, one per field. */
#define NFIELDS(type)	(sizeof(type) / sizeof(__u64))
#define FIELD(type, f)	(offsetof(type, f) / sizeof(__u64))
#define MAX_FIELDS	8
_Static_assert(NFIELDS(struct sa_nic_counters) <= MAX_FIELDS, "fields");
_Static_assert(NFIELDS(struct sa_tc_counters) <= MAX_FIELDS, "fields");
_Static_assert(NFIELDS(struct sa_prog_counters) <= MAX_FIELDS, "fields");

#define FRAME_MAX	600
#define MIN_FRAME	14	/* test_run takes nothing shorter */

/* ---- random numbers: xorshift64*, reproducible from the seed ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static unsigned int below(unsigned int n)
{
	return n ? rnd() % n : 0;
}

static bool chance(unsigned int percent)
{
	return below(100) < percent;
}

/* ---- the reference parser ---- */

enum ref_result { REF_BAD, REF_OTHER, REF_TCP };

struct ref {
	enum ref_result result;
	unsigned int sport, dport, flags;
};

static unsigned int be16(const uint8_t *p)
{
	return p[0] << 8 | p[1];
}

/* TCP header at @off: 20 bytes at least, data offset at least 5 words
 * and its options present. */
static struct ref ref_tcp(const uint8_t *f, size_t n, size_t off)
{
	struct ref r = { REF_BAD, 0, 0, 0 };
	size_t doff;

	if (off + 20 > n)
		return r;
	doff = (size_t)(f[off + 12] >> 4) * 4;
	if (doff < 20 || off + doff > n)
		return r;
	r.result = REF_TCP;
	r.sport = be16(f + off);
	r.dport = be16(f + off + 2);
	r.flags = f[off + 13];
	return r;
}

static struct ref ref_parse(const uint8_t *f, size_t n)
{
	struct ref bad = { REF_BAD, 0, 0, 0 }, other = { REF_OTHER, 0, 0, 0 };
	size_t off = 14;
	unsigned int type;

	if (n < 14)
		return bad;
	type = be16(f + 12);
	/* At most two tags (802.1Q, 802.1ad) are looked through. */
	for (int tags = 0; tags < 2 && (type == 0x8100 || type == 0x88a8); tags++) {
		if (off + 4 > n)
			return bad;
		type = be16(f + off + 2);
		off += 4;
	}
	if (type == 0x0800) {
		size_t ihl;

		if (off + 20 > n)
			return bad;
		ihl = (size_t)(f[off] & 0x0f) * 4;
		if (ihl < 20 || off + ihl > n)
			return bad;
		if (f[off + 9] != 6)
			return other;
		/* Fragment offset (13 bits) set: no TCP header here. */
		if (be16(f + off + 6) & 0x1fff)
			return other;
		return ref_tcp(f, n, off + ihl);
	}
	if (type == 0x86dd) {
		unsigned int next;

		if (off + 40 > n)
			return bad;
		next = f[off + 6];
		off += 40;
		/* Hop-by-hop, routing, destination options: up to four, each
		 * (length + 1) * 8 bytes; anything else ends the walk. */
		for (int ext = 0; ext < 4; ext++) {
			if (next == 6)
				return ref_tcp(f, n, off);
			if (next != 0 && next != 43 && next != 60)
				return other;
			if (off + 2 > n)
				return bad;
			next = f[off];
			off += ((size_t)f[off + 1] + 1) * 8;
		}
		return next == 6 ? ref_tcp(f, n, off) : other;
	}
	return other;
}

/* ---- frame generator ---- */

struct classes {
	unsigned long syn, synack, other, bad, vlan, qinq, ip4_opts, ip4_frag,
		      ip6_ext, ip6_frag, cut, flipped;
};

static struct classes seen;

static size_t put(uint8_t *f, size_t len, const void *p, size_t n)
{
	if (len + n > FRAME_MAX)
		return len;
	memcpy(f + len, p, n);
	return len + n;
}

static void random_bytes(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = rnd();
}

/* A TCP header with @words 32-bit words (options random), flags mostly
 * the interesting ones. */
static size_t gen_tcp(uint8_t *f, size_t len)
{
	static const uint8_t flag_pick[] = { 0x02, 0x02, 0x12, 0x12, 0x10,
					     0x04, 0x03, 0x13, 0x01, 0x18 };
	uint8_t h[60];
	unsigned int words = chance(85) ? 5 + below(11) : below(5);
	size_t hlen = words >= 5 ? words * 4 : 20;

	random_bytes(h, sizeof(h));
	h[12] = words << 4 | (h[12] & 0x0f);
	h[13] = chance(85) ? flag_pick[below(sizeof(flag_pick))] : (uint8_t)rnd();
	/* Ports from a small range so counts pile up on the same keys. */
	h[0] = 0x27, h[1] = below(16);
	h[2] = 0x4e, h[3] = below(16);
	return put(f, len, h, hlen);
}

static size_t gen_l4(uint8_t *f, size_t len, unsigned int proto)
{
	uint8_t pay[24];

	if (proto == 6)
		len = gen_tcp(f, len);
	else {
		random_bytes(pay, 8);
		len = put(f, len, pay, 8);
	}
	random_bytes(pay, sizeof(pay));
	return put(f, len, pay, below(sizeof(pay)));
}

static unsigned int gen_proto(void)
{
	return chance(80) ? 6 : chance(50) ? 17 : (uint8_t)rnd();
}

static size_t gen_ipv4(uint8_t *f, size_t len)
{
	uint8_t h[60];
	unsigned int ihl = chance(60) ? 5 : chance(90) ? 6 + below(10) : below(5);
	unsigned int proto = gen_proto();
	unsigned int frag = 0;

	random_bytes(h, sizeof(h));
	h[0] = 0x40 | ihl;
	h[9] = proto;
	if (chance(15)) {
		frag = chance(50) ? 0x2000 : chance(50) ? 0x4000 : (uint16_t)rnd();
		seen.ip4_frag++;
	}
	h[6] = frag >> 8, h[7] = frag;
	if (!frag && chance(85))
		h[6] = h[7] = 0;
	if (ihl > 5)
		seen.ip4_opts++;
	len = put(f, len, h, ihl >= 5 ? ihl * 4 : 20);
	return gen_l4(f, len, proto);
}

static size_t gen_ipv6(uint8_t *f, size_t len)
{
	static const uint8_t ext_pick[] = { 0, 43, 60, 60, 44 };
	uint8_t h[40], e[32];
	unsigned int n_ext = chance(50) ? 0 : below(7), proto = gen_proto();
	uint8_t *next;

	random_bytes(h, sizeof(h));
	h[0] = 0x60 | (h[0] & 0x0f);
	len = put(f, len, h, sizeof(h));
	next = f + len - 40 + 6;
	if (n_ext)
		seen.ip6_ext++;
	for (unsigned int i = 0; i < n_ext; i++) {
		unsigned int type = chance(90) ? ext_pick[below(sizeof(ext_pick))] :
						 (uint8_t)rnd();
		unsigned int hl = type == 44 ? 0 : below(4);

		if (type == 44)
			seen.ip6_frag++;
		*next = type;
		random_bytes(e, sizeof(e));
		e[1] = hl;
		if (len + (hl + 1) * 8 > FRAME_MAX)
			break;
		len = put(f, len, e, (hl + 1) * 8);
		next = f + len - (hl + 1) * 8;
	}
	*next = proto;
	return gen_l4(f, len, proto);
}

static size_t gen_frame(uint8_t *f)
{
	static const uint16_t tpids[] = { 0x8100, 0x88a8 };
	uint8_t eth[14], tag[4];
	unsigned int n_vlan = chance(60) ? 0 : 1 + below(3);
	unsigned int l3 = below(100);
	size_t len;
	uint8_t *type;

	random_bytes(eth, sizeof(eth));
	len = put(f, 0, eth, sizeof(eth));
	type = f + 12;
	if (n_vlan == 1)
		seen.vlan++;
	else if (n_vlan > 1)
		seen.qinq++;
	for (unsigned int i = 0; i < n_vlan; i++) {
		uint16_t tpid = tpids[below(2)];

		type[0] = tpid >> 8, type[1] = tpid;
		random_bytes(tag, sizeof(tag));
		len = put(f, len, tag, sizeof(tag));
		type = f + len - 2;
	}
	if (l3 < 45) {
		type[0] = 0x08, type[1] = 0x00;
		return gen_ipv4(f, len);
	}
	if (l3 < 90) {
		type[0] = 0x86, type[1] = 0xdd;
		return gen_ipv6(f, len);
	}
	/* ARP or anything else; its body random. */
	if (chance(50))
		type[0] = 0x08, type[1] = 0x06;
	random_bytes(eth, sizeof(eth));
	return put(f, len, eth, below(sizeof(eth)));
}

/* ---- the programs ---- */

enum prog_id { P_XDP, P_TC_IN, P_TC_EG, N_PROGS };

static const char *const prog_names[N_PROGS] = { "xdp", "tc ingress", "tc egress" };

struct prog_ut {
	int fd;
	struct sa_slot_fds counters;	/* the slot maps (include/bpf/count.h) */
	int parse_fd;		/* prog_counters; -1: does not count unparsed */
	unsigned int nfields;
	unsigned int field;
	bool by_sport;
	bool want_synack;
	bool is_skb;
	__u32 retval;
};

static int ncpus;
static __u64 *percpu;
static bool verbose;

/* Sum over CPUs of field @field of @key in @fd (0 if absent). */
static int read_sum(int fd, __u32 key, unsigned int nfields, unsigned int field,
		    __u64 *out)
{
	int err = bpf_map_lookup_elem(fd, &key, percpu);

	*out = 0;
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	for (int c = 0; c < ncpus; c++)
		*out += percpu[c * nfields + field];
	return 0;
}

/* One counter of @port, summed over CPUs, from the slot maps. */
static int read_port(const struct prog_ut *p, __u32 port, __u64 *out)
{
	__u64 sum[MAX_FIELDS] = {};
	int err = sa_slot_read_port(&p->counters, port, p->nfields, sum);

	*out = sum[p->field];
	return err;
}

static int read_unparsed(const struct prog_ut *p, __u64 *out)
{
	__u64 v = 0;
	int err = read_sum(p->parse_fd, 0, NFIELDS(struct sa_prog_counters),
			   FIELD(struct sa_prog_counters, unparsed), &v);

	*out = v;
	return err;
}

struct expect {
	/* The reference's per-port totals, for the final comparison. */
	__u64 *port;		/* SA_MAX_PORTS */
	__u64 unparsed;
};

static struct expect expected[N_PROGS];
static unsigned long mismatches[N_PROGS], runs[N_PROGS], refused[N_PROGS];
static unsigned long frames_changed;
static int shown;

static void hexdump(const uint8_t *f, size_t n)
{
	printf("#   frame (%zu bytes):", n);
	for (size_t i = 0; i < n; i++)
		printf("%s%02x", i % 32 ? "" : "\n#     ", f[i]);
	printf("\n");
}

/* Newer kernels' skb test_run refuses (EINVAL) a frame whose Ethernet type
 * is IPv4 or IPv6 but too short for that header. */
static bool skb_refuses(const uint8_t *f, size_t n)
{
	unsigned int type = be16(f + 12);

	return (type == 0x0800 && n < 14 + 20) || (type == 0x86dd && n < 14 + 40);
}

static int run_frame(const struct prog_ut *progs, const uint8_t *f, size_t n,
		     unsigned long index)
{
	struct ref r = ref_parse(f, n);
	bool syn = r.result == REF_TCP && (r.flags & 0x12) == 0x02;
	bool synack = r.result == REF_TCP && (r.flags & 0x12) == 0x12;

	if (r.result == REF_BAD)
		seen.bad++;
	else if (syn)
		seen.syn++;
	else if (synack)
		seen.synack++;
	else
		seen.other++;

	for (int i = 0; i < N_PROGS; i++) {
		const struct prog_ut *p = &progs[i];
		bool counts = p->want_synack ? synack : syn;
		__u32 port = p->by_sport ? r.sport : r.dport;
		__u64 c0 = 0, c1 = 0, u0 = 0, u1 = 0;
		__u64 want_u = p->parse_fd >= 0 && r.result == REF_BAD;
		uint8_t out[FRAME_MAX];
		int err;
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f, .data_size_in = n,
			    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

		if (r.result == REF_TCP)
			err = read_port(p, port, &c0);
		else
			err = 0;
		if (!err && p->parse_fd >= 0)
			err = read_unparsed(p, &u0);
		if (err)
			return err;
		err = bpf_prog_test_run_opts(p->fd, &opts);
		if (err == -EINVAL && p->is_skb && skb_refuses(f, n)) {
			refused[i]++;
			continue;
		}
		runs[i]++;
		if (!err && r.result == REF_TCP)
			err = read_port(p, port, &c1);
		if (!err && p->parse_fd >= 0)
			err = read_unparsed(p, &u1);
		if (!err && (opts.data_size_out != n || memcmp(out, f, n)))
			frames_changed++;
		if (err || opts.retval != p->retval || c1 - c0 != (__u64)counts ||
		    u1 - u0 != want_u) {
			mismatches[i]++;
			if (shown++ < 10) {
				printf("# mismatch: %s, frame %lu: reference %s port %u flags 0x%02x: "
				       "want count +%d unparsed +%llu, got +%llu unparsed +%llu, "
				       "verdict %u (want %u)%s%s\n", prog_names[i], index,
				       r.result == REF_BAD ? "bad" : r.result == REF_OTHER ?
				       "other" : "tcp", port, r.flags, counts,
				       (unsigned long long)want_u, (unsigned long long)(c1 - c0),
				       (unsigned long long)(u1 - u0), opts.retval, p->retval,
				       err ? ", error " : "", err ? strerror(-err) : "");
				hexdump(f, n);
			}
			continue;
		}
		if (counts)
			expected[i].port[port]++;
		expected[i].unparsed += want_u;
	}
	return 0;
}

/* Every key of the counter map equals the reference's total, and no port
 * the reference never counted has a count. */
static unsigned long compare_maps(const struct prog_ut *p, int i)
{
	unsigned long bad = 0;
	__u64 got;

	for (__u32 port = 0; port < SA_MAX_PORTS; port++) {
		if (read_port(p, port, &got))
			return ~0UL;
		if (got != expected[i].port[port]) {
			if (bad++ < 5)
				printf("# %s: port %u holds %llu, reference %llu\n",
				       prog_names[i], port, (unsigned long long)got,
				       (unsigned long long)expected[i].port[port]);
		}
	}
	if (p->parse_fd >= 0) {
		if (read_unparsed(p, &got))
			return ~0UL;
		if (got != expected[i].unparsed) {
			bad++;
			printf("# %s: unparsed %llu, reference %llu\n", prog_names[i],
			       (unsigned long long)got,
			       (unsigned long long)expected[i].unparsed);
		}
	}
	return bad;
}

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG && !verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static void usage_error(const char *what)
{
	fprintf(stderr, "test_fuzz: %s; usage: test_fuzz [--seed N] [--frames N] [-v]\n",
		what);
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long n_frames = 100000, done = 0, flips, sweeps = 0;
	uint64_t seed = (uint64_t)time(NULL) * 2654435761u ^ (uint64_t)getpid() << 32;
	struct nic_bpf *nic = NULL;
	struct tc_bpf *tc = NULL;
	int testno = 0, failed = 0, ret = 1;
	uint8_t f[FRAME_MAX];

	for (int i = 1; i < argc; i++) {
		char *end;

		if (!strcmp(argv[i], "-v")) {
			verbose = true;
		} else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			seed = strtoull(argv[++i], &end, 0);
			if (*end)
				usage_error("--seed takes a number");
		} else if (!strcmp(argv[i], "--frames") && i + 1 < argc) {
			n_frames = strtoul(argv[++i], &end, 0);
			if (*end || !n_frames)
				usage_error("--frames takes a positive number");
		} else {
			usage_error("unknown argument");
		}
	}
	/* Printed before anything can fail, so a failure can be rerun. */
	printf("# seed %llu (rerun: %s --seed %llu --frames %lu)\n",
	       (unsigned long long)seed, argv[0], (unsigned long long)seed, n_frames);
	rng_state = seed ? seed : 1;
	libbpf_set_print(print_libbpf);
	if (geteuid() != 0) {
		printf("1..0 # SKIP root: loading BPF programs needs root\n");
		return 0;
	}
	ncpus = libbpf_num_possible_cpus();
	percpu = calloc(ncpus > 0 ? ncpus * MAX_FIELDS : 1, sizeof(*percpu));
	for (int i = 0; i < N_PROGS; i++)
		expected[i].port = calloc(SA_MAX_PORTS, sizeof(__u64));
	if (ncpus <= 0 || !percpu || !expected[0].port || !expected[1].port ||
	    !expected[2].port) {
		printf("Bail out! out of memory\n");
		goto cleanup;
	}
	nic = nic_bpf__open_and_load();
	tc = tc_bpf__open_and_load();
	if (!nic || !tc) {
		printf("Bail out! cannot load the XDP and TC programs: %s\n", strerror(errno));
		goto cleanup;
	}
	const struct prog_ut progs[N_PROGS] = {
		[P_XDP] = {
			.fd = bpf_program__fd(nic->progs.synacct_xdp),
			.counters = sa_slot_fds(nic->maps.nic_counters_slot,
						nic->maps.nic_counters_port,
						nic->maps.nic_counters,
						nic->maps.nic_counters_more),
			.parse_fd = bpf_map__fd(nic->maps.prog_counters),
			.nfields = NFIELDS(struct sa_nic_counters),
			.field = FIELD(struct sa_nic_counters, nic_syn),
			.retval = XDP_PASS,
		},
		[P_TC_IN] = {
			.fd = bpf_program__fd(tc->progs.synacct_tc_in),
			.counters = sa_slot_fds(tc->maps.tc_counters_slot,
						tc->maps.tc_counters_port,
						tc->maps.tc_counters,
						tc->maps.tc_counters_more),
			.parse_fd = bpf_map__fd(tc->maps.prog_counters),
			.nfields = NFIELDS(struct sa_tc_counters),
			.field = FIELD(struct sa_tc_counters, tc_syn), .is_skb = true,
			.retval = (__u32)TC_ACT_UNSPEC,
		},
		[P_TC_EG] = {
			.fd = bpf_program__fd(tc->progs.synacct_tc_eg),
			.counters = sa_slot_fds(tc->maps.tc_counters_slot,
						tc->maps.tc_counters_port,
						tc->maps.tc_counters,
						tc->maps.tc_counters_more),
			.parse_fd = -1,
			.nfields = NFIELDS(struct sa_tc_counters),
			.field = FIELD(struct sa_tc_counters, synack_sent),
			.by_sport = true, .want_synack = true,
			.is_skb = true, .retval = (__u32)TC_ACT_UNSPEC,
		},
	};

	while (done < n_frames) {
		size_t len = gen_frame(f);

		if (len < MIN_FRAME)
			continue;
		/* One in a hundred: every truncation of the frame, whole to 14
		 * (about half of all frames come from these sweeps). */
		if (chance(1)) {
			sweeps++;
			for (size_t cut = len; cut >= MIN_FRAME && done < n_frames; cut--) {
				seen.cut += cut < len;
				if (run_frame(progs, f, cut, done++))
					goto read_error;
			}
			continue;
		}
		/* Mutations: flip a few bytes, cut it short. */
		if (chance(30)) {
			flips = 1 + below(3);
			for (unsigned long k = 0; k < flips; k++)
				f[below(len)] ^= 1 << below(8);
			seen.flipped++;
		}
		if (chance(30)) {
			size_t cut = MIN_FRAME + below(len - MIN_FRAME + 1);

			seen.cut += cut < len;
			len = cut;
		}
		if (run_frame(progs, f, len, done++))
			goto read_error;
	}

	printf("# %lu frames (%lu full truncation sweeps): syn %lu, syn+ack %lu, other %lu, "
	       "unparsable %lu; vlan %lu, qinq or more %lu, ipv4 options %lu, ipv4 fragment "
	       "fields %lu, ipv6 extension chains %lu, ipv6 fragment headers %lu, cut %lu, "
	       "bit-flipped %lu\n", done, sweeps, seen.syn, seen.synack, seen.other, seen.bad,
	       seen.vlan, seen.qinq, seen.ip4_opts, seen.ip4_frag, seen.ip6_ext,
	       seen.ip6_frag, seen.cut, seen.flipped);
	/* A generator that never makes a kind of frame tests nothing there. */
	testno++;
	if (seen.syn && seen.synack && seen.other && seen.bad && seen.vlan && seen.qinq &&
	    seen.ip4_opts && seen.ip4_frag && seen.ip6_ext && seen.ip6_frag && seen.cut &&
	    seen.flipped && done >= 100000)
		printf("ok %d - %lu frames, every kind of frame among them\n", testno, done);
	else {
		failed++;
		printf("not ok %d - %lu frames, every kind of frame among them (at least 100000)\n",
		       testno, done);
	}
	for (int i = 0; i < N_PROGS; i++) {
		char note[128] = "";

		if (refused[i])
			snprintf(note, sizeof(note), " (%lu frames shorter than their IP "
				 "header refused by skb test_run)", refused[i]);
		testno++;
		printf("%sok %d - %s: %lu runs, %lu mismatches with the reference parser%s\n",
		       mismatches[i] ? "not " : "", testno, prog_names[i], runs[i],
		       mismatches[i], note);
		failed += !!mismatches[i];
		/* Short of a count, nothing was run: a test that ran nothing
		 * proves nothing. */
		if (runs[i] < done / 2) {
			failed++;
			printf("# %s ran only %lu of %lu frames\n", prog_names[i], runs[i], done);
		}
	}
	for (int i = 0; i < N_PROGS; i++) {
		unsigned long bad = compare_maps(&progs[i], i);

		testno++;
		if (bad == ~0UL)
			goto read_error;
		printf("%sok %d - %s: every port's counter and unparsed equal the reference's totals\n",
		       bad ? "not " : "", testno, prog_names[i]);
		failed += !!bad;
	}
	testno++;
	printf("%sok %d - every frame came back unchanged (%lu changed)\n",
	       frames_changed ? "not " : "", testno, frames_changed);
	failed += !!frames_changed;
	printf("1..%d\n", testno);
	ret = failed ? 1 : 0;
	goto cleanup;

read_error:
	printf("Bail out! reading the counters: %s\n", strerror(errno));
cleanup:
	tc_bpf__destroy(tc);
	nic_bpf__destroy(nic);
	for (int i = 0; i < N_PROGS; i++)
		free(expected[i].port);
	free(percpu);
	return ret;
}
