// SPDX-License-Identifier: GPL-2.0
/*
 * snapshot.c - per-port snapshots of the BPF counter maps, and their
 * differences (interval = now - previous, total = now - start).  Plain
 * C: agent/sys/map_read.c and agent/sys/slot_read.c read the maps into them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "ports.h"
#include "snapshot.h"

void sa_port_stats_release(struct sa_port_stats *ps)
{
	free(ps->c.heap);
	free(ps->drops);
	free(ps->follow);
	free(ps->nat);
	free(ps->gauges);
	memset(ps, 0, sizeof(*ps));
}

struct sa_snapshot *sa_snapshot_new(void)
{
	return calloc(1, sizeof(struct sa_snapshot));
}

void sa_snapshot_clear(struct sa_snapshot *s)
{
	for (__u32 p = 0; p < SA_MAX_PORTS; p++) {
		if (!s->port[p])
			continue;
		if (!(s->borrowed[p / 64] & 1ULL << (p % 64))) {
			sa_port_stats_release(s->port[p]);
			free(s->port[p]);
		}
		s->port[p] = NULL;
	}
	memset(s->borrowed, 0, sizeof(s->borrowed));
	s->nic_unparsed = 0;
	s->tc_unparsed = 0;
	s->nic_update_failed = 0;
	s->tc_update_failed = 0;
	s->stack_update_failed = 0;
	s->missed_runs = 0;
	s->read_at = (struct timespec){ 0 };
	memset(s->mib, 0, sizeof(s->mib));
	free(s->listeners);
	s->listeners = NULL;
	s->n_listeners = 0;
	s->listeners_read = false;
	free(s->driver.cpu);
	memset(&s->driver, 0, sizeof(s->driver));
	s->ports_gen = 0;
}

int sa_softnet_parse(const char *line, __u32 nr, __u32 *cpu, __u32 *dropped,
		     __u32 *squeeze)
{
	unsigned long col[13];
	const char *p = line;
	char *end;
	int n = 0;

	for (;;) {
		unsigned long v = strtoul(p, &end, 16);

		if (end == p)
			break;
		if (n < (int)(sizeof(col) / sizeof(col[0])))
			col[n] = v;
		n++;
		p = end;
	}
	if (n < 3)
		return -EPROTO;
	*dropped = col[1];
	*squeeze = col[2];
	*cpu = n >= 13 ? (__u32)col[12] : nr;
	return n;
}

__u64 sa_softnet_dropped(const struct sa_driver *d)
{
	__u64 n = 0;

	for (__u32 i = 0; i < d->n_cpus; i++)
		n += d->cpu[i].dropped;
	return n;
}

__u64 sa_softnet_squeezed(const struct sa_driver *d)
{
	__u64 n = 0;

	for (__u32 i = 0; i < d->n_cpus; i++)
		n += d->cpu[i].time_squeeze;
	return n;
}

__u64 sa_driver_queue_drops(const struct sa_driver_iface *i)
{
	__u64 n = 0;

	for (int q = 0; q < i->n_q; q++)
		n += i->q[q].n;
	return n;
}

bool sa_driver_dropped(const struct sa_driver *d)
{
	if (sa_softnet_dropped(d))
		return true;
	for (int i = 0; i < d->n_ifaces; i++)
		if (d->iface[i].rx_dropped || d->iface[i].rx_missed_errors ||
		    d->iface[i].rx_fifo_errors || sa_driver_queue_drops(&d->iface[i]))
			return true;
	return false;
}

/* out = a - b.  An interface, a queue counter or a CPU @b does not have
 * (a CPU come online, a driver's new queue) counts from 0. */
static int driver_diff(struct sa_driver *out, const struct sa_driver *a,
		       const struct sa_driver *b)
{
	*out = *a;
	out->cpu = NULL;
	for (int i = 0; i < a->n_ifaces; i++) {
		const struct sa_driver_iface *ia = &a->iface[i], *ib = NULL;
		struct sa_driver_iface *io = &out->iface[i];

		for (int j = 0; j < b->n_ifaces && !ib; j++)
			if (!strcmp(b->iface[j].name, ia->name))
				ib = &b->iface[j];
		if (!ib)
			continue;
		io->rx_dropped -= ib->rx_dropped;
		io->rx_missed_errors -= ib->rx_missed_errors;
		io->rx_fifo_errors -= ib->rx_fifo_errors;
		for (int q = 0; q < io->n_q; q++)
			for (int j = 0; j < ib->n_q; j++)
				if (!strcmp(ib->q[j].name, io->q[q].name)) {
					io->q[q].n -= ib->q[j].n;
					break;
				}
	}
	if (!a->n_cpus)
		return 0;
	out->cpu = malloc(a->n_cpus * sizeof(*out->cpu));
	if (!out->cpu) {
		out->n_cpus = 0;
		return -ENOMEM;
	}
	for (__u32 c = 0; c < a->n_cpus; c++) {
		out->cpu[c] = a->cpu[c];
		for (__u32 j = 0; j < b->n_cpus; j++)
			if (b->cpu[j].cpu == a->cpu[c].cpu) {
				out->cpu[c].dropped -= b->cpu[j].dropped;
				out->cpu[c].time_squeeze -= b->cpu[j].time_squeeze;
				break;
			}
	}
	return 0;
}

