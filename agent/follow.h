/* SPDX-License-Identifier: GPL-2.0 */
/*
 * follow.h - follow forwarded SYNs into the namespaces that receive them
 * on this host (a container's, behind a veth): find them, have the stack
 * programs count there (kprobe/follow.bpf.h), name them, and read the
 * listener's queues there.  Off with --no-follow.
 */
#ifndef SYNACCT_FOLLOW_H
#define SYNACCT_FOLLOW_H

#include <stdbool.h>
#include "snapshot.h"

struct sa_follow;

struct sa_stage_cfg;

/* @stack: the stack stage (kprobe/stack.c); @cfg as the stages were
 * given it.  Call in the watched namespace; the agent stays in it. */
int sa_follow_open(struct sa_follow **out, void *stack, const struct sa_stage_cfg *cfg);
/* Follow the namespaces behind this namespace's links that are not
 * followed yet (at most SA_MAX_FOLLOW); @gen: the reading that follows. */
int sa_follow_scan(struct sa_follow *f, unsigned long gen);
/* After a reading: name each port's namespace, and read the queues of
 * its listener there. */
int sa_follow_fill(struct sa_follow *f, struct sa_snapshot *snap);
/* How many namespaces are followed. */
int sa_follow_count(const struct sa_follow *f);
void sa_follow_close(struct sa_follow *f);

#endif /* SYNACCT_FOLLOW_H */
