// SPDX-License-Identifier: GPL-2.0
/*
 * health.c - synacct knows its own hooks.  Every interval each stage
 * checks on the kernel that what it attached is still there and still
 * its own (its health op: XDP program ids, TC filters, the interface
 * itself).  A hook gone or replaced is said once, from that moment its
 * stage's figures leave reconciliation (no gap that involves it is a loss,
 * nor "no loss"), and nothing is attached again over another tool.  An
 * interface that left the namespace ends the run, with one message.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include <sys/stat.h>
#include "counters.h"
#include "health.h"
#include "log.h"
#include "report.h"

/* ---- hooks lost ---- */

static bool iface_gone(enum sa_loss how)
{
	return how == SA_LOSS_IFACE_DELETED || how == SA_LOSS_IFACE_MOVED;
}

/* Is @hook in @list ("tc_ingress, tc_egress")?  "xdp" stands for
 * "xdp_skb" too: the records name the hook by its mode. */
static bool has_hook(const char *list, const char *hook)
{
	size_t n = strlen(hook);

	if (!strncmp(hook, "xdp", 3))
		hook = "xdp", n = 3;
	for (const char *p = list; (p = strstr(p, hook)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ','))
			return true;
	return false;
}

/* The group of @stage's hooks lost on @l's interface: one found in this
 * check (@from on), or NULL and @known if @l's hook was said before. */
static struct sa_lost_group *group_of(struct sa_health *h, int from, const char *stage,
				      const struct sa_hook_loss *l, bool *known)
{
	*known = false;
	for (int i = 0; i < h->n_lost; i++) {
		struct sa_lost_group *g = &h->lost[i];

		if (strcmp(g->stage, stage) || strcmp(g->iface, l->iface))
			continue;
		if (i >= from)
			return g;
		*known |= has_hook(g->hooks, l->hook);
	}
	return NULL;
}

static void record(const struct sa_lost_group *g)
{
	struct json_object *o = json_object_new_object(), *by = NULL;

	json_object_object_add(o, "type", json_object_new_string("stage"));
	json_object_object_add(o, "time", json_object_new_string(g->time));
	json_object_object_add(o, "stage", sa_json_string(g->stage));
	/* The stack's hooks are the namespace's, on no interface. */
	json_object_object_add(o, "iface", g->iface[0] ? sa_json_string(g->iface) : NULL);
	json_object_object_add(o, "hooks", sa_json_string(g->hooks));
	json_object_object_add(o, "state", json_object_new_string("lost"));
	json_object_object_add(o, "reason", sa_json_string(g->first.reason));
	if (g->first.replaced_by) {
		by = json_object_new_object();
		json_object_object_add(by, "id", json_object_new_uint64(g->first.replaced_by));
		json_object_object_add(by, "name", sa_json_string(g->first.replaced_name));
	}
	json_object_object_add(o, "replaced_by", by);
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						      JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(stdout);
	json_object_put(o);
}

/* What the verdicts say, and the hooks still synacct's. */
static void summarise(struct sa_health *h, struct sa_run *r, struct sa_report_ctx *rc)
{
	size_t used = 0;
	int n = 0;

	for (int i = 0; i < h->n_lost && used < sizeof(h->sentence); i++) {
		const struct sa_lost_group *g = &h->lost[i];

		used += snprintf(h->sentence + used, sizeof(h->sentence) - used,
				 "%s%s%s%s lost at %s (%s)", i ? "; " : "", g->hooks,
				 g->iface[0] ? " on " : "", g->iface, g->time, g->first.reason);
	}
	rc->m.lost = h->n_lost ? h->sentence : NULL;
	for (int i = 0; i < r->n_hooks; i++) {
		bool lost = false;

		for (int j = 0; j < h->n_lost && !lost; j++)
			lost = has_hook(h->lost[j].hooks, r->hooks[i]);
		if (!lost)
			r->hooks_up[n++] = r->hooks[i];
	}
	rc->hooks = r->hooks_up;
	rc->n_hooks = n;
}

