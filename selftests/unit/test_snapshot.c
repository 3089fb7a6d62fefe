// SPDX-License-Identifier: GPL-2.0
/*
 * test_snapshot.c - snapshots and their difference (agent/core/snapshot.c):
 * counters and drops subtract per port and per reason, ports new since
 * the older reading count from zero, gauges are the newer reading,
 * accepted is what left the accept queue, and a failed allocation leaves
 * an empty result and says so.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "ports.h"
#include "snapshot.h"
#include "tap.h"

#define NO_SOCKET 3
#define NETFILTER_DROP 12

static size_t n_ports(const struct sa_snapshot *s)
{
	size_t n = 0;

	for (__u32 p = 0; p < SA_MAX_PORTS; p++)
		n += s->port[p] != NULL;
	return n;
}

/* Every counter of a port as "name=value" for the ones not zero. */
static const char *counters_str(const struct sa_port_stats *ps)
{
	static char buf[1024];
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < SA_C_MAX; i++)
		if (sa_c(ps, i))
			off += snprintf(buf + off, sizeof(buf) - off, "%s%s=%llu",
					off ? " " : "", sa_counters[i].name,
					(unsigned long long)sa_c(ps, i));
	return buf;
}

static void basics(void)
{
	struct sa_snapshot *s = sa_snapshot_new();
	struct sa_port_stats *ps;
	__u64 *n;

	if (!ok(s != NULL, "sa_snapshot_new"))
		return;
	is_int(n_ports(s), 0, "a new snapshot has no port");
	ok(sa_snapshot_get(s, 80) != NULL && sa_port_stats_zero(sa_snapshot_get(s, 80)),
	   "sa_snapshot_get of a port never seen: zeroed figures");
	is_int(n_ports(s), 0, "... and does not create it");
	ok(sa_snapshot_get(s, SA_MAX_PORTS) != NULL &&
	   sa_port_stats_zero(sa_snapshot_get(s, SA_MAX_PORTS)),
	   "sa_snapshot_get past the last port: zeroed figures");
	ok(sa_snapshot_port(s, SA_MAX_PORTS) == NULL, "sa_snapshot_port past the last port: NULL");
	ps = sa_snapshot_port(s, 65535);
	ok(ps != NULL && ps == sa_snapshot_port(s, 65535), "sa_snapshot_port 65535: created once");
	ok(sa_port_stats_zero(ps), "a created port is zero");

	n = sa_port_drop(ps, NO_SOCKET);
	ok(n && *n == 0, "sa_port_drop: a new reason starts at 0");
	ok(sa_port_stats_zero(ps), "a drop entry at 0 leaves the port zero");
	*n = 4;
	ok(sa_port_drop(ps, NO_SOCKET) == n, "sa_port_drop: the same reason, the same counter");
	is_int(ps->n_drops, 1, "one entry per reason");
	is_int(sa_port_drop_get(ps, NO_SOCKET), 4, "sa_port_drop_get: the value");
	is_int(sa_port_drop_get(ps, NETFILTER_DROP), 0, "sa_port_drop_get: 0 for a reason never seen");
	ok(!sa_port_stats_zero(ps), "a drop makes the port non-zero");
	ps->drops[0].n = 0;
	sa_c_set(ps, SA_C_synack_retrans, 1);
	ok(!sa_port_stats_zero(ps), "any counter makes the port non-zero (synack_retrans)");

	sa_snapshot_clear(s);
	is_int(n_ports(s), 0, "sa_snapshot_clear: no port left");
	sa_snapshot_free(s);
	sa_snapshot_free(NULL);
	ok(true, "sa_snapshot_free(NULL) is harmless");
}

