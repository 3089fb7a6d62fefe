/* SPDX-License-Identifier: GPL-2.0 */
/*
 * health.h - what a run does when a hook it attached is gone or another
 * tool's (agent/cmd/health.c): each stage checks its own hooks (its health
 * op); the run says so once and takes the stage out of reconciliation.
 */
#ifndef SYNACCT_HEALTH_H
#define SYNACCT_HEALTH_H

#include <stdbool.h>
#include <net/if.h>
#include "report.h"
#include "stage.h"

struct sa_report_ctx;

/* The hooks lost so far, one group per stage and interface. */
struct sa_lost_group {
	const char *stage;
	char iface[IF_NAMESIZE];
	char hooks[64];		/* "tc_ingress, tc_egress" */
	char time[64];		/* ISO 8601, UTC: when synacct found it */
	struct sa_hook_loss first;	/* the first hook's reason */
};

struct sa_health {
	struct sa_lost_group lost[SA_MAX_STAGES * SA_MAX_IFACES];
	int n_lost;
	char sentence[512];	/* for the verdicts (sa_measured.lost) */
	/* The run's hooks but those lost: the records' "hooks". */
	bool iface_gone;	/* an interface left the namespace: the run ends */
	/* Each stage with hooks on the interfaces, per interface. */
	struct sa_stage_up up[SA_MAX_STAGES * SA_MAX_IFACES];
};

/* The stages with hooks on @cfg's interfaces, all up (@rc->stage_up). */
void sa_health_init(struct sa_health *h, const struct sa_run *r,
		    const struct sa_stage_cfg *cfg, struct sa_report_ctx *rc);

/*
 * Every stage checks its hooks (its health op).  A hook newly lost is
 * said once: a line on stderr and, with @records, a JSON "stage" record;
 * its stage's figures leave reconciliation from now on (@rc->m, with
 * @rc->hooks and @rc->m.lost).  An interface gone from the namespace is
 * one line for all its stages.  -ENODEV once an interface is gone.
 */
int sa_health_check(struct sa_health *h, struct sa_run *r,
		    struct sa_report_ctx *rc, bool records);

#endif /* SYNACCT_HEALTH_H */
