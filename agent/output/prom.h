/* SPDX-License-Identifier: GPL-2.0 */
/*
 * prom.h - the /metrics page in the Prometheus text format: the totals
 * held in the BPF maps, per port, named from the counter table
 * (synacct_<JSON key>[_total]).  docs/metrics.md lists every family;
 * agent/output/http.h serves the page.
 */
#ifndef SYNACCT_PROM_H
#define SYNACCT_PROM_H

#include <stddef.h>
#include "report.h"

/* The page as last rendered, and the port labels it keeps from one
 * rendering to the next. */
struct sa_metrics;

/* Ports beyond the listening ones and --ports with a label of their own:
 * the first @top by SYNs.  NULL without memory. */
struct sa_metrics *sa_metrics_new(unsigned int top);
/* Render @abs (a reading of the maps: absolute totals) into the page;
 * @sel is --ports, @listeners the listening ports. */
int sa_metrics_update(struct sa_metrics *m, const struct sa_report_ctx *rc,
		      const struct sa_snapshot *abs, const struct sa_portset *sel,
		      const struct sa_portset *listeners);
/* Call @serve with the page as last rendered (NULL, 0 before the first)
 * under the lock the main loop swaps it under; its result is returned. */
int sa_metrics_with_page(struct sa_metrics *m,
			 int (*serve)(const char *page, size_t len, void *ctx), void *ctx);
/* A copy of the page as last rendered (free it), NULL before the first. */
char *sa_metrics_page(struct sa_metrics *m);
/* NULL is a no-op. */
void sa_metrics_free(struct sa_metrics *m);

#endif /* SYNACCT_PROM_H */