/* Two readings of the same maps, b then a. */
static void build(struct sa_snapshot *a, struct sa_snapshot *b)
{
	struct sa_port_stats *p;
	struct sa_listener l = { .port = 80 };

	/* Port 80 in both readings. */
	p = sa_snapshot_port(b, 80);
	sa_c_set(p, SA_C_nic_syn, 100);
	sa_c_set(p, SA_C_tc_syn, 100);
	sa_c_set(p, SA_C_established, 50);
	*sa_port_drop(p, NO_SOCKET) = 7;
	*sa_port_drop(p, NETFILTER_DROP) = 2;	/* only in the older reading */
	sa_port_gauges(p)->accept_queue_len = 2;
	sa_port_gauges(p)->accept_backlog = 128;
	sa_port_gauges(p)->listeners = 1;

	p = sa_snapshot_port(a, 80);
	sa_c_set(p, SA_C_nic_syn, 130);
	sa_c_set(p, SA_C_tc_syn, 129);
	sa_c_set(p, SA_C_established, 70);
	sa_c_set(p, SA_C_syncookies_mss_7, 3);
	*sa_port_drop(p, NO_SOCKET) = 10;
	*sa_port_drop(p, 71) = 1;		/* new since b */
	sa_port_gauges(p)->accept_queue_len = 5;
	sa_port_gauges(p)->accept_backlog = 4;
	sa_port_gauges(p)->listeners = 2;
	sa_port_gauges(p)->syn_queue_len = 9;
	sa_port_gauges(p)->listener_sk_drops = 11;

	/* Port 443 only in the newer reading, 8080 only in the older one. */
	p = sa_snapshot_port(a, 443);
	sa_c_set(p, SA_C_tc_syn, 6);
	sa_c_set(p, SA_C_established, 6);
	sa_port_gauges(p)->accept_queue_len = 1;
	p = sa_snapshot_port(b, 8080);
	sa_c_set(p, SA_C_tc_syn, 9);

	a->nic_unparsed = 5; b->nic_unparsed = 3;
	a->tc_unparsed = 8; b->tc_unparsed = 8;
	for (int i = 0; i < SA_MIB_MAX; i++) {
		a->mib[i] = 1000 + i * 10;
		b->mib[i] = 1000;
	}
	a->tcp_syncookies = 2;
	b->tcp_syncookies = 1;
	sa_snapshot_add_listener(a, &l);
	l.port = 443;
	sa_snapshot_add_listener(a, &l);
	l.port = 9;
	sa_snapshot_add_listener(b, &l);
}

static void diff(void)
{
	struct sa_snapshot *a = sa_snapshot_new(), *b = sa_snapshot_new();
	struct sa_snapshot *d = sa_snapshot_new();
	const struct sa_port_stats *p;
	bool mib_ok = true;

	if (!ok(a && b && d, "three snapshots"))
		return;
	build(a, b);
	/* d holds a port from before: the difference replaces it. */
	sa_c_set(sa_snapshot_port(d, 22), SA_C_nic_syn, 1);

	is_int(sa_snapshot_diff(d, a, b), 0, "sa_snapshot_diff: 0");
	is_int(n_ports(d), 2, "the ports of the newer reading only (80, 443)");
	ok(!d->port[22] && !d->port[8080], "neither what d held nor a port only in the older reading");

	p = sa_snapshot_get(d, 80);
	is_str(counters_str(p), "nic_syn=30 tc_syn=29 established=20 syncookies_mss_7=3",
	       "port 80: every counter is newer - older");
	is_int(p->n_drops, 2, "port 80: the reasons of the newer reading");
	is_int(sa_port_drop_get(p, NO_SOCKET), 3, "port 80: NO_SOCKET 10 - 7");
	is_int(sa_port_drop_get(p, 71), 1, "port 80: a reason new since the older reading counts from 0");
	is_int(sa_port_drop_get(p, NETFILTER_DROP), 0,
	       "port 80: a reason only in the older reading is not carried");
	is_int(sa_g(p)->accept_queue_len, 5, "port 80: gauges are the newer reading (accept_queue_len)");
	is_int(sa_g(p)->accept_backlog, 4, "port 80: accept_backlog, newer");
	is_int(sa_g(p)->listeners, 2, "port 80: listeners, newer");
	is_int(sa_g(p)->syn_queue_len, 9, "port 80: syn_queue_len, newer");
	is_int(sa_g(p)->listener_sk_drops, 11, "port 80: listener_sk_drops, newer (cumulative, as read)");
	is_int(p->accepted, 17, "port 80: accepted = established 20 - queue growth (5 - 2)");
	ok(p->gauges_moved, "port 80: its gauges moved");

	p = sa_snapshot_get(d, 443);
	is_str(counters_str(p), "tc_syn=6 established=6", "port 443: new since the older reading, counts from 0");
	is_int(p->accepted, 5, "port 443: accepted = 6 - queue growth (1 - 0)");
	ok(!p->gauges_moved, "port 443: no listener in either reading: its gauges did not move");

	is_int(d->nic_unparsed, 2, "nic_unparsed 5 - 3");
	is_int(d->tc_unparsed, 0, "tc_unparsed 8 - 8");
	for (int i = 0; i < SA_MIB_MAX; i++)
		mib_ok &= d->mib[i] == (__u64)i * 10;
	ok(mib_ok, "every MIB counter is newer - older");
	is_int(d->tcp_syncookies, 2, "tcp_syncookies: the newer reading");
	is_int(d->n_listeners, 2, "listeners: the newer reading's");
	ok(d->n_listeners == 2 && d->listeners[0].port == 80 && d->listeners[1].port == 443,
	   "listeners: 80, 443, in order");

	/* The queue shrank: what left it was accepted too. */
	sa_port_gauges(sa_snapshot_port(b, 80))->accept_queue_len = 9;
	sa_snapshot_diff(d, a, b);
	is_int(sa_snapshot_get(d, 80)->accepted, 24, "accepted = 20 established + 4 the queue shrank by");
	/* The queue grew by more than was established in the interval
	 * (connections established before it, queued now): negative. */
	sa_port_gauges(sa_snapshot_port(b, 80))->accept_queue_len = 0;
	sa_c_set(sa_snapshot_port(a, 80), SA_C_established, 52);
	sa_snapshot_diff(d, a, b);
	is_int(sa_snapshot_get(d, 80)->accepted, -3, "accepted = 2 established - 5 queued: -3");

	sa_snapshot_free(a);
	sa_snapshot_free(b);
	sa_snapshot_free(d);
}

