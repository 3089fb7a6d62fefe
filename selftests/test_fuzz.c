// SPDX-License-Identifier: GPL-2.0
/*
 * test_fuzz.c - differential fuzz test of the shared parser (include/bpf/parse.h)
 * and the per-port counter maps (include/bpf/count.h) through the XDP
 * program and both TC programs, with BPF_PROG_TEST_RUN.
 *
 * Random frames (Ethernet, up to twice the documented number of VLAN tags
 * of either TPID, IPv4 with any IHL, options and fragment fields, IPv6
 * with chains of up to twice the documented number of extension headers,
 * fragments among them, TCP with any data offset and flags, mostly SYN
 * and SYN-ACK, ports over the whole range, UDP, other protocols), then
 * mutated (bytes flipped, cut short) and, for some, cut at every length,
 * go through each program.  A reference parser written here from the
 * rules in docs/design.md ("Parser") -- byte offsets, no shared code or
 * structs with parse.h -- parses what the frame is, however many tags and
 * extension headers; the documented limits then say what each program
 * must count: nic_syn / tc_syn at the destination port for "SYN set, ACK
 * clear", synack_sent at the source port for SYN+ACK, unparsed for a
 * truncated or malformed frame and for a frame beyond the limits.
 *
 * Counters are read raw from the BPF maps (not through the agent's
 * reader), and the maps are checked whole against the test's own account:
 * each port's slot in the order ports were first counted, the ports past
 * the slots in the overflow hash, every counter; with hashes shrunk to 64
 * entries, every count past them lost and counted as lost (update_failed,
 * counts_lost).  Where the kernel's test_run builds non-linear skbs, a
 * round gives TC headers outside the linear part (its pull path).
 *
 *   test_fuzz [--seed N] [--frames N] [-v]
 *
 * The seed is printed first: rerun with it to get the same frames.  TAP.
 */
#include <errno.h>
#include <stdarg.h>
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

/*
 * The limits docs/design.md ("Parser") states: up to two VLAN tags, up to
 * four hop-by-hop / routing / destination-options / atomic fragment
 * headers.  The reference parser below walks what the frame is, any
 * number of each; the limits come in only as the expectation
 * (ref_beyond_limits): a frame with more tags, or a fifth header of those
 * kinds (a fragment header, atomic or not, included), is one the parser
 * cannot see into, so it is counted as unparsed, whatever lies behind.
 */
#define DOC_MAX_VLAN	2
#define DOC_MAX_EXTHDR	4

enum ref_result { REF_BAD, REF_OTHER, REF_TCP };

struct ref {
	enum ref_result result;
	unsigned int sport, dport, flags;
	unsigned int tags;	/* VLAN TPIDs met, the last one maybe cut */
	unsigned int exts;	/* IPv6 extension headers met: hop-by-hop,
				 * routing, destination options, fragment */
};

static unsigned int be16(const uint8_t *p)
{
	return p[0] << 8 | p[1];
}

/* TCP header at @off: 20 bytes at least, data offset at least 5 words
 * and its options present. */
static void ref_tcp(const uint8_t *f, size_t n, size_t off, struct ref *r)
{
	size_t doff;

	r->result = REF_BAD;
	if (off + 20 > n)
		return;
	doff = (size_t)(f[off + 12] >> 4) * 4;
	if (doff < 20 || off + doff > n)
		return;
	r->result = REF_TCP;
	r->sport = be16(f + off);
	r->dport = be16(f + off + 2);
	r->flags = f[off + 13];
}

static struct ref ref_parse(const uint8_t *f, size_t n)
{
	struct ref r = { REF_BAD, 0, 0, 0, 0, 0 };
	size_t off = 14;
	unsigned int type;

	if (n < 14)
		return r;
	type = be16(f + 12);
	/* Every tag, 802.1Q or 802.1ad, however many. */
	while (type == 0x8100 || type == 0x88a8) {
		r.tags++;
		if (off + 4 > n)
			return r;
		type = be16(f + off + 2);
		off += 4;
	}
	if (type == 0x0800) {
		size_t ihl;

		if (off + 20 > n)
			return r;
		ihl = (size_t)(f[off] & 0x0f) * 4;
		if (ihl < 20 || off + ihl > n)
			return r;
		r.result = REF_OTHER;
		if (f[off + 9] != 6)
			return r;
		/* Fragment offset (13 bits) set: no TCP header here. */
		if (be16(f + off + 6) & 0x1fff)
			return r;
		ref_tcp(f, n, off + ihl, &r);
		return r;
	}
	if (type == 0x86dd) {
		unsigned int next;

		if (off + 40 > n)
			return r;
		next = f[off + 6];
		off += 40;
		/* Hop-by-hop, routing, destination options, each
		 * (length + 1) * 8 bytes, and fragment headers, 8 bytes,
		 * however many; a fragment header with an offset or M set
		 * (a real fragment: RFC 8200 4.5) and anything else but TCP
		 * end the walk. */
		for (;;) {
			if (next == 6) {
				ref_tcp(f, n, off, &r);
				return r;
			}
			if (next != 0 && next != 43 && next != 60 && next != 44) {
				r.result = REF_OTHER;
				return r;
			}
			r.exts++;
			if (next == 44) {
				if (off + 8 > n)
					return r;
				/* offset: 13 bits, then 2 reserved, then M */
				if (be16(f + off + 2) & 0xfff9) {
					r.result = REF_OTHER;
					return r;
				}
				next = f[off];
				off += 8;
				continue;
			}
			if (off + 2 > n)
				return r;
			next = f[off];
			off += ((size_t)f[off + 1] + 1) * 8;
		}
	}
	r.result = REF_OTHER;
	return r;
}

/* Whether the IPv6 frame @f has an atomic fragment header before TCP
 * (for the tally of kinds only: ref_parse decides). */
static bool ref_atomic(const uint8_t *f, size_t n)
{
	size_t off = 14;
	unsigned int type = n >= 14 ? be16(f + 12) : 0, next;

	while ((type == 0x8100 || type == 0x88a8) && off + 4 <= n)
		type = be16(f + off + 2), off += 4;
	if (type != 0x86dd || off + 40 > n)
		return false;
	next = f[off + 6];
	off += 40;
	while ((next == 0 || next == 43 || next == 60 || next == 44) && off + 8 <= n) {
		if (next == 44)
			return !(be16(f + off + 2) & 0xfff9);
		next = f[off];
		off += ((size_t)f[off + 1] + 1) * 8;
	}
	return false;
}

/* Beyond a documented limit a frame is not looked into: unparsed. */
static bool ref_beyond_limits(const struct ref *r)
{
	return r->tags > DOC_MAX_VLAN || r->exts > DOC_MAX_EXTHDR;
}

/* ---- frame generator ---- */

