// SPDX-License-Identifier: GPL-2.0
/*
 * listeners.c - loads listeners.bpf.c and lists the TCP listeners of the
 * caller's network namespace (create after setns): the listener stage,
 * whose gauges (queue lengths, backlog, drops) sit beside the stack's
 * counters, and the list `synacct check` audits.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <zlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "log.h"
#include "snapshot.h"
#include "stage.h"
#include "listeners.skel.h"

struct sa_listeners {
	struct listeners_bpf *skel;
};

static void listeners_close(struct sa_listeners *ls);

static int listeners_open(struct sa_listeners **out, const char *btf)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = btf);
	struct sa_listeners *ls;
	int err;

	ls = calloc(1, sizeof(*ls));
	if (!ls)
		return -ENOMEM;
	ls->skel = listeners_bpf__open_opts(&oo);
	if (!ls->skel || listeners_bpf__load(ls->skel) ||
	    listeners_bpf__attach(ls->skel)) {
		err = -errno;
		sa_err("cannot load the TCP listener iterator: %s", sa_strerror(err));
		listeners_close(ls);
		return err;
	}
	*out = ls;
	return 0;
}

/* Each record: listeners to @fn, half-open requests to @req_fn (skipped
 * when NULL: `synacct check` and the container stage list listeners). */
static int iter_read(struct sa_listeners *ls,
		     int (*fn)(const struct sa_listener *l, void *ctx),
		     int (*req_fn)(const struct sa_listener *r, void *ctx),
		     void *ctx)
{
	struct sa_listener l;
	ssize_t n;
	int fd, err = 0;

	fd = bpf_iter_create(bpf_link__fd(ls->skel->links.synacct_listeners));
	if (fd < 0)
		return -errno;
	while (!err) {
		n = read(fd, &l, sizeof(l));
		/* EAGAIN: the kernel stops a read after a million sockets
		 * without output (MAX_ITER_OBJECTS) and keeps its place: read
		 * on, it makes progress each time. */
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n != sizeof(l))
			break;
		if (l.record == SA_REC_LISTENER)
			err = fn(&l, ctx);
		else if (req_fn)
			err = req_fn(&l, ctx);
	}
	if (!err && n < 0)
		err = -errno;
	close(fd);
	return err;
}

static int listeners_read(struct sa_listeners *ls,
			  int (*fn)(const struct sa_listener *l, void *ctx),
			  void *ctx)
{
	return iter_read(ls, fn, NULL, ctx);
}

static void listeners_close(struct sa_listeners *ls)
{
	if (!ls)
		return;
	listeners_bpf__destroy(ls->skel);
	free(ls);
}

static const struct sa_listener_iter listener_iter = {
	.open = listeners_open,
	.read = listeners_read,
	.close = listeners_close,
};

/* ---- the listener stage ---- */

struct listener_stage {
	struct sa_listeners *ls;
	/* The kernel's HZ, to turn the accept queue head's jiffies into
	 * time; 0: unknown, no accept queue age (kernel_hz()). */
	unsigned int hz;
	/* Last accept backlog seen per port, so a verdict can still name the
	 * backlog after its listener closed. */
	__u32 last_backlog[SA_MAX_PORTS];
};

static void listener_stage_close(void *priv)
{
	struct listener_stage *st = priv;

	if (!st)
		return;
	listeners_close(st->ls);
	free(st);
}

/*
 * The kernel's HZ from its build configuration: /boot/config-RELEASE, or
 * /proc/config.gz (CONFIG_IKCONFIG_PROC), where libbpf's __kconfig looks
 * too.  gzopen reads both, compressed or not.  No BTF or sysfs file holds
 * it (sysconf(_SC_CLK_TCK) is USER_HZ); 0 when neither file is there.
 */
