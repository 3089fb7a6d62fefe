// SPDX-License-Identifier: GPL-2.0
/*
 * test_stages.c - what goes through every stage (agent/cmd/stages.c), on a
 * registry of three stages made here: each op records its call, so the
 * order of open, attach, read, complete, read_port and close is compared
 * whole; an optional stage whose prerequisite fails stays off and one
 * disabled is never opened; a stage that fails to open stops the ones
 * after it; what stages share by name; the leftovers' descriptions
 * joined; which counters are measured.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "counters.h"
#include "report.h"
#include "stage.h"
#include "tap.h"

static char calls[512];
static int fail_open;		/* 1 + index of the stage whose open fails */
static bool b_enabled, c_prereq;

static void call(const char *stage, const char *op)
{
	size_t n = strlen(calls);

	snprintf(calls + n, sizeof(calls) - n, "%s%s.%s", n ? " " : "", stage, op);
}

/* Each stage's state is its name. */
#define FAKE(x, idx)							\
static int x##_open(void **st, const struct sa_stage_cfg *cfg)		\
{									\
	(void)cfg;							\
	call(#x, "open");						\
	if (fail_open == idx + 1)					\
		return -EIO;						\
	*st = #x;							\
	return 0;							\
}									\
static int x##_attach(void *st, const struct sa_stage_cfg *cfg)	\
{									\
	(void)cfg;							\
	call(st, "attach");						\
	return 0;							\
}									\
static int x##_read(void *st, struct sa_snapshot *snap)		\
{									\
	(void)snap;							\
	call(st, "read");						\
	return 0;							\
}									\
static __attribute__((unused)) int x##_read_port(void *st, __u32 port, \
						  struct sa_port_stats *ps)	\
{									\
	(void)port; (void)ps;						\
	call(st, "read_port");						\
	return 0;							\
}									\
static int x##_hooks(void *st, const char **names, int max)		\
{									\
	if (max >= 1)							\
		names[0] = st;						\
	return 1;							\
}									\
static void x##_close(void *st)					\
{									\
	call(st, "close");						\
}

FAKE(a, 0)
FAKE(b, 1)
FAKE(c, 2)

static bool b_is_enabled(const struct sa_stage_cfg *cfg)
{
	(void)cfg;
	return b_enabled;
}

static int c_needs(const struct sa_stage_cfg *cfg, char *why, size_t len)
{
	(void)cfg;
	if (c_prereq)
		return 0;
	snprintf(why, len, "c needs what b shares");
	return -EOPNOTSUPP;
}

static int c_complete(void *st, struct sa_snapshot *snap)
{
	(void)snap;
	call(st, "complete");
	return 0;
}

static int a_stale(int ifindex, char *what, size_t len, int *holder)
{
	(void)holder;
	snprintf(what, len, "XDP program id %d", ifindex);
	return 0;
}

static int b_stale(int ifindex, char *what, size_t len, int *holder)
{
	(void)ifindex; (void)holder;
	snprintf(what, len, "2 TC filters");
	return 0;
}

static const struct sa_stage_ops stage_a = {
	.name = "a", .measures = 1u << SA_STAGE_NIC, .open = a_open, .attach = a_attach,
	.read = a_read, .read_port = a_read_port, .hooks = a_hooks,
	.remove_stale = a_stale, .close = a_close,
};
static const struct sa_stage_ops stage_b = {
	.name = "b", .measures = 1u << SA_STAGE_STACK, .enabled = b_is_enabled,
	.open = b_open, .attach = b_attach, .read = b_read, .hooks = b_hooks,
	.remove_stale = b_stale, .close = b_close,
};
static const struct sa_stage_ops stage_c = {
	.name = "c", .measures = 1u << SA_STAGE_CONTAINER, .prereq = c_needs, .optional = true,
	.open = c_open, .attach = c_attach, .read = c_read, .read_port = c_read_port,
	.complete = c_complete, .hooks = c_hooks, .close = c_close,
};

