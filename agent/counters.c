// SPDX-License-Identifier: GPL-2.0
/*
 * counters.c - the counter table of include/synacct.h as data for the
 * agent: names, stages, JSON keys, help.
 */
#include <stddef.h>
#include <string.h>
#include "counters.h"

#define SA_DEF(stage, name, group, key, help) \
	[SA_C_##name] = { #name, SA_STAGE_##stage, #group, #key, help },
const struct sa_counter_def sa_counters[SA_C_MAX] = {
	SA_COUNTERS(SA_DEF)
};
#undef SA_DEF

/* Each stage's counters are consecutive in the table, in struct order. */
#define SA_ONE(stage, name, group, key, help) +1
const unsigned int sa_stage_ncounters[SA_STAGE_MAX] = {
	[SA_STAGE_NIC] = 0 SA_NIC_COUNTERS(SA_ONE),
	[SA_STAGE_TC] = 0 SA_TC_COUNTERS(SA_ONE),
	[SA_STAGE_STACK] = 0 SA_STACK_COUNTERS(SA_ONE),
};

const enum sa_counter sa_stage_first[SA_STAGE_MAX] = {
	[SA_STAGE_NIC] = 0,
	[SA_STAGE_TC] = 0 SA_NIC_COUNTERS(SA_ONE),
	[SA_STAGE_STACK] = 0 SA_NIC_COUNTERS(SA_ONE) SA_TC_COUNTERS(SA_ONE),
};

_Static_assert(sizeof(struct sa_nic_counters) == (0 SA_NIC_COUNTERS(SA_ONE)) * sizeof(__u64),
	       "nic_counters: one __u64 per table row");
_Static_assert(sizeof(struct sa_tc_counters) == (0 SA_TC_COUNTERS(SA_ONE)) * sizeof(__u64),
	       "tc_counters: one __u64 per table row");
_Static_assert(sizeof(struct sa_stack_counters) == (0 SA_STACK_COUNTERS(SA_ONE)) * sizeof(__u64),
	       "stack_counters: one __u64 per table row");
_Static_assert((0 SA_COOKIE_MSS_COUNTERS(SA_ONE)) == SA_COOKIE_MSS_N,
	       "one syncookies_mss counter per msstab slot");
_Static_assert(offsetof(struct sa_stack_counters, syncookies_mss_7) -
	       offsetof(struct sa_stack_counters, syncookies_mss_0) ==
	       (SA_COOKIE_MSS_N - 1) * sizeof(__u64),
	       "syncookies_mss_* are consecutive (the BPF side indexes them)");
#undef SA_ONE

const char *const sa_stage_names[SA_STAGE_MAX] = {
	[SA_STAGE_NIC] = "nic",
	[SA_STAGE_TC] = "tc",
	[SA_STAGE_STACK] = "stack",
};

const char *sa_group_label(const char *group)
{
#define SA_LABEL(g, label, sparse) if (!strcmp(group, #g)) return #label;
	SA_GROUP_LABELS(SA_LABEL)
#undef SA_LABEL
	return NULL;
}

bool sa_group_sparse(const char *group)
{
#define SA_SPARSE(g, label, sparse) if (!strcmp(group, #g)) return sparse;
	SA_GROUP_LABELS(SA_SPARSE)
#undef SA_SPARSE
	return false;
}
