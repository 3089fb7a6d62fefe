// SPDX-License-Identifier: GPL-2.0
/*
 * reason_names.c - names of the kernel's drop reasons, as the stack stage
 * found them in BTF (kprobe/stack/stack.c: enum skb_drop_reason; kprobe/stack/reasons.c:
 * the subsystems' enums).  Plain C: the model and outputs name reasons
 * without linking libbpf.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "snapshot.h"

char *sa_reason_names[SA_MAX_REASONS];

const char *sa_reason_name(__u32 reason)
{
	static char buf[32];

	if (reason < SA_MAX_REASONS && sa_reason_names[reason])
		return sa_reason_names[reason];
	if (reason >= SA_MAX_REASONS)
		return sa_subsys_reason_name(reason);
	snprintf(buf, sizeof(buf), "REASON_%u", reason);
	return buf;
}

int sa_reason_id(const char *name)
{
	for (int i = 0; i < SA_MAX_REASONS; i++)
		if (sa_reason_names[i] && !strcmp(sa_reason_names[i], name))
			return i;
	return -1;
}

struct subsys_reason {
	__u32 val;
	char *name;
};

static struct subsys_reason *reasons;
static size_t n_reasons, cap_reasons;
static char *subsys_names[SA_SUBSYS_MAX];	/* by subsystem id, from vmlinux */

int sa_subsys_reason_add(__u32 val, const char *name)
{
	for (size_t i = 0; i < n_reasons; i++)
		if (reasons[i].val == val)
			return 0;
	if (n_reasons == cap_reasons) {
		size_t cap = cap_reasons ? cap_reasons * 2 : 64;
		void *v = reallocarray(reasons, cap, sizeof(*reasons));

		if (!v)
			return -ENOMEM;
		reasons = v;
		cap_reasons = cap;
	}
	reasons[n_reasons].name = strdup(name);
	if (!reasons[n_reasons].name)
		return -ENOMEM;
	reasons[n_reasons++].val = val;
	return 0;
}

void sa_subsys_name_set(__u32 id, const char *name)
{
	if (id >= SA_SUBSYS_MAX)
		return;
	free(subsys_names[id]);
	subsys_names[id] = strdup(name);
}

const char *sa_subsys_reason_name(__u32 reason)
{
	static char buf[64];
	__u32 sub = reason >> SA_SUBSYS_SHIFT;

	for (size_t i = 0; i < n_reasons; i++)
		if (reasons[i].val == reason)
			return reasons[i].name;
	if (sub < SA_SUBSYS_MAX && subsys_names[sub])
		snprintf(buf, sizeof(buf), "%s_%u", subsys_names[sub],
			 reason & ((1u << SA_SUBSYS_SHIFT) - 1));
	else
		snprintf(buf, sizeof(buf), "SUBSYS_%u_%u", sub,
			 reason & ((1u << SA_SUBSYS_SHIFT) - 1));
	return buf;
}
