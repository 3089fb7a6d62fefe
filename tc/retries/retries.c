// SPDX-License-Identifier: GPL-2.0
/*
 * retries.c - the retries stage: what the clients saw.  A SYN at TC
 * ingress that repeats an earlier SYN's (saddr, daddr, sport, dport, ISN)
 * is the client's retransmission of it; it is counted per destination
 * port by attempt (1, 2, 3+) and by what became of the attempt before it
 * (include/bpf/retries.h, docs/design.md "Client retries").
 *
 * Why a folder under tc/ with no program of its own: a retry is found
 * where SYNs are parsed at TC ingress, and an answer where SYN-ACKs are
 * at TC egress; the TC programs include this stage's part
 * (retries.bpf.h), so no SYN or SYN-ACK is parsed twice, and the stack's
 * drop and listener programs, which see the skb already, write a SYN's
 * fate into the same table.  A program of its own on those hooks would
 * parse every SYN again, and one on kfree_skb or consume_skb would run for
 * every skb the host frees.  The maps are the TC object's (they are
 * pinned and attached with it), shared through the registry
 * (SA_SHARE_RETRIES); this stage reads them, and is off when TC is.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "log.h"
#include "snapshot.h"
#include "stage.h"
#include "slot_read.h"

struct retries_stage {
	struct sa_slot_fds f;
};

static int retries_prereq(const struct sa_stage_cfg *cfg, char *why, size_t len)
{
	(void)cfg;
	if (!sa_registry_get(SA_SHARE_RETRIES)) {
		snprintf(why, len, "client retries are found by the TC programs, which are off");
		return -ENOENT;
	}
	return 0;
}

static int retries_open(void **out, const struct sa_stage_cfg *cfg)
{
	const struct sa_retries_maps *m = sa_registry_get(SA_SHARE_RETRIES);
	struct retries_stage *st;

	(void)cfg;
	if (!m)
		return -ENOENT;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->f = (struct sa_slot_fds){ m->slot, m->port, m->vals, m->more };
	*out = st;
	return 0;
}

static int retries_attach(void *priv, const struct sa_stage_cfg *cfg)
{
	(void)priv;
	(void)cfg;
	return 0;	/* in the TC programs (tc/tc.c attaches them) */
}

static int retries_read(void *priv, struct sa_snapshot *snap)
{
	struct retries_stage *st = priv;

	return sa_read_slot_maps(&st->f, SA_STAGE_RETRIES, snap);
}

static int retries_read_port(void *priv, __u32 port, struct sa_port_stats *ps)
{
	struct retries_stage *st = priv;

	return sa_read_slot_entry(&st->f, SA_STAGE_RETRIES, port, ps);
}

/* The ports are marked in the TC object's ports_touched: the TC stage
 * takes the marks, every stage reads them. */
static int retries_read_ports(void *priv, struct sa_snapshot *snap,
			      const struct sa_snapshot *last, struct sa_portset *ports)
{
	struct retries_stage *st = priv;

	(void)last;
	return sa_read_slot_ports(&st->f, -1, SA_STAGE_RETRIES, snap, ports);
}

static int retries_health(void *priv, struct sa_stage_health *h)
{
	(void)priv;
	/* Its hooks are TC's, checked and reported by the TC stage. */
	h->attached = true;
	snprintf(h->detail, sizeof(h->detail), "in the TC programs; retry table of %u slots",
		 SA_RETRY_TABLE);
	return 0;
}

static void retries_close(void *priv)
{
	free(priv);
}

const struct sa_stage_ops sa_retries_stage = {
	.name = "retries",
	.measures = 1u << SA_STAGE_RETRIES,
	.prereq = retries_prereq,
	.optional = true,
	.open = retries_open,
	.attach = retries_attach,
	.read = retries_read,
	.read_port = retries_read_port,
	.read_ports = retries_read_ports,
	.health = retries_health,
	.close = retries_close,
};
