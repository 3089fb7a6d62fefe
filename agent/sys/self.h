/* SPDX-License-Identifier: GPL-2.0 */
/*
 * self.h - what synacct itself costs, read from /proc/self (agent/sys/self.c)
 * for the metrics page's process_* families, the ones every Prometheus
 * exporter serves (docs/metrics.md).
 */
#ifndef SYNACCT_SELF_H
#define SYNACCT_SELF_H

#include "snapshot.h"

/* 0, or -errno when /proc/self could not be read (@s unchanged). */
int sa_self_read(struct sa_self *s);

#endif /* SYNACCT_SELF_H */