static unsigned int kernel_hz(void)
{
	char path[128], line[256];
	struct utsname u;
	unsigned int hz = 0;
	gzFile f = NULL;

	if (!uname(&u)) {
		snprintf(path, sizeof(path), "/boot/config-%s", u.release);
		f = gzopen(path, "re");
	}
	if (!f)
		f = gzopen("/proc/config.gz", "re");
	if (!f)
		return 0;
	while (gzgets(f, line, sizeof(line)))
		if (sscanf(line, "CONFIG_HZ=%u", &hz) == 1)
			break;
	gzclose(f);
	return hz;
}

static int listener_stage_open(void **out, const struct sa_stage_cfg *cfg)
{
	struct listener_stage *st = calloc(1, sizeof(*st));
	int err;

	if (!st)
		return -ENOMEM;
	err = listeners_open(&st->ls, cfg->btf);
	if (err) {
		free(st);
		return err;
	}
	st->hz = kernel_hz();
	if (!st->hz)
		sa_warn("the kernel's HZ is unknown (no /boot/config-RELEASE or /proc/config.gz): no accept queue age");
	*out = st;
	return 0;
}

static int listener_stage_attach(void *priv, const struct sa_stage_cfg *cfg)
{
	(void)priv; (void)cfg;	/* an iterator: read on demand */
	return 0;
}

struct read_ctx {
	struct sa_snapshot *snap;
	unsigned int hz;
};

static int add_listener(const struct sa_listener *l, void *ctx)
{
	struct read_ctx *rc = ctx;
	struct sa_port_stats *ps = sa_snapshot_port(rc->snap, l->port);

	if (!ps || !sa_port_gauges(ps))
		return -ENOMEM;
	sa_gauges_add(ps->gauges, l);
	sa_queue_age_add_listener(&ps->gauges->qa, l, rc->hz);
	return sa_snapshot_add_listener(rc->snap, l);
}

static int add_request(const struct sa_listener *r, void *ctx)
{
	struct read_ctx *rc = ctx;
	struct sa_port_stats *ps = sa_snapshot_port(rc->snap, r->port);

	if (!ps || !sa_port_gauges(ps))
		return -ENOMEM;
	sa_queue_age_add_request(&ps->gauges->qa, r);
	return 0;
}

static int listener_stage_read(void *priv, struct sa_snapshot *snap)
{
	struct listener_stage *st = priv;
	struct read_ctx rc = { .snap = snap, .hz = st->hz };
	int err = iter_read(st->ls, add_listener, add_request, &rc);

	if (err)
		return err;
	snap->listeners_read = true;
	for (__u32 p = 0; p < SA_MAX_PORTS; p++) {
		struct sa_port_stats *ps = snap->port[p];

		if (ps && sa_g(ps)->listeners)
			st->last_backlog[p] = ps->gauges->accept_backlog;
		else if (st->last_backlog[p]) {
			ps = sa_snapshot_port(snap, p);
			if (!ps || !sa_port_gauges(ps))
				return -ENOMEM;
			ps->gauges->accept_backlog = st->last_backlog[p];
		}
	}
	return 0;
}

static int listener_stage_hooks(void *priv, const char **names, int max)
{
	(void)priv;
	if (max >= 1)
		names[0] = "iter/tcp";
	return 1;
}

static int listener_stage_health(void *priv, struct sa_stage_health *h)
{
	struct listener_stage *st = priv;

	/* An iterator: attached once created, read on demand. */
	h->attached = st->ls->skel->links.synacct_listeners != NULL;
	return 0;
}

/* The listeners' gauges sit beside the stack's counters: off with it. */
static bool listener_stage_enabled(const struct sa_stage_cfg *cfg)
{
	return cfg->stack;
}

const struct sa_stage_ops sa_listener_stage = {
	.name = "listeners",
	.enabled = listener_stage_enabled,
	.open = listener_stage_open,
	.attach = listener_stage_attach,
	.read = listener_stage_read,
	.hooks = listener_stage_hooks,
	.health = listener_stage_health,
	.listeners = &listener_iter,
	.close = listener_stage_close,
};
