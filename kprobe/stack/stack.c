// SPDX-License-Identifier: GPL-2.0
/*
 * stack.c - the stack stage: loads the stack object (the BPF units of
 * kprobe/, linked), tells it which namespace and interfaces to watch and
 * where the kernel keeps what it needs (stack_probe.c), attaches it
 * (stack_links.c), and closes it; its readings are in stack_read.c.
 *
 * Must run after the agent entered the watched namespace: the namespace's
 * cookie and the TCP iterator both come from the caller's namespace.
 */
#define _GNU_SOURCE
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "log.h"
#include "netns.h"
#include "pin.h"
#include "touched.h"
#include "snapshot.h"
#include "stack.h"

static void stack_stage_close(void *priv);

/*
 * Give every CPU a MIB baseline: closing a fresh TCP socket in the
 * namespace fires tcp_destroy_sock, whose program (while `priming` is set)
 * reads every CPU's current values.  Until a CPU has a baseline, SYNs
 * consumed on it are counted as listener_unclassified.
 */
static int prime_baselines(struct stack_stage *st)
{
	int err;

	st->skel->bss->priming = 1;
	err = stack_destroy_a_socket();
	st->skel->bss->priming = 0;
	return err;
}

/*
 * For tests only: SYNACCT_TEST_STACK_MAP_ENTRIES=N loads stack_counters and
 * stack_drops with room for N entries, so that a scan of more ports than
 * that fills them and the counts lost show as update_failed
 * (selftests/t/62-losses.t).  Not an option: nobody wants it in production.
 */
static int test_map_entries(struct stack_bpf *skel)
{
	const char *v = getenv("SYNACCT_TEST_STACK_MAP_ENTRIES");
	unsigned long n;
	char *end;
	int err;

	if (!v)
		return 0;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || end == v || *end || n < 1 || n > SA_MAX_DROP_KEYS) {
		sa_err("invalid SYNACCT_TEST_STACK_MAP_ENTRIES: expected a number "
		       "from 1 to %u", SA_MAX_DROP_KEYS);
		return -EINVAL;
	}
	/* No slots (count.h): every port in the per-port hash, as big as
	 * said. */
	err = bpf_map__set_max_entries(skel->maps.stack_counters_port, 1);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.stack_counters, 1);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.stack_counters_more, n);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.stack_drops, n);
	return err;
}

/* SYN-ACKs dropped after TC egress: TC egress records them in maps of its
 * own object, shared through the registry; the stack object's handlers
 * use the same maps.  Without the TC stage they stay the stack object's
 * own, empty. */
static int share_synack_maps(struct stack_bpf *skel)
{
	int flight = sa_registry_fd(SA_SHARE_SYNACK_FLIGHT);
	int last = sa_registry_fd(SA_SHARE_SYNACK_LAST);
	const struct sa_retries_maps *rm = sa_registry_get(SA_SHARE_RETRIES);
	int err;

	if (flight < 0 || last < 0)
		return 0;
	err = bpf_map__reuse_fd(skel->maps.synack_flight, flight);
	if (!err)
		err = bpf_map__reuse_fd(skel->maps.synack_last, last);
	/* The retry table too: the stack writes what became of a SYN
	 * where TC ingress will look for it (tc/retries/). */
	if (!err && rm)
		err = bpf_map__reuse_fd(skel->maps.retry_table, rm->table);
	if (err)
		sa_err("cannot share the SYN-ACK maps with the stack programs: %s",
		       sa_strerror(err));
	return err;
}

static const char no_cookie[] =
	"cannot read the network namespace cookie (SO_NETNS_COOKIE, Linux 5.14+): %s";

/* The programs count the watched namespace's SYNs by its cookie. */
static int stack_stage_prereq(const struct sa_stage_cfg *cfg, char *why, size_t len)
{
	__u64 cookie;
	int err = sa_netns_cookie(&cookie);

	(void)cfg;
	if (err)
		snprintf(why, len, no_cookie, sa_strerror(err));
	return err;
}

