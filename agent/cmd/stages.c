// SPDX-License-Identifier: GPL-2.0
/*
 * stages.c - what goes through every stage of the registry (sa_stages[],
 * agent/core/registry.c), in its order or the opposite one: open, attach,
 * refresh, read, read one port, describe, close; the leftovers of a
 * killed synacct and of a pinned one; and what stages share by name.
 */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "counters.h"
#include "log.h"
#include "ports.h"
#include "report.h"
#include "snapshot.h"
#include "stage.h"

/* ---- shared between stages ---- */

static struct {
	const char *name;
	int fd;
	const void *obj;
} shared[8];

static int share(const char *name, int fd, const void *obj)
{
	int free_slot = -1;

	for (int i = 0; i < (int)(sizeof(shared) / sizeof(shared[0])); i++) {
		if (shared[i].name && !strcmp(shared[i].name, name))
			return -EEXIST;
		if (!shared[i].name && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0)
		return -E2BIG;
	shared[free_slot].name = name;
	shared[free_slot].fd = fd;
	shared[free_slot].obj = obj;
	return 0;
}

static int find(const char *name)
{
	for (int i = 0; i < (int)(sizeof(shared) / sizeof(shared[0])); i++)
		if (shared[i].name && !strcmp(shared[i].name, name))
			return i;
	return -1;
}

int sa_registry_share_fd(const char *name, int fd)
{
	return share(name, fd, NULL);
}

int sa_registry_fd(const char *name)
{
	int i = find(name);

	return i < 0 || shared[i].obj ? -ENOENT : shared[i].fd;
}

int sa_registry_share(const char *name, const void *obj)
{
	return share(name, -1, obj);
}

const void *sa_registry_get(const char *name)
{
	int i = find(name);

	return i < 0 ? NULL : shared[i].obj;
}

void sa_registry_withdraw(const char *name)
{
	int i = find(name);

	if (i >= 0)
		memset(&shared[i], 0, sizeof(shared[i]));
}

const struct sa_listener_iter *sa_registry_listeners(void)
{
	for (int i = 0; i < sa_n_stages; i++)
		if (sa_stages[i]->listeners)
			return sa_stages[i]->listeners;
	return NULL;
}

int sa_stages_argp(struct argp_child *out)
{
	int n = 0;

	for (int i = 0; i < sa_n_stages; i++)
		if (sa_stages[i]->argp)
			out[n++] = (struct argp_child){ sa_stages[i]->argp, 0, NULL, 0 };
	return n;
}

/* ---- a run ---- */

/* Every stage's hooks, in a list sized by what the stages say they
 * have. */
static int run_hooks(struct sa_run *r)
{
	int n = 0;

	for (int i = 0; i < sa_n_stages; i++)
		if (r->st[i] && sa_stages[i]->hooks)
			n += sa_stages[i]->hooks(r->st[i], NULL, 0);
	r->hooks = calloc(n + 1, sizeof(*r->hooks));
	r->hooks_up = calloc(n + 1, sizeof(*r->hooks_up));
	if (!r->hooks || !r->hooks_up)
		return -ENOMEM;
	for (int i = 0; i < sa_n_stages; i++)
		if (r->st[i] && sa_stages[i]->hooks)
			r->n_hooks += sa_stages[i]->hooks(r->st[i], r->hooks + r->n_hooks,
							  n - r->n_hooks);
	return 0;
}

int sa_run_open(struct sa_run *r, const struct sa_stage_cfg *cfg)
{
	int err = 0;

	for (int i = 0; i < sa_n_stages && !err; i++) {
		const struct sa_stage_ops *s = sa_stages[i];
		char why[256] = "";

		if (s->enabled && !s->enabled(cfg))
			continue;
		err = s->prereq ? s->prereq(cfg, why, sizeof(why)) : 0;
		if (err && s->optional) {
			/* A missing privilege is the user's to grant: said;
			 * what the kernel lacks, with -v. */
			if (err == -EPERM)
				sa_warn("stage %s off: %s", s->name, why);
			else if (cfg->verbose)
				sa_info("stage %s off: %s", s->name, why);
			err = 0;
			continue;
		}
		if (err) {
			sa_err("%s", why);
			break;
		}
		err = s->open(&r->st[i], cfg);
	}
	for (int i = 0; i < sa_n_stages && !err; i++)
		if (r->st[i])
			err = sa_stages[i]->attach(r->st[i], cfg);
	return err ? err : run_hooks(r);
}

int sa_run_refresh(struct sa_run *r, unsigned long gen)
{
	int err = 0;

	for (int i = 0; i < sa_n_stages && !err; i++)
		if (r->st[i] && sa_stages[i]->refresh)
			err = sa_stages[i]->refresh(r->st[i], gen);
	return err;
}

/*
 * Downstream first: a SYN counted by a later stage was counted by the
 * earlier ones before, so reading the earlier ones last means no stage is
 * ever read behind the one after it; SYNs in flight between two reads can
 * only make an upstream count larger.
 */
int sa_run_read(struct sa_run *r, struct sa_snapshot *snap)
{
	int err = 0;

	for (int i = sa_n_stages - 1; i >= 0 && !err; i--)
		if (r->st[i] && sa_stages[i]->read)
			err = sa_stages[i]->read(r->st[i], snap);
	for (int i = 0; i < sa_n_stages && !err; i++)
		if (r->st[i] && sa_stages[i]->complete)
			err = sa_stages[i]->complete(r->st[i], snap);
	return err;
}

int sa_run_read_port(struct sa_run *r, __u32 port, struct sa_port_stats *ps)
{
	int err = 0;

	for (int i = sa_n_stages - 1; i >= 0 && !err; i--)
		if (r->st[i] && sa_stages[i]->read_port)
			err = sa_stages[i]->read_port(r->st[i], port, ps);
	return err;
}

int sa_run_touched(struct sa_run *r, struct sa_portset *ports)
{
	int err = 0;

	for (int i = 0; i < sa_n_stages && !err; i++)
		if (r->st[i] && sa_stages[i]->touched)
			err = sa_stages[i]->touched(r->st[i], ports);
	return err;
}

/* As sa_run_read, downstream first.  A stage without read_ports (the
 * listeners' iterator) reads all it has; the ports it gave figures to
 * are read by the stages after it too, so that each port of @snap is
 * whole. */
int sa_run_read_ports(struct sa_run *r, struct sa_snapshot *snap,
		      const struct sa_snapshot *last, struct sa_portset *ports)
{
	int err = 0;

	for (int i = sa_n_stages - 1; i >= 0 && !err; i--) {
		if (!r->st[i])
			continue;
		if (sa_stages[i]->read_ports) {
			err = sa_stages[i]->read_ports(r->st[i], snap, last, ports);
		} else if (sa_stages[i]->read) {
			err = sa_stages[i]->read(r->st[i], snap);
			for (__u32 p = 0; p < SA_MAX_PORTS && !err; p++)
				if (snap->port[p])
					sa_portset_add(ports, p);
		}
	}
	for (int i = 0; i < sa_n_stages && !err; i++)
		if (r->st[i] && sa_stages[i]->complete)
			err = sa_stages[i]->complete(r->st[i], snap);
	return err;
}

/* Whether a stage that measures @id's counters is on. */
static bool measured(const struct sa_run *r, enum sa_stage_id id)
{
	for (int i = 0; i < sa_n_stages; i++)
		if (r->st[i] && (sa_stages[i]->measures & 1u << id))
			return true;
	return false;
}

void sa_run_describe(struct sa_run *r, struct sa_report_ctx *rc, bool verbose)
{
	struct sa_stage_desc d = { 0 };

	rc->m.nic = measured(r, SA_STAGE_NIC);
	rc->m.stack = measured(r, SA_STAGE_STACK);
	rc->m.follow = measured(r, SA_STAGE_CONTAINER);

	for (int i = 0; i < sa_n_stages; i++)
		if (sa_stages[i]->describe)
			sa_stages[i]->describe(r->st[i], &d);
	rc->xdp_mode = d.xdp_mode;
	rc->m.nic_native = d.nic_native;
	rc->m.nic_tc = d.nic_tc;
	rc->xdp_links = d.xdp_links;
	rc->n_xdp_links = d.n_xdp_links;
	rc->hooks = r->hooks;
	rc->n_hooks = r->n_hooks;
	if (!verbose)
		return;
	for (int i = 0; i < r->n_hooks; i++)
		sa_info("hook: %s", r->hooks[i]);
	for (int i = 0; i < sa_n_stages; i++) {
		struct sa_stage_health h = { 0 };

		if (!r->st[i] || !sa_stages[i]->health ||
		    sa_stages[i]->health(r->st[i], &h))
			continue;
		sa_info("stage %s: %s%s%s", sa_stages[i]->name,
			h.attached ? "attached" : "not attached", h.detail[0] ? ", " : "",
			h.detail);
	}
}

void sa_run_close(struct sa_run *r)
{
	for (int i = sa_n_stages - 1; i >= 0; i--) {
		if (r->st[i])
			sa_stages[i]->close(r->st[i]);
		r->st[i] = NULL;
	}
	free(r->hooks);
	free(r->hooks_up);
	r->hooks = r->hooks_up = NULL;
	r->n_hooks = 0;
}

/* ---- leftovers ---- */

int sa_stages_remove_stale(int ifindex, char *what, size_t len, int *holder)
{
	size_t used = 0;
	int err = 0;

	what[0] = '\0';
	for (int i = 0; i < sa_n_stages && !err; i++) {
		char one[96] = "";

		if (!sa_stages[i]->remove_stale)
			continue;
		err = sa_stages[i]->remove_stale(ifindex, one, sizeof(one), holder);
		if (one[0] && used < len)
			used += snprintf(what + used, len - used, "%s%s", used ? ", " : "", one);
	}
	return err;
}

int sa_stages_detach_pinned(int ifindex, const char *ifname)
{
	int err = 0;

	for (int i = 0; i < sa_n_stages && !err; i++)
		if (sa_stages[i]->detach_pinned)
			err = sa_stages[i]->detach_pinned(ifindex, ifname);
	return err;
}