/* The registry under test (agent/core/registry.c's in synacct). */
const struct sa_stage_ops *const sa_stages[] = { &stage_a, &stage_b, &stage_c };
const int sa_n_stages = 3;

static void run_case(const char *what, bool b_on, bool c_ok, int fail, const char *want_open,
		     const char *want_read, const char *want_close, bool nic, bool stack,
		     bool follow)
{
	struct sa_stage_cfg cfg = { 0 };
	struct sa_report_ctx rc = { 0 };
	struct sa_run r = { 0 };
	int err;

	b_enabled = b_on;
	c_prereq = c_ok;
	fail_open = fail;
	calls[0] = '\0';
	err = sa_run_open(&r, &cfg);
	is_int(err, fail ? -EIO : 0, "%s: open returns %s", what, fail ? "the failure" : "0");
	is_str(calls, want_open, "%s: opened and attached in order", what);
	if (!err) {
		calls[0] = '\0';
		is_int(sa_run_read(&r, NULL), 0, "%s: read returns 0", what);
		is_str(calls, want_read, "%s: read downstream first, then complete", what);
		sa_run_describe(&r, &rc, false);
		ok(rc.m.nic == nic && rc.m.stack == stack && rc.m.follow == follow,
		   "%s: measured nic %d stack %d follow %d", what, rc.m.nic, rc.m.stack,
		   rc.m.follow);
		is_int(rc.n_hooks, nic + stack + follow, "%s: one hook per stage on", what);
	}
	calls[0] = '\0';
	sa_run_close(&r);
	is_str(calls, want_close, "%s: closed in the opposite order", what);
}

void suite_stages(void)
{
	struct sa_run r = { 0 };
	struct sa_stage_cfg cfg = { 0 };
	char what[160];
	int holder = 0, fd;

	run_case("all on", true, true, 0, "a.open b.open c.open a.attach b.attach c.attach",
		 "c.read b.read a.read c.complete", "c.close b.close a.close", true, true, true);
	run_case("b disabled", false, true, 0, "a.open c.open a.attach c.attach",
		 "c.read a.read c.complete", "c.close a.close", true, false, true);
	run_case("c's prerequisite unmet", true, false, 0, "a.open b.open a.attach b.attach",
		 "b.read a.read", "b.close a.close", true, true, false);
	run_case("b fails to open", true, true, 2, "a.open b.open", "", "a.close",
		 false, false, false);

	/* One port again: downstream first, only the stages that can. */
	b_enabled = c_prereq = true;
	fail_open = 0;
	sa_run_open(&r, &cfg);
	calls[0] = '\0';
	is_int(sa_run_read_port(&r, 80, NULL), 0, "read_port returns 0");
	is_str(calls, "c.read_port a.read_port", "read_port: downstream first, stages with one");
	sa_run_close(&r);

	is_int(sa_stages_remove_stale(7, what, sizeof(what), &holder), 0, "remove_stale returns 0");
	is_str(what, "XDP program id 7, 2 TC filters", "remove_stale: each stage's leftovers, joined");

	is_int(sa_registry_fd("maps"), -ENOENT, "nothing shared yet: -ENOENT");
	is_int(sa_registry_share_fd("maps", 42), 0, "a descriptor shared");
	is_int(sa_registry_share_fd("maps", 43), -EEXIST, "a name is shared once");
	fd = sa_registry_fd("maps");
	is_int(fd, 42, "the descriptor, by its name");
	is_int(sa_registry_share("ctl", &holder), 0, "an object shared");
	ok(sa_registry_get("ctl") == &holder, "the object, by its name");
	ok(!sa_registry_get("maps"), "a descriptor is no object");
	is_int(sa_registry_fd("ctl"), -ENOENT, "an object is no descriptor");
	sa_registry_withdraw("maps");
	sa_registry_withdraw("ctl");
	is_int(sa_registry_fd("maps"), -ENOENT, "withdrawn: -ENOENT");
	ok(!sa_registry_get("ctl"), "withdrawn: NULL");
}