struct classes {
	unsigned long syn, synack, other, bad, vlan, qinq, ip4_opts, ip4_frag,
		      ip6_ext, ip6_frag, cut, flipped;
	/* SYNs behind an atomic IPv6 fragment header, to be counted */
	unsigned long syn_atomic;
	/* beyond a documented limit: more tags, more extension headers,
	 * and among them SYNs that are not to be counted */
	unsigned long vlan_beyond, ext_beyond, syn_beyond;
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

/* A port: a third from a few that pile counts up on the same keys, the
 * rest anywhere in 1..65535 (and now and then 0), so that every counter
 * map hands out all its slots and goes on into its hash
 * (include/bpf/count.h). */
static unsigned int gen_port(void)
{
	unsigned int k = below(100);

	if (k < 33)
		return 10000 + below(16);
	if (k == 33)
		return 0;
	return 1 + below(65535);
}

/* A TCP header with @words 32-bit words (options random), flags mostly
 * SYN or SYN-ACK (with ECN bits now and then), so that every counter
 * moves a lot. */
static size_t gen_tcp(uint8_t *f, size_t len)
{
	static const uint8_t flag_pick[] = { 0x02, 0x02, 0x02, 0xc2, 0x12, 0x12,
					     0x12, 0x52, 0x10, 0x04, 0x03, 0x13,
					     0x01, 0x18 };
	unsigned int sport = gen_port(), dport = gen_port();
	uint8_t h[60];
	unsigned int words = chance(85) ? 5 + below(11) : below(5);
	size_t hlen = words >= 5 ? words * 4 : 20;

	random_bytes(h, sizeof(h));
	h[12] = words << 4 | (h[12] & 0x0f);
	h[13] = chance(90) ? flag_pick[below(sizeof(flag_pick))] : (uint8_t)rnd();
	h[0] = sport >> 8, h[1] = sport;
	h[2] = dport >> 8, h[3] = dport;
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
	return chance(90) ? 6 : chance(50) ? 17 : (uint8_t)rnd();
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
	/* Up to twice the documented limit of extension headers. */
	unsigned int n_ext = chance(50) ? 0 : below(2 * DOC_MAX_EXTHDR + 1);
	unsigned int proto = gen_proto();
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
		/* Half the fragment headers atomic (offset 0, M clear; the
		 * reserved bits random): random bytes would make one in
		 * 16 384. */
		if (type == 44 && chance(50))
			e[2] = 0, e[3] &= 0x06;
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
	/* Up to twice the documented limit of tags. */
	unsigned int n_vlan = chance(60) ? 0 : 1 + below(2 * DOC_MAX_VLAN);
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

/* ---- the counter maps, read raw ---- */

/*
 * Counters are read here without the agent's reader (agent/sys/slots.h), from
 * the layout include/bpf/count.h documents for SA_SLOT_MAPS(NAME, type):
 *   NAME_slot  ARRAY by port: 0 none yet, 1..SA_SLOTS a slot, SA_SLOT_HASH
 *              the port is in NAME_more
 *   NAME_port  ARRAY by slot: port + 1; entry 0: slots handed out so far
 *   NAME       PERCPU_ARRAY by slot, NAME_more PERCPU_HASH by port, both of
 *              the stage's struct of __u64 counters (include/synacct.h)
 * and counts_lost (PERCPU_HASH by port) and prog_counters (PERCPU_ARRAY,
 * one entry: unparsed, update_failed) in the same object.
 *
 * The test keeps its own account of what the maps must hold: the order in
 * which ports were first counted gives each its slot (the first SA_SLOTS),
 * or the hash (the next ones, while NAME_more has room), or nothing: every
 * count of such a port is lost, and must be counted as lost.
 */
enum map_id { M_NIC, M_TC, N_MAPS };

enum port_state { PS_NONE, PS_SLOT, PS_HASH, PS_LOST };

struct cmap {
	const char *name;
	int slot, port, vals, more, lost, pc;
	unsigned int nfields;
	unsigned long hash_max;		/* NAME_more's max_entries */
	/* the test's account */
	uint8_t *state;			/* by port: enum port_state */
	__u32 *order;			/* ports in the order first counted */
	unsigned long nclaimed, hashed;
	__u64 *want;			/* by port x field */
	__u64 *lost_want;		/* by port */
	__u64 lost_total, unparsed_want;
};

static int ncpus;
static __u64 *cpubuf;
static bool verbose;

/* Add @key's values in the per-CPU map @fd, summed over CPUs, to @sum. */
static int raw_sum(int fd, const void *key, unsigned int nfields, __u64 *sum)
{
	if (bpf_map_lookup_elem(fd, key, cpubuf))
		return errno == ENOENT ? 0 : -errno;
	for (int c = 0; c < ncpus; c++)
		for (unsigned int i = 0; i < nfields; i++)
			sum[i] += cpubuf[c * nfields + i];
	return 0;
}

/* @port's counters: its slot's, or its hash entry's. */
static int raw_port(const struct cmap *m, __u32 port, __u64 *sum)
{
	__u32 s = 0;

	memset(sum, 0, m->nfields * sizeof(*sum));
	if (bpf_map_lookup_elem(m->slot, &port, &s))
		return -errno;
	if (!s)
		return 0;
	if (s == SA_SLOT_HASH)
		return raw_sum(m->more, &port, m->nfields, sum);
	return raw_sum(m->vals, &s, m->nfields, sum);
}

static int raw_prog(const struct cmap *m, __u64 *unparsed, __u64 *update_failed)
{
	__u64 v[2] = { 0, 0 };
	__u32 zero = 0;
	int err = raw_sum(m->pc, &zero, 2, v);

	*unparsed = v[0];
	*update_failed = v[1];
	return err;
}

/* The account of one count of @field at @port: where it goes. */
static void account(struct cmap *m, __u32 port, unsigned int field)
{
	if (m->state[port] == PS_NONE) {
		m->order[m->nclaimed++] = port;
		if (m->nclaimed <= SA_SLOTS)
			m->state[port] = PS_SLOT;
		else if (m->hashed < m->hash_max)
			m->state[port] = PS_HASH, m->hashed++;
		else
			m->state[port] = PS_LOST;
	}
	if (m->state[port] == PS_LOST) {
		m->lost_want[port]++;
		m->lost_total++;
	} else {
		m->want[port * m->nfields + field]++;
	}
}

/* ---- the programs ---- */

enum prog_id { P_XDP, P_TC_IN, P_TC_EG, N_PROGS };

static const char *const prog_names[N_PROGS] = { "xdp", "tc ingress", "tc egress" };

struct prog_ut {
	int fd;
	struct cmap *map;
	unsigned int field;
	bool counts_unparsed;
	bool by_sport;
	bool want_synack;
	bool is_skb;
	__u32 retval;
};

struct round {
	const char *name;
	struct prog_ut progs[N_PROGS];
	struct cmap maps[N_MAPS];
	bool nonlinear;		/* skb programs get non-linear skbs */
	unsigned long mismatches[N_PROGS], runs[N_PROGS], refused[N_PROGS];
	unsigned long frames_changed;
	__u64 total[N_PROGS];	/* counts the reference expects */
};

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

/* Run @f through @fd; @linear > 0: an skb whose linear part holds only
 * the first @linear bytes (the rest in fragments). */
static int test_run(int fd, const uint8_t *f, size_t n, size_t linear, uint8_t *out,
		    __u32 *out_len, __u32 *retval)
{
	struct __sk_buff ctx = { .data_end = linear };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f, .data_size_in = n,
		    .data_out = out, .data_size_out = FRAME_MAX, .repeat = 1);
	int err;

	if (linear) {
		opts.ctx_in = &ctx;
		opts.ctx_size_in = sizeof(ctx);
	}
	err = bpf_prog_test_run_opts(fd, &opts);
	*out_len = opts.data_size_out;
	*retval = opts.retval;
	return err;
}

static int run_frame(struct round *rd, const uint8_t *f, size_t n, unsigned long index)
{
	struct ref r = ref_parse(f, n);
	bool beyond = ref_beyond_limits(&r);
	/* What the documented rules make of it. */
	enum ref_result want = beyond ? REF_BAD : r.result;
	bool syn = want == REF_TCP && (r.flags & 0x12) == 0x02;
	bool synack = want == REF_TCP && (r.flags & 0x12) == 0x12;

	if (want == REF_BAD)
		seen.bad++;
	else if (syn)
		seen.syn++;
	else if (synack)
		seen.synack++;
	else
		seen.other++;
	seen.vlan_beyond += r.tags > DOC_MAX_VLAN;
	seen.ext_beyond += r.exts > DOC_MAX_EXTHDR;
	seen.syn_beyond += beyond && r.result == REF_TCP && (r.flags & 0x12) == 0x02;
	seen.syn_atomic += syn && ref_atomic(f, n);

	for (int i = 0; i < N_PROGS; i++) {
		struct prog_ut *p = &rd->progs[i];
		struct cmap *m = p->map;
		bool counts = p->want_synack ? synack : syn;
		__u32 port = p->by_sport ? r.sport : r.dport;
		__u64 c0[MAX_FIELDS] = {}, c1[MAX_FIELDS] = {}, u0 = 0, u1 = 0, f0 = 0, f1 = 0;
		__u64 want_u = p->counts_unparsed && want == REF_BAD;
		bool lost = counts && (m->state[port] == PS_LOST ||
				       (m->state[port] == PS_NONE && m->nclaimed >= SA_SLOTS &&
					m->hashed >= m->hash_max));
		__u64 want_c = counts && !lost, want_f = counts && lost;
		size_t linear = rd->nonlinear && p->is_skb ? 14 + below(n - 14 + 1) : 0;
		uint8_t out[FRAME_MAX];
		__u32 out_len = 0, retval = 0;
		int err;

		err = want == REF_TCP ? raw_port(m, port, c0) : 0;
		if (!err)
			err = raw_prog(m, &u0, &f0);
		if (err)
			return err;
		err = test_run(p->fd, f, n, linear, out, &out_len, &retval);
		if (err == -EINVAL && p->is_skb && skb_refuses(f, n)) {
			rd->refused[i]++;
			continue;
		}
		rd->runs[i]++;
		if (!err && want == REF_TCP)
			err = raw_port(m, port, c1);
		if (!err)
			err = raw_prog(m, &u1, &f1);
		if (!err && (out_len != n || memcmp(out, f, n)))
			rd->frames_changed++;
		if (err || retval != p->retval || c1[p->field] - c0[p->field] != want_c ||
		    u1 - u0 != want_u || f1 - f0 != want_f) {
			rd->mismatches[i]++;
			if (shown++ < 10) {
				printf("# mismatch: %s, %s frame %lu: reference %s%s port %u flags 0x%02x"
				       " (%u tags, %u extension headers): want count +%llu unparsed +%llu"
				       " lost +%llu, got +%llu unparsed +%llu lost +%llu, verdict %u"
				       " (want %u)%s%s\n", prog_names[i], rd->name, index,
				       r.result == REF_BAD ? "bad" : r.result == REF_OTHER ?
				       "other" : "tcp", beyond ? " beyond the limits" : "", port,
				       r.flags, r.tags, r.exts, (unsigned long long)want_c,
				       (unsigned long long)want_u, (unsigned long long)want_f,
				       (unsigned long long)(c1[p->field] - c0[p->field]),
				       (unsigned long long)(u1 - u0), (unsigned long long)(f1 - f0),
				       retval, p->retval, err ? ", error " : "",
				       err ? strerror(-err) : "");
				hexdump(f, n);
			}
			continue;
		}
		if (counts) {
			account(m, port, p->field);
			rd->total[i]++;
		}
		m->unparsed_want += want_u;
	}
	return 0;
}

/*
 * The whole of @m, read back from every slot handed out and every hash
 * entry, against the account: each port in its slot in the order it was
 * first counted, or in the hash, or lost; every counter, every lost count.
 * Returns the number of differences (printed, the first few).
 */
static unsigned long check_map(const struct cmap *m, unsigned long *in_hash)
{
	unsigned long bad = 0;
	__u32 zero = 0, next = 0, key, nkey, *prev = NULL;
	__u64 *got = calloc((size_t)SA_MAX_PORTS * m->nfields, sizeof(__u64));
	__u64 *lost = calloc(SA_MAX_PORTS, sizeof(__u64));
	__u64 sum[MAX_FIELDS], uf = 0, unparsed = 0;

#define DIFF(...) do { if (bad++ < 8) { printf("# %s: ", m->name); printf(__VA_ARGS__); } } while (0)
	*in_hash = 0;
	if (!got || !lost || bpf_map_lookup_elem(m->port, &zero, &next)) {
		bad++;
		printf("# %s: cannot read the maps\n", m->name);
		goto out;
	}
	if (next != m->nclaimed)
		DIFF("%u slots handed out, the test counted %lu ports\n", next, m->nclaimed);
	for (__u32 port = 0; port < SA_MAX_PORTS; port++) {
		__u32 s = 0, want = m->state[port] == PS_NONE ? 0 :
				    m->state[port] == PS_SLOT ? SA_SLOT_HASH - 1 : SA_SLOT_HASH;

		if (bpf_map_lookup_elem(m->slot, &port, &s)) {
			bad++;
			goto out;
		}
		if (want == SA_SLOT_HASH - 1)	/* a slot: which one, below */
			want = s >= 1 && s <= SA_SLOTS ? s : 1;
		if (s != want)
			DIFF("port %u: slot 0x%x, want 0x%x\n", port, s, want);
	}
	for (__u32 s = 1; s <= SA_SLOTS && s <= m->nclaimed; s++) {
		__u32 port1 = 0, back = 0;

		if (bpf_map_lookup_elem(m->port, &s, &port1) || port1 != m->order[s - 1] + 1) {
			DIFF("slot %u holds port %d, want %u (the %u-th port counted)\n", s,
			     (int)port1 - 1, m->order[s - 1], s);
			continue;
		}
		if (bpf_map_lookup_elem(m->slot, &m->order[s - 1], &back) || back != s)
			DIFF("port %u points to slot %u, its slot is %u\n", m->order[s - 1], back, s);
		memset(sum, 0, sizeof(sum));
		if (raw_sum(m->vals, &s, m->nfields, sum)) {
			bad++;
			goto out;
		}
		for (unsigned int i = 0; i < m->nfields; i++)
			got[(size_t)(port1 - 1) * m->nfields + i] += sum[i];
	}
	while (bpf_map_get_next_key(m->more, prev, &nkey) == 0) {
		key = nkey;
		prev = &key;
		(*in_hash)++;
		if (key >= SA_MAX_PORTS || m->state[key] != PS_HASH) {
			DIFF("hash entry for port %u, which is not to be there\n", key);
			continue;
		}
		memset(sum, 0, sizeof(sum));
		if (raw_sum(m->more, &key, m->nfields, sum)) {
			bad++;
			goto out;
		}
		for (unsigned int i = 0; i < m->nfields; i++)
			got[(size_t)key * m->nfields + i] += sum[i];
	}
	if (*in_hash != m->hashed)
		DIFF("%lu hash entries, want %lu\n", *in_hash, m->hashed);
	for (size_t i = 0; i < (size_t)SA_MAX_PORTS * m->nfields; i++)
		if (got[i] != m->want[i])
			DIFF("port %zu field %zu holds %llu, reference %llu\n", i / m->nfields,
			     i % m->nfields, (unsigned long long)got[i],
			     (unsigned long long)m->want[i]);
	prev = NULL;
	while (bpf_map_get_next_key(m->lost, prev, &nkey) == 0) {
		__u64 v[1] = { 0 };

		key = nkey;
		prev = &key;
		if (key < SA_MAX_PORTS && !raw_sum(m->lost, &key, 1, v))
			lost[key] = v[0];
		else
			bad++;
	}
	for (__u32 port = 0; port < SA_MAX_PORTS; port++)
		if (lost[port] != m->lost_want[port])
			DIFF("port %u: counts_lost %llu, want %llu\n", port,
			     (unsigned long long)lost[port],
			     (unsigned long long)m->lost_want[port]);
	if (raw_prog(m, &unparsed, &uf)) {
		bad++;
		goto out;
	}
	if (uf != m->lost_total)
		DIFF("update_failed %llu, want %llu (the counts lost)\n",
		     (unsigned long long)uf, (unsigned long long)m->lost_total);
	if (unparsed != m->unparsed_want)
		DIFF("unparsed %llu, reference %llu\n", (unsigned long long)unparsed,
		     (unsigned long long)m->unparsed_want);
#undef DIFF
out:
	free(got);
	free(lost);
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
	fprintf(stderr, "test_fuzz: %s; usage: test_fuzz [--seed N] [--frames N] [-v]\n"
		"       test_fuzz --send IFACE --dst-mac MAC --port P [--jumbo|--refuse|--limits] [--seed N] "
		"[--frames N]\n", what);
	exit(2);
}

static int cmap_init(struct cmap *m, const char *name, const struct bpf_map *slot,
		     const struct bpf_map *port, const struct bpf_map *vals,
		     const struct bpf_map *more, const struct bpf_map *lost,
		     const struct bpf_map *pc, unsigned int nfields)
{
	*m = (struct cmap){
		.name = name, .slot = bpf_map__fd(slot), .port = bpf_map__fd(port),
		.vals = bpf_map__fd(vals), .more = bpf_map__fd(more),
		.lost = bpf_map__fd(lost), .pc = bpf_map__fd(pc), .nfields = nfields,
		.hash_max = bpf_map__max_entries(more),
		.state = calloc(SA_MAX_PORTS, 1),
		.order = calloc(SA_MAX_PORTS, sizeof(__u32)),
		.want = calloc((size_t)SA_MAX_PORTS * nfields, sizeof(__u64)),
		.lost_want = calloc(SA_MAX_PORTS, sizeof(__u64)),
	};
	return m->state && m->order && m->want && m->lost_want ? 0 : -ENOMEM;
}

static void cmap_free(struct cmap *m)
{
	free(m->state);
	free(m->order);
	free(m->want);
	free(m->lost_want);
}

/* Load the programs, @hash_max: the overflow hashes' max_entries (0: as
 * built), and set up @rd. */
static int round_load(struct round *rd, const char *name, unsigned int hash_max,
		      struct nic_bpf **nicp, struct tc_bpf **tcp)
{
	struct nic_bpf *nic = nic_bpf__open();
	struct tc_bpf *tc = tc_bpf__open();
	int err = 0;

