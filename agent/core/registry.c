// SPDX-License-Identifier: GPL-2.0
/*
 * registry.c - the stages, in their order.  Adding a stage is its folder
 * and one line of sa_stages[]; what goes through all of them is
 * agent/cmd/stages.c.
 */
#include "stage.h"

extern const struct sa_stage_ops sa_driver_stage;	/* xdp/driver/driver.c */
extern const struct sa_stage_ops sa_nic_stage;		/* xdp/nic.c */
extern const struct sa_stage_ops sa_tc_stage;		/* tc/tc.c */
extern const struct sa_stage_ops sa_retries_stage;	/* tc/retries/retries.c */
extern const struct sa_stage_ops sa_stack_stage;	/* kprobe/stack/stack.c */
extern const struct sa_stage_ops sa_listener_stage;	/* kprobe/listeners/listeners.c */
extern const struct sa_stage_ops sa_container_stage;	/* kprobe/container/follow.c */

/*
 * Along the SYN's path: the driver's ring and the per-CPU backlog hold
 * it first (stage 0: their own drop counters, no hook), then XDP sees
 * it, then TC, the TCP stack, the listener, and the namespace it is
 * forwarded to.  Opened and attached
 * in this order, because each stage may need what one before it shares:
 * TC egress's SYN-ACK maps are the stack's to count into (open), and the
 * stack's follow control is the container stage's, whose first namespace
 * is primed through the stack's attached programs (attach).  Read in the
 * opposite order (sa_run_read), so the listeners' gauges are there when
 * the stack lends a local listener's to its NATed port; closed in the
 * opposite order too, each before what it used.
 */
const struct sa_stage_ops *const sa_stages[] = {
	&sa_driver_stage,
	&sa_nic_stage,
	&sa_tc_stage,
	&sa_retries_stage,	/* in TC's programs; the stack writes fates to its table */
	&sa_stack_stage,
	&sa_listener_stage,
	&sa_container_stage,
};
const int sa_n_stages = sizeof(sa_stages) / sizeof(sa_stages[0]);

_Static_assert(sizeof(sa_stages) / sizeof(sa_stages[0]) <= SA_MAX_STAGES,
	       "struct sa_run holds every stage");