static void copy(void)
{
	struct sa_snapshot *a = sa_snapshot_new(), *b = sa_snapshot_new();
	struct sa_snapshot *c = sa_snapshot_new();

	if (!ok(a && b && c, "three snapshots"))
		return;
	build(a, b);
	is_int(sa_snapshot_copy(c, a), 0, "sa_snapshot_copy: 0");
	/* counters_str's buffer is static: the want is written out, not a
	 * second call (which would compare the buffer with itself). */
	is_str(counters_str(sa_snapshot_get(c, 80)), "nic_syn=130 tc_syn=129 established=70 syncookies_mss_7=3",
	       "copy: port 80's counters");
	is_int(sa_port_drop_get(sa_snapshot_get(c, 80), NO_SOCKET), 10, "copy: port 80's drops");
	is_int(sa_snapshot_get(c, 80)->accepted, 65, "copy: accepted = established 70 - the queue (5)");
	*sa_port_drop(sa_snapshot_port(a, 80), NO_SOCKET) = 99;
	is_int(sa_port_drop_get(sa_snapshot_get(c, 80), NO_SOCKET), 10,
	       "copy: the drops are the copy's own");
	is_int(c->mib[SA_MIB_TcpPassiveOpens], a->mib[SA_MIB_TcpPassiveOpens], "copy: the MIBs");
	is_int(c->n_listeners, 2, "copy: the listeners");
	sa_snapshot_free(a);
	sa_snapshot_free(b);
	sa_snapshot_free(c);
}

/* NAT and forwarding attributes are the newer reading's, like gauges;
 * a listener that lends its gauges to a published port (REDIRECT) puts
 * its queue's growth there, so its own accepted is what it established. */
static void nat(void)
{
	struct sa_snapshot *a = sa_snapshot_new(), *b = sa_snapshot_new();
	struct sa_snapshot *d = sa_snapshot_new();
	struct sa_port_stats *pub, *tgt;
	const struct sa_port_stats *p;

	if (!ok(a && b && d, "three snapshots"))
		return;
	pub = sa_snapshot_port(a, 8080);
	tgt = sa_snapshot_port(a, 80);
	*sa_port_nat(pub) = (struct sa_nat){ .to_port = 80, .family = 2,
					     .to_addr = { 198, 18, 0, 1 } };
	pub->fwd_ifindex = 7;
	sa_c_set(pub, SA_C_established, 30);
	sa_c_set(pub, SA_C_forwarded, 4);
	sa_port_gauges(pub)->accept_queue_len = 5;	/* lent by port 80 */
	sa_port_gauges(tgt)->accept_queue_len = 5;
	sa_c_set(tgt, SA_C_established, 2);
	tgt->gauges_lent = true;
	sa_port_gauges(sa_snapshot_port(b, 8080))->accept_queue_len = 1;
	sa_port_gauges(sa_snapshot_port(b, 80))->accept_queue_len = 1;

	is_int(sa_snapshot_diff(d, a, b), 0, "nat: sa_snapshot_diff: 0");
	p = sa_snapshot_get(d, 8080);
	ok(p->nat && p->nat->to_port == 80 && p->nat->family == 2 && p->nat->to_addr[0] == 198 &&
	   p->nat->to_addr[3] == 1, "nat: the published port keeps its mapping");
	is_int(p->fwd_ifindex, 7, "nat: fwd_ifindex, the newer reading");
	is_int(sa_c(p, SA_C_forwarded), 4, "nat: forwarded is a counter (4 - 0)");
	is_int(p->accepted, 26, "nat: published port: accepted = 30 established - growth (5 - 1)");
	p = sa_snapshot_get(d, 80);
	ok(!p->nat && p->gauges_lent, "nat: the target port has no mapping, lent its gauges");
	is_int(p->accepted, 2, "nat: the lending port's accepted = its own established (2)");
	sa_snapshot_free(a);
	sa_snapshot_free(b);
	sa_snapshot_free(d);
}