static int stack_stage_open(void **out, const struct sa_stage_cfg *cfg)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = cfg->btf);
	struct stack_stage *st;
	struct btf *btf = NULL;
	int watched[SA_MAX_IFACES], n_watched;
	__u64 cookie;
	int err;

	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	for (int i = 0; i < STACK_N_NF_LINKS; i++)
		st->nf_links[i] = -1;

	err = sa_netns_cookie(&cookie);
	if (err) {
		sa_err(no_cookie, sa_strerror(err));
		goto cleanup;
	}
	btf = cfg->btf ? btf__parse(cfg->btf, NULL) : btf__load_vmlinux_btf();
	err = libbpf_get_error(btf);
	if (err) {
		btf = NULL;
		sa_err("cannot read kernel BTF: %s", sa_strerror(err));
		goto cleanup;
	}

	st->skel = stack_bpf__open_opts(&oo);
	if (!st->skel) {
		err = -errno;
		sa_err("cannot open the stack programs: %s", sa_strerror(err));
		goto cleanup;
	}
	st->skel->rodata->netns_cookie = cookie;
	for (int i = 0; i < cfg->n_ifaces; i++)
		watched[i] = cfg->ifindex[i];
	n_watched = stack_add_vlan_devices(watched, cfg->n_ifaces, cfg->verbose);
	for (int i = 0; i < n_watched; i++)
		st->skel->rodata->watched_ifindex[i] = watched[i];
	st->skel->rodata->n_watched = n_watched;
	st->skel->rodata->nr_cpus = libbpf_num_possible_cpus();
	st->skel->rodata->follow_on = cfg->follow;
	err = stack_find_listener_hook(st, btf, cfg->listener_hook);
	if (err)
		goto cleanup;
	stack_find_nat_hook(st, btf, cfg->verbose);
	stack_find_verdict_mibs(st, btf);
	stack_load_reason_names(btf);
	/* Subsystem reasons: their enums are in the modules' BTF, which
	 * only the running kernel's BTF can be the base of. */
	if (sa_subsys_reasons_load(btf) ||
	    (!cfg->btf && sa_subsys_reasons_load_modules(btf)))
		sa_info("cannot read the subsystem drop reasons' names: they show "
			"as SUBSYSTEM_CODE");
	err = test_map_entries(st->skel);
	if (!err)
		err = share_synack_maps(st->skel);
	if (err)
		goto cleanup;
	/* libbpf parses the kernel's BTF again for each object it loads:
	 * one copy at a time keeps the agent's peak RSS down. */
	btf__free(btf);
	btf = NULL;
	st->pin_dir = cfg->pin_dir;
	if (st->pin_dir) {
		err = sa_pin_maps(st->skel->obj, st->pin_dir, "stack");
		if (err) {
			sa_err("cannot pin the stack maps: %s", sa_strerror(err));
			goto cleanup;
		}
	}

	err = stack_bpf__load(st->skel);
	if (err) {
		sa_err("cannot load the stack programs: %s%s", sa_strerror(err),
		       cfg->verbose ? "" : " (run with -v for the verifier log)");
		goto cleanup;
	}
	if (st->pin_dir) {
		err = sa_pin_maps_commit(st->skel->obj);
		if (err) {
			sa_err("cannot pin the stack maps in %s: %s", st->pin_dir,
			       strerror(-err));
			goto cleanup;
		}
	}
	if (stack_can_follow(st)) {
		st->follow = (struct sa_follow_ctl){ st, stack_follow_here, stack_unfollow };
		err = sa_registry_share(SA_SHARE_FOLLOW, &st->follow);
		if (err) {
			sa_err("cannot share the follow control: %s", sa_strerror(err));
			goto cleanup;
		}
	}
	*out = st;
	return 0;

cleanup:
	btf__free(btf);
	stack_stage_close(st);
	return err;
}

