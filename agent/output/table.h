/* SPDX-License-Identifier: GPL-2.0 */
/*
 * table.h - the table people read: a row per port in funnel order, sized
 * to the terminal, what does not fit folded under the row.
 */
#ifndef SYNACCT_TABLE_H
#define SYNACCT_TABLE_H

#include "report.h"

/* Terminal width and height of stdout, 0 when it is not a terminal. */
void sa_term_size(int *cols, int *rows);
void sa_table_live(const struct sa_report_ctx *rc, const struct sa_view *v,
		   double elapsed_s);
void sa_table_summary(const struct sa_report_ctx *rc, const struct sa_view *v,
		      double elapsed_s);

#endif /* SYNACCT_TABLE_H */
