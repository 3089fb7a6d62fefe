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
	[SA_STAGE_CONTAINER] = 0 SA_CONTAINER_COUNTERS(SA_ONE),
	[SA_STAGE_LOST] = 0 SA_LOST_COUNTERS(SA_ONE),
	[SA_STAGE_RETRIES] = 0 SA_RETRY_COUNTERS(SA_ONE),
};

const enum sa_counter sa_stage_first[SA_STAGE_MAX] = {
	[SA_STAGE_NIC] = 0,
	[SA_STAGE_TC] = 0 SA_NIC_COUNTERS(SA_ONE),
	[SA_STAGE_STACK] = 0 SA_NIC_COUNTERS(SA_ONE) SA_TC_COUNTERS(SA_ONE),
	[SA_STAGE_CONTAINER] = 0 SA_NIC_COUNTERS(SA_ONE) SA_TC_COUNTERS(SA_ONE)
			       SA_STACK_COUNTERS(SA_ONE),
	[SA_STAGE_LOST] = 0 SA_NIC_COUNTERS(SA_ONE) SA_TC_COUNTERS(SA_ONE)
			  SA_STACK_COUNTERS(SA_ONE) SA_CONTAINER_COUNTERS(SA_ONE),
	[SA_STAGE_RETRIES] = 0 SA_NIC_COUNTERS(SA_ONE) SA_TC_COUNTERS(SA_ONE)
			     SA_STACK_COUNTERS(SA_ONE) SA_CONTAINER_COUNTERS(SA_ONE)
			     SA_LOST_COUNTERS(SA_ONE),
};

_Static_assert(sizeof(struct sa_nic_counters) == (0 SA_NIC_COUNTERS(SA_ONE)) * sizeof(__u64),
	       "nic_counters: one __u64 per table row");
_Static_assert(sizeof(struct sa_tc_counters) == (0 SA_TC_COUNTERS(SA_ONE)) * sizeof(__u64),
	       "tc_counters: one __u64 per table row");
_Static_assert(sizeof(struct sa_stack_counters) == (0 SA_STACK_COUNTERS(SA_ONE)) * sizeof(__u64),
	       "stack_counters: one __u64 per table row");
_Static_assert(sizeof(struct sa_container_counters) == (0 SA_CONTAINER_COUNTERS(SA_ONE)) * sizeof(__u64),
	       "container_counters: one __u64 per table row");
_Static_assert(sizeof(struct sa_lost_counters) == (0 SA_LOST_COUNTERS(SA_ONE)) * sizeof(__u64),
	       "counts_lost: one __u64 per table row");
_Static_assert(sizeof(struct sa_retry_counters) == (0 SA_RETRY_COUNTERS(SA_ONE)) * sizeof(__u64),
	       "retry_counters: one __u64 per table row");
_Static_assert(offsetof(struct sa_retry_counters, syn_retry_after_synack_left) -
	       offsetof(struct sa_retry_counters, syn_retry_after_unseen) ==
	       (SA_RETRY_FATES - 1) * sizeof(__u64),
	       "syn_retries_after's rows in enum sa_retry_fate's order (the BPF side indexes them)");
_Static_assert((0 SA_COOKIE_MSS_COUNTERS(SA_ONE)) == SA_COOKIE_MSS_N,
	       "one syncookies_mss counter per msstab slot");
_Static_assert(offsetof(struct sa_stack_counters, syncookies_mss_7) -
	       offsetof(struct sa_stack_counters, syncookies_mss_0) ==
	       (SA_COOKIE_MSS_N - 1) * sizeof(__u64),
	       "syncookies_mss_* are consecutive (the BPF side indexes them)");
#undef SA_ONE

const char *const sa_derived_keys[SA_D_MAX] = {
#define SA_DERIVED_KEY(name, group, key, metric, help) #key,
	SA_DERIVED(SA_DERIVED_KEY)
#undef SA_DERIVED_KEY
};