void sa_health_init(struct sa_health *h, const struct sa_run *r,
		    const struct sa_stage_cfg *cfg, struct sa_report_ctx *rc)
{
	int n = 0;

	for (int i = 0; i < sa_n_stages; i++) {
		if (!r->st[i])
			continue;
		/* The stack's hooks are the namespace's: on no interface. */
		if (sa_stages[i]->measures & 1u << SA_STAGE_STACK)
			h->up[n++] = (struct sa_stage_up){ sa_stages[i]->name, "", true };
		/* XDP and TC: the stages whose hooks are the interfaces'. */
		if (!(sa_stages[i]->measures & (1u << SA_STAGE_NIC | 1u << SA_STAGE_TC)))
			continue;
		for (int j = 0; j < cfg->n_ifaces; j++)
			h->up[n++] = (struct sa_stage_up){ sa_stages[i]->name, cfg->ifname[j], true };
	}
	rc->stage_up = h->up;
	rc->n_stage_up = n;
}

int sa_health_check(struct sa_health *h, struct sa_run *r,
		    struct sa_report_ctx *rc, bool records)
{
	int from = h->n_lost;
	bool gone_before = h->iface_gone;

	for (int i = 0; i < sa_n_stages; i++) {
		const struct sa_stage_ops *s = sa_stages[i];
		struct sa_stage_health sh = { 0 };

		if (!r->st[i] || !s->health || s->health(r->st[i], &sh))
			continue;
		for (int j = 0; j < sh.n_lost; j++) {
			const struct sa_hook_loss *l = &sh.lost[j];
			struct sa_lost_group *g;
			bool known;
			size_t len;

			g = group_of(h, from, s->name, l, &known);
			if (known)
				continue;
			if (!g) {
				if (h->n_lost == (int)(sizeof(h->lost) / sizeof(h->lost[0])))
					continue;
				g = &h->lost[h->n_lost++];
				memset(g, 0, sizeof(*g));
				g->stage = s->name;
				snprintf(g->iface, sizeof(g->iface), "%s", l->iface);
				sa_now_iso8601(g->time, sizeof(g->time));
				g->first = *l;
			}
			/* A moved interface says where synacct's hooks went. */
			if (l->how == SA_LOSS_IFACE_MOVED)
				g->first = *l;
			/* IPv4 and IPv6 links of one hook: named once. */
			len = strlen(g->hooks);
			if (!has_hook(g->hooks, l->hook))
				snprintf(g->hooks + len, sizeof(g->hooks) - len, "%s%s",
					 len ? ", " : "", l->hook);
			for (int k = 0; k < rc->n_stage_up; k++)
				if (!strcmp(h->up[k].stage, s->name) && !strcmp(h->up[k].iface, l->iface))
					h->up[k].up = false;
			/* Its figures leave reconciliation from now on. */
			if (s->measures & 1u << SA_STAGE_NIC)
				rc->m.nic = false;
			if (s->measures & 1u << SA_STAGE_TC)
				rc->m.tc_lost = true;
			/* Stack lost: every gap past TC (and the container's,
			 * which its programs count) null, as with --no-stack. */
			if (s->measures & 1u << SA_STAGE_STACK)
				rc->m.stack = false;
		}
	}
	for (int i = from; i < h->n_lost; i++) {
		const struct sa_lost_group *g = &h->lost[i];

		if (records)
			record(g);
		if (!iface_gone(g->first.how)) {
			sa_err("%s%s%s lost: %s; synacct leaves it as it is, and its "
			       "figures out of reconciliation from now on", g->hooks,
			       g->iface[0] ? " on " : "", g->iface, g->first.reason);
			continue;
		}
		h->iface_gone = true;
	}
	/* One line per interface gone, whatever number of stages saw it. */
	for (int i = from; i < h->n_lost && !gone_before; i++) {
		const struct sa_lost_group *g = &h->lost[i];
		bool said = false, moved = false;

		if (!iface_gone(g->first.how))
			continue;
		for (int j = from; j < i; j++)
			said |= iface_gone(h->lost[j].first.how) && !strcmp(h->lost[j].iface, g->iface);
		if (said)
			continue;
		for (int j = i; j < h->n_lost; j++)
			moved |= h->lost[j].first.how == SA_LOSS_IFACE_MOVED &&
				 !strcmp(h->lost[j].iface, g->iface);
		sa_err("interface %s disappeared: %s; stopping", g->iface,
		       moved ? "moved to another network namespace, where synacct "
		       "removed its hooks" : "deleted");
	}
	if (h->n_lost > from)
		summarise(h, r, rc);
	return h->iface_gone ? -ENODEV : 0;
}