	*nicp = nic;
	*tcp = tc;
	memset(rd, 0, sizeof(*rd));
	rd->name = name;
	if (!nic || !tc)
		return -errno;
	if (hash_max && (bpf_map__set_max_entries(nic->maps.nic_counters_more, hash_max) ||
			 bpf_map__set_max_entries(tc->maps.tc_counters_more, hash_max)))
		return -EINVAL;
	if (nic_bpf__load(nic) || tc_bpf__load(tc))
		return -errno ?: -EINVAL;
	err = cmap_init(&rd->maps[M_NIC], "xdp maps", nic->maps.nic_counters_slot,
			nic->maps.nic_counters_port, nic->maps.nic_counters,
			nic->maps.nic_counters_more, nic->maps.counts_lost,
			nic->maps.prog_counters, NFIELDS(struct sa_nic_counters));
	if (!err)
		err = cmap_init(&rd->maps[M_TC], "tc maps", tc->maps.tc_counters_slot,
				tc->maps.tc_counters_port, tc->maps.tc_counters,
				tc->maps.tc_counters_more, tc->maps.counts_lost,
				tc->maps.prog_counters, NFIELDS(struct sa_tc_counters));
	if (err)
		return err;
	rd->progs[P_XDP] = (struct prog_ut){
		.fd = bpf_program__fd(nic->progs.synacct_xdp), .map = &rd->maps[M_NIC],
		.field = FIELD(struct sa_nic_counters, nic_syn), .counts_unparsed = true,
		.retval = XDP_PASS,
	};
	rd->progs[P_TC_IN] = (struct prog_ut){
		.fd = bpf_program__fd(tc->progs.synacct_tc_in), .map = &rd->maps[M_TC],
		.field = FIELD(struct sa_tc_counters, tc_syn), .counts_unparsed = true,
		.is_skb = true, .retval = (__u32)TC_ACT_UNSPEC,
	};
	/* Egress frames are the host's own: unparsable ones are not counted. */
	rd->progs[P_TC_EG] = (struct prog_ut){
		.fd = bpf_program__fd(tc->progs.synacct_tc_eg), .map = &rd->maps[M_TC],
		.field = FIELD(struct sa_tc_counters, synack_sent), .by_sport = true,
		.want_synack = true, .is_skb = true, .retval = (__u32)TC_ACT_UNSPEC,
	};
	return 0;
}

static void round_free(struct round *rd, struct nic_bpf *nic, struct tc_bpf *tc)
{
	for (int i = 0; i < N_MAPS; i++)
		cmap_free(&rd->maps[i]);
	tc_bpf__destroy(tc);
	nic_bpf__destroy(nic);
}

/* @n_frames random and mutated frames through @rd's programs. */
static int fuzz(struct round *rd, unsigned long n_frames, unsigned long *sweeps)
{
	unsigned long done = 0, flips;
	uint8_t f[FRAME_MAX];

	while (done < n_frames) {
		size_t len = gen_frame(f);

		if (len < MIN_FRAME)
			continue;
		/* One in two hundred: every truncation of the frame, whole to 14
		 * (about a third of all frames come from these sweeps). */
		if (!below(200)) {
			(*sweeps)++;
			for (size_t cut = len; cut >= MIN_FRAME && done < n_frames; cut--) {
				seen.cut += cut < len;
				if (run_frame(rd, f, cut, done++))
					return -1;
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
		if (run_frame(rd, f, len, done++))
			return -1;
	}
	return 0;
}

static int testno, failed;

static void ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	testno++;
	printf("%sok %d - ", cond ? "" : "not ", testno);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	failed += !cond;
}

/* Per program: no mismatch, and it ran. */
static void report_round(struct round *rd, unsigned long done)
{
	for (int i = 0; i < N_PROGS; i++) {
		char note[128] = "";

		if (rd->refused[i])
			snprintf(note, sizeof(note), " (%lu frames shorter than their IP "
				 "header refused by skb test_run)", rd->refused[i]);
		ok(!rd->mismatches[i] && rd->runs[i] >= done / 2,
		   "%s, %s: %lu runs (of %lu frames), %lu mismatches with the reference parser%s",
		   rd->name, prog_names[i], rd->runs[i], done, rd->mismatches[i], note);
	}
	for (int i = 0; i < N_MAPS; i++) {
		unsigned long in_hash = 0, bad = check_map(&rd->maps[i], &in_hash);

		ok(!bad, "%s, %s read raw: %lu ports counted, %lu in slots in the order first "
		   "counted, %lu in the hash (max %lu), %llu counts lost and each counted "
		   "(update_failed, counts_lost), %llu unparsed: all as the reference says",
		   rd->name, rd->maps[i].name, rd->maps[i].nclaimed,
		   rd->maps[i].nclaimed < SA_SLOTS ? rd->maps[i].nclaimed : (unsigned long)SA_SLOTS,
		   in_hash, rd->maps[i].hash_max, (unsigned long long)rd->maps[i].lost_total,
		   (unsigned long long)rd->maps[i].unparsed_want);
	}
	ok(!rd->frames_changed, "%s: every frame came back unchanged (%lu changed)", rd->name,
	   rd->frames_changed);
}

/* Does this kernel's skb test_run build non-linear skbs?  Since commit
 * 838baa351cee ("bpf: Craft non-linear skbs in BPF_PROG_TEST_RUN", after
 * Linux 6.18) the context's data_end is the linear part's size; before,
 * a context with data_end set is refused (EINVAL, convert___skb_to_skb).
 * A plain SYN that runs whole must run with 14 linear bytes too. */
static int probe_nonlinear(int fd)
{
	uint8_t f[54] = {}, out[FRAME_MAX];
	__u32 out_len, retval;
	int err;

	f[12] = 0x08, f[14] = 0x45, f[23] = 6, f[46] = 0x50, f[47] = 0x02;
	err = test_run(fd, f, sizeof(f), 0, out, &out_len, &retval);
	return err ?: test_run(fd, f, sizeof(f), 14, out, &out_len, &retval);
}


/* ---- --send: fuzzed SYNs through a lab veth, for the kernel to judge ---- */

/*
 * selftests/t/04-fuzz-lab.t sends these from the client namespace on an
 * AF_PACKET socket, and compares synacct's counts on the server side with
 * what the kernel's TCP made of them (TcpExtSyncookiesSent with cookies
 * always on: one per SYN a listener accepted).  So that the kernel's
 * verdict and the parser's rules cannot differ by design, every frame is
 * well formed but for its mutation, checksums and lengths recomputed, and
 * each mutation is one both call "not a SYN" or both "a SYN":
 *   flags       any flags but FIN and RST (a listener discards SYN+FIN and
 *               SYN+RST, which the parser's "SYN set, ACK clear" counts)
 *   cut         the frame and its IP length end inside the TCP header or
 *               its options (parser: unparsed; TCP: too short)
 *   doff        a TCP data offset below 5 words (parser: unparsed; TCP:
 *               bad segment)
 *   ihl         an IPv4 IHL below 5 (parser: unparsed; IP: header error)
 *   fragment    a non-first IPv4 fragment (neither sees a TCP header)
 *   udp         protocol UDP
 * IPv4 frames may carry NOP options, IPv6 frames up to DOC_MAX_EXTHDR
 * hop-by-hop / destination-options headers, TCP headers any options;
 * with --jumbo every frame carries data up to 8 KB, more than a page:
 * AF_PACKET then builds an skb whose linear part is the Ethernet header
 * alone (net/packet/af_packet.c, packet_alloc_skb), and TC must pull the
 * headers in (tc/tc.bpf.c, bpf_skb_pull_data).  Frames beyond the parser's
 * documented limits (VLAN tags, more extension headers), fragments the
 * kernel reassembles, bad checksums are not sent: the kernel and the
 * parser disagree on those by design (docs/design.md "Parser").
 * --refuse sends SYNs the parser counts and the kernel refuses, each
 * with one fault the kernel counts: a bad TCP checksum (TcpInCsumErrors),
 * a bad IPv4 header checksum (IpInCsumErrors), an IP length longer than
 * the frame (IpInTruncatedPkts, Ip6InTruncatedPkts), or FIN or RST set
 * beside SYN (a listener discards those; no MIB counter).
 * Prints one line: sent=N syn=N bad=N other=N, by the reference parser,
 * then the count of each mutation and fault.
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_packet.h>

#define SEND_MAX 9000

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += p[n - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

static void put16(uint8_t *p, unsigned int v)
{
	p[0] = v >> 8, p[1] = v;
}

/* put_ip6_header FRAME L3: EtherType IPv6 and an IPv6 header at L3, from
 * 2001:db8:ff::x (routed back to the client namespace) to 2001:db8::1;
 * next header and payload length are the caller's. */
static void put_ip6_header(uint8_t *f, size_t l3)
{
	put16(f + 12, 0x86dd);
	f[l3] = 0x60;
	f[l3 + 7] = 64;
	put16(f + l3 + 8, 0x2001), put16(f + l3 + 10, 0xdb8), put16(f + l3 + 12, 0xff);
	put16(f + l3 + 22, 1 + below(65535));
	put16(f + l3 + 24, 0x2001), put16(f + l3 + 26, 0xdb8), f[l3 + 39] = 1;
}

enum lab_fault { F_TCP_CSUM, F_IP_CSUM, F_IP_LEN, F_FLAGS, N_FAULTS };

/* One frame for --send; returns its length, counts its mutation.  With
 * --refuse (@refuse), a SYN with one fault the kernel refuses it for but
 * the parser does not look at (@faults counts them, by kind and family). */
static size_t gen_lab_frame(uint8_t *f, const uint8_t *dmac, const uint8_t *smac,
			    unsigned int port, bool jumbo, unsigned long *mutated,
			    bool refuse, unsigned long (*faults)[2])
{
	bool v6 = chance(50);
	unsigned int mut = chance(40) || refuse ? 0 : 1 + below(6);
	size_t l3 = 14, l4, tcplen, len, iplen, ipopt = 0;
	unsigned int doff = 5 + below(11), payload, next_off, proto = 6;
	uint32_t sum;

	if (v6 && mut == 4)		/* no IHL in IPv6: a cut instead */
		mut = 2;
	if (v6 && mut == 5)
		mut = 6;
	mutated[mut]++;
	memset(f, 0, 14 + 60 + 8 * DOC_MAX_EXTHDR + 60);
	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	if (!v6) {
		put16(f + 12, 0x0800);
		ipopt = chance(30) ? 4 * (1 + below(4)) : 0;
		f[l3] = 0x45 + ipopt / 4;
		f[l3 + 8] = 64;
		f[l3 + 9] = mut == 6 ? 17 : 6;
		memset(f + l3 + 20, 1, ipopt);		/* NOP options */
		/* 198.19.x.y, routed back to the client namespace */
		f[l3 + 12] = 198, f[l3 + 13] = 19, f[l3 + 14] = rnd(), f[l3 + 15] = 1 + below(254);
		f[l3 + 16] = 198, f[l3 + 17] = 18, f[l3 + 18] = 0, f[l3 + 19] = 1;
		if (mut == 5)
			put16(f + l3 + 6, 1 + below(0x1fff));
		l4 = l3 + 20 + ipopt;
	} else {
		unsigned int n_ext = below(DOC_MAX_EXTHDR + 1);
		uint8_t *next;

		put_ip6_header(f, l3);
		next = f + l3 + 6;
		l4 = l3 + 40;
		/* Hop-by-hop first (RFC 8200), then destination options;
		 * each 8 bytes of PadN. */
		for (unsigned int i = 0; i < n_ext; i++) {
			*next = i == 0 && chance(50) ? 0 : 60;
			next = f + l4;
			f[l4 + 2] = 1, f[l4 + 3] = 4;
			l4 += 8;
		}
		*next = mut == 6 ? 17 : 6;
	}
	/* TCP: MSS then NOPs; random ports from, @port to. */
	tcplen = doff * 4;
	put16(f + l4, 1024 + below(60000));
	put16(f + l4 + 2, port);
	put16(f + l4 + 4, rnd()), put16(f + l4 + 6, rnd());
	f[l4 + 12] = (mut == 3 ? below(5) : doff) << 4;
	f[l4 + 13] = mut == 1 ? (uint8_t)rnd() & ~0x05 : 0x02;
	put16(f + l4 + 14, 64240);
	if (doff > 5) {
		f[l4 + 20] = 2, f[l4 + 21] = 4;
		put16(f + l4 + 22, 1460);
		memset(f + l4 + 24, 1, tcplen - 24);
	}
	payload = jumbo ? 4200 + below(SEND_MAX - 4200 - (unsigned int)(l4 + tcplen)) : 0;
	random_bytes(f + l4 + tcplen, payload);
	len = l4 + tcplen + payload;
	if (mut == 2)			/* cut inside the TCP header or options */
		len = l4 + below(tcplen);
	if (mut == 6)			/* UDP: 8 bytes of header, length right */
		put16(f + l4 + 4, len - l4);
	iplen = len - l3;
	/* Lengths and checksums: the mutation is the frame's only fault. */
	if (!v6) {
		put16(f + l3 + 2, iplen);
		if (mut == 4)
			f[l3] = 0x40 | below(5);
		sum = csum_add(0, f + l3, 20 + ipopt);
		put16(f + l3 + 10, csum_fold(sum));
		sum = csum_add(0, f + l3 + 12, 8);
	} else {
		put16(f + l3 + 4, len - (l3 + 40));
		sum = csum_add(0, f + l3 + 8, 32);
	}
	proto = mut == 6 ? 17 : 6;
	sum += proto + (unsigned int)(len - l4);
	next_off = mut == 6 ? 6 : 16;
	if (l4 + next_off + 2 <= len) {
		f[l4 + next_off] = f[l4 + next_off + 1] = 0;
		put16(f + l4 + next_off, csum_fold(csum_add(sum, f + l4, len - l4)));
	}
	if (refuse) {
		unsigned int fault = below(N_FAULTS);

		if (v6 && fault == F_IP_CSUM)	/* no header checksum in IPv6 */
			fault = F_TCP_CSUM;
		faults[fault][v6]++;
		if (fault == F_TCP_CSUM) {
			f[l4 + 16] ^= 1 << below(8);
		} else if (fault == F_IP_CSUM) {
			f[l3 + 10] ^= 1 << below(8);
		} else if (fault == F_FLAGS) {
			/* SYN+FIN or SYN+RST: a listener discards it; "SYN
			 * set, ACK clear" all the same.  Checksum kept right. */
			unsigned int c = be16(f + l4 + 16) ^ 0xffff;
			unsigned int add = chance(50) ? 0x01 : 0x04;

			f[l4 + 13] |= add;
			c += add;
			c = (c & 0xffff) + (c >> 16);
			put16(f + l4 + 16, ~c & 0xffff);
		} else if (!v6) {		/* longer than the frame */
			put16(f + l3 + 2, iplen + 1 + below(64));
			f[l3 + 10] = f[l3 + 11] = 0;
			put16(f + l3 + 10, csum_fold(csum_add(0, f + l3, 20 + ipopt)));
		} else {
			put16(f + l3 + 4, len - (l3 + 40) + 1 + below(64));
		}
	}
	return len;
}

/*
 * --limits: SYNs at and beyond the parser's limits, all of them well
 * formed, that the kernel takes whole (docs/design.md "Parser"):
 *   ext     IPv6, hop-by-hop (or destination options) then destination
 *           options, 0 to 2 * DOC_MAX_EXTHDR - 2 headers in all: past
 *           DOC_MAX_EXTHDR, unparsed at XDP and TC, counted by the stack
 *           (syn_beyond_parser)
 *   atomic  one of those headers an atomic fragment header (offset 0, M
 *           clear: RFC 6946), which the kernel takes as is
 *   frag4   an IPv4 SYN in two fragments, the first (MF set) with the
 *           whole TCP header: the parser counts the first, the kernel
 *           reassembles both into one SYN
 *   vlan3   an IPv4 SYN behind three VLAN tags: unparsed at XDP and TC;
 *           the kernel (no VLAN device for it) takes none
 * Writes frames into @f (two for frag4: the second at @f + SEND_MAX,
 * its length in *@len2); returns the first's length.
 */
static size_t gen_limits_frame(uint8_t *f, const uint8_t *dmac, const uint8_t *smac,
			       unsigned int port, size_t *len2, unsigned long *kinds)
{
	size_t l3 = 14, l4, tcplen, len, payload;
	unsigned int doff = 5 + below(11);
	bool v4 = false, vlan3 = false;
	uint32_t sum;

	*len2 = 0;
	memset(f, 0, 2 * SEND_MAX);
	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	if (chance(75)) {
		unsigned int n_ext = below(2 * DOC_MAX_EXTHDR - 1);
		unsigned int frag_at = n_ext && chance(50) ? below(n_ext) : ~0U;
		uint8_t *next;

		put_ip6_header(f, l3);
		next = f + l3 + 6;
		l4 = l3 + 40;
		for (unsigned int i = 0; i < n_ext; i++) {
			if (i == frag_at) {
				*next = 44;		/* offset 0, M clear */
				put16(f + l4 + 4, rnd()), put16(f + l4 + 6, rnd());
			} else {
				*next = i == 0 && chance(50) ? 0 : 60;
				f[l4 + 2] = 1, f[l4 + 3] = 4;	/* PadN */
			}
			next = f + l4;
			l4 += 8;
		}
		*next = 6;
		kinds[0] += n_ext > DOC_MAX_EXTHDR;
		kinds[1] += frag_at != ~0U;
	} else {
		v4 = true;
		vlan3 = chance(25);
		if (vlan3) {
			/* 802.1ad, then two 802.1Q; VLAN ids 1-4094 */
			put16(f + 12, 0x88a8);
			for (int t = 0; t < 3; t++) {
				put16(f + l3, 1 + below(4094));
				put16(f + l3 + 2, t < 2 ? 0x8100 : 0x0800);
				l3 += 4;
			}
		} else {
			put16(f + 12, 0x0800);
		}
		f[l3] = 0x45;
		f[l3 + 8] = 64;
		f[l3 + 9] = 6;
		f[l3 + 12] = 198, f[l3 + 13] = 19, f[l3 + 14] = rnd(), f[l3 + 15] = 1 + below(254);
		f[l3 + 16] = 198, f[l3 + 17] = 18, f[l3 + 18] = 0, f[l3 + 19] = 1;
		put16(f + l3 + 4, rnd());	/* identification */
		l4 = l3 + 20;
		kinds[vlan3 ? 3 : 2]++;
	}
	tcplen = doff * 4;
	put16(f + l4, 1024 + below(60000));
	put16(f + l4 + 2, port);
	put16(f + l4 + 4, rnd()), put16(f + l4 + 6, rnd());
	f[l4 + 12] = doff << 4;
	f[l4 + 13] = 0x02;
	put16(f + l4 + 14, 64240);
	if (doff > 5) {
		f[l4 + 20] = 2, f[l4 + 21] = 4;
		put16(f + l4 + 22, 1460);
		memset(f + l4 + 24, 1, tcplen - 24);
	}
	/* IPv4: data past the first fragment's 8-byte boundary after the
	 * TCP header, for the second. */
	payload = v4 && !vlan3 ? ((tcplen + 7) & ~7UL) - tcplen + 8 + below(32) : 0;
	random_bytes(f + l4 + tcplen, payload);
	len = l4 + tcplen + payload;
	if (!v4) {
		put16(f + l3 + 4, len - (l3 + 40));
		sum = csum_add(0, f + l3 + 8, 32);
	} else {
		sum = csum_add(0, f + l3 + 12, 8);
	}
	sum += 6 + (unsigned int)(len - l4);
	put16(f + l4 + 16, csum_fold(csum_add(sum, f + l4, len - l4)));
	if (vlan3) {
		put16(f + l3 + 2, len - l3);
		put16(f + l3 + 10, csum_fold(csum_add(0, f + l3, 20)));
	} else if (v4) {
		/* First fragment: the TCP header and data to an 8-byte
		 * boundary, MF set; the second: the rest, at that offset. */
		size_t first = (tcplen + 7) & ~7UL, rest = len - l4 - first;
		uint8_t *g = f + SEND_MAX;

		memcpy(g, f, l4);
		memcpy(g + l4, f + l4 + first, rest);
		put16(g + l3 + 2, 20 + rest);
		put16(g + l3 + 6, first / 8);
		put16(g + l3 + 10, csum_fold(csum_add(0, g + l3, 20)));
		*len2 = l4 + rest;
		len = l4 + first;
		put16(f + l3 + 2, 20 + first);
		put16(f + l3 + 6, 0x2000);
		put16(f + l3 + 10, csum_fold(csum_add(0, f + l3, 20)));
	}
	return len;
}

static int send_frames(const char *ifname, const char *dst_mac, unsigned int port,
		       unsigned long count, bool jumbo, bool refuse, bool limits)
{
	unsigned long faults[N_FAULTS][2] = {};
	static uint8_t f[2 * SEND_MAX];
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	struct ifreq ifr = { 0 };
	unsigned long n_syn = 0, n_bad = 0, n_other = 0, mutated[7] = {}, n_sent = 0;
	unsigned long kinds[4] = {}, n_beyond = 0;
	uint8_t dmac[6], smac[6];
	int fd, one = 1;

	if (sscanf(dst_mac, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &dmac[0], &dmac[1], &dmac[2],
		   &dmac[3], &dmac[4], &dmac[5]) != 6)
		usage_error("--dst-mac takes a MAC address");
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (fd < 0 || ioctl(fd, SIOCGIFINDEX, &ifr)) {
		fprintf(stderr, "test_fuzz: --send %s: %s\n", ifname, strerror(errno));
		return 1;
	}
	sll.sll_ifindex = ifr.ifr_ifindex;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) ||
	    setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		fprintf(stderr, "test_fuzz: --send %s: %s\n", ifname, strerror(errno));
		return 1;
	}
	memcpy(smac, ifr.ifr_hwaddr.sa_data, 6);
	for (unsigned long i = 0; i < count; i++) {
		size_t len2 = 0, len = limits ?
			gen_limits_frame(f, dmac, smac, port, &len2, kinds) :
			gen_lab_frame(f, dmac, smac, port, jumbo, mutated, refuse, faults);

		for (int k = 0; k < 2; k++) {
			const uint8_t *fr = k ? f + SEND_MAX : f;
			size_t n = k ? len2 : len;
			struct ref r;

			if (!n)
				break;
			r = ref_parse(fr, n);
			/* Beyond the limits: unparsed (bad), and a SYN
			 * the reference sees behind extension headers
			 * (which the kernel takes) is "beyond". */
			if (ref_beyond_limits(&r)) {
				n_bad++;
				n_beyond += r.tags <= DOC_MAX_VLAN && r.result == REF_TCP &&
					    (r.flags & 0x12) == 0x02 &&
					    r.dport == port;
			} else if (r.result == REF_OTHER) {
				n_other++;
			} else if (r.result == REF_BAD) {
				n_bad++;
			} else if ((r.flags & 0x12) == 0x02 && r.dport == port) {
				n_syn++;
			} else {
				n_other++;
			}
			while (send(fd, fr, n, 0) < 0) {
				if (errno != ENOBUFS && errno != EAGAIN) {
					fprintf(stderr, "test_fuzz: send: %s\n", strerror(errno));
					return 1;
				}
				usleep(1000);
			}
			/* The peer's ring holds 256 frames (a veth with
			 * XDP): do not outrun it, even on a busy machine. */
			if (++n_sent % 16 == 0)
				usleep(2000);
		}
	}
	close(fd);
	if (limits) {
		printf("sent=%lu syn=%lu bad=%lu other=%lu beyond=%lu ext_beyond=%lu atomic=%lu "
		       "frag4=%lu vlan3=%lu\n", n_sent, n_syn, n_bad, n_other, n_beyond, kinds[0],
		       kinds[1], kinds[2], kinds[3]);
		return 0;
	}
	printf("sent=%lu syn=%lu bad=%lu other=%lu plain=%lu flags=%lu cut=%lu doff=%lu "
	       "ihl=%lu fragment=%lu udp=%lu tcp_csum=%lu ip_csum=%lu ip_len=%lu ip6_len=%lu "
	       "syn_fin_rst=%lu\n",
	       count, n_syn, n_bad, n_other, mutated[0], mutated[1], mutated[2], mutated[3],
	       mutated[4], mutated[5], mutated[6], faults[F_TCP_CSUM][0] + faults[F_TCP_CSUM][1],
	       faults[F_IP_CSUM][0], faults[F_IP_LEN][0], faults[F_IP_LEN][1],
	       faults[F_FLAGS][0] + faults[F_FLAGS][1]);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long n_frames = 100000, done = 0, sweeps = 0, n_full = 50000;
	uint64_t seed = (uint64_t)time(NULL) * 2654435761u ^ (uint64_t)getpid() << 32;
	struct nic_bpf *nic = NULL;
	struct tc_bpf *tc = NULL;
	static struct round rd;
	int ret = 1, err;
	const char *send_if = NULL, *dst_mac = NULL;
	unsigned int port = 0;
	bool jumbo = false, refuse = false, limits = false;