#define CNT(sign, name)	{ sign, SA_C_##name }
#define TERM(sign, name) { sign, SA_T_##name }
const struct sa_gap_def sa_gaps[SA_GAP_MAX] = {
	[SA_GAP_nic_to_tc] = {
		"nic_to_tc", SA_STAGE_NIC, false, SA_C_nic_syn,
		"%lld SYNs unexplained between XDP and TC", NULL, NULL,
		{ CNT(+1, nic_syn), CNT(-1, tc_syn), TERM(-1, drops_before_tc) },
	},
	[SA_GAP_tc_to_listener] = {
		"tc_to_listener", SA_STAGE_STACK, false, SA_C_tc_syn,
		"%lld SYNs unexplained between TC and the listener", NULL, NULL,
		{ CNT(+1, tc_syn), CNT(+1, syn_beyond_parser), CNT(-1, listener_syn),
		  CNT(-1, syn_to_request_sock), TERM(-1, drops_after_tc), CNT(-1, forwarded) },
	},
	[SA_GAP_at_listener] = {
		"at_listener", SA_STAGE_STACK, false, SA_C_listener_syn,
		"%lld SYNs unexplained at the listener", NULL, NULL,
		{ CNT(+1, listener_syn), CNT(-1, syn_queued), CNT(-1, syncookies_sent),
		  CNT(-1, listen_drop_accept_queue_full), CNT(-1, listen_drop_syn_queue_full),
		  CNT(-1, listen_drop_other) },
	},
	/* Negative: SYN-ACKs the stack sent that TC egress never saw
	 * (reconcile.c says so). */
	[SA_GAP_synack_sent] = {
		"synack_sent", SA_STAGE_STACK, true, SA_C_synack_sent,
		"%lld SYN-ACKs at TC egress that the stack did not account for", NULL, NULL,
		{ CNT(+1, synack_sent), CNT(-1, syn_queued), CNT(-1, syncookies_sent),
		  CNT(-1, synack_retrans), CNT(-1, synack_forwarded),
		  CNT(-1, synack_retrans_failed) },
	},
	[SA_GAP_to_container] = {
		"to_container", SA_STAGE_CONTAINER, false, SA_C_forwarded,
		"%lld forwarded SYNs unexplained between this namespace and %s",
		"the one they reach",
		"for a port whose SYNs reach a namespace followed all along (else 0)",
		{ CNT(+1, forwarded), CNT(-1, ct_listener_syn), CNT(-1, ct_syn_to_request_sock),
		  CNT(-1, ct_stack_drops) },
	},
	/* Not settled: settle.c has never taken SYNs in flight off
	 * container.listener_syn; this gap is as read. */
	[SA_GAP_at_container_listener] = {
		"at_container_listener", SA_STAGE_CONTAINER, false, -1,
		"%lld forwarded SYNs unexplained at the listener in %s",
		"the namespace they reach",
		"for a port whose SYNs reach a namespace followed all along (else 0)",
		{ CNT(+1, ct_listener_syn), CNT(-1, ct_syn_queued), CNT(-1, ct_syncookies_sent),
		  CNT(-1, ct_accept_queue_full), CNT(-1, ct_syn_queue_full),
		  CNT(-1, ct_listen_drop_other) },
	},
};
#undef CNT
#undef TERM

const char *sa_term_name(int term, char *buf, size_t len)
{
	if (term == SA_T_drops_before_tc)
		return "stack drops between XDP and TC (native XDP: CPU_BACKLOG; tc mode: TC ingress's own, TC_*)";
	if (term == SA_T_drops_after_tc)
		return "stack drops after TC";
	return sa_counter_json_key(term, buf, len);
}