static int stack_stage_attach(void *priv, const struct sa_stage_cfg *cfg)
{
	struct stack_stage *st = priv;
	int err;

	(void)cfg;
	err = stack_pin_links_keep(st);
	if (!err)
		err = stack_bpf__attach(st->skel);
	if (err) {
		sa_err("cannot attach the stack programs: %s", sa_strerror(err));
		return err;
	}
	if (st->nat_hook) {
		err = stack_attach_nat(st);
		if (err)
			return err;
	}
	err = stack_pin_links_new(st);
	if (err) {
		sa_err("cannot pin the stack tracepoints' links in %s: %s", st->pin_dir,
		       sa_strerror(err));
		return err;
	}
	/* The pinned programs' baselines are primed and kept up already. */
	if (st->n_kept || st->nf_kept)
		return 0;
	err = prime_baselines(st);
	if (err)
		sa_err("cannot prime the per-CPU MIB baselines: %s", sa_strerror(err));
	return err;
}

static void stack_stage_close(void *priv)
{
	struct stack_stage *st = priv;

	if (!st)
		return;
	if (sa_registry_get(SA_SHARE_FOLLOW) == &st->follow)
		sa_registry_withdraw(SA_SHARE_FOLLOW);
	for (int i = 0; i < STACK_N_NF_LINKS; i++)
		if (st->nf_links[i] >= 0)
			close(st->nf_links[i]);
	/* Closing a pinned link's fd leaves it attached. */
	for (int i = 0; i < st->n_kept; i++)
		bpf_link__destroy(st->kept[i]);
	sa_touched_unmap(st->touched);
	stack_bpf__destroy(st->skel);
	free(st);
}

static int stack_stage_health(void *priv, struct sa_stage_health *h)
{
	struct stack_stage *st = priv;
	const struct bpf_object_skeleton *s = st->skel->skeleton;
	int n = st->n_kept;

	for (int i = 0; i < s->prog_cnt; i++)
		n += *s->progs[i].link != NULL;
	for (int i = 0; i < STACK_N_NF_LINKS; i++) {
		n += st->nf_links[i] >= 0;
		stack_nf_check(st, i);
		if (st->nf_loss[i].how && h->n_lost < SA_MAX_LOST)
			h->lost[h->n_lost++] = st->nf_loss[i];
	}
	h->attached = n > 0 && !h->n_lost;
	snprintf(h->detail, sizeof(h->detail), "%d link%s (%d kept from --pin), "
		 "listener verdicts from %s", n, n == 1 ? "" : "s", st->n_kept,
		 stack_listener_hook_names[st->listener_hook]);
	return 0;
}

enum { OPT_NO_STACK = 0x210, OPT_LISTENER_HOOK };

static const struct argp_option stack_options[] = {
	{ "no-stack", OPT_NO_STACK, NULL, 0, "Do not attach the stack-side tracepoints (stack figures are then null)", 0 },
	{ "listener-hook", OPT_LISTENER_HOOK, "HOOK", 0, "Where listener verdicts come from: auto (default), consume_skb (6.3+), fexit or kprobe (on tcp_conn_request)", 0 },
	{ 0 }
};

static error_t stack_parse(int key, char *arg, struct argp_state *state)
{
	struct sa_stage_cfg *cfg = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		cfg->stack = true;
		cfg->listener_hook = NULL;
		break;
	case OPT_NO_STACK:
		cfg->stack = false;
		break;
	case OPT_LISTENER_HOOK:
		if (strcmp(arg, "auto") && strcmp(arg, "consume_skb") &&
		    strcmp(arg, "fexit") && strcmp(arg, "kprobe"))
			argp_error(state, "invalid --listener-hook '%s': auto, consume_skb, fexit or kprobe", arg);
		cfg->listener_hook = arg;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp stack_argp = { stack_options, stack_parse, NULL, NULL, NULL, NULL, NULL };

static bool stack_stage_enabled(const struct sa_stage_cfg *cfg)
{
	return cfg->stack;
}

const struct sa_stage_ops sa_stack_stage = {
	.name = "stack",
	.measures = 1u << SA_STAGE_STACK | 1u << SA_STAGE_LOST,
	.argp = &stack_argp,
	.enabled = stack_stage_enabled,
	.prereq = stack_stage_prereq,
	.open = stack_stage_open,
	.attach = stack_stage_attach,
	.read = stack_stage_read,
	.read_port = stack_stage_read_port,
	.touched = stack_stage_touched,
	.read_ports = stack_stage_read_ports,
	.hooks = stack_stage_hooks,
	.health = stack_stage_health,
	.close = stack_stage_close,
};