/* Every allocation sa_snapshot_diff makes, made to fail in turn: it
 * returns -ENOMEM and leaves nothing half made. */
/* The sparse counters against a plain array: set in a scrambled order,
 * overwritten, let go (set to 0), added to; inline up to two, then a
 * heap array; a failed allocation leaves the counters as they were. */
static void counts(void)
{
	struct sa_port_stats ps = { 0 };
	__u64 want[SA_C_MAX] = { 0 };
	bool same = true;
	long allocs;
	int err = 0;

	alloc_fail_after(-1);
	err |= sa_c_set(&ps, SA_C_tc_syn, 7);
	err |= sa_c_set(&ps, SA_C_nic_syn, 9);
	want[SA_C_tc_syn] = 7;
	want[SA_C_nic_syn] = 9;
	allocs = alloc_count;
	ok(!err && !ps.c.heap && sa_counts_n(&ps.c) == 2, "two counters are held inline");
	is_int(allocs, 0, "... with no allocation");
	for (int k = 0; k < 3 * SA_C_MAX; k++) {
		int c = (k * 17 + 5) % SA_C_MAX;	/* every counter, scrambled */
		__u64 v = k % 5 == 0 ? 0 : 1000 + k;

		err |= sa_c_set(&ps, c, v);
		want[c] = v;
		if (k % 7 == 0) {
			err |= sa_c_add(&ps, c, 3);
			want[c] += 3;
		}
	}
	for (int c = 0; c < SA_C_MAX; c++)
		same &= sa_c(&ps, c) == want[c] &&
			!!(ps.c.held & (1ULL << c)) == (want[c] != 0);
	ok(!err && same, "set, overwrite, let go and add in any order: as a plain array");
	{
		int nonzero = 0;

		for (int c = 0; c < SA_C_MAX; c++)
			nonzero += want[c] != 0;
		is_int(sa_counts_n(&ps.c), nonzero, "held: the ones not zero (%d)", nonzero);
	}
	for (int c = 0; c < SA_C_MAX; c++)
		err |= sa_c_set(&ps, c, 0);
	ok(!err && !ps.c.held && sa_port_stats_zero(&ps), "all let go: zero");
	sa_port_stats_release(&ps);

	sa_c_set(&ps, SA_C_nic_syn, 1);
	sa_c_set(&ps, SA_C_tc_syn, 2);
	alloc_fail_after(0);
	err = sa_c_set(&ps, SA_C_established, 3);
	alloc_fail_after(-1);
	ok(err == -ENOMEM && sa_counts_n(&ps.c) == 2 && sa_c(&ps, SA_C_tc_syn) == 2 &&
	   !sa_c(&ps, SA_C_established), "a third without memory: -ENOMEM, the two kept");
	sa_port_stats_release(&ps);
}

static void out_of_memory(void)
{
	struct sa_snapshot *a = sa_snapshot_new(), *b = sa_snapshot_new();
	struct sa_snapshot *d = sa_snapshot_new();
	long allocs;
	bool all = true;

	if (!ok(a && b && d, "three snapshots"))
		return;
	build(a, b);
	alloc_fail_after(-1);
	sa_snapshot_diff(d, a, b);
	allocs = alloc_count;
	diag("sa_snapshot_diff of 2 ports, 2 reasons, 2 listeners: %ld allocations", allocs);
	ok(allocs >= 5, "the diff allocates (ports, drops, listeners): %ld", allocs);
	for (long i = 0; i < allocs; i++) {
		int err;

		alloc_fail_after(i);
		err = sa_snapshot_diff(d, a, b);
		alloc_fail_after(-1);
		if (err != -ENOMEM || n_ports(d) || d->n_listeners) {
			all = false;
			diag("allocation %ld failing: err %d, %zu ports, %zu listeners left",
			     i, err, n_ports(d), d->n_listeners);
		}
	}
	ok(all, "each of the %ld allocations failing: -ENOMEM, an empty result", allocs);
	is_int(sa_snapshot_diff(d, a, b), 0, "with memory again: 0");
	is_int(n_ports(d), 2, "... and both ports");
	sa_snapshot_free(a);
	sa_snapshot_free(b);
	sa_snapshot_free(d);
}