const char *sa_counter_json_key(enum sa_counter c, char *buf, size_t len)
{
	const struct sa_counter_def *d = &sa_counters[c];
	int twin = sa_container_twin(c);

	/* The container's listener counters are the host listener's, under
	 * the host's keys: container.listen_drops.other is listen_drops.other
	 * measured there. */
	if (twin >= 0 && !sa_counter_top_level(twin))
		snprintf(buf, len, "container.%s.%s", sa_counters[twin].group,
			 sa_counters[twin].key);
	else if (sa_counter_top_level(c))
		snprintf(buf, len, "%s", d->key);
	else
		snprintf(buf, len, "%s.%s", d->group, d->key);
	return buf;
}

void sa_gap_equation(enum sa_gap g, char *buf, size_t len)
{
	const struct sa_gap_def *d = &sa_gaps[g];
	size_t used = 0;
	char name[64];

	buf[0] = '\0';
	for (int i = 0; i < SA_GAP_MAX_TERMS && d->terms[i].sign && used < len; i++)
		used += snprintf(buf + used, len - used, "%s%s",
				 !i ? "" : d->terms[i].sign > 0 ? " + " : " - ",
				 sa_term_name(d->terms[i].term, name, sizeof(name)));
	if (d->note && used < len)
		snprintf(buf + used, len - used, ", %s", d->note);
}

int sa_gap_before(enum sa_gap g)
{
	for (int h = 0; h < SA_GAP_MAX; h++)
		for (int i = 0; i < SA_GAP_MAX_TERMS && sa_gaps[h].terms[i].sign; i++)
			if (sa_gaps[h].terms[i].sign < 0 &&
			    sa_gaps[h].terms[i].term == sa_gaps[g].upstream)
				return h;
	return -1;
}

const char *const sa_gauge_keys[SA_G_MAX] = {
#define SA_GAUGE_KEY(name, help) #name,
	SA_GAUGES(SA_GAUGE_KEY)
#undef SA_GAUGE_KEY
};