	for (int i = 1; i < argc; i++) {
		char *end;

		if (!strcmp(argv[i], "-v")) {
			verbose = true;
		} else if (!strcmp(argv[i], "--send") && i + 1 < argc) {
			send_if = argv[++i];
		} else if (!strcmp(argv[i], "--dst-mac") && i + 1 < argc) {
			dst_mac = argv[++i];
		} else if (!strcmp(argv[i], "--port") && i + 1 < argc) {
			port = strtoul(argv[++i], &end, 0);
			if (*end || !port || port > 65535)
				usage_error("--port takes a port");
		} else if (!strcmp(argv[i], "--jumbo")) {
			jumbo = true;
		} else if (!strcmp(argv[i], "--refuse")) {
			refuse = true;
		} else if (!strcmp(argv[i], "--limits")) {
			limits = true;
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
	if (send_if) {
		if (!dst_mac || !port)
			usage_error("--send needs --dst-mac and --port");
		/* stderr: stdout is the one result line. */
		fprintf(stderr, "# seed %llu\n", (unsigned long long)seed);
		rng_state = seed ? seed : 1;
		return send_frames(send_if, dst_mac, port, n_frames, jumbo, refuse, limits);
	}
	/* Printed before anything can fail, so a failure can be rerun. */
	printf("# seed %llu (rerun: FUZZ_SEED=%llu, or %s --seed %llu --frames %lu)\n",
	       (unsigned long long)seed, (unsigned long long)seed, argv[0],
	       (unsigned long long)seed, n_frames);
	rng_state = seed ? seed : 1;
	libbpf_set_print(print_libbpf);
	if (geteuid() != 0) {
		printf("1..0 # SKIP root: loading BPF programs needs root\n");
		return 0;
	}
	ncpus = libbpf_num_possible_cpus();
	cpubuf = calloc(ncpus > 0 ? ncpus * MAX_FIELDS : 1, sizeof(*cpubuf));
	if (ncpus <= 0 || !cpubuf) {
		printf("Bail out! out of memory\n");
		goto cleanup;
	}

	/* Round 1: the maps as built.  Ports over the whole range: each map
	 * hands out its SA_SLOTS slots and goes on into its hash, which has
	 * room for every port: nothing may be lost. */
	err = round_load(&rd, "maps as built", 0, &nic, &tc);
	if (err) {
		printf("Bail out! cannot load the XDP and TC programs: %s\n", strerror(-err));
		goto cleanup;
	}
	if (fuzz(&rd, n_frames, &sweeps))
		goto read_error;
	done = n_frames;
	printf("# %lu frames (%lu full truncation sweeps): syn %lu, syn+ack %lu, other %lu, "
	       "unparsable %lu; vlan %lu, qinq or more %lu, ipv4 options %lu, ipv4 fragment "
	       "fields %lu, ipv6 extension chains %lu, ipv6 fragment headers %lu, cut %lu, "
	       "bit-flipped %lu; beyond the documented limits: more than %d tags %lu, more "
	       "than %d extension headers %lu, SYNs among them %lu; SYNs behind an atomic "
	       "fragment %lu\n", done, sweeps, seen.syn,
	       seen.synack, seen.other, seen.bad, seen.vlan, seen.qinq, seen.ip4_opts,
	       seen.ip4_frag, seen.ip6_ext, seen.ip6_frag, seen.cut, seen.flipped,
	       DOC_MAX_VLAN, seen.vlan_beyond, DOC_MAX_EXTHDR, seen.ext_beyond,
	       seen.syn_beyond, seen.syn_atomic);
	/* A generator that never makes a kind of frame tests nothing there. */
	ok(seen.syn && seen.synack && seen.other && seen.bad && seen.vlan && seen.qinq &&
	   seen.ip4_opts && seen.ip4_frag && seen.ip6_ext && seen.ip6_frag && seen.cut &&
	   seen.flipped && seen.vlan_beyond && seen.ext_beyond && seen.syn_beyond &&
	   seen.syn_atomic && done >= 100000, "%lu frames, every kind of frame among them "
	   "(at least 100000), SYNs beyond the documented limits and behind atomic "
	   "fragments too", done);
	report_round(&rd, done);
	/* Every counter moved, each map overflowed its slots into its hash. */
	ok(rd.total[P_XDP] > 1000 && rd.total[P_TC_IN] > 1000 && rd.total[P_TC_EG] > 1000 &&
	   rd.maps[M_NIC].unparsed_want > 1000 && rd.maps[M_TC].unparsed_want > 1000 &&
	   rd.maps[M_NIC].hashed > 1000 && rd.maps[M_TC].hashed > 1000,
	   "every counter moved: nic_syn %llu, tc_syn %llu, synack_sent %llu, xdp unparsed "
	   "%llu, tc unparsed %llu; ports past the %d slots into the hash: xdp %lu, tc %lu",
	   (unsigned long long)rd.total[P_XDP], (unsigned long long)rd.total[P_TC_IN],
	   (unsigned long long)rd.total[P_TC_EG],
	   (unsigned long long)rd.maps[M_NIC].unparsed_want,
	   (unsigned long long)rd.maps[M_TC].unparsed_want, SA_SLOTS,
	   rd.maps[M_NIC].hashed, rd.maps[M_TC].hashed);

	/* Round 2, non-linear skbs for TC's pull path (bpf_skb_pull_data),
	 * where the kernel's test_run can build them. */
	err = probe_nonlinear(rd.progs[P_TC_IN].fd);
	round_free(&rd, nic, tc);
	nic = NULL, tc = NULL;
	if (err == -EINVAL) {
		testno++;
		printf("ok %d # SKIP kernel: non-linear skbs: this kernel's BPF_PROG_TEST_RUN builds "
		       "linear skbs only (a linear size in the context's data_end: EINVAL; "
		       "Linux after 6.18 takes it); 04-fuzz-lab.t jumbo sends such skbs "
		       "through a veth\n", testno);
	} else {
		err = round_load(&rd, "non-linear skbs", 0, &nic, &tc);
		if (err) {
			printf("Bail out! cannot load the XDP and TC programs: %s\n", strerror(-err));
			goto cleanup;
		}
		rd.nonlinear = true;
		if (fuzz(&rd, n_full, &sweeps))
			goto read_error;
		report_round(&rd, n_full);
		round_free(&rd, nic, tc);
		nic = NULL, tc = NULL;
	}

	/* Round 3: hashes with room for 64 ports: past them, every count of
	 * a new port is lost, and must be counted as lost, never silently. */
	err = round_load(&rd, "hashes of 64", 64, &nic, &tc);
	if (err) {
		printf("Bail out! cannot load the XDP and TC programs: %s\n", strerror(-err));
		goto cleanup;
	}
	if (fuzz(&rd, n_full, &sweeps))
		goto read_error;
	report_round(&rd, n_full);
	ok(rd.maps[M_NIC].lost_total > 100 && rd.maps[M_TC].lost_total > 100,
	   "hashes of 64: counts lost and counted as lost: xdp %llu, tc %llu",
	   (unsigned long long)rd.maps[M_NIC].lost_total,
	   (unsigned long long)rd.maps[M_TC].lost_total);

	printf("1..%d\n", testno);
	ret = failed ? 1 : 0;
	goto cleanup;

read_error:
	printf("Bail out! reading the counters: %s\n", strerror(errno));
cleanup:
	round_free(&rd, nic, tc);
	free(cpubuf);
	return ret;
}