/* A reading of some ports merged into the latest whole one: those ports
 * take the newer figures (or go, when the newer reading has none), every
 * other port keeps its own, the figures without a port are the newer
 * reading's, and the newer snapshot is left empty. */
static void merge(void)
{
	struct sa_snapshot *whole = sa_snapshot_new(), *part = sa_snapshot_new();
	struct sa_portset ports = { 0 };
	struct sa_port_stats *ps;
	struct sa_listener l = { .port = 80, .family = 2 };
	__u64 *drop, *keep_drops;

	if (!ok(whole && part, "two snapshots"))
		return;
	whole->gen = 1;
	ps = sa_snapshot_port(whole, 80);
	sa_c_set(ps, SA_C_nic_syn, 5);
	*sa_port_drop(ps, NO_SOCKET) = 5;
	keep_drops = &ps->drops[0].n;
	sa_c_set(sa_snapshot_port(whole, 443), SA_C_nic_syn, 7);
	sa_c_set(sa_snapshot_port(whole, 22), SA_C_nic_syn, 1);
	whole->nic_unparsed = 3;

	part->gen = 2;
	part->nic_unparsed = 4;
	part->mib[0] = 9;
	sa_snapshot_add_listener(part, &l);
	part->listeners_read = true;
	ps = sa_snapshot_port(part, 80);
	sa_c_set(ps, SA_C_nic_syn, 6);
	drop = sa_port_drop(ps, NO_SOCKET);
	*drop = 6;
	sa_c_set(sa_snapshot_port(part, 8080), SA_C_tc_syn, 2);
	sa_portset_add(&ports, 80);
	sa_portset_add(&ports, 8080);
	sa_portset_add(&ports, 22);	/* read, and found nothing */
	whole->ports_gen = 1;
	sa_snapshot_merge(whole, part, &ports);

	is_int(n_ports(part), 0, "merge: the newer reading is left empty");
	ok(!part->listeners && !part->n_listeners, "merge: its listeners moved");
	is_int(n_ports(whole), 3, "merge: ports 80, 443 and 8080 (22 read, none)");
	ps = whole->port[80];
	ok(ps && sa_c(ps, SA_C_nic_syn) == 6 && sa_port_drop_get(ps, NO_SOCKET) == 6,
	   "merge: port 80 read again: its newer figures (%s)", ps ? counters_str(ps) : "none");
	ok(ps && &ps->drops[0].n == keep_drops, "merge: its drops kept their place");
	ok(whole->port[443] && sa_c(whole->port[443], SA_C_nic_syn) == 7,
	   "merge: port 443 not read: its figures stay");
	ok(whole->port[8080] && sa_c(whole->port[8080], SA_C_tc_syn) == 2,
	   "merge: port 8080 new: added");
	ok(whole->gen == 2 && whole->nic_unparsed == 4 && whole->mib[0] == 9 &&
	   whole->n_listeners == 1 && whole->listeners_read,
	   "merge: the figures without a port are the newer reading's");
	is_int(whole->ports_gen, 2, "merge: ports changed: ports_gen is the newer reading's");
	/* Port 80 read again, the same: ports_gen stays; then moved (8080,
	 * read and found with nothing, would go: a change). */
	memset(&ports, 0, sizeof(ports));
	sa_portset_add(&ports, 80);
	part->gen = 3;
	ps = sa_snapshot_port(part, 80);
	sa_c_set(ps, SA_C_nic_syn, 6);
	*sa_port_drop(ps, NO_SOCKET) = 6;
	sa_snapshot_merge(whole, part, &ports);
	is_int(whole->ports_gen, 2, "merge: the same figures read again: ports_gen stays");
	part->gen = 4;
	ps = sa_snapshot_port(part, 80);
	sa_c_set(ps, SA_C_nic_syn, 6);
	*sa_port_drop(ps, NO_SOCKET) = 7;
	sa_snapshot_merge(whole, part, &ports);
	is_int(whole->ports_gen, 4, "merge: a drop moved: ports_gen 4");
	sa_snapshot_free(whole);
	sa_snapshot_free(part);
}