void sa_gauges_add(struct sa_listener_gauges *g, const struct sa_listener *l)
{
	g->listeners++;
	g->syn_queue_len += l->syn_queue_len;
	g->accept_queue_len += l->accept_queue_len;
	g->accept_backlog += l->accept_backlog;
	g->listener_sk_drops += l->listener_sk_drops;
}

void sa_queue_age_add_listener(struct sa_queue_age *qa, const struct sa_listener *l,
			       unsigned int hz)
{
	__u64 us;

	if (!hz)
		return;
	qa->accept_queue_age_known = 1;
	if (!l->accept_queue_head)
		return;
	us = (__u64)l->accept_queue_oldest_jiffies * 1000000 / hz;
	if (us > qa->accept_queue_oldest_age_us)
		qa->accept_queue_oldest_age_us = us;
}

void sa_queue_age_add_request(struct sa_queue_age *qa, const struct sa_listener *r)
{
	static const __u64 age[] = SA_HALF_OPEN_AGE_BOUNDS;
	static const __u32 rt[] = SA_HALF_OPEN_RETRANS_BOUNDS;
	int i;

	qa->half_open++;
	for (i = 0; i < SA_HALF_OPEN_RETRANS_N - 1 && r->synack_retrans > rt[i]; i++)
		;
	qa->half_open_retrans[i]++;
	qa->half_open_retrans_sum += r->synack_retrans;
	if (!r->half_open_age_us) {
		qa->half_open_untimed++;
		return;
	}
	for (i = 0; i < SA_HALF_OPEN_AGE_N - 1 && r->half_open_age_us > age[i] * 1000000; i++)
		;
	qa->half_open_age[i]++;
	qa->half_open_age_sum_us += r->half_open_age_us;
}

void sa_queue_age_sum(struct sa_queue_age *sum, const struct sa_queue_age *qa)
{
	sum->accept_queue_age_known |= qa->accept_queue_age_known;
	if (qa->accept_queue_oldest_age_us > sum->accept_queue_oldest_age_us)
		sum->accept_queue_oldest_age_us = qa->accept_queue_oldest_age_us;
	sum->half_open += qa->half_open;
	sum->half_open_untimed += qa->half_open_untimed;
	for (int i = 0; i < SA_HALF_OPEN_AGE_N; i++)
		sum->half_open_age[i] += qa->half_open_age[i];
	sum->half_open_age_sum_us += qa->half_open_age_sum_us;
	for (int i = 0; i < SA_HALF_OPEN_RETRANS_N; i++)
		sum->half_open_retrans[i] += qa->half_open_retrans[i];
	sum->half_open_retrans_sum += qa->half_open_retrans_sum;
}

