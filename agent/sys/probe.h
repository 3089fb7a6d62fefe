/* SPDX-License-Identifier: GPL-2.0 */
/*
 * probe.h - questions to the running kernel that decide which hooks a
 * stage uses (agent/sys/probe.c); each answers "no" when it cannot tell.
 */
#ifndef SYNACCT_PROBE_H
#define SYNACCT_PROBE_H

#include <stdbool.h>
#include <linux/types.h>

struct btf;

/* [start, end) of kernel functions @name[0..n) from /proc/kallsyms;
 * 0, 0 for one not found or hidden (kptr_restrict). */
void sa_kallsyms_ranges(const char *const *name, int n, __u64 *start, __u64 *end);
/* Does /proc/kallsyms show this process zeros for addresses?  The kernel
 * hides them from a process without CAP_SYSLOG (kptr_restrict, or
 * perf_event_paranoid above 1 with kptr_restrict 0). */
bool sa_kallsyms_hidden(void);
/* Arguments of tracepoint @tp in @btf, or -1 when the kernel lacks it. */
int sa_tp_nargs(const struct btf *btf, const char *tp);
/* Value of enumerator @name in any enum of @btf, or -1. */
long long sa_btf_enum_value(const struct btf *btf, const char *name);
/* Does this kernel load an fexit program on @func (not under lockdown,
 * with BPF trampolines)? */
bool sa_fexit_can_load(const char *func);
/* Does it have kprobes?  @listed: the function is in kallsyms. */
bool sa_kprobe_can_attach(bool listed);

#endif /* SYNACCT_PROBE_H */