/* An interval's difference borrows a new port's entry when it is that
 * entry as it is (a scan's ports), copies it otherwise; clearing the
 * difference leaves the borrowed entries to their reading (ASan: no
 * double free, no use after free below). */
static void diff_borrows(void)
{
	struct sa_snapshot *a = sa_snapshot_new(), *b = sa_snapshot_new(), *d = sa_snapshot_new();
	struct sa_port_stats *scan, *web, *old;

	if (!ok(a && b && d, "three snapshots"))
		goto out;
	b->gen = 1;
	a->gen = 2;
	scan = sa_snapshot_port(a, 9);
	sa_c_set(scan, SA_C_nic_syn, 1);
	*sa_port_drop(scan, NO_SOCKET) = 1;
	web = sa_snapshot_port(a, 80);
	sa_c_set(web, SA_C_established, 5);
	sa_port_gauges(web)->listeners = 1;
	sa_port_gauges(web)->accept_queue_len = 2;
	old = sa_snapshot_port(b, 22);
	sa_c_set(old, SA_C_nic_syn, 3);
	sa_c_set(sa_snapshot_port(a, 22), SA_C_nic_syn, 4);
	if (!ok(!sa_snapshot_diff_moved(d, a, b), "the difference"))
		goto out;
	ok(d->port[9] == a->port[9], "a new port with no listener: the reading's entry itself");
	ok(d->port[80] && d->port[80] != a->port[80] && d->port[80]->accepted == 3 &&
	   d->port[80]->gauges_moved, "a new listener's port: a copy, accepted 5 - 2, gauges moved");
	ok(d->port[22] && d->port[22] != a->port[22] && sa_c(d->port[22], SA_C_nic_syn) == 1,
	   "a port the older reading has: a copy, 4 - 3");
	sa_snapshot_clear(d);
	ok(!d->port[9] && a->port[9] && sa_c(a->port[9], SA_C_nic_syn) == 1 &&
	   sa_port_drop_get(a->port[9], NO_SOCKET) == 1,
	   "the difference cleared: the borrowed entry is still the reading's");
	/* Borrowed again, then not: a difference reused keeps no stale mark. */
	if (!sa_snapshot_diff_moved(d, a, b))
		sa_snapshot_clear(d);
	if (!sa_snapshot_diff(d, a, b))
		ok(d->port[9] && d->port[9] != a->port[9], "sa_snapshot_diff (a total) copies every port");
out:
	sa_snapshot_free(d);
	sa_snapshot_free(a);
	sa_snapshot_free(b);
}

/* The row "other" adds up every figure of the rows it stands for. */
static void stats_add(void)
{
	struct sa_port_stats a = { 0 }, b = { 0 }, sum = { 0 };
	int err = 0;

	sa_c_set(&a, SA_C_nic_syn, 3);
	sa_c_set(&a, SA_C_listener_syn, 2);
	*sa_port_drop(&a, NO_SOCKET) = 1;
	sa_port_gauges(&a)->listeners = 1;
	a.accepted = 2;
	sa_c_set(&b, SA_C_nic_syn, 4);
	*sa_port_drop(&b, NETFILTER_DROP) = 5;
	*sa_port_drop(&b, NO_SOCKET) = 2;
	b.accepted = -1;
	err = sa_port_stats_add(&sum, &a);
	if (!err)
		err = sa_port_stats_add(&sum, &b);
	ok(!err && sa_c(&sum, SA_C_nic_syn) == 7 && sa_c(&sum, SA_C_listener_syn) == 2 &&
	   sa_port_drop_get(&sum, NO_SOCKET) == 3 && sa_port_drop_get(&sum, NETFILTER_DROP) == 5 &&
	   sa_g(&sum)->listeners == 1 && sum.accepted == 1,
	   "sa_port_stats_add: counters, drops by reason, gauges and accepted add up (%s)",
	   counters_str(&sum));
	sa_port_stats_release(&a);
	sa_port_stats_release(&b);
	sa_port_stats_release(&sum);
}

/* Stage 0's figures: a difference matches interfaces and queue counters
 * by name and CPUs by id (a CPU or queue the older reading lacks counts
 * from 0); a merge takes the newer reading's. */