int sa_snapshot_add_listener(struct sa_snapshot *s, const struct sa_listener *l)
{
	struct sa_listener *v;

	v = realloc(s->listeners, (s->n_listeners + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	v[s->n_listeners++] = *l;
	s->listeners = v;
	return 0;
}

void sa_snapshot_free(struct sa_snapshot *s)
{
	if (!s)
		return;
	sa_snapshot_clear(s);
	free(s);
}

static const struct sa_port_stats sa_zero_stats;
const struct sa_port_follow sa_no_follow;
const struct sa_listener_gauges sa_no_gauges;

struct sa_listener_gauges *sa_port_gauges(struct sa_port_stats *ps)
{
	if (!ps->gauges)
		ps->gauges = calloc(1, sizeof(*ps->gauges));
	return ps->gauges;
}

struct sa_nat *sa_port_nat(struct sa_port_stats *ps)
{
	if (!ps->nat)
		ps->nat = calloc(1, sizeof(*ps->nat));
	return ps->nat;
}

struct sa_port_follow *sa_port_follow(struct sa_port_stats *ps)
{
	if (!ps->follow)
		ps->follow = calloc(1, sizeof(*ps->follow));
	return ps->follow;
}

const struct sa_port_stats *sa_snapshot_get(const struct sa_snapshot *s, __u32 port)
{
	return port < SA_MAX_PORTS && s->port[port] ? s->port[port] : &sa_zero_stats;
}

struct sa_port_stats *sa_snapshot_port(struct sa_snapshot *s, __u32 port)
{
	if (port >= SA_MAX_PORTS)
		return NULL;
	if (!s->port[port])
		s->port[port] = calloc(1, sizeof(struct sa_port_stats));
	return s->port[port];
}

_Static_assert(SA_C_MAX <= 64, "sa_counts.held has a bit per counter");

/* Room for @n held counters: inline, then a heap array of twice as many
 * each time.  The heap never shrinks, so it always holds at least
 * room(held) and needs no size of its own. */
static unsigned int room(unsigned int n)
{
	unsigned int r = SA_COUNTS_INLINE;

	while (r < n)
		r *= 2;
	return r < SA_C_MAX ? r : SA_C_MAX;
}

static int counts_grow(struct sa_counts *k)
{
	unsigned int n = sa_counts_n(k);
	__u64 *v;

	if (room(n + 1) == room(n) && (k->heap || n < SA_COUNTS_INLINE))
		return 0;
	v = realloc(k->heap, room(n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (!k->heap)
		memcpy(v, k->inl, sizeof(k->inl));
	k->heap = v;
	return 0;
}

int sa_c_set(struct sa_port_stats *ps, enum sa_counter c, __u64 val)
{
	struct sa_counts *k = &ps->c;
	__u64 bit = 1ULL << c, *v;
	unsigned int i = __builtin_popcountll(k->held & (bit - 1)), n = sa_counts_n(k);
	int err;

	if (k->held & bit) {
		v = k->heap ? k->heap : k->inl;
		if (val) {
			v[i] = val;
			return 0;
		}
		memmove(&v[i], &v[i + 1], (n - i - 1) * sizeof(*v));
		k->held &= ~bit;
		return 0;
	}
	if (!val)
		return 0;
	err = counts_grow(k);
	if (err)
		return err;
	v = k->heap ? k->heap : k->inl;
	memmove(&v[i + 1], &v[i], (n - i) * sizeof(*v));
	v[i] = val;
	k->held |= bit;
	return 0;
}

__u64 *sa_port_drop(struct sa_port_stats *ps, __u32 reason)
{
	struct sa_drop_count *v;

	for (__u32 i = 0; i < ps->n_drops; i++)
		if (ps->drops[i].reason == reason)
			return &ps->drops[i].n;
	v = realloc(ps->drops, (ps->n_drops + 1) * sizeof(*v));
	if (!v)
		return NULL;
	ps->drops = v;
	v[ps->n_drops] = (struct sa_drop_count){ .reason = reason };
	return &v[ps->n_drops++].n;
}

__u64 sa_port_drop_get(const struct sa_port_stats *ps, __u32 reason)
{
	for (__u32 i = 0; i < ps->n_drops; i++)
		if (ps->drops[i].reason == reason)
			return ps->drops[i].n;
	return 0;
}

bool sa_port_stats_zero(const struct sa_port_stats *ps)
{
	if (ps->c.held)
		return false;
	for (__u32 i = 0; i < ps->n_drops; i++)
		if (ps->drops[i].n)
			return false;
	return true;
}

int sa_port_stats_add(struct sa_port_stats *sum, const struct sa_port_stats *ps)
{
	for (__u64 held = ps->c.held; held; held &= held - 1)
		if (sa_c_add(sum, __builtin_ctzll(held), sa_c(ps, __builtin_ctzll(held))))
			return -ENOMEM;
	for (__u32 i = 0; i < ps->n_drops; i++) {
		__u64 *n = sa_port_drop(sum, ps->drops[i].reason);

		if (!n)
			return -ENOMEM;
		*n += ps->drops[i].n;
	}
	if (ps->gauges) {
		struct sa_listener_gauges *g = sa_port_gauges(sum);

		if (!g)
			return -ENOMEM;
#define SA_GAUGE_ADD(name, help) g->name += ps->gauges->name;
		SA_GAUGES(SA_GAUGE_ADD)
#undef SA_GAUGE_ADD
		sa_queue_age_sum(&g->qa, &ps->gauges->qa);
	}
	sum->accepted += ps->accepted;
	return 0;
}

/* One port of a difference: counters and drops subtract, gauges are the
 * newer reading. */
static int port_diff(struct sa_port_stats *po, const struct sa_port_stats *pa,
		     const struct sa_port_stats *pb, unsigned long b_gen)
{
	__u64 held = pa->c.held | (pb ? pb->c.held : 0);

	/* In counter order: each set appends. */
	for (; held; held &= held - 1) {
		enum sa_counter c = __builtin_ctzll(held);

		if (sa_c_set(po, c, sa_c(pa, c) - (pb ? sa_c(pb, c) : 0)))
			return -ENOMEM;
	}
	for (__u32 i = 0; i < pa->n_drops; i++) {
		__u64 *n = sa_port_drop(po, pa->drops[i].reason);

		if (!n)
			return -ENOMEM;
		*n = pa->drops[i].n -
		     (pb ? sa_port_drop_get(pb, pa->drops[i].reason) : 0);
	}
	/* accepted is what left the accept queue: what entered it minus
	 * its growth. */
	if (pa->gauges) {
		if (!sa_port_gauges(po))
			return -ENOMEM;
		*po->gauges = *pa->gauges;
	}
	po->gauges_moved = pb ? memcmp(sa_g(pa), sa_g(pb), sizeof(*sa_g(pa))) != 0 :
				sa_g(pa)->listeners != 0;
	if (pa->nat) {
		if (!sa_port_nat(po))
			return -ENOMEM;
		*po->nat = *pa->nat;
	}
	po->gauges_lent = pa->gauges_lent;
	po->fwd_ifindex = pa->fwd_ifindex;
	if (pa->follow) {
		struct sa_port_follow *fo = sa_port_follow(po);

		if (!fo)
			return -ENOMEM;
		*fo = *pa->follow;
		fo->whole = fo->cookie && fo->since && fo->since <= b_gen;
		fo->accepted = (__s64)sa_c(po, SA_C_ct_established) -
			       ((__s64)fo->cg.accept_queue_len -
				(__s64)sa_follow_of(pb ? pb : &sa_zero_stats)->cg.accept_queue_len);
	}
	po->accepted = (__s64)sa_c(po, SA_C_established) -
		       ((__s64)sa_g(pa)->accept_queue_len -
			(pb ? (__s64)sa_g(pb)->accept_queue_len : 0));
	if (pa->gauges_lent)
		po->accepted = (__s64)sa_c(po, SA_C_established);
	return 0;
}

/* Did anything of the port change from @pb to @pa: a counter, a drop, a
 * gauge? */
static bool port_moved(const struct sa_port_stats *pa, const struct sa_port_stats *pb)
{
	if (!pb)
		return !sa_port_stats_zero(pa) || sa_g(pa)->listeners;
	/* Held means not zero: equal counters hold the same set. */
	if (pa->c.held != pb->c.held ||
	    memcmp(sa_counts_vals(&pa->c), sa_counts_vals(&pb->c), sa_counts_n(&pa->c) * sizeof(__u64)) ||
	    memcmp(sa_g(pa), sa_g(pb), sizeof(*sa_g(pa))))
		return true;
	for (__u32 i = 0; i < pa->n_drops; i++)
		if (pa->drops[i].n != sa_port_drop_get(pb, pa->drops[i].reason))
			return true;
	return false;
}

/* Is the difference of @pa and no older entry @pa as it is (port_diff's
 * derived figures what @pa holds)? */
static bool diff_is_self(const struct sa_port_stats *pa)
{
	__s64 established = (__s64)sa_c(pa, SA_C_established);
	__s64 accepted = pa->gauges_lent ? established :
			 established - (__s64)sa_g(pa)->accept_queue_len;

	return !pa->follow && pa->accepted == accepted &&
	       pa->gauges_moved == (sa_g(pa)->listeners != 0);
}

static int snapshot_diff(struct sa_snapshot *out, const struct sa_snapshot *a,
			 const struct sa_snapshot *b, bool moved_only)
{
	int err = 0;

	sa_snapshot_clear(out);
	for (__u32 p = 0; p < SA_MAX_PORTS && !err; p++) {
		struct sa_port_stats *po;

		if (!a->port[p] || (moved_only && !port_moved(a->port[p], b->port[p])))
			continue;
		/* A scan's thousands of new ports: borrowed, not copied (the
		 * reading, the difference and the record would otherwise
		 * hold each at once: most of the peak of memory). */
		if (moved_only && !b->port[p] && diff_is_self(a->port[p])) {
			out->port[p] = a->port[p];
			out->borrowed[p / 64] |= 1ULL << (p % 64);
			continue;
		}
		po = sa_snapshot_port(out, p);
		err = po ? port_diff(po, a->port[p], b->port[p], b->gen) : -ENOMEM;
	}
	out->nic_unparsed = a->nic_unparsed - b->nic_unparsed;
	out->tc_unparsed = a->tc_unparsed - b->tc_unparsed;
	out->nic_update_failed = a->nic_update_failed - b->nic_update_failed;
	out->tc_update_failed = a->tc_update_failed - b->tc_update_failed;
	out->stack_update_failed = a->stack_update_failed - b->stack_update_failed;
	out->missed_runs = a->missed_runs - b->missed_runs;
	for (int i = 0; i < SA_MIB_MAX; i++)
		out->mib[i] = a->mib[i] - b->mib[i];
	out->tcp_syncookies = a->tcp_syncookies;
	out->gen = a->gen;
	out->read_at = a->read_at;
	out->listeners_read = a->listeners_read;
	if (!err)
		err = driver_diff(&out->driver, &a->driver, &b->driver);
	for (size_t i = 0; i < a->n_listeners && !err; i++)
		err = sa_snapshot_add_listener(out, &a->listeners[i]);
	if (err)
		sa_snapshot_clear(out);
	return err;
}

int sa_snapshot_diff(struct sa_snapshot *out, const struct sa_snapshot *a,
		     const struct sa_snapshot *b)
{
	return snapshot_diff(out, a, b, false);
}

int sa_snapshot_diff_moved(struct sa_snapshot *out, const struct sa_snapshot *a,
			   const struct sa_snapshot *b)
{
	return snapshot_diff(out, a, b, true);
}

int sa_snapshot_copy(struct sa_snapshot *dst, const struct sa_snapshot *src)
{
	static const struct sa_snapshot empty;

	return sa_snapshot_diff(dst, src, &empty);
}

void sa_snapshot_merge(struct sa_snapshot *into, struct sa_snapshot *from,
		       const struct sa_portset *ports)
{
	bool changed = false;

	sa_portset_for_each(ports, p) {
		struct sa_port_stats *d = into->port[p], *n = from->port[p], old;

		changed = changed || (d && n ? port_moved(n, d) || n->gauges_lent != d->gauges_lent ||
				      n->fwd_ifindex != d->fwd_ifindex ||
				      !!n->nat != !!d->nat || !!n->follow != !!d->follow ||
				      (n->nat && memcmp(n->nat, d->nat, sizeof(*n->nat))) ||
				      (n->follow && memcmp(n->follow, d->follow, sizeof(*n->follow))) :
				      d != n);
		if (!d || !n) {
			if (d)
				sa_port_stats_release(d);
			free(d);
			into->port[p] = n;
			from->port[p] = NULL;
			continue;
		}
		/* Into the older entry's memory, and its drops' when they are
		 * as many: a port read again keeps its place, so that the
		 * heap does not fragment (a scan's ports are each read twice). */
		old = *d;
		*d = *n;
		if (old.drops && old.n_drops == n->n_drops) {
			memcpy(old.drops, n->drops, n->n_drops * sizeof(*n->drops));
			d->drops = old.drops;
			old.drops = n->drops;
		}
		sa_port_stats_release(&old);
		free(n);
		from->port[p] = NULL;
	}
	if (changed && into->ports_gen)
		into->ports_gen = from->gen;
	into->gen = from->gen;
	into->read_at = from->read_at;
	into->nic_unparsed = from->nic_unparsed;
	into->tc_unparsed = from->tc_unparsed;
	into->nic_update_failed = from->nic_update_failed;
	into->tc_update_failed = from->tc_update_failed;
	into->stack_update_failed = from->stack_update_failed;
	into->missed_runs = from->missed_runs;
	memcpy(into->mib, from->mib, sizeof(into->mib));
	into->tcp_syncookies = from->tcp_syncookies;
	free(into->listeners);
	into->listeners = from->listeners;
	into->n_listeners = from->n_listeners;
	into->listeners_read = from->listeners_read;
	from->listeners = NULL;
	from->n_listeners = 0;
	free(into->driver.cpu);
	into->driver = from->driver;
	from->driver.cpu = NULL;
	from->driver.n_cpus = 0;
	/* Anything @from holds beyond @ports (none when read as said). */
	sa_snapshot_clear(from);
}

int sa_port_seed_drops(struct sa_port_stats *ps, const struct sa_port_stats *last)
{
	for (__u32 i = 0; i < last->n_drops; i++)
		if (!sa_port_drop(ps, last->drops[i].reason))
			return -ENOMEM;
	return 0;
}
