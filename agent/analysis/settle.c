// SPDX-License-Identifier: GPL-2.0
/*
 * settle.c - SYNs in flight are not SYNs lost.
 *
 * A reading is taken downstream first (registry.c): a SYN between two hooks
 * at that moment can only make an upstream count larger: every gap of the
 * funnel is its lasting part (loss no hook explains) plus SYNs in flight.
 * Hooks run in softirq, but SYNs also wait in queues between them: list
 * receive runs TC ingress for a batch before IP sees any of it, a busy
 * listener's socket backlog, the per-CPU backlog.  So a gap seen once
 * proves nothing; a gap that is still there when the port is read again a
 * moment later has lasted.  The smallest of a few re-readings is the
 * lasting part (losses only grow, SYNs in flight come and go); the rest
 * was in flight, and is moved into the next reading by taking it off the
 * upstream figures, so that every record's equations close.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "settle.h"

/* Re-readings of a port whose gaps moved: the first after a softirq's
 * batch, then twice as far apart each time, up to 4 ms (about 50 ms in
 * all).  Under a steady flood some SYN may be in flight at any moment:
 * on a slow machine (QEMU TCG, where a SYN takes a hundred microseconds
 * from hook to hook) a few readings close together can all catch one,
 * readings spread out are far less likely to.  A port whose gap closes
 * is done at once: only a lasting loss costs all the rounds. */
#define SA_SETTLE_ROUNDS	16
#define SA_SETTLE_SPACING_NS	500000
#define SA_SETTLE_SPACING_MAX_NS 4000000

/* The gaps of sa_gaps[] that have an upstream counter to take SYNs in
 * flight off; the others are left as they are read. */
struct gaps {
	__s64 g[SA_GAP_MAX];
};

static bool settled(enum sa_gap g)
{
	return sa_gaps[g].upstream >= 0;
}

static void gaps_of(const struct sa_port_stats *ps, struct sa_measured m,
		    struct gaps *out)
{
	struct sa_port_view v = { 0 };

	sa_reconcile_gaps(ps, m, &v);
	for (int g = 0; g < SA_GAP_MAX; g++)
		out->g[g] = settled(g) ? v.gap[g] : 0;
}

struct unsettled {
	__u32 port;
	struct gaps before;	/* in @prev: what has lasted so far */
	struct gaps seen;	/* in @cur */
	struct gaps least;	/* the smallest re-reading */
	bool done;
};

/* A scratch copy of @ps's drop reasons, at 0, for a re-reading. */
static int reread_port(const struct sa_port_stats *ps, __u32 port,
		       sa_reread_fn reread, void *ctx, struct sa_port_stats *tmp)
{
	memset(tmp, 0, sizeof(*tmp));
	/* Which gaps the port has (a followed namespace's): shared, read
	 * only. */
	tmp->follow = ps->follow;
	for (__u32 i = 0; i < ps->n_drops; i++)
		if (!sa_port_drop(tmp, ps->drops[i].reason))
			return -ENOMEM;
	return reread(ctx, port, tmp);
}

/* Take @x in-flight SYNs off counter @c, never below the previous
 * reading (a count never goes backwards). */
static void take_off(struct sa_port_stats *ps, const struct sa_port_stats *before,
		     enum sa_counter c, __s64 x)
{
	__u64 floor = before ? sa_c(before, c) : 0, now = sa_c(ps, c);

	if (x <= 0)
		return;
	/* Never more than it held: no room is ever needed. */
	(void)sa_c_set(ps, c, now - floor > (__u64)x ? now - x : floor);
}

static void settle_port(struct sa_snapshot *cur, const struct sa_snapshot *prev,
			struct sa_measured m, const struct unsettled *u,
			struct sa_portset *again)
{
	struct sa_port_stats *ps = cur->port[u->port];
	const struct sa_port_stats *before = prev->port[u->port];
	__s64 x[SA_C_MAX] = { 0 };

	/* A SYN in flight across a gap was counted by the gap's upstream
	 * counter and by every one above it: the upstream counters of the
	 * gaps it crossed before (a SYN-ACK counted at TC egress before its
	 * SYN's verdict is a gap of its own).  XDP's only when attached. */
	for (int g = 0; g < SA_GAP_MAX; g++)
		for (int h = g; h >= 0 && settled(h); h = sa_gap_before(h))
			if (sa_gaps[h].stage != SA_STAGE_NIC || m.nic)
				x[sa_gaps[h].upstream] += u->seen.g[g] - u->least.g[g];
	for (int c = 0; c < SA_C_MAX; c++)
		take_off(ps, before, c, x[c]);
	/* What was taken off is counted when the port is read next. */
	for (int c = 0; c < SA_C_MAX; c++)
		if (x[c] > 0)
			sa_portset_add(again, u->port);
}

static void nap(long ns)
{
	struct timespec ts = { 0, ns };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int sa_settle(struct sa_snapshot *cur, const struct sa_snapshot *prev,
	      struct sa_measured m, sa_reread_fn reread, void *ctx,
	      struct sa_portset *again)
{
	struct unsettled *u = NULL, *v;
	size_t n = 0, left;
	struct sa_port_stats tmp = { 0 };
	int err = 0;

	for (__u32 p = 0; p < SA_MAX_PORTS; p++) {
		struct gaps before, seen;

		if (!cur->port[p])
			continue;
		gaps_of(sa_snapshot_get(prev, p), m, &before);
		gaps_of(cur->port[p], m, &seen);
		if (!memcmp(&before, &seen, sizeof(seen)))
			continue;
		v = realloc(u, (n + 1) * sizeof(*u));
		if (!v) {
			err = -ENOMEM;
			goto cleanup;
		}
		u = v;
		u[n++] = (struct unsettled){ .port = p, .before = before,
					     .seen = seen, .least = seen };
	}

	left = n;
	for (int round = 0; round < SA_SETTLE_ROUNDS && left; round++) {
		long spacing = SA_SETTLE_SPACING_NS << (round < 3 ? round : 3);

		nap(spacing < SA_SETTLE_SPACING_MAX_NS ? spacing : SA_SETTLE_SPACING_MAX_NS);
		for (size_t i = 0; i < n; i++) {
			struct gaps again;

			if (u[i].done)
				continue;
			err = reread_port(cur->port[u[i].port], u[i].port, reread, ctx, &tmp);
			if (!err)
				gaps_of(&tmp, m, &again);
			tmp.follow = NULL;	/* the port's, lent */
			sa_port_stats_release(&tmp);
			if (err)
				goto cleanup;
			for (int j = 0; j < SA_GAP_MAX; j++)
				if (again.g[j] < u[i].least.g[j])
					u[i].least.g[j] = again.g[j];
			/* SYNs lost never come back: a SYN gap below what had
			 * lasted is a hook caught between two increments. */
			for (int j = 0; j < SA_GAP_MAX; j++)
				if (!sa_gaps[j].synack &&
				    u[i].least.g[j] < u[i].before.g[j] &&
				    u[i].seen.g[j] >= u[i].before.g[j])
					u[i].least.g[j] = u[i].before.g[j];
			/* Back to what had lasted before: nothing new lasts. */
			if (!memcmp(&u[i].least, &u[i].before, sizeof(u[i].least))) {
				u[i].done = true;
				left--;
			}
		}
	}
	for (size_t i = 0; i < n; i++)
		settle_port(cur, prev, m, &u[i], again);
	err = n;
cleanup:
	free(u);
	return err;
}