static void driver(void)
{
	struct sa_snapshot *a = sa_snapshot_new(), *b = sa_snapshot_new();
	struct sa_snapshot *d = sa_snapshot_new();
	struct sa_portset ports = { 0 };
	static const struct sa_softnet_cpu ca[] = { { 0, 110, 7 }, { 2, 50, 1 }, { 3, 9, 0 } };
	static const struct sa_softnet_cpu cb[] = { { 0, 100, 7 }, { 2, 20, 0 } };
	const struct sa_driver_iface *f;

	if (!ok(a && b && d, "three snapshots"))
		return;
	a->driver = (struct sa_driver){ .read = true, .n_ifaces = 2, .n_cpus = 3 };
	b->driver = (struct sa_driver){ .read = true, .n_ifaces = 1, .n_cpus = 2 };
	a->driver.cpu = malloc(sizeof(ca));
	b->driver.cpu = malloc(sizeof(cb));
	memcpy(a->driver.cpu, ca, sizeof(ca));
	memcpy(b->driver.cpu, cb, sizeof(cb));
	a->driver.iface[0] = (struct sa_driver_iface){ .name = "eth1", .rx_dropped = 9 };
	a->driver.iface[1] = (struct sa_driver_iface){ .name = "eth0", .rx_dropped = 40,
		.rx_missed_errors = 12, .rx_fifo_errors = 3, .n_q = 2,
		.q = { { "rx_queue_1_drops", 8 }, { "rx_queue_0_drops", 5 } } };
	b->driver.iface[0] = (struct sa_driver_iface){ .name = "eth0", .rx_dropped = 30,
		.rx_missed_errors = 2, .rx_fifo_errors = 3, .n_q = 1,
		.q = { { "rx_queue_0_drops", 1 } } };
	is_int(sa_snapshot_diff(d, a, b), 0, "driver: a difference");
	f = &d->driver.iface[1];
	ok(d->driver.read && d->driver.n_ifaces == 2 && !strcmp(f->name, "eth0") &&
	   f->rx_dropped == 10 && f->rx_missed_errors == 10 && f->rx_fifo_errors == 0 &&
	   f->n_q == 2 && f->q[0].n == 8 && f->q[1].n == 4,
	   "driver: eth0 by name: rx_dropped 10, missed 10, fifo 0, queues 8 (new) and 4");
	is_int(d->driver.iface[0].rx_dropped, 9, "driver: eth1, not in the older reading, from 0");
	is_int(sa_driver_queue_drops(f), 12, "driver: eth0's queue drops add up");
	ok(d->driver.n_cpus == 3 && d->driver.cpu[0].dropped == 10 &&
	   d->driver.cpu[1].cpu == 2 && d->driver.cpu[1].dropped == 30 &&
	   d->driver.cpu[1].time_squeeze == 1 && d->driver.cpu[2].dropped == 9,
	   "driver: CPUs by id (3 came online: from 0)");
	is_int(sa_softnet_dropped(&d->driver), 49, "driver: softnet dropped summed over the CPUs");
	is_int(sa_softnet_squeezed(&d->driver), 1, "driver: time_squeeze summed");
	ok(sa_driver_dropped(&d->driver), "driver: something was dropped");
	is_int(sa_snapshot_diff(d, a, a), 0, "driver: a reading against itself");
	ok(!sa_driver_dropped(&d->driver), "driver: ... nothing dropped");
	sa_snapshot_merge(b, a, &ports);
	ok(b->driver.n_cpus == 3 && b->driver.cpu[2].cpu == 3 && !a->driver.cpu &&
	   b->driver.iface[1].rx_dropped == 40,
	   "driver: a merge takes the newer reading's figures, its CPUs moved");
	sa_snapshot_free(a);
	sa_snapshot_free(b);
	sa_snapshot_free(d);
}