const char *const sa_stage_names[SA_STAGE_MAX] = {
	[SA_STAGE_NIC] = "nic",
	[SA_STAGE_TC] = "tc",
	[SA_STAGE_STACK] = "stack",
	[SA_STAGE_CONTAINER] = "container",
	[SA_STAGE_LOST] = "lost",
	[SA_STAGE_RETRIES] = "retries",
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

int sa_container_twin(enum sa_counter c)
{
	const struct sa_counter_def *d = &sa_counters[c];

	if (d->stage != SA_STAGE_CONTAINER || strcmp(d->group, "container"))
		return -1;
	for (int i = 0; i < SA_C_MAX; i++) {
		const struct sa_counter_def *h = &sa_counters[i];

		if (h->stage != SA_STAGE_STACK)
			continue;
		if (sa_counter_top_level(i) && !strcmp(h->key, d->key))
			return i;
		/* container.listen_drop_other is listen_drops.other */
		if (!strcmp(h->group, "listen_drops") &&
		    (!strcmp(h->key, d->key) || !strcmp(h->name, d->key)))
			return i;
	}
	return -1;
}

int sa_counter_metric(enum sa_counter c, char *buf, size_t len)
{
	const struct sa_counter_def *d = &sa_counters[c];
	const char *label;
	int twin;

	if (!strcmp(d->group, "hidden"))
		return -1;
	if (sa_counter_top_level(c))
		return snprintf(buf, len, "synacct_%s_total", d->key);
	if (d->stage == SA_STAGE_CONTAINER) {
		/* The host's family of the same quantity, with netns. */
		twin = sa_container_twin(c);
		if (twin < 0 || sa_counter_top_level(twin))
			return snprintf(buf, len, "synacct_%s_total{netns=\"NS\"}", d->key);
		return snprintf(buf, len, "synacct_%s_total{%s=\"%s\",netns=\"NS\"}",
				sa_counters[twin].group, sa_group_label(sa_counters[twin].group),
				sa_counters[twin].key);
	}
	label = sa_group_label(d->group);
	return snprintf(buf, len, "synacct_%s_total{%s=\"%s\"}", d->group,
			label ? label : "key", d->key);
}

/* The quantities as a Markdown table: docs/design.md holds this table, and
 * a test compares the two. */
void sa_counters_markdown(FILE *f)
{
	char metric[128], key[96];

	fprintf(f, "| JSON key | stage | BPF map field | metric | what it counts |\n");
	fprintf(f, "|---|---|---|---|---|\n");
	for (int i = 0; i < SA_C_MAX; i++) {
		const struct sa_counter_def *d = &sa_counters[i];

		if (sa_counter_metric(i, metric, sizeof(metric)) < 0)
			continue;
		/* Counted by every object, each in a map of its own. */
		if (d->stage == SA_STAGE_LOST) {
			fprintf(f, "| `%s` | nic, tc, stack | `counts_lost.%s` (each "
				"object's, added) | `%s` | %s |\n", d->key, d->name,
				metric, d->help);
			continue;
		}
		fprintf(f, "| `%s` | %s | `%s_counters.%s` | `%s` | %s |\n",
			sa_counter_json_key(i, key, sizeof(key)),
			sa_stage_names[d->stage], sa_stage_names[d->stage], d->name,
			metric, d->help);
	}
	fprintf(f, "| `stack_drops.REASON` | stack | `stack_drops{port, reason}` | "
		"`synacct_stack_drops_total{reason=\"REASON\"}` | SYNs freed before a "
		"socket took them, by the kernel's drop reason |\n");
	fprintf(f, "| `synack_drops.REASON` | stack | `synack_drops{port, reason}` | "
		"`synacct_synack_drops_total{reason=\"REASON\"}` | SYN-ACKs dropped after "
		"TC egress (qdisc, device, veth peer backlog), by the kernel's drop reason |\n");
#define SA_GAUGE_MD(name, help) \
	fprintf(f, "| `%s` | listeners | iter/tcp | `synacct_%s` | %s |\n", \
		#name, #name, help);
	SA_GAUGES(SA_GAUGE_MD)
#undef SA_GAUGE_MD
	/* Queue age (struct sa_queue_age, agent/core/snapshot.h). */
	fprintf(f, "| `accept_queue_oldest_age_seconds` | listeners | iter/tcp: the accept "
		"queue head's child, now - lsndtime (jiffies) | "
		"`synacct_accept_queue_oldest_age_seconds` | how long the oldest connection "
		"in the port's accept queues has waited since its handshake completed (0: "
		"empty; null: the kernel's HZ unknown) |\n");
	fprintf(f, "| `half_open_age_seconds` | listeners | iter/tcp: each request sock, "
		"now - snt_synack (us) | `synacct_half_open_age_seconds` (histogram) | "
		"half-open requests by time since their first SYN-ACK |\n");
	fprintf(f, "| `half_open_synack_retrans` | listeners | iter/tcp: each request sock's "
		"num_retrans | `synacct_half_open_synack_retrans` (histogram) | half-open "
		"requests by SYN-ACK retransmissions so far |\n");
#define SA_DERIVED_MD(name, group, key, metric, help)		\
	fprintf(f, "| `%s%s%s` | derived | — | `%s` | %s |\n",		\
		#group, sizeof(#group) > 1 ? "." : "", #key, metric, help);
	SA_DERIVED(SA_DERIVED_MD)
#undef SA_DERIVED_MD
	for (int g = 0; g < SA_GAP_MAX; g++) {
		char eq[512];
		char up[64];

		sa_gap_equation(g, eq, sizeof(eq));
		fprintf(f, "| `unexplained.%s` | gap | — | `synacct_unexplained{gap=\"%s\"}` | %s; ",
			sa_gaps[g].key, sa_gaps[g].key, eq);
		if (sa_gaps[g].upstream < 0)
			fprintf(f, "not settled |\n");
		else
			fprintf(f, "in flight: taken off `%s` |\n",
				sa_term_name(sa_gaps[g].upstream, up, sizeof(up)));
	}
}