/* /proc/net/softnet_stat's lines as each kernel writes them. */
static void softnet_lines(void)
{
	static const struct {
		const char *line, *what;
		int cols;
		__u32 cpu, dropped, squeeze;
	} t[] = {
		{ "01e7a699 00046d1b 00000002 00000000 00000000 00000000 00000000 00000000 "
		  "00000000 00000000 00000000 00000000 00000003 00000000 00000000\n",
		  "6.12 and 6.18: 15 columns, the CPU's id in the 13th", 15, 3, 0x46d1b, 2 },
		{ "0000a000 00000010 00000020 00000000 00000000 00000000 00000000 00000000 "
		  "00000000 00000000 00000000 00000000 00000005\n",
		  "5.10-6.1: 13 columns", 13, 5, 0x10, 0x20 },
		{ "0000a000 ffffffff 00000001 00000000 00000000 00000000 00000000 00000000 "
		  "00000000 00000000 00000000\n",
		  "before 5.10: 11 columns, the line's number", 11, 7, 0xffffffff, 1 },
		{ "0000a000 00000001\n", "2 columns: not softnet_stat", -EPROTO, 0, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		__u32 cpu = 0, dropped = 0, squeeze = 0;
		int n = sa_softnet_parse(t[i].line, 7, &cpu, &dropped, &squeeze);

		ok(n == t[i].cols && (n < 0 || (cpu == t[i].cpu && dropped == t[i].dropped &&
					       squeeze == t[i].squeeze)),
		   "softnet_stat, %s: %d columns, cpu %u, dropped %u, time_squeeze %u", t[i].what,
		   n, cpu, dropped, squeeze);
	}
}

/* Queue age: the bucket each age and retransmission count lands in (on a
 * bound: that bucket), the accept queue head's jiffies into time at the
 * kernel's HZ, the port's oldest of its listeners, and the sum of ports. */
static void queue_age(void)
{
	struct sa_queue_age qa = {}, sum = {};
	struct sa_listener r = { .record = SA_REC_REQUEST };
	struct sa_listener l = { .record = SA_REC_LISTENER };

	r.half_open_age_us = 1000000;		/* on the 1 s bound */
	r.synack_retrans = 0;
	sa_queue_age_add_request(&qa, &r);
	r.half_open_age_us = 1000001;		/* just above */
	r.synack_retrans = 1;
	sa_queue_age_add_request(&qa, &r);
	r.half_open_age_us = 64000000;		/* past the last bound */
	r.synack_retrans = 6;
	sa_queue_age_add_request(&qa, &r);
	r.half_open_age_us = 0;			/* no SYN-ACK yet */
	r.synack_retrans = 5;
	sa_queue_age_add_request(&qa, &r);
	is_int(qa.half_open, 4, "queue age: 4 requests");
	is_int(qa.half_open_untimed, 1, "queue age: 1 untimed");
	ok(qa.half_open_age[0] == 1 && qa.half_open_age[1] == 1 && qa.half_open_age[6] == 1,
	   "queue age: 1 s in le=1, 1.000001 s in le=3, 64 s in +Inf");
	is_int(qa.half_open_age_sum_us, 66000001, "queue age: sum of the timed ages");
	ok(qa.half_open_retrans[0] == 1 && qa.half_open_retrans[1] == 1 &&
	   qa.half_open_retrans[5] == 1 && qa.half_open_retrans[6] == 1,
	   "queue age: retransmissions 0, 1, 5 in their buckets, 6 in +Inf");
	is_int(qa.half_open_retrans_sum, 12, "queue age: retransmissions summed");

	sa_queue_age_add_listener(&qa, &l, 0);
	is_int(qa.accept_queue_age_known, 0, "queue age: HZ unknown, accept queue age not measured");
	sa_queue_age_add_listener(&qa, &l, 250);
	ok(qa.accept_queue_age_known == 1 && qa.accept_queue_oldest_age_us == 0,
	   "queue age: an empty accept queue: known, 0");
	l.accept_queue_head = 1;
	l.accept_queue_oldest_jiffies = 2300;	/* 9.2 s at HZ 250 */
	sa_queue_age_add_listener(&qa, &l, 250);
	l.accept_queue_oldest_jiffies = 5;
	sa_queue_age_add_listener(&qa, &l, 250);
	is_int(qa.accept_queue_oldest_age_us, 9200000, "queue age: the oldest head of the port's listeners, 2300 jiffies at HZ 250");

	sa_queue_age_sum(&sum, &qa);
	sa_queue_age_sum(&sum, &qa);
	ok(sum.half_open == 8 && sum.half_open_age[6] == 2 && sum.half_open_retrans_sum == 24 &&
	   sum.accept_queue_oldest_age_us == 9200000 && sum.accept_queue_age_known == 1,
	   "queue age: ports summed, the oldest age their largest");
}

void suite_snapshot(void)
{
	queue_age();
	softnet_lines();
	driver();
	merge();
	stats_add();
	basics();
	diff();
	copy();
	nat();
	counts();
	out_of_memory();
	diff_borrows();
}
